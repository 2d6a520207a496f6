//! The HTTP plumbing every vendor client shares: a reqwest client with
//! timeouts, one window-exact rate limiter per provider
//! ([`super::limiter`]), and the mapping of transport failures and HTTP
//! statuses to [`ProviderError`].

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use reqwest::header::HeaderMap;

use super::limiter::{Limiter, Refusal, WindowLimit};
use super::resilience::{Breaker, BreakerState, CallOutcome, Resilience, RetryConfig};
use super::{BodyLimit, ClientSetupError, ProviderError};
use crate::clock::Clock;

/// A provider's health as `ivcd status` shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HealthSnapshot {
    /// The provider (`tradier`, `alpha_vantage`).
    pub provider: String,
    /// Requests sent since the daemon started.
    pub requests_sent: u64,
    /// Requests sent in the last 60 seconds.
    pub requests_last_minute: usize,
    /// The configured limit, requests per minute.
    pub requests_per_minute: u32,
    /// When the last request succeeded (UTC).
    pub last_success: Option<DateTime<Utc>>,
    /// When the last request failed (UTC), and why.
    pub last_error: Option<HealthError>,
    /// Retries sent since the daemon started (included in `requests_sent`).
    #[serde(default)]
    pub retries: u64,
    /// Waits for the provider's own rate-limit window (what Tradier's
    /// `X-Ratelimit-*` headers said was left, or a refusal) since the daemon started.
    #[serde(default)]
    pub rate_limit_waits: u64,
    /// Answers refusing a request for the vendor's rate limit (HTTP 429, or
    /// Alpha Vantage's throttle notice) since the daemon started. The
    /// limiter keeps to the vendor's windows, so each is a bug, or another
    /// client using the same credentials.
    #[serde(default)]
    pub rate_limit_refusals: u64,
    /// The circuit breaker's state; `None` in snapshots from before it existed.
    #[serde(default)]
    pub breaker: Option<BreakerState>,
    /// Requests sent since the daemon started, by their answer: the HTTP
    /// status code (`200`, `429`, `503`, ...), or `timeout` / `transport`
    /// when no answer came.
    #[serde(default)]
    pub requests_by_status: BTreeMap<String, u64>,
    /// Failed calls since the daemon started, by kind: `timeout`,
    /// `transport`, `http_status`, `rate_limited`, `unauthorized`,
    /// `invalid_body` (a 2xx answer that was an error, e.g. a throttle
    /// notice) and `circuit_open` (refused without a request).
    #[serde(default)]
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Waits for ivcd's own count of the window (`requests_per_minute`, a
    /// long quota) since the daemon started.
    #[serde(default)]
    pub limiter_waits: u64,
    /// Seconds spent in rate-limit waits (ivcd's limiter and the provider's
    /// window) since the daemon started.
    #[serde(default)]
    pub rate_limit_wait_seconds: f64,
}

/// A provider's most recent failure.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HealthError {
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// The error, as logged (never with credentials).
    pub message: String,
}

#[derive(Debug, Default)]
struct HealthState {
    last_success: Option<DateTime<Utc>>,
    last_error: Option<HealthError>,
    recent: VecDeque<DateTime<Utc>>,
    retries: u64,
    rate_limit_waits: u64,
    rate_limit_refusals: u64,
    requests_by_status: BTreeMap<String, u64>,
    errors_by_kind: BTreeMap<String, u64>,
    limiter_waits: u64,
    rate_limit_wait_seconds: f64,
}

/// Every value [`error_kind`] gives (the metrics show each from the start).
pub const ERROR_KINDS: [&str; 8] = [
    "timeout",
    "transport",
    "http_status",
    "rate_limited",
    "unauthorized",
    "invalid_body",
    "circuit_open",
    "quota_used_up",
];

/// The `errors_by_kind` label of a failed call (see [`HealthSnapshot`]).
fn error_kind(e: &ProviderError) -> &'static str {
    match e {
        ProviderError::Transport { timeout: true, .. } => "timeout",
        ProviderError::Transport { .. } => "transport",
        ProviderError::Status { .. } => "http_status",
        ProviderError::RateLimited { .. } => "rate_limited",
        ProviderError::Unauthorized { .. } => "unauthorized",
        ProviderError::CircuitOpen { .. } => "circuit_open",
        ProviderError::QuotaUsedUp { .. } => "quota_used_up",
        _ => "invalid_body",
    }
}

/// The requests each provider in `health` has sent so far, by provider name.
pub fn requests_by_provider(health: &[ProviderHealth]) -> BTreeMap<String, u64> {
    health.iter().map(|h| (h.provider().to_owned(), h.requests_sent())).collect()
}

/// A provider's request record, shared by its client and `ivcd status`; cheap to clone.
#[derive(Debug, Clone)]
pub struct ProviderHealth {
    provider: &'static str,
    requests_per_minute: u32,
    requests: Arc<AtomicU64>,
    state: Arc<Mutex<HealthState>>,
    breaker: Arc<Breaker>,
    clock: Arc<dyn Clock>,
}

impl ProviderHealth {
    /// The provider's name (`tradier`, `alpha_vantage`).
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// How many requests were sent since the client was built (retries included).
    pub fn requests_sent(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, HealthState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let now = self.clock.now();
        let mut state = self.state();
        state.recent.push_back(now);
        let horizon = now - crate::time::seconds(60);
        while state.recent.front().is_some_and(|t| *t <= horizon) {
            state.recent.pop_front();
        }
    }

    fn record(&self, result: Result<(), &ProviderError>) {
        let now = self.clock.now();
        let mut state = self.state();
        match result {
            Ok(()) => state.last_success = Some(now),
            Err(e) => {
                *state.errors_by_kind.entry(error_kind(e).to_owned()).or_default() += 1;
                state.last_error = Some(HealthError { at: now, message: e.to_string() });
            }
        }
    }

    /// Counts an answer (`status`: the HTTP code, `timeout` or `transport`).
    fn record_answer(&self, status: String) {
        *self.state().requests_by_status.entry(status).or_default() += 1;
    }

    /// Counts a refusal for the vendor's rate limit, which the limiter
    /// should have made impossible.
    fn record_refusal(&self, request: &str) {
        self.state().rate_limit_refusals += 1;
        tracing::warn!(
            provider = self.provider,
            request,
            "refused for the vendor's rate limit: ivcd's limiter keeps to the vendor's windows, so another \
             client may be using the same credentials (or this is a bug); waiting for the window"
        );
    }

    /// The provider's health now.
    pub fn snapshot(&self) -> HealthSnapshot {
        let now = self.clock.now();
        let state = self.state();
        let horizon = now - crate::time::seconds(60);
        HealthSnapshot {
            provider: self.provider.to_owned(),
            requests_sent: self.requests.load(Ordering::Relaxed),
            requests_last_minute: state.recent.iter().filter(|t| **t > horizon).count(),
            requests_per_minute: self.requests_per_minute,
            last_success: state.last_success,
            last_error: state.last_error.clone(),
            retries: state.retries,
            rate_limit_waits: state.rate_limit_waits,
            rate_limit_refusals: state.rate_limit_refusals,
            breaker: Some(self.breaker.state()),
            requests_by_status: state.requests_by_status.clone(),
            errors_by_kind: state.errors_by_kind.clone(),
            limiter_waits: state.limiter_waits,
            rate_limit_wait_seconds: state.rate_limit_wait_seconds,
        }
    }
}

/// A rate-limited HTTP client for one provider.
#[derive(Debug, Clone)]
pub struct HttpClient {
    provider: &'static str,
    client: reqwest::Client,
    base_url: reqwest::Url,
    limiter: Arc<Limiter>,
    retry: RetryConfig,
    health: ProviderHealth,
}

impl HttpClient {
    /// A client for `provider` at `base_url`, sending at most
    /// `requests_per_minute` requests into any 60-second window of the
    /// vendor's (as fast as they come, [`super::limiter`]; a vendor's own
    /// windows through [`HttpClient::with_limit`]), each with `timeout`, retried and
    /// guarded by a circuit breaker as `resilience` says
    /// ([`super::resilience`]). `clock` stamps the health record and times
    /// the breaker's cool-down.
    ///
    /// # Errors
    /// [`ClientSetupError::BaseUrl`] when the base URL does not parse,
    /// [`ClientSetupError::Build`] when the TLS backend fails.
    pub fn new(
        provider: &'static str,
        base_url: &str,
        requests_per_minute: u32,
        timeout: Duration,
        default_headers: HeaderMap,
        clock: Arc<dyn Clock>,
        resilience: Resilience,
    ) -> Result<Self, ClientSetupError> {
        let Resilience { retry, breaker } = resilience;
        let base_url = reqwest::Url::parse(base_url).map_err(|error| ClientSetupError::BaseUrl {
            provider,
            url: base_url.to_owned(),
            error,
        })?;
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("ivcd/", env!("CARGO_PKG_VERSION")))
            .default_headers(default_headers)
            .build()
            .map_err(|error| ClientSetupError::Build { provider, error })?;
        let limit = WindowLimit::per_window(requests_per_minute, Duration::from_secs(60));
        Ok(Self {
            provider,
            client,
            base_url,
            limiter: Arc::new(Limiter::new(limit)),
            retry,
            health: ProviderHealth {
                provider,
                requests_per_minute: limit.allowance,
                requests: Arc::new(AtomicU64::new(0)),
                state: Arc::default(),
                breaker: Arc::new(Breaker::new(breaker)),
                clock,
            },
        })
    }

    /// The same client keeping `limit` instead: the vendor's own windows,
    /// headers and long quota ([`super::limiter`]).
    #[must_use]
    pub fn with_limit(mut self, limit: WindowLimit) -> Self {
        let window_ms = u64::try_from(limit.window.as_millis()).unwrap_or(u64::MAX).max(1);
        let per_minute = u64::from(limit.allowance).saturating_mul(60_000) / window_ms;
        self.health.requests_per_minute = u32::try_from(per_minute).unwrap_or(u32::MAX);
        self.limiter = Arc::new(Limiter::new(limit));
        self
    }

    /// The rate limit this client keeps.
    pub fn limit(&self) -> WindowLimit {
        self.limiter.limit()
    }

    /// How many requests this client has sent.
    pub fn requests_sent(&self) -> u64 {
        self.health.requests_sent()
    }

    /// The client's health record.
    pub fn health(&self) -> ProviderHealth {
        self.health.clone()
    }

    /// GETs `path` with `query`, waiting for the rate limiter first, and
    /// returns the body of a 2xx answer as text, read up to `limit`. `shown`
    /// describes the request for errors and logs; it must not contain
    /// credentials (`query` may: it is never shown).
    ///
    /// # Errors
    /// [`ProviderError::Transport`] (connect, timeout, body read),
    /// [`ProviderError::TooLarge`] (a 2xx body beyond `limit`, left unread),
    /// [`ProviderError::RateLimited`] (429, with Retry-After),
    /// [`ProviderError::Unauthorized`] (401/403), [`ProviderError::Status`] otherwise;
    /// [`ProviderError::QuotaUsedUp`] without a request when a long quota is used up.
    pub async fn get_text(
        &self,
        path: &str,
        query: &[(&str, &str)],
        shown: &str,
        limit: BodyLimit,
    ) -> Result<String, ProviderError> {
        self.get_checked(path, query, shown, limit, |_| Ok(())).await
    }

    /// As [`HttpClient::get_text`], with `check` turning a 2xx body that is
    /// really an error (a vendor's throttle notice) into one; the health
    /// record counts the request as failed then.
    ///
    /// Transient failures are retried with backoff and the call goes through
    /// the circuit breaker ([`super::resilience`]); every try waits for the
    /// rate limiter.
    ///
    /// # Errors
    /// As [`HttpClient::get_text`] (the last try's error), `check`'s error,
    /// or [`ProviderError::CircuitOpen`] without a request.
    pub async fn get_checked(
        &self,
        path: &str,
        query: &[(&str, &str)],
        shown: &str,
        limit: BodyLimit,
        check: impl Fn(&str) -> Result<(), ProviderError>,
    ) -> Result<String, ProviderError> {
        let clock = &self.health.clock;
        if let Err(until) = self.health.breaker.admit(clock.now()) {
            let refused =
                ProviderError::CircuitOpen { provider: self.provider, request: shown.to_owned(), until };
            *self.health.state().errors_by_kind.entry(error_kind(&refused).to_owned()).or_default() += 1;
            return Err(refused);
        }
        let mut delays = self.retry.delays();
        let result = loop {
            let result = match self.get_unrecorded(path, query, shown, limit).await {
                Ok(body) => match check(&body) {
                    Ok(()) => Ok(body),
                    Err(e) => {
                        // A throttle notice in a 2xx body: the vendor refused for its rate limit.
                        if let ProviderError::RateLimited { retry_after, .. } = &e {
                            self.health.record_refusal(shown);
                            self.limiter.refused(*retry_after);
                        }
                        Err(e)
                    }
                },
                Err(e) => Err(e),
            };
            self.health.record(result.as_ref().map(|_| ()));
            match (result, delays.next()) {
                (Err(e), Some(delay)) if e.is_transient() => {
                    let wait = self.retry.wait_after(&e, delay);
                    tracing::warn!(provider = self.provider, request = shown, error = %e, wait_ms = wait.as_millis() as u64, "retrying");
                    self.health.state().retries += 1;
                    // A relative wait on tokio's timer: it needs no wall clock,
                    // and paused-time tests pass through it at once.
                    tokio::time::sleep(wait).await;
                }
                (result, _) => break result,
            }
        };
        let state = self.health.breaker.record(CallOutcome::of(&result), clock.now());
        if let (Err(e), BreakerState::Open { until }) = (&result, state) {
            tracing::error!(provider = self.provider, error = %e, %until, "circuit open: calls fail at once until the cool-down ends");
        }
        result
    }

    async fn get_unrecorded(
        &self,
        path: &str,
        query: &[(&str, &str)],
        shown: &str,
        limit: BodyLimit,
    ) -> Result<String, ProviderError> {
        let url = self.base_url.join(path).map_err(|e| ProviderError::Transport {
            provider: self.provider,
            request: shown.to_owned(),
            message: format!("bad URL: {e}").into(),
            timeout: false,
        })?;
        let (permit, waited) = match self.limiter.acquire().await {
            Ok(granted) => granted,
            Err(exhausted) => {
                let now = self.health.clock.now();
                let wait = chrono::TimeDelta::from_std(exhausted.wait).unwrap_or(chrono::TimeDelta::MAX);
                let until = now.checked_add_signed(wait).unwrap_or(now);
                return Err(ProviderError::QuotaUsedUp {
                    provider: self.provider,
                    request: shown.to_owned(),
                    setting: exhausted.setting,
                    until,
                });
            }
        };
        if let Some(waited) = waited {
            let mut state = self.health.state();
            if waited.for_vendor {
                state.rate_limit_waits += 1;
            } else {
                state.limiter_waits += 1;
            }
            state.rate_limit_wait_seconds += waited.duration.as_secs_f64();
        }
        self.health.record_request();
        tracing::debug!(provider = self.provider, request = shown, "request");
        let response = match self.client.get(url).query(query).send().await {
            Ok(response) => response,
            Err(e) => {
                // No answer: the permit, dropped, counts it as sent and unanswered.
                drop(permit);
                self.health.record_answer(if e.is_timeout() { "timeout" } else { "transport" }.to_owned());
                return Err(self.transport(shown, e));
            }
        };
        let status = response.status();
        self.health.record_answer(status.as_u16().to_string());
        let retry_after = crate::net::retry_after(response.headers(), self.health.clock.now());
        if status.as_u16() == 429 {
            permit.answered(response.headers(), Refusal::Refused { retry_after });
            self.health.record_refusal(shown);
        } else {
            permit.answered(response.headers(), Refusal::No);
        }
        if status.is_success() {
            return match crate::net::read_limited(response, limit.bytes()).await {
                // Valid UTF-8 (every vendor's answer) is kept without a copy.
                Ok(body) => Ok(String::from_utf8(body)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())),
                Err(crate::net::BodyError::TooLarge { .. }) => Err(ProviderError::TooLarge {
                    provider: self.provider,
                    request: shown.to_owned(),
                    limit_kib: limit.kib,
                    setting: limit.setting,
                }),
                Err(crate::net::BodyError::Transport(e)) => Err(self.transport(shown, e)),
            };
        }
        // Only an excerpt of an error answer is ever shown: read its start.
        let body = crate::net::read_error_body(response).await;
        match status.as_u16() {
            401 | 403 => Err(ProviderError::Unauthorized {
                provider: self.provider,
                request: shown.to_owned(),
                status: status.as_u16(),
            }),
            429 => Err(ProviderError::RateLimited {
                provider: self.provider,
                request: shown.to_owned(),
                message: excerpt(&body),
                retry_after,
            }),
            code => Err(ProviderError::Status {
                provider: self.provider,
                request: shown.to_owned(),
                status: code,
                body: excerpt(&body),
            }),
        }
    }

    fn transport(&self, shown: &str, e: reqwest::Error) -> ProviderError {
        // reqwest's Display includes the URL, which may hold a query secret:
        // strip it, keep the cause chain, and redact what the causes quote.
        let e = e.without_url();
        ProviderError::Transport {
            provider: self.provider,
            request: shown.to_owned(),
            message: crate::redact::Redacted::error_chain(&e),
            timeout: e.is_timeout(),
        }
    }
}

/// The first 200 characters of a body, on one line.
/// The first 200 characters of a body, on one line. The body is redacted
/// whole before it is cut, so no secret is left half-masked at the cut.
fn excerpt(body: &crate::redact::Redacted) -> crate::redact::Redacted {
    let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.chars().take(200).collect::<String>().into()
}

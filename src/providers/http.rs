//! The HTTP plumbing every vendor client shares: a reqwest client with
//! timeouts, one governor rate limiter per provider, and the mapping of
//! transport failures and HTTP statuses to [`ProviderError`].

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{HeaderMap, RETRY_AFTER};

use super::ProviderError;

/// A rate-limited HTTP client for one provider.
#[derive(Debug, Clone)]
pub struct HttpClient {
    provider: &'static str,
    client: reqwest::Client,
    base_url: reqwest::Url,
    limiter: Arc<DefaultDirectRateLimiter>,
    requests: Arc<AtomicU64>,
}

impl HttpClient {
    /// A client for `provider` at `base_url`, sending at most
    /// `requests_per_minute` requests in any 60-second window (one request
    /// every 60/N seconds, no burst), each with `timeout`.
    ///
    /// # Errors
    /// A message when the base URL does not parse or the TLS backend fails.
    pub fn new(
        provider: &'static str,
        base_url: &str,
        requests_per_minute: u32,
        timeout: Duration,
        default_headers: HeaderMap,
    ) -> Result<Self, String> {
        let base_url =
            reqwest::Url::parse(base_url).map_err(|e| format!("{provider}.base_url {base_url:?}: {e}"))?;
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("ivcd/", env!("CARGO_PKG_VERSION")))
            .default_headers(default_headers)
            .build()
            .map_err(|e| format!("{provider}: cannot build HTTP client: {e}"))?;
        let per_minute = NonZeroU32::new(requests_per_minute).unwrap_or(NonZeroU32::MIN);
        let period = Duration::from_secs(60) / per_minute.get();
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_minute(per_minute))
            .allow_burst(NonZeroU32::MIN);
        Ok(Self {
            provider,
            client,
            base_url,
            limiter: Arc::new(RateLimiter::direct(quota)),
            requests: Arc::new(AtomicU64::new(0)),
        })
    }

    /// How many requests this client has sent.
    pub fn requests_sent(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// GETs `path` with `query`, waiting for the rate limiter first, and
    /// returns the body of a 2xx answer as text. `shown` describes the
    /// request for errors and logs; it must not contain credentials, and
    /// neither may `query` values other than those `secret_keys` names.
    ///
    /// # Errors
    /// [`ProviderError::Transport`] (connect, timeout, body read),
    /// [`ProviderError::RateLimited`] (429, with Retry-After),
    /// [`ProviderError::Unauthorized`] (401/403), [`ProviderError::Status`] otherwise.
    pub async fn get_text(
        &self,
        path: &str,
        query: &[(&str, &str)],
        shown: &str,
    ) -> Result<String, ProviderError> {
        let url = self.base_url.join(path).map_err(|e| ProviderError::Transport {
            provider: self.provider,
            request: shown.to_owned(),
            message: format!("bad URL: {e}"),
            timeout: false,
        })?;
        self.limiter.until_ready().await;
        self.requests.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(provider = self.provider, request = shown, "request");
        let response =
            self.client.get(url).query(query).send().await.map_err(|e| self.transport(shown, e))?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = response.text().await.map_err(|e| self.transport(shown, e))?;
        match status.as_u16() {
            200..=299 => Ok(body),
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
        // strip it and keep the cause chain.
        let e = e.without_url();
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        ProviderError::Transport {
            provider: self.provider,
            request: shown.to_owned(),
            message,
            timeout: e.is_timeout(),
        }
    }
}

/// The first 200 characters of a body, on one line.
fn excerpt(body: &str) -> String {
    let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.chars().take(200).collect()
}

/// Seconds from a `Retry-After` header (the delta-seconds form).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers.get(RETRY_AFTER)?.to_str().ok()?.trim().parse::<u64>().ok().map(Duration::from_secs)
}

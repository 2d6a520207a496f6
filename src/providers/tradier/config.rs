//! `[tradier]`: the Tradier client's settings, read by [`super::client`].

use serde::{Deserialize, Serialize};

use crate::redact::Secret;
use crate::settings::{Bounds, Shown, url_problem};

/// `[tradier]`: quotes, option chains with greeks, expirations, daily history.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TradierConfig {
    /// API base URL (default `https://api.tradier.com`; the sandbox is `https://sandbox.tradier.com`).
    pub base_url: String,
    /// The access token (secret). Without it Tradier is not used.
    #[serde(skip_serializing_if = "Secret::is_unset")]
    pub token: Secret,
    /// Market-data requests a rate-limit window allows (default 120 a
    /// minute; the sandbox allows 60).
    pub requests_per_minute: u32,
    /// The rate-limit window's length in seconds (default 60: Tradier's
    /// fixed one-minute window; another value only against a test fake).
    pub window_seconds: u64,
    /// Milliseconds added after a window's end read from Tradier's
    /// `X-Ratelimit-Expiry` (default 500; see docs/performance.md).
    pub window_guard_ms: u64,
    /// Per-request timeout in seconds (default 10).
    pub timeout_seconds: u64,
    /// Retries of transient failures (`[..retry]`).
    pub retry: crate::providers::resilience::RetryConfig,
    /// The circuit breaker (`[..breaker]`).
    pub breaker: crate::providers::resilience::BreakerConfig,
    /// The largest answer read per endpoint (`[..max_body_kib]`).
    pub max_body_kib: TradierBodyLimits,
}

impl TradierConfig {
    /// The bounds of this section's counts, durations and sizes (see
    /// [`crate::settings::Bounded`]): 1 to 6,000 requests a minute, 1 to
    /// 300 s, the retries and breaker, 1 KiB to 256 MiB per answer.
    pub fn bounds(&self, b: &mut Bounds) {
        b.int("tradier.requests_per_minute", self.requests_per_minute, 1, 6000);
        b.int("tradier.timeout_seconds", self.timeout_seconds, 1, 300);
        b.int("tradier.window_seconds", self.window_seconds, 1, 3600);
        b.int("tradier.window_guard_ms", self.window_guard_ms, 0, 10_000);
        self.retry.bounds(
            b,
            [
                "tradier.retry.max_attempts",
                "tradier.retry.initial_delay_ms",
                "tradier.retry.max_delay_seconds",
            ],
        );
        self.breaker.bounds(b, ["tradier.breaker.failures", "tradier.breaker.cool_down_seconds"]);
    }

    /// The bounds of `[tradier.max_body_kib]`: 1 KiB to 256 MiB each.
    pub fn body_bounds(&self, b: &mut Bounds) {
        let t = &self.max_body_kib;
        for (key, kib) in [
            ("tradier.max_body_kib.quotes", t.quotes),
            ("tradier.max_body_kib.expirations", t.expirations),
            ("tradier.max_body_kib.chains", t.chains),
            ("tradier.max_body_kib.history", t.history),
            ("tradier.max_body_kib.calendar", t.calendar),
            ("tradier.max_body_kib.clock", t.clock),
        ] {
            b.int(key, kib, 1, 262_144);
        }
    }

    /// The problems of this section's values that bounds do not cover: a
    /// `base_url` that would send the token in clear text.
    pub fn problems(&self) -> Vec<String> {
        url_problem("tradier.base_url", &self.base_url, Shown::Value).into_iter().collect()
    }
}

/// `[tradier.max_body_kib]`: the largest answer read from each endpoint, KiB.
/// A larger answer is a provider error for that request (that ticker) only,
/// and is never held in memory. The defaults are several times the largest
/// real answers recorded (docs/configuration.md says which).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TradierBodyLimits {
    /// `/v1/markets/quotes` (100 symbols a request). Default 512.
    pub quotes: u64,
    /// `/v1/markets/options/expirations`. Default 256.
    pub expirations: u64,
    /// `/v1/markets/options/chains` (one expiration, with greeks). Default 4,096.
    pub chains: u64,
    /// `/v1/markets/history` (daily bars). Default 2,048.
    pub history: u64,
    /// `/v1/markets/calendar` (one month). Default 64.
    pub calendar: u64,
    /// `/v1/markets/clock`. Default 16.
    pub clock: u64,
}

impl Default for TradierBodyLimits {
    fn default() -> Self {
        Self { quotes: 512, expirations: 256, chains: 4096, history: 2048, calendar: 64, clock: 16 }
    }
}

impl TradierBodyLimits {
    /// The limit of one endpoint, by its key in this table (`chains`, ...).
    pub fn of(&self, endpoint: TradierEndpoint) -> crate::providers::BodyLimit {
        use crate::providers::BodyLimit;
        match endpoint {
            TradierEndpoint::Quotes => BodyLimit { setting: "tradier.max_body_kib.quotes", kib: self.quotes },
            TradierEndpoint::Expirations => {
                BodyLimit { setting: "tradier.max_body_kib.expirations", kib: self.expirations }
            }
            TradierEndpoint::Chains => BodyLimit { setting: "tradier.max_body_kib.chains", kib: self.chains },
            TradierEndpoint::History => {
                BodyLimit { setting: "tradier.max_body_kib.history", kib: self.history }
            }
            TradierEndpoint::Calendar => {
                BodyLimit { setting: "tradier.max_body_kib.calendar", kib: self.calendar }
            }
            TradierEndpoint::Clock => BodyLimit { setting: "tradier.max_body_kib.clock", kib: self.clock },
        }
    }
}

/// The Tradier endpoints ivcd calls (see [`TradierBodyLimits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradierEndpoint {
    /// `/v1/markets/quotes`.
    Quotes,
    /// `/v1/markets/options/expirations`.
    Expirations,
    /// `/v1/markets/options/chains`.
    Chains,
    /// `/v1/markets/history`.
    History,
    /// `/v1/markets/calendar`.
    Calendar,
    /// `/v1/markets/clock`.
    Clock,
}

impl Default for TradierConfig {
    fn default() -> Self {
        Self {
            base_url: "https://api.tradier.com".into(),
            token: Secret::default(),
            requests_per_minute: 120,
            window_seconds: 60,
            window_guard_ms: 500,
            timeout_seconds: 10,
            retry: crate::providers::resilience::RetryConfig::default(),
            breaker: crate::providers::resilience::BreakerConfig::default(),
            max_body_kib: TradierBodyLimits::default(),
        }
    }
}

//! `[alpha_vantage]`: the Alpha Vantage client's settings, read by [`super::client`].

use serde::{Deserialize, Serialize};

use crate::redact::Secret;
use crate::settings::{Bounds, Shown, url_problem};

/// `[alpha_vantage]`: earnings calendar and history, daily prices, historical chains.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlphaVantageConfig {
    /// API base URL (default `https://www.alphavantage.co`).
    pub base_url: String,
    /// The API key (secret). Without it Alpha Vantage is not used.
    #[serde(skip_serializing_if = "Secret::is_unset")]
    pub api_key: Secret,
    /// Requests per minute (default 75, the smallest premium plan; the free tier allows about 25 a day).
    pub requests_per_minute: u32,
    /// Requests in any 24 hours, 0 for no daily quota (default 0: premium
    /// plans have none; the free tier allows 25).
    pub requests_per_day: u32,
    /// Per-request timeout in seconds (default 30).
    pub timeout_seconds: u64,
    /// Retries of transient failures (`[..retry]`).
    pub retry: crate::providers::resilience::RetryConfig,
    /// The circuit breaker (`[..breaker]`).
    pub breaker: crate::providers::resilience::BreakerConfig,
    /// The largest answer read per function (`[..max_body_kib]`).
    pub max_body_kib: AlphaVantageBodyLimits,
}

impl AlphaVantageConfig {
    /// The bounds of this section's counts and durations (as
    /// [`crate::providers::tradier::config::TradierConfig::bounds`]).
    pub fn bounds(&self, b: &mut Bounds) {
        b.int("alpha_vantage.requests_per_minute", self.requests_per_minute, 1, 6000);
        b.int("alpha_vantage.timeout_seconds", self.timeout_seconds, 1, 300);
        b.int("alpha_vantage.requests_per_day", self.requests_per_day, 0, 1_000_000);
        self.retry.bounds(
            b,
            [
                "alpha_vantage.retry.max_attempts",
                "alpha_vantage.retry.initial_delay_ms",
                "alpha_vantage.retry.max_delay_seconds",
            ],
        );
        self.breaker.bounds(b, ["alpha_vantage.breaker.failures", "alpha_vantage.breaker.cool_down_seconds"]);
    }

    /// The bounds of `[alpha_vantage.max_body_kib]`: 1 KiB to 256 MiB each.
    pub fn body_bounds(&self, b: &mut Bounds) {
        let av = &self.max_body_kib;
        for (key, kib) in [
            ("alpha_vantage.max_body_kib.earnings_calendar", av.earnings_calendar),
            ("alpha_vantage.max_body_kib.earnings", av.earnings),
            ("alpha_vantage.max_body_kib.time_series_daily", av.time_series_daily),
            ("alpha_vantage.max_body_kib.historical_options", av.historical_options),
        ] {
            b.int(key, kib, 1, 262_144);
        }
    }

    /// The problems bounds do not cover: a `base_url` that would send the
    /// key in clear text.
    pub fn problems(&self) -> Vec<String> {
        url_problem("alpha_vantage.base_url", &self.base_url, Shown::Value).into_iter().collect()
    }
}

/// `[alpha_vantage.max_body_kib]`: the largest answer read for each
/// function, KiB (as [`TradierBodyLimits`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlphaVantageBodyLimits {
    /// `EARNINGS_CALENDAR` (the 3-month CSV). Default 2,048.
    pub earnings_calendar: u64,
    /// `EARNINGS` (one company's history, JSON). Default 512.
    pub earnings: u64,
    /// `TIME_SERIES_DAILY` (full history, CSV). Default 2,048.
    pub time_series_daily: u64,
    /// `HISTORICAL_OPTIONS` (every contract of one day, CSV). Default 8,192.
    pub historical_options: u64,
}

impl Default for AlphaVantageBodyLimits {
    fn default() -> Self {
        Self { earnings_calendar: 2048, earnings: 512, time_series_daily: 2048, historical_options: 8192 }
    }
}

impl Default for AlphaVantageConfig {
    fn default() -> Self {
        Self {
            base_url: "https://www.alphavantage.co".into(),
            api_key: Secret::default(),
            requests_per_minute: 75,
            requests_per_day: 0,
            timeout_seconds: 30,
            retry: crate::providers::resilience::RetryConfig::default(),
            breaker: crate::providers::resilience::BreakerConfig::default(),
            max_body_kib: AlphaVantageBodyLimits::default(),
        }
    }
}

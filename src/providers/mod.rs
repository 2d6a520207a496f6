//! Market-data providers behind traits, so jobs never know which one serves them.
//!
//! One folder per vendor: `tradier/` and `alpha_vantage/` hold the wire types,
//! the parsers from response bodies to domain types, and the HTTP client (with
//! its timeouts and its window-exact rate limiter (`limiter.rs`) inside, so
//! no caller can bypass them). `files/` implements the same traits over recorded files on disk for
//! replays. Parsers are pure functions of the body text: they never panic and
//! every error names its input.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::{ChainSnapshot, DailyBar, EarningsEvent, Ticker, UnderlyingQuote};
use crate::redact::Redacted;

pub mod alpha_vantage;
pub mod cache;
pub mod decimal;
pub mod files;
pub mod http;
pub mod limiter;
pub mod resilience;
pub mod sec;
pub mod tradier;
pub mod unconfigured;

pub use decimal::decimal_from_f64;

/// A response body or file that could not be read as what it should be.
///
/// `input` names what was being parsed (a file path, or a provider request
/// such as `tradier /v1/markets/options/chains CVNA 2023-07-21`), `message`
/// says what was wrong and where (line, field), redacted: it may quote the
/// answer, and an answer may echo a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot parse {input}: {message}")]
pub struct ParseError {
    /// The input: file path or provider request, never including secrets.
    pub input: String,
    /// What was wrong, with the line or field when known (redacted).
    pub message: Redacted,
}

impl ParseError {
    /// A parse error for `input` saying `message` (redacted here).
    pub fn new(input: impl Into<String>, message: impl Into<String>) -> Self {
        Self { input: input.into(), message: Redacted::from(message.into()) }
    }
}

/// Why a provider's client cannot be built (at start or at a reload): the
/// configuration lacks its credential, a value cannot go in a header, or
/// the HTTP client cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ClientSetupError {
    /// The provider's credential (`tradier.token`, `alpha_vantage.api_key`) is not set.
    #[error("{0} is not set")]
    NotSet(&'static str),
    /// The SEC's User-Agent is not set.
    #[error(
        "sec.user_agent is not set: the SEC requires a User-Agent with a name and a contact e-mail address, e.g. \
         \"Jane Doe jane@example.com\""
    )]
    NoUserAgent,
    /// A configured value (named by its key) cannot be sent as a header.
    #[error("{0} contains characters not allowed in a header")]
    BadHeader(&'static str),
    /// The provider's base URL does not parse.
    #[error("{provider}.base_url {url:?}: {error}")]
    BaseUrl {
        /// `tradier`, `alpha_vantage`, `sec`.
        provider: &'static str,
        /// The URL as configured.
        url: String,
        /// Why it does not parse.
        error: url::ParseError,
    },
    /// The HTTP client cannot be built (the TLS backend failed).
    #[error("{provider}: cannot build HTTP client: {error}")]
    Build {
        /// `tradier`, `alpha_vantage`, `sec`.
        provider: &'static str,
        /// reqwest's error.
        error: reqwest::Error,
    },
}

/// The largest answer one endpoint may send: read up to it, refused beyond
/// ([`ProviderError::TooLarge`]). From `[tradier.max_body_kib]` and
/// `[alpha_vantage.max_body_kib]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimit {
    /// The configuration key, e.g. `tradier.max_body_kib.chains`.
    pub setting: &'static str,
    /// The limit, KiB (1,024 bytes).
    pub kib: u64,
}

impl BodyLimit {
    /// The limit in bytes.
    pub fn bytes(self) -> u64 {
        self.kib.saturating_mul(1024)
    }
}

/// Why a provider call produced no data. Every text that came from the
/// provider is a [`Redacted`]: a vendor that echoes the token in its error
/// answer cannot make an error, a candidate's reason or a log line carry it.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The request did not complete (connect error, timeout, reset).
    #[error("{provider}: request {request} failed: {message}")]
    Transport {
        /// `tradier`, `alpha_vantage`, `files`.
        provider: &'static str,
        /// The request, without credentials.
        request: String,
        /// The transport error and its causes (redacted).
        message: Redacted,
        /// Whether the error was a timeout.
        timeout: bool,
    },
    /// The provider answered with an error status.
    #[error("{provider}: request {request} answered HTTP {status}: {body}")]
    Status {
        /// Provider name.
        provider: &'static str,
        /// The request, without credentials.
        request: String,
        /// The HTTP status code.
        status: u16,
        /// The start of the body (at most 200 characters, redacted).
        body: Redacted,
    },
    /// The provider says we are over its rate limit (HTTP 429, or Alpha
    /// Vantage's HTTP 200 with a `Note`/`Information` field).
    #[error("{provider}: rate limited on {request}: {message}")]
    RateLimited {
        /// Provider name.
        provider: &'static str,
        /// The request, without credentials.
        request: String,
        /// The provider's words (redacted).
        message: Redacted,
        /// How long the provider asked us to wait, if it said.
        retry_after: Option<Duration>,
    },
    /// The credentials were refused (HTTP 401/403): retrying will not help.
    #[error(
        "{provider}: credentials refused on {request} (HTTP {status}); check the token in the configuration"
    )]
    Unauthorized {
        /// Provider name.
        provider: &'static str,
        /// The request, without credentials.
        request: String,
        /// 401 or 403.
        status: u16,
    },
    /// The provider's circuit breaker is open after consecutive failures:
    /// no request was sent.
    #[error("{provider}: not asked for {request}: circuit open after repeated failures, until {until}")]
    CircuitOpen {
        /// Provider name.
        provider: &'static str,
        /// The request, without credentials.
        request: String,
        /// When the next probe may go (UTC).
        until: chrono::DateTime<chrono::Utc>,
    },
    /// ivcd's own long quota (`alpha_vantage.requests_per_day`) is used up
    /// for longer than a short window: no request was sent. Not retried.
    #[error(
        "{provider}: not asked for {request}: the quota {setting} is used up until {until} (ivcd's own limit, \
         kept so the vendor never refuses); raise it if your plan allows more"
    )]
    QuotaUsedUp {
        /// Provider name.
        provider: &'static str,
        /// The request, without credentials.
        request: String,
        /// The configuration key of the quota.
        setting: &'static str,
        /// When the quota lets a request through again (UTC).
        until: chrono::DateTime<chrono::Utc>,
    },
    /// The answer was larger than its endpoint's limit: it was left unread,
    /// so a runaway body never fills the memory. Not retried.
    #[error(
        "{provider}: the answer to {request} is larger than {limit_kib} KiB ({setting}): left unread; raise \
         the setting if the provider's answers really are that large"
    )]
    TooLarge {
        /// Provider name.
        provider: &'static str,
        /// The request, without credentials.
        request: String,
        /// The limit, KiB.
        limit_kib: u64,
        /// The configuration key that sets it.
        setting: &'static str,
    },
    /// The response arrived but was not what it should be.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The provider has nothing for this request (unknown symbol, no file recorded).
    #[error("{provider}: no data for {what}")]
    NoData {
        /// Provider name.
        provider: &'static str,
        /// What was asked for.
        what: String,
    },
    /// A recorded file could not be read.
    #[error("cannot read {path}: {source}; check the data directory setting (data_dir)")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// No provider is configured for this data.
    #[error("no provider configured: set {setting} in the configuration (or the IVCD_* environment)")]
    NotConfigured {
        /// The configuration key that would enable one.
        setting: &'static str,
    },
    /// This provider does not serve this kind of data.
    #[error("{provider} does not provide {what}")]
    Unsupported {
        /// Provider name.
        provider: &'static str,
        /// The capability asked for.
        what: &'static str,
    },
}

impl ProviderError {
    /// Whether retrying the same request later may succeed (transport errors,
    /// rate limits, 5xx). Parse errors, refused credentials and missing data
    /// are permanent.
    pub fn is_transient(&self) -> bool {
        match self {
            ProviderError::Transport { .. }
            | ProviderError::RateLimited { .. }
            | ProviderError::CircuitOpen { .. } => true,
            ProviderError::Status { status, .. } => *status >= 500 || *status == 408,
            _ => false,
        }
    }
}

/// Upcoming (or past) earnings reports for the whole market, by date range.
#[async_trait]
pub trait EarningsCalendar: Send + Sync {
    /// Every event with `from <= report_date <= to` (ET dates).
    async fn earnings_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<EarningsEvent>, ProviderError>;
}

/// One ticker's past earnings reports, with their timing where known.
#[async_trait]
pub trait EarningsHistory: Send + Sync {
    /// All known past events of `ticker`, any order.
    async fn past_earnings(&self, ticker: &Ticker) -> Result<Vec<EarningsEvent>, ProviderError>;
}

/// Daily OHLCV bars.
#[async_trait]
pub trait DailyBars: Send + Sync {
    /// Bars with `from <= date <= to`, ascending by date.
    async fn daily_bars(
        &self,
        ticker: &Ticker,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailyBar>, ProviderError>;
}

/// Underlying quotes, many symbols per request where the vendor allows.
#[async_trait]
pub trait Quotes: Send + Sync {
    /// The latest quote of each ticker the provider knows; unknown tickers
    /// are left out rather than failing the batch.
    async fn quotes(&self, tickers: &[Ticker]) -> Result<Vec<UnderlyingQuote>, ProviderError>;
}

/// Option expirations and chains.
#[async_trait]
pub trait OptionChains: Send + Sync {
    /// Listed expirations of `ticker` as seen at `as_of`, ascending.
    async fn expirations(
        &self,
        ticker: &Ticker,
        as_of: DateTime<Utc>,
    ) -> Result<Vec<NaiveDate>, ProviderError>;

    /// The chain of one expiration as seen at `as_of` (a live provider
    /// returns its current quotes; a recorded one its latest snapshot taken
    /// at or before `as_of`).
    async fn chain(
        &self,
        ticker: &Ticker,
        expiration: NaiveDate,
        as_of: DateTime<Utc>,
    ) -> Result<ChainSnapshot, ProviderError>;
}

/// End-of-day option chains of past sessions (Alpha Vantage
/// `HISTORICAL_OPTIONS`), for backfilling implied moves before past events.
#[async_trait]
pub trait EndOfDayChains: Send + Sync {
    /// Every contract of `ticker` at the close of session `date` (ET), all
    /// expirations; the snapshot's `as_of` is that close.
    async fn end_of_day_chain(
        &self,
        ticker: &Ticker,
        date: NaiveDate,
    ) -> Result<ChainSnapshot, ProviderError>;
}

//! Configuration: one typed struct, layered once with figment (built-in
//! defaults, then a TOML file, then `IVCD_*` environment variables with `__`
//! between nested keys), validated once.
//!
//! Unknown keys are errors that name the key and the file. Secrets (tokens,
//! API keys) are [`Secret`]s: they serialize as `"<redacted>"`, so printing
//! the configuration can never leak them.

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{NaiveTime, Weekday};
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};

use crate::analysis::AnalysisParams;

/// The configuration file read when `--config` is not given and it exists.
pub const SYSTEM_CONFIG: &str = "/etc/ivcd/ivcd.toml";

/// The configuration keys that hold secrets. Each can also come from a
/// systemd credential file of that name in `$CREDENTIALS_DIRECTORY`
/// (`LoadCredential=tradier.token:/etc/ivcd/tradier.token`), which wins over
/// the configuration file and loses to the `IVCD_*` environment.
pub const SECRET_KEYS: [&str; 6] = [
    "tradier.token",
    "alpha_vantage.api_key",
    "alerts.email.password",
    "alerts.slack.webhook_url",
    "alerts.webhook.secret",
    "alerts.discord.webhook_url",
];

/// Merges the secrets found in a systemd credentials directory. A channel's
/// secret is merged only when that channel is configured, so a credential
/// never conjures up half a channel.
fn merge_credentials(mut figment: Figment, dir: &Path) -> Result<Figment, String> {
    for key in SECRET_KEYS {
        let path = dir.join(key);
        if !path.is_file() {
            continue;
        }
        let section = key.rsplit_once('.').map_or("", |(section, _)| section);
        if section.starts_with("alerts.") && !figment.contains(section) {
            continue;
        }
        let value = std::fs::read_to_string(&path)
            .map_err(|e| format!("systemd credential {}: {e}", path.display()))?;
        let value = value.trim_end_matches(['\n', '\r']).to_owned();
        figment = figment.merge(Credential { key, value, path });
    }
    Ok(figment)
}

/// The name of a systemd credential's layer in the figment (its metadata).
const CREDENTIAL: &str = "systemd credential";

/// One secret from a systemd credential file, as a figment layer named
/// [`CREDENTIAL`] with the file as its source (for [`Config::secret_sources`]).
struct Credential {
    key: &'static str,
    value: String,
    path: PathBuf,
}

impl figment::Provider for Credential {
    fn metadata(&self) -> figment::Metadata {
        figment::Metadata::from(CREDENTIAL, self.path.as_path())
    }

    fn data(&self) -> Result<figment::value::Map<figment::Profile, figment::value::Dict>, figment::Error> {
        figment::providers::Serialized::global(self.key, &self.value).data()
    }
}

/// A secret value (token, API key, password). Never printed: `Debug` and
/// `Serialize` show `<redacted>`. Its value is registered with the redactor
/// ([`crate::redact`]) as it is read, so an echo of it from outside is
/// redacted wherever it would be stored, logged or sent.
#[derive(Clone, Default)]
pub struct Secret(Option<SecretString>);

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Option::<String>::deserialize(d)?;
        if let Some(v) = &value {
            crate::redact::register(v);
        }
        Ok(Self(value.map(SecretString::from)))
    }
}

impl Secret {
    /// The secret's text, for the one place that sends it (a request header or query).
    pub fn expose(&self) -> Option<&str> {
        self.0.as_ref().map(ExposeSecret::expose_secret).filter(|s| !s.is_empty())
    }

    /// Whether a non-empty value is set.
    pub fn is_set(&self) -> bool {
        self.expose().is_some()
    }

    /// A secret holding `value` (for tests and programmatic configuration);
    /// registered with the redactor as any other.
    pub fn new(value: &str) -> Self {
        crate::redact::register(value);
        Self(Some(SecretString::from(value.to_owned())))
    }

    /// Whether no non-empty value is set (serde's `skip_serializing_if`:
    /// the printed configuration leaves an unset secret out rather than
    /// show it as `""`).
    pub fn is_unset(&self) -> bool {
        !self.is_set()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_set() { "<redacted>" } else { "<unset>" })
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if self.is_set() { "<redacted>" } else { "<unset>" })
    }
}

/// The whole configuration. Every key is documented in `config/ivcd.example.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The SQLite database file (default `./ivcd.db`; the systemd unit sets
    /// `/var/lib/ivcd/ivcd.db`).
    pub database: PathBuf,
    /// Where recorded market data lives, for replays (default `../shared/data`).
    pub data_dir: PathBuf,
    /// The Tradier market-data provider.
    pub tradier: TradierConfig,
    /// The Alpha Vantage provider.
    pub alpha_vantage: AlphaVantageConfig,
    /// The analysis settings.
    pub analysis: AnalysisParams,
    /// The provider response cache.
    pub cache: crate::providers::cache::CacheConfig,
    /// The earnings-calendar refresh.
    pub calendar: CalendarConfig,
    /// The backfill of past events and daily bars.
    pub backfill: BackfillConfig,
    /// The pre-earnings scan.
    pub scan: ScanConfig,
    /// Logging.
    pub log: LogConfig,
    /// When the daemon's jobs run (America/New_York).
    pub timetable: TimetableConfig,
    /// The daemon process: control socket and shutdown.
    pub daemon: DaemonConfig,
    /// The weekly housekeeping job.
    pub housekeeping: HousekeepingConfig,
    /// Prometheus metrics for node_exporter's textfile collector.
    pub metrics: MetricsConfig,
    /// Alerts: the report pushed after each scan, and its channels.
    pub alerts: AlertsConfig,
    /// The structures a scan proposes and the post-crush review.
    pub review: ReviewConfig,
    /// `ivcd calibrate`: the recorded implied moves and what they are judged with.
    pub calibration: crate::calibration::CalibrationConfig,
    /// SEC EDGAR filings for the timing audit.
    pub sec: crate::providers::sec::SecConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database: PathBuf::from("ivcd.db"),
            data_dir: PathBuf::from("../shared/data"),
            tradier: TradierConfig::default(),
            alpha_vantage: AlphaVantageConfig::default(),
            analysis: AnalysisParams::default(),
            cache: crate::providers::cache::CacheConfig::default(),
            calendar: CalendarConfig::default(),
            backfill: BackfillConfig::default(),
            scan: ScanConfig::default(),
            log: LogConfig::default(),
            timetable: TimetableConfig::default(),
            daemon: DaemonConfig::default(),
            housekeeping: HousekeepingConfig::default(),
            metrics: MetricsConfig::default(),
            alerts: AlertsConfig::default(),
            review: ReviewConfig::default(),
            calibration: crate::calibration::CalibrationConfig::default(),
            sec: crate::providers::sec::SecConfig::default(),
        }
    }
}

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

/// `[calendar]`: which upcoming reports are kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CalendarConfig {
    /// How many calendar days ahead the refresh reads (default 14).
    pub horizon_days: u32,
}

impl Default for CalendarConfig {
    fn default() -> Self {
        Self { horizon_days: 14 }
    }
}

/// `[backfill]`: past events and daily bars.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackfillConfig {
    /// How many calendar days of daily bars before the as-of date are kept (default 1,500, about 4 years: 12+ quarters).
    pub lookback_days: u32,
    /// How many calendar days ahead of the as-of date the backfill looks for reporters (default 7).
    pub horizon_days: u32,
}

impl Default for BackfillConfig {
    fn default() -> Self {
        Self { lookback_days: 1500, horizon_days: 7 }
    }
}

/// `[scan]`: the pre-earnings scan.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScanConfig {
    /// How many tickers a scan (and a backfill, a review) works on at once;
    /// 0 (the default) sizes it to the chain provider's window
    /// ([`ScanConfig::in_flight`]). The rate limiters bound the request rate.
    pub concurrency: usize,
    /// The most tickers in flight when `concurrency` is 0 (default 32).
    pub max_concurrency: usize,
    /// A chain older than this at the scan carries a warning, in minutes (default 15).
    pub max_chain_age_minutes: u32,
}

impl Default for ScanConfig {
    fn default() -> Self {
        Self { concurrency: 0, max_concurrency: 32, max_chain_age_minutes: 15 }
    }
}

impl ScanConfig {
    /// How many tickers to keep in flight for a provider that allows
    /// `allowance` requests a window when a ticker needs `per_ticker`
    /// dependent requests: `concurrency` when set, else every ticker one
    /// window's allowance covers at once (`ceil(allowance / per_ticker)`,
    /// so the window is spent in one ticker's critical path), at most
    /// `max_concurrency`. Always at least 1.
    pub fn in_flight(&self, allowance: u32, per_ticker: u32) -> usize {
        if self.concurrency > 0 {
            return self.concurrency;
        }
        let covered = allowance.div_ceil(per_ticker.max(1));
        usize::try_from(covered).unwrap_or(usize::MAX).clamp(1, self.max_concurrency.max(1))
    }
}

/// `[review]`: the structures a scan proposes and the post-crush review at
/// the next open (see `docs/review.md`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReviewConfig {
    /// How many listed strikes beyond each short strike the iron condor's
    /// long wings sit (default 1: the next listed strike).
    pub wing_steps: usize,
    /// A review still waiting for its stock to open (a halt) is retried at
    /// later review slots for this many days after its reaction session
    /// (default 5).
    pub pending_days: u32,
    /// Whether each review run that reviewed something queues the review
    /// alert for the channels of `[alerts]` (default true; `ivcd review`
    /// and `ivcd replay` only with `--notify`).
    pub alert: bool,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        Self { wing_steps: 1, pending_days: 5, alert: true }
    }
}

/// `[log]`: tracing output.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A tracing filter, e.g. `info` or `info,ivcd::providers=debug` (default `info`).
    /// `RUST_LOG` overrides it.
    pub level: String,
    /// A directory for daily rolling log files (rotated at midnight UTC), in
    /// addition to stdout; unset (the default) logs to stdout only, which
    /// journald captures under systemd.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub directory: Option<PathBuf>,
    /// How many daily log files are kept in `directory` (default 14).
    pub retention_days: u32,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { level: "info".into(), directory: None, retention_days: 14 }
    }
}

/// A wall-clock time of day in America/New_York, written `"HH:MM"` in the
/// configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct EtTime(pub NaiveTime);

impl EtTime {
    /// `hour:minute` ET. Panics on an impossible time (constants only).
    pub const fn hm(hour: u32, minute: u32) -> Self {
        match NaiveTime::from_hms_opt(hour, minute, 0) {
            Some(t) => Self(t),
            None => panic!("impossible time of day"),
        }
    }
}

impl fmt::Display for EtTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%H:%M"))
    }
}

impl Serialize for EtTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EtTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        NaiveTime::parse_from_str(&text, "%H:%M")
            .map(Self)
            .map_err(|_| serde::de::Error::custom(format!("{text:?} is not a time of day \"HH:MM\" (ET)")))
    }
}

/// `[timetable]`: when the daemon's jobs run. Every time is America/New_York
/// wall-clock time; the NYSE calendar decides which days are sessions and
/// when they open and close.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimetableConfig {
    /// Earnings-calendar refreshes, every day (default 06:00 and 18:00 ET).
    pub refresh_times: Vec<EtTime>,
    /// The backfill, on session days (default 20:00 ET).
    pub backfill_time: EtTime,
    /// The scan runs this many minutes before each session's close: 15:00 ET
    /// on a regular day, 12:00 ET on a 13:00 early close (default 60).
    pub scan_minutes_before_close: u32,
    /// The post-crush review runs this many minutes after each session's open (default 1).
    pub review_minutes_after_open: u32,
    /// A missed review is still caught up until this time on its day (default 10:30 ET).
    pub review_deadline: EtTime,
    /// Further review slots, in minutes after the first, for stocks that had
    /// not opened yet (a delayed open or a halt) (default 15 and 45).
    pub review_retry_minutes: Vec<u32>,
    /// The weekly housekeeping's day (default `Sun`).
    pub housekeeping_day: Weekday,
    /// The weekly housekeeping's time (default 03:00 ET).
    pub housekeeping_time: EtTime,
    /// Whether the daemon catches up missed slots on start (default true).
    pub catch_up: bool,
    /// How far back, in days, the daemon looks for missed slots on start (default 7).
    pub catch_up_lookback_days: u32,
}

impl Default for TimetableConfig {
    fn default() -> Self {
        Self {
            refresh_times: vec![EtTime::hm(6, 0), EtTime::hm(18, 0)],
            backfill_time: EtTime::hm(20, 0),
            scan_minutes_before_close: 60,
            review_minutes_after_open: 1,
            review_deadline: EtTime::hm(10, 30),
            review_retry_minutes: vec![15, 45],
            housekeeping_day: Weekday::Sun,
            housekeeping_time: EtTime::hm(3, 0),
            catch_up: true,
            catch_up_lookback_days: 7,
        }
    }
}

/// `[daemon]`: the `ivcd run` process.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DaemonConfig {
    /// The Unix socket on which the daemon serves its read-only status
    /// snapshot, and which `ivcd status` reads (default `ivcd.sock`; the
    /// systemd setup uses `/run/ivcd/status.sock`).
    pub status_socket: PathBuf,
    /// On SIGTERM or SIGINT, how long running jobs get to reach a safe point, in
    /// seconds (default 20; keep it below the unit's `TimeoutStopSec`).
    pub drain_timeout_seconds: u64,
    /// When the database refuses a job (locked, full, read-only), the daemon
    /// runs that slot again after this many minutes, for as long as the
    /// slot's window is open (default 5; 1 to 60).
    pub store_retry_minutes: u32,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        Self { status_socket: PathBuf::from("ivcd.sock"), drain_timeout_seconds: 20, store_retry_minutes: 5 }
    }
}

/// `[housekeeping]`: the weekly maintenance job.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HousekeepingConfig {
    /// Job runs older than this many days are deleted, except those a stored
    /// scan refers to (default 400).
    pub job_run_retention_days: u32,
}

impl Default for HousekeepingConfig {
    fn default() -> Self {
        Self { job_run_retention_days: 400 }
    }
}

/// `[metrics]`: the daemon's Prometheus metrics written to a file for
/// node_exporter's textfile collector (names in docs/operations.md#metrics).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// The file to write (e.g. `/var/lib/prometheus/node-exporter/ivcd.prom`);
    /// unset (the default): no file. Its directory must exist and be writable.
    pub textfile: Option<PathBuf>,
    /// How often the daemon rewrites it, seconds (default 60, 10 to 300);
    /// it is also rewritten after every job.
    pub interval_seconds: u64,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self { textfile: None, interval_seconds: 60 }
    }
}

/// `[alerts]`: the reports pushed after each scan, and where they go.
///
/// A channel is configured by its table (`[alerts.email]`, `[alerts.slack]`,
/// `[alerts.webhook]`, `[alerts.discord]`); without any, nothing is sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// The lowest tier listed as a setup (default `marginal`); ranked
    /// candidates below it get one line each (ticker, timing, VRP, tier).
    pub min_tier: crate::analysis::vrp::Tier,
    /// At most this many setups per report, best first (default 10).
    pub top_n: usize,
    /// Send a report when no candidate makes the cut (default true: silence
    /// would look like a dead daemon).
    pub send_empty: bool,
    /// A delivery still failing this many hours after its report was
    /// stored is given up, with an ERROR log and a status entry (default 12).
    pub give_up_after_hours: u32,
    /// The first retry waits this many seconds; each next one doubles, with
    /// jitter (default 30).
    pub initial_backoff_seconds: u64,
    /// The backoff doubles up to this many seconds (default 900); jitter
    /// adds up to as much again, and an HTTP `Retry-After` may ask for longer.
    pub max_backoff_seconds: u64,
    /// Per-attempt timeout of a send, in seconds (default 30).
    pub timeout_seconds: u64,
    /// Email through an SMTP server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailConfig>,
    /// A Slack incoming webhook.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slack: Option<SlackConfig>,
    /// A generic JSON webhook (the `ivcd scan --json` document).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookConfig>,
    /// A Discord webhook.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discord: Option<DiscordConfig>,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            min_tier: crate::analysis::vrp::Tier::Marginal,
            top_n: 10,
            send_empty: true,
            give_up_after_hours: 12,
            initial_backoff_seconds: 30,
            max_backoff_seconds: 900,
            timeout_seconds: 30,
            email: None,
            slack: None,
            webhook: None,
            discord: None,
        }
    }
}

impl AlertsConfig {
    /// The names of the configured channels (`email`, `slack`, `webhook`, `discord`), in that order.
    pub fn channel_names(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.email.is_some() {
            names.push("email");
        }
        if self.slack.is_some() {
            names.push("slack");
        }
        if self.webhook.is_some() {
            names.push("webhook");
        }
        if self.discord.is_some() {
            names.push("discord");
        }
        names
    }
}

impl AlertsConfig {
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut check = |ok: bool, msg: String| {
            if !ok {
                problems.push(msg);
            }
        };
        check(
            self.max_backoff_seconds >= self.initial_backoff_seconds,
            "alerts.max_backoff_seconds must be at least alerts.initial_backoff_seconds".into(),
        );
        if let Some(e) = &self.email {
            check(!e.host.trim().is_empty(), "alerts.email.host must name the SMTP server".into());
            check((1..=50).contains(&e.to.len()), "alerts.email.to must list from 1 to 50 recipients".into());
            for (key, address) in std::iter::once(("alerts.email.from", &e.from))
                .chain(e.to.iter().map(|t| ("alerts.email.to", t)))
            {
                check(
                    address.parse::<lettre::message::Mailbox>().is_ok(),
                    format!("{key} = {address:?} is not an email address (e.g. \"ivcd <ivcd@example.com>\")"),
                );
            }
            check(
                e.username.is_some() == e.password.is_set(),
                "alerts.email.username and alerts.email.password go together (set both, or neither)".into(),
            );
        }
        let urls = [
            ("alerts.slack.webhook_url", self.slack.as_ref().and_then(|s| s.webhook_url.expose())),
            ("alerts.webhook.url", self.webhook.as_ref().map(|w| w.url.as_str())),
            ("alerts.discord.webhook_url", self.discord.as_ref().and_then(|d| d.webhook_url.expose())),
        ];
        let configured = [self.slack.is_some(), self.webhook.is_some(), self.discord.is_some()];
        for ((key, url), on) in urls.into_iter().zip(configured) {
            if !on {
                continue;
            }
            // Slack's and Discord's URLs are secrets: never echo them.
            let shown = if key == "alerts.webhook.url" { Shown::Value } else { Shown::Hidden };
            if let Some(problem) = url_problem(key, url.unwrap_or_default(), shown) {
                check(false, problem);
            }
        }
        problems
    }
}

/// Whether a problem with a URL may quote it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shown {
    /// The URL is no secret: quote it.
    Value,
    /// The URL is a secret: name the key only.
    Hidden,
}

/// Why `url` (the value of `key`) may not be used for requests that carry a
/// secret (a token header, a key in the query, a webhook's own token or
/// signature): not an http(s) URL, plain `http` to a host other than this
/// machine (`localhost`, `127.0.0.0/8`, `::1`), which sends the secret in
/// clear text, or a user and password in the URL, which would print with it.
fn url_problem(key: &str, url: &str, shown: Shown) -> Option<String> {
    let quoted = if shown == Shown::Value { format!("{key} = {url:?}") } else { key.to_owned() };
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return Some(format!("{quoted} is not an https URL"));
    };
    let loopback = match parsed.host() {
        Some(url::Host::Domain(host)) => host.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match parsed.scheme() {
        "https" | "http" if !parsed.username().is_empty() || parsed.password().is_some() => Some(format!(
            "{key} holds a user name or password: remove it (credentials go in their own secret keys, which are never printed)"
        )),
        "https" => None,
        "http" if loopback => None,
        "http" => Some(format!(
            "{quoted} uses plain http to another machine, which would send its secret in clear text: use https \
             (plain http is accepted only for this machine: localhost, 127.0.0.1, ::1)"
        )),
        _ => Some(format!("{quoted} is not an https URL")),
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    Starttls,
    /// TLS from the first byte, "SMTPS" (port 465).
    Tls,
    /// No encryption: only for a relay on localhost or a trusted network (port 25).
    None,
}

/// `[alerts.email]`: an SMTP server and the recipients.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// The SMTP server's host name (checked against its TLS certificate).
    pub host: String,
    /// The port; default 587 for `starttls`, 465 for `tls`, 25 for `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// `starttls` (default), `tls` or `none`.
    #[serde(default = "default_smtp_tls")]
    pub tls: SmtpTls,
    /// The login, when the server requires authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The password (secret; never logged).
    #[serde(default, skip_serializing_if = "Secret::is_unset")]
    pub password: Secret,
    /// The sender, e.g. `"ivcd <ivcd@example.com>"`.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
}

fn default_smtp_tls() -> SmtpTls {
    SmtpTls::Starttls
}

impl EmailConfig {
    /// The port in use: the configured one or the TLS mode's standard port.
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        })
    }
}

/// `[alerts.slack]`: a Slack incoming webhook.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    /// The webhook URL (secret: it carries the token), `https://hooks.slack.com/services/...`.
    #[serde(skip_serializing_if = "Secret::is_unset")]
    pub webhook_url: Secret,
}

/// `[alerts.webhook]`: a generic JSON webhook.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where the JSON is POSTed.
    pub url: String,
    /// A shared secret: when set, the body is signed with HMAC-SHA256 and the
    /// signature sent as `X-Ivcd-Signature: t=<unix seconds>,v1=<hex>` (the
    /// HMAC-SHA256 of `<t>.<body>`; see docs/alerts.md).
    #[serde(default, skip_serializing_if = "Secret::is_unset")]
    pub secret: Secret,
}

/// `[alerts.discord]`: a Discord webhook.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordConfig {
    /// The webhook URL (secret), `https://discord.com/api/webhooks/...`.
    #[serde(skip_serializing_if = "Secret::is_unset")]
    pub webhook_url: Secret,
}

/// One duration, count or size setting with its valid range. Every load
/// (`ivcd check-config`, `ivcd run`, a reload) refuses a value outside the
/// range, so no setting can overflow the arithmetic it feeds;
/// docs/configuration.md states each range and `tests/it/docs.rs` checks
/// that it says what [`Config::bounded_settings`] says.
#[derive(Debug, Clone, PartialEq)]
pub struct Bounded {
    /// The key, e.g. `tradier.breaker.cool_down_seconds`.
    pub key: &'static str,
    /// The value as configured, as text (exact for any integer).
    pub value: String,
    /// Whether the value is within `min..=max` (false for NaN).
    pub ok: bool,
    /// The smallest valid value (in the key's unit).
    pub min: f64,
    /// The largest valid value (in the key's unit).
    pub max: f64,
    /// Whether the key takes an integer.
    pub integer: bool,
}

impl Bounded {
    /// The range as docs/configuration.md writes it: `1 to 86400`, `0.5 to 100`.
    pub fn range_text(&self) -> String {
        format!("{} to {}", self.min, self.max)
    }
}

/// Collects [`Bounded`] settings.
#[derive(Default)]
struct Bounds(Vec<Bounded>);

impl Bounds {
    /// An integer setting (`value` of any unsigned type up to 64 bits).
    fn int(&mut self, key: &'static str, value: impl TryInto<u64>, min: u64, max: u64) {
        let value: u64 = value.try_into().unwrap_or(u64::MAX);
        self.0.push(Bounded {
            key,
            value: value.to_string(),
            ok: (min..=max).contains(&value),
            min: min as f64,
            max: max as f64,
            integer: true,
        });
    }

    /// A number (fractional) setting.
    fn real(&mut self, key: &'static str, value: f64, min: f64, max: f64) {
        self.0.push(Bounded {
            key,
            value: value.to_string(),
            ok: (min..=max).contains(&value),
            min,
            max,
            integer: false,
        });
    }
}

/// Every problem found in a configuration; `Display` lists them one a line.
#[derive(Debug)]
pub struct ConfigError {
    /// Where the configuration came from (file path or "built-in defaults").
    pub origin: String,
    /// One message per problem, each naming the key.
    pub problems: Vec<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration ({}):", self.origin)?;
        for p in &self.problems {
            writeln!(f, "  - {p}")?;
        }
        write!(f, "fix the file or the IVCD_* environment variables; see config/ivcd.example.toml")
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Loads the layered configuration: defaults, then `file` (or
    /// [`SYSTEM_CONFIG`] when `file` is `None` and it exists), then the
    /// `IVCD_*` environment.
    ///
    /// # Errors
    /// [`ConfigError`] listing every problem: a missing or unreadable file,
    /// TOML syntax, unknown keys, wrong types, and values that
    /// [`Config::validate`] rejects.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let (figment, origin) = Self::layers(file)?;
        Self::from_figment(&figment, origin)
    }

    /// The layers [`Config::load`] merges, and where they come from.
    fn layers(file: Option<&Path>) -> Result<(Figment, String), ConfigError> {
        let path = match file {
            Some(p) => Some(p.to_path_buf()),
            None => Some(PathBuf::from(SYSTEM_CONFIG)).filter(|p| p.exists()),
        };
        let origin = path
            .as_ref()
            .map_or_else(|| "built-in defaults and environment".to_owned(), |p| p.display().to_string());
        let mut figment = Figment::new();
        if let Some(p) = &path {
            if !p.is_file() {
                return Err(ConfigError {
                    origin,
                    problems: vec![format!(
                        "configuration file {} does not exist or is not a file",
                        p.display()
                    )],
                });
            }
            figment = figment.merge(Toml::file_exact(p));
        }
        if let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") {
            figment = merge_credentials(figment, Path::new(&dir))
                .map_err(|problem| ConfigError { origin: origin.clone(), problems: vec![problem] })?;
        }
        figment = figment.merge(Env::prefixed("IVCD_").split("__"));
        Ok((figment, origin))
    }

    /// Where each secret key's value comes from, for `ivcd check-config`:
    /// one line per key of [`SECRET_KEYS`], saying whether it is set and
    /// from which layer (the environment, a systemd credential, the file),
    /// never its value, not even when it is empty.
    ///
    /// # Errors
    /// As [`Config::load`], when the layers cannot be read.
    pub fn secret_sources(file: Option<&Path>) -> Result<Vec<String>, ConfigError> {
        let (figment, _) = Self::layers(file)?;
        Ok(SECRET_KEYS
            .iter()
            .map(|key| {
                let Ok(value) = figment.find_value(key) else { return format!("{key}: not set") };
                let empty = value.as_str().is_some_and(str::is_empty);
                let from = match figment.find_metadata(key) {
                    Some(m) if m.name.contains("environment") => {
                        format!("the environment (IVCD_{})", key.to_uppercase().replace('.', "__"))
                    }
                    Some(m) if m.name == CREDENTIAL => match &m.source {
                        Some(source) => format!("a systemd credential ({source})"),
                        None => "a systemd credential".to_owned(),
                    },
                    Some(m) => match &m.source {
                        Some(source) => format!("the file {source}"),
                        None => m.name.to_string(),
                    },
                    None => "an unknown layer".to_owned(),
                };
                if empty {
                    format!("{key}: empty in {from}, so not set")
                } else {
                    format!("{key}: set, from {from}")
                }
            })
            .collect())
    }

    /// Problems that do not stop ivcd but that its operator should fix: a
    /// configuration file holding a secret that other users can read.
    pub fn warnings(file: Option<&Path>) -> Vec<String> {
        use std::os::unix::fs::PermissionsExt;
        let path = file.map_or_else(|| PathBuf::from(SYSTEM_CONFIG), Path::to_path_buf);
        let Ok(meta) = std::fs::metadata(&path) else { return Vec::new() };
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let holds_secret = SECRET_KEYS.iter().any(|key| {
            let field = key.rsplit('.').next().unwrap_or(key);
            text.lines().any(|l| l.trim_start().starts_with(field) && l.contains('='))
        });
        if holds_secret && meta.permissions().mode() & 0o004 != 0 {
            vec![format!(
                "{} holds a secret and is readable by every user (mode {:o}): run `chmod o-r {}`, or move the \
                 secret to the environment or a systemd credential (LoadCredential=)",
                path.display(),
                meta.permissions().mode() & 0o777,
                path.display()
            )]
        } else {
            Vec::new()
        }
    }

    /// Extracts and validates a configuration from a prepared figment (used by
    /// [`Config::load`] and by tests).
    ///
    /// # Errors
    /// As [`Config::load`].
    pub fn from_figment(figment: &Figment, origin: String) -> Result<Self, ConfigError> {
        let config: Config = figment.extract().map_err(|e| ConfigError {
            origin: origin.clone(),
            problems: e.into_iter().map(|e| e.to_string()).collect(),
        })?;
        let problems = config.validate();
        if problems.is_empty() { Ok(config) } else { Err(ConfigError { origin, problems }) }
    }

    /// Every duration, count and size setting with its value and valid
    /// range (see [`Bounded`]); list settings give one entry per element.
    pub fn bounded_settings(&self) -> Vec<Bounded> {
        let mut b = Bounds::default();
        for (p, rpm, timeout, retry, breaker) in [
            (
                "tradier",
                self.tradier.requests_per_minute,
                self.tradier.timeout_seconds,
                &self.tradier.retry,
                &self.tradier.breaker,
            ),
            (
                "alpha_vantage",
                self.alpha_vantage.requests_per_minute,
                self.alpha_vantage.timeout_seconds,
                &self.alpha_vantage.retry,
                &self.alpha_vantage.breaker,
            ),
        ] {
            let tradier = p == "tradier";
            let key = |t: &'static str, a: &'static str| if tradier { t } else { a };
            b.int(key("tradier.requests_per_minute", "alpha_vantage.requests_per_minute"), rpm, 1, 6000);
            b.int(key("tradier.timeout_seconds", "alpha_vantage.timeout_seconds"), timeout, 1, 300);
            if tradier {
                b.int("tradier.window_seconds", self.tradier.window_seconds, 1, 3600);
                b.int("tradier.window_guard_ms", self.tradier.window_guard_ms, 0, 10_000);
            } else {
                b.int("alpha_vantage.requests_per_day", self.alpha_vantage.requests_per_day, 0, 1_000_000);
            }
            b.int(
                key("tradier.retry.max_attempts", "alpha_vantage.retry.max_attempts"),
                retry.max_attempts,
                1,
                10,
            );
            b.int(
                key("tradier.retry.initial_delay_ms", "alpha_vantage.retry.initial_delay_ms"),
                retry.initial_delay_ms,
                1,
                60_000,
            );
            b.int(
                key("tradier.retry.max_delay_seconds", "alpha_vantage.retry.max_delay_seconds"),
                retry.max_delay_seconds,
                1,
                3600,
            );
            b.int(
                key("tradier.breaker.failures", "alpha_vantage.breaker.failures"),
                breaker.failures,
                0,
                1000,
            );
            b.int(
                key("tradier.breaker.cool_down_seconds", "alpha_vantage.breaker.cool_down_seconds"),
                breaker.cool_down_seconds,
                1,
                86_400,
            );
        }
        let sec = &self.sec;
        b.int("sec.requests_per_second", sec.requests_per_second, 1, 10);
        b.int("sec.timeout_seconds", sec.timeout_seconds, 1, 300);
        b.int("sec.cache_hours", sec.cache_hours, 1, 720);
        b.int("sec.max_older_pages", sec.max_older_pages, 0, 20);
        b.int("sec.max_body_kib", sec.max_body_kib, 1, 262_144);
        b.int("sec.retry.max_attempts", sec.retry.max_attempts, 1, 10);
        b.int("sec.retry.initial_delay_ms", sec.retry.initial_delay_ms, 1, 60_000);
        b.int("sec.retry.max_delay_seconds", sec.retry.max_delay_seconds, 1, 3600);
        b.int("sec.breaker.failures", sec.breaker.failures, 0, 1000);
        b.int("sec.breaker.cool_down_seconds", sec.breaker.cool_down_seconds, 1, 86_400);
        // Body limits: 1 KiB to 256 MiB.
        let t = &self.tradier.max_body_kib;
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
        let av = &self.alpha_vantage.max_body_kib;
        for (key, kib) in [
            ("alpha_vantage.max_body_kib.earnings_calendar", av.earnings_calendar),
            ("alpha_vantage.max_body_kib.earnings", av.earnings),
            ("alpha_vantage.max_body_kib.time_series_daily", av.time_series_daily),
            ("alpha_vantage.max_body_kib.historical_options", av.historical_options),
        ] {
            b.int(key, kib, 1, 262_144);
        }
        let a = &self.analysis;
        b.int("analysis.window_events", a.window_events, 1, 200);
        b.int("analysis.min_events", a.min_events, 1, 200);
        b.real("analysis.term.slope_days", a.term.slope_days, 1.0, 730.0);
        b.real("analysis.term.iv_days", a.term.iv_days, 1.0, 730.0);
        b.int("analysis.skew.min_points_per_side", a.skew.min_points_per_side, 3, 1000);
        b.int("analysis.liquidity.open_interest_warn", a.liquidity.open_interest_warn, 0, 10_000_000);
        b.int("analysis.liquidity.open_interest_reject", a.liquidity.open_interest_reject, 0, 10_000_000);
        b.int("analysis.liquidity.volume_warn", a.liquidity.volume_warn, 0, 10_000_000);
        b.int("analysis.liquidity.adv_sessions", a.liquidity.adv_sessions, 1, 250);
        b.real("analysis.consistency.half_life_events", a.consistency.half_life_events, 0.5, 100.0);
        b.int("analysis.consistency.rv_sessions", a.consistency.rv_sessions, 2, 250);
        b.int("cache.chain_ttl_seconds", self.cache.chain_ttl_seconds, 1, 3600);
        b.int("cache.expirations_ttl_hours", self.cache.expirations_ttl_hours, 1, 24);
        b.int("calendar.horizon_days", self.calendar.horizon_days, 1, 90);
        b.int("backfill.lookback_days", self.backfill.lookback_days, 90, 7300);
        b.int("backfill.horizon_days", self.backfill.horizon_days, 0, 90);
        b.int("scan.concurrency", self.scan.concurrency, 0, 64);
        b.int("scan.max_concurrency", self.scan.max_concurrency, 1, 64);
        b.int("scan.max_chain_age_minutes", self.scan.max_chain_age_minutes, 0, 1440);
        b.int("log.retention_days", self.log.retention_days, 1, 3650);
        let tt = &self.timetable;
        b.int("timetable.scan_minutes_before_close", tt.scan_minutes_before_close, 1, 360);
        b.int("timetable.review_minutes_after_open", tt.review_minutes_after_open, 0, 360);
        for minutes in &tt.review_retry_minutes {
            b.int("timetable.review_retry_minutes", *minutes, 1, 360);
        }
        b.int("timetable.catch_up_lookback_days", tt.catch_up_lookback_days, 1, 60);
        b.int("daemon.drain_timeout_seconds", self.daemon.drain_timeout_seconds, 1, 600);
        b.int("daemon.store_retry_minutes", self.daemon.store_retry_minutes, 1, 60);
        b.int("housekeeping.job_run_retention_days", self.housekeeping.job_run_retention_days, 7, 3650);
        b.int("metrics.interval_seconds", self.metrics.interval_seconds, 10, 300);
        let al = &self.alerts;
        b.int("alerts.top_n", al.top_n, 1, 100);
        b.int("alerts.give_up_after_hours", al.give_up_after_hours, 1, 168);
        b.int("alerts.initial_backoff_seconds", al.initial_backoff_seconds, 1, 3600);
        b.int("alerts.max_backoff_seconds", al.max_backoff_seconds, 1, 86_400);
        b.int("alerts.timeout_seconds", al.timeout_seconds, 1, 300);
        if let Some(port) = al.email.as_ref().and_then(|e| e.port) {
            b.int("alerts.email.port", port, 1, 65_535);
        }
        b.int("review.wing_steps", self.review.wing_steps, 1, 20);
        b.int("review.pending_days", self.review.pending_days, 0, 30);
        let cal = &self.calibration;
        b.int("calibration.bootstrap_resamples", cal.bootstrap_resamples, 100, 100_000);
        b.int("calibration.seed", cal.seed, 0, u64::from(u32::MAX));
        b.int("calibration.min_tier_events", cal.min_tier_events, 5, 10_000);
        b.0
    }

    /// Checks the values that types alone do not; returns one message per problem.
    pub fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (key, url) in [
            ("tradier.base_url", &self.tradier.base_url),
            ("alpha_vantage.base_url", &self.alpha_vantage.base_url),
        ] {
            if let Some(problem) = url_problem(key, url, Shown::Value) {
                problems.push(problem);
            }
        }
        for setting in self.bounded_settings() {
            if !setting.ok {
                problems.push(format!(
                    "{} = {} is out of range: it must be {}{}",
                    setting.key,
                    setting.value,
                    if setting.integer { "an integer from " } else { "a number from " },
                    setting.range_text()
                ));
            }
        }
        let mut check = |ok: bool, msg: &str| {
            if !ok {
                problems.push(msg.to_owned());
            }
        };
        let a = &self.analysis;
        check(a.window_events >= a.min_events, "analysis.window_events must be at least analysis.min_events");
        let t = &a.tiers;
        check(
            t.excellent > t.good && t.good > t.marginal && t.marginal > 0.0,
            "analysis.tiers must satisfy excellent > good > marginal > 0",
        );
        check(
            a.tail_risk_warning > 1.0,
            "analysis.tail_risk_warning must be above 1 (max/mean is at least 1)",
        );
        let tc = &a.timing_check;
        check(tc.ratio >= 1.0, "analysis.timing_check.ratio must be at least 1");
        check((0.0..1.0).contains(&tc.min_move), "analysis.timing_check.min_move must be a fraction in 0..1");
        let term = &a.term;
        check(
            term.rates.risk_free_rate.abs() < 0.5 && (0.0..0.5).contains(&term.rates.dividend_yield),
            "analysis.term.rates: risk_free_rate and dividend_yield are annual fractions (0.04 = 4%)",
        );
        let l = &a.liquidity;
        check(
            0.0 < l.spread_warn && l.spread_warn <= l.spread_reject,
            "analysis.liquidity: 0 < spread_warn <= spread_reject (fractions of the mid)",
        );
        check(
            l.open_interest_reject <= l.open_interest_warn,
            "analysis.liquidity: open_interest_reject must not exceed open_interest_warn",
        );
        check(
            l.avg_daily_volume_reject <= l.avg_daily_volume_warn,
            "analysis.liquidity: avg_daily_volume_reject must not exceed avg_daily_volume_warn",
        );
        let sc = &a.score;
        let w = &sc.weights;
        check(
            [w.vrp, w.consistency, w.liquidity, w.term_structure].iter().all(|x| *x >= 0.0) && w.vrp > 0.0,
            "analysis.score.weights must be non-negative, with a positive vrp weight",
        );
        check(sc.vrp_full > sc.vrp_floor, "analysis.score.vrp_full must be above analysis.score.vrp_floor");
        check(
            sc.term_slope_full < 0.0,
            "analysis.score.term_slope_full must be negative (an inverted curve)",
        );
        let tt = &self.timetable;
        check(
            (1..=24).contains(&tt.refresh_times.len()),
            "timetable.refresh_times must list from 1 to 24 times",
        );
        check(
            tt.review_retry_minutes.len() <= 10,
            "timetable.review_retry_minutes may list at most 10 retries",
        );
        check(!self.daemon.status_socket.as_os_str().is_empty(), "daemon.status_socket must be a path");
        if let Some(file) = &self.metrics.textfile {
            check(
                file.file_name().is_some_and(|n| n.to_string_lossy().ends_with(".prom")),
                "metrics.textfile must name a file ending in .prom (node_exporter's textfile collector reads only those)",
            );
        }
        problems.extend(self.alerts.problems());
        problems.extend(self.calibration.problems());
        problems.extend(self.sec.problems());
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            problems
                .push(format!("log.level = {:?} is not a tracing filter (e.g. \"info\")", self.log.level));
        }
        problems
    }

    /// The effective configuration as TOML, secrets redacted.
    pub fn to_redacted_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render configuration: {e}\n"))
    }
}

#[cfg(test)]
// figment::Jail closures return figment::Error, whose size is figment's choice.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn layers_file_then_environment() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "ivcd.toml",
                "database = \"/tmp/x.db\"\n[tradier]\ntoken = \"file-token\"\nrequests_per_minute = 60\n",
            )?;
            jail.set_env("IVCD_TRADIER__REQUESTS_PER_MINUTE", "30");
            let c = Config::load(Some(Path::new("ivcd.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.database, PathBuf::from("/tmp/x.db"));
            assert_eq!(c.tradier.requests_per_minute, 30, "environment wins over the file");
            assert_eq!(c.tradier.token.expose(), Some("file-token"));
            assert_eq!(c.alpha_vantage.requests_per_minute, 75, "default kept");
            Ok(())
        });
    }

    #[test]
    fn unknown_key_names_the_key_and_the_file() {
        Jail::expect_with(|jail| {
            jail.create_file("bad.toml", "[tradier]\ntokn = \"x\"\n")?;
            let e = Config::load(Some(Path::new("bad.toml"))).unwrap_err().to_string();
            assert!(e.contains("tokn"), "{e}");
            assert!(e.contains("bad.toml"), "{e}");
            Ok(())
        });
    }

    #[test]
    fn every_invalid_value_is_reported() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "bad.toml",
                "[tradier]\nbase_url = \"ftp://x\"\nrequests_per_minute = 0\n[analysis]\nmin_events = 0\n",
            )?;
            let e = Config::load(Some(Path::new("bad.toml"))).unwrap_err();
            assert_eq!(e.problems.len(), 3, "{e}");
            Ok(())
        });
    }

    #[test]
    fn secrets_never_print() {
        Jail::expect_with(|jail| {
            jail.set_env("IVCD_ALPHA_VANTAGE__API_KEY", "sekrit-av");
            let c = Config::load(None).map_err(|e| e.to_string())?;
            let shown = format!("{}\n{:?}", c.to_redacted_toml(), c);
            assert!(!shown.contains("sekrit-av"), "{shown}");
            assert!(shown.contains("<redacted>"));
            Ok(())
        });
    }

    #[test]
    fn a_cool_down_beyond_chronos_range_is_refused_with_its_range() {
        Jail::expect_with(|jail| {
            jail.create_file("bad.toml", "[tradier.breaker]\ncool_down_seconds = 9223372036854776\n")?;
            let e = Config::load(Some(Path::new("bad.toml"))).unwrap_err();
            assert_eq!(
                e.problems,
                [
                    "tradier.breaker.cool_down_seconds = 9223372036854776 is out of range: it must be an integer \
                  from 1 to 86400"
                ],
            );
            Ok(())
        });
    }

    #[test]
    fn every_bounded_setting_refuses_a_value_just_outside_its_range() {
        use figment::providers::Serialized;
        let defaults = Config::default();
        let mut checked = 0;
        for b in defaults.bounded_settings() {
            let mut outside = vec![b.max + 1.0];
            if !b.integer || b.min >= 1.0 {
                outside.push(if b.integer { b.min - 1.0 } else { b.min / 2.0 });
            }
            for value in outside {
                let value = if b.integer {
                    figment::value::Value::from(value as i64)
                } else {
                    figment::value::Value::from(value)
                };
                let value = if b.key == "timetable.review_retry_minutes" {
                    figment::value::Value::from(vec![value])
                } else {
                    value
                };
                let figment = Figment::from(Serialized::defaults(&defaults)).merge((b.key, value.clone()));
                let e = Config::from_figment(&figment, "test".into()).unwrap_err();
                assert!(
                    e.problems.iter().any(|p| p.starts_with(b.key) && p.contains(&b.range_text())),
                    "{} = {value:?}: {e}",
                    b.key
                );
                checked += 1;
            }
        }
        assert!(checked > 80, "{checked}");
    }

    #[test]
    fn missing_file_is_a_clear_error() {
        let e = Config::load(Some(Path::new("/nonexistent/ivcd.toml"))).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/ivcd.toml"), "{e}");
    }
}

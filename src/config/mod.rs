//! Configuration: one typed struct, layered once with figment (built-in
//! defaults, then a TOML file, then `IVCD_*` environment variables with `__`
//! between nested keys), validated once.
//!
//! Unknown keys are errors that name the key and the file. Secrets (tokens,
//! API keys) are [`Secret`]s: they serialize as `"<redacted>"`, so printing
//! the configuration can never leak them.

use std::fmt;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::{Deserialize, Serialize};

use crate::analysis::AnalysisParams;

/// The configuration file read when `--config` is not given and it exists.
pub const SYSTEM_CONFIG: &str = "/etc/ivcd/ivcd.toml";

mod credentials;
pub mod daemon;
pub mod jobs;
pub mod log;

pub use self::credentials::SECRET_KEYS;
use self::credentials::{CREDENTIAL, merge_credentials};
pub use self::daemon::{DaemonConfig, MetricsConfig};
pub use self::jobs::{BackfillConfig, CalendarConfig, HousekeepingConfig, ReviewConfig, ScanConfig};
pub use self::log::LogConfig;
pub use crate::alert::config::{
    AlertsConfig, DiscordConfig, EmailConfig, SlackConfig, SmtpTls, WebhookConfig,
};
pub use crate::providers::alpha_vantage::config::{AlphaVantageBodyLimits, AlphaVantageConfig};
pub use crate::providers::tradier::config::{TradierBodyLimits, TradierConfig, TradierEndpoint};
pub use crate::redact::Secret;
pub use crate::settings::Bounded;
use crate::settings::{Bounds, Shown, url_problem};
pub use crate::timetable::{EtTime, TimetableConfig};

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
        b.int("scan.concurrency", self.scan.concurrency, 1, 64);
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

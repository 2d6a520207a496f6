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
mod problems;

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
use crate::settings::Bounds;
pub use crate::timetable::{EtTime, TimetableConfig};

/// The whole configuration. Every key is documented in `config/ivcd.example.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The SQLite database file (default [`default_database`]: the user's
    /// state directory, `~/.local/state/ivcd/ivcd.db`; the service's
    /// configuration sets `/var/lib/ivcd/ivcd.db`).
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

/// The database a user gets without setting `database`: `ivcd.db` in the
/// user's XDG state directory (`$XDG_STATE_HOME/ivcd`, by default
/// `~/.local/state/ivcd`), whatever the working directory; `ivcd.db` in the
/// working directory only when there is no home directory to find it in.
pub fn default_database() -> PathBuf {
    directories::ProjectDirs::from("", "", "ivcd")
        .and_then(|dirs| dirs.state_dir().map(|dir| dir.join("ivcd.db")))
        .unwrap_or_else(|| PathBuf::from("ivcd.db"))
}

impl Config {
    /// Creates the directory of the default database ([`default_database`])
    /// when it is missing, readable by the user alone: for the commands
    /// that write. A database set in the configuration is left to the
    /// operator (its directory must exist, [`crate::store::StoreError::NoDirectory`]).
    ///
    /// # Errors
    /// When the directory cannot be created.
    pub fn prepare_default_database_dir(&self) -> std::io::Result<()> {
        use std::os::unix::fs::DirBuilderExt;
        if self.database != default_database() {
            return Ok(());
        }
        match self.database.parent().filter(|p| !p.as_os_str().is_empty() && !p.is_dir()) {
            Some(dir) => std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir),
            None => Ok(()),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database: default_database(),
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
                .map_err(|e| ConfigError { origin: origin.clone(), problems: vec![e.to_string()] })?;
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
        // Every setting that does not read, then every check of the rest,
        // each with the line or variable that set it.
        let (config, mut problems) = problems::extract_all::<Config>(figment);
        if let Some(config) = &config {
            problems.extend(config.validate().into_iter().map(|p| problems::locate(p, figment)));
        }
        match config {
            Some(config) if problems.is_empty() => Ok(config),
            _ => Err(ConfigError { origin, problems }),
        }
    }

    /// Every duration, count and size setting with its value and valid
    /// range (see [`Bounded`]), each section's in turn; list settings give
    /// one entry per element.
    pub fn bounded_settings(&self) -> Vec<Bounded> {
        let mut b = Bounds::default();
        self.tradier.bounds(&mut b);
        self.alpha_vantage.bounds(&mut b);
        self.sec.bounds(&mut b);
        self.tradier.body_bounds(&mut b);
        self.alpha_vantage.body_bounds(&mut b);
        self.analysis.bounds(&mut b);
        self.cache.bounds(&mut b);
        self.calendar.bounds(&mut b);
        self.backfill.bounds(&mut b);
        self.scan.bounds(&mut b);
        self.log.bounds(&mut b);
        self.timetable.bounds(&mut b);
        self.daemon.bounds(&mut b);
        self.housekeeping.bounds(&mut b);
        self.metrics.bounds(&mut b);
        self.alerts.bounds(&mut b);
        self.review.bounds(&mut b);
        self.calibration.bounds(&mut b);
        b.0
    }

    /// Checks the values that types alone do not; returns one message per
    /// problem: each section's own checks (next to its fields) and every
    /// setting out of its bounds.
    pub fn validate(&self) -> Vec<String> {
        let mut problems = self.tradier.problems();
        problems.extend(self.alpha_vantage.problems());
        problems.extend(self.bounded_settings().iter().filter_map(Bounded::problem));
        problems.extend(self.analysis.problems());
        problems.extend(self.timetable.problems());
        problems.extend(self.daemon.problems());
        problems.extend(self.metrics.problems());
        problems.extend(self.alerts.problems());
        problems.extend(self.calibration.problems());
        problems.extend(self.sec.problems());
        problems.extend(self.log.problems());
        problems
    }

    /// The effective configuration as TOML, secrets redacted.
    pub fn to_redacted_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render configuration: {e}\n"))
    }
}

#[cfg(test)]
// figment::Jail closures return figment::Error, whose size is figment's choice.
#[allow(clippy::result_large_err, reason = "figment::Jail's closures return figment::Error")]
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
                  from 1 to 86400 (bad.toml, line 2)"
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

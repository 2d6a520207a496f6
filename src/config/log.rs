//! `[log]`: tracing output, read by the command line's logging set-up.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

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

impl LogConfig {
    /// The bounds of its retention: 1 to 3,650 daily files.
    pub fn bounds(&self, b: &mut crate::settings::Bounds) {
        b.int("log.retention_days", self.retention_days, 1, 3650);
    }

    /// The problems bounds do not cover: a level that is not a tracing filter.
    pub fn problems(&self) -> Vec<String> {
        if tracing_subscriber::EnvFilter::try_new(&self.level).is_err() {
            vec![format!("log.level = {:?} is not a tracing filter (e.g. \"info\")", self.level)]
        } else {
            Vec::new()
        }
    }
}

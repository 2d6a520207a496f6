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

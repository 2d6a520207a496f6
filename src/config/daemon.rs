//! The daemon's own sections (`crate::daemon` sits above `config`):
//! `[daemon]` and `[metrics]`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

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

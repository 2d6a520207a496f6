//! The daemon's own sections (`crate::daemon` sits above `config`):
//! `[daemon]` and `[metrics]`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `[daemon]`: the `ivcd run` process.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DaemonConfig {
    /// The Unix socket on which the daemon serves its read-only status
    /// snapshot, and which `ivcd status` reads (default
    /// [`default_status_socket`]; the systemd setup uses
    /// `/run/ivcd/status.sock`).
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
        Self { status_socket: default_status_socket(), drain_timeout_seconds: 20, store_retry_minutes: 5 }
    }
}

/// The status socket a user gets without setting `daemon.status_socket`:
/// `ivcd.sock` in the user's runtime directory (`$XDG_RUNTIME_DIR/ivcd`),
/// else beside the default database (the XDG state directory), whatever the
/// working directory, so that `ivcd status` finds the daemon from any folder;
/// `ivcd.sock` in the working directory only without a home directory.
pub fn default_status_socket() -> PathBuf {
    directories::ProjectDirs::from("", "", "ivcd")
        .and_then(|dirs| dirs.runtime_dir().or_else(|| dirs.state_dir()).map(|d| d.join("ivcd.sock")))
        .unwrap_or_else(|| PathBuf::from("ivcd.sock"))
}

impl DaemonConfig {
    /// The bounds of its durations: a drain of 1 to 600 s, a store retry every 1 to 60 minutes.
    pub fn bounds(&self, b: &mut crate::settings::Bounds) {
        b.int("daemon.drain_timeout_seconds", self.drain_timeout_seconds, 1, 600);
        b.int("daemon.store_retry_minutes", self.store_retry_minutes, 1, 60);
    }

    /// Creates the directory of the default status socket
    /// ([`default_status_socket`]) when it is missing, for the user alone;
    /// a socket set in the configuration is left to the operator.
    ///
    /// # Errors
    /// When the directory cannot be created.
    pub fn prepare_default_socket_dir(&self) -> std::io::Result<()> {
        use std::os::unix::fs::DirBuilderExt;
        if self.status_socket != default_status_socket() {
            return Ok(());
        }
        match self.status_socket.parent().filter(|p| !p.as_os_str().is_empty() && !p.is_dir()) {
            Some(dir) => std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir),
            None => Ok(()),
        }
    }

    /// The problems bounds do not cover: an empty socket path.
    pub fn problems(&self) -> Vec<String> {
        if self.status_socket.as_os_str().is_empty() {
            vec!["daemon.status_socket must be a path".to_owned()]
        } else {
            Vec::new()
        }
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

impl MetricsConfig {
    /// The bounds of its interval: 10 to 300 s.
    pub fn bounds(&self, b: &mut crate::settings::Bounds) {
        b.int("metrics.interval_seconds", self.interval_seconds, 10, 300);
    }

    /// The problems bounds do not cover: a textfile node_exporter would not read.
    pub fn problems(&self) -> Vec<String> {
        match &self.textfile {
            Some(file) if !file.file_name().is_some_and(|n| n.to_string_lossy().ends_with(".prom")) => vec![
                "metrics.textfile must name a file ending in .prom (node_exporter's textfile collector reads only those)"
                    .to_owned(),
            ],
            _ => Vec::new(),
        }
    }
}

//! systemd's notification protocol (`Type=notify`): READY=1, STATUS=,
//! WATCHDOG=1 and STOPPING=1. Every call does nothing when the process was
//! not started by systemd (no `NOTIFY_SOCKET`).

use std::time::Duration;

use sd_notify::NotifyState;

/// The link to systemd's service manager, if there is one.
#[derive(Debug, Clone, Copy)]
pub struct Systemd {
    enabled: bool,
    watchdog: Option<Duration>,
}

impl Systemd {
    /// Reads `NOTIFY_SOCKET` and `WATCHDOG_USEC` from the environment.
    pub fn from_env() -> Self {
        Self { enabled: std::env::var_os("NOTIFY_SOCKET").is_some(), watchdog: sd_notify::watchdog_enabled() }
    }

    /// No service manager: every call is a no-op (tests, runs by hand).
    pub fn disabled() -> Self {
        Self { enabled: false, watchdog: None }
    }

    /// How often to send WATCHDOG=1: half of `WatchdogSec=`, when it is set.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog.map(|d| d / 2).filter(|d| !d.is_zero())
    }

    fn send(&self, state: &[NotifyState<'_>]) {
        if !self.enabled {
            return;
        }
        if let Err(e) = sd_notify::notify(state) {
            tracing::warn!(error = %e, "cannot notify systemd");
        }
    }

    /// READY=1 with a STATUS= line.
    pub fn ready(&self, status: &str) {
        self.send(&[NotifyState::Ready, NotifyState::Status(status)]);
    }

    /// STATUS= (shown by `systemctl status`).
    pub fn status(&self, status: &str) {
        self.send(&[NotifyState::Status(status)]);
    }

    /// WATCHDOG=1.
    pub fn watchdog(&self) {
        self.send(&[NotifyState::Watchdog]);
    }

    /// STOPPING=1.
    pub fn stopping(&self) {
        self.send(&[NotifyState::Stopping, NotifyState::Status("stopping: draining running jobs")]);
    }
}

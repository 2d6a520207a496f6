//! The stop: no new job; running jobs and the alert send in flight drain
//! until the drain ends, then what is left is stopped and marked, all
//! within `[daemon] drain_timeout_seconds` from the signal.

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::runner::Daemon;
use super::{Control, lock};
use crate::store::Store;

/// What the daemon's start left running besides the jobs, for the drain to stop.
pub(super) struct Background {
    /// `[daemon] drain_timeout_seconds` of the configuration at start.
    pub(super) drain: Duration,
    /// The store of the configuration at start (stopped runs are marked there).
    pub(super) store: Store,
    /// The status socket's server.
    pub(super) server: tokio::task::JoinHandle<()>,
    /// The metrics writer's own stop, fired after the drain.
    pub(super) metrics_stop: CancellationToken,
    /// The metrics writer.
    pub(super) metrics: tokio::task::JoinHandle<()>,
    /// The status socket's path, removed at the end.
    pub(super) socket_path: PathBuf,
}

/// Drains and stops the daemon after a [`Control::Shutdown`]; a second one
/// on `controls` ends the drain at once.
pub(super) async fn drain(
    mut daemon: Daemon,
    controls: &mut mpsc::UnboundedReceiver<Control>,
    background: Background,
) {
    let Background { drain, store, server, metrics_stop, metrics, socket_path } = background;
    let clock = daemon.options.clock.clone();
    let cancel = daemon.cancel.clone();
    // Shutdown, within the budget measured from the signal: no new job;
    // running jobs stop at their next ticker boundary and the alerts worker
    // after its send in flight, both until the drain ends; then what is left
    // is stopped and marked in the reserve, and the process exits.
    let budget = ShutdownBudget::from_signal(tokio::time::Instant::now(), drain);
    tracing::info!(running = daemon.tasks.len(), budget_seconds = drain.as_secs(), "shutting down");
    daemon.options.systemd.stopping();
    lock(&daemon.shared).info.stopping = true;
    // The alerts worker's token is a child of `cancel`: it stops with the jobs.
    cancel.cancel();
    daemon.outbox.0.cancel();
    let mut outbox_done = false;
    let mut forced = None;
    let drain_end = tokio::time::sleep_until(budget.drain_end);
    tokio::pin!(drain_end);
    while !daemon.tasks.is_empty() || !outbox_done {
        tokio::select! {
            Some(_) = daemon.tasks.join_next(), if !daemon.tasks.is_empty() => {}
            _ = &mut daemon.outbox.1, if !outbox_done => outbox_done = true,
            () = &mut drain_end => { forced = Some("the drain timeout passed"); break; }
            Some(Control::Shutdown) = controls.recv() => { forced = Some("a second stop signal came"); break; }
        }
    }
    if !outbox_done {
        // A delivery left `sending` is sent again when its lease runs out (docs/alerts.md).
        tracing::warn!(
            reason = forced,
            "stopping the alerts worker mid-send; the next start sends that alert again"
        );
        daemon.outbox.1.abort();
    }
    if !daemon.tasks.is_empty() {
        let why = forced.unwrap_or("the drain timeout passed");
        tracing::warn!(
            reason = why,
            running = daemon.tasks.len(),
            "stopping the running jobs without waiting"
        );
        daemon.tasks.abort_all();
        while daemon.tasks.join_next().await.is_some() {}
        let now = clock.now();
        let reason = format!("stopped before reaching a safe point ({why})");
        let marked =
            tokio::time::timeout_at(budget.end, store.run(move |db| db.interrupt_stale_runs(now, &reason)))
                .await;
        if !matches!(marked, Ok(Ok(_))) {
            tracing::error!(
                "cannot mark the stopped runs interrupted within the budget; the next start will"
            );
        }
    }
    if tokio::time::timeout_at(budget.end, daemon.alarms.shutdown()).await.is_err() {
        tracing::warn!("the alarm scheduler did not stop within the budget");
    }
    server.abort();
    // The metrics writer's last file says the daemon is down; a hung file
    // system does not hold the stop past the budget.
    metrics_stop.cancel();
    if tokio::time::timeout_at(budget.end, metrics).await.is_err() {
        tracing::warn!("the metrics file was not written at stop (its write outlasted the stop budget)");
    }
    let _ = std::fs::remove_file(&socket_path);
    tracing::info!(
        after_ms = u64::try_from(budget.signalled.elapsed().as_millis()).unwrap_or(u64::MAX),
        "stopped"
    );
}

/// The stop's time line, from the signal: jobs and the alert send in flight
/// drain until `drain_end`; the steps after it (stopping what is left,
/// marking runs interrupted, the last metrics file) end by `end`. The
/// process's own exit (`cli::main` gives the runtime [`RUNTIME_EXIT`]) fits
/// in what is left, so the whole stop takes at most `drain_timeout_seconds`.
#[derive(Debug, Clone, Copy)]
struct ShutdownBudget {
    signalled: tokio::time::Instant,
    drain_end: tokio::time::Instant,
    end: tokio::time::Instant,
}

/// The longest the async runtime may take to wind down after the daemon
/// returned (tasks still running on its blocking threads are abandoned, as a
/// kill would; SQLite keeps the database sound).
pub const RUNTIME_EXIT: Duration = Duration::from_millis(100);

impl ShutdownBudget {
    /// The reserve after the drain is a quarter of the budget, at most one
    /// second; the steps in it end half-way through it, the rest is for
    /// [`RUNTIME_EXIT`].
    fn from_signal(signalled: tokio::time::Instant, budget: Duration) -> Self {
        let reserve = (budget / 4).min(Duration::from_secs(1));
        Self { signalled, drain_end: signalled + budget - reserve, end: signalled + budget - reserve / 2 }
    }
}

//! The `[metrics] textfile` writer: the daemon's Prometheus metrics written
//! to a file for node_exporter's textfile collector.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::socket::snapshot;
use super::{Shared, lock};
use crate::clock::Clock;

/// With `[metrics] textfile`, writes the Prometheus metrics there every
/// `interval_seconds` and after each job or reload (`jobs_done` changes),
/// re-reading the setting each time. When `cancel` fires (after the drain)
/// it writes the file once more with `ivcd_up 0` and no next runs, so a
/// stopped daemon does not look alive. A failed write is logged (once per distinct error) and retried at
/// the next tick.
pub(super) async fn write_metrics(
    shared: Arc<Mutex<Shared>>,
    clock: Arc<dyn Clock>,
    cancel: CancellationToken,
    mut jobs_done: tokio::sync::watch::Receiver<u64>,
) {
    let mut last_error: Option<String> = None;
    loop {
        let config = lock(&shared).context.config.metrics.clone();
        let stopping = cancel.is_cancelled();
        let wants_ticks = config.textfile.is_some();
        if let Some(path) = config.textfile {
            let ctx = lock(&shared).context.clone();
            let mut report = snapshot(&shared, clock.now()).await;
            if stopping {
                report.daemon = None;
                report.providers.clear();
                for job in &mut report.jobs {
                    job.next_run = None;
                    job.running = None;
                }
            }
            let started = report.daemon.as_ref().map(|d| d.started_at);
            let facts = crate::metrics::store_facts(&ctx.store, started).await.ok();
            let text = crate::metrics::render(&report, facts.as_ref());
            let written = tokio::task::spawn_blocking({
                let path = path.clone();
                move || crate::metrics::write_textfile(&path, &text)
            })
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(|r| r);
            match written {
                Ok(()) => last_error = None,
                Err(e) => {
                    let message = e.to_string();
                    if last_error.as_ref() != Some(&message) {
                        tracing::warn!(error = %message, "cannot write the metrics file; trying again at the next tick");
                    }
                    last_error = Some(message);
                }
            }
        }
        if stopping {
            return;
        }
        // Without a file, no timer: the next job (or a reload followed by
        // one) re-reads the setting.
        let tick = Duration::from_secs(config.interval_seconds.max(1));
        tokio::select! {
            () = cancel.cancelled() => {}
            () = tokio::time::sleep(tick), if wants_ticks => {}
            changed = jobs_done.changed() => if changed.is_err() {
                // The daemon dropped its waker: it is stopping.
                cancel.cancelled().await;
            },
        }
    }
}

//! The status socket's server: the daemon's status report to every client
//! that connects (the socket is write-only: nothing is read from a client).

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::{Shared, lock, timetable_of};
use crate::clock::Clock;
use crate::status::{self, Live};

/// Serves the status snapshot to every client that connects, until cancelled.
pub(super) async fn serve_status(
    listener: tokio::net::UnixListener,
    shared: Arc<Mutex<Shared>>,
    clock: Arc<dyn Clock>,
    cancel: CancellationToken,
) {
    loop {
        let stream = tokio::select! {
            () = cancel.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "status socket: accept failed");
                    continue;
                }
            },
        };
        let shared = shared.clone();
        let clock = clock.clone();
        tokio::spawn(async move {
            let report = snapshot(&shared, clock.now()).await;
            if let Err(e) = status::send(stream, &report).await {
                tracing::debug!(error = %e, "status socket: client went away");
            }
        });
    }
}

/// The daemon's status report now.
pub(super) async fn snapshot(shared: &Mutex<Shared>, now: DateTime<Utc>) -> status::StatusReport {
    let (info, ctx) = {
        let s = lock(shared);
        (s.info.clone(), s.context.clone())
    };
    let timetable = timetable_of(&ctx);
    let live = Live { daemon: info, providers: ctx.providers.health.iter().map(|h| h.snapshot()).collect() };
    status::build(Some(&ctx.store), ctx.store.path(), None, &timetable, now, Some(live)).await
}

//! `ivcd run`: the daemon. It keeps the timetable (see [`crate::timetable`])
//! armed, runs each slot's job, catches up missed slots on start, serves
//! `ivcd status`, reloads its configuration on SIGHUP and drains on SIGTERM.
//!
//! The composition root is [`run`]: it takes its controls (shutdown,
//! reload) as a channel, so `main` feeds it signals and the tests feed it
//! messages; the tests run this same function in-process on a simulated
//! clock.
//!
//! One loop owns all the daemon's state; job runs are tasks in a `JoinSet`
//! that the loop joins. Per job, one run at a time: a slot that fires while
//! its job still runs is recorded as skipped. A slot is settled once a run
//! of it finished `ok` (or it was deliberately skipped): re-running it does
//! nothing, and the jobs themselves replace what an earlier run of the same
//! slot stored, so nothing is ever duplicated.
//!
//! A job the database refused (locked, full, read-only) is kept in the
//! status as `store_trouble` and its slot runs again every
//! `[daemon] store_retry_minutes` while the slot's window is open.
//!
//! This file is the start ([`run`]: compose, catch-up plan, arming) and the
//! loop; `runner.rs` the timetable runner (arming, dispatch, retries,
//! catch-up, reload), `socket.rs` the status socket, `metrics_file.rs` the
//! `[metrics] textfile` writer, `drain.rs` the stop, `exchange_calendar.rs`
//! the exchange's calendar.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::alert::outbox::{Outbox, Waker};
use crate::clock::Clock;
use crate::config::Config;
use crate::jobs::JobContext;
use crate::providers::tradier::client::TradierClient;
use crate::status::{self, DaemonInfo};
use crate::store::DatabaseLock;
use crate::timetable::Timetable;

pub mod alarms;
mod drain;
mod exchange_calendar;
mod metrics_file;
pub mod notify;
mod runner;
pub mod signals;
mod socket;

use alarms::{AlarmKind, Alarms};
pub use drain::RUNTIME_EXIT;
pub use exchange_calendar::{calendar_from_store, check_exchange_calendar};
use metrics_file::write_metrics;
use notify::Systemd;
use runner::{Daemon, plan_catch_up};
use socket::serve_status;

/// A message to the daemon's loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Stop: no new job starts, running jobs drain; a second one stops at once.
    Shutdown,
    /// Re-read the configuration file; keep the old one if the new is invalid.
    Reload,
}

/// Builds a job context (store, providers, clock) from a configuration;
/// the daemon calls it on start and on every reload.
pub type Compose = dyn Fn(&Config, Arc<dyn Clock>) -> Result<Composed> + Send + Sync;

/// What [`Compose`] builds.
pub struct Composed {
    /// The job context (its calendar is replaced by the daemon's).
    pub context: JobContext,
    /// The Tradier client, when configured: the exchange's calendar comes from it.
    pub tradier: Option<Arc<TradierClient>>,
    /// The alerts' delivery worker for the configured channels.
    pub outbox: Arc<Outbox>,
}

/// Everything the daemon is started with.
pub struct Options {
    /// The configuration in force at start.
    pub config: Config,
    /// The file it came from (re-read on reload), if any.
    pub config_file: Option<PathBuf>,
    /// Loads the configuration again (on SIGHUP).
    pub reload: Box<dyn Fn() -> Result<Config, crate::config::ConfigError> + Send + Sync>,
    /// Builds the job context from a configuration.
    pub compose: Box<Compose>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// The alarm backend.
    pub alarms: AlarmKind,
    /// systemd's notification socket.
    pub systemd: Systemd,
}

/// What the status server reads; only the daemon's loop writes it.
struct Shared {
    info: DaemonInfo,
    /// The jobs' context; its configuration and calendar make the timetable.
    context: Arc<JobContext>,
}

/// The timetable of a job context: its `[timetable]` over its calendar.
fn timetable_of(ctx: &JobContext) -> Timetable {
    Timetable::new(ctx.config.timetable.clone(), ctx.calendar.clone())
}

fn lock(shared: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// Spawns the alerts worker; it stops when `parent` (the daemon) or its own token is cancelled.
fn spawn_outbox(
    outbox: Arc<Outbox>,
    parent: &CancellationToken,
    waker: &Waker,
) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let token = parent.child_token();
    let names: Vec<&str> = outbox.channels().iter().map(|c| c.name()).collect();
    tracing::info!(channels = ?names, "alerts worker started");
    let handle = tokio::spawn(outbox.run(token.clone(), waker.subscribe()));
    (token, handle)
}

/// Runs the daemon until a [`Control::Shutdown`] (or the controls channel
/// closes): arms the timetable, catches up, serves the status socket, runs
/// the slots, and drains on shutdown.
///
/// # Errors
/// Start-up failures only: the store cannot be opened, the status socket
/// is taken, the alarm scheduler does not start. Once running, job failures
/// are recorded and logged, never returned.
pub async fn run(options: Options, mut controls: mpsc::UnboundedReceiver<Control>) -> Result<()> {
    let clock = options.clock.clone();
    let started_at = clock.now();
    tracing::info!(
        pid = std::process::id(),
        version = %*crate::VERSION,
        database = %options.config.database.display(),
        "starting"
    );
    // One daemon per database, and no daemon beside a command that writes:
    // the lock comes before any row is read or written, and is held until
    // the process ends. A second daemon stops here, having changed nothing.
    let _database_lock = DatabaseLock::acquire(&options.config.database, "ivcd run")?;
    let composed = (options.compose)(&options.config, clock.clone())?;
    let mut context = composed.context;
    let cancel = CancellationToken::new();
    context.cancel = cancel.clone();
    let store = context.store.clone();

    let stale = store
        .run(move |db| db.interrupt_stale_runs(started_at, "the daemon stopped before the run finished"))
        .await?;
    if stale > 0 {
        tracing::warn!(runs = stale, "runs left unfinished by the previous process were marked interrupted");
    }
    // The exchange's calendar may take a while (a slow or failing Tradier,
    // its retries): a stop signal meanwhile ends the start at once. A reload
    // asked for meanwhile is applied once the loop runs.
    let mut reload_asked = false;
    if let Some(t) = &composed.tradier {
        let check = check_exchange_calendar(t, &store, started_at);
        tokio::pin!(check);
        loop {
            tokio::select! {
                () = &mut check => break,
                control = controls.recv() => match control {
                    Some(Control::Reload) => reload_asked = true,
                    Some(Control::Shutdown) | None => {
                        tracing::info!("stopped during the start");
                        return Ok(());
                    }
                },
            }
        }
    }
    context.calendar = calendar_from_store(&store).await?;
    let timetable = timetable_of(&context);

    let listener = status::bind(&options.config.daemon.status_socket).await?;
    let (ring_tx, mut ring) = mpsc::unbounded_channel();
    let alarms = Alarms::new(options.alarms, clock.clone(), ring_tx)
        .await
        .context("cannot start the alarm scheduler")?;

    let shared = Arc::new(Mutex::new(Shared {
        info: DaemonInfo {
            pid: std::process::id(),
            version: crate::VERSION.clone(),
            started_at,
            config_file: options.config_file.as_ref().map(|p| p.display().to_string()),
            last_reload: None,
            stopping: false,
            skipped_slots: Vec::new(),
            store_trouble: None,
        },
        context: Arc::new(context),
    }));
    let server = tokio::spawn(serve_status(listener, shared.clone(), clock.clone(), cancel.clone()));

    let (waker, _) = Waker::new();
    let outbox = spawn_outbox(composed.outbox, &cancel, &waker);
    // The metrics writer has its own stop, fired after the drain: its last
    // file then has the drained jobs' outcomes, with `ivcd_up 0`.
    let metrics_stop = CancellationToken::new();
    let metrics =
        tokio::spawn(write_metrics(shared.clone(), clock.clone(), metrics_stop.clone(), waker.subscribe()));
    let drain = Duration::from_secs(options.config.daemon.drain_timeout_seconds);
    let socket_path = options.config.daemon.status_socket.clone();
    let mut daemon = Daemon {
        options,
        shared,
        alarms,
        armed: HashSet::new(),
        dispatched: HashSet::new(),
        running: BTreeMap::new(),
        tasks: JoinSet::new(),
        retries: JoinSet::new(),
        tradier: composed.tradier,
        cancel: cancel.clone(),
        outbox,
        waker,
    };

    // Missed slots are all at or before the start and the alarms all after
    // it, so no slot is both caught up and armed.
    let (catch_up, skipped) = match timetable.catch_up() {
        Some(days) => plan_catch_up(&store, &timetable, started_at, days).await?,
        None => (Vec::new(), Vec::new()),
    };
    daemon.arm().await;
    let line = daemon.status_line();
    daemon.options.systemd.ready(&line);
    tracing::info!(slots_armed = daemon.armed.len(), status = %line, "timetable armed");
    for s in skipped {
        daemon.skip(s.slot, s.reason).await;
    }
    daemon.spawn_catch_up(catch_up);

    if reload_asked {
        daemon.reload().await;
    }
    let mut watchdog = daemon.options.systemd.watchdog_interval().map(tokio::time::interval);
    loop {
        tokio::select! {
            control = controls.recv() => match control {
                Some(Control::Reload) => daemon.reload().await,
                Some(Control::Shutdown) | None => break,
            },
            Some(slot) = ring.recv() => daemon.dispatch(slot).await,
            Some(Ok(slot)) = daemon.retries.join_next() => daemon.retry(slot),
            Some(done) = daemon.tasks.join_next() => match done {
                Ok(finished) => daemon.finished(finished).await,
                Err(e) => {
                    tracing::error!(error = %e, "a job task panicked");
                    daemon.running.clear();
                    daemon.arm().await;
                }
            },
            _ = async {
                match watchdog.as_mut() {
                    Some(w) => w.tick().await,
                    None => std::future::pending().await,
                }
            }, if watchdog.is_some() => {
                daemon.options.systemd.watchdog();
            }
        }
    }

    drain::drain(
        daemon,
        &mut controls,
        drain::Background { drain, store, server, metrics_stop, metrics, socket_path },
    )
    .await;
    Ok(())
}

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

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::alert::outbox::{Outbox, Waker};
use crate::calendar::NyseCalendar;
use crate::clock::Clock;
use crate::config::Config;
use crate::jobs::{self, JobContext};
use crate::providers::tradier::client::TradierClient;
use crate::status::{self, DaemonInfo, Live, Reload, SkippedSlot, StoreTrouble};
use crate::store::{DatabaseLock, Store};
use crate::timetable::{Job, Slot, Timetable};

pub mod alarms;
pub mod notify;
pub mod signals;

use alarms::{AlarmKind, Alarms};
use notify::Systemd;

/// How far ahead the daemon arms alarms. Every day has refresh slots at
/// most about 13 hours apart, and the daemon re-arms after every slot, so
/// 36 hours always covers the next slots.
const ARM_HORIZON: chrono::Duration = crate::time::hours(36);

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

/// The calendar: the rules with the exchange's overrides stored in `store` applied.
///
/// # Errors
/// When the overrides cannot be read.
pub async fn calendar_from_store(store: &Store) -> Result<NyseCalendar> {
    let overrides = store.run(|db| db.calendar_overrides()).await?;
    let mut calendar = NyseCalendar::new();
    for o in overrides {
        if let Err(e) = calendar.with_override(o.date, o.exchange) {
            tracing::warn!(error = %e, "ignoring a stored calendar override");
        }
    }
    Ok(calendar)
}

/// Reads the exchange's calendar (Tradier `/v1/markets/calendar`) for this
/// month and the next two, stores the days that disagree with the rules,
/// and logs each. A month that cannot be read keeps what was stored for it.
pub async fn check_exchange_calendar(tradier: &TradierClient, store: &Store, now: DateTime<Utc>) {
    let today = crate::time::et_date(now);
    let first = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap_or(today);
    for month in (0..3).filter_map(|i| first.checked_add_months(chrono::Months::new(i))) {
        let days = match tradier.market_calendar(month.year(), month.month()).await {
            Ok(days) => days,
            Err(e) => {
                tracing::warn!(error = %e, month = %month.format("%Y-%m"), "cannot read the exchange's calendar; the rules are used for that month");
                continue;
            }
        };
        let rows: Vec<_> = days
            .iter()
            .filter_map(|d| {
                let rules = NyseCalendar::rule_based_session(d.date).map(|s| (s.open.time(), s.close.time()));
                (rules != d.open).then_some((d.date, d.open, rules))
            })
            .collect();
        for (date, exchange, rules) in &rows {
            tracing::warn!(%date, exchange = ?exchange, rules = ?rules, "the exchange's calendar disagrees with the rules; the exchange's answer is used");
        }
        if let (Some(first), Some(last)) =
            (days.iter().map(|d| d.date).min(), days.iter().map(|d| d.date).max())
            && let Err(e) = store
                .run(move |db| {
                    db.replace_calendar_overrides(first, last, &rows, "tradier:/v1/markets/calendar", now)
                })
                .await
        {
            tracing::error!(error = %e, "cannot store the exchange's calendar");
        }
    }
}

/// The outcome of one task (a slot, or the catch-up's slots), for the loop.
struct Finished {
    slots: Vec<Slot>,
    /// Whether the run changed the calendar (a refresh re-reads the exchange's).
    calendar_checked: bool,
    /// The database's refusals, one per slot whose job failed on it.
    refused: Vec<StoreTrouble>,
    /// Whether the last slot run was refused (the database is in trouble
    /// now); `false` when it reached the database.
    last_refused: bool,
}

impl Finished {
    fn nothing(slot: Slot) -> Self {
        Finished { slots: vec![slot], calendar_checked: false, refused: Vec::new(), last_refused: false }
    }
}

/// Which attempt at a slot a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attempt {
    /// The slot's own run (at its alarm, or caught up at start).
    Scheduled,
    /// A run again after the database refused the slot
    /// (`[daemon] store_retry_minutes` later).
    AfterRefusal,
}

/// Runs one slot: waits for its exact instant (an alarm may ring a little
/// early), skips it if already settled, then runs its job as a recorded run.
/// A run [`Attempt::AfterRefusal`] first marks the refused attempt's
/// unfinished run interrupted.
async fn run_slot(
    ctx: Arc<JobContext>,
    tradier: Option<Arc<TradierClient>>,
    slot: Slot,
    attempt: Attempt,
) -> Finished {
    tokio::select! {
        () = ctx.cancel.cancelled() => return Finished::nothing(slot),
        () = ctx.clock.sleep_until(slot.at) => {}
    }
    let name = slot.job.name();
    match ctx.store.run(move |db| db.slot_settled(name, slot.at)).await {
        Ok(true) => {
            tracing::info!(job = name, slot = %slot.at, "slot already done; not run again");
            return Finished::nothing(slot);
        }
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, "cannot look up the slot; running it"),
    }
    if attempt == Attempt::AfterRefusal {
        tracing::info!(job = name, slot = %slot.at, "running again the slot the database refused");
        let now = ctx.clock.now();
        let reason = "the database refused the run; the daemon ran the slot again";
        if let Err(e) = ctx.store.run(move |db| db.interrupt_slot_runs(name, slot.at, now, reason)).await {
            tracing::warn!(error = %e, "cannot mark the refused run interrupted");
        }
    }
    let ctx = ctx.as_ref();
    // Each job records its own failure; the daemon only keeps going. A
    // failure of the database itself may not be recordable there, so it is
    // also kept in the daemon's state for `ivcd status`.
    let mut calendar_checked = false;
    let error = match slot.job {
        Job::RefreshCalendar => {
            let result = jobs::run_refresh(ctx, slot.at).await.err();
            if let Some(t) = &tradier {
                // A stop ends the check at once (the months stored so far are kept).
                tokio::select! {
                    () = ctx.cancel.cancelled() => {}
                    () = check_exchange_calendar(t, &ctx.store, ctx.clock.now()) => calendar_checked = true,
                }
            }
            result
        }
        Job::Backfill => jobs::run_backfill(ctx, slot.at, Vec::new(), &|_, _, _| {}).await.err(),
        Job::Scan => jobs::run_scan(ctx, slot.at).await.err(),
        Job::Review => jobs::run_review(ctx, slot.at).await.err(),
        Job::Housekeeping => jobs::run_housekeeping(ctx, slot.at).await.err(),
    };
    let refused: Vec<StoreTrouble> = match error {
        Some(jobs::JobError::Store(e)) => {
            vec![StoreTrouble { at: ctx.clock.now(), slot, message: e.to_string(), retry_at: None }]
        }
        _ => Vec::new(),
    };
    let last_refused = !refused.is_empty();
    Finished { slots: vec![slot], calendar_checked, refused, last_refused }
}

/// The catch-up plan at start: per job, the missed slots since its last
/// recorded slot (at most `lookback_days` back). The latest missed slot of
/// each job runs if its window is still open; the others are recorded as
/// skipped. A job that never ran only considers its latest slot, and records
/// nothing when that slot's window has closed (a fresh install is not a
/// problem).
async fn plan_catch_up(
    store: &Store,
    timetable: &Timetable,
    now: DateTime<Utc>,
    lookback_days: u32,
) -> Result<(Vec<Slot>, Vec<SkippedSlot>)> {
    let mut to_run = Vec::new();
    let mut skipped = Vec::new();
    let lookback = now - crate::time::days(u64::from(lookback_days));
    for job in Job::ALL {
        let name = job.name();
        let last = store.run(move |db| db.last_recorded_slot(name)).await?;
        let since = last.map_or(lookback, |l| l.max(lookback));
        let mut missed = Vec::new();
        // `since` itself is included: its run may have failed or been interrupted.
        for slot in
            timetable.slots_between(since - crate::time::seconds(1), now).into_iter().filter(|s| s.job == job)
        {
            let at = slot.at;
            if !store.run(move |db| db.slot_settled(name, at)).await? {
                missed.push(slot);
            }
        }
        if last.is_none() {
            missed = missed.split_off(missed.len().saturating_sub(1));
        }
        let Some(latest) = missed.pop() else { continue };
        for slot in missed {
            skipped.push(SkippedSlot {
                slot,
                reason: format!(
                    "missed while the daemon was down; superseded by the {} slot",
                    crate::time::et(latest.at).format("%a %m-%d %H:%M %Z")
                ),
            });
        }
        match timetable.catch_up_deadline(&latest) {
            Some(deadline) if now >= deadline => {
                if last.is_some() {
                    skipped.push(SkippedSlot {
                        slot: latest,
                        reason: format!(
                            "missed while the daemon was down; its window closed at {}",
                            crate::time::et(deadline).format("%H:%M %Z")
                        ),
                    });
                }
            }
            _ => to_run.push(latest),
        }
    }
    to_run.sort();
    Ok((to_run, skipped))
}

/// The daemon's loop and its state.
struct Daemon {
    options: Options,
    shared: Arc<Mutex<Shared>>,
    alarms: Alarms,
    armed: HashSet<Slot>,
    /// Slots handed to a task (so a re-arm never runs one twice).
    dispatched: HashSet<Slot>,
    running: BTreeMap<Job, Slot>,
    tasks: JoinSet<Finished>,
    /// Timers of the slots the database refused: each yields its slot when
    /// it is due to run again.
    retries: JoinSet<Slot>,
    tradier: Option<Arc<TradierClient>>,
    cancel: CancellationToken,
    /// The running alerts worker: its stop token and task.
    outbox: (CancellationToken, tokio::task::JoinHandle<()>),
    /// Wakes the alerts worker after a job stored something.
    waker: Waker,
}

impl Daemon {
    fn context(&self) -> Arc<JobContext> {
        lock(&self.shared).context.clone()
    }

    fn timetable(&self) -> Timetable {
        timetable_of(&self.context())
    }

    /// Arms every slot due within the horizon that is not armed yet.
    async fn arm(&mut self) {
        let now = self.options.clock.now();
        let timetable = self.timetable();
        for slot in timetable.slots_between(now, now + ARM_HORIZON) {
            if self.armed.contains(&slot) || self.dispatched.contains(&slot) {
                continue;
            }
            match self.alarms.arm(slot).await {
                Ok(()) => {
                    self.armed.insert(slot);
                }
                Err(e) => tracing::error!(error = %e, %slot, "cannot arm the slot"),
            }
        }
        // Forget what is long past.
        let horizon = now - crate::time::days(2);
        self.dispatched.retain(|s| s.at > horizon);
        self.armed.retain(|s| s.at > horizon);
        self.announce();
    }

    async fn rearm(&mut self) {
        self.alarms.disarm_all().await;
        self.armed.clear();
        self.arm().await;
    }

    /// What the daemon is doing, in a line: the jobs running and the next slot.
    fn status_line(&self) -> String {
        let now = self.options.clock.now();
        let next = self.timetable().slots_between(now, now + ARM_HORIZON).into_iter().next();
        let running: Vec<&str> = self.running.keys().map(|j| j.name()).collect();
        let line = match next {
            Some(s) => format!("next: {s}"),
            None => "no slot in the next 36 hours".to_owned(),
        };
        if running.is_empty() { line } else { format!("running: {}; {line}", running.join(", ")) }
    }

    /// STATUS= for systemctl.
    fn announce(&self) {
        self.options.systemd.status(&self.status_line());
    }

    async fn skip(&mut self, slot: Slot, reason: String) {
        tracing::warn!(job = slot.job.name(), slot = %slot.at, reason = %reason, "slot skipped");
        let store = self.context().store.clone();
        let now = self.options.clock.now();
        let (name, at, text) = (slot.job.name(), slot.at, reason.clone());
        if let Err(e) = store.run(move |db| db.record_skipped(name, at, &text, now)).await {
            tracing::error!(error = %e, "cannot record the skipped slot");
        }
        lock(&self.shared).info.skipped_slots.push(SkippedSlot { slot, reason });
    }

    /// Starts `slot`'s job unless that job is already running.
    async fn dispatch(&mut self, slot: Slot) {
        self.armed.remove(&slot);
        if !self.dispatched.insert(slot) || self.cancel.is_cancelled() {
            return;
        }
        if let Some(previous) = self.running.get(&slot.job) {
            let reason = format!(
                "the {} run of this job was still running",
                crate::time::et(previous.at).format("%a %m-%d %H:%M %Z")
            );
            self.skip(slot, reason).await;
            return;
        }
        self.running.insert(slot.job, slot);
        let ctx = self.context();
        self.tasks.spawn(run_slot(ctx, self.tradier.clone(), slot, Attempt::Scheduled));
        self.announce();
    }

    /// Runs again a slot the database refused, unless its job is running
    /// (a later slot of the job, which does its work).
    fn retry(&mut self, slot: Slot) {
        if self.cancel.is_cancelled() {
            return;
        }
        if let Some(running) = self.running.get(&slot.job) {
            tracing::info!(job = slot.job.name(), slot = %slot.at, running = %running.at, "not retrying the refused slot: its job is running");
            return;
        }
        self.running.insert(slot.job, slot);
        let ctx = self.context();
        self.tasks.spawn(run_slot(ctx, self.tradier.clone(), slot, Attempt::AfterRefusal));
        self.announce();
    }

    /// When to run again `slot`, which the database refused at `now`:
    /// `[daemon] store_retry_minutes` later, if that is before the end of
    /// the slot's window (a scan's close, a review's deadline, or else the
    /// job's next slot). Arms the timer.
    fn schedule_retry(&mut self, slot: Slot, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let ctx = self.context();
        let at = now + crate::time::minutes(u64::from(ctx.config.daemon.store_retry_minutes));
        let timetable = timetable_of(&ctx);
        let window_end = timetable.catch_up_deadline(&slot).or_else(|| {
            timetable
                .slots_between(slot.at, slot.at + crate::time::days(8))
                .into_iter()
                .find(|s| s.job == slot.job)
                .map(|s| s.at)
        });
        if window_end.is_some_and(|end| at >= end) {
            tracing::warn!(job = slot.job.name(), slot = %slot.at, "the database refused the slot and its window closes before a retry");
            return None;
        }
        tracing::warn!(job = slot.job.name(), slot = %slot.at, retry_at = %at, "the database refused the slot; it runs again later");
        let clock = ctx.clock.clone();
        self.retries.spawn(async move {
            clock.sleep_until(at).await;
            slot
        });
        Some(at)
    }

    /// Starts the alerts worker for `outbox`, stopping the one running (which
    /// finishes its send in flight; a claimed delivery is never sent twice).
    fn restart_outbox(&mut self, outbox: Arc<Outbox>) {
        self.outbox.0.cancel();
        self.outbox = spawn_outbox(outbox, &self.cancel, &self.waker);
    }

    async fn finished(&mut self, finished: Finished) {
        let now = self.options.clock.now();
        let mut refused = finished.refused;
        for trouble in &mut refused {
            trouble.retry_at = self.schedule_retry(trouble.slot, now);
        }
        // The latest outcome says whether the database is in trouble: a job
        // that reached it clears the entry.
        lock(&self.shared).info.store_trouble = if finished.last_refused { refused.pop() } else { None };
        // The alerts worker and the metrics writer: after the state above is set.
        self.waker.wake();
        for slot in &finished.slots {
            if self.running.get(&slot.job) == Some(slot) {
                self.running.remove(&slot.job);
            }
        }
        if finished.calendar_checked {
            self.apply_calendar().await;
        }
        self.arm().await;
    }

    /// Re-reads the stored exchange overrides into the timetable; re-arms when they changed.
    async fn apply_calendar(&mut self) {
        let store = self.context().store.clone();
        match calendar_from_store(&store).await {
            Ok(calendar) => {
                let changed = {
                    let mut shared = lock(&self.shared);
                    let changed = shared.context.calendar.overrides() != calendar.overrides();
                    if changed {
                        let mut ctx = (*shared.context).clone();
                        ctx.calendar = calendar;
                        shared.context = Arc::new(ctx);
                    }
                    changed
                };
                if changed {
                    tracing::info!("the exchange's calendar changed the timetable; re-arming");
                    self.rearm().await;
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot read the calendar overrides"),
        }
    }

    /// SIGHUP: load the file again; apply it whole, or keep the old configuration.
    async fn reload(&mut self) {
        let now = self.options.clock.now();
        let locked = self.options.config.database.clone();
        let result = (self.options.reload)().map_err(|e| e.to_string()).and_then(|config| {
            // The lock is the started database's: another takes a restart.
            if config.database != locked {
                return Err(format!(
                    "database changed from {} to {}: the database takes effect at the next restart",
                    locked.display(),
                    config.database.display()
                ));
            }
            (self.options.compose)(&config, self.options.clock.clone()).map_err(|e| format!("{e:#}"))
        });
        match result {
            Ok(composed) => {
                {
                    let mut shared = lock(&self.shared);
                    let mut ctx = composed.context;
                    ctx.calendar = shared.context.calendar.clone();
                    ctx.cancel = self.cancel.clone();
                    shared.context = Arc::new(ctx);
                    shared.info.last_reload = Some(Reload { at: now, error: None });
                }
                self.tradier = composed.tradier;
                self.restart_outbox(composed.outbox);
                tracing::info!("configuration reloaded");
                // The metrics writer re-reads `[metrics]` (and the alerts worker its channels).
                self.waker.wake();
                self.rearm().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "the new configuration was rejected; the previous one stays in force");
                lock(&self.shared).info.last_reload = Some(Reload { at: now, error: Some(e) });
            }
        }
    }

    /// Runs the caught-up slots one after another, oldest first, as one task.
    fn spawn_catch_up(&mut self, slots: Vec<Slot>) {
        if slots.is_empty() {
            return;
        }
        for s in &slots {
            tracing::info!(job = s.job.name(), slot = %s.at, "catching up a missed slot");
        }
        let ctx = self.context();
        let tradier = self.tradier.clone();
        // Marks the catch-up's jobs as running so a firing slot of the same job is not run beside it.
        for s in &slots {
            self.running.insert(s.job, *s);
        }
        self.tasks.spawn(async move {
            let mut calendar_checked = false;
            let mut refused = Vec::new();
            let mut last_refused = false;
            for slot in slots.iter().copied() {
                if ctx.cancel.is_cancelled() {
                    break;
                }
                let one = run_slot(ctx.clone(), tradier.clone(), slot, Attempt::Scheduled).await;
                calendar_checked |= one.calendar_checked;
                last_refused = one.last_refused;
                refused.extend(one.refused);
            }
            Finished { slots, calendar_checked, refused, last_refused }
        });
    }
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
    Ok(())
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

/// Serves the status snapshot to every client that connects, until cancelled.
async fn serve_status(
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

/// With `[metrics] textfile`, writes the Prometheus metrics there every
/// `interval_seconds` and after each job or reload (`jobs_done` changes),
/// re-reading the setting each time. When `cancel` fires (after the drain)
/// it writes the file once more with `ivcd_up 0` and no next runs, so a
/// stopped daemon does not look alive. A failed write is logged (once per distinct error) and retried at
/// the next tick.
async fn write_metrics(
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

/// The daemon's status report now.
async fn snapshot(shared: &Mutex<Shared>, now: DateTime<Utc>) -> status::StatusReport {
    let (info, ctx) = {
        let s = lock(shared);
        (s.info.clone(), s.context.clone())
    };
    let timetable = timetable_of(&ctx);
    let live = Live { daemon: info, providers: ctx.providers.health.iter().map(|h| h.snapshot()).collect() };
    status::build(Some(&ctx.store), ctx.store.path(), None, &timetable, now, Some(live)).await
}

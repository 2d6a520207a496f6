//! The timetable runner: the daemon's loop state ([`Daemon`]), which arms
//! the slots, dispatches each to its job (one run per job at a time), runs
//! again a slot the database refused, catches up missed slots on start,
//! applies the exchange's calendar and reloads the configuration.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use anyhow::Result;
use chrono::{DateTime, Utc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::alarms::Alarms;
use super::exchange_calendar::{calendar_from_store, check_exchange_calendar};
use super::{Options, Shared, lock, spawn_outbox, timetable_of};
use crate::alert::outbox::{Outbox, Waker};
use crate::jobs::{self, JobContext};
use crate::providers::tradier::client::TradierClient;
use crate::status::{Reload, SkippedSlot, StoreTrouble};
use crate::store::Store;
use crate::timetable::{Job, Slot, Timetable};

/// How far ahead the daemon arms alarms. Every day has refresh slots at
/// most about 13 hours apart, and the daemon re-arms after every slot, so
/// 36 hours always covers the next slots.
const ARM_HORIZON: chrono::Duration = crate::time::hours(36);

/// The outcome of one task (a slot, or the catch-up's slots), for the loop.
pub(super) struct Finished {
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
pub(super) enum Attempt {
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
/// problem). The slots to run come in time order, the calendar's refresh
/// first.
pub(super) async fn plan_catch_up(
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
    // In time order, but the calendar's refresh first: a backfill or a scan
    // caught up after it works on the newest calendar (on a new database,
    // the one there is).
    to_run.sort_by_key(|s| (s.job != Job::RefreshCalendar, s.at));
    Ok((to_run, skipped))
}

/// The daemon's loop and its state.
pub(super) struct Daemon {
    pub(super) options: Options,
    pub(super) shared: Arc<Mutex<Shared>>,
    pub(super) alarms: Alarms,
    pub(super) armed: HashSet<Slot>,
    /// Slots handed to a task (so a re-arm never runs one twice).
    pub(super) dispatched: HashSet<Slot>,
    pub(super) running: BTreeMap<Job, Slot>,
    pub(super) tasks: JoinSet<Finished>,
    /// Timers of the slots the database refused: each yields its slot when
    /// it is due to run again.
    pub(super) retries: JoinSet<Slot>,
    pub(super) tradier: Option<Arc<TradierClient>>,
    pub(super) cancel: CancellationToken,
    /// The running alerts worker: its stop token and task.
    pub(super) outbox: (CancellationToken, tokio::task::JoinHandle<()>),
    /// Wakes the alerts worker after a job stored something.
    pub(super) waker: Waker,
}

impl Daemon {
    pub(super) fn context(&self) -> Arc<JobContext> {
        lock(&self.shared).context.clone()
    }

    pub(super) fn timetable(&self) -> Timetable {
        timetable_of(&self.context())
    }

    /// Arms every slot due within the horizon that is not armed yet.
    pub(super) async fn arm(&mut self) {
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

    pub(super) async fn rearm(&mut self) {
        self.alarms.disarm_all().await;
        self.armed.clear();
        self.arm().await;
    }

    /// What the daemon is doing, in a line: the jobs running and the next slot.
    pub(super) fn status_line(&self) -> String {
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
    pub(super) fn announce(&self) {
        self.options.systemd.status(&self.status_line());
    }

    pub(super) async fn skip(&mut self, slot: Slot, reason: String) {
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
    pub(super) async fn dispatch(&mut self, slot: Slot) {
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
    pub(super) fn retry(&mut self, slot: Slot) {
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
    pub(super) fn schedule_retry(&mut self, slot: Slot, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
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
    pub(super) fn restart_outbox(&mut self, outbox: Arc<Outbox>) {
        self.outbox.0.cancel();
        self.outbox = spawn_outbox(outbox, &self.cancel, &self.waker);
    }

    pub(super) async fn finished(&mut self, finished: Finished) {
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
    pub(super) async fn apply_calendar(&mut self) {
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
    pub(super) async fn reload(&mut self) {
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
    pub(super) fn spawn_catch_up(&mut self, slots: Vec<Slot>) {
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

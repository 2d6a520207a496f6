//! Alarms: one wake-up per armed slot, delivered on a channel.
//!
//! Production uses [`CronAlarms`]: a one-shot tokio-cron-scheduler job per
//! slot, at the instant the timetable computed in America/New_York. One-shot
//! jobs at computed instants sidestep the scheduler's daylight-saving bug
//! (its repeating time-zone jobs keep the UTC offset of the day they were
//! created: upstream issue #87), and the daemon re-arms the coming hours
//! after every slot, so early closes and holidays need no cron expression.
//!
//! tokio-cron-scheduler reads the wall clock (`Utc::now()`, every 500 ms),
//! so simulated time cannot drive it. [`ClockAlarms`] waits on the daemon's
//! [`Clock`] instead: the daemon's tests use it with tokio's paused time to
//! live through a month in milliseconds. Everything else in the daemon is
//! the same code either way.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use tokio::sync::mpsc;
use tokio_cron_scheduler::{Job as CronJob, JobScheduler};
use uuid::Uuid;

use crate::clock::Clock;
use crate::timetable::Slot;

/// An alarm backend failed (tokio-cron-scheduler's own errors).
#[derive(Debug, thiserror::Error)]
#[error("alarm scheduler: {0}")]
pub struct AlarmError(String);

/// Which alarm backend the daemon uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmKind {
    /// tokio-cron-scheduler one-shot jobs (production).
    Cron,
    /// Timers on the daemon's clock (tests, paused time).
    Clock,
}

/// Arms one wake-up per slot; a ringing alarm sends its slot on the
/// channel the backend was built with.
pub enum Alarms {
    /// See [`CronAlarms`].
    Cron(CronAlarms),
    /// See [`ClockAlarms`].
    Clock(ClockAlarms),
}

impl Alarms {
    /// A backend of `kind` that rings on `ring`.
    ///
    /// # Errors
    /// When tokio-cron-scheduler cannot start.
    pub async fn new(
        kind: AlarmKind,
        clock: Arc<dyn Clock>,
        ring: mpsc::UnboundedSender<Slot>,
    ) -> Result<Self, AlarmError> {
        Ok(match kind {
            AlarmKind::Cron => Alarms::Cron(CronAlarms::start(clock, ring).await?),
            AlarmKind::Clock => Alarms::Clock(ClockAlarms { clock, ring, armed: Mutex::default() }),
        })
    }

    /// Arms `slot`.
    ///
    /// # Errors
    /// When the scheduler refuses the job.
    pub async fn arm(&self, slot: Slot) -> Result<(), AlarmError> {
        match self {
            Alarms::Cron(c) => c.arm(slot).await,
            Alarms::Clock(c) => {
                c.arm(slot);
                Ok(())
            }
        }
    }

    /// Disarms every alarm not yet rung.
    pub async fn disarm_all(&self) {
        match self {
            Alarms::Cron(c) => c.disarm_all().await,
            Alarms::Clock(c) => c.disarm_all(),
        }
    }

    /// Stops the backend.
    pub async fn shutdown(self) {
        match self {
            Alarms::Cron(mut c) => {
                c.disarm_all().await;
                if let Err(e) = c.scheduler.shutdown().await {
                    tracing::warn!(error = %e, "the alarm scheduler did not shut down cleanly");
                }
            }
            Alarms::Clock(c) => c.disarm_all(),
        }
    }
}

/// tokio-cron-scheduler one-shot jobs, one per armed slot.
pub struct CronAlarms {
    scheduler: JobScheduler,
    clock: Arc<dyn Clock>,
    ring: mpsc::UnboundedSender<Slot>,
    armed: Mutex<HashMap<Slot, Uuid>>,
}

impl CronAlarms {
    /// Starts a scheduler that rings on `ring`.
    ///
    /// # Errors
    /// When the scheduler cannot start.
    pub async fn start(clock: Arc<dyn Clock>, ring: mpsc::UnboundedSender<Slot>) -> Result<Self, AlarmError> {
        let scheduler = JobScheduler::new().await.map_err(|e| AlarmError(e.to_string()))?;
        scheduler.start().await.map_err(|e| AlarmError(e.to_string()))?;
        Ok(Self { scheduler, clock, ring, armed: Mutex::default() })
    }

    fn armed(&self) -> std::sync::MutexGuard<'_, HashMap<Slot, Uuid>> {
        self.armed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Arms a one-shot job at `slot.at`. The delay is taken against the
    /// daemon's clock, so a clock started in the past (`--simulate-from`)
    /// rings at the matching real moment. The scheduler works in whole
    /// seconds and may ring up to two seconds early; the daemon waits for
    /// the exact instant before it runs the slot.
    ///
    /// # Errors
    /// When the scheduler refuses the job.
    pub async fn arm(&self, slot: Slot) -> Result<(), AlarmError> {
        let delay = (slot.at - self.clock.now()).to_std().unwrap_or_default();
        let ring = self.ring.clone();
        let job = CronJob::new_one_shot_async(delay, move |_, _| {
            let ring = ring.clone();
            Box::pin(async move {
                // The daemon may be gone at shutdown; nothing to do then.
                let _ = ring.send(slot);
            })
        })
        .map_err(|e| AlarmError(e.to_string()))?;
        let id = self.scheduler.add(job).await.map_err(|e| AlarmError(e.to_string()))?;
        self.armed().insert(slot, id);
        Ok(())
    }

    /// When the scheduler will ring `slot` (UTC, whole seconds), if armed.
    pub async fn next_tick(&self, slot: &Slot) -> Option<chrono::DateTime<Utc>> {
        let id = *self.armed().get(slot)?;
        let mut scheduler = self.scheduler.clone();
        scheduler.next_tick_for_job(id).await.ok().flatten()
    }

    async fn disarm_all(&self) {
        let ids: Vec<Uuid> = self.armed().drain().map(|(_, id)| id).collect();
        for id in ids {
            // A one-shot job that already rang is gone; that is not an error here.
            let _ = self.scheduler.remove(&id).await;
        }
    }
}

/// Timers on the daemon's clock, one task per armed slot.
pub struct ClockAlarms {
    clock: Arc<dyn Clock>,
    ring: mpsc::UnboundedSender<Slot>,
    armed: Mutex<Vec<tokio::task::AbortHandle>>,
}

impl ClockAlarms {
    fn arm(&self, slot: Slot) {
        let clock = self.clock.clone();
        let ring = self.ring.clone();
        let task = tokio::spawn(async move {
            clock.sleep_until(slot.at).await;
            let _ = ring.send(slot);
        });
        let mut armed = self.armed.lock().unwrap_or_else(|e| e.into_inner());
        armed.retain(|t| !t.is_finished());
        armed.push(task.abort_handle());
    }

    fn disarm_all(&self) {
        for task in self.armed.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            task.abort();
        }
    }
}

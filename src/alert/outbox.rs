//! The delivery worker: sends the outbox's pending deliveries, one task per
//! channel so a failing channel never holds up the others.
//!
//! Each attempt is claimed in the database (`sending`, committed) before the
//! message leaves, and marked `sent` after the channel accepts it. Transient
//! failures are retried with exponential backoff and jitter (backon's
//! [`ExponentialBuilder`]), never sooner than an HTTP `Retry-After` asks;
//! permanent ones, and deliveries still failing `give_up_after_hours` after
//! their report was stored, are marked `failed` with an ERROR log.
//!
//! The one window where a report can reach a channel twice: the process
//! dies after the channel accepted the message and before `sent` is
//! committed. On the next start the row is still `sending`; it is sent
//! again (a report lost is worse than a report repeated). The email's
//! Message-ID and the webhooks' `Idempotency-Key` header carry the
//! delivery's idempotency key so receivers can drop the repeat.

use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::channels::{Channel, SendError};
use super::{AlertError, render};
use crate::clock::Clock;
use crate::config::AlertsConfig;
use crate::store::{Delivery, Store, StoreError};

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptOutcome {
    /// The channel accepted the report.
    Sent,
    /// A transient failure; the next attempt is due at `at`.
    Retry {
        /// When the next attempt is due (UTC).
        at: DateTime<Utc>,
        /// What failed.
        error: String,
    },
    /// Given up: a permanent failure, or past `give_up_after_hours`.
    Failed {
        /// What failed.
        error: String,
    },
    /// The scan it reported was replaced by a re-run of its slot.
    Superseded,
}

/// One attempt at one delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// The channel.
    pub channel: &'static str,
    /// The delivery's idempotency key.
    pub key: String,
    /// What came of it.
    pub outcome: AttemptOutcome,
}

/// Wakes the worker when a report was stored; cheap to clone.
#[derive(Clone, Debug)]
pub struct Waker(Arc<watch::Sender<u64>>);

impl Waker {
    /// A waker and the receiver the worker listens on.
    pub fn new() -> (Self, watch::Receiver<u64>) {
        let (tx, rx) = watch::channel(0);
        (Self(Arc::new(tx)), rx)
    }

    /// Tells the worker to look at the outbox now.
    pub fn wake(&self) {
        self.0.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A new receiver, for a worker started after a reload.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.0.subscribe()
    }
}

/// The outbox worker: the store, the channels and the retry policy.
pub struct Outbox {
    store: Store,
    config: AlertsConfig,
    clock: Arc<dyn Clock>,
    channels: Vec<Channel>,
}

impl Outbox {
    /// A worker for the channels `config` configures.
    ///
    /// # Errors
    /// A message naming the key when a channel cannot be built.
    pub fn new(store: Store, config: &AlertsConfig, clock: Arc<dyn Clock>) -> Result<Self, String> {
        Ok(Self { store, config: config.clone(), clock, channels: Channel::all(config)? })
    }

    /// The channels it sends to.
    pub fn channels(&self) -> &[Channel] {
        &self.channels
    }

    /// The delay before attempt `attempts + 1`, after `attempts` failed:
    /// `initial * 2^(attempts-1)` capped at `max_backoff_seconds`, plus up to
    /// as much again in jitter.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let policy = ExponentialBuilder::default()
            .with_min_delay(Duration::from_secs(self.config.initial_backoff_seconds))
            .with_max_delay(Duration::from_secs(self.config.max_backoff_seconds))
            .with_factor(2.0)
            .with_jitter()
            .without_max_times();
        policy.build().nth(attempts.saturating_sub(1) as usize).unwrap_or_default()
    }

    fn give_up_at(&self, created_at: DateTime<Utc>) -> DateTime<Utc> {
        created_at + chrono::Duration::hours(i64::from(self.config.give_up_after_hours))
    }

    /// Runs one pass over every channel at once: each sends what is due now.
    ///
    /// # Errors
    /// A store failure (the first one met).
    pub async fn deliver_due_all(&self) -> Result<Vec<Attempt>, StoreError> {
        let passes = self.channels.iter().map(|c| self.deliver_due(c));
        let mut out = Vec::new();
        for result in futures::future::join_all(passes).await {
            out.extend(result?);
        }
        Ok(out)
    }

    /// Sends every delivery to `channel` that is due now, oldest first.
    ///
    /// # Errors
    /// A store failure; deliveries already marked keep their marks.
    pub async fn deliver_due(&self, channel: &Channel) -> Result<Vec<Attempt>, StoreError> {
        let name = channel.name();
        let now = self.clock.now();
        let due = self.store.run(move |db| db.due_deliveries(name, now)).await?;
        let mut attempts = Vec::new();
        for delivery in due {
            if let Some(a) = self.attempt(channel, delivery).await? {
                attempts.push(a);
            }
        }
        Ok(attempts)
    }

    async fn attempt(&self, channel: &Channel, d: Delivery) -> Result<Option<Attempt>, StoreError> {
        let now = self.clock.now();
        let key = d.idempotency_key.clone();
        let k = key.clone();
        if !self.store.run(move |db| db.begin_delivery_attempt(&k, now)).await? {
            return Ok(None);
        }
        let attempt = |outcome| Some(Attempt { channel: channel.name(), key: key.clone(), outcome });
        let message = match d.scan_id {
            None => Err(AlertError::ScanGone),
            Some(id) => match super::load(&self.store, id, &self.config).await {
                Ok(report) => render::scan(&report),
                Err(e) => Err(e),
            },
        };
        let result = match message {
            Ok(m) => channel.send(&m, &key).await,
            Err(AlertError::ScanGone) => {
                let k = key.clone();
                self.store.run(move |db| db.supersede_delivery(&k, now)).await?;
                tracing::warn!(channel = channel.name(), key = %key, "alert not sent: its scan was replaced by a re-run");
                return Ok(attempt(AttemptOutcome::Superseded));
            }
            Err(AlertError::Render(e)) => Err(SendError::Permanent { message: e }),
            Err(AlertError::Store(e)) => Err(SendError::Transient {
                message: format!("cannot read the report: {e}"),
                retry_after: None,
            }),
        };
        let done = self.clock.now();
        let k = key.clone();
        let outcome = match result {
            Ok(()) => {
                self.store.run(move |db| db.delivery_sent(&k, done)).await?;
                tracing::info!(channel = channel.name(), key = %key, attempt = d.attempts + 1, "alert sent");
                AttemptOutcome::Sent
            }
            Err(SendError::Transient { message, retry_after }) => {
                let wait = self.backoff(d.attempts + 1).max(retry_after.unwrap_or_default());
                let at = done + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1));
                if at > self.give_up_at(d.created_at) {
                    let error = format!(
                        "gave up after {} attempt(s) within {} hours: {message}",
                        d.attempts + 1,
                        self.config.give_up_after_hours
                    );
                    self.fail(&key, done, &error, channel.name()).await?;
                    AttemptOutcome::Failed { error }
                } else {
                    let e = message.clone();
                    self.store.run(move |db| db.delivery_retry(&k, at, &e)).await?;
                    tracing::warn!(channel = channel.name(), key = %key, error = %message, retry_at = %at, "alert not sent; will retry");
                    AttemptOutcome::Retry { at, error: message }
                }
            }
            Err(SendError::Permanent { message }) => {
                self.fail(&key, done, &message, channel.name()).await?;
                AttemptOutcome::Failed { error: message }
            }
        };
        Ok(attempt(outcome))
    }

    async fn fail(&self, key: &str, at: DateTime<Utc>, error: &str, channel: &str) -> Result<(), StoreError> {
        let (k, e) = (key.to_owned(), error.to_owned());
        self.store.run(move |db| db.delivery_failed(&k, at, &e)).await?;
        tracing::error!(channel, key, error, "alert delivery failed for good");
        Ok(())
    }

    /// Gives up the pending deliveries whose report is older than
    /// `give_up_after_hours` (including those to channels no longer configured).
    ///
    /// # Errors
    /// A store failure.
    pub async fn expire(&self) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let cutoff = now - chrono::Duration::hours(i64::from(self.config.give_up_after_hours));
        let expired = self.store.run(move |db| db.expired_deliveries(cutoff)).await?;
        let configured: Vec<&str> = self.channels.iter().map(Channel::name).collect();
        for d in &expired {
            let why = if configured.contains(&d.channel.as_str()) {
                d.last_error.clone().unwrap_or_else(|| "never attempted".into())
            } else {
                format!("channel {} is not configured", d.channel)
            };
            let error = format!(
                "gave up after {} attempt(s) within {} hours: {why}",
                d.attempts, self.config.give_up_after_hours
            );
            self.fail(&d.idempotency_key, now, &error, &d.channel).await?;
        }
        Ok(expired.len())
    }

    /// Runs until `cancel`: a task per channel sends what is due, then
    /// sleeps until its next due delivery or a wake; another gives up what
    /// is too old every hour. A send in flight when `cancel` fires is
    /// finished and marked before the task returns.
    pub async fn run(self: Arc<Self>, cancel: CancellationToken, wake: watch::Receiver<u64>) {
        let mut tasks = JoinSet::new();
        for i in 0..self.channels.len() {
            tasks.spawn(self.clone().run_channel(i, cancel.clone(), wake.clone()));
        }
        let janitor = self.clone();
        let (c, mut w) = (cancel.clone(), wake.clone());
        tasks.spawn(async move {
            loop {
                if let Err(e) = janitor.expire().await {
                    tracing::error!(error = %e, "cannot check the outbox for deliveries to give up");
                }
                let until = janitor.clock.now() + chrono::Duration::hours(1);
                if !wait(&janitor.clock, until, &c, &mut w).await {
                    return;
                }
            }
        });
        while tasks.join_next().await.is_some() {}
    }

    async fn run_channel(
        self: Arc<Self>,
        index: usize,
        cancel: CancellationToken,
        mut wake: watch::Receiver<u64>,
    ) {
        let channel = &self.channels[index];
        let name = channel.name();
        loop {
            if let Err(e) = self.deliver_due(channel).await {
                tracing::error!(channel = name, error = %e, "cannot work the outbox");
            }
            let now = self.clock.now();
            let next = match self.store.run(move |db| db.next_attempt_at(name)).await {
                Ok(next) => next,
                Err(e) => {
                    tracing::error!(channel = name, error = %e, "cannot read the outbox");
                    Some(now + chrono::Duration::minutes(1))
                }
            };
            let until = next.unwrap_or(now + chrono::Duration::hours(1)).max(now);
            if !wait(&self.clock, until, &cancel, &mut wake).await {
                return;
            }
        }
    }
}

/// Waits until `until`, a wake, or `cancel`; false when cancelled.
async fn wait(
    clock: &Arc<dyn Clock>,
    until: DateTime<Utc>,
    cancel: &CancellationToken,
    wake: &mut watch::Receiver<u64>,
) -> bool {
    tokio::select! {
        () = cancel.cancelled() => false,
        () = clock.sleep_until(until) => true,
        changed = wake.changed() => {
            if changed.is_err() {
                // No one can wake us any more: only the time and the cancel remain.
                tokio::select! {
                    () = cancel.cancelled() => return false,
                    () = clock.sleep_until(until) => {}
                }
            }
            true
        }
    }
}

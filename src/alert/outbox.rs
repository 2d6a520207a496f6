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

use super::channels::{Channel, ChannelSetupError, SendError};
use super::config::AlertsConfig;
use super::{AlertError, render};
use crate::clock::Clock;
use crate::store::{Delivery, DeliveryState, Store, StoreError};

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
    /// [`ChannelSetupError`] naming the key when a channel cannot be built.
    pub fn new(
        store: Store,
        config: &AlertsConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ChannelSetupError> {
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
        created_at + crate::time::hours(u64::from(self.config.give_up_after_hours))
    }

    /// How long a claim holds a delivery: twice the longest a send may
    /// take (it is cut off at [`Self::send_timeout`]). A `sending` row whose
    /// lease ran out was left by a process that stopped mid-send and is due again.
    pub fn lease(&self) -> Duration {
        self.send_timeout() * 2
    }

    /// The longest one send may take: twice `alerts.timeout_seconds` (the
    /// SMTP and HTTP clients time out each step at `timeout_seconds`).
    pub fn send_timeout(&self) -> Duration {
        Duration::from_secs(self.config.timeout_seconds) * 2
    }

    /// Runs one pass over every channel at once: each sends what is due now.
    ///
    /// # Errors
    /// A store failure (the first one met).
    pub async fn deliver_due_all(&self) -> Result<Vec<Attempt>, StoreError> {
        let never = CancellationToken::new();
        let passes = self.channels.iter().map(|c| self.deliver_due(c, &never));
        let mut out = Vec::new();
        for result in futures::future::join_all(passes).await {
            out.extend(result?);
        }
        Ok(out)
    }

    /// Sends every delivery to `channel` that is due now, oldest first,
    /// stopping between deliveries once `stop` is cancelled.
    ///
    /// # Errors
    /// A store failure; deliveries already marked keep their marks.
    pub async fn deliver_due(
        &self,
        channel: &Channel,
        stop: &CancellationToken,
    ) -> Result<Vec<Attempt>, StoreError> {
        let name = channel.name();
        let now = self.clock.now();
        let due = self.store.run(move |db| db.due_deliveries(name, now)).await?;
        let mut attempts = Vec::new();
        for delivery in due {
            if stop.is_cancelled() {
                break;
            }
            if let Some(a) = self.attempt(channel, delivery).await? {
                attempts.push(a);
            }
        }
        Ok(attempts)
    }

    async fn attempt(&self, channel: &Channel, d: Delivery) -> Result<Option<Attempt>, StoreError> {
        let now = self.clock.now();
        let name = channel.name();
        let key = d.idempotency_key.clone();
        let attempt = |outcome| Some(Attempt { channel: name, key: key.clone(), outcome });
        // Too old to be worth sending (after an outage, yesterday's setups are noise).
        if now > self.give_up_at(d.created_at) {
            let error = format!(
                "not sent: the report is older than alerts.give_up_after_hours ({}) after {} attempt(s){}",
                self.config.give_up_after_hours,
                d.attempts,
                d.last_error.as_deref().map(|e| format!("; last error: {e}")).unwrap_or_default()
            );
            return Ok(if self.fail(&key, now, &error, name).await? {
                attempt(AttemptOutcome::Failed { error })
            } else {
                None
            });
        }
        let lease_end = now + chrono::Duration::from_std(self.lease()).unwrap_or(crate::time::hours(1));
        let k = key.clone();
        if !self.store.run(move |db| db.begin_delivery_attempt(&k, now, lease_end)).await? {
            return Ok(None);
        }
        if d.state == DeliveryState::Sending {
            tracing::warn!(
                channel = name,
                key = %key,
                "an earlier attempt stopped mid-send; sending again (the report may arrive twice)"
            );
        }
        let message = match (d.kind.as_str(), d.scan_id) {
            ("review", _) => match super::review::slot_of(&d.report_key) {
                Some(slot) => match super::review::load(&self.store, slot).await {
                    Ok(alert) => super::review::render(&alert),
                    Err(e) => Err(e),
                },
                None => Err(AlertError::Render(super::RenderError::ReportKey(d.report_key.clone()))),
            },
            ("date_change", _) => match super::date_change::load(&self.store, &d.report_key).await {
                Ok(change) => super::date_change::render(&change),
                Err(e) => Err(e),
            },
            (_, None) => Err(AlertError::ScanGone),
            (_, Some(id)) => match super::load(&self.store, id, &self.config).await {
                Ok(report) => render::scan(&report),
                Err(e) => Err(e),
            },
        };
        let result = match message {
            Ok(m) => match tokio::time::timeout(self.send_timeout(), channel.send(&m, &key, now)).await {
                Ok(result) => result,
                Err(_) => Err(SendError::Transient {
                    message: format!("{name}: no answer within {:?}", self.send_timeout()),
                    retry_after: None,
                }),
            },
            Err(AlertError::ScanGone) => {
                let k = key.clone();
                self.store.run(move |db| db.supersede_delivery(&k, now)).await?;
                tracing::warn!(channel = name, key = %key, "alert not sent: its scan was replaced by a re-run");
                return Ok(attempt(AttemptOutcome::Superseded));
            }
            Err(AlertError::Render(e)) => Err(SendError::Permanent { message: e.to_string() }),
            Err(AlertError::Store(e)) => Err(SendError::Transient {
                message: format!("cannot read the report: {e}"),
                retry_after: None,
            }),
        };
        let done = self.clock.now();
        let k = key.clone();
        let outcome = match result {
            Ok(()) => {
                self.mark_sent(&key, done).await?;
                tracing::info!(channel = name, key = %key, attempt = d.attempts + 1, "alert sent");
                AttemptOutcome::Sent
            }
            Err(SendError::Transient { message, retry_after }) => {
                let wait = self.backoff(d.attempts + 1).max(retry_after.unwrap_or_default());
                let at = done + chrono::Duration::from_std(wait).unwrap_or(crate::time::hours(1));
                if at > self.give_up_at(d.created_at) {
                    let error = format!(
                        "gave up after {} attempt(s) within {} hours: {message}",
                        d.attempts + 1,
                        self.config.give_up_after_hours
                    );
                    self.fail(&key, done, &error, name).await?;
                    AttemptOutcome::Failed { error }
                } else {
                    let e = message.clone();
                    self.store.run(move |db| db.delivery_retry(&k, at, &e)).await?;
                    tracing::warn!(channel = name, key = %key, error = %message, retry_at = %at, "alert not sent; will retry");
                    AttemptOutcome::Retry { at, error: message }
                }
            }
            Err(SendError::Permanent { message }) => {
                self.fail(&key, done, &message, name).await?;
                AttemptOutcome::Failed { error: message }
            }
        };
        Ok(attempt(outcome))
    }

    /// Marks a delivery sent, trying three times: a mark lost here would
    /// send the report again when the lease runs out.
    async fn mark_sent(&self, key: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tries = 0;
        loop {
            let k = key.to_owned();
            match self.store.run(move |db| db.delivery_sent(&k, at)).await {
                Ok(_) => return Ok(()),
                Err(e) if tries < 2 => {
                    tries += 1;
                    tracing::warn!(key, error = %e, "cannot mark the alert sent; trying again");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Marks an unsent delivery failed and logs it at ERROR; false when it was
    /// no longer unsent (another process finished it meanwhile).
    async fn fail(
        &self,
        key: &str,
        at: DateTime<Utc>,
        error: &str,
        channel: &str,
    ) -> Result<bool, StoreError> {
        let (k, e) = (key.to_owned(), error.to_owned());
        let changed = self.store.run(move |db| db.delivery_failed(&k, at, &e)).await?;
        if changed {
            tracing::error!(channel, key, error, "alert delivery failed for good");
        }
        Ok(changed)
    }

    /// Gives up the pending deliveries whose report is older than
    /// `give_up_after_hours` (including those to channels no longer configured).
    ///
    /// # Errors
    /// A store failure.
    pub async fn expire(&self) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let cutoff = now - crate::time::hours(u64::from(self.config.give_up_after_hours));
        let expired = self.store.run(move |db| db.expired_deliveries(cutoff)).await?;
        let configured: Vec<&str> = self.channels.iter().map(Channel::name).collect();
        let mut given_up = 0;
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
            if self.fail(&d.idempotency_key, now, &error, &d.channel).await? {
                given_up += 1;
            }
        }
        Ok(given_up)
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
                let until = janitor.clock.now() + crate::time::hours(1);
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
            let failed = match self.deliver_due(channel, &cancel).await {
                Ok(_) => false,
                Err(e) => {
                    tracing::error!(channel = name, error = %e, "cannot work the outbox; trying again in a minute");
                    true
                }
            };
            let now = self.clock.now();
            let next = match self.store.run(move |db| db.next_attempt_at(name)).await {
                Ok(next) => next,
                Err(e) => {
                    tracing::error!(channel = name, error = %e, "cannot read the outbox");
                    Some(now + crate::time::minutes(1))
                }
            };
            let mut until = next.unwrap_or(now + crate::time::hours(1)).max(now);
            if failed {
                until = until.max(now + crate::time::minutes(1));
            }
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

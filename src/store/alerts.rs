//! The alerts outbox: one `alerts` row per report, one `alert_deliveries`
//! row per report and channel (see `migrations/V3__alerts.sql`).

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::rows::{Fields, row_struct};
use super::{Db, StoreError, instant_text};

/// A delivery's state (column `alert_deliveries.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its next attempt.
    Pending,
    /// An attempt is in flight.
    Sending,
    /// The channel accepted it.
    Sent,
    /// Refused for good, or given up after `alerts.give_up_after_hours`.
    Failed,
    /// Its scan was replaced by a re-run of the slot before it was sent.
    Superseded,
}

impl DeliveryState {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Superseded => "superseded",
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        [Self::Pending, Self::Sending, Self::Sent, Self::Failed, Self::Superseded]
            .into_iter()
            .find(|s| s.code() == code)
    }
}

/// One alert to one channel, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// The alert's id (table `alerts`).
    pub alert_id: i64,
    /// `scan` (the 15:00 setups) or `review`.
    pub kind: String,
    /// Which report: `scan/<slot>` or `review/<slot>`.
    pub report_key: String,
    /// The scan reported (None once it was replaced by a re-run).
    pub scan_id: Option<i64>,
    /// `email`, `slack`, `webhook` or `discord`.
    pub channel: String,
    /// `<installation id>/<report_key>/<alert id>/<channel>` (rows queued
    /// before schema version 9 lack the installation id): unique across
    /// databases and deliveries, the same for every attempt of a delivery;
    /// sent with the message.
    pub idempotency_key: String,
    /// Where the delivery stands.
    pub state: DeliveryState,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the alert was stored (UTC).
    pub created_at: DateTime<Utc>,
    /// When the next attempt is due (UTC; meaningful while pending).
    pub next_attempt_at: DateTime<Utc>,
    /// When the last attempt started (UTC).
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// When the channel accepted it (UTC).
    pub delivered_at: Option<DateTime<Utc>>,
}

row_struct! {
    /// One delivery with its alert's columns (`alert_deliveries` joined with `alerts`).
    struct DeliveryRow {
        alert_id: i64,
        kind: String,
        report_key: String,
        scan_id: Option<i64>,
        channel: String,
        idempotency_key: String,
        state: String,
        attempts: i64,
        created_at: String,
        next_attempt_at: String,
        last_attempt_at: Option<String>,
        last_error: Option<String>,
        delivered_at: Option<String>,
    }
}

/// The columns of [`DeliveryRow`], from the delivery (`d`) or its alert (`a`).
const DELIVERY_COLUMNS: &str =
    "d.alert_id, a.kind, a.report_key, a.scan_id, d.channel, d.idempotency_key, d.state,
     d.attempts, a.created_at, d.next_attempt_at, d.last_attempt_at, d.last_error, d.delivered_at";

impl DeliveryRow {
    fn delivery(self, db: &Db<'_>) -> Result<Delivery, StoreError> {
        let f = Fields::new(db, "alert_deliveries");
        Ok(Delivery {
            alert_id: self.alert_id,
            kind: self.kind,
            report_key: self.report_key,
            scan_id: self.scan_id,
            channel: self.channel,
            idempotency_key: self.idempotency_key,
            state: f.code("state", &self.state, DeliveryState::from_code)?,
            attempts: u32::try_from(self.attempts).unwrap_or(0),
            created_at: Fields::new(db, "alerts").instant("created_at", &self.created_at)?,
            next_attempt_at: f.instant("next_attempt_at", &self.next_attempt_at)?,
            last_attempt_at: f.opt_instant("last_attempt_at", self.last_attempt_at)?,
            last_error: self.last_error,
            delivered_at: f.opt_instant("delivered_at", self.delivered_at)?,
        })
    }
}

impl Db<'_> {
    /// Queues the alert of stored scan `scan_id` (the report of `slot`) for
    /// each of `channels`, due at once. Call inside the scan's transaction,
    /// so a scan is never stored without its alert, nor an alert without its
    /// scan. Returns the alert's id, or `None` when `channels` is empty.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn enqueue_scan_alert(
        &mut self,
        scan_id: i64,
        slot: DateTime<Utc>,
        channels: &[String],
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError> {
        self.enqueue_alert("scan", slot, Some(scan_id), channels, now)
    }

    /// Queues the review alert of review slot `slot` (report key
    /// `review/<slot>`: the reviews that slot wrote) for each of `channels`,
    /// due at once. Call inside the review's transaction. Returns the
    /// alert's id, or `None` when `channels` is empty.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn enqueue_review_alert(
        &mut self,
        slot: DateTime<Utc>,
        channels: &[String],
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError> {
        self.enqueue_alert("review", slot, None, channels, now)
    }

    fn enqueue_alert(
        &mut self,
        kind: &'static str,
        slot: DateTime<Utc>,
        scan_id: Option<i64>,
        channels: &[String],
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError> {
        self.enqueue_keyed_alert(kind, &format!("{kind}/{}", instant_text(slot)), scan_id, channels, now)
    }

    /// Queues an alert of `kind` under `report_key` for each of `channels`,
    /// due at once; `None` when `channels` is empty.
    pub(super) fn enqueue_keyed_alert(
        &mut self,
        kind: &'static str,
        report_key: &str,
        scan_id: Option<i64>,
        channels: &[String],
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError> {
        if channels.is_empty() {
            return Ok(None);
        }
        let installation = self.installation_id()?;
        self.conn
            .execute(
                "INSERT INTO alerts (kind, report_key, scan_id, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![kind, report_key, scan_id, instant_text(now)],
            )
            .map_err(self.err(format!("queue the {kind} alert")))?;
        let alert_id = self.conn.last_insert_rowid();
        for channel in channels {
            self.conn
                .execute(
                    "INSERT INTO alert_deliveries (alert_id, channel, idempotency_key, state, next_attempt_at)
                     VALUES (?1, ?2, ?3, 'pending', ?4)",
                    params![
                        alert_id,
                        channel,
                        format!("{installation}/{report_key}/{alert_id}/{channel}"),
                        instant_text(now)
                    ],
                )
                .map_err(self.err(format!("queue the {kind} alert for {channel}")))?;
        }
        Ok(Some(alert_id))
    }

    /// This database's installation id (table `installation`): 32 random
    /// hex digits drawn when the database was created, the first part of
    /// every delivery's idempotency key.
    ///
    /// # Errors
    /// SQLite errors (a database older than schema version 9 has none).
    pub fn installation_id(&mut self) -> Result<String, StoreError> {
        self.conn
            .query_row("SELECT id FROM installation WHERE singleton = 1", [], |r| r.get(0))
            .map_err(self.err("read the installation id"))
    }

    /// Marks the pending deliveries of the alerts of scan `scan_id`
    /// superseded (the scan is about to be replaced by a re-run of its slot)
    /// and returns their channels: the re-run's alert must go to them, with
    /// or without `--notify`, so the slot's report is never lost. A delivery
    /// in flight is left to finish.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn supersede_scan_alerts(
        &mut self,
        scan_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        let channels: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT DISTINCT d.channel FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id
                     WHERE a.scan_id = ?1 AND d.state = 'pending' ORDER BY d.channel",
                )
                .map_err(self.err("find the replaced scan's pending alerts"))?;
            stmt.query_map([scan_id], |r| r.get(0))
                .and_then(|rows| rows.collect())
                .map_err(self.err("find the replaced scan's pending alerts"))?
        };
        self.conn
            .execute(
                "UPDATE alert_deliveries SET state = 'superseded', finished_at = ?2
                 WHERE state = 'pending' AND alert_id IN (SELECT id FROM alerts WHERE scan_id = ?1)",
                params![scan_id, instant_text(now)],
            )
            .map_err(self.err("supersede the replaced scan's alerts"))?;
        Ok(channels)
    }

    /// Marks one delivery superseded (its scan is no longer stored).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn supersede_delivery(&mut self, key: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.update_delivery(
            "UPDATE alert_deliveries SET state = 'superseded', finished_at = ?2
             WHERE idempotency_key = ?1 AND state = 'sending'",
            key,
            now,
            None,
        )
    }

    /// The deliveries to `channel` due at `now`, oldest alert first: pending
    /// ones whose time has come, and `sending` ones whose lease ran out (the
    /// process that claimed them stopped mid-send, or hangs).
    ///
    /// # Errors
    /// SQLite errors or a corrupt stored value.
    pub fn due_deliveries(&mut self, channel: &str, now: DateTime<Utc>) -> Result<Vec<Delivery>, StoreError> {
        self.deliveries_where(
            "d.state IN ('pending', 'sending') AND d.channel = ?1 AND d.next_attempt_at <= ?2",
            &[channel, &instant_text(now)],
        )
    }

    /// When the next delivery to `channel` is due (a pending one's time, or a
    /// claimed one's lease end), if any is unsent.
    ///
    /// # Errors
    /// SQLite errors or a corrupt stored value.
    pub fn next_attempt_at(&mut self, channel: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let at: Option<String> = self
            .conn
            .query_row(
                "SELECT min(next_attempt_at) FROM alert_deliveries
                 WHERE state IN ('pending', 'sending') AND channel = ?1",
                [channel],
                |r| r.get(0),
            )
            .map_err(self.err("find the next delivery"))?;
        Fields::new(self, "alert_deliveries").opt_instant("next_attempt_at", at)
    }

    /// Claims a delivery for an attempt: `sending` until `lease_end`, one
    /// more attempt, committed before the message leaves. Only a pending row,
    /// or a `sending` row whose lease ran out, can be claimed; returns false
    /// otherwise (another process holds it, or it was superseded), and then
    /// nothing may be sent.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn begin_delivery_attempt(
        &mut self,
        key: &str,
        now: DateTime<Utc>,
        lease_end: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = self
            .conn
            .execute(
                "UPDATE alert_deliveries
                 SET state = 'sending', attempts = attempts + 1, last_attempt_at = ?2, next_attempt_at = ?3
                 WHERE idempotency_key = ?1
                   AND (state = 'pending' OR (state = 'sending' AND next_attempt_at <= ?2))",
                params![key, instant_text(now), instant_text(lease_end)],
            )
            .map_err(self.err(format!("claim delivery {key}")))?;
        Ok(n == 1)
    }

    /// Records that the channel accepted the claimed delivery. Returns false
    /// when the row was no longer `sending` (it changed meanwhile).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn delivery_sent(&mut self, key: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.update_delivery(
            "UPDATE alert_deliveries SET state = 'sent', delivered_at = ?2, finished_at = ?2, last_error = NULL
             WHERE idempotency_key = ?1 AND state = 'sending'",
            key,
            now,
            None,
        )
    }

    /// Records a transient failure of the claimed delivery: pending again,
    /// due at `retry_at`. Returns false when the row was no longer `sending`.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn delivery_retry(
        &mut self,
        key: &str,
        retry_at: DateTime<Utc>,
        error: &str,
    ) -> Result<bool, StoreError> {
        self.update_delivery(
            "UPDATE alert_deliveries SET state = 'pending', next_attempt_at = ?2, last_error = ?3
             WHERE idempotency_key = ?1 AND state = 'sending'",
            key,
            retry_at,
            Some(error),
        )
    }

    /// Records a delivery given up: a permanent refusal, or too old. Only an
    /// unsent row (pending, or claimed by the caller) changes; returns false
    /// when it was already sent, failed or superseded.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn delivery_failed(
        &mut self,
        key: &str,
        now: DateTime<Utc>,
        error: &str,
    ) -> Result<bool, StoreError> {
        self.update_delivery(
            "UPDATE alert_deliveries SET state = 'failed', finished_at = ?2, last_error = ?3
             WHERE idempotency_key = ?1 AND state IN ('pending', 'sending')",
            key,
            now,
            Some(error),
        )
    }

    fn update_delivery(
        &mut self,
        sql: &str,
        key: &str,
        at: DateTime<Utc>,
        error: Option<&str>,
    ) -> Result<bool, StoreError> {
        let n = match error {
            Some(e) => self.conn.execute(sql, params![key, instant_text(at), e]),
            None => self.conn.execute(sql, params![key, instant_text(at)]),
        }
        .map_err(self.err(format!("update delivery {key}")))?;
        Ok(n == 1)
    }

    /// Deliveries still pending whose alert was stored before `created_before`.
    ///
    /// # Errors
    /// SQLite errors or a corrupt stored value.
    pub fn expired_deliveries(&mut self, created_before: DateTime<Utc>) -> Result<Vec<Delivery>, StoreError> {
        self.deliveries_where("d.state = 'pending' AND a.created_at < ?1", &[&instant_text(created_before)])
    }

    /// The latest instant the outbox recorded: an alert stored, an attempt
    /// started or a delivery finished (UTC); `None` when it is empty. On a
    /// replay's database these are the replay's simulated instants.
    ///
    /// # Errors
    /// SQLite errors or a corrupt stored value.
    pub fn outbox_last_activity(&mut self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let at: Option<String> = self
            .conn
            .query_row(
                "SELECT max(t) FROM (
                     SELECT max(created_at) AS t FROM alerts
                     UNION ALL SELECT max(last_attempt_at) FROM alert_deliveries
                     UNION ALL SELECT max(finished_at) FROM alert_deliveries)",
                [],
                |r| r.get(0),
            )
            .map_err(self.err("find the outbox's last activity"))?;
        Fields::new(self, "alert_deliveries").opt_instant("finished_at", at)
    }

    /// The outbox for people: every delivery not yet sent, and those that
    /// finished (sent, failed, superseded) at or after `since`, newest alert first.
    ///
    /// # Errors
    /// SQLite errors or a corrupt stored value.
    pub fn outbox(&mut self, since: DateTime<Utc>) -> Result<Vec<Delivery>, StoreError> {
        let mut rows = self.deliveries_where(
            "d.state IN ('pending', 'sending') OR d.finished_at >= ?1",
            &[&instant_text(since)],
        )?;
        rows.reverse();
        Ok(rows)
    }

    fn deliveries_where(&mut self, filter: &str, args: &[&str]) -> Result<Vec<Delivery>, StoreError> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id
             WHERE {filter} ORDER BY a.created_at, d.alert_id, d.channel"
        );
        let rows: Vec<DeliveryRow> = {
            let mut stmt = self.conn.prepare_cached(&sql).map_err(self.err("prepare deliveries"))?;
            stmt.query_map(rusqlite::params_from_iter(args), DeliveryRow::read)
                .and_then(|rows| rows.collect())
                .map_err(self.err("read deliveries"))?
        };
        rows.into_iter().map(|row| row.delivery(self)).collect()
    }
}

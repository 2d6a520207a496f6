//! The calendar's versions and date changes (issue 23, item 5): every
//! refresh's listing (`calendar_versions`), and each stored upcoming event
//! whose date or timing a later refresh changed (`calendar_changes`), with
//! the alert it queued (see `migrations/V13__calendar_changes.sql`).

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::params;
use serde::Serialize;

use super::rows::{Fields, row_struct, select_list};
use super::{Db, StoreError, instant_text};
use crate::domain::{EarningsEvent, Ticker, Timing};

/// One stored date or timing change of an upcoming event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DateChange {
    /// Its id (table `calendar_changes`).
    pub id: i64,
    /// The stock.
    pub ticker: Ticker,
    /// The calendar source whose refresh changed it.
    pub source: String,
    /// The report date stored before the refresh (ET).
    pub old_report_date: NaiveDate,
    /// The timing stored before.
    pub old_timing: Timing,
    /// The report date the refresh lists (ET).
    pub new_report_date: NaiveDate,
    /// The timing it lists.
    pub new_timing: Timing,
    /// When the refresh ran (UTC).
    pub detected_at: DateTime<Utc>,
    /// Why it was alerted: `alerted_setup` or `crosses_expiration`; `None`: not alerted.
    pub alert_reason: Option<String>,
    /// The queued alert (table `alerts`).
    pub alert_id: Option<i64>,
}

row_struct! {
    /// A `calendar_changes` row.
    struct DateChangeRow {
        id: i64,
        ticker: String,
        source: String,
        old_report_date: String,
        old_timing: String,
        new_report_date: String,
        new_timing: String,
        detected_at: String,
        alert_reason: Option<String>,
        alert_id: Option<i64>,
    }
}

/// What the stored scans say of one event: whether a scan whose alert was
/// queued listed it, and the expirations scans chose for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetupExposure {
    /// A scan that listed the event queued an alert.
    pub alerted: bool,
    /// The expirations (ET dates) the scans chose for the event.
    pub expirations: Vec<NaiveDate>,
}

impl Db<'_> {
    /// The events `source` lists with `from <= report_date <= to`, by date then ticker.
    ///
    /// # Errors
    /// SQLite errors, or a corrupt stored value.
    pub fn events_of_source_between(
        &mut self,
        source: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<EarningsEvent>, StoreError> {
        let events = self.events_between(from, to)?;
        Ok(events.into_iter().filter(|e| e.source == source).collect())
    }

    /// Keeps one refresh's listing (status `unknown`: the vendors ivcd reads
    /// say neither confirmed nor estimated).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn record_calendar_version(
        &mut self,
        source: &str,
        events: &[EarningsEvent],
        refreshed_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let at = instant_text(refreshed_at);
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT OR REPLACE INTO calendar_versions (ticker, report_date, timing, status, source, refreshed_at)
                 VALUES (?1, ?2, ?3, 'unknown', ?4, ?5)",
            )
            .map_err(self.err("prepare record_calendar_version"))?;
        for e in events {
            stmt.execute(params![e.ticker.as_str(), e.report_date.to_string(), e.timing.code(), source, at])
                .map_err(self.err("store a calendar version"))?;
        }
        Ok(())
    }

    /// What the stored scans say of `ticker`'s event of `report_date`.
    ///
    /// # Errors
    /// SQLite errors, or a corrupt stored expiration.
    pub fn setup_exposure(
        &mut self,
        ticker: &Ticker,
        report_date: NaiveDate,
    ) -> Result<SetupExposure, StoreError> {
        let rows: Vec<(Option<String>, bool)> = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT c.expiration, EXISTS (SELECT 1 FROM alerts a WHERE a.scan_id = c.scan_id)
                     FROM candidates c WHERE c.ticker = ?1 AND c.report_date = ?2",
                )
                .map_err(self.err("prepare setup_exposure"))?;
            stmt.query_map(params![ticker.as_str(), report_date.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(|rows| rows.collect())
                .map_err(self.err("read the candidates of an event"))?
        };
        let f = Fields::new(self, "candidates");
        let mut out = SetupExposure::default();
        for (expiration, alerted) in rows {
            out.alerted |= alerted;
            if let Some(e) = expiration {
                let e = f.date("expiration", &e)?;
                if !out.expirations.contains(&e) {
                    out.expirations.push(e);
                }
            }
        }
        out.expirations.sort();
        Ok(out)
    }

    /// Records that a refresh of `source` at `detected_at` moved `old` to
    /// `new`, and, when `reason` is given, queues its alert for `channels`
    /// (report key `date_change/<id>`). Call inside the refresh's
    /// transaction: the change, its alert and the new listing commit together.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn record_date_change(
        &mut self,
        source: &str,
        old: &EarningsEvent,
        new: &EarningsEvent,
        detected_at: DateTime<Utc>,
        reason: Option<&str>,
        channels: &[String],
    ) -> Result<DateChange, StoreError> {
        self.conn
            .execute(
                "INSERT INTO calendar_changes (ticker, source, old_report_date, old_timing, new_report_date,
                                               new_timing, detected_at, alert_reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    old.ticker.as_str(),
                    source,
                    old.report_date.to_string(),
                    old.timing.code(),
                    new.report_date.to_string(),
                    new.timing.code(),
                    instant_text(detected_at),
                    reason
                ],
            )
            .map_err(self.err(format!("record the date change of {}", old.ticker)))?;
        let id = self.conn.last_insert_rowid();
        let alert_id = match reason {
            Some(_) => self.enqueue_keyed_alert(
                "date_change",
                &format!("date_change/{id}"),
                None,
                channels,
                detected_at,
            )?,
            None => None,
        };
        if let Some(alert) = alert_id {
            self.conn
                .execute("UPDATE calendar_changes SET alert_id = ?1 WHERE id = ?2", params![alert, id])
                .map_err(self.err("link the date change to its alert"))?;
        }
        Ok(DateChange {
            id,
            ticker: old.ticker.clone(),
            source: source.to_owned(),
            old_report_date: old.report_date,
            old_timing: old.timing,
            new_report_date: new.report_date,
            new_timing: new.timing,
            detected_at,
            alert_reason: reason.map(str::to_owned),
            alert_id,
        })
    }

    /// Every stored date change, oldest first.
    ///
    /// # Errors
    /// SQLite errors, or a corrupt stored value.
    pub fn date_changes(&mut self) -> Result<Vec<DateChange>, StoreError> {
        self.query_changes(
            &format!(
                "SELECT {} FROM calendar_changes ORDER BY detected_at, id",
                select_list(DateChangeRow::COLUMNS, "")
            ),
            &[],
        )
    }

    /// One stored date change.
    ///
    /// # Errors
    /// SQLite errors, or a corrupt stored value.
    pub fn date_change(&mut self, id: i64) -> Result<Option<DateChange>, StoreError> {
        let sql =
            format!("SELECT {} FROM calendar_changes WHERE id = ?1", select_list(DateChangeRow::COLUMNS, ""));
        Ok(self.query_changes(&sql, &[&id])?.into_iter().next())
    }

    fn query_changes(
        &mut self,
        sql: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<DateChange>, StoreError> {
        let rows: Vec<DateChangeRow> = {
            let mut stmt = self.conn.prepare_cached(sql).map_err(self.err("prepare date changes query"))?;
            stmt.query_map(args, DateChangeRow::read)
                .and_then(|rows| rows.collect())
                .map_err(self.err("read date changes"))?
        };
        let f = Fields::new(self, "calendar_changes");
        rows.into_iter()
            .map(|r| {
                Ok(DateChange {
                    id: r.id,
                    ticker: f.ticker("ticker", &r.ticker)?,
                    source: r.source,
                    old_report_date: f.date("old_report_date", &r.old_report_date)?,
                    old_timing: f.code("old_timing", &r.old_timing, Timing::from_code)?,
                    new_report_date: f.date("new_report_date", &r.new_report_date)?,
                    new_timing: f.code("new_timing", &r.new_timing, Timing::from_code)?,
                    detected_at: f.instant("detected_at", &r.detected_at)?,
                    alert_reason: r.alert_reason,
                    alert_id: r.alert_id,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate, Utc};

    use crate::domain::{EarningsEvent, Ticker, Timing};
    use crate::store::Store;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[tokio::test]
    async fn housekeeping_keeps_the_calendar_versions_bounded() {
        let store = Store::open_in_memory().unwrap();
        let event = EarningsEvent {
            ticker: Ticker::new("AGYS").unwrap(),
            report_date: NaiveDate::from_ymd_opt(2026, 5, 18).unwrap(),
            timing: Timing::Amc,
            source: "test".into(),
        };
        let count = store
            .run(move |db| {
                db.record_calendar_version("test", std::slice::from_ref(&event), at("2025-01-02T11:00:00Z"))?;
                db.record_calendar_version("test", std::slice::from_ref(&event), at("2026-05-17T22:00:00Z"))?;
                db.housekeep(at("2026-01-01T00:00:00Z"))?;
                let n: i64 =
                    db.conn.query_row("SELECT count(*) FROM calendar_versions", [], |r| r.get(0)).unwrap();
                Ok(n)
            })
            .await
            .unwrap();
        assert_eq!(count, 1, "the version older than the retention is gone, the newer one stays");
    }
}

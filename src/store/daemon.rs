//! What the daemon and `ivcd status` read and maintain beyond the jobs'
//! own tables: store counts, the exchange's calendar overrides, and the
//! weekly housekeeping.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::rows::{Fields, row_struct, select_list};
use super::{Db, StoreError, instant_text};

/// A session's (open, close), ET wall-clock times.
pub type Hours = (NaiveTime, NaiveTime);

/// A day of the exchange's calendar that disagrees with the rules: the
/// date, the exchange's hours and the rules' hours (`None` = closed).
pub type OverrideRow = (NaiveDate, Option<Hours>, Option<Hours>);

/// What the database holds, for `ivcd status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreCounts {
    /// Earnings events stored with a report date in `[from, to]` (the next sessions).
    pub upcoming_events: usize,
    /// The first date of that window (ET).
    pub upcoming_from: NaiveDate,
    /// The last date of that window (ET).
    pub upcoming_to: NaiveDate,
    /// Distinct tickers with at least one measured historical move.
    pub tickers_with_history: usize,
    /// The latest scan, if any.
    pub last_scan: Option<ScanSummary>,
}

/// A scan in a line: when, and its candidates by tier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanSummary {
    /// The scan's id.
    pub scan_id: i64,
    /// Its slot (UTC).
    pub slot: DateTime<Utc>,
    /// The session whose AMC reporters it scanned (ET date).
    pub session_date: NaiveDate,
    /// All candidates.
    pub candidates: usize,
    /// Ranked candidates by tier (`excellent`, `good`, `marginal`, `skip`);
    /// candidates without figures are counted under `unanalysed`.
    pub by_tier: BTreeMap<String, usize>,
    /// The provider requests it sent; absent when its data came from recorded files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<u64>,
}

/// A day on which the exchange's calendar overrides the rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarOverride {
    /// The date (ET).
    pub date: NaiveDate,
    /// The exchange's hours (ET open, close), `None` when closed all day.
    pub exchange: Option<(NaiveTime, NaiveTime)>,
    /// What the rules said, `None` when closed.
    pub rules: Option<(NaiveTime, NaiveTime)>,
    /// Where the exchange's answer came from, e.g. `tradier:/v1/markets/calendar`.
    pub source: String,
    /// When it was read (UTC).
    pub fetched_at: DateTime<Utc>,
}

/// What a housekeeping run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HousekeepingCounts {
    /// Job runs deleted by the retention rule.
    pub job_runs_deleted: usize,
    /// WAL frames checkpointed into the database file.
    pub wal_frames_checkpointed: i64,
}

fn hours_text(hours: Option<(NaiveTime, NaiveTime)>) -> (Option<String>, Option<String>) {
    match hours {
        Some((open, close)) => {
            (Some(open.format("%H:%M").to_string()), Some(close.format("%H:%M").to_string()))
        }
        None => (None, None),
    }
}

impl Db<'_> {
    /// The counts `ivcd status` shows; `from..=to` is the window of upcoming report dates.
    ///
    /// # Errors
    /// SQLite errors or corrupt rows.
    pub fn store_counts(&mut self, from: NaiveDate, to: NaiveDate) -> Result<StoreCounts, StoreError> {
        let upcoming_events: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM earnings_events WHERE report_date BETWEEN ?1 AND ?2",
                params![from.to_string(), to.to_string()],
                |r| r.get(0),
            )
            .map_err(self.err("count upcoming events"))?;
        let tickers_with_history: i64 = self
            .conn
            .query_row("SELECT count(DISTINCT ticker) FROM historical_moves", [], |r| r.get(0))
            .map_err(self.err("count tickers with history"))?;
        let last: Option<LatestScanRow> = self
            .conn
            .query_row(
                &format!(
                    "SELECT {} FROM scans ORDER BY as_of DESC, id DESC LIMIT 1",
                    select_list(LatestScanRow::COLUMNS, "")
                ),
                [],
                LatestScanRow::read,
            )
            .map(Some)
            .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })
            .map_err(self.err("find latest scan"))?;
        let last_scan = match last {
            None => None,
            Some(LatestScanRow { id: scan_id, slot, session_date, requests }) => {
                let mut by_tier = BTreeMap::new();
                let mut stmt = self
                    .conn
                    .prepare("SELECT coalesce(tier, 'unanalysed'), count(*) FROM candidates WHERE scan_id = ?1 GROUP BY 1")
                    .map_err(self.err("count candidates by tier"))?;
                let rows = stmt
                    .query_map([scan_id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
                    .map_err(self.err("count candidates by tier"))?;
                for row in rows {
                    let (tier, n) = row.map_err(self.err("count candidates by tier"))?;
                    by_tier.insert(tier, usize::try_from(n).unwrap_or(0));
                }
                drop(stmt);
                Some(ScanSummary {
                    scan_id,
                    slot: Fields::new(self, "scans").instant("slot", &slot)?,
                    session_date: Fields::new(self, "scans").date("session_date", &session_date)?,
                    candidates: by_tier.values().sum(),
                    by_tier,
                    requests: requests.and_then(|n| u64::try_from(n).ok()),
                })
            }
        };
        Ok(StoreCounts {
            upcoming_events: usize::try_from(upcoming_events).unwrap_or(0),
            upcoming_from: from,
            upcoming_to: to,
            tickers_with_history: usize::try_from(tickers_with_history).unwrap_or(0),
            last_scan,
        })
    }

    /// Replaces the overrides read for `from..=to` with `rows` (date, the
    /// exchange's hours, the rules' hours), in one transaction.
    ///
    /// # Errors
    /// SQLite errors; nothing is changed then.
    pub fn replace_calendar_overrides(
        &mut self,
        from: NaiveDate,
        to: NaiveDate,
        rows: &[OverrideRow],
        source: &str,
        fetched_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.transaction(|db| {
            db.conn
                .execute(
                    "DELETE FROM calendar_overrides WHERE date BETWEEN ?1 AND ?2",
                    params![from.to_string(), to.to_string()],
                )
                .map_err(db.err("clear calendar overrides"))?;
            for (date, exchange, rules) in rows {
                let (open, close) = hours_text(*exchange);
                let (rule_open, rule_close) = hours_text(*rules);
                db.conn
                    .execute(
                        "INSERT INTO calendar_overrides (date, open, close, rule_open, rule_close, source, fetched_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        params![date.to_string(), open, close, rule_open, rule_close, source, instant_text(fetched_at)],
                    )
                    .map_err(db.err(format!("store calendar override {date}")))?;
            }
            Ok(())
        })
    }

    /// Every stored calendar override, by date.
    ///
    /// # Errors
    /// SQLite errors or corrupt rows.
    pub fn calendar_overrides(&mut self) -> Result<Vec<CalendarOverride>, StoreError> {
        let rows: Vec<CalendarOverrideRow> = {
            let mut stmt = self
                .conn
                .prepare(&format!(
                    "SELECT {} FROM calendar_overrides ORDER BY date",
                    select_list(CalendarOverrideRow::COLUMNS, "")
                ))
                .map_err(self.err("read calendar overrides"))?;
            stmt.query_map([], CalendarOverrideRow::read)
                .map_err(self.err("read calendar overrides"))?
                .collect::<Result<_, _>>()
                .map_err(self.err("read calendar overrides"))?
        };
        let f = Fields::new(self, "calendar_overrides");
        let time = |column: &'static str, text: Option<String>| -> Result<Option<NaiveTime>, StoreError> {
            text.map(|t| NaiveTime::parse_from_str(&t, "%H:%M").map_err(|_| f.corrupt(column, &t)))
                .transpose()
        };
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let pair = |a: Option<NaiveTime>, b: Option<NaiveTime>| a.zip(b);
            out.push(CalendarOverride {
                date: f.date("date", &row.date)?,
                exchange: pair(time("open", row.open)?, time("close", row.close)?),
                rules: pair(time("rule_open", row.rule_open)?, time("rule_close", row.rule_close)?),
                source: row.source,
                fetched_at: f.instant("fetched_at", &row.fetched_at)?,
            });
        }
        Ok(out)
    }

    /// The weekly housekeeping: deletes job runs that started before
    /// `retain_after` and that no stored scan refers to, then runs
    /// `PRAGMA optimize` and a WAL checkpoint (`TRUNCATE`).
    ///
    /// # Errors
    /// SQLite errors; a failed deletion changes nothing.
    pub fn housekeep(&mut self, retain_after: DateTime<Utc>) -> Result<HousekeepingCounts, StoreError> {
        let deleted = self.transaction(|db| {
            db.conn
                .execute(
                    "DELETE FROM job_runs WHERE started_at < ?1 AND outcome != 'running'
                       AND id NOT IN (SELECT job_run_id FROM scans WHERE job_run_id IS NOT NULL)",
                    [instant_text(retain_after)],
                )
                .map_err(db.err("delete old job runs"))
                .and_then(|deleted| {
                    // Every refresh's listing is kept (calendar_versions) for as
                    // long as the job runs that made it: the table stays bounded.
                    db.conn
                        .execute(
                            "DELETE FROM calendar_versions WHERE refreshed_at < ?1",
                            [instant_text(retain_after)],
                        )
                        .map_err(db.err("delete old calendar versions"))
                        .map(|_| deleted)
                })
        })?;
        self.conn.execute_batch("PRAGMA optimize").map_err(self.err("PRAGMA optimize"))?;
        let checkpointed: i64 = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(2))
            .map_err(self.err("WAL checkpoint"))?;
        Ok(HousekeepingCounts { job_runs_deleted: deleted, wal_frames_checkpointed: checkpointed })
    }
}

row_struct! {
    /// The summary columns of the latest row of `scans`.
    struct LatestScanRow {
        id: i64,
        slot: String,
        session_date: String,
        requests: Option<i64>,
    }
}

row_struct! {
    /// One row of `calendar_overrides`.
    struct CalendarOverrideRow {
        date: String,
        open: Option<String>,
        close: Option<String>,
        rule_open: Option<String>,
        rule_close: Option<String>,
        source: String,
        fetched_at: String,
    }
}

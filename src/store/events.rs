//! Earnings events.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::params;

use super::rows::{Fields, row_struct, select_list};
use super::{Db, StoreError, instant_text};
use crate::domain::{EarningsEvent, Ticker, Timing};

impl Db<'_> {
    /// Stores events, replacing any stored event of the same (ticker, report
    /// date). A known timing is never overwritten by `unknown`.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn upsert_events(
        &mut self,
        events: &[EarningsEvent],
        fetched_at: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let fetched = instant_text(fetched_at);
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT INTO earnings_events (ticker, report_date, timing, source, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (ticker, report_date) DO UPDATE SET
                     timing = CASE WHEN excluded.timing = 'unknown' THEN earnings_events.timing ELSE excluded.timing END,
                     source = CASE WHEN excluded.timing = 'unknown' AND earnings_events.timing <> 'unknown'
                                   THEN earnings_events.source ELSE excluded.source END,
                     fetched_at = excluded.fetched_at",
            )
            .map_err(|cause| StoreError::Sqlite { path: self.path.display().to_string(), context: "prepare upsert_events".into(), cause })?;
        let mut n = 0;
        for e in events {
            n += stmt
                .execute(params![
                    e.ticker.as_str(),
                    e.report_date.to_string(),
                    e.timing.code(),
                    e.source,
                    fetched
                ])
                .map_err(|cause| StoreError::Sqlite {
                    path: self.path.display().to_string(),
                    context: format!("store event {} {}", e.ticker, e.report_date),
                    cause,
                })?;
        }
        Ok(n)
    }

    /// Replaces the upcoming events one source listed for `from..=to`: rows of
    /// that source in the window that the new listing no longer has (a
    /// rescheduled report) are deleted, the rest upserted. Past events
    /// (before `from`) are never touched.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn replace_calendar_window(
        &mut self,
        source: &str,
        from: NaiveDate,
        to: NaiveDate,
        events: &[EarningsEvent],
        fetched_at: DateTime<Utc>,
    ) -> Result<(usize, usize), StoreError> {
        let removed = self
            .conn
            .execute(
                "DELETE FROM earnings_events WHERE source = ?1 AND report_date BETWEEN ?2 AND ?3",
                params![source, from.to_string(), to.to_string()],
            )
            .map_err(self.err("delete rescheduled events"))?;
        let stored = self.upsert_events(events, fetched_at)?;
        Ok((stored, removed))
    }

    /// Events with `from <= report_date <= to`, by date then ticker.
    ///
    /// # Errors
    /// SQLite errors, or a corrupt stored value.
    pub fn events_between(
        &mut self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<EarningsEvent>, StoreError> {
        self.query_events(
            &format!(
                "SELECT {} FROM earnings_events WHERE report_date BETWEEN ?1 AND ?2 ORDER BY report_date, ticker",
                select_list(EarningsEventRow::COLUMNS, "")
            ),
            &[&from.to_string(), &to.to_string()],
        )
    }

    /// All stored events of one ticker, oldest first.
    ///
    /// # Errors
    /// SQLite errors, or a corrupt stored value.
    pub fn events_for_ticker(&mut self, ticker: &Ticker) -> Result<Vec<EarningsEvent>, StoreError> {
        self.query_events(
            &format!(
                "SELECT {} FROM earnings_events WHERE ticker = ?1 ORDER BY report_date",
                select_list(EarningsEventRow::COLUMNS, "")
            ),
            &[&ticker.as_str()],
        )
    }

    fn query_events(
        &mut self,
        sql: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<EarningsEvent>, StoreError> {
        let rows: Vec<EarningsEventRow> = {
            let mut stmt = self.conn.prepare_cached(sql).map_err(self.err("prepare events query"))?;
            stmt.query_map(args, EarningsEventRow::read)
                .and_then(|rows| rows.collect())
                .map_err(self.err("read events"))?
        };
        let f = Fields::new(self, "earnings_events");
        rows.into_iter()
            .map(|row| {
                Ok(EarningsEvent {
                    ticker: f.ticker("ticker", &row.ticker)?,
                    report_date: f.date("report_date", &row.report_date)?,
                    timing: f.code("timing", &row.timing, Timing::from_code)?,
                    source: row.source,
                })
            })
            .collect()
    }

    /// Records that a ticker's past earnings were read from `source`.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn record_history_fetch(
        &mut self,
        ticker: &Ticker,
        source: &str,
        n_events: usize,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO history_fetches (ticker, source, fetched_at, n_events) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (ticker, source) DO UPDATE SET fetched_at = excluded.fetched_at, n_events = excluded.n_events",
                params![ticker.as_str(), source, instant_text(at), n_events as i64],
            )
            .map_err(self.err("record history fetch"))?;
        Ok(())
    }

    /// When a ticker's past earnings were last read from `source`, if ever.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn history_fetched_at(
        &mut self,
        ticker: &Ticker,
        source: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT fetched_at FROM history_fetches WHERE ticker = ?1 AND source = ?2",
                params![ticker.as_str(), source],
                |r| r.get(0),
            )
            .map(Some)
            .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })
            .map_err(self.err("read history fetch"))?;
        super::rows::Fields::new(self, "history_fetches").opt_instant("fetched_at", text)
    }
}

row_struct! {
    /// One row of `earnings_events` (its fetch time aside).
    struct EarningsEventRow {
        ticker: String,
        report_date: String,
        timing: String,
        source: String,
    }
}

//! Daily bars and the record of which ranges were fetched.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::params;

use super::rows::{Fields, row_struct, select_list};
use super::{Db, StoreError, instant_text};
use crate::domain::{DailyBar, Ticker};

impl Db<'_> {
    /// Stores bars of `ticker` from `source`; a bar already stored for the
    /// same date is replaced by the newer fetch.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn upsert_bars(
        &mut self,
        ticker: &Ticker,
        bars: &[DailyBar],
        source: &str,
        fetched_at: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let fetched = instant_text(fetched_at);
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT OR REPLACE INTO daily_bars (ticker, date, open, high, low, close, volume, source, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .map_err(self.err("prepare upsert_bars"))?;
        for b in bars {
            stmt.execute(params![
                ticker.as_str(),
                b.date.to_string(),
                b.open.to_string(),
                b.high.to_string(),
                b.low.to_string(),
                b.close.to_string(),
                b.volume.map(|v| v as i64),
                source,
                fetched,
            ])
            .map_err(self.err(format!("store bar {ticker} {}", b.date)))?;
        }
        Ok(bars.len())
    }

    /// Records that `first..=last` of `ticker` was requested from `source`.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn record_bar_fetch(
        &mut self,
        ticker: &Ticker,
        source: &str,
        first: NaiveDate,
        last: NaiveDate,
        n_bars: usize,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO bar_fetches (ticker, source, first_date, last_date, fetched_at, n_bars) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![ticker.as_str(), source, first.to_string(), last.to_string(), instant_text(at), n_bars as i64],
            )
            .map_err(self.err("record bar fetch"))?;
        Ok(())
    }

    /// The date ranges of `ticker` already requested (from any source), unmerged.
    ///
    /// # Errors
    /// SQLite errors or a corrupt stored date.
    pub fn bar_fetches(&mut self, ticker: &Ticker) -> Result<Vec<(NaiveDate, NaiveDate)>, StoreError> {
        let rows: Vec<(String, String)> = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT first_date, last_date FROM bar_fetches WHERE ticker = ?1 ORDER BY first_date",
                )
                .map_err(self.err("prepare bar_fetches"))?;
            stmt.query_map([ticker.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(|rows| rows.collect())
                .map_err(self.err("read bar fetches"))?
        };
        rows.iter()
            .map(|(a, b)| {
                let f = Fields::new(self, "bar_fetches");
                Ok((f.date("first_date", a)?, f.date("last_date", b)?))
            })
            .collect()
    }

    /// Stored bars of `ticker` with `from <= date <= to`, keyed by date.
    ///
    /// # Errors
    /// SQLite errors or a corrupt stored value.
    pub fn bars(
        &mut self,
        ticker: &Ticker,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<BTreeMap<NaiveDate, DailyBar>, StoreError> {
        let rows: Vec<DailyBarRow> = {
            let mut stmt = self
                .conn
                .prepare_cached(&format!(
                    "SELECT {} FROM daily_bars WHERE ticker = ?1 AND date BETWEEN ?2 AND ?3 ORDER BY date",
                    select_list(DailyBarRow::COLUMNS, "")
                ))
                .map_err(self.err("prepare bars"))?;
            stmt.query_map(params![ticker.as_str(), from.to_string(), to.to_string()], DailyBarRow::read)
                .and_then(|rows| rows.collect())
                .map_err(self.err("read bars"))?
        };
        let f = Fields::new(self, "daily_bars");
        let mut out = BTreeMap::new();
        for row in rows {
            let date = f.date("date", &row.date)?;
            out.insert(
                date,
                DailyBar {
                    date,
                    open: f.decimal("open", &row.open)?,
                    high: f.decimal("high", &row.high)?,
                    low: f.decimal("low", &row.low)?,
                    close: f.decimal("close", &row.close)?,
                    volume: row.volume.and_then(|v| u64::try_from(v).ok()),
                },
            );
        }
        Ok(out)
    }
}

row_struct! {
    /// The prices of one row of `daily_bars`.
    struct DailyBarRow {
        date: String,
        open: String,
        high: String,
        low: String,
        close: String,
        volume: Option<i64>,
    }
}

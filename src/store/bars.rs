//! Daily bars and the record of which ranges were fetched.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::params;

use super::{Db, StoreError, instant_text, parse_date, parse_decimal};
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
                Ok((
                    parse_date(self, "bar_fetches", "first_date", a)?,
                    parse_date(self, "bar_fetches", "last_date", b)?,
                ))
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
        type Row = (String, String, String, String, String, Option<i64>);
        let rows: Vec<Row> = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT date, open, high, low, close, volume FROM daily_bars
                     WHERE ticker = ?1 AND date BETWEEN ?2 AND ?3 ORDER BY date",
                )
                .map_err(self.err("prepare bars"))?;
            stmt.query_map(params![ticker.as_str(), from.to_string(), to.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
            })
            .and_then(|rows| rows.collect())
            .map_err(self.err("read bars"))?
        };
        let mut out = BTreeMap::new();
        for (date, open, high, low, close, volume) in rows {
            let date = parse_date(self, "daily_bars", "date", &date)?;
            out.insert(
                date,
                DailyBar {
                    date,
                    open: parse_decimal(self, "daily_bars", "open", &open)?,
                    high: parse_decimal(self, "daily_bars", "high", &high)?,
                    low: parse_decimal(self, "daily_bars", "low", &low)?,
                    close: parse_decimal(self, "daily_bars", "close", &close)?,
                    volume: volume.and_then(|v| u64::try_from(v).ok()),
                },
            );
        }
        Ok(out)
    }
}

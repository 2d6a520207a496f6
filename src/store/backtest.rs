//! Implied moves backfilled from end-of-day chains (`ivcd backtest`).

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::params;
use rust_decimal::Decimal;

use super::{Cells, Db, StoreError, instant_text, opt_text};
use crate::domain::{Ticker, Timing};

/// One row of `historical_implied_moves`: the implied move at the close
/// before a past event, or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoricalImplied {
    /// The reporting company.
    pub ticker: Ticker,
    /// The report date (ET).
    pub report_date: NaiveDate,
    /// BMO or AMC.
    pub timing: Timing,
    /// The session whose end-of-day chain was read (ET).
    pub chain_date: NaiveDate,
    /// The reaction session (ET).
    pub reaction_session: NaiveDate,
    /// Where the chain came from, e.g. `alpha_vantage:HISTORICAL_OPTIONS`.
    pub source: String,
    /// The event's expiration in that chain.
    pub expiration: Option<NaiveDate>,
    /// The reference close, USD.
    pub spot: Option<Decimal>,
    /// The ATM straddle, USD per share.
    pub straddle: Option<Decimal>,
    /// straddle / spot, fraction; `None` exactly when `reason` is set.
    pub implied_move: Option<f64>,
    /// Why there is no implied move.
    pub reason: Option<String>,
    /// When it was fetched (UTC).
    pub fetched_at: DateTime<Utc>,
}

impl Db<'_> {
    /// Stores (or replaces) one backfilled implied move.
    ///
    /// # Errors
    /// SQLite errors (including the CHECK that exactly one of the implied
    /// move and the reason is set).
    pub fn store_historical_implied(&mut self, row: &HistoricalImplied) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO historical_implied_moves (ticker, report_date, timing, chain_date,
                     reaction_session, source, expiration, spot, straddle, implied_move, reason, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    row.ticker.as_str(),
                    row.report_date.to_string(),
                    row.timing.code(),
                    row.chain_date.to_string(),
                    row.reaction_session.to_string(),
                    row.source,
                    opt_text(&row.expiration),
                    opt_text(&row.spot),
                    opt_text(&row.straddle),
                    row.implied_move,
                    row.reason,
                    instant_text(row.fetched_at),
                ],
            )
            .map_err(self.err(format!("store historical implied move {} {}", row.ticker, row.report_date)))?;
        Ok(())
    }

    /// The implied moves of `ticker` computed from chains (method `chain`;
    /// recorded ones are read by `recorded_implied`), oldest first.
    ///
    /// # Errors
    /// SQLite errors or a corrupt stored value.
    pub fn historical_implied(&mut self, ticker: &Ticker) -> Result<Vec<HistoricalImplied>, StoreError> {
        let rows: Vec<Vec<rusqlite::types::Value>> = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT report_date, timing, chain_date, reaction_session, source, expiration, spot, straddle,
                            implied_move, reason, fetched_at
                     FROM historical_implied_moves WHERE ticker = ?1 AND method = 'chain' ORDER BY report_date",
                )
                .map_err(self.err("prepare historical implied moves"))?;
            stmt.query_map([ticker.as_str()], |r| (0..11).map(|i| r.get(i)).collect())
                .and_then(|rows| rows.collect())
                .map_err(self.err("read historical implied moves"))?
        };
        rows.iter()
            .map(|row| {
                let c = Cells::new(self, "historical_implied_moves", row);
                let need_date = |i, column| c.date(i, column)?.ok_or_else(|| c.corrupt(column, ""));
                Ok(HistoricalImplied {
                    ticker: ticker.clone(),
                    report_date: need_date(0, "report_date")?,
                    timing: c.code(1, "timing", Timing::from_code)?.ok_or_else(|| c.corrupt("timing", ""))?,
                    chain_date: need_date(2, "chain_date")?,
                    reaction_session: need_date(3, "reaction_session")?,
                    source: c.need(4, "source")?,
                    expiration: c.date(5, "expiration")?,
                    spot: c.decimal(6, "spot")?,
                    straddle: c.decimal(7, "straddle")?,
                    implied_move: c.real(8),
                    reason: c.text(9),
                    fetched_at: c.instant(10, "fetched_at")?.ok_or_else(|| c.corrupt("fetched_at", ""))?,
                })
            })
            .collect()
    }
}

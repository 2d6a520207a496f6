//! Implied moves backfilled from end-of-day chains (`ivcd backtest`).

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::params;
use rust_decimal::Decimal;

use super::rows::{Fields, row_struct, select_list};
use super::{Db, StoreError, instant_text, opt_text};
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
        let rows: Vec<HistoricalImpliedRow> = {
            let mut stmt = self
                .conn
                .prepare_cached(&format!(
                    "SELECT {} FROM historical_implied_moves WHERE ticker = ?1 AND method = 'chain' ORDER BY report_date",
                    select_list(HistoricalImpliedRow::COLUMNS, "")
                ))
                .map_err(self.err("prepare historical implied moves"))?;
            stmt.query_map([ticker.as_str()], HistoricalImpliedRow::read)
                .and_then(|rows| rows.collect())
                .map_err(self.err("read historical implied moves"))?
        };
        rows.into_iter().map(|row| row.implied(self, ticker)).collect()
    }
}

row_struct! {
    /// The columns of one chain row of `historical_implied_moves` that
    /// [`HistoricalImplied`] holds (its ticker is asked for).
    struct HistoricalImpliedRow {
        report_date: String,
        timing: String,
        chain_date: String,
        reaction_session: String,
        source: String,
        expiration: Option<String>,
        spot: Option<String>,
        straddle: Option<String>,
        implied_move: Option<f64>,
        reason: Option<String>,
        fetched_at: String,
    }
}

impl HistoricalImpliedRow {
    fn implied(self, db: &Db<'_>, ticker: &Ticker) -> Result<HistoricalImplied, StoreError> {
        let f = Fields::new(db, "historical_implied_moves");
        Ok(HistoricalImplied {
            ticker: ticker.clone(),
            report_date: f.date("report_date", &self.report_date)?,
            timing: f.code("timing", &self.timing, Timing::from_code)?,
            chain_date: f.date("chain_date", &self.chain_date)?,
            reaction_session: f.date("reaction_session", &self.reaction_session)?,
            source: self.source,
            expiration: f.opt_date("expiration", self.expiration)?,
            spot: f.opt_decimal("spot", self.spot)?,
            straddle: f.opt_decimal("straddle", self.straddle)?,
            implied_move: self.implied_move,
            reason: self.reason,
            fetched_at: f.instant("fetched_at", &self.fetched_at)?,
        })
    }
}

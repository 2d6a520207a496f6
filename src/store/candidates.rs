//! The candidates of a stored scan, read back: one row of `candidates`
//! (`CandidateRow`) mapped to a `report::Candidate`.

use rusqlite::params;

use super::rows::{Fields, row_struct, select_list};
use super::{Db, StoreError};
use crate::analysis::implied::{SpotSource, StraddleMethod};
use crate::analysis::vrp::Tier;
use crate::domain::{Ticker, Timing};
use crate::report::{Candidate, PastMove};

impl Db<'_> {
    /// The candidates of `scan_id` (only `ticker`'s when given), in rank order.
    pub(super) fn candidates(
        &mut self,
        scan_id: i64,
        ticker: Option<&Ticker>,
    ) -> Result<Vec<Candidate>, StoreError> {
        let rows: Vec<CandidateRow> = {
            let mut stmt = self
                .conn
                .prepare_cached(&format!(
                    "SELECT {} FROM candidates WHERE scan_id = ?1 AND (?2 IS NULL OR ticker = ?2)
                     ORDER BY rank IS NULL, rank, ticker",
                    select_list(CandidateRow::COLUMNS, "")
                ))
                .map_err(self.err("prepare candidates"))?;
            stmt.query_map(params![scan_id, ticker.map(Ticker::as_str)], CandidateRow::read)
                .and_then(|rows| rows.collect())
                .map_err(self.err("read candidates"))?
        };
        rows.into_iter().map(|row| row.candidate(self)).collect()
    }
}

row_struct! {
    /// One row of `candidates`, as stored.
    struct CandidateRow {
        rank: Option<i64>,
        ticker: String,
        report_date: String,
        timing: String,
        reference_session: Option<String>,
        reaction_session: Option<String>,
        expiration: Option<String>,
        spot: Option<String>,
        spot_source: Option<String>,
        straddle: Option<String>,
        straddle_method: Option<String>,
        lower_strike: Option<String>,
        lower_straddle: Option<String>,
        upper_strike: Option<String>,
        upper_straddle: Option<String>,
        implied_move: Option<f64>,
        historical_mean_move: Option<f64>,
        historical_median_move: Option<f64>,
        mad: Option<f64>,
        relative_mad: Option<f64>,
        max_move: Option<f64>,
        tail_risk_ratio: Option<f64>,
        n_events: i64,
        past_moves: String,
        vrp: Option<f64>,
        tier: Option<String>,
        edge_score: Option<f64>,
        chain_snapshot_id: Option<i64>,
        chain_as_of: Option<String>,
        chain_age_seconds: Option<i64>,
        reason: Option<String>,
        warnings: String,
        analysis: Option<String>,
    }
}

impl CandidateRow {
    /// The candidate, without its structures (read separately).
    fn candidate(self, db: &Db<'_>) -> Result<Candidate, StoreError> {
        let f = Fields::new(db, "candidates");
        Ok(Candidate {
            rank: self.rank.and_then(|r| u32::try_from(r).ok()),
            ticker: f.ticker("ticker", &self.ticker)?,
            report_date: f.date("report_date", &self.report_date)?,
            timing: f.code("timing", &self.timing, Timing::from_code)?,
            reference_session: f.opt_date("reference_session", self.reference_session)?,
            reaction_session: f.opt_date("reaction_session", self.reaction_session)?,
            expiration: f.opt_date("expiration", self.expiration)?,
            spot: f.opt_decimal("spot", self.spot)?,
            spot_source: f.opt_code("spot_source", self.spot_source, SpotSource::from_code)?,
            straddle: f.opt_decimal("straddle", self.straddle)?,
            straddle_method: f.opt_code(
                "straddle_method",
                self.straddle_method,
                StraddleMethod::from_code,
            )?,
            lower_strike: f.opt_decimal("lower_strike", self.lower_strike)?,
            lower_straddle: f.opt_decimal("lower_straddle", self.lower_straddle)?,
            upper_strike: f.opt_decimal("upper_strike", self.upper_strike)?,
            upper_straddle: f.opt_decimal("upper_straddle", self.upper_straddle)?,
            implied_move: self.implied_move,
            historical_mean_move: self.historical_mean_move,
            historical_median_move: self.historical_median_move,
            mad: self.mad,
            relative_mad: self.relative_mad,
            max_move: self.max_move,
            tail_risk_ratio: self.tail_risk_ratio,
            n_events: usize::try_from(self.n_events).unwrap_or(0),
            past_moves: f.json::<Vec<PastMove>>("past_moves", &self.past_moves)?,
            vrp: self.vrp,
            tier: f.opt_code("tier", self.tier, Tier::from_code)?,
            edge_score: self.edge_score,
            chain_snapshot_id: self.chain_snapshot_id,
            chain_as_of: f.opt_instant("chain_as_of", self.chain_as_of)?,
            chain_age_seconds: self.chain_age_seconds,
            reason: self.reason,
            warnings: f.json("warnings", &self.warnings)?,
            structures: Vec::new(),
            analysis: self.analysis.map(|a| f.json("analysis", &a)).transpose()?,
            tier_record: None,
            ticker_record: None,
        })
    }
}

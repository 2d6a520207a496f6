//! What a scan produced, as stored and as printed: the records behind
//! `ivcd scan --json` (a stable schema, documented in `docs/json.md`) and the
//! human table. Everything here is read back from the store, so what a user
//! sees is what the database holds.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::analysis::structures::Structure;
use crate::analysis::vrp::Tier;
use crate::domain::{Ticker, Timing};

/// One past event as listed with a candidate: its reaction session and signed gap move (fraction).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct PastMove {
    /// The report date (ET).
    pub report_date: NaiveDate,
    /// The session the gap is measured at (ET).
    pub reaction_session: NaiveDate,
    /// open(reaction) / close(reference) - 1, signed fraction.
    pub gap_move: f64,
}

/// One scanned earnings event with every input and output of its analysis.
///
/// Moves and ratios are fractions (0.1296 = 12.96%); money is USD per share
/// as exact decimals (JSON strings); dates are ET; instants UTC.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// 1 for the best setup; `None` when the candidate could not be analysed.
    pub rank: Option<u32>,
    /// The reporting company.
    pub ticker: Ticker,
    /// The report date (ET).
    pub report_date: NaiveDate,
    /// BMO or AMC.
    pub timing: Timing,
    /// The last session before the news (ET).
    pub reference_session: Option<NaiveDate>,
    /// The first session that trades on the news (ET).
    pub reaction_session: Option<NaiveDate>,
    /// The first expiration on or after the reaction session.
    pub expiration: Option<NaiveDate>,
    /// The underlying price S, USD (bid/ask mid, else last).
    pub spot: Option<Decimal>,
    /// Where the spot came from (`chain` for the chain's own underlying quote, `quote` for a separate quote).
    pub spot_source: Option<String>,
    /// The ATM straddle, USD per share (interpolated between the bracketing strikes).
    pub straddle: Option<Decimal>,
    /// `at_strike`, `interpolated` or `nearest_fallback`.
    pub straddle_method: Option<String>,
    /// The bracketing strike at or below the spot, USD.
    pub lower_strike: Option<Decimal>,
    /// The straddle at `lower_strike`, USD per share.
    pub lower_straddle: Option<Decimal>,
    /// The bracketing strike at or above the spot, USD.
    pub upper_strike: Option<Decimal>,
    /// The straddle at `upper_strike`, USD per share.
    pub upper_straddle: Option<Decimal>,
    /// straddle / spot, fraction.
    pub implied_move: Option<f64>,
    /// Mean absolute gap move over the window, fraction.
    pub historical_mean_move: Option<f64>,
    /// Median absolute gap move, fraction.
    pub historical_median_move: Option<f64>,
    /// Median absolute deviation of the absolute gap moves, fraction.
    pub mad: Option<f64>,
    /// MAD / median.
    pub relative_mad: Option<f64>,
    /// Largest absolute gap move in the window, fraction.
    pub max_move: Option<f64>,
    /// max / mean absolute gap move.
    pub tail_risk_ratio: Option<f64>,
    /// How many past events the historical figures use.
    pub n_events: usize,
    /// Those events, newest first.
    pub past_moves: Vec<PastMove>,
    /// implied move / historical mean move.
    pub vrp: Option<f64>,
    /// `excellent`, `good`, `marginal` or `skip`.
    pub tier: Option<Tier>,
    /// VRP / (1 + relative MAD).
    pub edge_score: Option<f64>,
    /// The stored chain snapshot's id (table `chain_snapshots`).
    pub chain_snapshot_id: Option<i64>,
    /// When the chain's quotes were taken (UTC).
    pub chain_as_of: Option<DateTime<Utc>>,
    /// Age of the chain at the scan, seconds.
    pub chain_age_seconds: Option<i64>,
    /// Why there are no figures, when there are none.
    pub reason: Option<String>,
    /// Caveats about the figures.
    pub warnings: Vec<String>,
    /// The structures proposed for the event (short straddle, short
    /// strangle, iron condor; one contract per leg) with their legs' quotes
    /// at the scan; empty without an implied move. See `docs/review.md`.
    pub structures: Vec<Structure>,
}

/// A stored scan with its candidates in rank order (unanalysable ones last).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanReport {
    /// The scan's id in table `scans`.
    pub scan_id: i64,
    /// The slot the scan ran for (RFC 3339 UTC).
    pub slot: DateTime<Utc>,
    /// The instant the scan ran "as of" (UTC).
    pub as_of: DateTime<Utc>,
    /// The session whose AMC reporters were scanned (ET date).
    pub session_date: NaiveDate,
    /// The next session, whose BMO reporters were scanned (ET date).
    pub next_session: NaiveDate,
    /// Candidates in rank order.
    pub candidates: Vec<Candidate>,
}

//! What the post-crush review produced, as stored and as printed: the
//! records behind `ivcd review --json`, `ivcd report --json` (stable
//! schemas, documented in `docs/json.md`) and the review alert. Everything
//! here is read back from the store.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::analysis::scoreboard::{self, ReviewedStructure, ScoreLine};
use crate::analysis::structures::{ExitBasis, StructureKind};
use crate::analysis::track_record::{Calibration, LiveAgainstCalibrated, LiveOutcome, against_calibration};
pub use crate::analysis::valuation::{PriceSource, StructureOutcome};
use crate::analysis::vrp::Tier;
use crate::domain::{Ticker, Timing};

/// Where a review stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    /// The stock opened; the figures are filled in.
    Reviewed,
    /// No opening price yet (a halt, a delayed open, or no price data; the
    /// reason says which): retried at the next review slot.
    Pending,
}

impl ReviewStatus {
    /// `reviewed` or `pending`.
    pub fn code(self) -> &'static str {
        match self {
            ReviewStatus::Reviewed => "reviewed",
            ReviewStatus::Pending => "pending",
        }
    }

    /// Reads a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "reviewed" => Some(ReviewStatus::Reviewed),
            "pending" => Some(ReviewStatus::Pending),
            _ => None,
        }
    }
}

/// One event's review.
///
/// Moves and ratios are fractions; money USD per share unless named per
/// contract; dates ET; instants UTC.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Review {
    /// The reporting company.
    pub ticker: Ticker,
    /// The report date (ET).
    pub report_date: NaiveDate,
    /// BMO or AMC.
    pub timing: Timing,
    /// The scan whose candidate this was (None once that scan was replaced).
    pub scan_id: Option<i64>,
    /// When that scan ran (UTC).
    pub scan_as_of: DateTime<Utc>,
    /// The review slot that wrote this review (UTC).
    pub slot: DateTime<Utc>,
    /// When the review ran (UTC).
    pub reviewed_at: DateTime<Utc>,
    /// `reviewed` or `pending`.
    pub status: ReviewStatus,
    /// The last session before the news (ET).
    pub reference_session: NaiveDate,
    /// The session that trades on the news (ET).
    pub reaction_session: NaiveDate,
    /// The event's expiration (the structures' legs).
    pub expiration: Option<NaiveDate>,
    /// The tier at the scan.
    pub tier: Option<Tier>,
    /// The VRP ratio at the scan.
    pub vrp: Option<f64>,
    /// The implied move at the scan, fraction.
    pub implied_move: Option<f64>,
    /// The spot at the scan, USD.
    pub spot_at_scan: Option<Decimal>,
    /// The close of the reference session, USD.
    pub reference_close: Option<Decimal>,
    /// Where it came from: `daily_bar` (stored or fetched) or `quote` (the quote's previous close).
    pub reference_source: Option<PriceSource>,
    /// The reaction session's opening price, USD.
    pub open_price: Option<Decimal>,
    /// Where it came from: `quote` or `daily_bar`.
    pub open_source: Option<PriceSource>,
    /// The underlying's bid at the review, USD (from the quote, when there was one).
    pub open_bid: Option<Decimal>,
    /// The underlying's ask at the review, USD.
    pub open_ask: Option<Decimal>,
    /// open / reference close - 1, signed fraction.
    pub realized_move: Option<f64>,
    /// |realized move| / implied move.
    pub move_ratio: Option<f64>,
    /// Whether the stock moved more than implied.
    pub outside: Option<bool>,
    /// ATM IV at the scan (mean of the straddle strike's call and put IV).
    pub iv_entry: Option<f64>,
    /// ATM IV at the review, same strike and expiration.
    pub iv_exit: Option<f64>,
    /// (IV entry - IV exit) / IV entry, fraction.
    pub iv_crush: Option<f64>,
    /// The stored exit chain snapshot (table `chain_snapshots`).
    pub exit_snapshot_id: Option<i64>,
    /// When the exit quotes were taken (UTC).
    pub exit_as_of: Option<DateTime<Utc>>,
    /// Why the review is not (fully) quote-based, or why it is pending.
    pub reason: Option<String>,
    /// Caveats.
    pub warnings: Vec<String>,
    /// The proposed structures' outcomes (straddle, strangle, condor).
    pub structures: Vec<StructureOutcome>,
}

impl Review {
    /// This review's structure of `kind`, if it was proposed.
    pub fn structure(&self, kind: StructureKind) -> Option<&StructureOutcome> {
        self.structures.iter().find(|s| s.kind == kind)
    }
}

/// What one review run did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewRun {
    /// The review slot (UTC).
    pub slot: DateTime<Utc>,
    /// The reviews written by this run (reviewed and pending).
    pub reviews: Vec<Review>,
}

/// The scoreboard over the stored reviews: per tier and structure, and
/// per ticker.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportCard {
    /// Only reviews of reaction sessions on or after this date (ET), if set.
    pub since: Option<NaiveDate>,
    /// Reviewed events counted.
    pub n_reviews: usize,
    /// Of which with proposed structures.
    pub n_with_structures: usize,
    /// Of those, how many had every structure valued from quotes (the rest
    /// were valued at intrinsic value).
    pub n_quoted: usize,
    /// Events still waiting for an opening price.
    pub n_pending: usize,
    /// Events that moved more than implied (of those with an implied move).
    pub n_outside: usize,
    /// Events with an implied move.
    pub n_with_implied: usize,
    /// The scoreboard rows, by tier then structure.
    pub scoreboard: Vec<ScoreLine>,
    /// Every review, by ticker then reaction session.
    pub reviews: Vec<Review>,
    /// The last `ivcd calibrate` run; `None` when none was run (or not read).
    pub calibration: Option<Calibration>,
    /// Per tier, best first: the live reviews beside the calibrated record.
    pub against_calibration: Vec<LiveAgainstCalibrated>,
}

impl ReportCard {
    /// Builds the report card from stored reviews (any order).
    pub fn new(mut reviews: Vec<Review>, since: Option<NaiveDate>) -> Self {
        reviews.sort_by(|a, b| a.ticker.cmp(&b.ticker).then(a.reaction_session.cmp(&b.reaction_session)));
        let done: Vec<&Review> = reviews.iter().filter(|r| r.status == ReviewStatus::Reviewed).collect();
        let reviewed: Vec<ReviewedStructure> = done
            .iter()
            .filter_map(|r| r.tier.map(|tier| (r, tier)))
            .flat_map(|(r, tier)| {
                r.structures.iter().map(move |s| ReviewedStructure {
                    tier,
                    kind: s.kind,
                    basis: s.basis,
                    pnl_natural: s.natural.per_contract,
                    pnl_mid: s.mid.per_contract,
                    move_ratio: r.move_ratio,
                })
            })
            .collect();
        Self {
            since,
            n_reviews: done.len(),
            n_with_structures: done.iter().filter(|r| !r.structures.is_empty()).count(),
            n_quoted: done
                .iter()
                .filter(|r| {
                    !r.structures.is_empty() && r.structures.iter().all(|s| s.basis == ExitBasis::Quotes)
                })
                .count(),
            n_pending: reviews.iter().filter(|r| r.status == ReviewStatus::Pending).count(),
            n_outside: done.iter().filter(|r| r.outside == Some(true)).count(),
            n_with_implied: done.iter().filter(|r| r.outside.is_some()).count(),
            scoreboard: scoreboard::scoreboard(&reviewed),
            against_calibration: against_calibration(&live_outcomes(&done), None),
            calibration: None,
            reviews,
        }
    }

    /// The same card with the live reviews set beside `calibration`'s
    /// tier records.
    pub fn with_calibration(mut self, calibration: Option<Calibration>) -> Self {
        let done: Vec<&Review> = self.reviews.iter().filter(|r| r.status == ReviewStatus::Reviewed).collect();
        self.against_calibration = against_calibration(&live_outcomes(&done), calibration.as_ref());
        self.calibration = calibration;
        self
    }
}

/// The reviewed events with a tier as the comparison with the calibration
/// reads them: inside the implied move, and the short straddle's P&L at mids
/// per share over the reference close.
fn live_outcomes(done: &[&Review]) -> Vec<LiveOutcome> {
    done.iter()
        .filter_map(|r| {
            Some(LiveOutcome {
                tier: r.tier?,
                vrp: r.vrp,
                inside: r.outside.map(|o| !o),
                straddle: r.structure(StructureKind::ShortStraddle).and_then(|s| {
                    let close = r.reference_close.filter(|c| *c > Decimal::ZERO)?;
                    f64::try_from(s.mid.per_share / close).ok()
                }),
            })
        })
        .collect()
}

//! What a scan produced, as stored and as printed: the records behind
//! `ivcd scan --json` (a stable schema, documented in `docs/json.md`) and the
//! human table. Everything here is read back from the store, so what a user
//! sees is what the database holds.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::analysis::candidate::CandidateAnalysis;
use crate::analysis::full::Analysis;
use crate::analysis::implied::{SpotSource, StraddleMethod};
use crate::analysis::liquidity::LiquidityVerdict;
use crate::analysis::structures::Structure;
pub use crate::analysis::track_record::{Calibration, RecordedOutcome, TickerRecord, TierRecord};
use crate::analysis::vrp::Tier;
use crate::domain::{EarningsEvent, Ticker, Timing};

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
    pub spot_source: Option<SpotSource>,
    /// The ATM straddle, USD per share (interpolated between the bracketing strikes).
    pub straddle: Option<Decimal>,
    /// `at_strike`, `interpolated` or `nearest_fallback`.
    pub straddle_method: Option<StraddleMethod>,
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
    /// The full analysis: term structure and event move, skew, liquidity,
    /// consistency, probability bounds and the explained score
    /// (`docs/analysis.md`); `None` for scans stored before it existed.
    pub analysis: Option<Analysis>,
    /// The record of its tier on recorded past reports, from the last
    /// `ivcd calibrate` run ([`Calibration::record_of`]); `None` without a
    /// tier, without a calibration, or when the calibration's thresholds
    /// put its VRP in another tier. Read at display time, not stored with the scan.
    pub tier_record: Option<TierRecord>,
    /// The ticker's own recorded implied moves against what followed,
    /// over reports whose reaction ended before this event's reference
    /// session (no look-ahead); `None` when none is stored.
    pub ticker_record: Option<TickerRecord>,
}

impl Candidate {
    /// The record of `event` as [`crate::analysis::candidate::candidate`]
    /// analysed it; unranked ([`rank`] numbers the tradeable candidates of a
    /// scan) and not yet stored (no `chain_snapshot_id`).
    pub fn new(event: &EarningsEvent, a: CandidateAnalysis) -> Self {
        let m = a.straddle.as_ref();
        let stats = a.stats.as_ref();
        Self {
            rank: None,
            ticker: event.ticker.clone(),
            report_date: event.report_date,
            timing: event.timing,
            reference_session: a.sessions.map(|s| s.reference_session),
            reaction_session: a.sessions.map(|s| s.reaction_session),
            expiration: a.expiration,
            spot: a.spot,
            spot_source: a.spot_source,
            straddle: a.straddle_price,
            straddle_method: m.map(|m| m.method),
            lower_strike: m.and_then(|m| m.lower.as_ref()).map(|s| s.strike),
            lower_straddle: m.and_then(|m| m.lower.as_ref()).map(|s| s.price()),
            upper_strike: m.and_then(|m| m.upper.as_ref()).map(|s| s.strike),
            upper_straddle: m.and_then(|m| m.upper.as_ref()).map(|s| s.price()),
            implied_move: a.implied_move,
            historical_mean_move: stats.map(|s| s.mean),
            historical_median_move: stats.map(|s| s.median),
            mad: stats.map(|s| s.mad),
            relative_mad: stats.map(|s| s.relative_mad),
            max_move: stats.map(|s| s.max),
            tail_risk_ratio: stats.map(|s| s.tail_risk_ratio),
            n_events: a.history.moves.len(),
            past_moves: a
                .history
                .moves
                .iter()
                .map(|m| PastMove {
                    report_date: m.report_date,
                    reaction_session: m.sessions.reaction_session,
                    gap_move: m.gap_move,
                })
                .collect(),
            vrp: a.verdict.vrp(),
            tier: a.verdict.tier(),
            edge_score: a.verdict.edge_score(),
            chain_snapshot_id: None,
            chain_as_of: a.chain_as_of,
            chain_age_seconds: a.chain_age_seconds,
            reason: a.verdict.reason().map(str::to_owned),
            warnings: a.warnings,
            structures: a.structures,
            analysis: a.analysis,
            tier_record: None,
            ticker_record: None,
        }
    }

    /// The composite score, 0..100, when the analysis has one.
    pub fn score(&self) -> Option<f64> {
        self.analysis.as_ref().and_then(|a| a.score.as_ref()).map(|s| s.total)
    }

    /// The liquidity verdict of the straddle's legs, when assessed.
    pub fn liquidity(&self) -> Option<LiquidityVerdict> {
        self.analysis.as_ref().and_then(|a| a.liquidity.as_ref()).map(|l| l.verdict)
    }

    /// Whether the candidate may be ranked: it has figures (a tier) and its
    /// straddle's liquidity is not rejected (domain.md §6).
    pub fn tradeable(&self) -> bool {
        self.tier.is_some() && self.liquidity() != Some(LiquidityVerdict::Reject)
    }

    /// Whether the candidate is listed as a setup: ranked, at `min_tier` or
    /// better (tiers order best first). The one rule for the alert's report
    /// and for whether a scan has anything to send (`[alerts] min_tier`).
    pub fn makes_the_cut(&self, min_tier: Tier) -> bool {
        self.rank.is_some() && self.tier.is_some_and(|t| t <= min_tier)
    }

    /// Why the candidate has no rank: its reason (no figures), or the
    /// reasons its liquidity was rejected; empty when it is ranked or
    /// neither applies.
    pub fn unranked_reason(&self) -> String {
        match (&self.reason, self.analysis.as_ref().and_then(|a| a.liquidity.as_ref())) {
            (Some(reason), _) => reason.clone(),
            (None, Some(l)) => format!("liquidity rejected: {}", l.reasons.join("; ")),
            (None, None) => String::new(),
        }
    }
}

/// Ranks a scan's candidates: sorts them by [`crate::analysis::rank_key`]
/// (tradeable first, then by score, then by edge score, ties by ticker) and
/// numbers the tradeable ones 1, 2, ... (the others get no rank).
pub fn rank<T: AsRef<Candidate> + AsMut<Candidate>>(items: &mut [T]) {
    items.sort_by_key(|item| {
        let c = item.as_ref();
        crate::analysis::rank_key(c.tradeable(), c.score(), c.edge_score, c.ticker.as_str())
    });
    let mut rank = 0;
    for item in items {
        let c = item.as_mut();
        if c.tradeable() {
            rank += 1;
            c.rank = Some(rank);
        }
    }
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
    /// The requests sent to each HTTP provider while the scan ran (retries
    /// included), e.g. `{"tradier": 51}`; absent when the scan's data came
    /// from recorded files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<std::collections::BTreeMap<String, u64>>,
    /// The last `ivcd calibrate` run the candidates' tier records come
    /// from; `None` when none was run.
    pub calibration: Option<Calibration>,
}

/// What `ivcd moves TICKER` shows: the stored moves (timing-suspect ones
/// flagged), the consistency figures of the window a scan today would use,
/// realized volatility from the stored bars, and the latest scan's analysis
/// of the ticker with its score components. `--json`: docs/json.md, "MovesReport".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MovesReport {
    /// The stock.
    pub ticker: Ticker,
    /// Every stored move, oldest first.
    pub moves: Vec<crate::analysis::moves::HistoricalMove>,
    /// The window a scan today would use (suspect events left out unless configured).
    pub window: crate::analysis::HistoryWindow,
    /// EWMA of the window's |gap moves|, fraction.
    pub ewma_move: Option<f64>,
    /// The trend of the window's |gap moves|.
    pub trend: Option<crate::analysis::consistency::MoveTrend>,
    /// Yang-Zhang realized volatility over the last stored sessions.
    pub rv30: Option<crate::analysis::consistency::RealizedVol>,
    /// The newest scan that covered the ticker: its slot (UTC) and the candidate.
    pub latest_scan: Option<LatestCandidate>,
    /// The ticker's own recorded implied moves against what followed, over
    /// every stored report; `None` when none is stored.
    pub ticker_record: Option<TickerRecord>,
    /// The last `ivcd calibrate` run; `None` when none was run.
    pub calibration: Option<Calibration>,
    /// The timing audit of its past events (issue 23), set by `ivcd moves`.
    pub timing_audit: Option<crate::analysis::timing_audit::TickerTimingAudit>,
}

/// A candidate with the slot of the scan that produced it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatestCandidate {
    /// The scan's slot (UTC).
    pub slot: DateTime<Utc>,
    /// The candidate as stored.
    pub candidate: Candidate,
}

impl MovesReport {
    /// Assembles the report from what is stored. `today` is the ET date the
    /// window is taken before (events reported before it count); `bars` are
    /// ascending.
    pub fn new(
        ticker: Ticker,
        moves: Vec<crate::analysis::moves::HistoricalMove>,
        bars: &[crate::domain::DailyBar],
        latest_scan: Option<LatestCandidate>,
        today: NaiveDate,
        params: &crate::analysis::AnalysisParams,
    ) -> Self {
        use crate::analysis::consistency;
        let window = crate::analysis::HistoryWindow::select(
            &moves,
            today.succ_opt().unwrap_or(today),
            params.window_events,
            &params.timing_check,
        );
        let gaps: Vec<f64> = window.moves.iter().map(|m| m.gap_move).collect();
        Self {
            ticker,
            ewma_move: consistency::ewma_abs_move(&gaps, params.consistency.half_life_events),
            trend: consistency::move_trend(&gaps, params.consistency.trend_growth_warning),
            rv30: consistency::yang_zhang(bars, params.consistency.rv_sessions),
            moves,
            window,
            latest_scan,
            ticker_record: None,
            calibration: None,
            timing_audit: None,
        }
    }
}

/// What `ivcd backtest` reports (`--json`: docs/json.md, "BacktestReport").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BacktestReport {
    /// The tickers asked for.
    pub tickers: Vec<Ticker>,
    /// Only events reported on or after this date (ET), when given.
    pub since: Option<NaiveDate>,
    /// Every past event considered, oldest first per ticker.
    pub events: Vec<crate::analysis::backtest::BacktestEvent>,
    /// The judged events summarised by tier, best first.
    pub tiers: Vec<crate::analysis::backtest::TierSummary>,
    /// End-of-day chains requested in this run.
    pub chains_requested: usize,
    /// Implied moves reused from earlier runs.
    pub reused: usize,
}

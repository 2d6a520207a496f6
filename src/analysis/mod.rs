//! The pure analysis core: no I/O, no clock, no async. Jobs fetch and store;
//! these functions compute. Definitions and sources are in
//! `../shared/docs/domain.md` §1-4 and in each submodule's docs.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub mod backtest;
pub mod black_scholes;
pub mod bounds;
pub mod candidate;
pub mod consistency;
pub mod filing_timing;
pub mod full;
pub mod implied;
pub mod liquidity;
pub mod market_view;
pub mod moves;
pub mod score;
pub mod scoreboard;
pub mod skew;
pub mod structures;
pub mod term;
pub mod timing_audit;
pub mod track_record;
pub mod valuation;
pub mod vrp;

use consistency::ConsistencyParams;
use full::TermParams;
use liquidity::LiquidityParams;
use market_view::MarketViewParams;
use moves::{HistoricalMove, TimingCheck};
use score::ScoreParams;
use skew::SkewParams;
use vrp::{MoveStats, Tier, TierThresholds};

/// The analysis settings (from the `[analysis]` configuration section).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalysisParams {
    /// How many of the most recent past events the historical mean uses (default 12).
    pub window_events: usize,
    /// The fewest past events a VRP is computed from (default 4).
    pub min_events: usize,
    /// The VRP thresholds of the tiers.
    pub tiers: TierThresholds,
    /// Tail-risk ratio above which a setup carries a warning (default 2.5).
    pub tail_risk_warning: f64,
    /// Calendar sanity of past events (`[analysis.timing_check]`).
    pub timing_check: TimingCheck,
    /// Term structure (`[analysis.term]`).
    pub term: TermParams,
    /// The chain's view of the report date (`[analysis.market_view]`).
    pub market_view: MarketViewParams,
    /// Skew (`[analysis.skew]`).
    pub skew: SkewParams,
    /// Liquidity (`[analysis.liquidity]`).
    pub liquidity: LiquidityParams,
    /// Consistency (`[analysis.consistency]`).
    pub consistency: ConsistencyParams,
    /// The composite score (`[analysis.score]`).
    pub score: ScoreParams,
}

impl Default for AnalysisParams {
    fn default() -> Self {
        Self {
            window_events: 12,
            min_events: 4,
            tiers: TierThresholds::default(),
            tail_risk_warning: 2.5,
            timing_check: TimingCheck::default(),
            term: TermParams::default(),
            market_view: MarketViewParams::default(),
            skew: SkewParams::default(),
            liquidity: LiquidityParams::default(),
            consistency: ConsistencyParams::default(),
            score: ScoreParams::default(),
        }
    }
}

impl AnalysisParams {
    /// The bounds of the section's counts and spans (see
    /// [`crate::settings::Bounded`]).
    pub fn bounds(&self, b: &mut crate::settings::Bounds) {
        b.int("analysis.window_events", self.window_events, 1, 200);
        b.int("analysis.min_events", self.min_events, 1, 200);
        b.real("analysis.term.slope_days", self.term.slope_days, 1.0, 730.0);
        b.real("analysis.term.iv_days", self.term.iv_days, 1.0, 730.0);
        b.real("analysis.market_view.min_event_days", self.market_view.min_event_days, 0.1, 50.0);
        b.real("analysis.market_view.later_premium_ratio", self.market_view.later_premium_ratio, 1.0, 100.0);
        b.int(
            "analysis.market_view.max_later_span_sessions",
            self.market_view.max_later_span_sessions,
            1,
            60,
        );
        b.int("analysis.market_view.later_expirations", self.market_view.later_expirations, 0, 8);
        b.int("analysis.skew.min_points_per_side", self.skew.min_points_per_side, 3, 1000);
        let l = &self.liquidity;
        b.int("analysis.liquidity.open_interest_warn", l.open_interest_warn, 0, 10_000_000);
        b.int("analysis.liquidity.open_interest_reject", l.open_interest_reject, 0, 10_000_000);
        b.int("analysis.liquidity.volume_warn", l.volume_warn, 0, 10_000_000);
        b.int("analysis.liquidity.adv_sessions", l.adv_sessions, 1, 250);
        b.real("analysis.consistency.half_life_events", self.consistency.half_life_events, 0.5, 100.0);
        b.int("analysis.consistency.rv_sessions", self.consistency.rv_sessions, 2, 250);
    }

    /// The problems bounds do not cover (orderings between settings, signs,
    /// fractions), one message per problem, each naming the keys.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut check = |ok: bool, msg: &str| {
            if !ok {
                problems.push(msg.to_owned());
            }
        };
        check(
            self.window_events >= self.min_events,
            "analysis.window_events must be at least analysis.min_events",
        );
        let t = &self.tiers;
        check(
            t.excellent > t.good && t.good > t.marginal && t.marginal > 0.0,
            "analysis.tiers must satisfy excellent > good > marginal > 0",
        );
        check(
            self.tail_risk_warning > 1.0,
            "analysis.tail_risk_warning must be above 1 (max/mean is at least 1)",
        );
        let tc = &self.timing_check;
        check(tc.ratio >= 1.0, "analysis.timing_check.ratio must be at least 1");
        check((0.0..1.0).contains(&tc.min_move), "analysis.timing_check.min_move must be a fraction in 0..1");
        let rates = &self.term.rates;
        check(
            rates.risk_free_rate.abs() < 0.5 && (0.0..0.5).contains(&rates.dividend_yield),
            "analysis.term.rates: risk_free_rate and dividend_yield are annual fractions (0.04 = 4%)",
        );
        let l = &self.liquidity;
        check(
            0.0 < l.spread_warn && l.spread_warn <= l.spread_reject,
            "analysis.liquidity: 0 < spread_warn <= spread_reject (fractions of the mid)",
        );
        check(
            l.open_interest_reject <= l.open_interest_warn,
            "analysis.liquidity: open_interest_reject must not exceed open_interest_warn",
        );
        check(
            l.avg_daily_volume_reject <= l.avg_daily_volume_warn,
            "analysis.liquidity: avg_daily_volume_reject must not exceed avg_daily_volume_warn",
        );
        let sc = &self.score;
        let w = &sc.weights;
        check(
            [w.vrp, w.consistency, w.liquidity, w.term_structure].iter().all(|x| *x >= 0.0) && w.vrp > 0.0,
            "analysis.score.weights must be non-negative, with a positive vrp weight",
        );
        check(sc.vrp_full > sc.vrp_floor, "analysis.score.vrp_full must be above analysis.score.vrp_floor");
        check(
            sc.term_slope_full < 0.0,
            "analysis.score.term_slope_full must be negative (an inverted curve)",
        );
        problems
    }
}

/// The past events a VRP is measured against: the most recent
/// `window_events` measured moves reported before `report_date`, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryWindow {
    /// The moves used, newest first.
    pub moves: Vec<HistoricalMove>,
    /// Statistics of their absolute gap moves, when any.
    pub stats: Option<MoveStats>,
    /// Report dates of timing-suspect events left out, newest first.
    pub excluded: Vec<NaiveDate>,
}

impl HistoryWindow {
    /// Selects the window from all of a ticker's measured moves (any order).
    /// Only events reported strictly before `report_date` count; a
    /// timing-suspect event (see [`TimingCheck`]) is left out, and listed in
    /// `excluded`, unless `check.include_suspect` is set. The window takes
    /// the `window_events` newest events that remain.
    pub fn select(
        all: &[HistoricalMove],
        report_date: NaiveDate,
        window_events: usize,
        check: &TimingCheck,
    ) -> Self {
        let mut moves: Vec<HistoricalMove> =
            all.iter().filter(|m| m.report_date < report_date).cloned().collect();
        moves.sort_by_key(|m| std::cmp::Reverse(m.report_date));
        let mut excluded = Vec::new();
        if !check.include_suspect {
            moves.retain(|m| {
                if m.timing_suspect {
                    excluded.push(m.report_date);
                }
                !m.timing_suspect
            });
        }
        moves.truncate(window_events);
        if let Some(oldest) = moves.last().map(|m| m.report_date) {
            excluded.retain(|d| *d > oldest);
        }
        let gaps: Vec<f64> = moves.iter().map(|m| m.gap_move).collect();
        Self { stats: MoveStats::from_moves(&gaps), moves, excluded }
    }

    /// The statistics when the window holds at least `min_events` events
    /// (`[analysis] min_events`): the figures a VRP may be computed from.
    pub fn stats_with(&self, min_events: usize) -> Option<&MoveStats> {
        self.stats.as_ref().filter(|_| self.moves.len() >= min_events)
    }
}

/// What the analysis concluded for one candidate: its figures, or why it
/// has none. Never an estimate in place of a missing input.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The figures exist.
    Judged {
        /// implied move / mean absolute gap move.
        vrp: f64,
        /// The tier of the VRP (`[analysis.tiers]`).
        tier: Tier,
        /// VRP / (1 + relative MAD).
        edge_score: f64,
    },
    /// No figures, and why (e.g. `no chain`, `3 past events, need 4`; several
    /// reasons joined by `; `, as stored in `candidates.reason`).
    NoFigures {
        /// The reasons.
        reason: String,
    },
}

impl Verdict {
    /// The VRP, when judged.
    pub fn vrp(&self) -> Option<f64> {
        match self {
            Verdict::Judged { vrp, .. } => Some(*vrp),
            Verdict::NoFigures { .. } => None,
        }
    }

    /// The tier, when judged.
    pub fn tier(&self) -> Option<Tier> {
        match self {
            Verdict::Judged { tier, .. } => Some(*tier),
            Verdict::NoFigures { .. } => None,
        }
    }

    /// The edge score, when judged.
    pub fn edge_score(&self) -> Option<f64> {
        match self {
            Verdict::Judged { edge_score, .. } => Some(*edge_score),
            Verdict::NoFigures { .. } => None,
        }
    }

    /// Why there are no figures, when there are none.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Verdict::Judged { .. } => None,
            Verdict::NoFigures { reason } => Some(reason),
        }
    }
}

/// Combines the implied move (a fraction) and the history window into a
/// verdict. `implied` is the implied move, or why it is missing (no chain,
/// no spot, no usable straddle: [`candidate::NoImplied`]).
///
/// The reasons, in this order and joined by `; `: the missing implied move,
/// too few past events (`3 past events, need 4`); with both, a zero mean
/// move gives `mean historical move is zero`.
pub fn judge(
    implied: Result<f64, &candidate::NoImplied>,
    history: &HistoryWindow,
    params: &AnalysisParams,
) -> Verdict {
    let mut reasons = Vec::new();
    let implied_move = match implied {
        Ok(implied_move) => Some(implied_move),
        Err(why) => {
            reasons.push(why.to_string());
            None
        }
    };
    let stats = history.stats_with(params.min_events);
    if stats.is_none() {
        reasons.push(format!("{} past events, need {}", history.moves.len(), params.min_events));
    }
    let (Some(implied_move), Some(stats), true) = (implied_move, stats, reasons.is_empty()) else {
        return Verdict::NoFigures { reason: reasons.join("; ") };
    };
    let Some(vrp) = vrp::vrp_ratio(implied_move, stats.mean) else {
        return Verdict::NoFigures { reason: "mean historical move is zero".into() };
    };
    Verdict::Judged {
        vrp,
        tier: params.tiers.tier(vrp),
        edge_score: vrp::edge_score(vrp, stats.relative_mad),
    }
}

/// The warning a judged candidate carries when its largest past move is
/// more than `tail_risk_warning` times the mean (domain.md §4).
pub fn tail_risk_warning(history: &HistoryWindow, params: &AnalysisParams) -> Option<String> {
    let stats = history.stats.as_ref()?;
    (stats.tail_risk_ratio > params.tail_risk_warning).then(|| {
        format!(
            "tail risk: largest past move is {:.1}x the mean (above {:.1})",
            stats.tail_risk_ratio, params.tail_risk_warning
        )
    })
}

/// Sort key that ranks candidates: tradeable ones first (figures exist and
/// liquidity is not rejected), by composite score (highest first), then by
/// edge score; ties by ticker for a stable order.
pub fn rank_key(
    tradeable: bool,
    score: Option<f64>,
    edge_score: Option<f64>,
    ticker: &str,
) -> (u8, i64, i64, String) {
    // Scores are compared at 1e-9 resolution, negated so higher sorts first.
    let key = |x: Option<f64>| x.map_or(i64::MAX, |e| -(e * 1e9).round() as i64);
    (u8::from(!tradeable), key(score), key(edge_score), ticker.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::moves::EventSessions;
    use crate::domain::Timing;
    use rust_decimal::Decimal;

    fn mv(day: u32, gap: f64) -> HistoricalMove {
        let date = NaiveDate::from_ymd_opt(2023, 1, day).unwrap();
        HistoricalMove {
            report_date: date,
            timing: Timing::Amc,
            sessions: EventSessions { reference_session: date, reaction_session: date },
            reference_close: Decimal::ONE,
            reaction_open: Decimal::ONE,
            reaction_high: Decimal::ONE,
            reaction_low: Decimal::ONE,
            reaction_close: Decimal::ONE,
            gap_move: gap,
            close_to_close_move: gap,
            other_session_gap_move: None,
            timing_suspect: false,
        }
    }

    #[test]
    fn window_takes_the_latest_events_before_the_report() {
        let all: Vec<_> = (1..=20).map(|d| mv(d, 0.01 * f64::from(d))).collect();
        let w = HistoryWindow::select(
            &all,
            NaiveDate::from_ymd_opt(2023, 1, 15).unwrap(),
            12,
            &TimingCheck::default(),
        );
        assert_eq!(w.moves.len(), 12);
        assert_eq!(w.moves[0].report_date.day0(), 13, "newest first, strictly before");
        assert_eq!(w.moves[11].report_date.day0(), 2);
    }

    #[test]
    fn too_few_events_gives_a_reason_not_a_number() {
        let all = vec![mv(1, 0.1), mv(2, 0.1), mv(3, 0.1)];
        let w = HistoryWindow::select(
            &all,
            NaiveDate::from_ymd_opt(2023, 2, 1).unwrap(),
            12,
            &TimingCheck::default(),
        );
        let v = judge(Ok(0.3), &w, &AnalysisParams::default());
        assert_eq!(v.reason(), Some("3 past events, need 4"));
        assert_eq!((v.vrp(), v.tier(), v.edge_score()), (None, None, None));
        let no_chain = candidate::NoImplied::Chain(candidate::NoChain::NoData);
        let v = judge(Err(&no_chain), &w, &AnalysisParams::default());
        assert_eq!(v.reason(), Some("no chain; 3 past events, need 4"));
    }

    #[test]
    fn figures_when_everything_is_there() {
        let all = vec![mv(1, 0.1), mv(2, -0.1), mv(3, 0.1), mv(4, -0.1)];
        let w = HistoryWindow::select(
            &all,
            NaiveDate::from_ymd_opt(2023, 2, 1).unwrap(),
            12,
            &TimingCheck::default(),
        );
        let v = judge(Ok(0.2), &w, &AnalysisParams::default());
        assert_eq!(v.tier(), Some(Tier::Excellent));
        assert!((v.vrp().unwrap() - 2.0).abs() < 1e-12);
        assert!((v.edge_score().unwrap() - 2.0).abs() < 1e-12, "MAD 0 leaves edge = VRP");
        assert!(v.reason().is_none());
    }

    #[test]
    fn ranking_puts_tradeable_then_higher_scores_first() {
        let mut rows = [
            (false, None, None, "ZZZ"),
            (true, Some(61.0), Some(1.4), "AAA"),
            (false, Some(95.0), Some(2.5), "REJ"),
            (true, Some(80.0), Some(1.1), "BBB"),
            (true, Some(61.0), Some(1.6), "CCC"),
        ];
        rows.sort_by_key(|(t, s, e, k)| rank_key(*t, *s, *e, k));
        let order: Vec<_> = rows.iter().map(|r| r.3).collect();
        assert_eq!(order, ["BBB", "CCC", "AAA", "REJ", "ZZZ"]);
    }

    #[test]
    fn suspect_events_leave_the_window_unless_included() {
        let mut all: Vec<_> = (1..=6).map(|d| mv(d, 0.01 * f64::from(d))).collect();
        all[4].timing_suspect = true; // reported 2023-01-05
        let date = NaiveDate::from_ymd_opt(2023, 2, 1).unwrap();
        let w = HistoryWindow::select(&all, date, 4, &TimingCheck::default());
        let days: Vec<u32> = w.moves.iter().map(|m| m.report_date.day0() + 1).collect();
        assert_eq!(days, [6, 4, 3, 2], "the suspect 01-05 is skipped and the window reaches back one more");
        assert_eq!(w.excluded, [NaiveDate::from_ymd_opt(2023, 1, 5).unwrap()]);
        let check = TimingCheck { include_suspect: true, ..TimingCheck::default() };
        let w = HistoryWindow::select(&all, date, 4, &check);
        assert_eq!(w.moves.len(), 4);
        assert!(w.excluded.is_empty());
        assert_eq!(w.moves[1].report_date.day0() + 1, 5);
    }

    use chrono::Datelike;
}

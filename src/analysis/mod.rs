//! The pure analysis core: no I/O, no clock, no async. Jobs fetch and store;
//! these functions compute. Definitions and sources are in
//! `../shared/docs/domain.md` §1-4 and in each submodule's docs.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub mod implied;
pub mod moves;
pub mod scoreboard;
pub mod structures;
pub mod vrp;

use implied::ImpliedMove;
use moves::HistoricalMove;
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
}

impl Default for AnalysisParams {
    fn default() -> Self {
        Self { window_events: 12, min_events: 4, tiers: TierThresholds::default(), tail_risk_warning: 2.5 }
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
}

impl HistoryWindow {
    /// Selects the window from all of a ticker's measured moves (any order).
    /// Only events reported strictly before `report_date` count.
    pub fn select(all: &[HistoricalMove], report_date: NaiveDate, window_events: usize) -> Self {
        let mut moves: Vec<HistoricalMove> =
            all.iter().filter(|m| m.report_date < report_date).cloned().collect();
        moves.sort_by_key(|m| std::cmp::Reverse(m.report_date));
        moves.truncate(window_events);
        let gaps: Vec<f64> = moves.iter().map(|m| m.gap_move).collect();
        Self { stats: MoveStats::from_moves(&gaps), moves }
    }
}

/// What the analysis concluded for one candidate. Either the figures
/// (`vrp`, `tier`, `edge_score` all `Some`) or a `reason` saying why not;
/// never an estimate in place of a missing input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// implied move / mean absolute gap move, when both exist.
    pub vrp: Option<f64>,
    /// The tier of the VRP.
    pub tier: Option<Tier>,
    /// VRP / (1 + relative MAD).
    pub edge_score: Option<f64>,
    /// Why there are no figures (e.g. "no chain", "3 past events, need 4").
    pub reason: Option<String>,
    /// Things the user should know about figures that do exist.
    pub warnings: Vec<String>,
}

/// Combines the implied move and the history window into a verdict.
///
/// `implied` is the implied move or why it is missing (a job-level reason
/// such as "no chain" is passed as `Err(text)`).
pub fn judge(
    implied: Result<&ImpliedMove, String>,
    history: &HistoryWindow,
    params: &AnalysisParams,
) -> Verdict {
    let mut reasons = Vec::new();
    let mut warnings = Vec::new();
    let implied_move = match implied {
        Ok(m) => {
            warnings.extend(m.warnings.iter().cloned());
            Some(m.implied_move)
        }
        Err(reason) => {
            reasons.push(reason);
            None
        }
    };
    let n = history.moves.len();
    let stats = match &history.stats {
        Some(stats) if n >= params.min_events => Some(stats),
        _ => {
            reasons.push(format!("{n} past events, need {}", params.min_events));
            None
        }
    };
    let (Some(implied_move), Some(stats), true) = (implied_move, stats, reasons.is_empty()) else {
        return Verdict {
            vrp: None,
            tier: None,
            edge_score: None,
            reason: Some(reasons.join("; ")),
            warnings,
        };
    };
    let Some(vrp) = vrp::vrp_ratio(implied_move, stats.mean) else {
        return Verdict {
            vrp: None,
            tier: None,
            edge_score: None,
            reason: Some("mean historical move is zero".into()),
            warnings,
        };
    };
    if stats.tail_risk_ratio > params.tail_risk_warning {
        warnings.push(format!(
            "tail risk: largest past move is {:.1}x the mean (above {:.1})",
            stats.tail_risk_ratio, params.tail_risk_warning
        ));
    }
    Verdict {
        vrp: Some(vrp),
        tier: Some(params.tiers.tier(vrp)),
        edge_score: Some(vrp::edge_score(vrp, stats.relative_mad)),
        reason: None,
        warnings,
    }
}

/// Sort key that ranks candidates: analysable ones first, by tier (best
/// first), then by edge score (highest first); ties by ticker for a stable order.
pub fn rank_key(tier: Option<Tier>, edge_score: Option<f64>, ticker: &str) -> (u8, Tier, i64, String) {
    let analysable = u8::from(tier.is_none());
    // Edge scores are compared at 1e-9 resolution, negated so higher sorts first.
    let edge = edge_score.map_or(i64::MAX, |e| -(e * 1e9).round() as i64);
    (analysable, tier.unwrap_or(Tier::Skip), edge, ticker.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::implied::StraddleMethod;
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
        }
    }

    fn implied(m: f64) -> ImpliedMove {
        ImpliedMove {
            spot: Decimal::ONE,
            straddle: Decimal::ONE,
            implied_move: m,
            method: StraddleMethod::AtStrike,
            lower: None,
            upper: None,
            warnings: vec![],
        }
    }

    #[test]
    fn window_takes_the_latest_events_before_the_report() {
        let all: Vec<_> = (1..=20).map(|d| mv(d, 0.01 * f64::from(d))).collect();
        let w = HistoryWindow::select(&all, NaiveDate::from_ymd_opt(2023, 1, 15).unwrap(), 12);
        assert_eq!(w.moves.len(), 12);
        assert_eq!(w.moves[0].report_date.day0(), 13, "newest first, strictly before");
        assert_eq!(w.moves[11].report_date.day0(), 2);
    }

    #[test]
    fn too_few_events_gives_a_reason_not_a_number() {
        let all = vec![mv(1, 0.1), mv(2, 0.1), mv(3, 0.1)];
        let w = HistoryWindow::select(&all, NaiveDate::from_ymd_opt(2023, 2, 1).unwrap(), 12);
        let v = judge(Ok(&implied(0.3)), &w, &AnalysisParams::default());
        assert_eq!(v.reason.as_deref(), Some("3 past events, need 4"));
        assert_eq!((v.vrp, v.tier, v.edge_score), (None, None, None));
        let v = judge(Err("no chain".into()), &w, &AnalysisParams::default());
        assert_eq!(v.reason.as_deref(), Some("no chain; 3 past events, need 4"));
    }

    #[test]
    fn figures_when_everything_is_there() {
        let all = vec![mv(1, 0.1), mv(2, -0.1), mv(3, 0.1), mv(4, -0.1)];
        let w = HistoryWindow::select(&all, NaiveDate::from_ymd_opt(2023, 2, 1).unwrap(), 12);
        let v = judge(Ok(&implied(0.2)), &w, &AnalysisParams::default());
        assert_eq!(v.tier, Some(Tier::Excellent));
        assert!((v.vrp.unwrap() - 2.0).abs() < 1e-12);
        assert!((v.edge_score.unwrap() - 2.0).abs() < 1e-12, "MAD 0 leaves edge = VRP");
        assert!(v.reason.is_none());
    }

    #[test]
    fn ranking_puts_better_tiers_then_higher_edges_first() {
        let mut rows = [
            (None, None, "ZZZ"),
            (Some(Tier::Good), Some(1.4), "AAA"),
            (Some(Tier::Excellent), Some(1.1), "BBB"),
            (Some(Tier::Good), Some(1.6), "CCC"),
        ];
        rows.sort_by_key(|(t, e, k)| rank_key(*t, *e, k));
        let order: Vec<_> = rows.iter().map(|r| r.2).collect();
        assert_eq!(order, ["BBB", "CCC", "AAA", "ZZZ"]);
    }

    use chrono::Datelike;
}

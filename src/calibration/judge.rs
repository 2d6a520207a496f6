//! Each recorded report as the 15:00 scan before it would have judged it,
//! and what followed. Pure: no I/O.
//!
//! **The judgement** (no look-ahead): the scan runs at 15:00 ET of the
//! reference session R, when the sessions before R are complete. The history
//! window is ivcd's own ([`crate::analysis::HistoryWindow::select`]: the 12 newest measured
//! events reported before the event, timing-suspect ones left out, at least
//! 4 for a VRP) over the ticker's past events whose reaction session ended
//! before R, each measured from the bars with [`moves::measure_move`]. The
//! past events are the recorded reports with their decided timing, plus the
//! reports only a calendar lists (BMO or AMC, the calendars agreeing), except
//! those within 5 calendar days of a recorded report (the same report under
//! another date). The implied move is the recorded one (at R's close, an hour
//! after the scan; rounded to 0.1 point). Then the scan's own function,
//! [`candidate::candidate`] with the recorded move as a
//! [`ChainInput::Stored`], gives the VRP, tier and edge score, and the score
//! from the components history can give: VRP (against max(mean, EWMA)) and
//! consistency. Liquidity, term structure and skew need a chain; the score
//! drops their weights, as it does for a live candidate missing them.
//!
//! **The outcome**, from the bars of the reaction session (split- and
//! dividend-adjusted; `docs/calibration.md` says what that costs): the gap
//! and close-to-close moves ([`moves::measure_move`]), and at each exit (the
//! reaction open, where ivcd's review values its structures, and the
//! reaction close):
//! - inside: |move| < implied move;
//! - edge = implied move - |move|, fraction of the reference close;
//! - the three structures, per share as fractions of the reference close S,
//!   without a chain, so without quotes:
//!   - **short straddle** at K = S (the listed ATM strike is within half a
//!     strike step), opened for the recorded straddle, implied move x S. At
//!     the exit it is worth at least its intrinsic value |S_exit - K|, so its
//!     P&L is **at most** implied move - |move| (= the edge): an upper bound.
//!     Time value left at the exit and the bid/ask spread make the real
//!     figure lower, never higher;
//!   - **short strangle** at S x (1 - m) and S x (1 + m), m the implied move
//!     (what `analysis::structures::propose` aims at, before rounding to a
//!     listed strike). Its credit is **not known**: the dataset has no option
//!     prices, and ivcd does not model one. Reported is the exit's side
//!     only: -max(0, |move| - m), the intrinsic value owed at the exit. The
//!     real P&L = credit - exit value <= credit + this figure;
//!   - **iron condor**: the strangle plus long wings `condor_wing_moves`
//!     implied moves further out. The same exit side, capped at the wing
//!     width w: -min(max(0, |move| - m), w). With long wings, intrinsic
//!     value is an estimate, not a bound (the wings' time value works the
//!     other way), within the maximum loss w - credit.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::timing::TimingBasis;
use crate::analysis::AnalysisParams;
use crate::analysis::candidate::{
    self, CandidateInputs, CandidateParams, ChainInput, SpotInput, StoredImplied,
};
use crate::analysis::moves::{self, EventSessions, HistoricalMove};
use crate::analysis::score;
use crate::analysis::vrp::Tier;
use crate::calendar::NyseCalendar;
use crate::domain::{DailyBar, Ticker, Timing};

/// How many calendar days apart a calendar's report and a recorded one may
/// be and still be the same report (dates differ by a day or two between sources).
pub const SAME_REPORT_DAYS: i64 = 5;

/// A recorded report with its decided timing, ready to judge.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    /// The reporting company.
    pub ticker: Ticker,
    /// The report date (ET).
    pub report_date: NaiveDate,
    /// The recorded implied move, fraction.
    pub implied_move: f64,
    /// The decided timing (BMO or AMC).
    pub timing: Timing,
    /// How it was decided.
    pub basis: TimingBasis,
}

/// The settings the judgement reads.
#[derive(Debug, Clone, Copy)]
pub struct JudgeParams<'a> {
    /// ivcd's analysis settings (window, minimum events, tiers, timing check, consistency, score).
    pub analysis: &'a AnalysisParams,
    /// The iron condor's wings beyond its short strikes, in implied moves.
    pub condor_wing_moves: f64,
}

/// The history window's figures, as the scan would have had them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryFigures {
    /// Report dates of the events in the window, newest first.
    pub window: Vec<NaiveDate>,
    /// Mean |gap move|, fraction.
    pub mean_move: Option<f64>,
    /// Median |gap move|, fraction.
    pub median_move: Option<f64>,
    /// MAD of the |gap moves|, fraction.
    pub mad: Option<f64>,
    /// MAD / median.
    pub relative_mad: Option<f64>,
    /// EWMA of the |gap moves| (`[analysis.consistency]` half-life), fraction.
    pub ewma_move: Option<f64>,
    /// Whether recent moves grow (`consistency::move_trend`).
    pub moves_growing: bool,
    /// max / mean |gap move|.
    pub tail_risk_ratio: Option<f64>,
    /// Timing-suspect past events left out, newest first.
    pub excluded: Vec<NaiveDate>,
}

/// One exit's figures, fractions of the reference close.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Exit {
    /// |move| at this exit.
    pub abs_move: f64,
    /// |move| < implied move.
    pub inside: bool,
    /// implied move - |move|.
    pub edge: f64,
    /// Short straddle P&L, an upper bound: implied move - |move|.
    pub straddle: f64,
    /// Short strangle, exit side only (its credit is unknown): -max(0, |move| - m).
    pub strangle_ex_credit: f64,
    /// Iron condor, exit side only, an estimate: -min(max(0, |move| - m), wing width).
    pub condor_ex_credit: f64,
}

impl Exit {
    /// The figures of an exit at `signed_move` for implied move `m` and
    /// condor wings `wing_moves` implied moves beyond the short strikes.
    ///
    /// Worked example: m = 0.118, move +0.402 (CVNA 2023-07-19 at the
    /// close), wings 0.5: |move| 0.402, outside; edge = straddle =
    /// 0.118 - 0.402 = -0.284; strangle -(0.402 - 0.118) = -0.284; condor
    /// capped at the wing 0.059: -0.059.
    pub fn new(implied_move: f64, signed_move: f64, wing_moves: f64) -> Self {
        let abs_move = signed_move.abs();
        let beyond = (abs_move - implied_move).max(0.0);
        Self {
            abs_move,
            inside: abs_move < implied_move,
            edge: implied_move - abs_move,
            straddle: implied_move - abs_move,
            // 0 - x, not -x: no negative zero when nothing is owed.
            strangle_ex_credit: 0.0 - beyond,
            condor_ex_credit: 0.0 - beyond.min(wing_moves * implied_move),
        }
    }
}

/// What followed the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// open(reaction) / close(reference) - 1, signed fraction.
    pub gap_move: f64,
    /// close(reaction) / close(reference) - 1, signed fraction.
    pub close_move: f64,
    /// The gap the other timing implies, when its bars exist.
    pub other_session_gap_move: Option<f64>,
    /// The event's own timing check (`[analysis.timing_check]`): the larger
    /// gap fell on the other timing's session.
    pub timing_suspect: bool,
    /// At the reaction open (ivcd's review).
    pub at_open: Exit,
    /// At the reaction close.
    pub at_close: Exit,
}

/// The values (0..1) of the score components that exist without a chain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ScoreComponents {
    /// The VRP component (implied / max(mean, EWMA), mapped from `vrp_floor` to `vrp_full`).
    pub vrp: Option<f64>,
    /// The consistency component (1 / (1 + relative MAD), halved when moves grow).
    pub consistency: Option<f64>,
}

/// One recorded report judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    /// The reporting company.
    pub ticker: Ticker,
    /// The report date (ET).
    pub report_date: NaiveDate,
    /// BMO or AMC.
    pub timing: Timing,
    /// How the timing was decided.
    pub basis: TimingBasis,
    /// The reference and reaction sessions.
    #[serde(flatten)]
    pub sessions: EventSessions,
    /// The recorded implied move, fraction (rounded to 0.001).
    pub implied_move: f64,
    /// The history window.
    pub history: HistoryFigures,
    /// implied move / mean |gap move|.
    pub vrp: Option<f64>,
    /// The tier of that VRP (`[analysis.tiers]`).
    pub tier: Option<Tier>,
    /// VRP / (1 + relative MAD).
    pub edge_score: Option<f64>,
    /// The score (0-100) from the components history gives.
    pub score: Option<f64>,
    /// The values (0..1) of the score's two components history gives.
    pub score_components: ScoreComponents,
    /// The score's missing components, with why.
    pub score_missing: Vec<String>,
    /// Why there is no VRP (e.g. `3 past events, need 4`).
    pub reason: Option<String>,
    /// What followed; `None` when the reaction's bars are missing.
    pub outcome: Option<Outcome>,
}

/// The reports of one ticker that only a calendar lists: `listed` (report
/// date and BMO/AMC timing) without those within [`SAME_REPORT_DAYS`] of any
/// of the ticker's recorded reports (`recorded`, decided or not), which are
/// the same report under another date. Sorted by date, each date once.
pub fn calendar_only(listed: &[(NaiveDate, Timing)], recorded: &[NaiveDate]) -> Vec<(NaiveDate, Timing)> {
    let mut out: Vec<(NaiveDate, Timing)> = listed
        .iter()
        .copied()
        .filter(|(_, timing)| matches!(timing, Timing::Bmo | Timing::Amc))
        .filter(|(date, _)| !recorded.iter().any(|r| (*r - *date).num_days().abs() <= SAME_REPORT_DAYS))
        .collect();
    out.sort_by_key(|(date, _)| *date);
    out.dedup_by_key(|(date, _)| *date);
    out
}

/// Judges one ticker's recorded reports (any order) against its bars.
/// `calendar_only` are the ticker's other past reports (see
/// [`calendar_only`]), which count in the history windows only. Returns one
/// judgement per recorded event whose reference bar exists, oldest first;
/// the caller counts the others.
pub fn judge_ticker(
    calendar: &NyseCalendar,
    events: &[RecordedEvent],
    calendar_only: &[(NaiveDate, Timing)],
    bars: &BTreeMap<NaiveDate, DailyBar>,
    params: &JudgeParams<'_>,
) -> Vec<Judgement> {
    let check = &params.analysis.timing_check;
    let past: Vec<(NaiveDate, Timing)> =
        events.iter().map(|e| (e.report_date, e.timing)).chain(calendar_only.iter().copied()).collect();
    let measured: Vec<HistoricalMove> = past
        .iter()
        .filter_map(|(date, timing)| moves::measure_move(calendar, *date, *timing, bars, check).ok())
        .collect();
    let mut out: Vec<Judgement> =
        events.iter().filter_map(|event| judge_event(calendar, event, &measured, bars, params)).collect();
    out.sort_by_key(|j| j.report_date);
    out
}

fn judge_event(
    calendar: &NyseCalendar,
    event: &RecordedEvent,
    measured: &[HistoricalMove],
    bars: &BTreeMap<NaiveDate, DailyBar>,
    params: &JudgeParams<'_>,
) -> Option<Judgement> {
    let a = params.analysis;
    let sessions = moves::event_sessions(calendar, event.report_date, event.timing)?;
    bars.get(&sessions.reference_session)?;
    // Only what the 15:00 scan of the reference session could know: events
    // whose reaction session ended before it.
    let known: Vec<HistoricalMove> = measured
        .iter()
        .filter(|m| m.sessions.reaction_session < sessions.reference_session)
        .cloned()
        .collect();
    // Judged as the scan would have, by the scan's own function, with the
    // recorded implied move in place of a chain.
    let judged = candidate::candidate(
        &CandidateInputs {
            ticker: &event.ticker,
            report_date: event.report_date,
            timing: event.timing,
            // The 15:00 ET scan of the reference session (without a chain the
            // instant only dates the judgement).
            as_of: crate::time::et_instant(sessions.reference_session, crate::time::EtTime::hm(15, 0).0),
            chain: ChainInput::Stored(StoredImplied {
                implied_move: event.implied_move,
                expiration: None,
                spot: None,
                straddle: None,
            }),
            spot: SpotInput::ChainElseQuote(None),
            moves: &known,
            bars: &[],
            fetch_warnings: &[],
        },
        calendar,
        &CandidateParams { analysis: a, wing_steps: 1, max_chain_age_minutes: 0 },
    );
    let window = &judged.history;
    let verdict = &judged.verdict;
    let (ewma_move, moves_growing) = (judged.ewma_move, judged.moves_growing);
    let stats = window.stats.as_ref();
    let score = judged.score.clone();
    let outcome = moves::measure_move(calendar, event.report_date, event.timing, bars, &a.timing_check)
        .ok()
        .map(|m| Outcome {
            gap_move: m.gap_move,
            close_move: m.close_to_close_move,
            other_session_gap_move: m.other_session_gap_move,
            timing_suspect: m.timing_suspect,
            at_open: Exit::new(event.implied_move, m.gap_move, params.condor_wing_moves),
            at_close: Exit::new(event.implied_move, m.close_to_close_move, params.condor_wing_moves),
        });
    Some(Judgement {
        ticker: event.ticker.clone(),
        report_date: event.report_date,
        timing: event.timing,
        basis: event.basis,
        sessions,
        implied_move: event.implied_move,
        history: HistoryFigures {
            window: window.moves.iter().map(|m| m.report_date).collect(),
            mean_move: stats.map(|s| s.mean),
            median_move: stats.map(|s| s.median),
            mad: stats.map(|s| s.mad),
            relative_mad: stats.map(|s| s.relative_mad),
            ewma_move,
            moves_growing,
            tail_risk_ratio: stats.map(|s| s.tail_risk_ratio),
            excluded: window.excluded.clone(),
        },
        vrp: verdict.vrp(),
        tier: verdict.tier(),
        edge_score: verdict.edge_score(),
        score: score.as_ref().map(|s| s.total),
        score_components: ScoreComponents {
            vrp: component(score.as_ref(), "vrp"),
            consistency: component(score.as_ref(), "consistency"),
        },
        // The score says why from a live candidate's point of view; here the
        // reason is always the same: there is no chain.
        score_missing: score
            .map(|s| {
                s.missing
                    .iter()
                    .map(|m| {
                        format!(
                            "{}: no chain (the implied move is a recorded figure)",
                            m.split(':').next().unwrap_or(m)
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        reason: verdict.reason().map(str::to_owned),
        outcome,
    })
}

fn component(score: Option<&score::Score>, name: &str) -> Option<f64> {
    score?.components.iter().find(|c| c.name == name).map(|c| c.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exits_worked_example() {
        let e = Exit::new(0.118, 0.402, 0.5);
        assert!(!e.inside);
        assert!((e.edge + 0.284).abs() < 1e-12 && e.straddle == e.edge);
        assert!((e.strangle_ex_credit + 0.284).abs() < 1e-12);
        assert!((e.condor_ex_credit + 0.059).abs() < 1e-12);
        let inside = Exit::new(0.05, -0.02, 0.5);
        assert!(inside.inside && inside.strangle_ex_credit == 0.0 && inside.condor_ex_credit == 0.0);
        assert!((inside.straddle - 0.03).abs() < 1e-12);
    }
}

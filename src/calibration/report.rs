//! The calibration report (`ivcd calibrate`, `--json`: docs/json.md,
//! "CalibrationReport") from the event records. Pure: no I/O.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::events::{EventRecord, Status, basis_counts};
use super::judge::Judgement;
use super::stats::{
    self, Bootstrap, Ci, ExitAt, GroupStats, auc, auc_difference_ci, decile_bounds, decile_of, difference_ci,
    mean_ci, vrp_bucket, vrp_bucket_label,
};
use super::thresholds::{ChosenThresholds, brier_terms, choose_thresholds, tier_forecasts};
use super::timing::TimingBasis;
use super::{ATTRIBUTION, CalibrationConfig};
use crate::analysis::AnalysisParams;
use crate::analysis::vrp::{Tier, TierThresholds};
use crate::domain::{Ticker, Timing};

/// The approximations behind the figures, stated in every report.
pub const APPROXIMATIONS: [&str; 6] = [
    "implied moves are EarningsWatcher's, from the ATM straddle at the last close before each report (an hour after \
     ivcd's 15:00 scan), rounded to 0.1 point; quotes, fills and the vendor are unknown",
    "short straddle: sold at the reference close's strike for implied move x close and valued at intrinsic value at \
     the exit, so its P&L (= the edge) is an upper bound: time value left and the bid/ask spread only lower it",
    "short strangle (strikes at +/-1 implied move) and iron condor (long wings [calibration] condor_wing_moves \
     implied moves further out): no chain, so no credit is known; only the exit side is reported, minus the \
     intrinsic value owed at the exit (the condor's capped at its wing width; an estimate, its wings' time value \
     works the other way)",
    "bars are Yahoo's split- and dividend-adjusted daily bars: a move across an ex-dividend date is higher than the \
     traded one by about the dividend yield",
    "the score has only its VRP and consistency components: liquidity, term structure and skew need a chain, and \
     the score drops their weights",
    "survivorship: 210 mostly large, liquid US tickers that EarningsWatcher covers today; no delisted names",
];

/// How many events and how they were decided.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Counts {
    /// Rows of the recorded file.
    pub rows: usize,
    /// Distinct tickers in it.
    pub tickers: usize,
    /// Tickers with a bars file.
    pub tickers_with_bars: usize,
    /// Events without the bars they need (no file, or outside its dates).
    pub no_bars: usize,
    /// Among events whose bars exist: how their timing was decided, by basis code.
    pub timing: BTreeMap<String, usize>,
    /// Events whose timing the bars decided (the `inferred_*` bases).
    pub inferred: usize,
    /// Events left out because their timing stayed ambiguous (or the dataset's session is doubtful).
    pub ambiguous: usize,
    /// Events judged (timing decided, reaction bars present).
    pub judged: usize,
    /// Judged events with a VRP (so a tier): at least `min_events` past events.
    pub with_vrp: usize,
    /// Judged events without a VRP (too few past events).
    pub without_vrp: usize,
    /// Judged events with a score.
    pub with_score: usize,
    /// Events with a VRP whose own timing check is suspect (the larger gap on the other session).
    pub suspect: usize,
    /// Events with a VRP whose |gap| is within half a rounding step (0.05 point) of the implied move.
    pub within_rounding: usize,
}

/// An event whose calendars were wrong or disagreed, and what the bars say.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Correction {
    /// The company.
    pub ticker: Ticker,
    /// The report date (ET).
    pub report_date: NaiveDate,
    /// What the calendars said, `source: TIMING`.
    pub calendars: Vec<String>,
    /// What the bars say.
    pub bars: Timing,
}

/// An event left out for ambiguous timing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Left {
    /// The company.
    pub ticker: Ticker,
    /// The report date (ET).
    pub report_date: NaiveDate,
    /// Why.
    pub why: String,
}

/// One step between adjacent tiers: upper minus lower.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierStep {
    /// The higher tier.
    pub upper: Tier,
    /// The tier below it.
    pub lower: Tier,
    /// Hit rate difference (upper - lower), with an interval from independent resamples of each tier.
    pub hit_rate_difference: Ci,
    /// Mean edge difference, fraction of the reference close.
    pub mean_edge_difference: Ci,
}

/// The walk-forward of the tier thresholds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WalkForward {
    /// The last training date (ET).
    pub train_end: NaiveDate,
    /// Training events (with a VRP, reported on or before `train_end`).
    pub train_events: usize,
    /// Test events (reported after it).
    pub test_events: usize,
    /// The design's thresholds (`[analysis.tiers]`).
    pub design: TierThresholds,
    /// The thresholds chosen on the training events; `None` when no ordered tiers exist there.
    pub chosen: Option<ChosenThresholds>,
    /// The design's tiers on the training events.
    pub train_design: Vec<GroupStats>,
    /// The chosen tiers on the training events.
    pub train_chosen: Vec<GroupStats>,
    /// The design's tiers on the test events.
    pub test_design: Vec<GroupStats>,
    /// The chosen tiers on the test events.
    pub test_chosen: Vec<GroupStats>,
    /// Brier score on the test events of the design's tiers' training hit rates.
    pub brier_design: Option<f64>,
    /// The same for the chosen tiers.
    pub brier_chosen: Option<f64>,
    /// The same for one forecast for all, the overall training hit rate.
    pub brier_no_skill: Option<f64>,
    /// Brier(design) - Brier(chosen) per test event, its mean with a paired interval (above 0: chosen forecast better).
    pub brier_design_minus_chosen: Option<Ci>,
    /// Whether the test hit rates rise with the tier, design and chosen.
    pub test_monotone: (bool, bool),
    /// The conclusion in words.
    pub verdict: String,
    /// New defaults when the test events support them.
    pub proposed: Option<ChosenThresholds>,
}

/// The walk-forward of the score's two measurable weights.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightsCheck {
    /// The design's consistency share of the two weights: 0.25 / (0.45 + 0.25).
    pub design_consistency_share: f64,
    /// The share chosen on the training events.
    pub chosen_consistency_share: Option<f64>,
    /// AUC of a hit on the training events: design, chosen, VRP alone, consistency alone.
    pub train_auc: [Option<f64>; 4],
    /// The same on the test events.
    pub test_auc: [Option<f64>; 4],
    /// Test AUC(chosen) - AUC(design), paired bootstrap interval.
    pub test_chosen_minus_design: Option<Ci>,
    /// The conclusion in words.
    pub verdict: String,
    /// New `[analysis.score.weights]` vrp and consistency when the test events support them.
    pub proposed: Option<(f64, f64)>,
    /// What the data cannot tell about the weights.
    pub cannot_tell: String,
}

/// Everything `ivcd calibrate` reports. Fractions are fractions of the
/// reference close (0.016 = 1.6% of spot); hit rates 0..1.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalibrationReport {
    /// The credit the dataset's licence asks for.
    pub attribution: &'static str,
    /// The recorded file as configured.
    pub source_file: String,
    /// First and last report date in it.
    pub dates: Option<(NaiveDate, NaiveDate)>,
    /// The counts.
    pub counts: Counts,
    /// Events whose calendars were wrong (or disagreed): the bars decided.
    pub calendar_corrections: Vec<Correction>,
    /// Events left out for ambiguous timing.
    pub ambiguous: Vec<Left>,
    /// The approximations behind the figures.
    pub approximations: Vec<&'static str>,
    /// The design's tiers (`[analysis.tiers]`).
    pub design_tiers: TierThresholds,
    /// Bootstrap samples per interval and the seed.
    pub bootstrap: (usize, u64),
    /// The design tiers at the reaction open, all events with a VRP.
    pub tiers: Vec<GroupStats>,
    /// The same without events whose own timing check is suspect.
    pub tiers_without_suspect: Vec<GroupStats>,
    /// The design tiers at the reaction close.
    pub tiers_at_close: Vec<GroupStats>,
    /// Does a higher tier crush more often: adjacent tiers' differences.
    pub tier_steps: Vec<TierStep>,
    /// Score deciles (pooled bounds), at the open.
    pub score_deciles: Vec<GroupStats>,
    /// VRP buckets, at the open.
    pub vrp_buckets: Vec<GroupStats>,
    /// By report year, all judged events (with or without a VRP), at the open.
    pub years: Vec<GroupStats>,
    /// By timing, all judged events.
    pub timings: Vec<GroupStats>,
    /// By how the timing was decided, all judged events.
    pub timing_bases: Vec<GroupStats>,
    /// The 20 tickers (at least 4 judged events) with the highest mean short-straddle bound.
    pub tickers_best: Vec<GroupStats>,
    /// The 20 with the lowest.
    pub tickers_worst: Vec<GroupStats>,
    /// The tier thresholds' walk-forward.
    pub walk_forward: WalkForward,
    /// The score weights' walk-forward.
    pub weights: WeightsCheck,
    /// Whether this run reused the stored derived rows (inputs unchanged).
    pub reused: bool,
}

/// The judged events (timing decided, outcome measured), by ticker then
/// report date: the fixed order the bootstrap draws from.
pub fn sorted_judged(records: &[EventRecord]) -> Vec<&Judgement> {
    let mut judged: Vec<&Judgement> =
        records.iter().filter(|r| r.status == Status::Judged).filter_map(|r| r.judgement.as_ref()).collect();
    judged.sort_by(|a, b| (&a.ticker, a.report_date).cmp(&(&b.ticker, b.report_date)));
    judged
}

/// Builds the report from the records (sorted or not).
pub fn build(
    records: &[EventRecord],
    source_file: &str,
    config: &CalibrationConfig,
    analysis: &AnalysisParams,
    tickers_with_bars: usize,
    reused: bool,
) -> CalibrationReport {
    let boot = Bootstrap { resamples: config.bootstrap_resamples, seed: config.seed };
    let design = analysis.tiers;
    let judged = sorted_judged(records);
    let with_vrp: Vec<&Judgement> = judged.iter().copied().filter(|j| j.vrp.is_some()).collect();
    let half_step = 0.0005;
    let suspect = |j: &Judgement| j.outcome.as_ref().is_some_and(|o| o.timing_suspect);
    let bases = basis_counts(records);
    let counts = Counts {
        rows: records.len(),
        tickers: {
            let mut t: Vec<&Ticker> = records.iter().map(|r| &r.ticker).collect();
            t.dedup();
            t.len()
        },
        tickers_with_bars,
        no_bars: records.iter().filter(|r| r.status == Status::NoBars).count(),
        timing: bases.iter().map(|(b, n)| (b.code().to_owned(), *n)).collect(),
        inferred: bases.iter().filter(|(b, _)| b.is_inferred()).map(|(_, n)| n).sum(),
        ambiguous: records.iter().filter(|r| r.status == Status::AmbiguousTiming).count(),
        judged: judged.len(),
        with_vrp: with_vrp.len(),
        without_vrp: judged.len() - with_vrp.len(),
        with_score: with_vrp.iter().filter(|j| j.score.is_some()).count(),
        suspect: with_vrp.iter().filter(|j| suspect(j)).count(),
        within_rounding: with_vrp
            .iter()
            .filter(|j| {
                j.outcome.as_ref().is_some_and(|o| (o.gap_move.abs() - j.implied_move).abs() < half_step)
            })
            .count(),
    };
    let calendar_corrections = records
        .iter()
        .filter(|r| {
            matches!(
                r.timing.basis,
                TimingBasis::InferredCalendarCorrected | TimingBasis::InferredCalendarsDisagree
            )
        })
        .filter_map(|r| {
            Some(Correction {
                ticker: r.ticker.clone(),
                report_date: r.report_date,
                calendars: r.timing.claims.iter().map(|c| format!("{}: {}", c.source, c.timing)).collect(),
                bars: r.timing.timing?,
            })
        })
        .collect();
    let ambiguous = records
        .iter()
        .filter(|r| r.status == Status::AmbiguousTiming)
        .map(|r| Left {
            ticker: r.ticker.clone(),
            report_date: r.report_date,
            why: r.reason.clone().unwrap_or_default(),
        })
        .collect();

    let open = ExitAt::Open;
    let tiers = stats::tiers(&with_vrp, &design, open, "", &boot);
    let not_suspect: Vec<&Judgement> = with_vrp.iter().copied().filter(|j| !suspect(j)).collect();
    let tiers_without_suspect = stats::tiers(&not_suspect, &design, open, "no suspect ", &boot);
    let tiers_at_close = stats::tiers(&with_vrp, &design, ExitAt::Close, "at close ", &boot);
    let tier_steps = tier_steps(&with_vrp, &design, &boot);
    let bounds = decile_bounds(&with_vrp);
    let score_deciles = stats::by_group(
        &with_vrp,
        open,
        |j| j.score.and_then(|s| decile_of(&bounds, s)),
        |d| {
            let (low, high) = bounds.get(*d).copied().unwrap_or((f64::NAN, f64::NAN));
            format!("D{} ({low:.1}-{high:.1})", d + 1)
        },
        &boot,
    );
    let vrp_buckets =
        stats::by_group(&with_vrp, open, |j| j.vrp.map(vrp_bucket), |i| vrp_bucket_label(*i), &boot);
    let years = stats::by_group(&judged, open, |j| Some(j.report_date.year()), ToString::to_string, &boot);
    let timings = stats::by_group(&judged, open, |j| Some(j.timing.code()), |t| (*t).to_owned(), &boot);
    let timing_bases = stats::by_group(&judged, open, |j| Some(j.basis), |b| b.code().to_owned(), &boot);
    let mut per_ticker: BTreeMap<&Ticker, usize> = BTreeMap::new();
    for j in &judged {
        *per_ticker.entry(&j.ticker).or_default() += 1;
    }
    let mut tickers = stats::by_group(
        &judged,
        open,
        |j| (per_ticker.get(&j.ticker).copied().unwrap_or(0) >= 4).then(|| j.ticker.clone()),
        ToString::to_string,
        &boot,
    );
    tickers.sort_by(|a, b| {
        b.short_straddle.mean.value.total_cmp(&a.short_straddle.mean.value).then(a.label.cmp(&b.label))
    });
    let tickers_best: Vec<GroupStats> = tickers.iter().take(20).cloned().collect();
    let tickers_worst: Vec<GroupStats> = tickers.iter().rev().take(20).cloned().collect();

    CalibrationReport {
        attribution: ATTRIBUTION,
        source_file: source_file.to_owned(),
        dates: records.iter().map(|r| r.report_date).min().zip(records.iter().map(|r| r.report_date).max()),
        counts,
        calendar_corrections,
        ambiguous,
        approximations: APPROXIMATIONS.to_vec(),
        design_tiers: design,
        bootstrap: (boot.resamples, boot.seed),
        tiers,
        tiers_without_suspect,
        tiers_at_close,
        tier_steps,
        score_deciles,
        vrp_buckets,
        years,
        timings,
        timing_bases,
        tickers_best,
        tickers_worst,
        walk_forward: walk_forward(&with_vrp, config, &design, &boot),
        weights: weights(&with_vrp, config, analysis, &boot),
        reused,
    }
}

/// Hit rates and edges of adjacent design tiers compared.
fn tier_steps(with_vrp: &[&Judgement], design: &TierThresholds, boot: &Bootstrap) -> Vec<TierStep> {
    let column = |tier: Tier, f: &dyn Fn(&Judgement) -> Option<f64>| -> Vec<f64> {
        with_vrp.iter().filter(|j| j.vrp.map(|v| design.tier(v)) == Some(tier)).filter_map(|j| f(j)).collect()
    };
    let hit = |j: &Judgement| j.outcome.as_ref().map(|o| if o.at_open.inside { 1.0 } else { 0.0 });
    let edge = |j: &Judgement| j.outcome.as_ref().map(|o| o.at_open.edge);
    let order = [Tier::Excellent, Tier::Good, Tier::Marginal, Tier::Skip];
    order
        .windows(2)
        .filter_map(|pair| {
            let (upper, lower) = (pair[0], pair[1]);
            let label = format!("{}-{}", upper.code(), lower.code());
            Some(TierStep {
                upper,
                lower,
                hit_rate_difference: difference_ci(&label, &column(upper, &hit), &column(lower, &hit), boot)?,
                mean_edge_difference: difference_ci(
                    &format!("{label} edge"),
                    &column(upper, &edge),
                    &column(lower, &edge),
                    boot,
                )?,
            })
        })
        .collect()
}

fn hit_pairs(events: &[&Judgement]) -> Vec<(f64, bool)> {
    events.iter().filter_map(|j| Some((j.vrp?, j.outcome.as_ref()?.at_open.inside))).collect()
}

fn walk_forward(
    with_vrp: &[&Judgement],
    config: &CalibrationConfig,
    design: &TierThresholds,
    boot: &Bootstrap,
) -> WalkForward {
    let (train, test): (Vec<&Judgement>, Vec<&Judgement>) =
        with_vrp.iter().copied().partition(|j| j.report_date <= config.train_end);
    let (train_pairs, test_pairs) = (hit_pairs(&train), hit_pairs(&test));
    let chosen = choose_thresholds(&train_pairs, config.min_tier_events);
    let open = ExitAt::Open;
    let design_forecasts = tier_forecasts(&train_pairs, design);
    let design_terms = brier_terms(&test_pairs, design, &design_forecasts);
    let overall = train_pairs.iter().filter(|(_, h)| *h).count() as f64 / train_pairs.len().max(1) as f64;
    let no_skill: Vec<f64> = test_pairs
        .iter()
        .map(|(_, h)| {
            let y = if *h { 1.0 } else { 0.0 };
            (overall - y) * (overall - y)
        })
        .collect();
    let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    let monotone = |groups: &[GroupStats]| {
        // Groups come best tier first; hit rates must not rise going down.
        groups.windows(2).all(|w| w[0].hit_rate.value >= w[1].hit_rate.value)
    };
    let test_design = stats::tiers(&test, design, open, "test design ", boot);
    let (train_chosen, test_chosen, brier_chosen, difference) = match &chosen {
        Some(c) => {
            let t = c.as_tiers();
            let forecasts = tier_forecasts(&train_pairs, &t);
            let terms = brier_terms(&test_pairs, &t, &forecasts);
            let paired: Vec<f64> = design_terms.iter().zip(&terms).map(|(d, c)| d - c).collect();
            (
                stats::tiers(&train, &t, open, "train chosen ", boot),
                stats::tiers(&test, &t, open, "test chosen ", boot),
                mean(&terms),
                mean_ci("brier design - chosen", &paired, boot),
            )
        }
        None => (Vec::new(), Vec::new(), None, None),
    };
    let (verdict, proposed) = match (&chosen, difference) {
        (None, _) => {
            ("the training events support no ordered tiers: keep the design's thresholds".to_owned(), None)
        }
        (Some(_), None) => ("no test events: nothing to judge the chosen thresholds on".to_owned(), None),
        (Some(c), Some(d)) if d.low > 0.0 => (
            format!(
                "the thresholds chosen on events to {} forecast the later events' hit rates better than the \
                 design's (Brier difference {:+.4} [{:+.4}, {:+.4}]): propose them",
                config.train_end, d.value, d.low, d.high
            ),
            Some(*c),
        ),
        (Some(_), Some(d)) if d.high < 0.0 => (
            format!(
                "the design's thresholds forecast the later events better (Brier difference {:+.4} [{:+.4}, \
                 {:+.4}]): keep them",
                d.value, d.low, d.high
            ),
            None,
        ),
        (Some(_), Some(d)) => (
            format!(
                "out of sample the chosen and the design's thresholds cannot be told apart (Brier difference \
                 {:+.4} [{:+.4}, {:+.4}] includes 0): keep the design's",
                d.value, d.low, d.high
            ),
            None,
        ),
    };
    WalkForward {
        train_end: config.train_end,
        train_events: train_pairs.len(),
        test_events: test_pairs.len(),
        design: *design,
        chosen,
        train_design: stats::tiers(&train, design, open, "train design ", boot),
        train_chosen,
        test_monotone: (monotone(&test_design), monotone(&test_chosen)),
        test_design,
        test_chosen,
        brier_design: mean(&design_terms),
        brier_chosen,
        brier_no_skill: mean(&no_skill),
        brier_design_minus_chosen: difference,
        verdict,
        proposed,
    }
}

/// The two-component score of an event for a consistency share `w`.
fn two_component(j: &Judgement, w: f64) -> Option<(f64, bool)> {
    let (vrp, consistency) = (j.score_components.vrp?, j.score_components.consistency?);
    Some(((1.0 - w) * vrp + w * consistency, j.outcome.as_ref()?.at_open.inside))
}

fn weights(
    with_vrp: &[&Judgement],
    config: &CalibrationConfig,
    analysis: &AnalysisParams,
    boot: &Bootstrap,
) -> WeightsCheck {
    let w = &analysis.score.weights;
    let design_share =
        if w.vrp + w.consistency > 0.0 { w.consistency / (w.vrp + w.consistency) } else { 0.0 };
    let (train, test): (Vec<&Judgement>, Vec<&Judgement>) =
        with_vrp.iter().copied().partition(|j| j.report_date <= config.train_end);
    let pairs = |events: &[&Judgement], share: f64| -> Vec<(f64, bool)> {
        events.iter().filter_map(|j| two_component(j, share)).collect()
    };
    let grid: Vec<f64> = (0..=20).map(|i| f64::from(i) / 20.0).collect();
    let chosen = grid
        .iter()
        .filter_map(|share| Some((*share, auc(&pairs(&train, *share))?)))
        .fold(None::<(f64, f64)>, |best, (share, a)| match best {
            Some((_, b)) if b >= a - 1e-12 => best,
            _ => Some((share, a)),
        })
        .map(|(share, _)| share);
    let aucs = |events: &[&Judgement]| -> [Option<f64>; 4] {
        [
            auc(&pairs(events, design_share)),
            chosen.and_then(|c| auc(&pairs(events, c))),
            auc(&pairs(events, 0.0)),
            auc(&pairs(events, 1.0)),
        ]
    };
    let difference = chosen.and_then(|c| {
        auc_difference_ci("auc chosen - design", &pairs(&test, c), &pairs(&test, design_share), boot)
    });
    let total = w.vrp + w.consistency;
    let (verdict, proposed) = match (chosen, difference) {
        (Some(c), Some(d)) if d.low > 0.0 => (
            format!(
                "a consistency share of {c:.2} (chosen on events to {}) ranks the later events' hits better than \
                 the design's {design_share:.2} (AUC difference {:+.3} [{:+.3}, {:+.3}]): propose it",
                config.train_end, d.value, d.low, d.high
            ),
            Some((total * (1.0 - c), total * c)),
        ),
        (Some(c), Some(d)) => (
            format!(
                "the consistency share chosen on events to {} ({c:.2}) and the design's ({design_share:.2}) \
                 cannot be told apart on the later events (AUC difference {:+.3} [{:+.3}, {:+.3}]): keep the \
                 design's weights",
                config.train_end, d.value, d.low, d.high
            ),
            None,
        ),
        _ => ("too few events with hits and misses to compare weights".to_owned(), None),
    };
    WeightsCheck {
        design_consistency_share: design_share,
        chosen_consistency_share: chosen,
        train_auc: aucs(&train),
        test_auc: aucs(&test),
        test_chosen_minus_design: difference,
        verdict,
        proposed,
        cannot_tell:
            "the liquidity and term-structure weights: without chains those components do not exist here"
                .to_owned(),
    }
}

//! The record of a tier and of a ticker on recorded past reports: what
//! the last `ivcd calibrate` run stored (`calibration_tiers`), shown beside
//! each setup and beside the live scoreboard (`docs/calibration.md`, "Into
//! the product"). Pure: no I/O.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::vrp::{Tier, TierThresholds};

/// One tier's record on recorded past reports, as the last `ivcd
/// calibrate` run stored it (table `calibration_tiers`; method in
/// `docs/calibration.md`). Fractions of the reference close; hit rates 0..1;
/// intervals are bootstrap 95% percentile intervals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierRecord {
    /// The tier.
    pub tier: Tier,
    /// Past reports judged in the tier (with a VRP).
    pub events: usize,
    /// Share whose |gap| at the reaction open stayed below the implied move.
    pub hit_rate: f64,
    /// Its interval's lower end.
    pub hit_rate_low: f64,
    /// Its interval's upper end.
    pub hit_rate_high: f64,
    /// Mean of implied move - |gap|.
    pub mean_edge: f64,
    /// Mean short-straddle result at the reaction open: an upper bound
    /// (valued at intrinsic value; time value left and the spread only lower it).
    pub straddle_mean: f64,
    /// Its interval's lower end.
    pub straddle_mean_low: f64,
    /// Its interval's upper end.
    pub straddle_mean_high: f64,
    /// The mean of the worst 5% of the same.
    pub straddle_es5: f64,
}

/// The last `ivcd calibrate` run: where its figures come from, and the
/// record of each tier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    /// The dataset, e.g. `earnings_watcher:earnings_implied_moves.csv`.
    pub source: String,
    /// The credit its licence asks for wherever its figures are shown.
    pub attribution: String,
    /// The tier thresholds the run used.
    pub thresholds: TierThresholds,
    /// Its first report date (ET).
    pub first_report: NaiveDate,
    /// Its last report date (ET).
    pub last_report: NaiveDate,
    /// When the run was made (UTC).
    pub calibrated_at: DateTime<Utc>,
    /// Each tier with at least one event, best first.
    pub tiers: Vec<TierRecord>,
}

impl Calibration {
    /// The record that applies to a candidate of `tier` with VRP `vrp`: its
    /// tier's, when the run's thresholds put `vrp` in the same tier (a run
    /// under other `[analysis.tiers]` describes other VRP ranges: no record).
    pub fn record_of(&self, vrp: Option<f64>, tier: Option<Tier>) -> Option<&TierRecord> {
        let (vrp, tier) = (vrp?, tier?);
        if !vrp.is_finite() || self.thresholds.tier(vrp) != tier {
            return None;
        }
        self.tiers.iter().find(|r| r.tier == tier)
    }
}

/// One past report of a ticker with a recorded implied move and its realized gap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecordedOutcome {
    /// The report date (ET).
    pub report_date: NaiveDate,
    /// The implied move at the reference close, fraction (rounded as the source printed it).
    pub implied_move: f64,
    /// The realized gap at the reaction open, signed fraction.
    pub gap_move: f64,
}

/// A ticker's own past implied moves against what followed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TickerRecord {
    /// The dataset the implied moves come from.
    pub source: String,
    /// The credit its licence asks for.
    pub attribution: String,
    /// Past reports with an implied move and a measured gap.
    pub events: usize,
    /// Of which |gap| stayed below the implied move.
    pub inside: usize,
    /// Mean of |gap| / implied move.
    pub mean_move_ratio: f64,
    /// The first and last report dates counted (ET).
    pub first_report: NaiveDate,
    /// The last.
    pub last_report: NaiveDate,
}

impl TickerRecord {
    /// The record of `outcomes` (any order; those with an implied move
    /// not above 0 or a non-finite figure are left out); `None` when none is left.
    ///
    /// Example: implied 0.10 and gap -0.05, implied 0.08 and gap +0.12:
    /// 2 events, 1 inside, mean ratio (0.5 + 1.5) / 2 = 1.0.
    pub fn from_outcomes(source: &str, attribution: &str, outcomes: &[RecordedOutcome]) -> Option<Self> {
        let usable: Vec<&RecordedOutcome> = outcomes
            .iter()
            .filter(|o| o.implied_move.is_finite() && o.implied_move > 0.0 && o.gap_move.is_finite())
            .collect();
        let first = usable.iter().map(|o| o.report_date).min()?;
        let last = usable.iter().map(|o| o.report_date).max()?;
        Some(Self {
            source: source.to_owned(),
            attribution: attribution.to_owned(),
            events: usable.len(),
            inside: usable.iter().filter(|o| o.gap_move.abs() < o.implied_move).count(),
            mean_move_ratio: usable.iter().map(|o| o.gap_move.abs() / o.implied_move).sum::<f64>()
                / usable.len() as f64,
            first_report: first,
            last_report: last,
        })
    }
}

/// One reviewed live event, as the comparison with the calibration needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiveOutcome {
    /// The tier at the scan.
    pub tier: Tier,
    /// The VRP at the scan.
    pub vrp: Option<f64>,
    /// Whether |gap| at the open stayed below the implied move; `None` without an implied move.
    pub inside: Option<bool>,
    /// The short straddle's P&L at mids, per share, as a fraction of the
    /// reference close; `None` without a reviewed straddle.
    pub straddle: Option<f64>,
}

/// A tier's live reviews beside its calibrated record (`ivcd report`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveAgainstCalibrated {
    /// The tier.
    pub tier: Tier,
    /// Reviewed events of the tier with an implied move.
    pub live_events: usize,
    /// Of which |gap| stayed below the implied move.
    pub live_inside: usize,
    /// `live_inside / live_events`; `None` without live events.
    pub live_hit_rate: Option<f64>,
    /// Its Wilson score 95% interval (Wilson 1927), lower end.
    pub live_hit_rate_low: Option<f64>,
    /// Upper end.
    pub live_hit_rate_high: Option<f64>,
    /// Reviewed short straddles of the tier.
    pub live_straddles: usize,
    /// Their mean P&L at mids, fraction of the reference close.
    pub live_straddle_mean: Option<f64>,
    /// The tier's calibrated record; `None` without a calibration, or when
    /// a live event's VRP falls in another tier under the calibration's thresholds.
    pub calibrated: Option<TierRecord>,
    /// Whether the live hit rate's interval overlaps the calibrated one
    /// (live results keep to history); `None` without both.
    pub keeps_to_history: Option<bool>,
}

/// The Wilson score interval of `k` successes in `n` trials at z = 1.96
/// (E. B. Wilson, "Probable inference, the law of succession, and
/// statistical inference", JASA 22, 1927): `(center ± half) / (1 + z²/n)`
/// with center `p + z²/2n` and half `z sqrt(p(1-p)/n + z²/4n²)`; `None` for
/// `n = 0`.
///
/// Example: 8 of 10 gives [0.490, 0.943].
pub fn wilson(k: usize, n: usize) -> Option<(f64, f64)> {
    if n == 0 || k > n {
        return None;
    }
    let z: f64 = 1.96;
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let denominator = 1.0 + z * z / n;
    let center = p + z * z / (2.0 * n);
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    Some((((center - half) / denominator).max(0.0), ((center + half) / denominator).min(1.0)))
}

/// Each tier with live reviews or a calibrated record, best first: the live
/// hit rate and straddle result beside the calibrated ones.
pub fn against_calibration(
    live: &[LiveOutcome],
    calibration: Option<&Calibration>,
) -> Vec<LiveAgainstCalibrated> {
    let tiers = [Tier::Excellent, Tier::Good, Tier::Marginal, Tier::Skip];
    tiers
        .into_iter()
        .filter_map(|tier| {
            let rows: Vec<&LiveOutcome> = live.iter().filter(|l| l.tier == tier).collect();
            // The record applies when every live event's VRP is in the same tier under its thresholds.
            let calibrated = calibration.and_then(|c| {
                let record = c.tiers.iter().find(|r| r.tier == tier)?;
                rows.iter().all(|l| c.record_of(l.vrp, Some(l.tier)).is_some()).then(|| record.clone())
            });
            if rows.is_empty() && calibrated.is_none() {
                return None;
            }
            let judged: Vec<bool> = rows.iter().filter_map(|l| l.inside).collect();
            let inside = judged.iter().filter(|i| **i).count();
            let interval = wilson(inside, judged.len());
            let straddles: Vec<f64> =
                rows.iter().filter_map(|l| l.straddle).filter(|x| x.is_finite()).collect();
            Some(LiveAgainstCalibrated {
                tier,
                live_events: judged.len(),
                live_inside: inside,
                live_hit_rate: (!judged.is_empty()).then(|| inside as f64 / judged.len() as f64),
                live_hit_rate_low: interval.map(|i| i.0),
                live_hit_rate_high: interval.map(|i| i.1),
                live_straddles: straddles.len(),
                live_straddle_mean: (!straddles.is_empty())
                    .then(|| straddles.iter().sum::<f64>() / straddles.len() as f64),
                keeps_to_history: match (&calibrated, interval) {
                    (Some(r), Some((low, high))) => Some(low <= r.hit_rate_high && r.hit_rate_low <= high),
                    _ => None,
                },
                calibrated,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn record(tier: Tier, hit: (f64, f64, f64)) -> TierRecord {
        TierRecord {
            tier,
            events: 100,
            hit_rate: hit.0,
            hit_rate_low: hit.1,
            hit_rate_high: hit.2,
            mean_edge: 0.01,
            straddle_mean: 0.01,
            straddle_mean_low: 0.0,
            straddle_mean_high: 0.02,
            straddle_es5: -0.1,
        }
    }

    fn calibration() -> Calibration {
        Calibration {
            source: "s".into(),
            attribution: "a".into(),
            thresholds: TierThresholds::default(),
            first_report: d("2021-03-31"),
            last_report: d("2026-09-24"),
            calibrated_at: DateTime::parse_from_rfc3339("2026-10-07T12:00:00Z").unwrap().into(),
            tiers: vec![record(Tier::Good, (0.78, 0.72, 0.84)), record(Tier::Skip, (0.66, 0.63, 0.69))],
        }
    }

    #[test]
    fn a_record_applies_only_where_the_calibrations_thresholds_agree() {
        let c = calibration();
        assert_eq!(c.record_of(Some(1.6), Some(Tier::Good)).map(|r| r.tier), Some(Tier::Good));
        // A scan under other thresholds called VRP 1.3 good: the calibration's good is 1.5 and up.
        assert_eq!(c.record_of(Some(1.3), Some(Tier::Good)), None);
        assert_eq!(c.record_of(None, Some(Tier::Good)), None);
        assert_eq!(c.record_of(Some(f64::NAN), Some(Tier::Skip)), None);
        // No events of the tier in the calibration: no record.
        assert_eq!(c.record_of(Some(2.5), Some(Tier::Excellent)), None);
    }

    #[test]
    fn a_tickers_record_counts_inside_and_averages_the_ratio() {
        let o = |date: &str, implied: f64, gap: f64| RecordedOutcome {
            report_date: d(date),
            implied_move: implied,
            gap_move: gap,
        };
        let r = TickerRecord::from_outcomes(
            "s",
            "a",
            &[o("2023-05-04", 0.08, 0.12), o("2022-11-03", 0.10, -0.05), o("2022-08-04", 0.0, 0.3)],
        )
        .unwrap();
        assert_eq!((r.events, r.inside), (2, 1));
        assert!((r.mean_move_ratio - 1.0).abs() < 1e-12, "{}", r.mean_move_ratio);
        assert_eq!((r.first_report, r.last_report), (d("2022-11-03"), d("2023-05-04")));
        assert_eq!(TickerRecord::from_outcomes("s", "a", &[]), None);
    }

    #[test]
    fn wilson_interval_of_8_in_10() {
        // p = 0.8, z = 1.96: center 0.99208, half 0.44158, denominator 1.38416: [0.4902, 0.9433].
        let (low, high) = wilson(8, 10).unwrap();
        assert!((low - 0.4902).abs() < 1e-4 && (high - 0.9433).abs() < 1e-4, "{low} {high}");
        assert_eq!(wilson(0, 0), None);
        let (low, high) = wilson(0, 5).unwrap();
        assert!(low == 0.0 && high < 0.5);
    }

    #[test]
    fn live_reviews_sit_beside_the_calibrated_tier() {
        let live = |tier, vrp, inside, straddle| LiveOutcome { tier, vrp: Some(vrp), inside, straddle };
        let rows = against_calibration(
            &[
                live(Tier::Skip, 1.0, Some(false), Some(-0.28)),
                live(Tier::Skip, 1.1, Some(true), Some(0.02)),
                live(Tier::Skip, 0.9, None, None),
            ],
            Some(&calibration()),
        );
        let tiers: Vec<Tier> = rows.iter().map(|r| r.tier).collect();
        assert_eq!(tiers, vec![Tier::Good, Tier::Skip], "the calibrated tiers and the live ones");
        let skip = &rows[1];
        assert_eq!((skip.live_events, skip.live_inside, skip.live_straddles), (2, 1, 2));
        assert_eq!(skip.live_hit_rate, Some(0.5));
        assert!((skip.live_straddle_mean.unwrap() + 0.13).abs() < 1e-12);
        assert_eq!(skip.calibrated.as_ref().map(|r| r.hit_rate), Some(0.66));
        assert_eq!(skip.keeps_to_history, Some(true), "1 of 2 cannot be told from 66%");
        assert_eq!(rows[0].live_events, 0);
        assert_eq!(rows[0].keeps_to_history, None);
        // 0 of 12 inside does not keep to a 66% record.
        let misses: Vec<LiveOutcome> = (0..12).map(|_| live(Tier::Skip, 1.0, Some(false), None)).collect();
        let rows = against_calibration(&misses, Some(&calibration()));
        assert_eq!(rows[1].keeps_to_history, Some(false));
        // Without a calibration: the live figures alone.
        let rows = against_calibration(&misses, None);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].calibrated, None);
    }
}

//! The walk-forward choice of tier thresholds: on the training events, the
//! thresholds that split them into tiers whose hit rates increase, and the
//! Brier score of each set on the later events. Pure: no I/O.
//!
//! **Walk-forward thresholds**: on the training events only, the VRP
//! thresholds (on a grid 0.50, 0.55, ..., 4.00) that split the events into
//! four tiers whose hit rates increase with the tier, each tier holding at
//! least `min_tier_events`, and that minimise the within-tier squared error
//! of the hit indicator (the least-squares partition of a one-dimensional
//! regression tree, Breiman et al., *Classification and Regression Trees*,
//! 1984, with all three splits chosen jointly). When no four such tiers
//! exist, three (no excellent tier), then two. Each set of thresholds is then
//! judged on the later events by the Brier score (Brier 1950, the mean
//! squared difference between the forecast probability and the outcome) of
//! forecasting each event's hit by its tier's training hit rate; the
//! difference between two sets gets a paired bootstrap interval.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::analysis::vrp::{Tier, TierThresholds};

/// Thresholds chosen by the walk-forward; `None` where the training data
/// support no such tier.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChosenThresholds {
    /// Lowest VRP rated excellent.
    pub excellent: Option<f64>,
    /// Lowest VRP rated good.
    pub good: Option<f64>,
    /// Lowest VRP rated marginal.
    pub marginal: Option<f64>,
}

impl ChosenThresholds {
    /// As tier thresholds: a missing tier's threshold is unreachable (infinite).
    pub fn as_tiers(&self) -> TierThresholds {
        TierThresholds {
            excellent: self.excellent.unwrap_or(f64::INFINITY),
            good: self.good.unwrap_or(f64::INFINITY),
            marginal: self.marginal.unwrap_or(f64::INFINITY),
        }
    }
}

/// The grid of candidate thresholds: 0.50 to 4.00 by 0.05.
pub fn threshold_grid() -> Vec<f64> {
    (10..=80).map(|i| f64::from(i * 5) / 100.0).collect()
}

/// Chooses tier thresholds on `train` (VRP, hit) pairs: the least-squares
/// partition into ordered tiers described in the module docs. `None` when
/// not even two tiers of `min_events` each, the upper one hitting more
/// often, exist.
pub fn choose_thresholds(train: &[(f64, bool)], min_events: usize) -> Option<ChosenThresholds> {
    let mut sorted: Vec<(f64, bool)> = train.iter().copied().filter(|(v, _)| v.is_finite()).collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = sorted.len();
    // hits[i] = hits among the i lowest VRPs.
    let mut hits = vec![0usize; n + 1];
    for (i, (_, hit)) in sorted.iter().enumerate() {
        hits[i + 1] = hits[i] + usize::from(*hit);
    }
    // The cut index of each grid value: how many events lie below it; distinct, ascending.
    let grid = threshold_grid();
    let cuts: Vec<(f64, usize)> = grid.iter().map(|t| (*t, sorted.partition_point(|(v, _)| v < t))).collect();
    let segment = |a: usize, b: usize| -> Option<(f64, f64)> {
        // (hit rate, squared error) of events a..b, when large enough.
        let count = b.checked_sub(a)?;
        if count < min_events.max(1) {
            return None;
        }
        let h = (hits[b] - hits[a]) as f64;
        Some((h / count as f64, h - h * h / count as f64))
    };
    for tiers in (2..=4).rev() {
        let mut best: Option<(f64, Vec<f64>)> = None;
        search(&cuts, tiers - 1, 0, 0, n, &segment, &mut Vec::new(), &mut best);
        if let Some((_, thresholds)) = best {
            let mut iter = thresholds.into_iter();
            let marginal = iter.next();
            let good = iter.next();
            let excellent = iter.next();
            return Some(ChosenThresholds { excellent, good, marginal });
        }
    }
    None
}

/// Depth-first search over increasing cuts for the least total squared
/// error with strictly increasing hit rates. `chosen` holds the thresholds
/// so far; `from` is the first grid index allowed, `start` the first event
/// of the current segment.
#[expect(clippy::too_many_arguments, reason = "the recursion's state, passed down unchanged")]
fn search(
    cuts: &[(f64, usize)],
    remaining: usize,
    from: usize,
    start: usize,
    n: usize,
    segment: &dyn Fn(usize, usize) -> Option<(f64, f64)>,
    chosen: &mut Vec<(f64, usize, f64, f64)>,
    best: &mut Option<(f64, Vec<f64>)>,
) {
    if remaining == 0 {
        let Some((rate, error)) = segment(start, n) else { return };
        if chosen.last().is_some_and(|(_, _, previous, _)| rate <= *previous) {
            return;
        }
        let total = chosen.iter().map(|c| c.3).sum::<f64>() + error;
        if best.as_ref().is_none_or(|(b, _)| total < *b - 1e-12) {
            *best = Some((total, chosen.iter().map(|c| c.0).collect()));
        }
        return;
    }
    for i in from..cuts.len() {
        let (threshold, cut) = cuts[i];
        if i > from && cuts[i - 1].1 == cut {
            continue; // the same split as the previous grid value
        }
        let Some((rate, error)) = segment(start, cut) else { continue };
        if chosen.last().is_some_and(|(_, _, previous, _)| rate <= *previous) {
            continue;
        }
        chosen.push((threshold, cut, rate, error));
        search(cuts, remaining - 1, i + 1, cut, n, segment, chosen, best);
        chosen.pop();
    }
}

/// The forecast of a hit for each tier under `thresholds`: the training
/// events' hit rate in that tier, or the overall training rate for a tier
/// without training events.
pub fn tier_forecasts(train: &[(f64, bool)], thresholds: &TierThresholds) -> BTreeMap<Tier, f64> {
    let overall = train.iter().filter(|(_, h)| *h).count() as f64 / train.len().max(1) as f64;
    [Tier::Excellent, Tier::Good, Tier::Marginal, Tier::Skip]
        .into_iter()
        .map(|tier| {
            let in_tier: Vec<bool> =
                train.iter().filter(|(v, _)| thresholds.tier(*v) == tier).map(|(_, h)| *h).collect();
            let rate = if in_tier.is_empty() {
                overall
            } else {
                in_tier.iter().filter(|h| **h).count() as f64 / in_tier.len() as f64
            };
            (tier, rate)
        })
        .collect()
}

/// Per event of `test`, the squared error of forecasting its hit by its tier's training rate.
pub fn brier_terms(
    test: &[(f64, bool)],
    thresholds: &TierThresholds,
    forecasts: &BTreeMap<Tier, f64>,
) -> Vec<f64> {
    test.iter()
        .map(|(v, hit)| {
            let p = forecasts.get(&thresholds.tier(*v)).copied().unwrap_or(0.5);
            let y = if *hit { 1.0 } else { 0.0 };
            (p - y) * (p - y)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_split_where_the_hit_rate_changes() {
        // VRP 0.80..2.79: the 70 events below 1.5 hit 60%, the 130 from 1.5 up 90%.
        let train: Vec<(f64, bool)> = (0..200)
            .map(|i| {
                let vrp = 0.8 + f64::from(i) * 0.01;
                let hit = if vrp < 1.5 { i % 5 < 3 } else { i % 10 != 0 };
                (vrp, hit)
            })
            .collect();
        // At least 70 per tier: room for two tiers only, split at 1.5.
        let two = choose_thresholds(&train, 70).unwrap();
        assert_eq!(two, ChosenThresholds { excellent: None, good: None, marginal: Some(1.5) });
        // At least 60: three ordered tiers exist (0.60 < 0.857 < 0.90).
        let three = choose_thresholds(&train, 60).unwrap();
        assert!(three.good.is_some() && three.excellent.is_none(), "{three:?}");
        assert!(choose_thresholds(&train, 150).is_none());
    }
}

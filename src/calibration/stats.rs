//! The calibration's statistics: per group of judged events, the hit rate,
//! the edge and the structures' results with bootstrap confidence
//! intervals; the walk-forward choice of tier thresholds and score weights.
//! Pure: no I/O; seeded, so the same events give the same figures.
//!
//! **Confidence intervals**: the percentile bootstrap (Efron and Tibshirani,
//! *An Introduction to the Bootstrap*, 1993, ch. 13): `resamples` samples of
//! the group's events drawn with replacement (ChaCha8 seeded with the
//! configured seed and the group's label, so a group's interval does not
//! depend on the other groups), each statistic computed on each sample, the
//! interval from the 2.5th to the 97.5th percentile (linear interpolation
//! between order statistics). One draw of events serves every statistic of a
//! sample. The interval of a *worst* result is reported as computed, but a
//! bootstrap cannot see losses worse than the worst one observed: read it
//! as the spread of the sample's worst, not as a bound on the next one.
//!
//! **Expected shortfall (5%)**: the mean of the worst ceil(5% x n) results
//! (at least one).
//!
//! **Walk-forward thresholds**: in [`super::thresholds`].
//!
//! **Walk-forward weights**: with no chain, the score has two components,
//! VRP and consistency. The share w of consistency in their weights is
//! chosen on the training events (grid 0, 0.05, ..., 1) to maximise the area
//! under the ROC curve of the score for a hit (Mann-Whitney U / (n_hit x
//! n_miss), ties counted half; Hanley and McNeil 1982), then judged on the
//! later events against the design's w = 0.25 / (0.45 + 0.25).

use std::collections::BTreeMap;

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::judge::{Exit, Judgement};
use crate::analysis::vrp::TierThresholds;

/// A figure with its bootstrap 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ci {
    /// The figure on the events themselves.
    pub value: f64,
    /// The interval's lower end (2.5th percentile of the bootstrap).
    pub low: f64,
    /// The interval's upper end (97.5th percentile).
    pub high: f64,
}

/// One structure's results over a group, fractions of the reference close.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StructureStats {
    /// The mean.
    pub mean: Ci,
    /// The worst.
    pub worst: Ci,
    /// The mean of the worst 5% (at least one event).
    pub expected_shortfall_5: Ci,
}

/// The figures of one group of events at one exit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupStats {
    /// The group, e.g. `excellent`, `2024`, `D10 (78.1-100.0)`.
    pub label: String,
    /// Events in the group.
    pub events: usize,
    /// Share with |move| < implied move, 0..1.
    pub hit_rate: Ci,
    /// Mean of implied move - |move|, fraction of the reference close.
    pub mean_edge: Ci,
    /// Median of the same.
    pub median_edge: Ci,
    /// Short straddle P&L, an upper bound (fraction of the reference close).
    pub short_straddle: StructureStats,
    /// Short strangle, the exit side only (its credit is unknown).
    pub short_strangle_ex_credit: StructureStats,
    /// Iron condor, the exit side only, an estimate.
    pub iron_condor_ex_credit: StructureStats,
}

/// The bootstrap settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bootstrap {
    /// Samples per interval.
    pub resamples: usize,
    /// The seed.
    pub seed: u64,
}

/// Which exit the figures are measured at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitAt {
    /// The reaction open (ivcd's review): the gap move.
    Open,
    /// The reaction close: the close-to-close move.
    Close,
}

impl ExitAt {
    /// The judgement's figures at this exit, when it has an outcome.
    pub fn of(self, j: &Judgement) -> Option<&Exit> {
        j.outcome.as_ref().map(|o| match self {
            ExitAt::Open => &o.at_open,
            ExitAt::Close => &o.at_close,
        })
    }
}

/// 64-bit FNV-1a of `text`: a stable per-group seed offset.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The group's random stream: the configured seed and the group's label.
fn rng_for(boot: &Bootstrap, label: &str) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(boot.seed ^ fnv1a(label))
}

/// A uniform index below `n` from one 64-bit draw (Lemire's multiply-shift,
/// "Fast random integer generation in an interval", 2019, without the
/// rejection step: the bias is below n / 2^64, about 1e-16 here).
fn index(rng: &mut ChaCha8Rng, n: usize) -> usize {
    ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize
}

/// The `q` quantile (0..1) of ascending `sorted` with linear interpolation
/// between order statistics (Hyndman and Fan type 7); NaN when empty.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let position = q.clamp(0.0, 1.0) * (n - 1) as f64;
            let below = position.floor() as usize;
            let above = (below + 1).min(n - 1);
            let weight = position - below as f64;
            sorted[below] + (sorted[above] - sorted[below]) * weight
        }
    }
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// The 12 statistics of one sample, in a fixed order: hit rate, mean and
/// median edge, then mean, worst and expected shortfall of the straddle,
/// the strangle and the condor.
const N_STATS: usize = 12;

/// One column of a group's figures with its ascending order, so that a
/// bootstrap sample (given as how many times each event was drawn) yields
/// its order statistics by one walk, without sorting.
struct Column {
    values: Vec<f64>,
    ascending: Vec<usize>,
}

impl Column {
    fn new(values: Vec<f64>) -> Self {
        let mut ascending: Vec<usize> = (0..values.len()).collect();
        ascending.sort_by(|a, b| values[*a].total_cmp(&values[*b]));
        Self { values, ascending }
    }

    fn mean(&self, counts: &[u32], n: usize) -> f64 {
        self.values.iter().zip(counts).map(|(v, c)| v * f64::from(*c)).sum::<f64>() / n as f64
    }

    /// The value at 0-based position `k` of the sample sorted ascending.
    fn order_statistic(&self, counts: &[u32], k: usize) -> f64 {
        let mut seen = 0usize;
        for &i in &self.ascending {
            seen += counts[i] as usize;
            if seen > k {
                return self.values[i];
            }
        }
        f64::NAN
    }

    /// The sample's median (the mean of the two middle values when n is even).
    fn median(&self, counts: &[u32], n: usize) -> f64 {
        if n % 2 == 1 {
            self.order_statistic(counts, n / 2)
        } else {
            (self.order_statistic(counts, n / 2 - 1) + self.order_statistic(counts, n / 2)) / 2.0
        }
    }

    /// The mean of the sample's `k` smallest values.
    fn lowest_mean(&self, counts: &[u32], k: usize) -> f64 {
        let (mut taken, mut sum) = (0usize, 0.0);
        for &i in &self.ascending {
            let take = (counts[i] as usize).min(k - taken);
            sum += self.values[i] * take as f64;
            taken += take;
            if taken == k {
                break;
            }
        }
        sum / k as f64
    }

    /// mean, worst, expected shortfall (the mean of the worst `k`).
    fn structure(&self, counts: &[u32], n: usize, k: usize) -> [f64; 3] {
        [self.mean(counts, n), self.order_statistic(counts, 0), self.lowest_mean(counts, k)]
    }
}

/// A group's five columns: hit (1/0), edge, straddle, strangle, condor.
struct Columns([Column; 5]);

impl Columns {
    fn new(exits: &[&Exit]) -> Self {
        let column = |f: fn(&Exit) -> f64| Column::new(exits.iter().map(|e| f(e)).collect());
        Self([
            column(|e| if e.inside { 1.0 } else { 0.0 }),
            column(|e| e.edge),
            column(|e| e.straddle),
            column(|e| e.strangle_ex_credit),
            column(|e| e.condor_ex_credit),
        ])
    }

    /// The statistics of the sample that drew event i `counts[i]` times (n draws).
    fn stats(&self, counts: &[u32], n: usize) -> [f64; N_STATS] {
        let [hit, edge, straddle, strangle, condor] = &self.0;
        let k = ((n as f64 * 0.05).ceil() as usize).clamp(1, n);
        let [s0, s1, s2] = straddle.structure(counts, n, k);
        let [g0, g1, g2] = strangle.structure(counts, n, k);
        let [c0, c1, c2] = condor.structure(counts, n, k);
        [
            hit.mean(counts, n),
            edge.mean(counts, n),
            edge.median(counts, n),
            s0,
            s1,
            s2,
            g0,
            g1,
            g2,
            c0,
            c1,
            c2,
        ]
    }
}

/// The figures of `exits` (the group's events, in a fixed order: the
/// caller sorts them) with bootstrap intervals; `None` when empty.
pub fn group_stats(label: &str, exits: &[&Exit], boot: &Bootstrap) -> Option<GroupStats> {
    let n = exits.len();
    if n == 0 {
        return None;
    }
    let columns = Columns::new(exits);
    let mut counts = vec![1u32; n];
    let observed = columns.stats(&counts, n);
    let mut rng = rng_for(boot, label);
    let mut samples: Vec<[f64; N_STATS]> = Vec::with_capacity(boot.resamples);
    for _ in 0..boot.resamples {
        counts.iter_mut().for_each(|c| *c = 0);
        for _ in 0..n {
            counts[index(&mut rng, n)] += 1;
        }
        samples.push(columns.stats(&counts, n));
    }
    let ci = |i: usize| {
        let mut values: Vec<f64> = samples.iter().map(|s| s[i]).collect();
        values.sort_by(f64::total_cmp);
        Ci { value: observed[i], low: quantile(&values, 0.025), high: quantile(&values, 0.975) }
    };
    let structure = |first: usize| StructureStats {
        mean: ci(first),
        worst: ci(first + 1),
        expected_shortfall_5: ci(first + 2),
    };
    Some(GroupStats {
        label: label.to_owned(),
        events: n,
        hit_rate: ci(0),
        mean_edge: ci(1),
        median_edge: ci(2),
        short_straddle: structure(3),
        short_strangle_ex_credit: structure(6),
        iron_condor_ex_credit: structure(9),
    })
}

/// Groups `judged` by `key` (events without a key or without an outcome
/// are left out) and computes each group's figures at `exit`, in key order.
/// Within a group, events keep the order of `judged`.
pub fn by_group<K: Ord>(
    judged: &[&Judgement],
    exit: ExitAt,
    key: impl Fn(&Judgement) -> Option<K>,
    label: impl Fn(&K) -> String,
    boot: &Bootstrap,
) -> Vec<GroupStats> {
    let mut groups: BTreeMap<K, Vec<&Exit>> = BTreeMap::new();
    for j in judged {
        if let (Some(k), Some(e)) = (key(j), exit.of(j)) {
            groups.entry(k).or_default().push(e);
        }
    }
    groups.iter().filter_map(|(k, exits)| group_stats(&label(k), exits, boot)).collect()
}

/// The tiers' figures at `exit` under `thresholds` (the events' VRPs
/// re-tiered), best tier first; `prefix` starts each label (e.g. `test `).
pub fn tiers(
    judged: &[&Judgement],
    thresholds: &TierThresholds,
    exit: ExitAt,
    prefix: &str,
    boot: &Bootstrap,
) -> Vec<GroupStats> {
    by_group(judged, exit, |j| j.vrp.map(|v| thresholds.tier(v)), |t| format!("{prefix}{}", t.code()), boot)
}

/// The score deciles of `judged` (pooled quantiles of the scores that
/// exist; decile d holds the scores from the d-th to the (d+1)-th tenth),
/// as `(low, high)` score bounds per decile, lowest first.
pub fn decile_bounds(judged: &[&Judgement]) -> Vec<(f64, f64)> {
    let mut scores: Vec<f64> = judged.iter().filter_map(|j| j.score).filter(|s| s.is_finite()).collect();
    scores.sort_by(f64::total_cmp);
    if scores.is_empty() {
        return Vec::new();
    }
    let n = scores.len();
    (0..10)
        .map(|d| {
            let low = scores[(d * n / 10).min(n - 1)];
            let high = scores[((d + 1) * n / 10).saturating_sub(1).min(n - 1)];
            (low, high)
        })
        .collect()
}

/// The decile (0-based) of `score` given [`decile_bounds`]: the last decile
/// whose lower bound is at most the score.
pub fn decile_of(bounds: &[(f64, f64)], score: f64) -> Option<usize> {
    bounds.iter().rposition(|(low, _)| *low <= score).or((!bounds.is_empty()).then_some(0))
}

/// VRP buckets of the hit-rate plot: lower bounds, the last open-ended.
pub const VRP_BUCKETS: [f64; 8] = [0.0, 0.8, 1.0, 1.2, 1.5, 2.0, 2.5, 3.0];

/// The bucket label of [`VRP_BUCKETS`] index `i`: `1.2-1.5`, `>= 3.0`.
pub fn vrp_bucket_label(i: usize) -> String {
    match (VRP_BUCKETS.get(i), VRP_BUCKETS.get(i + 1)) {
        (Some(low), Some(high)) => format!("{low:.1}-{high:.1}"),
        (Some(low), None) => format!(">= {low:.1}"),
        _ => String::new(),
    }
}

/// The [`VRP_BUCKETS`] index of a VRP.
pub fn vrp_bucket(vrp: f64) -> usize {
    VRP_BUCKETS.iter().rposition(|low| vrp >= *low).unwrap_or(0)
}

/// The mean of `values` with its bootstrap interval (`label` seeds the stream).
pub fn mean_ci(label: &str, values: &[f64], boot: &Bootstrap) -> Option<Ci> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mut rng = rng_for(boot, label);
    let mut means: Vec<f64> = (0..boot.resamples)
        .map(|_| (0..n).map(|_| values[index(&mut rng, n)]).sum::<f64>() / n as f64)
        .collect();
    means.sort_by(f64::total_cmp);
    Some(Ci { value: mean(values), low: quantile(&means, 0.025), high: quantile(&means, 0.975) })
}

/// mean(a) - mean(b) with an interval from resampling `a` and `b`
/// independently (two separate groups of events); `None` when either is empty.
pub fn difference_ci(label: &str, a: &[f64], b: &[f64], boot: &Bootstrap) -> Option<Ci> {
    let (na, nb) = (a.len(), b.len());
    if na == 0 || nb == 0 {
        return None;
    }
    let mut rng = rng_for(boot, label);
    let mut diffs: Vec<f64> = (0..boot.resamples)
        .map(|_| {
            let ma = (0..na).map(|_| a[index(&mut rng, na)]).sum::<f64>() / na as f64;
            let mb = (0..nb).map(|_| b[index(&mut rng, nb)]).sum::<f64>() / nb as f64;
            ma - mb
        })
        .collect();
    diffs.sort_by(f64::total_cmp);
    Some(Ci { value: mean(a) - mean(b), low: quantile(&diffs, 0.025), high: quantile(&diffs, 0.975) })
}

/// Area under the ROC curve of `scores` for `hits`: the probability that a
/// random hit scores above a random miss, ties counted half. `None` without
/// both hits and misses.
pub fn auc(pairs: &[(f64, bool)]) -> Option<f64> {
    Ranked::new(pairs).auc(&vec![1; pairs.len()])
}

/// Events ordered by score once, so that the AUC of a bootstrap sample
/// (how many times each event was drawn) takes one walk.
struct Ranked<'a> {
    pairs: &'a [(f64, bool)],
    ascending: Vec<usize>,
}

impl<'a> Ranked<'a> {
    fn new(pairs: &'a [(f64, bool)]) -> Self {
        let mut ascending: Vec<usize> = (0..pairs.len()).collect();
        ascending.sort_by(|a, b| pairs[*a].0.total_cmp(&pairs[*b].0));
        Self { pairs, ascending }
    }

    /// Mann-Whitney: (sum of the hits' ranks - h (h + 1) / 2) / (h m), ties
    /// sharing their average rank.
    fn auc(&self, counts: &[u32]) -> Option<f64> {
        let (mut rank_sum, mut below, mut hits, mut misses) = (0.0, 0.0, 0.0, 0.0);
        let mut i = 0;
        while i < self.ascending.len() {
            let score = self.pairs[self.ascending[i]].0;
            let (mut group, mut group_hits) = (0.0, 0.0);
            while i < self.ascending.len() && self.pairs[self.ascending[i]].0 == score {
                let e = self.ascending[i];
                let c = f64::from(counts[e]);
                group += c;
                if self.pairs[e].1 {
                    group_hits += c;
                }
                i += 1;
            }
            rank_sum += group_hits * (below + (group + 1.0) / 2.0);
            below += group;
            hits += group_hits;
            misses += group - group_hits;
        }
        (hits > 0.0 && misses > 0.0).then(|| (rank_sum - hits * (hits + 1.0) / 2.0) / (hits * misses))
    }
}

/// The paired bootstrap interval of auc(a) - auc(b) over the same events:
/// `a` and `b` hold each event's two scores with its hit.
pub fn auc_difference_ci(label: &str, a: &[(f64, bool)], b: &[(f64, bool)], boot: &Bootstrap) -> Option<Ci> {
    let n = a.len().min(b.len());
    let (ra, rb) = (Ranked::new(&a[..n]), Ranked::new(&b[..n]));
    let value = ra.auc(&vec![1; n])? - rb.auc(&vec![1; n])?;
    let mut rng = rng_for(boot, label);
    let mut counts = vec![0u32; n];
    let mut diffs = Vec::with_capacity(boot.resamples);
    for _ in 0..boot.resamples {
        counts.iter_mut().for_each(|c| *c = 0);
        for _ in 0..n {
            counts[index(&mut rng, n)] += 1;
        }
        if let (Some(x), Some(y)) = (ra.auc(&counts), rb.auc(&counts)) {
            diffs.push(x - y);
        }
    }
    diffs.sort_by(f64::total_cmp);
    Some(Ci { value, low: quantile(&diffs, 0.025), high: quantile(&diffs, 0.975) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 4.0);
        assert!((quantile(&v, 0.5) - 2.5).abs() < 1e-12);
        assert!((quantile(&v, 0.025) - 1.075).abs() < 1e-12);
        assert!(quantile(&[], 0.5).is_nan());
    }

    #[test]
    fn order_statistics_from_counts() {
        let c = Column::new(vec![3.0, 1.0, 2.0, 4.0]);
        assert_eq!(c.median(&[1, 1, 1, 0], 3), 2.0);
        assert_eq!(c.median(&[1, 1, 1, 1], 4), 2.5);
        // Drawn: 3.0 twice, 4.0 twice: median 3.5, worst 3.0, mean 3.5.
        assert_eq!(c.median(&[2, 0, 0, 2], 4), 3.5);
        assert_eq!(c.structure(&[2, 0, 0, 2], 4, 1), [3.5, 3.0, 3.0]);
        // 40 values -1..-40: ceil(5% x 40) = 2 worst, -40 and -39.
        let v = Column::new((1..=40).map(|i| -f64::from(i)).collect());
        assert_eq!(v.lowest_mean(&[1; 40], 2), -39.5);
        assert_eq!(
            v.lowest_mean(
                &[
                    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                    0, 0, 0, 0, 0, 0, 0, 0, 0, 2
                ],
                2
            ),
            -40.0
        );
    }

    fn exit(inside: bool, edge: f64) -> Exit {
        Exit {
            abs_move: 0.0,
            inside,
            edge,
            straddle: edge,
            strangle_ex_credit: edge.min(0.0),
            condor_ex_credit: edge.clamp(-0.02, 0.0),
        }
    }

    #[test]
    fn group_figures_and_a_deterministic_interval() {
        let exits: Vec<Exit> =
            (0..40).map(|i| exit(i % 4 != 0, if i % 4 == 0 { -0.05 } else { 0.02 })).collect();
        let refs: Vec<&Exit> = exits.iter().collect();
        let boot = Bootstrap { resamples: 500, seed: 21 };
        let g = group_stats("good", &refs, &boot).unwrap();
        assert_eq!(g.events, 40);
        assert!((g.hit_rate.value - 0.75).abs() < 1e-12);
        assert!((g.mean_edge.value - (30.0 * 0.02 - 10.0 * 0.05) / 40.0).abs() < 1e-12);
        assert_eq!(g.median_edge.value, 0.02);
        assert_eq!(g.short_straddle.worst.value, -0.05);
        assert_eq!(g.iron_condor_ex_credit.worst.value, -0.02);
        assert!(g.hit_rate.low < 0.75 && 0.75 < g.hit_rate.high && g.hit_rate.low > 0.5);
        assert_eq!(group_stats("good", &refs, &boot), Some(g.clone()), "seeded: the same figures");
        assert_ne!(
            group_stats("other", &refs, &boot).unwrap().hit_rate,
            g.hit_rate,
            "the label seeds the stream"
        );
        assert!(group_stats("none", &[], &boot).is_none());
    }

    #[test]
    fn auc_counts_ties_half() {
        assert_eq!(auc(&[(1.0, false), (2.0, true)]), Some(1.0));
        assert_eq!(auc(&[(1.0, true), (2.0, false)]), Some(0.0));
        assert_eq!(auc(&[(1.0, true), (1.0, false)]), Some(0.5));
        assert_eq!(auc(&[(1.0, true)]), None);
        // Hits 3 and 4 against misses 1 and 3: pairs (3,1) 1, (3,3) 0.5, (4,1) 1, (4,3) 1 -> 3.5 / 4.
        assert_eq!(auc(&[(3.0, true), (1.0, false), (4.0, true), (3.0, false)]), Some(0.875));
        // Drawing the first hit twice: (3,1) and (3,3) count twice -> (2 + 1 + 1 + 1) / 6.
        let pairs = [(3.0, true), (1.0, false), (4.0, true), (3.0, false)];
        let auc2 = Ranked::new(&pairs).auc(&[2, 1, 1, 1]).unwrap();
        assert!((auc2 - 5.0 / 6.0).abs() < 1e-12, "{auc2}");
    }
}

//! Statistics of past moves, the VRP ratio, tiers, consistency and the edge
//! score.
//!
//! Source: `../shared/docs/domain.md` §4 (after the IV Crush 2.0 design in
//! `../shared/seeds`): VRP = implied move / mean(|gap move|); tiers at
//! 2.0 / 1.5 / 1.2; MAD = median(|x - median(x)|) of the absolute moves;
//! relative MAD = MAD / median; edge score = VRP / (1 + relative MAD);
//! tail-risk ratio = max(|move|) / mean(|move|).

use serde::{Deserialize, Serialize};

/// Summary of a ticker's absolute historical moves (fractions of the
/// reference close).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MoveStats {
    /// Number of events summarised.
    pub n_events: usize,
    /// Mean absolute move, fraction.
    pub mean: f64,
    /// Median absolute move, fraction.
    pub median: f64,
    /// Median absolute deviation of the absolute moves from their median, fraction.
    pub mad: f64,
    /// MAD / median (dimensionless; 0 when the median is 0).
    pub relative_mad: f64,
    /// Largest absolute move, fraction.
    pub max: f64,
    /// max / mean (dimensionless; 0 when the mean is 0).
    pub tail_risk_ratio: f64,
}

impl MoveStats {
    /// Summarises signed moves by their absolute values. `None` when empty or
    /// when any move is not finite.
    ///
    /// Worked example: moves +0.10, -0.20, +0.30 have absolute values
    /// 0.1, 0.2, 0.3: mean 0.2, median 0.2, deviations 0.1, 0, 0.1 so
    /// MAD 0.1, relative MAD 0.5, max 0.3, tail-risk ratio 1.5.
    pub fn from_moves(moves: &[f64]) -> Option<Self> {
        if moves.is_empty() || moves.iter().any(|m| !m.is_finite()) {
            return None;
        }
        let abs: Vec<f64> = moves.iter().map(|m| m.abs()).collect();
        let n = abs.len();
        let mean = abs.iter().sum::<f64>() / n as f64;
        let median = median(&abs);
        let deviations: Vec<f64> = abs.iter().map(|x| (x - median).abs()).collect();
        let mad = median_of(deviations);
        let max = abs.iter().copied().fold(0.0, f64::max);
        Some(Self {
            n_events: n,
            mean,
            median,
            mad,
            relative_mad: if median > 0.0 { mad / median } else { 0.0 },
            max,
            tail_risk_ratio: if mean > 0.0 { max / mean } else { 0.0 },
        })
    }
}

fn median(values: &[f64]) -> f64 {
    median_of(values.to_vec())
}

fn median_of(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// How attractive a setup is by its VRP ratio, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// VRP at or above the excellent threshold (default 2.0).
    Excellent,
    /// VRP at or above the good threshold (default 1.5).
    Good,
    /// VRP at or above the marginal threshold (default 1.2).
    Marginal,
    /// Below the marginal threshold: not worth selling.
    Skip,
}

impl Tier {
    /// The stored and printed code: `excellent`, `good`, `marginal`, `skip`.
    pub fn code(self) -> &'static str {
        match self {
            Tier::Excellent => "excellent",
            Tier::Good => "good",
            Tier::Marginal => "marginal",
            Tier::Skip => "skip",
        }
    }

    /// Reads a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "excellent" => Some(Tier::Excellent),
            "good" => Some(Tier::Good),
            "marginal" => Some(Tier::Marginal),
            "skip" => Some(Tier::Skip),
            _ => None,
        }
    }
}

/// VRP thresholds of the tiers (dimensionless ratios).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TierThresholds {
    /// Lowest VRP rated excellent (default 2.0).
    pub excellent: f64,
    /// Lowest VRP rated good (default 1.5).
    pub good: f64,
    /// Lowest VRP rated marginal (default 1.2).
    pub marginal: f64,
}

impl Default for TierThresholds {
    fn default() -> Self {
        Self { excellent: 2.0, good: 1.5, marginal: 1.2 }
    }
}

impl TierThresholds {
    /// The tier of a VRP ratio.
    pub fn tier(&self, vrp: f64) -> Tier {
        if vrp >= self.excellent {
            Tier::Excellent
        } else if vrp >= self.good {
            Tier::Good
        } else if vrp >= self.marginal {
            Tier::Marginal
        } else {
            Tier::Skip
        }
    }
}

/// VRP ratio = implied move / mean absolute historical move. `None` when the
/// mean is not positive (no ratio exists).
pub fn vrp_ratio(implied_move: f64, mean_abs_move: f64) -> Option<f64> {
    (mean_abs_move > 0.0 && implied_move.is_finite()).then(|| implied_move / mean_abs_move)
}

/// Edge score = VRP / (1 + relative MAD): a high VRP over consistent past
/// moves scores higher than the same VRP over erratic ones.
pub fn edge_score(vrp: f64, relative_mad: f64) -> f64 {
    vrp / (1.0 + relative_mad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_example_from_the_docstring() {
        let s = MoveStats::from_moves(&[0.10, -0.20, 0.30]).unwrap();
        assert!((s.mean - 0.2).abs() < 1e-12);
        assert!((s.median - 0.2).abs() < 1e-12);
        assert!((s.mad - 0.1).abs() < 1e-12);
        assert!((s.relative_mad - 0.5).abs() < 1e-12);
        assert!((s.tail_risk_ratio - 1.5).abs() < 1e-12);
        assert_eq!(s.n_events, 3);
    }

    #[test]
    fn even_count_median_and_empty_input() {
        let s = MoveStats::from_moves(&[0.1, 0.2, 0.3, 0.4]).unwrap();
        assert!((s.median - 0.25).abs() < 1e-12);
        assert!(MoveStats::from_moves(&[]).is_none());
        assert!(MoveStats::from_moves(&[f64::NAN]).is_none());
    }

    #[test]
    fn tiers_at_their_thresholds() {
        let t = TierThresholds::default();
        assert_eq!(t.tier(2.0), Tier::Excellent);
        assert_eq!(t.tier(1.99), Tier::Good);
        assert_eq!(t.tier(1.5), Tier::Good);
        assert_eq!(t.tier(1.2), Tier::Marginal);
        assert_eq!(t.tier(1.19), Tier::Skip);
        assert!(Tier::Excellent < Tier::Skip, "better tiers sort first");
    }

    #[test]
    fn vrp_and_edge() {
        assert_eq!(vrp_ratio(0.12, 0.0), None);
        let v = vrp_ratio(0.1296, 0.1298).unwrap();
        assert!((v - 0.998_459).abs() < 1e-6);
        assert!((edge_score(2.0, 0.5) - 4.0 / 3.0).abs() < 1e-12);
    }
}

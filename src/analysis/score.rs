//! One explained score: a weighted composite of VRP, consistency, liquidity
//! and term structure, each component kept with its inputs in words.
//!
//! Definitions (`docs/analysis.md`, "The score"):
//! - **vrp**: the conservative VRP, implied move / max(mean |gap|, EWMA |gap|)
//!   (domain.md §4 with the EWMA of [`super::consistency`], so a stock whose
//!   recent moves grew is not flattered by its older, calmer ones), mapped
//!   linearly from `vrp_floor` (value 0) to `vrp_full` (value 1), clamped.
//! - **consistency**: 1 / (1 + relative MAD) (the IV Crush 2.0 edge-score
//!   denominator, domain.md §4), halved when recent moves are growing.
//! - **liquidity**: 1 for pass, 0.5 for warn, 0 for reject (domain.md §6); a
//!   rejected setup is never ranked, whatever its score.
//! - **term_structure**: the front-to-45-day slope against `term_slope_full`
//!   (the "earnings volatility calculator" threshold -0.00406 IV per day):
//!   slope / term_slope_full clamped to 0..1, so a steeply inverted curve
//!   (event premium in the front expiration) scores 1 and a flat or rising
//!   one 0; 0 as well when the forward variance is negative.
//!
//! Score = 100 x sum(weight x value) / sum(weight) over the components that
//! exist. A missing component (no second expiration, say) is listed in
//! `missing` and its weight left out, never replaced by a guess.

use serde::{Deserialize, Serialize};

use super::liquidity::LiquidityVerdict;

/// The weights of the components (relative; they need not sum to 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoreWeights {
    /// Weight of the VRP component (default 0.45).
    pub vrp: f64,
    /// Weight of the consistency component (default 0.25).
    pub consistency: f64,
    /// Weight of the liquidity component (default 0.15).
    pub liquidity: f64,
    /// Weight of the term-structure component (default 0.15).
    pub term_structure: f64,
}

impl Default for ScoreWeights {
    fn default() -> Self {
        Self { vrp: 0.45, consistency: 0.25, liquidity: 0.15, term_structure: 0.15 }
    }
}

/// The score settings (`[analysis.score]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoreParams {
    /// The components' weights.
    pub weights: ScoreWeights,
    /// The VRP at which the VRP component is 0 (default 1.0: no premium).
    pub vrp_floor: f64,
    /// The VRP at which the VRP component reaches 1 (default 2.0, the
    /// "excellent" tier).
    pub vrp_full: f64,
    /// The term-structure slope, IV (fraction) per calendar day, at which the
    /// term component reaches 1 (default -0.00406).
    pub term_slope_full: f64,
}

impl Default for ScoreParams {
    fn default() -> Self {
        Self { weights: ScoreWeights::default(), vrp_floor: 1.0, vrp_full: 2.0, term_slope_full: -0.00406 }
    }
}

/// What the score is computed from; `None` where a figure does not exist.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreInputs {
    /// implied move, fraction.
    pub implied_move: f64,
    /// Mean absolute gap move over the window, fraction.
    pub mean_move: f64,
    /// EWMA of the absolute gap moves, fraction.
    pub ewma_move: Option<f64>,
    /// MAD / median of the absolute gap moves.
    pub relative_mad: f64,
    /// Whether recent moves grow (see `consistency::MoveTrend`).
    pub moves_growing: bool,
    /// The liquidity verdict.
    pub liquidity: Option<LiquidityVerdict>,
    /// Front-to-45-day slope, IV per calendar day.
    pub term_slope: Option<f64>,
    /// Whether the two expirations around the event gave a negative forward variance.
    pub negative_forward_variance: bool,
}

/// One component of the score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreComponent {
    /// `vrp`, `consistency`, `liquidity` or `term_structure`.
    pub name: String,
    /// The component's value, 0..1.
    pub value: f64,
    /// Its configured weight.
    pub weight: f64,
    /// What it adds to the score: 100 x weight x value / sum of the present weights.
    pub points: f64,
    /// The inputs in words, e.g. `VRP 2.75 (implied 12.96% / max(mean 4.71%, EWMA 4.20%))`.
    pub explanation: String,
}

/// The composite score of one candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// 0..100; the sum of the components' points.
    pub total: f64,
    /// The components that exist, in the order vrp, consistency, liquidity, term_structure.
    pub components: Vec<ScoreComponent>,
    /// The components that could not be computed, with why.
    pub missing: Vec<String>,
}

/// Scores one candidate. `None` when the weights of the present components
/// sum to zero.
///
/// Worked example (defaults): implied 0.10, mean 0.05, EWMA 0.04, relative
/// MAD 0.25, not growing, liquidity pass, slope -0.00203, no negative forward
/// variance. VRP = 0.10 / max(0.05, 0.04) = 2.0 -> value 1; consistency 1 /
/// 1.25 = 0.8; liquidity 1; term -0.00203 / -0.00406 = 0.5. Score = 100 x
/// (0.45 x 1 + 0.25 x 0.8 + 0.15 x 1 + 0.15 x 0.5) / 1.0 = 87.5.
pub fn score(inputs: &ScoreInputs, params: &ScoreParams) -> Option<Score> {
    let w = &params.weights;
    let mut parts: Vec<(&str, f64, f64, String)> = Vec::new();
    let mut missing = Vec::new();

    let base = inputs.ewma_move.map_or(inputs.mean_move, |e| e.max(inputs.mean_move));
    if base > 0.0 {
        let vrp = inputs.implied_move / base;
        let value = ((vrp - params.vrp_floor) / (params.vrp_full - params.vrp_floor)).clamp(0.0, 1.0);
        let ewma = inputs.ewma_move.map_or_else(|| "EWMA n/a".to_owned(), |e| format!("EWMA {}", pct(e)));
        let explanation = format!(
            "VRP {vrp:.2} (implied {} / max(mean {}, {ewma})); 0 at {:.2}, 1 at {:.2}",
            pct(inputs.implied_move),
            pct(inputs.mean_move),
            params.vrp_floor,
            params.vrp_full
        );
        parts.push(("vrp", value, w.vrp, explanation));
    } else {
        missing.push("vrp: the historical moves are all zero".to_owned());
    }

    let mut consistency = 1.0 / (1.0 + inputs.relative_mad.max(0.0));
    let mut explanation = format!("1 / (1 + relative MAD {:.2})", inputs.relative_mad);
    if inputs.moves_growing {
        consistency *= 0.5;
        explanation.push_str(", halved: recent moves are growing");
    }
    parts.push(("consistency", consistency, w.consistency, explanation));

    match inputs.liquidity {
        Some(verdict) => {
            let value = match verdict {
                LiquidityVerdict::Pass => 1.0,
                LiquidityVerdict::Warn => 0.5,
                LiquidityVerdict::Reject => 0.0,
            };
            parts.push((
                "liquidity",
                value,
                w.liquidity,
                format!("{} (pass 1, warn 0.5, reject 0)", verdict.code()),
            ));
        }
        None => missing.push("liquidity: the straddle's legs were not assessed".to_owned()),
    }

    match (inputs.term_slope, inputs.negative_forward_variance) {
        (_, true) => parts.push((
            "term_structure",
            0.0,
            w.term_structure,
            "negative forward variance between the event's expirations".to_owned(),
        )),
        (Some(slope), false) => {
            let value = (slope / params.term_slope_full).clamp(0.0, 1.0);
            parts.push((
                "term_structure",
                value,
                w.term_structure,
                format!("slope {slope:+.5} IV/day to 45 days; 1 at {:+.5}", params.term_slope_full),
            ));
        }
        (None, false) => {
            missing.push("term_structure: no ATM IVs bracketing 45 days".to_owned());
        }
    }

    let total_weight: f64 = parts.iter().map(|p| p.2).sum();
    if total_weight <= 0.0 || !total_weight.is_finite() {
        return None;
    }
    let components: Vec<ScoreComponent> = parts
        .into_iter()
        .map(|(name, value, weight, explanation)| ScoreComponent {
            name: name.to_owned(),
            value,
            weight,
            points: 100.0 * weight * value / total_weight,
            explanation,
        })
        .collect();
    Some(Score { total: components.iter().map(|c| c.points).sum(), components, missing })
}

fn pct(fraction: f64) -> String {
    format!("{:.2}%", fraction * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn inputs() -> ScoreInputs {
        ScoreInputs {
            implied_move: 0.10,
            mean_move: 0.05,
            ewma_move: Some(0.04),
            relative_mad: 0.25,
            moves_growing: false,
            liquidity: Some(LiquidityVerdict::Pass),
            term_slope: Some(-0.00203),
            negative_forward_variance: false,
        }
    }

    #[test]
    fn worked_example_from_the_docs() {
        let s = score(&inputs(), &ScoreParams::default()).unwrap();
        let values: Vec<(&str, f64)> = s.components.iter().map(|c| (c.name.as_str(), c.value)).collect();
        assert_eq!(values[0], ("vrp", 1.0));
        assert!((values[1].1 - 0.8).abs() < 1e-12);
        assert_eq!(values[2], ("liquidity", 1.0));
        assert!((values[3].1 - 0.5).abs() < 1e-12);
        assert!((s.total - 87.5).abs() < 1e-9, "{}", s.total);
        assert!(s.missing.is_empty());
    }

    #[test]
    fn a_larger_ewma_lowers_the_vrp_component() {
        // VRP against max(mean 0.05, EWMA 0.08) = 1.25 -> value 0.25.
        let s = score(&ScoreInputs { ewma_move: Some(0.08), ..inputs() }, &ScoreParams::default()).unwrap();
        assert!((s.components[0].value - 0.25).abs() < 1e-12);
        assert!(s.components[0].explanation.starts_with("VRP 1.25"), "{}", s.components[0].explanation);
    }

    #[test]
    fn a_missing_component_drops_its_weight_and_says_so() {
        let s = score(&ScoreInputs { term_slope: None, ..inputs() }, &ScoreParams::default()).unwrap();
        // (0.45 + 0.25 x 0.8 + 0.15) / 0.85 = 0.8 / 0.85.
        assert!((s.total - 100.0 * 0.8 / 0.85).abs() < 1e-9, "{}", s.total);
        assert_eq!(s.missing.len(), 1);
        assert!(s.missing[0].starts_with("term_structure"));
    }

    #[test]
    fn growing_moves_and_negative_forward_variance_cost_points() {
        let s = score(
            &ScoreInputs { moves_growing: true, negative_forward_variance: true, ..inputs() },
            &ScoreParams::default(),
        )
        .unwrap();
        assert!((s.components[1].value - 0.4).abs() < 1e-12);
        assert_eq!(s.components[3].value, 0.0);
    }

    proptest! {
        #[test]
        fn the_score_is_the_sum_of_its_points_and_within_0_100(
            implied in 0.0f64..1.0, mean in 0.0f64..0.5, ewma in proptest::option::of(0.0f64..0.5),
            rmad in 0.0f64..5.0, growing: bool, slope in proptest::option::of(-0.05f64..0.05), nfv: bool,
        ) {
            let i = ScoreInputs {
                implied_move: implied, mean_move: mean, ewma_move: ewma, relative_mad: rmad,
                moves_growing: growing, liquidity: Some(LiquidityVerdict::Warn), term_slope: slope,
                negative_forward_variance: nfv,
            };
            let s = score(&i, &ScoreParams::default()).unwrap();
            prop_assert!((0.0..=100.0 + 1e-9).contains(&s.total));
            let sum: f64 = s.components.iter().map(|c| c.points).sum();
            prop_assert!((sum - s.total).abs() < 1e-9);
            prop_assert!(s.components.iter().all(|c| (0.0..=1.0).contains(&c.value)));
        }
    }
}

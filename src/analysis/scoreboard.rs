//! The scoreboard: how each tier's proposed structures fared, from the
//! stored reviews.
//!
//! Per (tier, structure): the count, the hit rate (share with P&L > 0), the
//! mean and median P&L, the worst result, and the mean realized/implied
//! move ratio. P&L is USD per contract, at natural prices (sell at the bid,
//! buy back at the ask) and at mids. Figures valued at intrinsic value
//! (no exit quotes) are counted in `n_intrinsic`: for short-only structures
//! they are upper bounds on the real P&L, so the row is optimistic by
//! however much time value those exits still had.

use rust_decimal::Decimal;
use serde::Serialize;

use super::structures::{ExitBasis, StructureKind};
use super::vrp::Tier;

/// One reviewed structure, as the scoreboard needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewedStructure {
    /// The candidate's tier at the scan.
    pub tier: Tier,
    /// Which structure.
    pub kind: StructureKind,
    /// How its exit was valued.
    pub basis: ExitBasis,
    /// P&L at natural prices, USD per contract.
    pub pnl_natural: Decimal,
    /// P&L at mids, USD per contract.
    pub pnl_mid: Decimal,
    /// |realized gap move| / implied move of its event.
    pub move_ratio: Option<f64>,
}

/// One row of the scoreboard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreLine {
    /// The tier.
    pub tier: Tier,
    /// The structure.
    pub structure: StructureKind,
    /// Reviewed structures.
    pub n: usize,
    /// Of which valued at intrinsic value (bounds or estimates), not quotes.
    pub n_intrinsic: usize,
    /// Share with natural P&L > 0 (fraction).
    pub hit_rate_natural: f64,
    /// Share with mid P&L > 0 (fraction).
    pub hit_rate_mid: f64,
    /// Mean natural P&L, USD per contract (to the cent).
    pub mean_natural: Decimal,
    /// Median natural P&L, USD per contract (to the cent).
    pub median_natural: Decimal,
    /// Mean mid P&L, USD per contract (to the cent).
    pub mean_mid: Decimal,
    /// Median mid P&L, USD per contract (to the cent).
    pub median_mid: Decimal,
    /// The lowest natural P&L (the worst loss when negative), USD per contract.
    pub worst_natural: Decimal,
    /// Mean |realized| / implied move over the events with both.
    pub mean_move_ratio: Option<f64>,
}

/// The scoreboard rows, by tier (best first) then structure, for every
/// (tier, structure) with at least one review.
///
/// Example: two short straddles of tier `good` with natural P&L +$120 and
/// -$40 a contract give n 2, hit rate 0.5, mean +$40, median +$40, worst -$40.
pub fn scoreboard(reviewed: &[ReviewedStructure]) -> Vec<ScoreLine> {
    let tiers = [Tier::Excellent, Tier::Good, Tier::Marginal, Tier::Skip];
    let mut lines = Vec::new();
    for tier in tiers {
        for kind in StructureKind::ALL {
            let rows: Vec<&ReviewedStructure> =
                reviewed.iter().filter(|r| r.tier == tier && r.kind == kind).collect();
            if rows.is_empty() {
                continue;
            }
            let natural: Vec<Decimal> = rows.iter().map(|r| r.pnl_natural).collect();
            let mid: Vec<Decimal> = rows.iter().map(|r| r.pnl_mid).collect();
            let ratios: Vec<f64> = rows.iter().filter_map(|r| r.move_ratio).collect();
            lines.push(ScoreLine {
                tier,
                structure: kind,
                n: rows.len(),
                n_intrinsic: rows.iter().filter(|r| r.basis != ExitBasis::Quotes).count(),
                hit_rate_natural: hit_rate(&natural),
                hit_rate_mid: hit_rate(&mid),
                mean_natural: cents(mean(&natural)),
                median_natural: cents(median(&natural)),
                mean_mid: cents(mean(&mid)),
                median_mid: cents(median(&mid)),
                worst_natural: natural.iter().copied().min().unwrap_or_default(),
                mean_move_ratio: (!ratios.is_empty())
                    .then(|| ratios.iter().sum::<f64>() / ratios.len() as f64),
            });
        }
    }
    lines
}

fn hit_rate(values: &[Decimal]) -> f64 {
    values.iter().filter(|v| **v > Decimal::ZERO).count() as f64 / values.len().max(1) as f64
}

fn mean(values: &[Decimal]) -> Decimal {
    values.iter().copied().sum::<Decimal>() / Decimal::from(values.len().max(1))
}

fn median(values: &[Decimal]) -> Decimal {
    let mut v = values.to_vec();
    v.sort_unstable();
    match v.len() {
        0 => Decimal::ZERO,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / Decimal::TWO,
    }
}

fn cents(d: Decimal) -> Decimal {
    d.round_dp(2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn row(tier: Tier, kind: StructureKind, natural: Decimal, mid: Decimal, ratio: f64) -> ReviewedStructure {
        ReviewedStructure {
            tier,
            kind,
            basis: ExitBasis::Quotes,
            pnl_natural: natural,
            pnl_mid: mid,
            move_ratio: Some(ratio),
        }
    }

    #[test]
    fn rows_per_tier_and_structure_with_hit_rate_mean_median_worst() {
        use StructureKind::{IronCondor, ShortStraddle};
        let rows = [
            row(Tier::Good, ShortStraddle, dec!(120), dec!(150), 0.5),
            row(Tier::Good, ShortStraddle, dec!(-40), dec!(-10), 1.5),
            row(Tier::Good, ShortStraddle, dec!(10), dec!(20), 1.0),
            row(Tier::Skip, IronCondor, dec!(-40), dec!(-28.5), 2.75),
        ];
        let board = scoreboard(&rows);
        assert_eq!(board.len(), 2);
        let good = &board[0];
        assert_eq!((good.tier, good.structure, good.n, good.n_intrinsic), (Tier::Good, ShortStraddle, 3, 0));
        assert!((good.hit_rate_natural - 2.0 / 3.0).abs() < 1e-12);
        assert!((good.hit_rate_mid - 2.0 / 3.0).abs() < 1e-12);
        // (120 - 40 + 10) / 3 = 30; median of -40, 10, 120 = 10.
        assert_eq!(
            (good.mean_natural, good.median_natural, good.worst_natural),
            (dec!(30), dec!(10), dec!(-40))
        );
        // (150 - 10 + 20) / 3 = 53.333.. -> 53.33.
        assert_eq!((good.mean_mid, good.median_mid), (dec!(53.33), dec!(20)));
        assert!((good.mean_move_ratio.unwrap() - 1.0).abs() < 1e-12);
        let skip = &board[1];
        assert_eq!((skip.tier, skip.structure, skip.hit_rate_natural), (Tier::Skip, IronCondor, 0.0));
    }

    #[test]
    fn an_even_count_takes_the_mean_of_the_middle_two_and_counts_intrinsic_exits() {
        let mut rows = vec![
            row(Tier::Marginal, StructureKind::ShortStrangle, dec!(-100), dec!(-90), 1.0),
            row(Tier::Marginal, StructureKind::ShortStrangle, dec!(50), dec!(60), 1.0),
        ];
        rows[0].basis = ExitBasis::Bound;
        rows[1].move_ratio = None;
        let board = scoreboard(&rows);
        assert_eq!((board[0].median_natural, board[0].n_intrinsic), (dec!(-25), 1));
        assert_eq!(board[0].mean_move_ratio, Some(1.0));
        assert!(scoreboard(&[]).is_empty());
    }
}

//! Price ranges the options imply for the reaction, and how often past
//! reactions went beyond the implied move.
//!
//! Sources: `../shared/docs/domain.md` §3 and §5.
//! - The straddle prices the expected *absolute* move. For a normal move X
//!   with standard deviation sigma, E|X| = sigma x sqrt(2/pi) (= 0.7979 sigma,
//!   the "straddle ~ 0.8 S sigma sqrt(T)" rule of §3, here with the exact
//!   constant), so the 1-sigma move is implied move / sqrt(2/pi), about 1.25
//!   times the implied move.
//! - The event move E of the term structure (§5) is already a 1-sigma move.
//! - A k-sigma range is spot x (1 - k sigma) .. spot x (1 + k sigma). The lower
//!   bound is floored at 0 USD (a share price cannot go below zero); the
//!   floor is reached when k sigma >= 1. Under the normal assumption a
//!   1-sigma range holds the move with probability 68.27% and a 2-sigma range
//!   95.45%; fat-tailed earnings reactions break that often, which is why the
//!   historical share beyond the implied move is reported beside them.

use serde::{Deserialize, Serialize};

/// sqrt(2/pi): E|X| / sigma for a normal X with mean 0.
const MEAN_ABS_PER_SIGMA: f64 = 0.797_884_560_802_865_4;

/// A k-sigma price range around the spot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceRange {
    /// k, the number of standard deviations (1 or 2).
    pub sigmas: u8,
    /// k x sigma, a fraction of the spot (0.1625 = 16.25%).
    pub move_fraction: f64,
    /// spot x (1 - k sigma), floored at 0, USD per share.
    pub lower: f64,
    /// spot x (1 + k sigma), USD per share.
    pub upper: f64,
}

/// The 1- and 2-sigma ranges of the reaction and the historical tail share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbabilityBounds {
    /// The spot the ranges are around, USD per share.
    pub spot: f64,
    /// The 1- and 2-sigma ranges with sigma = E, the term structure's event
    /// move; empty without E.
    pub from_event_move: Vec<PriceRange>,
    /// The 1- and 2-sigma ranges with sigma = implied move / sqrt(2/pi);
    /// empty without an implied move.
    pub from_straddle: Vec<PriceRange>,
    /// Share (0..=1) of the past absolute moves strictly greater than the
    /// implied move; `None` without an implied move, without past moves, or
    /// when a past move is not finite.
    pub historical_share_beyond: Option<f64>,
    /// Number of past moves given (the denominator of the share).
    pub historical_events: usize,
}

/// Price ranges from the implied move and the event move, and the share of
/// past moves beyond the implied move.
///
/// `spot` is USD per share; `implied_move` (straddle / S) and `event_move`
/// (E) are fractions; `past_moves` are signed fractions of one definition
/// (the absolute gap moves of domain.md §2: never mix definitions), compared
/// by absolute value. A spot that is not finite and positive gives no ranges;
/// an implied or event move that is not finite or is negative is treated as
/// missing. Nothing is estimated in place of a missing input.
///
/// Worked example (CVNA, 2023-07-18 07:51 ET, spot 36.83, implied move
/// 0.12964): sigma = 0.12964 / 0.7978846 = 0.1624796; 1-sigma range
/// 36.83 x (1 -/+ 0.1624796) = 30.8459 .. 42.8141 USD; 2-sigma
/// 0.3249593: 24.8617 .. 48.7983 USD. The stock opened at 53.99 on
/// 2023-07-19, a +35.6% gap, beyond the 2-sigma range.
pub fn bounds(
    spot: f64,
    implied_move: Option<f64>,
    event_move: Option<f64>,
    past_moves: &[f64],
) -> ProbabilityBounds {
    let usable = |m: Option<f64>| m.filter(|m| m.is_finite() && *m >= 0.0);
    let implied_move = usable(implied_move);
    let spot_ok = spot.is_finite() && spot > 0.0;
    let ranges = |sigma: Option<f64>| match sigma {
        Some(sigma) if spot_ok => [1u8, 2].iter().map(|k| range(spot, *k, sigma)).collect(),
        _ => Vec::new(),
    };
    let historical_share_beyond = match implied_move {
        Some(implied) if !past_moves.is_empty() && past_moves.iter().all(|m| m.is_finite()) => {
            let beyond = past_moves.iter().filter(|m| m.abs() > implied).count();
            Some(beyond as f64 / past_moves.len() as f64)
        }
        _ => None,
    };
    ProbabilityBounds {
        spot,
        from_event_move: ranges(usable(event_move)),
        from_straddle: ranges(implied_move.map(|m| m / MEAN_ABS_PER_SIGMA)),
        historical_share_beyond,
        historical_events: past_moves.len(),
    }
}

fn range(spot: f64, sigmas: u8, sigma: f64) -> PriceRange {
    let move_fraction = f64::from(sigmas) * sigma;
    PriceRange {
        sigmas,
        move_fraction,
        lower: (spot * (1.0 - move_fraction)).max(0.0),
        upper: spot * (1.0 + move_fraction),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() < tolerance
    }

    #[test]
    fn the_constant_is_sqrt_two_over_pi() {
        assert!(close(MEAN_ABS_PER_SIGMA, (2.0 / std::f64::consts::PI).sqrt(), 1e-16));
        // E|X| for a standard normal, from statrs: 2 x integral of x phi(x) over x > 0 = 2 phi(0).
        use statrs::distribution::{Continuous, Normal};
        let phi0 = Normal::standard().pdf(0.0);
        assert!(close(MEAN_ABS_PER_SIGMA, 2.0 * phi0, 1e-15));
    }

    #[test]
    fn cvna_worked_example_from_the_docstring() {
        // python3: s = 0.12964 / math.sqrt(2 / math.pi) -> 0.16247964476158144;
        // 36.83 * (1 - s) = 30.845874683430953, 36.83 * (1 + s) = 42.81412531656905;
        // 36.83 * (1 - 2 s) = 24.86174936686191, 36.83 * (1 + 2 s) = 48.79825063313809.
        let b = bounds(36.83, Some(0.12964), None, &[]);
        assert_eq!(b.spot, 36.83);
        assert!(b.from_event_move.is_empty());
        let [one, two] = &b.from_straddle[..] else { panic!("{b:?}") };
        assert_eq!((one.sigmas, two.sigmas), (1, 2));
        assert!(close(one.move_fraction, 0.162_479_644_761_581_44, 1e-12));
        assert!(close(one.lower, 30.845_874_683_430_953, 1e-9));
        assert!(close(one.upper, 42.814_125_316_569_05, 1e-9));
        assert!(close(two.move_fraction, 0.324_959_289_523_162_9, 1e-12));
        assert!(close(two.lower, 24.861_749_366_861_91, 1e-9));
        assert!(close(two.upper, 48.798_250_633_138_09, 1e-9));
        assert_eq!((b.historical_share_beyond, b.historical_events), (None, 0));
    }

    #[test]
    fn event_move_is_already_one_sigma() {
        // E = 0.10 around 50: 45 .. 55 and 40 .. 60.
        let b = bounds(50.0, None, Some(0.10), &[0.2]);
        assert!(b.from_straddle.is_empty());
        let r: Vec<_> = b.from_event_move.iter().map(|r| (r.sigmas, r.lower, r.upper)).collect();
        assert_eq!(r.len(), 2);
        assert!(close(r[0].1, 45.0, 1e-12) && close(r[0].2, 55.0, 1e-12));
        assert!(close(r[1].1, 40.0, 1e-12) && close(r[1].2, 60.0, 1e-12));
        assert_eq!(b.historical_share_beyond, None, "no implied move to compare with");
        assert_eq!(b.historical_events, 1);
    }

    #[test]
    fn the_lower_bound_is_floored_at_zero() {
        // E = 0.6: 2 sigma is 120%, the lower bound would be -20 USD.
        let b = bounds(100.0, None, Some(0.6), &[]);
        assert!(close(b.from_event_move[0].lower, 40.0, 1e-12));
        assert_eq!(b.from_event_move[1].lower, 0.0);
        assert!(close(b.from_event_move[1].upper, 220.0, 1e-12));
    }

    #[test]
    fn share_of_past_moves_strictly_beyond_the_implied_move() {
        // |moves| 0.05, 0.10, 0.15, 0.20 against 0.10: only 0.15 and 0.20 are beyond.
        let b = bounds(10.0, Some(0.10), None, &[0.05, -0.10, 0.15, -0.20]);
        assert_eq!(b.historical_share_beyond, Some(0.5));
        assert_eq!(b.historical_events, 4);
        assert_eq!(bounds(10.0, Some(0.10), None, &[]).historical_share_beyond, None);
        assert_eq!(bounds(10.0, Some(0.10), None, &[0.2, f64::NAN]).historical_share_beyond, None);
    }

    #[test]
    fn missing_or_unusable_inputs_give_nothing_rather_than_a_guess() {
        let b = bounds(0.0, Some(0.1), Some(0.1), &[0.2]);
        assert!(b.from_straddle.is_empty() && b.from_event_move.is_empty());
        assert_eq!(b.historical_share_beyond, Some(1.0), "the share needs no spot");
        let b = bounds(f64::NAN, Some(0.1), None, &[]);
        assert!(b.from_straddle.is_empty());
        let b = bounds(10.0, Some(f64::NAN), Some(-0.1), &[0.2]);
        assert!(b.from_straddle.is_empty() && b.from_event_move.is_empty());
        assert_eq!(b.historical_share_beyond, None);
    }

    #[test]
    fn stored_as_json_and_read_back() {
        let b = bounds(36.83, Some(0.12964), Some(0.11), &[0.3, -0.1]);
        let text = serde_json::to_string(&b).unwrap();
        assert_eq!(serde_json::from_str::<ProbabilityBounds>(&text).unwrap(), b);
    }
}

//! Black-Scholes-Merton: European option prices, vega and the implied
//! volatility of a price.
//!
//! Sources:
//! - Black-Scholes-Merton with a continuous dividend yield q (Merton 1973,
//!   "Theory of Rational Option Pricing"; Hull, *Options, Futures, and Other
//!   Derivatives*, ch. 15 and 17):
//!   `c = S e^(-qT) N(d1) - K e^(-rT) N(d2)`, `p = K e^(-rT) N(-d2) - S e^(-qT) N(-d1)`,
//!   `d1 = (ln(S/K) + (r - q + vol^2/2) T) / (vol sqrt(T))`, `d2 = d1 - vol sqrt(T)`.
//!   N is the standard normal CDF from `statrs`.
//! - Vega (Hull ch. 19): `S e^(-qT) phi(d1) sqrt(T)`, the same for calls and puts.
//! - Implied volatility: bisection on the price, which increases in vol,
//!   inside the no-arbitrage bounds of a European option (Hull ch. 11).
//!
//! Units: volatilities are annualised fractions (0.5 = 50%); times are years
//! (ivcd passes trading time, `sessions / 252`); rates are continuously
//! compounded fractions per year; prices are USD per share.
//!
//! Pure: no I/O, no clock. [`super::term`] uses it for the ATM IV of each
//! expiration and [`super::skew`] for the IVs across strikes.

use serde::{Deserialize, Serialize};
use statrs::distribution::{Continuous, ContinuousCDF, Normal};

use crate::domain::OptionRight;

/// Lower end of the implied-volatility search bracket (0.01%).
pub const IV_SEARCH_MIN: f64 = 1e-4;

/// Upper end of the implied-volatility search bracket (1000%).
pub const IV_SEARCH_MAX: f64 = 10.0;

/// Rate assumptions for Black-Scholes, annualised continuously-compounded
/// fractions (0.04 = 4% a year).
///
/// These are assumptions, not market data: every figure computed with them
/// should be reported together with the rates used.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateAssumptions {
    /// Risk-free rate r, continuously compounded, fraction per year.
    pub risk_free_rate: f64,
    /// Dividend yield q, continuously compounded, fraction per year.
    pub dividend_yield: f64,
}

impl Default for RateAssumptions {
    /// r = 0.04 (about the level of short US Treasury yields in 2023-2025) and
    /// q = 0 (no dividend). Both are assumptions stated with every figure; for
    /// options of a few weeks they move IVs by far less than the bid/ask does.
    fn default() -> Self {
        Self { risk_free_rate: 0.04, dividend_yield: 0.0 }
    }
}

fn standard_normal() -> Normal {
    Normal::standard()
}

/// The discounted spot `S e^(-qT)` and discounted strike `K e^(-rT)`, USD.
fn discounted(spot: f64, strike: f64, years: f64, rates: &RateAssumptions) -> (f64, f64) {
    (spot * (-rates.dividend_yield * years).exp(), strike * (-rates.risk_free_rate * years).exp())
}

/// The Black-Scholes-Merton price of a European option, USD per share.
///
/// `spot` and `strike` in USD, `years` of time to expiration, `vol` the
/// annualised volatility as a fraction. With `years <= 0` or `vol <= 0` the
/// price is the discounted intrinsic value `max(S e^(-qT) - K e^(-rT), 0)`
/// (call) or `max(K e^(-rT) - S e^(-qT), 0)` (put), with T = max(years, 0).
/// NaN when `spot` or `strike` is not positive or any input is not finite.
///
/// Worked example (Hull, Example 15.6): S = 42, K = 40, r = 0.10, q = 0,
/// T = 0.5, vol = 0.20 gives d1 = 0.7693, d2 = 0.6278, call 4.76, put 0.81.
pub fn bs_price(
    right: OptionRight,
    spot: f64,
    strike: f64,
    years: f64,
    vol: f64,
    rates: &RateAssumptions,
) -> f64 {
    let finite = [spot, strike, years, vol, rates.risk_free_rate, rates.dividend_yield];
    if !finite.iter().all(|x| x.is_finite()) || spot <= 0.0 || strike <= 0.0 {
        return f64::NAN;
    }
    let t = years.max(0.0);
    let (s, k) = discounted(spot, strike, t, rates);
    let stdev = vol * t.sqrt();
    if stdev <= 0.0 {
        return match right {
            OptionRight::Call => (s - k).max(0.0),
            OptionRight::Put => (k - s).max(0.0),
        };
    }
    let d1 = ((s / k).ln() + stdev * stdev / 2.0) / stdev;
    let d2 = d1 - stdev;
    let n = standard_normal();
    match right {
        OptionRight::Call => s * n.cdf(d1) - k * n.cdf(d2),
        OptionRight::Put => k * n.cdf(-d2) - s * n.cdf(-d1),
    }
}

/// Black-Scholes vega: the price change per unit of volatility (USD per share
/// per 1.00 of vol, so divide by 100 for "per vol point"), the same for calls
/// and puts: `S e^(-qT) phi(d1) sqrt(T)`. 0 when `years <= 0` or `vol <= 0`;
/// NaN for invalid inputs as in [`bs_price`].
pub fn bs_vega(spot: f64, strike: f64, years: f64, vol: f64, rates: &RateAssumptions) -> f64 {
    let finite = [spot, strike, years, vol, rates.risk_free_rate, rates.dividend_yield];
    if !finite.iter().all(|x| x.is_finite()) || spot <= 0.0 || strike <= 0.0 {
        return f64::NAN;
    }
    if years <= 0.0 || vol <= 0.0 {
        return 0.0;
    }
    let (s, k) = discounted(spot, strike, years, rates);
    let stdev = vol * years.sqrt();
    let d1 = ((s / k).ln() + stdev * stdev / 2.0) / stdev;
    s * standard_normal().pdf(d1) * years.sqrt()
}

/// The Black-Scholes implied volatility (annualised fraction) of a European
/// option priced at `price` USD per share.
///
/// Solved by bisection between [`IV_SEARCH_MIN`] and [`IV_SEARCH_MAX`] (1e-4 to
/// 10, i.e. 0.01% to 1000%) until the bracket is narrower than 1e-10; the
/// price is increasing in vol, so the bracket always holds the root.
///
/// `None` when the inputs are invalid (spot, strike, years or price not
/// positive or not finite) or the price is outside the no-arbitrage bounds
/// (a call must be worth more than `max(S e^(-qT) - K e^(-rT), 0)` and less
/// than `S e^(-qT)`; a put more than `max(K e^(-rT) - S e^(-qT), 0)` and less
/// than `K e^(-rT)`), or outside the prices of the search bracket's ends.
///
/// Example: the Hull call above, priced 4.7594, gives back 0.20.
pub fn implied_vol(
    right: OptionRight,
    price: f64,
    spot: f64,
    strike: f64,
    years: f64,
    rates: &RateAssumptions,
) -> Option<f64> {
    let finite = [price, spot, strike, years, rates.risk_free_rate, rates.dividend_yield];
    if !finite.iter().all(|x| x.is_finite()) || price <= 0.0 || spot <= 0.0 || strike <= 0.0 || years <= 0.0 {
        return None;
    }
    let (s, k) = discounted(spot, strike, years, rates);
    let (lower, upper) = match right {
        OptionRight::Call => ((s - k).max(0.0), s),
        OptionRight::Put => ((k - s).max(0.0), k),
    };
    if price <= lower || price >= upper {
        return None;
    }
    let excess = |vol: f64| bs_price(right, spot, strike, years, vol, rates) - price;
    let (mut lo, mut hi) = (IV_SEARCH_MIN, IV_SEARCH_MAX);
    if excess(lo) > 0.0 || excess(hi) < 0.0 {
        return None;
    }
    // 10 / 2^37 < 1e-10: the loop ends well before its cap.
    for _ in 0..200 {
        if hi - lo < 1e-10 {
            break;
        }
        let mid = 0.5 * (lo + hi);
        if excess(mid) < 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(0.5 * (lo + hi))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HULL: RateAssumptions = RateAssumptions { risk_free_rate: 0.10, dividend_yield: 0.0 };

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn hull_textbook_prices() {
        // Hull, Example 15.6: S=42, K=40, r=0.1, T=0.5, vol=0.2.
        // d1 = (ln(1.05) + (0.1 + 0.02) x 0.5) / (0.2 x 0.7071) = (0.04879 + 0.06) / 0.14142 = 0.7693,
        // d2 = 0.6278; c = 42 x 0.7791 - 40 e^-0.05 x 0.7349 = 4.76; p = 40 e^-0.05 x 0.2651 - 42 x 0.2209 = 0.81.
        let c = bs_price(OptionRight::Call, 42.0, 40.0, 0.5, 0.2, &HULL);
        let p = bs_price(OptionRight::Put, 42.0, 40.0, 0.5, 0.2, &HULL);
        assert!(close(c, 4.76, 0.005), "{c}");
        assert!(close(p, 0.81, 0.005), "{p}");
    }

    #[test]
    fn put_call_parity() {
        // c - p = S e^(-qT) - K e^(-rT).
        let rates = RateAssumptions { risk_free_rate: 0.05, dividend_yield: 0.02 };
        for (s, k, t, v) in
            [(100.0, 90.0, 0.25, 0.3), (36.83, 37.0, 4.0 / 252.0, 1.56), (50.0, 70.0, 2.0, 0.8)]
        {
            let c = bs_price(OptionRight::Call, s, k, t, v, &rates);
            let p = bs_price(OptionRight::Put, s, k, t, v, &rates);
            let parity = s * (-0.02 * t).exp() - k * (-0.05 * t).exp();
            assert!(close(c - p, parity, 1e-10), "{s} {k} {t} {v}: {} vs {parity}", c - p);
        }
    }

    #[test]
    fn degenerate_inputs() {
        let r = RateAssumptions { risk_free_rate: 0.0, dividend_yield: 0.0 };
        assert_eq!(bs_price(OptionRight::Call, 42.0, 40.0, 0.0, 0.2, &r), 2.0, "intrinsic at expiry");
        assert_eq!(bs_price(OptionRight::Put, 42.0, 40.0, 0.5, 0.0, &r), 0.0);
        assert!(bs_price(OptionRight::Call, -1.0, 40.0, 0.5, 0.2, &r).is_nan());
        assert!(bs_price(OptionRight::Call, 42.0, 40.0, f64::NAN, 0.2, &r).is_nan());
    }

    #[test]
    fn implied_vol_round_trip_and_bounds() {
        // The Hull call priced at 0.20 gives back 0.20.
        let c = bs_price(OptionRight::Call, 42.0, 40.0, 0.5, 0.2, &HULL);
        let iv = implied_vol(OptionRight::Call, c, 42.0, 40.0, 0.5, &HULL).unwrap();
        assert!(close(iv, 0.2, 1e-8), "{iv}");
        let p = bs_price(OptionRight::Put, 42.0, 40.0, 0.5, 0.2, &HULL);
        assert!(close(implied_vol(OptionRight::Put, p, 42.0, 40.0, 0.5, &HULL).unwrap(), 0.2, 1e-8));
        // Lower bound of the call: 42 - 40 e^-0.05 = 3.951; upper bound: 42.
        assert_eq!(implied_vol(OptionRight::Call, 3.9, 42.0, 40.0, 0.5, &HULL), None);
        assert_eq!(implied_vol(OptionRight::Call, 42.0, 42.0, 40.0, 0.5, &HULL), None);
        // A put is worth less than 40 e^-0.05 = 38.05.
        assert_eq!(implied_vol(OptionRight::Put, 38.1, 42.0, 40.0, 0.5, &HULL), None);
        assert_eq!(implied_vol(OptionRight::Put, 1.0, 42.0, 40.0, 0.0, &HULL), None);
        assert_eq!(implied_vol(OptionRight::Put, f64::NAN, 42.0, 40.0, 0.5, &HULL), None);
        assert_eq!(implied_vol(OptionRight::Put, 0.0, 42.0, 40.0, 0.5, &HULL), None);
    }

    proptest! {
        #[test]
        fn implied_vol_inverts_bs_price(
            vol in 0.05f64..3.0,
            sessions in 1.0f64..504.0,
            moneyness in 0.7f64..1.3,
            call in any::<bool>(),
            r in 0.0f64..0.08,
            q in 0.0f64..0.04,
        ) {
            let rates = RateAssumptions { risk_free_rate: r, dividend_yield: q };
            let right = if call { OptionRight::Call } else { OptionRight::Put };
            let (spot, years) = (100.0, sessions / 252.0);
            let strike = spot * moneyness;
            let price = bs_price(right, spot, strike, years, vol, &rates);
            let vega = bs_vega(spot, strike, years, vol, &rates);
            // Only where the price carries information about vol: a vega of
            // at least 0.01 USD per 1.00 of vol on a 100 USD stock.
            prop_assume!(vega > 1e-2 && price > 1e-6);
            let iv = implied_vol(right, price, spot, strike, years, &rates);
            prop_assert!(iv.is_some(), "no IV for price {price}");
            let iv = iv.unwrap_or(f64::NAN);
            prop_assert!((iv - vol).abs() < 1e-6, "{iv} vs {vol} (price {price}, vega {vega})");
        }
    }
}

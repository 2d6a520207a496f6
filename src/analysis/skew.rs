//! The volatility smile of one expiration: a quadratic fit of implied
//! volatility against log-moneyness, and its shape.
//!
//! Source: `../shared/docs/domain.md` §5 — "Skew: put IV minus call IV at
//! equal distance from S; a quadratic fit of IV against log-moneyness over 5+
//! out-of-the-money points gives level, slope and curvature."
//!
//! The model is `IV(k) = a + b k + c k^2` with `k = ln(K / S)`, fitted by
//! ordinary least squares: (a, b, c) solves the 3x3 normal equations
//! `(X^T X) beta = X^T y`, X having rows `(1, k, k^2)` (any regression text,
//! e.g. Draper & Smith, *Applied Regression Analysis*, ch. 5). Then
//! `IV(-k) - IV(k) = -2 b k`: the put/call skew at distance k is carried by
//! b alone, and c is the smile's convexity.
//!
//! Units: IVs are annualised fractions (0.5 = 50%); k is dimensionless
//! (ln of a price ratio; k = -0.1 is a strike about 9.5% below the spot).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::analysis::term::{ExpiryTime, RateAssumptions, quote_iv};
use crate::domain::{ExpirationChain, OptionRight};

/// The settings of the smile fit (an `[analysis.skew]`-style section).
///
/// Defaults and why:
/// - `min_points_per_side = 5`: domain.md §5 asks for 5+ OTM points; five on
///   each side keeps a single junk quote from deciding the slope.
/// - `max_abs_log_moneyness = 0.5`: strikes from S e^-0.5 = 0.61 S to
///   S e^0.5 = 1.65 S. Farther strikes are mostly quoted at the minimum tick,
///   where the IV says more about the tick than about the market, and a
///   quadratic cannot follow the far wings anyway.
/// - `smirk_slope = 0.10`: b = -0.10 means the put 10% out of the money
///   (k = -0.1) is 2 IV points dearer than the call 10% out (`-2 b k` =
///   0.02), about twice the IV width of a typical liquid bid/ask: a skew
///   the market means, not noise.
/// - `smile_curvature = 0.5`: c = 0.5 lifts both wings at |k| = 0.2 by
///   `c k^2` = 2 IV points above the level, the same 2-point yardstick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SkewParams {
    /// The fewest usable OTM quotes on each side (puts below S, calls above S).
    pub min_points_per_side: usize,
    /// Strikes with |ln(K / S)| above this are ignored.
    pub max_abs_log_moneyness: f64,
    /// |b| from which the smile is skewed: b <= -this is a put smirk, b >=
    /// this a reverse (call) smirk. IV (fraction) per unit log-moneyness.
    pub smirk_slope: f64,
    /// c from which a smile that is not skewed (|b| < `smirk_slope`) is
    /// called a smile rather than flat. IV (fraction) per unit k^2.
    pub smile_curvature: f64,
}

impl Default for SkewParams {
    fn default() -> Self {
        Self { min_points_per_side: 5, max_abs_log_moneyness: 0.5, smirk_slope: 0.10, smile_curvature: 0.5 }
    }
}

/// The shape of a fitted smile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkewShape {
    /// Puts dearer than calls: b <= -`smirk_slope` (the usual equity skew).
    Smirk,
    /// Calls dearer than puts: b >= `smirk_slope`.
    ReverseSmirk,
    /// Not skewed, both wings lifted: |b| < `smirk_slope`, c >= `smile_curvature`.
    Smile,
    /// Neither skewed nor curved enough.
    Flat,
}

impl SkewShape {
    /// Labels a fit from its slope b and curvature c (see [`SkewParams`]).
    ///
    /// Example with the defaults: b = -0.3 is a `Smirk` whatever c; b = 0.05
    /// with c = 0.8 a `Smile`; b = 0.05 with c = 0.2 `Flat`.
    pub fn classify(slope: f64, curvature: f64, params: &SkewParams) -> Self {
        if slope <= -params.smirk_slope {
            SkewShape::Smirk
        } else if slope >= params.smirk_slope {
            SkewShape::ReverseSmirk
        } else if curvature >= params.smile_curvature {
            SkewShape::Smile
        } else {
            SkewShape::Flat
        }
    }
}

/// The quadratic smile of one expiration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkewFit {
    /// The expiration fitted (ET).
    pub expiration: NaiveDate,
    /// OTM puts used (K < S).
    pub put_points: usize,
    /// OTM calls used (K > S).
    pub call_points: usize,
    /// a: the fitted IV at k = 0 (strike = spot), annualised fraction.
    pub level: f64,
    /// b: IV (fraction) per unit of log-moneyness; negative when puts are dearer.
    pub slope: f64,
    /// c: IV (fraction) per unit of k^2; positive for a smile.
    pub curvature: f64,
    /// Coefficient of determination of the fit, 1 - SS_res / SS_tot (1.0 when
    /// every IV is the same, so the fit is exact).
    pub r_squared: f64,
    /// Root-mean-square residual, in IV units (fraction: 0.01 = one vol point).
    pub rmse: f64,
    /// The shape label from b and c.
    pub shape: SkewShape,
}

impl SkewFit {
    /// The fitted IV (annualised fraction) at log-moneyness `k = ln(K / S)`:
    /// `a + b k + c k^2`.
    pub fn iv_at(&self, log_moneyness: f64) -> f64 {
        self.level + self.slope * log_moneyness + self.curvature * log_moneyness * log_moneyness
    }

    /// Put IV minus call IV at equal distance `k` (> 0) from the spot in
    /// log-moneyness: `iv_at(-k) - iv_at(k) = -2 b k`, IV fraction. Positive
    /// when puts are dearer. Example: b = -0.10, k = 0.1 gives 0.02.
    pub fn put_minus_call(&self, k: f64) -> f64 {
        -2.0 * self.slope * k
    }
}

/// Fits `IV = a + b k + c k^2`, `k = ln(K / S)`, by ordinary least squares
/// over the out-of-the-money quotes of one expiration.
///
/// Points: the contracts of `chain` (one expiration's, whose time to expiry
/// is `time`) that are puts with K < S or
/// calls with K > S (a strike equal to S is neither), with
/// |k| <= `max_abs_log_moneyness`, and a usable IV: the vendor's when finite
/// and in (0, 5], else Black-Scholes from a usable bid/ask mid via
/// [`crate::analysis::black_scholes::implied_vol`] with `time.years` and `rates`;
/// a quote with neither is skipped.
///
/// The 3x3 normal equations are solved by Gaussian elimination with partial
/// pivoting ([`solve_normal_equations`]).
///
/// Worked example (CVNA, Cboe chain of 2023-07-18 07:51 ET, S = 36.83,
/// expiration 2023-07-21): puts 22.5..36.5 (29 strikes) and calls 37..59 (30
/// strikes) lie within |k| <= 0.5 (22.34..60.72) and all have vendor IVs.
/// The call wing is dearer than the put wing at every distance (k = 0.2:
/// call at 45 has 1.7282, put at 30 has 1.4599), so b > 0: a reverse smirk.
///
/// # Errors
/// [`NoSkewFit`] when `time` is not of `chain`'s expiration, when the spot is not
/// positive, when either side has fewer than
/// `min_points_per_side` points (the reason gives both counts), or when the
/// normal equations are singular (fewer than three distinct strikes, or
/// strikes too close together) or give non-finite coefficients.
pub fn fit_skew(
    chain: &ExpirationChain<'_>,
    time: ExpiryTime,
    spot: Decimal,
    rates: &RateAssumptions,
    params: &SkewParams,
) -> Result<SkewFit, NoSkewFit> {
    if time.expiration != chain.expiration() {
        return Err(NoSkewFit::OtherExpiration { time: time.expiration, chain: chain.expiration() });
    }
    let spot_f =
        spot.to_f64().filter(|s| s.is_finite() && *s > 0.0).ok_or(NoSkewFit::SpotNotPositive(spot))?;
    let mut points: Vec<(f64, f64)> = Vec::new();
    let (mut put_points, mut call_points) = (0usize, 0usize);
    for quote in chain.iter() {
        let otm = match quote.right {
            OptionRight::Put => quote.strike < spot,
            OptionRight::Call => quote.strike > spot,
        };
        let Some(strike) = quote.strike.to_f64().filter(|k| otm && *k > 0.0) else {
            continue;
        };
        let k = (strike / spot_f).ln();
        if !k.is_finite() || k.abs() > params.max_abs_log_moneyness {
            continue;
        }
        let Some((iv, _)) = quote_iv(quote, spot_f, time.years, rates) else {
            continue;
        };
        points.push((k, iv));
        match quote.right {
            OptionRight::Put => put_points += 1,
            OptionRight::Call => call_points += 1,
        }
    }
    let need = params.min_points_per_side;
    if put_points < need || call_points < need {
        return Err(NoSkewFit::TooFewPoints {
            expiration: time.expiration,
            puts: put_points,
            calls: call_points,
            max_abs_log_moneyness: params.max_abs_log_moneyness,
            need,
        });
    }
    let [level, slope, curvature] =
        solve_normal_equations(&points).ok_or(NoSkewFit::Singular(time.expiration))?;

    let n = points.len() as f64;
    let mean = points.iter().map(|p| p.1).sum::<f64>() / n;
    let ss_res: f64 = points.iter().map(|(k, y)| (y - (level + slope * k + curvature * k * k)).powi(2)).sum();
    let ss_tot: f64 = points.iter().map(|(_, y)| (y - mean).powi(2)).sum();
    let r_squared = if ss_tot > 0.0 { 1.0 - ss_res / ss_tot } else { 1.0 };
    let rmse = (ss_res / n).sqrt();
    if ![level, slope, curvature, r_squared, rmse].iter().all(|x| x.is_finite()) {
        return Err(NoSkewFit::NonFinite(time.expiration));
    }
    Ok(SkewFit {
        expiration: time.expiration,
        put_points,
        call_points,
        level,
        slope,
        curvature,
        r_squared,
        rmse,
        shape: SkewShape::classify(slope, curvature, params),
    })
}

/// Why a smile could not be fitted; the text is the reason the full
/// analysis lists (`skew: ...`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NoSkewFit {
    /// The time to expiry given is of another expiration than the chain's.
    #[error("the time to expiry of {time} given for the chain of {chain}")]
    OtherExpiration {
        /// The time's expiration.
        time: NaiveDate,
        /// The chain's expiration.
        chain: NaiveDate,
    },
    /// The spot, USD, is not positive.
    #[error("spot {0} is not positive")]
    SpotNotPositive(Decimal),
    /// Too few OTM points with a usable IV on a side.
    #[error(
        "{expiration}: {puts} OTM put points and {calls} OTM call points with a usable IV within \
         |ln(K/S)| <= {max_abs_log_moneyness}, need {need} on each side"
    )]
    TooFewPoints {
        /// The expiration.
        expiration: NaiveDate,
        /// OTM puts with a usable IV.
        puts: usize,
        /// OTM calls with a usable IV.
        calls: usize,
        /// The moneyness window, |ln(K/S)|.
        max_abs_log_moneyness: f64,
        /// The fewest points needed on each side.
        need: usize,
    },
    /// The normal equations are singular (fewer than three distinct strikes).
    #[error("{0}: the normal equations of the smile fit are singular")]
    Singular(NaiveDate),
    /// The fit gave non-finite figures.
    #[error("{0}: the smile fit gave non-finite figures")]
    NonFinite(NaiveDate),
}

/// Least-squares (a, b, c) of `y = a + b k + c k^2` over `points` (k, y).
///
/// Builds the normal equations `M beta = v` with
/// `M = [[n, Sk, Sk2], [Sk, Sk2, Sk3], [Sk2, Sk3, Sk4]]` and
/// `v = [Sy, Sky, Sk2y]` (S = sum over the points) and solves them by Gaussian
/// elimination with partial pivoting. `None` when a pivot is not above
/// 1e-12 times the largest entry of M (singular or numerically so: fewer than
/// three distinct k, or k values that nearly coincide), or when any input or
/// result is not finite.
///
/// Example: the points (-1, 3), (0, 1), (1, 1) give a = 1, b = -1, c = 1.
pub fn solve_normal_equations(points: &[(f64, f64)]) -> Option<[f64; 3]> {
    if points.iter().any(|(k, y)| !k.is_finite() || !y.is_finite()) {
        return None;
    }
    let power_sum = |p: i32| points.iter().map(|(k, _)| k.powi(p)).sum::<f64>();
    let moment = |p: i32| points.iter().map(|(k, y)| k.powi(p) * y).sum::<f64>();
    let (s0, s1, s2, s3, s4) = (points.len() as f64, power_sum(1), power_sum(2), power_sum(3), power_sum(4));
    // Augmented matrix [M | v].
    let mut m = [[s0, s1, s2, moment(0)], [s1, s2, s3, moment(1)], [s2, s3, s4, moment(2)]];
    let scale = m.iter().flat_map(|row| row[..3].iter()).fold(0.0f64, |acc, x| acc.max(x.abs()));
    if !scale.is_finite() || scale <= 0.0 {
        return None;
    }
    for col in 0..3 {
        let pivot_row = (col..3).max_by(|&i, &j| m[i][col].abs().total_cmp(&m[j][col].abs()))?;
        m.swap(col, pivot_row);
        let pivot = m[col][col];
        if pivot.is_nan() || pivot.abs() <= 1e-12 * scale {
            return None;
        }
        let pivot_line = m[col];
        for line in m.iter_mut().skip(col + 1) {
            let factor = line[col] / pivot;
            for (entry, above) in line.iter_mut().zip(pivot_line).skip(col) {
                *entry -= factor * above;
            }
        }
    }
    let mut beta = [0.0f64; 3];
    for row in (0..3).rev() {
        let known: f64 = (row + 1..3).map(|j| m[row][j] * beta[j]).sum();
        beta[row] = (m[row][3] - known) / m[row][row];
    }
    beta.iter().all(|x| x.is_finite()).then_some(beta)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::black_scholes::bs_price;
    use crate::domain::OptionQuote;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn date(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2023, m, d).unwrap()
    }

    fn time(expiration: NaiveDate, calendar_days: f64, sessions: f64) -> ExpiryTime {
        ExpiryTime { expiration, calendar_days, years: sessions / 252.0 }
    }

    /// One expiration's chain of `quotes` (all of 2023-07-21).
    fn chain(quotes: &[OptionQuote]) -> ExpirationChain<'_> {
        ExpirationChain::new(date(7, 21), quotes).unwrap()
    }

    fn quote(strike: Decimal, right: OptionRight, mid: Option<Decimal>, iv: Option<f64>) -> OptionQuote {
        OptionQuote {
            symbol: None,
            expiration: date(7, 21),
            strike,
            right,
            bid: mid,
            ask: mid,
            last: None,
            volume: None,
            open_interest: None,
            iv,
            delta: None,
            contract_size: None,
        }
    }

    /// Quotes on strikes 70, 72, ..., 130 around S = 100, both rights, with
    /// vendor IVs on the quadratic `a + b k + c k^2`.
    fn quadratic_chain(a: f64, b: f64, c: f64) -> Vec<OptionQuote> {
        (35..=65)
            .flat_map(|half| {
                let strike = Decimal::from(half * 2);
                let k = (f64::from(half * 2) / 100.0).ln();
                let iv = a + b * k + c * k * k;
                [
                    quote(strike, OptionRight::Put, Some(dec!(1)), Some(iv)),
                    quote(strike, OptionRight::Call, Some(dec!(1)), Some(iv)),
                ]
            })
            .collect()
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn normal_equations_worked_example() {
        // (-1, 3), (0, 1), (1, 1): y = 1 - k + k^2 passes through all three.
        // M = [[3, 0, 2], [0, 2, 0], [2, 0, 2]], v = [5, -2, 4]: b = -1; 3a + 2c = 5, 2a + 2c = 4 → a = 1, c = 1.
        let [a, b, c] = solve_normal_equations(&[(-1.0, 3.0), (0.0, 1.0), (1.0, 1.0)]).unwrap();
        assert!(close(a, 1.0, 1e-12) && close(b, -1.0, 1e-12) && close(c, 1.0, 1e-12), "{a} {b} {c}");
        assert_eq!(solve_normal_equations(&[(0.1, 1.0), (0.2, 1.0)]), None, "two distinct k");
        assert_eq!(solve_normal_equations(&[(0.1, 1.0), (0.1, 2.0), (0.1, 3.0)]), None, "one k");
        assert_eq!(solve_normal_equations(&[]), None);
        assert_eq!(solve_normal_equations(&[(f64::NAN, 1.0), (0.0, 1.0), (1.0, 1.0)]), None);
    }

    #[test]
    fn recovers_a_known_quadratic_exactly() {
        let (a, b, c) = (0.45, -0.30, 0.80);
        let fit = fit_skew(
            &chain(&quadratic_chain(a, b, c)),
            time(date(7, 21), 10.0, 8.0),
            dec!(100),
            &RateAssumptions::default(),
            &SkewParams::default(),
        )
        .unwrap();
        // OTM only: puts 70..98 (15 strikes), calls 102..130 (15); 100 is neither.
        assert_eq!((fit.put_points, fit.call_points), (15, 15));
        assert!(close(fit.level, a, 1e-10) && close(fit.slope, b, 1e-10) && close(fit.curvature, c, 1e-9));
        assert!(close(fit.r_squared, 1.0, 1e-9) && fit.rmse < 1e-10, "{fit:?}");
        assert_eq!(fit.shape, SkewShape::Smirk);
        // put - call at k = 0.1: -2 x (-0.30) x 0.1 = 0.06 = iv_at(-0.1) - iv_at(0.1).
        assert!(close(fit.put_minus_call(0.1), 0.06, 1e-10));
        assert!(close(fit.iv_at(-0.1) - fit.iv_at(0.1), 0.06, 1e-10));
        let json = serde_json::to_string(&fit).unwrap();
        assert_eq!(serde_json::from_str::<SkewFit>(&json).unwrap(), fit);
    }

    #[test]
    fn recovers_a_quadratic_through_black_scholes_mids() {
        // No vendor IVs: each point is implied back from a mid priced at the quadratic's IV.
        let (a, b, c) = (0.60, 0.20, 1.0);
        let rates = RateAssumptions::default();
        let t = time(date(7, 21), 30.0, 21.0);
        let quotes: Vec<OptionQuote> = (35..=65)
            .flat_map(|half| {
                let strike = f64::from(half * 2);
                let k = (strike / 100.0).ln();
                let iv = a + b * k + c * k * k;
                [OptionRight::Put, OptionRight::Call].map(|right| {
                    let price = bs_price(right, 100.0, strike, t.years, iv, &rates);
                    let mid = Decimal::from_f64_retain(price).map(|p| p.round_dp(12));
                    quote(Decimal::from(half * 2), right, mid, None)
                })
            })
            .collect();
        let fit = fit_skew(&chain(&quotes), t, dec!(100), &rates, &SkewParams::default()).unwrap();
        assert!(close(fit.level, a, 1e-6) && close(fit.slope, b, 1e-6) && close(fit.curvature, c, 1e-5));
        assert_eq!(fit.shape, SkewShape::ReverseSmirk);
    }

    #[test]
    fn junk_vendor_ivs_fall_back_or_are_skipped() {
        let mut quotes = quadratic_chain(0.5, 0.0, 0.0);
        // Two puts with junk IVs and no usable mid: skipped.
        quotes[0].iv = Some(0.0);
        quotes[0].bid = None;
        quotes[2].iv = Some(9.0);
        quotes[2].ask = Some(dec!(0.5));
        let fit = fit_skew(
            &chain(&quotes),
            time(date(7, 21), 10.0, 8.0),
            dec!(100),
            &RateAssumptions::default(),
            &SkewParams::default(),
        )
        .unwrap();
        assert_eq!((fit.put_points, fit.call_points), (13, 15));
        assert_eq!(fit.shape, SkewShape::Flat);
        assert_eq!(fit.r_squared, 1.0, "all IVs equal");
    }

    #[test]
    fn too_few_points_is_an_error_naming_the_counts() {
        let params = SkewParams { max_abs_log_moneyness: 0.05, ..SkewParams::default() };
        // |ln(K/100)| <= 0.05: 96, 98 below (ln 0.96 = -0.041) and 102, 104 above.
        let err = fit_skew(
            &chain(&quadratic_chain(0.5, -0.2, 0.5)),
            time(date(7, 21), 10.0, 8.0),
            dec!(100),
            &RateAssumptions::default(),
            &params,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("2 OTM put points and 2 OTM call points"), "{err}");
        assert!(err.contains("need 5"), "{err}");
        // A snapshot's other expiration has none of 07-21's points.
        let quotes = quadratic_chain(0.5, 0.0, 0.0);
        let other_expiry = time(date(7, 28), 10.0, 8.0);
        let none = ExpirationChain::new(date(7, 28), []).unwrap();
        let err =
            fit_skew(&none, other_expiry, dec!(100), &RateAssumptions::default(), &SkewParams::default())
                .unwrap_err()
                .to_string();
        assert!(err.contains("0 OTM put points"), "{err}");
        // A time to expiry of another expiration than the chain's is refused.
        let err = fit_skew(
            &chain(&quotes),
            other_expiry,
            dec!(100),
            &RateAssumptions::default(),
            &SkewParams::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("2023-07-28 given for the chain of 2023-07-21"), "{err}");
    }

    #[test]
    fn shape_labels() {
        let p = SkewParams::default();
        assert_eq!(SkewShape::classify(-0.3, 5.0, &p), SkewShape::Smirk);
        assert_eq!(SkewShape::classify(-0.10, 0.0, &p), SkewShape::Smirk, "at the threshold");
        assert_eq!(SkewShape::classify(0.10, 0.0, &p), SkewShape::ReverseSmirk);
        assert_eq!(SkewShape::classify(0.05, 0.8, &p), SkewShape::Smile);
        assert_eq!(SkewShape::classify(-0.05, 0.5, &p), SkewShape::Smile, "at the threshold");
        assert_eq!(SkewShape::classify(0.05, 0.2, &p), SkewShape::Flat);
        assert_eq!(serde_json::to_string(&SkewShape::ReverseSmirk).unwrap(), "\"reverse_smirk\"");
        let parsed: SkewParams = serde_json::from_str(r#"{"smirk_slope": 0.2}"#).unwrap();
        assert_eq!(parsed, SkewParams { smirk_slope: 0.2, ..SkewParams::default() });
        assert!(serde_json::from_str::<SkewParams>(r#"{"slope": 0.2}"#).is_err());
    }

    fn data_dir() -> std::path::PathBuf {
        match std::env::var_os("IVCD_DATA_DIR") {
            Some(dir) => dir.into(),
            None => std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"),
        }
    }

    fn cvna_chain() -> crate::domain::ChainSnapshot {
        let (text, shown) = crate::providers::files::recorded::read_recorded(
            &data_dir(),
            std::path::Path::new("upstar7__Gamma-Ex/cvna_quotedata.csv"),
        )
        .unwrap();
        crate::providers::files::cboe::parse_cboe_chain_csv(&text, &shown).unwrap()
    }

    #[test]
    fn cvna_smiles_from_the_recorded_cboe_chain() {
        // Cboe chain of CVNA, 2023-07-18 07:51 ET, S = (36.80 + 36.86)/2 = 36.83.
        // |k| <= 0.5 keeps strikes in [36.83 e^-0.5, 36.83 e^0.5] = [22.34, 60.72].
        let chain = cvna_chain();
        let spot = chain.underlying.as_ref().and_then(|u| u.spot()).unwrap();
        assert_eq!(spot, dec!(36.83));
        let rates = RateAssumptions::default();

        // 2023-07-21 (4 sessions): puts below 36.83 at 22.5, 23, ..., 36.5 = 29 strikes, put IVs
        // from 2.0442 (22.5) down to 1.4599 (30) and back to 1.5514 (36.5), all in (0, 5];
        // calls above 36.83 at 37, 37.5, ..., 44 (15) and 45, 46, ..., 59 (15) = 30 strikes,
        // IVs rising from 1.5664 (37) to 2.0608 (59), all in (0, 5].
        // The call side is dearer at equal distance: k = ±0.1 (K = 33.33 / 40.70): put ~1.479,
        // call ~1.649; k = ±0.2 (30.15 / 44.98): put ~1.463, call 1.7282; k = ±0.4 (24.69 / 54.95):
        // put ~1.746, call 1.9478. Each pair gives b = (call - put)/(2k) between 0.25 and 0.85,
        // so b > 0.2 and the shape is a reverse smirk (call skew). Both wings (2.04 at k = -0.49,
        // 2.06 at k = 0.47) sit about 0.5 above the middle (~1.46-1.56), so c ~ 0.5/0.23 > 1.
        let fit = fit_skew(
            &chain.expiration(date(7, 21)),
            time(date(7, 21), 3.0, 4.0),
            spot,
            &rates,
            &SkewParams::default(),
        )
        .unwrap();
        assert_eq!((fit.put_points, fit.call_points), (29, 30));
        assert!(fit.slope > 0.2, "{fit:?}");
        assert_eq!(fit.shape, SkewShape::ReverseSmirk);
        assert!(fit.curvature > 1.0, "{fit:?}");
        assert!(fit.put_minus_call(0.2) < 0.0);

        // 2023-08-18 (24 sessions): the strikes are 2.5 or 5 apart. Puts below 36.83 and above
        // 22.34: 22.5 (IV 1.7026), 25 (1.6705), 30 (1.6344), 35 (1.6215) = 4; calls: 40 (1.5997),
        // 45 (1.5898), 50 (1.5988), 55 (1.5896) = 4. With the default 5 per side: an error.
        let t = time(date(8, 18), 31.0, 24.0);
        let err = fit_skew(&chain.expiration(date(8, 18)), t, spot, &rates, &SkewParams::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("4 OTM put points and 4 OTM call points"), "{err}");
        // With 4 per side it fits. Put wing dearer: k = ln(30/36.83) = -0.205 has 1.6344 against
        // k = ln(45/36.83) = 0.200 with 1.5898, b ~ -(1.6344 - 1.5898)/(2 x 0.2) = -0.11; k = -0.387
        // (25, 1.6705) against k = 0.401 (55, 1.5896): b ~ -0.081/0.79 = -0.10. So b < 0 (a put
        // skew), about -0.1. Level: between the put at 35 (k = -0.051, 1.6215) and the call at 40
        // (k = 0.083, 1.5997) the line crosses k = 0 at 1.6215 - 0.382 x 0.0218 = 1.613.
        let four = SkewParams { min_points_per_side: 4, ..SkewParams::default() };
        let fit = fit_skew(&chain.expiration(date(8, 18)), t, spot, &rates, &four).unwrap();
        assert_eq!((fit.put_points, fit.call_points), (4, 4));
        assert!(fit.slope < -0.05 && fit.slope > -0.2, "{fit:?}");
        assert!(fit.put_minus_call(0.2) > 0.0);
        assert!(close(fit.level, 1.613, 0.01), "{fit:?}");
    }

    fn any_quote() -> impl Strategy<Value = OptionQuote> {
        (
            1u32..20_000,
            any::<bool>(),
            proptest::option::of(0u32..5_000),
            proptest::option::of(0u32..5_000),
            proptest::option::of(-1.0f64..8.0),
        )
            .prop_map(|(strike_cents, call, bid, ask, iv)| OptionQuote {
                symbol: None,
                expiration: date(7, 21),
                strike: Decimal::new(i64::from(strike_cents), 2),
                right: if call { OptionRight::Call } else { OptionRight::Put },
                bid: bid.map(|c| Decimal::new(i64::from(c), 2)),
                ask: ask.map(|c| Decimal::new(i64::from(c), 2)),
                last: None,
                volume: None,
                open_interest: None,
                iv,
                delta: None,
                contract_size: None,
            })
    }

    proptest! {
        #[test]
        fn fit_is_finite_or_an_error(
            quotes in proptest::collection::vec(any_quote(), 0..60),
            spot_cents in 1u32..20_000,
            sessions in 0.0f64..60.0,
            min_points in 0usize..6,
        ) {
            let params = SkewParams { min_points_per_side: min_points, ..SkewParams::default() };
            let spot = Decimal::new(i64::from(spot_cents), 2);
            let t = time(date(7, 21), sessions, sessions);
            if let Ok(fit) = fit_skew(&chain(&quotes), t, spot, &RateAssumptions::default(), &params) {
                for x in [fit.level, fit.slope, fit.curvature, fit.r_squared, fit.rmse] {
                    prop_assert!(x.is_finite(), "{fit:?}");
                }
                prop_assert!(fit.rmse >= 0.0 && fit.r_squared <= 1.0 + 1e-9, "{fit:?}");
                prop_assert!(fit.put_points >= min_points && fit.call_points >= min_points);
            }
        }
    }
}

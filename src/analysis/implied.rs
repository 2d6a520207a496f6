//! The expiration that carries an event, and the implied move from the
//! at-the-money straddle.
//!
//! Source: `../shared/docs/domain.md` §3.
//! - Expiration: the first on or after the reaction session.
//! - Straddle at strike K = call mid + put mid, mid = (bid + ask) / 2; a quote
//!   with bid <= 0, ask <= 0 or ask < bid is unusable.
//! - Implied move = straddle / S. When S lies between two listed strikes the
//!   straddle is interpolated linearly between them; the nearest usable
//!   bracketing strike is used only when the other straddle is unusable, and
//!   the result says so.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;

use crate::domain::{ExpirationChain, OptionQuote, OptionRight};

/// The first expiration on or after the reaction session, if any is listed.
///
/// An expiration that ends before the reaction session does not carry the
/// event (domain.md §3). `expirations` need not be sorted.
pub fn event_expiration(expirations: &[NaiveDate], reaction_session: NaiveDate) -> Option<NaiveDate> {
    expirations.iter().copied().filter(|e| *e >= reaction_session).min()
}

/// The straddle at one strike: both legs' mids, USD per share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StrikeStraddle {
    /// The strike, USD.
    pub strike: Decimal,
    /// Call bid/ask mid, USD per share.
    pub call_mid: Decimal,
    /// Put bid/ask mid, USD per share.
    pub put_mid: Decimal,
}

impl StrikeStraddle {
    /// call mid + put mid, USD per share.
    pub fn price(&self) -> Decimal {
        self.call_mid + self.put_mid
    }
}

/// How the straddle price was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StraddleMethod {
    /// The spot equals a listed strike; that strike's straddle.
    AtStrike,
    /// Linear interpolation between the two strikes that bracket the spot.
    Interpolated,
    /// One bracketing straddle was unusable; the other (nearest usable) one.
    NearestFallback,
}

impl StraddleMethod {
    /// The code stored in `candidates.straddle_method` and printed in JSON:
    /// `at_strike`, `interpolated`, `nearest_fallback`.
    pub fn code(self) -> &'static str {
        match self {
            StraddleMethod::AtStrike => "at_strike",
            StraddleMethod::Interpolated => "interpolated",
            StraddleMethod::NearestFallback => "nearest_fallback",
        }
    }

    /// Reads a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "at_strike" => Some(StraddleMethod::AtStrike),
            "interpolated" => Some(StraddleMethod::Interpolated),
            "nearest_fallback" => Some(StraddleMethod::NearestFallback),
            _ => None,
        }
    }
}

/// Where the spot S of an implied move came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpotSource {
    /// The chain's own underlying quote, taken with the chain (a scan).
    Chain,
    /// A separate underlying quote (a scan whose chain has none).
    Quote,
    /// The close of the reference session (the backtest's end-of-day chains).
    ReferenceClose,
}

impl SpotSource {
    /// The code stored in `candidates.spot_source` and printed in JSON:
    /// `chain`, `quote` (a scan's), `reference_close` (never stored).
    pub fn code(self) -> &'static str {
        match self {
            SpotSource::Chain => "chain",
            SpotSource::Quote => "quote",
            SpotSource::ReferenceClose => "reference_close",
        }
    }

    /// Reads a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "chain" => Some(SpotSource::Chain),
            "quote" => Some(SpotSource::Quote),
            "reference_close" => Some(SpotSource::ReferenceClose),
            _ => None,
        }
    }
}

/// The implied move of one expiration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImpliedMove {
    /// The spot S used, USD.
    pub spot: Decimal,
    /// The (interpolated) straddle price, USD per share.
    pub straddle: Decimal,
    /// straddle / S, a fraction (0.1296 = 12.96%).
    pub implied_move: f64,
    /// How the straddle was obtained.
    pub method: StraddleMethod,
    /// The bracketing strike at or below S with its straddle, when usable.
    pub lower: Option<StrikeStraddle>,
    /// The bracketing strike at or above S with its straddle, when usable.
    pub upper: Option<StrikeStraddle>,
    /// What was skipped and why (unusable quotes), for the user.
    pub warnings: Vec<String>,
}

impl ImpliedMove {
    /// The listed strike whose straddle is traded: the bracketing strike
    /// nearest the spot (the lower one on a tie), or the one usable strike.
    pub fn atm_strike(&self) -> Option<Decimal> {
        match (&self.lower, &self.upper) {
            (Some(l), Some(u)) => {
                Some(if self.spot - l.strike <= u.strike - self.spot { l.strike } else { u.strike })
            }
            (Some(one), None) | (None, Some(one)) => Some(one.strike),
            (None, None) => None,
        }
    }
}

/// Why no implied move could be computed. Never replaced by an estimate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoImpliedMove {
    /// The spot is missing or not positive.
    #[error("no usable spot price")]
    NoSpot,
    /// The expiration has no strike with both a call and a put.
    #[error("no strikes with both a call and a put in the expiration")]
    NoStrikes,
    /// The spot is outside the listed strikes, so no strike brackets it.
    #[error("spot {spot} is outside the listed strikes {lowest}..{highest}")]
    SpotOutsideStrikes {
        /// The spot, USD.
        spot: Decimal,
        /// Lowest listed strike, USD.
        lowest: Decimal,
        /// Highest listed strike, USD.
        highest: Decimal,
    },
    /// Neither bracketing straddle has usable quotes.
    #[error("no usable quote at the ATM strikes ({0})")]
    NoUsableQuote(String),
}

/// Computes the implied move from one expiration's contracts and the spot.
///
/// `chain` holds one expiration's contracts alone
/// ([`crate::domain::ChainSnapshot::expiration`]): the bracketing strikes and
/// both legs of each straddle are that expiration's, whatever else the
/// snapshot holds. Shapes: prices in USD per share; the result's
/// `implied_move` is a fraction.
///
/// Worked example (CVNA, Cboe chain of 2023-07-18 07:51 ET, expiration
/// 2023-07-21, S = (36.80 + 36.86) / 2 = 36.83): at 36.5 the call mid is
/// (2.31 + 2.40) / 2 = 2.355 and the put mid (2.33 + 2.41) / 2 = 2.37, a
/// straddle of 4.725; at 37 it is 2.165 + 2.635 = 4.80. Interpolated at
/// w = (36.83 - 36.5) / 0.5 = 0.66: 4.725 + 0.66 x 0.075 = 4.7745; implied
/// move 4.7745 / 36.83 = 0.12964 (12.96%).
///
/// # Errors
/// [`NoImpliedMove`] when the spot is unusable, no strike brackets it, or
/// neither bracketing straddle has usable quotes.
pub fn implied_move(chain: &ExpirationChain<'_>, spot: Decimal) -> Result<ImpliedMove, NoImpliedMove> {
    if spot <= Decimal::ZERO {
        return Err(NoImpliedMove::NoSpot);
    }
    let strikes = chain.strikes_with_both_legs();
    let (Some(&lowest), Some(&highest)) = (strikes.first(), strikes.last()) else {
        return Err(NoImpliedMove::NoStrikes);
    };
    if spot < lowest || spot > highest {
        return Err(NoImpliedMove::SpotOutsideStrikes { spot, lowest, highest });
    }
    let lower_strike = strikes.iter().copied().filter(|k| *k <= spot).max().unwrap_or(lowest);
    let upper_strike = strikes.iter().copied().filter(|k| *k >= spot).min().unwrap_or(highest);

    let mut warnings = Vec::new();
    let lower = straddle_at(chain, lower_strike, &mut warnings);
    if lower_strike == upper_strike {
        let at = lower.ok_or_else(|| NoImpliedMove::NoUsableQuote(warnings.join("; ")))?;
        return Ok(finish(spot, at.price(), StraddleMethod::AtStrike, Some(at.clone()), Some(at), warnings));
    }
    let upper = straddle_at(chain, upper_strike, &mut warnings);
    match (lower, upper) {
        (Some(lo), Some(hi)) => {
            let weight = (spot - lo.strike) / (hi.strike - lo.strike);
            let straddle = lo.price() + weight * (hi.price() - lo.price());
            Ok(finish(spot, straddle, StraddleMethod::Interpolated, Some(lo), Some(hi), warnings))
        }
        (Some(lo), None) => {
            warnings.push(format!("used the {} straddle alone", lo.strike));
            Ok(finish(spot, lo.price(), StraddleMethod::NearestFallback, Some(lo), None, warnings))
        }
        (None, Some(hi)) => {
            warnings.push(format!("used the {} straddle alone", hi.strike));
            Ok(finish(spot, hi.price(), StraddleMethod::NearestFallback, None, Some(hi), warnings))
        }
        (None, None) => Err(NoImpliedMove::NoUsableQuote(warnings.join("; "))),
    }
}

fn finish(
    spot: Decimal,
    straddle: Decimal,
    method: StraddleMethod,
    lower: Option<StrikeStraddle>,
    upper: Option<StrikeStraddle>,
    warnings: Vec<String>,
) -> ImpliedMove {
    let straddle = straddle.normalize();
    ImpliedMove {
        spot,
        straddle,
        implied_move: (straddle / spot).to_f64().unwrap_or(f64::NAN),
        method,
        lower,
        upper,
        warnings,
    }
}

/// The straddle at `strike` when both legs are usable; otherwise records why
/// in `warnings` and returns `None`.
fn straddle_at(
    chain: &ExpirationChain<'_>,
    strike: Decimal,
    warnings: &mut Vec<String>,
) -> Option<StrikeStraddle> {
    let call = chain.quote(strike, OptionRight::Call).and_then(OptionQuote::mid);
    let put = chain.quote(strike, OptionRight::Put).and_then(OptionQuote::mid);
    match (call, put) {
        (Some(call_mid), Some(put_mid)) => Some(StrikeStraddle { strike, call_mid, put_mid }),
        _ => {
            let which = match (call, put) {
                (None, None) => "call and put",
                (None, _) => "call",
                _ => "put",
            };
            warnings.push(format!("{strike} {which} quote unusable (bid <= 0, ask <= 0 or ask < bid)"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn exp() -> NaiveDate {
        NaiveDate::from_ymd_opt(2023, 7, 21).unwrap()
    }

    /// One expiration's chain of `quotes` (all of 2023-07-21).
    fn chain(quotes: &[OptionQuote]) -> ExpirationChain<'_> {
        ExpirationChain::new(exp(), quotes).unwrap()
    }

    fn q(strike: Decimal, right: OptionRight, bid: Decimal, ask: Decimal) -> OptionQuote {
        OptionQuote {
            symbol: None,
            expiration: exp(),
            strike,
            right,
            bid: Some(bid),
            ask: Some(ask),
            last: None,
            volume: None,
            open_interest: None,
            iv: None,
            delta: None,
            contract_size: None,
        }
    }

    /// The CVNA quotes at 36.5 and 37 from the Cboe file (2023-07-18 07:51 ET).
    fn cvna_atm() -> Vec<OptionQuote> {
        vec![
            q(dec!(36.5), OptionRight::Call, dec!(2.31), dec!(2.40)),
            q(dec!(36.5), OptionRight::Put, dec!(2.33), dec!(2.41)),
            q(dec!(37), OptionRight::Call, dec!(2.13), dec!(2.20)),
            q(dec!(37), OptionRight::Put, dec!(2.57), dec!(2.70)),
        ]
    }

    #[test]
    fn cvna_worked_example() {
        let m = implied_move(&chain(&cvna_atm()), dec!(36.83)).unwrap();
        assert_eq!(m.method, StraddleMethod::Interpolated);
        assert_eq!(m.straddle, dec!(4.7745));
        assert!((m.implied_move - 0.129_636_166).abs() < 1e-8, "{}", m.implied_move);
    }

    #[test]
    fn unusable_bracket_falls_back_and_says_so() {
        let mut quotes = cvna_atm();
        quotes[3].bid = Some(Decimal::ZERO); // 37 put unusable
        let m = implied_move(&chain(&quotes), dec!(36.83)).unwrap();
        assert_eq!(m.method, StraddleMethod::NearestFallback);
        assert_eq!(m.straddle, dec!(4.725));
        assert!(m.warnings.iter().any(|w| w.contains("37 put")), "{:?}", m.warnings);
    }

    #[test]
    fn no_usable_quote_is_an_error_not_a_number() {
        let mut quotes = cvna_atm();
        quotes[0].ask = Some(dec!(2.0)); // crossed
        quotes[3].bid = None;
        assert!(matches!(implied_move(&chain(&quotes), dec!(36.83)), Err(NoImpliedMove::NoUsableQuote(_))));
        assert!(matches!(
            implied_move(&chain(&quotes), dec!(40)),
            Err(NoImpliedMove::SpotOutsideStrikes { .. })
        ));
        assert_eq!(implied_move(&chain(&[]), dec!(36.83)), Err(NoImpliedMove::NoStrikes));
        assert_eq!(implied_move(&chain(&quotes), Decimal::ZERO), Err(NoImpliedMove::NoSpot));
    }

    #[test]
    fn expiration_is_first_on_or_after_reaction() {
        let d = |m, day| NaiveDate::from_ymd_opt(2023, m, day).unwrap();
        let exps = [d(7, 28), d(7, 21), d(7, 14)];
        assert_eq!(event_expiration(&exps, d(7, 19)), Some(d(7, 21)));
        assert_eq!(event_expiration(&exps, d(7, 21)), Some(d(7, 21)));
        assert_eq!(event_expiration(&exps, d(7, 29)), None);
    }

    fn price() -> impl Strategy<Value = Decimal> {
        (1u32..100_000).prop_map(|cents| Decimal::new(i64::from(cents), 2))
    }

    fn straddle_book() -> impl Strategy<Value = (Vec<OptionQuote>, Decimal)> {
        (price(), price(), price(), price(), 1u32..1000, 0u32..=100).prop_map(
            |(lc, lp, hc, hp, strike_cents, pct)| {
                let lo = Decimal::new(i64::from(strike_cents) * 100, 2);
                let hi = lo + Decimal::ONE;
                let spot = lo + Decimal::new(i64::from(pct), 2);
                let spread = dec!(0.05);
                let quotes = vec![
                    q(lo, OptionRight::Call, lc, lc + spread),
                    q(lo, OptionRight::Put, lp, lp + spread),
                    q(hi, OptionRight::Call, hc, hc + spread),
                    q(hi, OptionRight::Put, hp, hp + spread),
                ];
                (quotes, spot)
            },
        )
    }

    proptest! {
        #[test]
        fn interpolated_straddle_lies_between_the_bracketing_ones((quotes, spot) in straddle_book()) {
            let m = implied_move(&chain(&quotes), spot).unwrap();
            let lo = m.lower.as_ref().unwrap().price();
            let hi = m.upper.as_ref().unwrap().price();
            prop_assert!(m.straddle >= lo.min(hi) && m.straddle <= lo.max(hi));
        }

        #[test]
        fn a_dearer_straddle_never_lowers_the_implied_move(
            (quotes, spot) in straddle_book(), leg in 0usize..4, bump in price()
        ) {
            let before = implied_move(&chain(&quotes), spot).unwrap().implied_move;
            let mut dearer = quotes.clone();
            dearer[leg].bid = dearer[leg].bid.map(|b| b + bump);
            dearer[leg].ask = dearer[leg].ask.map(|a| a + bump);
            let after = implied_move(&chain(&dearer), spot).unwrap().implied_move;
            prop_assert!(after >= before - 1e-12, "{after} < {before}");
        }

        #[test]
        fn scaling_every_price_leaves_the_move_unchanged((quotes, spot) in straddle_book(), k in 1u32..50) {
            let k = Decimal::from(k);
            let scaled: Vec<OptionQuote> = quotes.iter().map(|c| OptionQuote {
                strike: c.strike * k,
                bid: c.bid.map(|b| b * k),
                ask: c.ask.map(|a| a * k),
                ..c.clone()
            }).collect();
            let a = implied_move(&chain(&quotes), spot).unwrap().implied_move;
            let b = implied_move(&chain(&scaled), spot * k).unwrap().implied_move;
            prop_assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
    }
}

//! The volatility term structure: the at-the-money IV of each expiration,
//! the earnings event variance between two expirations, and the
//! term-structure slope. Prices and implied volatilities are
//! [`super::black_scholes`]'s.
//!
//! Sources:
//! - ATM IV per expiration: mean of the call and put IV at the strike nearest
//!   S (`../shared/docs/domain.md` §5).
//! - Event variance (domain.md §5; moontower, "how an option trader extracts
//!   earnings from a vol term structure"; ORATS ex-earnings IV): from two
//!   expirations T1 < T2 that both contain the event, with one trading day
//!   d = 1/252, `sx^2 = (s2^2 T2 - s1^2 T1) / (T2 - T1)` and
//!   `E^2 = s1^2 T1 - sx^2 (T1 - d)`.
//! - Term-structure slope (domain.md §5; the open-source "earnings volatility
//!   calculator", its `ts_slope_0_45` with threshold -0.00406):
//!   (IV at 45 days - IV of the first expiration) / (45 - days of the first),
//!   ATM IVs interpolated linearly in calendar days.
//!
//! Units: volatilities are annualised fractions (0.5 = 50%); times are years
//! of trading time (`sessions / 252`) for pricing and the event variance, and
//! calendar days for the slope axis; prices are USD per share.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

/// The rates of `[analysis.term.rates]`, defined beside the pricing that uses them.
pub use super::black_scholes::RateAssumptions;
use super::black_scholes::implied_vol;
use crate::domain::{ExpirationChain, OptionQuote, OptionRight};

/// One trading day in years, the event's own share of time (domain.md §5).
pub const TRADING_DAY_YEARS: f64 = 1.0 / 252.0;

/// The largest vendor IV taken at face value (500%); above it the quote is
/// treated as junk and the IV is implied from the mid instead.
pub const MAX_VENDOR_IV: f64 = 5.0;

/// Time to one expiration as the caller measured it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ExpiryTime {
    /// The expiration date (ET).
    pub expiration: NaiveDate,
    /// Calendar days from the as-of date to the expiration (the axis of the
    /// slope and of [`iv_at_days`]).
    pub calendar_days: f64,
    /// Trading time in years: the sessions remaining, including what is left
    /// of today's, divided by 252. The caller computes it from the NYSE calendar.
    pub years: f64,
}

/// Where an ATM IV came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IvSource {
    /// The data vendor's IVs of both legs used.
    Vendor,
    /// At least one leg's IV was implied from its bid/ask mid with [`implied_vol`].
    BlackScholes,
}

/// The at-the-money implied volatility of one expiration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AtmIv {
    /// The expiration date (ET).
    pub expiration: NaiveDate,
    /// Calendar days from the as-of date to the expiration.
    pub calendar_days: f64,
    /// Trading time to the expiration in years (sessions / 252).
    pub years: f64,
    /// The listed strike nearest the spot having both a call and a put, USD.
    pub strike: Decimal,
    /// The call's IV, annualised fraction, when usable.
    pub call_iv: Option<f64>,
    /// The put's IV, annualised fraction, when usable.
    pub put_iv: Option<f64>,
    /// Mean of the available call and put IVs, annualised fraction.
    pub iv: f64,
    /// Vendor IVs, or Black-Scholes from the mid for at least one leg.
    pub source: IvSource,
}

/// A vendor IV taken at face value: finite and in (0, [`MAX_VENDOR_IV`]].
pub fn usable_vendor_iv(iv: Option<f64>) -> Option<f64> {
    iv.filter(|v| v.is_finite() && *v > 0.0 && *v <= MAX_VENDOR_IV)
}

/// The IV of one quote: the vendor's when usable (see [`usable_vendor_iv`]),
/// else Black-Scholes from the bid/ask mid ([`OptionQuote::mid`]). The flag
/// is `true` when Black-Scholes was used. `None` when neither is available.
pub fn quote_iv(quote: &OptionQuote, spot: f64, years: f64, rates: &RateAssumptions) -> Option<(f64, bool)> {
    if let Some(iv) = usable_vendor_iv(quote.iv) {
        return Some((iv, false));
    }
    let price = quote.mid()?.to_f64()?;
    let strike = quote.strike.to_f64()?;
    implied_vol(quote.right, price, spot, strike, years, rates).map(|iv| (iv, true))
}

/// ATM IV of one expiration.
///
/// `chain` holds that expiration's contracts alone and `time` is its time to
/// expiry. The strike is the
/// listed strike nearest `spot` having both a call and a put (a tie between
/// two strikes goes to the lower one). Each leg's IV is the vendor's when it
/// is finite and in (0, 5.0] (500%); a vendor IV that is missing, <= 0, not
/// finite or > 5.0 is replaced by the Black-Scholes IV implied from that
/// leg's mid ([`OptionQuote::mid`]) with `time.years` and `rates`, and the
/// source is then [`IvSource::BlackScholes`]. `iv` is the mean of the legs
/// that have an IV.
///
/// Worked example (CVNA, Cboe chain of 2023-07-18 07:51 ET, S = 36.83,
/// expiration 2023-07-21): the strike nearest S is 37 (0.17 away; 36.5 is
/// 0.33 away), call IV 1.5664, put IV 1.5615, ATM IV 1.56395 (156.4%).
///
/// # Errors
/// [`NoAtmIv`] when `time` is not of `chain`'s expiration, the spot is not
/// positive, no strike of the expiration has both a call and a put, or
/// neither leg at the chosen strike yields an IV.
pub fn atm_iv(
    chain: &ExpirationChain<'_>,
    time: ExpiryTime,
    spot: Decimal,
    rates: &RateAssumptions,
) -> Result<AtmIv, NoAtmIv> {
    if time.expiration != chain.expiration() {
        return Err(NoAtmIv::OtherExpiration { time: time.expiration, chain: chain.expiration() });
    }
    let spot_f = spot.to_f64().filter(|s| s.is_finite() && *s > 0.0).ok_or(NoAtmIv::SpotNotPositive(spot))?;
    let leg = |strike: Decimal, right: OptionRight| chain.quote(strike, right);
    let strike = chain
        .strikes_with_both_legs()
        .into_iter()
        .min_by_key(|k| ((*k - spot).abs(), *k))
        .ok_or(NoAtmIv::NoStraddle(time.expiration))?;
    let (call, put) = match (leg(strike, OptionRight::Call), leg(strike, OptionRight::Put)) {
        (Some(call), Some(put)) => (call, put),
        _ => return Err(NoAtmIv::NoStraddle(time.expiration)),
    };
    let call = quote_iv(call, spot_f, time.years, rates);
    let put = quote_iv(put, spot_f, time.years, rates);
    let used_bs = call.is_some_and(|c| c.1) || put.is_some_and(|p| p.1);
    let (call_iv, put_iv) = (call.map(|c| c.0), put.map(|p| p.0));
    let iv = match (call_iv, put_iv) {
        (Some(c), Some(p)) => 0.5 * (c + p),
        (Some(v), None) | (None, Some(v)) => v,
        (None, None) => return Err(NoAtmIv::NoIv { expiration: time.expiration, strike }),
    };
    Ok(AtmIv {
        expiration: time.expiration,
        calendar_days: time.calendar_days,
        years: time.years,
        strike,
        call_iv,
        put_iv,
        iv,
        source: if used_bs { IvSource::BlackScholes } else { IvSource::Vendor },
    })
}

/// Why an expiration has no ATM IV; the text is the reason the full
/// analysis lists (`ATM IV <expiration>: ...`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoAtmIv {
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
    /// No strike of the expiration has both a call and a put.
    #[error("no strike of {0} has both a call and a put")]
    NoStraddle(NaiveDate),
    /// Neither leg at the ATM strike gives an IV.
    #[error(
        "{expiration} strike {strike}: neither the call nor the put has a usable vendor IV or a mid that implies one"
    )]
    NoIv {
        /// The expiration.
        expiration: NaiveDate,
        /// The ATM strike, USD.
        strike: Decimal,
    },
}

/// Why two expirations give no event variance; the text is the reason the
/// full analysis lists (`event move: ...`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NoEventVariance {
    /// An IV or a time is not finite and positive.
    #[error(
        "IVs and times must be finite and positive (front {front_iv} over {front_years} years, back {back_iv} over \
         {back_years} years)"
    )]
    NotPositive {
        /// The front's IV, annualised fraction.
        front_iv: f64,
        /// The front's time, years.
        front_years: f64,
        /// The back's IV, annualised fraction.
        back_iv: f64,
        /// The back's time, years.
        back_years: f64,
    },
    /// The back expiration is not after the front.
    #[error(
        "back expiration {back} ({back_years} years) is not after the front {front} ({front_years} years)"
    )]
    Misordered {
        /// The front expiration.
        front: NaiveDate,
        /// Its time, years.
        front_years: f64,
        /// The back expiration.
        back: NaiveDate,
        /// Its time, years.
        back_years: f64,
    },
    /// The front has less than one trading day: it cannot contain the event.
    #[error(
        "front expiration {front} has {years} years left, less than one trading day: it cannot contain the event"
    )]
    FrontTooShort {
        /// The front expiration.
        front: NaiveDate,
        /// Its time, years.
        years: f64,
    },
}

/// The earnings event's share of variance between two expirations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventVariance {
    /// The front expiration (T1).
    pub front: NaiveDate,
    /// The back expiration (T2).
    pub back: NaiveDate,
    /// E, the 1-sigma move of the event day, a fraction of the spot (0.12 =
    /// 12%, not annualised). `None` when the forward variance is negative or
    /// E^2 < 0.
    pub event_move: Option<f64>,
    /// sx, the ex-earnings (forward) IV between T1 and T2, annualised
    /// fraction. `None` when the forward variance is negative.
    pub ex_earnings_iv: Option<f64>,
    /// `true` when s2^2 T2 < s1^2 T1: the back month's total variance is
    /// below the front's, so no forward variance exists.
    pub negative_forward_variance: bool,
}

/// The event variance from two expirations that both contain the event
/// (domain.md §5; moontower; ORATS ex-earnings IV).
///
/// With s1, s2 the ATM IVs (annualised fractions), T1 < T2 the trading times
/// in years (`AtmIv::years`) and one trading day d = 1/252:
/// `sx^2 = (s2^2 T2 - s1^2 T1) / (T2 - T1)` (the variance of the days after
/// the front expiration, assumed to be the "normal" daily variance) and
/// `E^2 = s1^2 T1 - sx^2 (T1 - d)` (the front's total variance minus the
/// normal variance of its non-event days).
///
/// - If `s2^2 T2 < s1^2 T1`, `negative_forward_variance` is `true` and both
///   `event_move` and `ex_earnings_iv` are `None`.
/// - If `E^2 < 0` (the forward IV is so high relative to the front that the
///   front leaves no variance for the event: no event premium is priced),
///   `event_move` is `None` and `ex_earnings_iv` is still given.
///
/// Worked example: s1 = 0.80 with T1 = 5/252, s2 = 0.50 with T2 = 25/252:
/// s1^2 T1 = 3.2/252, s2^2 T2 = 6.25/252, sx^2 = 3.05/20 = 0.1525 (sx =
/// 0.3905), E^2 = (3.2 - 0.1525 x 4)/252 = 2.59/252 = 0.010278, E = 0.10138.
///
/// # Errors
/// [`NoEventVariance`] when `back.years <= front.years`, when the front has less than
/// one trading day (it cannot contain the event session), or when an IV or a
/// time is not finite or not positive.
pub fn event_variance(front: &AtmIv, back: &AtmIv) -> Result<EventVariance, NoEventVariance> {
    let (s1, t1, s2, t2) = (front.iv, front.years, back.iv, back.years);
    if ![s1, t1, s2, t2].iter().all(|x| x.is_finite() && *x > 0.0) {
        return Err(NoEventVariance::NotPositive {
            front_iv: s1,
            front_years: t1,
            back_iv: s2,
            back_years: t2,
        });
    }
    if t2 <= t1 {
        return Err(NoEventVariance::Misordered {
            front: front.expiration,
            front_years: t1,
            back: back.expiration,
            back_years: t2,
        });
    }
    if t1 < TRADING_DAY_YEARS * (1.0 - 1e-9) {
        return Err(NoEventVariance::FrontTooShort { front: front.expiration, years: t1 });
    }
    let (v1, v2) = (s1 * s1 * t1, s2 * s2 * t2);
    let none = |negative| EventVariance {
        front: front.expiration,
        back: back.expiration,
        event_move: None,
        ex_earnings_iv: None,
        negative_forward_variance: negative,
    };
    if v2 < v1 {
        return Ok(none(true));
    }
    let forward = (v2 - v1) / (t2 - t1);
    let event = event_day_variance(front, forward);
    Ok(EventVariance {
        ex_earnings_iv: Some(forward.sqrt()),
        event_move: (event >= 0.0).then(|| event.sqrt()),
        ..none(false)
    })
}

/// E^2, the event day's variance (a squared fraction of the spot, not
/// annualised; may be negative): the front's total variance `s1^2 T1` minus
/// the normal variance of its non-event days, `forward_variance (T1 - d)`,
/// with `forward_variance` an annualised variance (sx^2) and d = 1/252
/// (domain.md §5; the formula of [`event_variance`]).
pub fn event_day_variance(front: &AtmIv, forward_variance: f64) -> f64 {
    front.iv * front.iv * front.years - forward_variance * (front.years - TRADING_DAY_YEARS)
}

/// The ATM IV at `calendar_days`, interpolated linearly in calendar days
/// between the two points that bracket it (`points` in any order), annualised
/// fraction.
///
/// `None` outside the points' range (no extrapolation) or with no points; a
/// point at exactly `calendar_days` gives its own IV.
///
/// Example: points (3 days, 1.56), (10 days, 1.50), (31 days, 1.20); at 17
/// days: 1.50 + (17 - 10) / (31 - 10) x (1.20 - 1.50) = 1.40.
pub fn iv_at_days(points: &[AtmIv], calendar_days: f64) -> Option<f64> {
    if !calendar_days.is_finite() {
        return None;
    }
    if let Some(exact) = points.iter().find(|p| p.calendar_days == calendar_days) {
        return Some(exact.iv);
    }
    let below = points
        .iter()
        .filter(|p| p.calendar_days < calendar_days)
        .max_by(|a, b| a.calendar_days.total_cmp(&b.calendar_days))?;
    let above = points
        .iter()
        .filter(|p| p.calendar_days > calendar_days)
        .min_by(|a, b| a.calendar_days.total_cmp(&b.calendar_days))?;
    let weight = (calendar_days - below.calendar_days) / (above.calendar_days - below.calendar_days);
    Some(below.iv + weight * (above.iv - below.iv))
}

/// The term-structure slope from the first expiration to `target_days`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermSlope {
    /// The first (nearest) expiration.
    pub front_expiration: NaiveDate,
    /// Its calendar days to expiration.
    pub front_days: f64,
    /// Its ATM IV, annualised fraction.
    pub front_iv: f64,
    /// The target horizon, calendar days (45 in the source).
    pub target_days: f64,
    /// The ATM IV interpolated at `target_days`, annualised fraction.
    pub target_iv: f64,
    /// (target_iv - front_iv) / (target_days - front_days): IV (as a
    /// fraction) per calendar day; negative for a backwardated (inverted)
    /// term structure.
    pub per_day: f64,
}

/// The slope (IV at `target_days` - IV at the first expiration) /
/// (`target_days` - days of the first), in IV (fraction) per calendar day, as
/// in the open-source "earnings volatility calculator" (`ts_slope_0_45`,
/// target 45 days; it calls a slope <= -0.00406 a favourable inverted
/// structure). The IV at `target_days` comes from [`iv_at_days`].
///
/// `None` with fewer than two points, when `target_days` is not within the
/// points' range, or when the first expiration is not before `target_days`.
///
/// Example: points (3 days, 1.56), (10 days, 1.50), (31 days, 1.20) with
/// target 17: (1.40 - 1.56) / (17 - 3) = -0.011429 per day.
pub fn term_slope(points: &[AtmIv], target_days: f64) -> Option<TermSlope> {
    if points.len() < 2 {
        return None;
    }
    let front = points.iter().min_by(|a, b| a.calendar_days.total_cmp(&b.calendar_days))?;
    if front.calendar_days >= target_days {
        return None;
    }
    let target_iv = iv_at_days(points, target_days)?;
    Some(TermSlope {
        front_expiration: front.expiration,
        front_days: front.calendar_days,
        front_iv: front.iv,
        target_days,
        target_iv,
        per_day: (target_iv - front.iv) / (target_days - front.calendar_days),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn date(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2023, m, d).unwrap()
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    fn quote(
        strike: Decimal,
        right: OptionRight,
        bid: Decimal,
        ask: Decimal,
        iv: Option<f64>,
    ) -> OptionQuote {
        OptionQuote {
            symbol: None,
            expiration: date(7, 21),
            strike,
            right,
            bid: Some(bid),
            ask: Some(ask),
            last: None,
            volume: None,
            open_interest: None,
            iv,
            delta: None,
            contract_size: None,
        }
    }

    fn time(expiration: NaiveDate, calendar_days: f64, sessions: f64) -> ExpiryTime {
        ExpiryTime { expiration, calendar_days, years: sessions / 252.0 }
    }

    /// One expiration's chain of `quotes` (all of 2023-07-21).
    fn chain(quotes: &[OptionQuote]) -> ExpirationChain<'_> {
        ExpirationChain::new(date(7, 21), quotes).unwrap()
    }

    #[test]
    fn atm_iv_prefers_vendor_and_falls_back_to_the_mid() {
        use OptionRight::{Call, Put};
        let rates = RateAssumptions::default();
        let t = time(date(7, 21), 3.0, 4.0);
        let mut quotes = vec![
            quote(dec!(36.5), Call, dec!(2.31), dec!(2.40), Some(1.5432)),
            quote(dec!(36.5), Put, dec!(2.33), dec!(2.41), Some(1.5514)),
            quote(dec!(37), Call, dec!(2.13), dec!(2.20), Some(1.5664)),
            quote(dec!(37), Put, dec!(2.57), dec!(2.70), Some(1.5615)),
            quote(dec!(37.5), Call, dec!(1.95), dec!(2.05), Some(1.5791)), // no put: not a candidate
        ];
        let atm = atm_iv(&chain(&quotes), t, dec!(36.83), &rates).unwrap();
        assert_eq!((atm.strike, atm.source), (dec!(37), IvSource::Vendor));
        assert!(close(atm.iv, (1.5664 + 1.5615) / 2.0, 1e-12));

        // A junk vendor IV (7.0 > 5.0) is replaced by the IV implied from the mid (2.165).
        quotes[2].iv = Some(7.0);
        let atm = atm_iv(&chain(&quotes), t, dec!(36.83), &rates).unwrap();
        assert_eq!(atm.source, IvSource::BlackScholes);
        let from_mid = implied_vol(Call, 2.165, 36.83, 37.0, 4.0 / 252.0, &rates).unwrap();
        assert_eq!(atm.call_iv, Some(from_mid));
        assert!(from_mid > 1.0 && from_mid < 2.0, "{from_mid}");

        // Neither leg usable: a reason, not a number.
        quotes[2].bid = None;
        quotes[3].iv = None;
        quotes[3].ask = Some(dec!(1));
        let err = atm_iv(&chain(&quotes), t, dec!(36.83), &rates).unwrap_err().to_string();
        assert!(err.contains("strike 37"), "{err}");
        // Nothing of that expiration: a reason.
        let none = ExpirationChain::new(date(7, 28), []).unwrap();
        let err = atm_iv(&none, time(date(7, 28), 10.0, 9.0), dec!(36.83), &rates).unwrap_err().to_string();
        assert!(err.contains("no strike of 2023-07-28"), "{err}");
        // A time to expiry of another expiration than the chain's: a reason.
        let err = atm_iv(&chain(&quotes), time(date(7, 28), 10.0, 9.0), dec!(36.83), &rates)
            .unwrap_err()
            .to_string();
        assert!(err.contains("2023-07-28 given for the chain of 2023-07-21"), "{err}");
        assert!(atm_iv(&chain(&quotes), t, dec!(0), &rates).is_err());
    }

    fn point(expiration: NaiveDate, calendar_days: f64, sessions: f64, iv: f64) -> AtmIv {
        AtmIv {
            expiration,
            calendar_days,
            years: sessions / 252.0,
            strike: dec!(37),
            call_iv: Some(iv),
            put_iv: Some(iv),
            iv,
            source: IvSource::Vendor,
        }
    }

    #[test]
    fn event_variance_worked_example() {
        // s1 = 0.80, T1 = 5/252; s2 = 0.50, T2 = 25/252.
        // s1^2 T1 = 0.64 x 5 / 252 = 3.2/252; s2^2 T2 = 0.25 x 25 / 252 = 6.25/252.
        // sx^2 = (6.25 - 3.2)/252 / (20/252) = 0.1525, sx = 0.390512.
        // E^2 = 3.2/252 - 0.1525 x 4/252 = 2.59/252 = 0.0102778, E = 0.101379.
        let front = point(date(7, 21), 7.0, 5.0, 0.80);
        let back = point(date(8, 18), 35.0, 25.0, 0.50);
        let ev = event_variance(&front, &back).unwrap();
        assert!(!ev.negative_forward_variance);
        assert!(close(ev.ex_earnings_iv.unwrap(), 0.390_512, 1e-6), "{ev:?}");
        assert!(close(ev.event_move.unwrap(), 0.101_379, 1e-6), "{ev:?}");
        assert_eq!((ev.front, ev.back), (date(7, 21), date(8, 18)));
        let json = serde_json::to_string(&ev).unwrap();
        assert_eq!(serde_json::from_str::<EventVariance>(&json).unwrap(), ev);
    }

    #[test]
    fn negative_forward_variance_is_flagged_not_reported() {
        // s1^2 T1 = 1.0 x 5/252 = 5/252 > s2^2 T2 = 0.25 x 10/252 = 2.5/252.
        let ev =
            event_variance(&point(date(7, 21), 3.0, 5.0, 1.0), &point(date(7, 28), 10.0, 10.0, 0.5)).unwrap();
        assert!(ev.negative_forward_variance);
        assert_eq!((ev.event_move, ev.ex_earnings_iv), (None, None));
    }

    #[test]
    fn negative_event_variance_gives_no_move() {
        // s1 = 0.3, T1 = 5/252: 0.45/252; s2 = 0.5, T2 = 10/252: 2.5/252; sx^2 = 2.05/5 = 0.41;
        // E^2 = (0.45 - 0.41 x 4)/252 = -1.19/252 < 0.
        let ev =
            event_variance(&point(date(7, 21), 3.0, 5.0, 0.3), &point(date(7, 28), 10.0, 10.0, 0.5)).unwrap();
        assert!(!ev.negative_forward_variance);
        assert_eq!(ev.event_move, None);
        assert!(close(ev.ex_earnings_iv.unwrap(), 0.41f64.sqrt(), 1e-12));
    }

    #[test]
    fn event_variance_rejects_misordered_or_degenerate_times() {
        let a = point(date(7, 21), 3.0, 5.0, 0.8);
        let b = point(date(7, 28), 10.0, 10.0, 0.5);
        assert!(event_variance(&b, &a).unwrap_err().to_string().contains("not after"));
        assert!(event_variance(&a, &a).is_err());
        let too_short = AtmIv { years: 0.5 / 252.0, ..a.clone() };
        assert!(
            event_variance(&too_short, &b).unwrap_err().to_string().contains("less than one trading day")
        );
        let nan = AtmIv { iv: f64::NAN, ..a.clone() };
        assert!(event_variance(&nan, &b).is_err());
        // Exactly one trading day left in the front: all of its variance is the event's.
        let one_day = point(date(7, 21), 1.0, 1.0, 1.0);
        let ev = event_variance(&one_day, &b).unwrap();
        assert!(close(ev.event_move.unwrap(), (1.0f64 / 252.0).sqrt(), 1e-12));
    }

    fn curve() -> Vec<AtmIv> {
        // Any order.
        vec![
            point(date(8, 18), 31.0, 22.0, 1.20),
            point(date(7, 21), 3.0, 4.0, 1.56),
            point(date(7, 28), 10.0, 9.0, 1.50),
        ]
    }

    #[test]
    fn interpolation_in_calendar_days() {
        let pts = curve();
        // 17 days: 1.50 + (7/21) x (1.20 - 1.50) = 1.40.
        assert!(close(iv_at_days(&pts, 17.0).unwrap(), 1.40, 1e-12));
        // 5 days: 1.56 + (2/7) x (-0.06) = 1.542857.
        assert!(close(iv_at_days(&pts, 5.0).unwrap(), 1.542_857_142_857, 1e-9));
        assert_eq!(iv_at_days(&pts, 10.0), Some(1.50));
        assert_eq!(iv_at_days(&pts, 3.0), Some(1.56));
        assert_eq!(iv_at_days(&pts, 31.0), Some(1.20));
        assert_eq!(iv_at_days(&pts, 2.0), None, "no extrapolation below");
        assert_eq!(iv_at_days(&pts, 45.0), None, "no extrapolation above");
        assert_eq!(iv_at_days(&[], 10.0), None);
    }

    #[test]
    fn slope_from_the_first_expiration() {
        let pts = curve();
        // (1.40 - 1.56) / (17 - 3) = -0.16 / 14 = -0.0114286 per day.
        let s = term_slope(&pts, 17.0).unwrap();
        assert_eq!((s.front_expiration, s.front_days, s.front_iv), (date(7, 21), 3.0, 1.56));
        assert!(close(s.target_iv, 1.40, 1e-12));
        assert!(close(s.per_day, -0.16 / 14.0, 1e-12), "{}", s.per_day);
        assert!(s.per_day <= -0.00406, "inverted enough for the calculator's threshold");
        assert_eq!(term_slope(&pts, 45.0), None, "45 days not bracketed");
        assert_eq!(term_slope(&pts, 3.0), None, "target at the front");
        assert_eq!(term_slope(&pts[..1], 3.0), None);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<TermSlope>(&json).unwrap(), s);
    }

    #[test]
    fn serde_shapes() {
        assert_eq!(serde_json::to_string(&IvSource::BlackScholes).unwrap(), "\"black_scholes\"");
        let p = point(date(7, 21), 3.0, 4.0, 1.56);
        assert_eq!(serde_json::from_str::<AtmIv>(&serde_json::to_string(&p).unwrap()).unwrap(), p);
        let r = RateAssumptions::default();
        assert_eq!((r.risk_free_rate, r.dividend_yield), (0.04, 0.0));
    }

    /// The directory of recorded real market data: `$IVCD_DATA_DIR` when set,
    /// else `../shared/data` beside the repository (as in tests/it/support.rs).
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
    fn cvna_event_variance_from_the_recorded_cboe_chain() {
        // Cboe chain of CVNA, 2023-07-18 07:51 ET (pre-open), bid 36.80 / ask 36.86: S = 36.83.
        // CVNA reported before the open on 2023-07-19, so both expirations carry the event.
        // Rows of the CSV at the strike nearest S (37 is 0.17 away, 36.5 is 0.33 away):
        //   Fri Jul 21 2023,CVNA230721C00037000,...,Bid 2.13,Ask 2.2,...,IV 1.5664,...,37.00,
        //                   CVNA230721P00037000,...,Bid 2.57,Ask 2.7,...,IV 1.5615
        //   Fri Jul 28 2023,CVNA230728C00037000,...,Bid 3.45,Ask 3.6,...,IV 1.4886,...,37.00,
        //                   CVNA230728P00037000,...,Bid 4,Ask 4.15,...,IV 1.5018
        // All four vendor IVs are in (0, 5]: source Vendor.
        // s1 = (1.5664 + 1.5615)/2 = 1.56395, T1 = 4/252 (sessions 07-18, 19, 20, 21);
        // s2 = (1.4886 + 1.5018)/2 = 1.4952,  T2 = 9/252 (+ 07-24, 25, 26, 27, 28).
        // s1^2 = 2.4459396, s1^2 T1 = 9.7837584/252 = 0.0388244;
        // s2^2 = 2.2356230, s2^2 T2 = 20.1206074/252 = 0.0798437 > s1^2 T1: forward variance positive.
        // sx^2 = (20.1206074 - 9.7837584)/252 / (5/252) = 10.3368490/5 = 2.0673698, sx = 1.437835.
        // E^2 = (9.7837584 - 2.0673698 x 3)/252 = (9.7837584 - 6.2021094)/252 = 3.5816490/252
        //     = 0.0142129, E = 0.119218 (an 11.9% one-sigma event move).
        let chain = cvna_chain();
        let spot = chain.underlying.as_ref().and_then(|u| u.spot()).unwrap();
        assert_eq!(spot, dec!(36.83));
        let rates = RateAssumptions::default();
        let front =
            atm_iv(&chain.expiration(date(7, 21)), time(date(7, 21), 3.0, 4.0), spot, &rates).unwrap();
        let back =
            atm_iv(&chain.expiration(date(7, 28)), time(date(7, 28), 10.0, 9.0), spot, &rates).unwrap();
        assert_eq!((front.strike, front.source), (dec!(37), IvSource::Vendor));
        assert_eq!((back.strike, back.source), (dec!(37), IvSource::Vendor));
        assert_eq!((front.call_iv, front.put_iv), (Some(1.5664), Some(1.5615)));
        assert_eq!((back.call_iv, back.put_iv), (Some(1.4886), Some(1.5018)));
        assert!(close(front.iv, 1.56395, 1e-12));
        assert!(close(back.iv, 1.4952, 1e-12));
        let ev = event_variance(&front, &back).unwrap();
        assert!(!ev.negative_forward_variance);
        assert!(close(ev.ex_earnings_iv.unwrap(), 1.437_835, 1e-6), "{ev:?}");
        assert!(close(ev.event_move.unwrap(), 0.119_218, 1e-6), "{ev:?}");
    }

    proptest! {
        #[test]
        fn event_variance_never_gives_nan_or_negative(
            s1 in 0.0f64..6.0,
            s2 in 0.0f64..6.0,
            t1 in 0.0f64..100.0,
            dt in -5.0f64..100.0,
        ) {
            let front = point(date(7, 21), t1, t1, s1);
            let back = point(date(7, 28), t1 + dt, t1 + dt, s2);
            if let Ok(ev) = event_variance(&front, &back) {
                for x in [ev.event_move, ev.ex_earnings_iv].into_iter().flatten() {
                    prop_assert!(x.is_finite() && x >= 0.0, "{ev:?}");
                }
                prop_assert!(!(ev.negative_forward_variance && ev.event_move.is_some()));
            }
        }
    }
}

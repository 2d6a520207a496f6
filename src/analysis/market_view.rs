//! The market's own view of the event: does the option chain price an
//! earnings event at the expiration the calendar puts the report in, or
//! later? A check on the calendar, made before the scan trusts it.
//!
//! From the term structure's ATM IVs (annualised fractions) and trading
//! times (years, sessions / 252), with d = 1/252 one trading day
//! (domain.md §5; [`super::term::event_variance`]):
//!
//! - the normal variance rate `sx^2` is the forward variance between the
//!   calendar's expiration (T1) and the next (T2):
//!   `sx^2 = (s2^2 T2 - s1^2 T1) / (T2 - T1)`;
//! - the event day's variance is `E^2 = s1^2 T1 - sx^2 (T1 - d)`, and the
//!   **event days** `E^2 / (sx^2 d)` say how many normal days' variance the
//!   chain puts on the report's session (1 = an ordinary day; negative =
//!   the front holds less than a normal stretch of days);
//! - each later pair of expirations (Tj, Tj+1) carries, beyond the normal
//!   rate, `Ej^2 = (sj+1^2 Tj+1 - sj^2 Tj) - sx^2 (Tj+1 - Tj) + sx^2 d`: the
//!   event variance that pair would hold if the event were inside it.
//!
//! Two findings, each with a setting (`[analysis.market_view]`):
//! - **no event premium**: the event days at the calendar's expiration are
//!   below `min_event_days` (default 3.0);
//! - **premium later**: a later pair spanning at most
//!   `max_later_span_sessions` (default 10) holds at least `min_event_days`
//!   event days and more than `later_premium_ratio` (default 1.0) times the
//!   calendar expiration's event variance. A longer pair cannot tell an
//!   event from a rising term structure: 25 sessions at a forward IV of
//!   0.28 against sx = 0.25 hold 7.4 "event days". The pair (T1, T2) defines
//!   sx and is never a later pair: a report one expiration later than the
//!   calendar says shows as no event premium alone.
//!
//! The default `min_event_days` is measured on the recorded data
//! (docs/analysis.md, "The market's view of the report date"): the five
//! real chains without an event nearby price their first week at 0.68-2.87
//! event days; of 126 real reports (implied moves from EarningsWatcher,
//! https://earnings-watcher.com, CC BY 4.0) 124 are priced at 3.0 or more
//! (approximately; 2nd percentile 4.75). When the front holds at least the
//! next expiration's total variance (a forward variance that is negative or
//! zero), the premium is at the calendar's expiration and nothing is found.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::term::{self, AtmIv, TRADING_DAY_YEARS};

/// The market-view settings (`[analysis.market_view]`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MarketViewParams {
    /// Check the chain's view of the report date on every candidate with a
    /// term structure (default true).
    pub enabled: bool,
    /// The fewest normal days' variance an earnings session is expected to
    /// be priced at (default 3.0, 0.1 to 50): below it at the calendar's
    /// expiration, the chain prices no event there.
    pub min_event_days: f64,
    /// How many times the calendar expiration's event variance a later pair
    /// of expirations must hold to say the premium sits later (default 1.0,
    /// 1 to 100).
    pub later_premium_ratio: f64,
    /// The longest later pair, in trading sessions, that can locate a
    /// premium (default 10, 1 to 60).
    pub max_later_span_sessions: u32,
    /// How many expirations after the next one the scan fetches, for a
    /// candidate with no event premium at its expiration, so a later premium
    /// can be located to the week (default 2, 0 to 8; each is one more chain
    /// request for such a candidate).
    pub later_expirations: usize,
}

impl Default for MarketViewParams {
    fn default() -> Self {
        Self {
            enabled: true,
            min_event_days: 3.0,
            later_premium_ratio: 1.0,
            max_later_span_sessions: 10,
            later_expirations: 2,
        }
    }
}

/// A later pair of expirations and the event variance it holds beyond the
/// normal rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LaterPremium {
    /// The pair's first expiration (Tj).
    pub from: NaiveDate,
    /// The pair's second expiration (Tj+1).
    pub to: NaiveDate,
    /// Ej, the 1-sigma event move the pair holds if the report falls in
    /// it, fraction of the spot.
    pub event_move: f64,
    /// Ej^2 / (sx^2 d): the pair's event variance in normal days.
    pub event_days: f64,
}

/// What the check found against the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "finding", rename_all = "snake_case")]
pub enum MarketViewFinding {
    /// The calendar's expiration prices fewer event days than expected.
    NoEventPremium {
        /// The event days at the calendar's expiration.
        event_days: f64,
        /// `min_event_days`.
        min_event_days: f64,
    },
    /// A later pair of expirations holds more event variance.
    PremiumLater {
        /// The pair, its move and event days.
        later: LaterPremium,
    },
}

/// The chain's view of the event at the calendar's expiration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarketView {
    /// The calendar's event expiration (T1).
    pub expiration: NaiveDate,
    /// The next expiration (T2), the normal rate's far end.
    pub next: NaiveDate,
    /// sx, the normal (ex-earnings) IV between T1 and T2, annualised
    /// fraction; `None` when the forward variance is not positive.
    pub normal_iv: Option<f64>,
    /// E^2 / (sx^2 d) at the calendar's expiration; `None` when the forward
    /// variance is not positive (the front holds at least the next's total).
    pub event_days: Option<f64>,
    /// E at the calendar's expiration, fraction of the spot; `None` when
    /// E^2 < 0 or the forward variance is negative.
    pub event_move: Option<f64>,
    /// The later pair holding the most event variance, when a later pair
    /// holds more than one normal day's.
    pub largest_later: Option<LaterPremium>,
    /// The findings against the calendar; empty when the chain agrees.
    pub findings: Vec<MarketViewFinding>,
}

impl MarketView {
    /// Whether the calendar's expiration prices no event premium (the
    /// finding that makes the scan fetch the later expirations).
    pub fn no_event_premium(&self) -> bool {
        self.findings.iter().any(|f| matches!(f, MarketViewFinding::NoEventPremium { .. }))
    }

    /// One line for a candidate's warnings, or `None` when nothing was found.
    ///
    /// Example: `the chain prices the event session at 2023-07-21 like 1.7
    /// normal days (an earnings report is expected at 3.0 or more); a larger
    /// event premium sits between 2023-07-28 and 2023-08-04 (8.8 normal
    /// days, a 26.8% move if the report falls there): the report date or the
    /// expiration may be wrong, or the straddle does not price the report`.
    pub fn warning(&self) -> Option<String> {
        if self.findings.is_empty() {
            return None;
        }
        let parts: Vec<String> = self
            .findings
            .iter()
            .map(|f| match f {
                MarketViewFinding::NoEventPremium { event_days, min_event_days } if *event_days < 0.0 => {
                    format!(
                        "the chain prices no event premium at {} (less variance than normal days; an earnings report is expected at {min_event_days:.1} normal days or more)",
                        self.expiration
                    )
                }
                MarketViewFinding::NoEventPremium { event_days, min_event_days } => format!(
                    "the chain prices the event session at {} like {event_days:.1} normal days (an earnings report is expected at {min_event_days:.1} or more)",
                    self.expiration
                ),
                MarketViewFinding::PremiumLater { later } => format!(
                    "a larger event premium sits between {} and {} ({:.1} normal days, a {:.1}% move if the report falls there)",
                    later.from,
                    later.to,
                    later.event_days,
                    later.event_move * 100.0
                ),
            })
            .collect();
        Some(format!(
            "{}: the report date or the expiration may be wrong, or the straddle does not price the report",
            parts.join("; ")
        ))
    }
}

/// Why the check could not be made; the text is the reason the full
/// analysis lists (`market view: ...`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NoMarketView {
    /// The term structure has no ATM IV at the calendar's expiration.
    #[error("no ATM IV at the event's expiration {0}")]
    NoEventPoint(NaiveDate),
    /// The term structure has no expiration after the event's.
    #[error("needs the ATM IV of the expiration after {0}")]
    NoNextPoint(NaiveDate),
    /// The two expirations give no event variance.
    #[error("{0}")]
    EventVariance(#[from] term::NoEventVariance),
}

/// The chain's view of the event at `expiration`.
///
/// `points` are the term structure's ATM IVs (any order; those before
/// `expiration` are ignored). See the module docs for the formulas and
/// findings; `params.enabled` is the caller's to check.
///
/// Worked example (the real CVNA chain of 2023-07-18 07:51 ET, before the
/// open; the calendar puts the report before the open on 07-19, so the
/// event's expiration is 07-21): s1 = 1.56395, T1 = 4/252; the next, 07-28,
/// s2 = 1.4952, T2 = 9/252; sx^2 = 2.067, E^2 = 0.0142, event days 1.73
/// (below 3: no event premium); the pair 07-28 to 08-04 (s = 1.82255, T =
/// 14/252, 5 sessions) holds Ej^2 = 0.0719 (a 26.8% move, 8.8 days):
/// premium later. The pair 07-28 to 09-01 (25 sessions) is too long to say.
///
/// # Errors
/// [`NoMarketView`] without an ATM IV at `expiration` or after it, or when
/// [`term::event_variance`] refuses the pair.
pub fn market_view(
    points: &[AtmIv],
    expiration: NaiveDate,
    params: &MarketViewParams,
) -> Result<MarketView, NoMarketView> {
    let mut later: Vec<&AtmIv> = points.iter().filter(|p| p.expiration >= expiration).collect();
    later.sort_by_key(|p| p.expiration);
    let (event, rest) = match later.split_first() {
        Some((first, rest)) if first.expiration == expiration => (*first, rest),
        _ => return Err(NoMarketView::NoEventPoint(expiration)),
    };
    let next = *rest.first().ok_or(NoMarketView::NoNextPoint(expiration))?;
    let ev = term::event_variance(event, next)?;
    let normal_iv = ev.ex_earnings_iv.filter(|sx| *sx > 0.0);
    let rate = normal_iv.map_or(0.0, |sx| sx * sx);
    let normal_day = rate * TRADING_DAY_YEARS;
    let event_days = term::event_day_variance(event, rate) / normal_day;
    if normal_iv.is_none() || !event_days.is_finite() {
        // The front holds at least the next's total variance: the premium
        // is at the calendar's expiration.
        return Ok(MarketView {
            expiration,
            next: next.expiration,
            normal_iv: None,
            event_days: None,
            event_move: ev.event_move,
            largest_later: None,
            findings: Vec::new(),
        });
    };
    let max_span = f64::from(params.max_later_span_sessions) * TRADING_DAY_YEARS * (1.0 + 1e-9);
    let largest_later = rest
        .windows(2)
        .filter_map(|pair| {
            let [a, b] = pair else { return None };
            let span = b.years - a.years;
            if span < TRADING_DAY_YEARS * (1.0 - 1e-9) || span > max_span {
                return None;
            }
            let held = b.iv * b.iv * b.years - a.iv * a.iv * a.years;
            let variance = held - rate * span + normal_day;
            // More than one normal day, beyond rounding.
            let days = variance / normal_day;
            (days.is_finite() && days > 1.0 + 1e-9).then(|| LaterPremium {
                from: a.expiration,
                to: b.expiration,
                event_move: variance.sqrt(),
                event_days: days,
            })
        })
        .max_by(|x, y| x.event_days.total_cmp(&y.event_days));

    let mut findings = Vec::new();
    if event_days < params.min_event_days {
        findings
            .push(MarketViewFinding::NoEventPremium { event_days, min_event_days: params.min_event_days });
    }
    if let Some(l) = largest_later
        && l.event_days >= params.min_event_days
        && l.event_days > params.later_premium_ratio * event_days.max(0.0)
    {
        findings.push(MarketViewFinding::PremiumLater { later: l });
    }
    Ok(MarketView {
        expiration,
        next: next.expiration,
        normal_iv,
        event_days: Some(event_days),
        event_move: ev.event_move,
        largest_later,
        findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn point(day: u32, sessions: f64, iv: f64) -> AtmIv {
        let expiration = NaiveDate::from_ymd_opt(2023, 7, day).unwrap();
        AtmIv {
            expiration,
            calendar_days: f64::from(day) - 18.0,
            years: sessions / 252.0,
            strike: dec!(37),
            call_iv: Some(iv),
            put_iv: Some(iv),
            iv,
            source: term::IvSource::Vendor,
        }
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2023, 7, d).unwrap()
    }

    #[test]
    fn a_priced_front_with_a_flat_back_finds_nothing() {
        // s1 = 0.80 over 5 sessions, s2 = 0.50 over 25 (term.rs's worked
        // example): sx^2 = 0.1525, E^2 = 2.59/252, event days 2.59 / 0.1525
        // = 16.98; a third point at the normal rate adds no premium.
        let sx2 = 0.1525_f64;
        let v3 = 0.5_f64.powi(2) * 25.0 / 252.0 + sx2 * 10.0 / 252.0;
        let third_iv = (v3 / (35.0 / 252.0)).sqrt();
        let points = [point(21, 5.0, 0.80), point(28, 25.0, 0.50), point(31, 35.0, third_iv)];
        let view = market_view(&points, day(21), &MarketViewParams::default()).unwrap();
        let days = view.event_days.unwrap();
        assert!((days - 2.59 / 0.1525).abs() < 1e-9, "{days}");
        assert!(view.findings.is_empty(), "{:?}", view.findings);
        assert_eq!(view.warning(), None);
        // The later pair holds exactly one normal day: not a premium.
        assert_eq!(view.largest_later, None);
    }

    #[test]
    fn a_flat_term_structure_prices_one_normal_day_and_warns() {
        // Equal IVs: sx = s, E^2 = s^2 d, exactly one normal day.
        let points = [point(21, 5.0, 0.30), point(28, 10.0, 0.30)];
        let view = market_view(&points, day(21), &MarketViewParams::default()).unwrap();
        assert!((view.event_days.unwrap() - 1.0).abs() < 1e-9);
        assert!(matches!(view.findings.as_slice(), [MarketViewFinding::NoEventPremium { .. }]));
        let text = view.warning().unwrap();
        assert!(text.contains("like 1.0 normal days") && text.contains("2023-07-21"), "{text}");
    }

    #[test]
    fn a_later_bump_is_found_and_located() {
        // Flat at 0.30 to 07-28, then five sessions holding 10 extra normal
        // days of variance (an event of 11 normal days) by 07-31.
        let rate = 0.09_f64;
        let v3 = rate * 15.0 / 252.0 + 10.0 * rate / 252.0;
        let points =
            [point(21, 5.0, 0.30), point(28, 10.0, 0.30), point(31, 15.0, (v3 * 252.0 / 15.0).sqrt())];
        let view = market_view(&points, day(21), &MarketViewParams::default()).unwrap();
        let later = view.largest_later.unwrap();
        assert_eq!((later.from, later.to), (day(28), day(31)));
        assert!((later.event_days - 11.0).abs() < 1e-9, "{}", later.event_days);
        assert!(view.findings.iter().any(|f| matches!(f, MarketViewFinding::PremiumLater { .. })));
        // Raising the ratio above 11 / 1 keeps only the no-premium finding.
        let strict = MarketViewParams { later_premium_ratio: 12.0, ..MarketViewParams::default() };
        let view = market_view(&points, day(21), &strict).unwrap();
        assert!(matches!(view.findings.as_slice(), [MarketViewFinding::NoEventPremium { .. }]));
    }

    #[test]
    fn a_front_above_the_next_total_is_the_premium_itself() {
        let points = [point(21, 5.0, 1.50), point(28, 10.0, 0.50)];
        let view = market_view(&points, day(21), &MarketViewParams::default()).unwrap();
        assert_eq!((view.event_days, view.findings.len()), (None, 0));
    }

    #[test]
    fn a_pair_longer_than_the_span_locates_nothing() {
        // Flat at 0.30 to 07-28, then 25 sessions at a forward IV of 0.35:
        // (0.1225 - 0.09) x 25 / 0.09 + 1 = 10.03 "event days", a rising
        // term structure and not an event: ignored above 10 sessions.
        let v3: f64 = 0.09 * 10.0 / 252.0 + 0.1225 * 25.0 / 252.0;
        let points =
            [point(21, 5.0, 0.30), point(28, 10.0, 0.30), point(31, 35.0, (v3 * 252.0 / 35.0).sqrt())];
        let view = market_view(&points, day(21), &MarketViewParams::default()).unwrap();
        assert_eq!(view.largest_later, None);
        let wide = MarketViewParams { max_later_span_sessions: 25, ..MarketViewParams::default() };
        let later = market_view(&points, day(21), &wide).unwrap().largest_later.unwrap();
        assert!((later.event_days - ((0.1225 - 0.09) * 25.0 / 0.09 + 1.0)).abs() < 1e-9, "{later:?}");
    }

    #[test]
    fn missing_points_say_which() {
        let params = MarketViewParams::default();
        assert_eq!(
            market_view(&[point(28, 10.0, 0.3)], day(21), &params),
            Err(NoMarketView::NoEventPoint(day(21)))
        );
        assert_eq!(
            market_view(&[point(21, 5.0, 0.3)], day(21), &params),
            Err(NoMarketView::NoNextPoint(day(21)))
        );
        let text = market_view(&[point(21, 0.5, 0.3), point(28, 5.0, 0.3)], day(21), &params)
            .unwrap_err()
            .to_string();
        assert!(text.contains("trading day"), "{text}");
    }
}

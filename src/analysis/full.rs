//! The full analysis of one candidate: term structure and event move, skew,
//! liquidity, consistency, probability bounds and the explained score, from
//! the chain of the event's expiration (plus the next one and the first at
//! or beyond 45 days when fetched), the stored bars and the history window.
//!
//! Each part is computed by its module ([`super::term`], [`super::skew`],
//! [`super::liquidity`], [`super::consistency`], [`super::bounds`],
//! [`super::score`]); this module only chooses the inputs and says in
//! `missing` which parts could not be computed and why. Definitions:
//! `docs/analysis.md` and `../shared/docs/domain.md` §3-6.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::America::New_York;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use super::bounds::{self, ProbabilityBounds};
use super::consistency::{self, MoveTrend, RealizedVol};
use super::liquidity::{self, Liquidity};
use super::market_view::{self, MarketView};
use super::score::{self, Score, ScoreInputs};
use super::skew::{self, SkewFit};
use super::term::{self, AtmIv, EventVariance, ExpiryTime, RateAssumptions, TermSlope};
use super::{AnalysisParams, HistoryWindow};
use crate::calendar::NyseCalendar;
use crate::domain::{ChainSnapshot, DailyBar};

/// The term-structure settings (`[analysis.term]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TermParams {
    /// Fetch the expirations the term structure needs besides the event's:
    /// the next one (event move) and the first at or beyond `slope_days`
    /// (slope, IV30); for a candidate without an event premium, the market
    /// view's later ones too (`[analysis.market_view] later_expirations`).
    /// Default true; false keeps one chain request per ticker.
    pub fetch_term_expirations: bool,
    /// The far end of the slope, calendar days (default 45).
    pub slope_days: f64,
    /// The IV compared with realized volatility, calendar days (default 30).
    pub iv_days: f64,
    /// Black-Scholes assumptions for IVs implied from mids.
    pub rates: RateAssumptions,
}

impl Default for TermParams {
    fn default() -> Self {
        Self {
            fetch_term_expirations: true,
            slope_days: 45.0,
            iv_days: 30.0,
            rates: RateAssumptions::default(),
        }
    }
}

/// ATM IVs by expiration, the event move and the slope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermStructure {
    /// ATM IV of every expiration analysed, ascending by expiration.
    pub points: Vec<AtmIv>,
    /// The event move E and the ex-earnings IV from the event's expiration and the next one.
    pub event: Option<EventVariance>,
    /// Slope from the first expiration to `slope_days`.
    pub slope: Option<TermSlope>,
    /// ATM IV at `iv_days` calendar days (interpolated), annualised fraction.
    pub iv30: Option<f64>,
}

/// How steady the past moves are, beyond the MAD of the history window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Consistency {
    /// Exponentially weighted mean of |gap moves|, fraction.
    pub ewma_move: Option<f64>,
    /// The half-life used, events.
    pub half_life_events: f64,
    /// implied move / EWMA move.
    pub vrp_ewma: Option<f64>,
    /// The trend of |gap moves| over the window.
    pub trend: Option<MoveTrend>,
    /// max / mean |gap move| (also on the candidate).
    pub tail_risk_ratio: Option<f64>,
    /// Yang-Zhang realized volatility over the last sessions before the scan.
    pub rv30: Option<RealizedVol>,
    /// IV30 / RV30.
    pub iv30_rv30: Option<f64>,
    /// Past events left out of the window because their timing is suspect (report dates).
    pub excluded_events: Vec<NaiveDate>,
}

/// Everything the full analysis computed for one candidate. Fractions are
/// fractions (0.1296 = 12.96%), IVs annualised fractions, prices USD.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// The Black-Scholes assumptions behind any IV implied from mids.
    pub rates: RateAssumptions,
    /// Term structure; `None` when no expiration gave an ATM IV.
    pub term: Option<TermStructure>,
    /// The chain's view of the event at the event's expiration
    /// (`[analysis.market_view]`); `None` when disabled or not computable
    /// (the reason is in `missing`), and in analyses stored before it existed.
    #[serde(default)]
    pub market_view: Option<MarketView>,
    /// The smile of the event's expiration.
    pub skew: Option<SkewFit>,
    /// The straddle legs' liquidity and the underlying's volume.
    pub liquidity: Option<Liquidity>,
    /// Consistency figures.
    pub consistency: Consistency,
    /// 1- and 2-sigma ranges and the historical share beyond the implied move.
    pub bounds: Option<ProbabilityBounds>,
    /// The composite score with its components; `None` without a VRP.
    pub score: Option<Score>,
    /// What could not be computed, with why (e.g. `skew: 3 put points, need 5`).
    pub missing: Vec<String>,
}

/// The inputs of [`analyse`].
#[derive(Debug, Clone, Copy)]
pub struct AnalysisInputs<'a> {
    /// The fetched chain, of any expirations: each figure of one expiration
    /// reads that expiration's contracts alone ([`ChainSnapshot::expiration`]);
    /// its `as_of` (UTC) times the expirations.
    pub snapshot: &'a ChainSnapshot,
    /// The event's expiration (the first on or after the reaction session).
    pub expiration: NaiveDate,
    /// The spot S, USD.
    pub spot: Decimal,
    /// The implied move of the event's expiration, fraction.
    pub implied_move: Option<f64>,
    /// The ATM strike whose straddle is assessed for liquidity.
    pub atm_strike: Option<Decimal>,
    /// The history window the VRP uses.
    pub history: &'a HistoryWindow,
    /// Daily bars up to the as-of session, ascending (for RV and ADV).
    pub bars: &'a [DailyBar],
}

/// The time from `as_of` to an expiration's close: calendar days between the
/// ET dates, and trading time in years = (the rest of today's session, as a
/// fraction of the session, + every later session up to and including the
/// expiration) / 252.
pub fn expiry_time(calendar: &NyseCalendar, as_of: DateTime<Utc>, expiration: NaiveDate) -> ExpiryTime {
    let local = as_of.with_timezone(&New_York);
    let today = local.date_naive();
    let mut sessions = 0.0;
    for session in calendar.sessions_between(today, expiration) {
        if session.date == today {
            let length = (session.close - session.open).num_seconds() as f64;
            let left = (session.close - local.max(session.open)).num_seconds() as f64;
            if length > 0.0 {
                sessions += (left / length).clamp(0.0, 1.0);
            }
        } else {
            sessions += 1.0;
        }
    }
    ExpiryTime {
        expiration,
        calendar_days: (expiration - today).num_days() as f64,
        years: sessions * term::TRADING_DAY_YEARS,
    }
}

/// The expirations the term structure needs besides the event's: the next
/// one after it, the `later` ones after that (the market view locates a
/// later event premium between them, `[analysis.market_view]`), and the
/// first at least `slope_days` calendar days after `today`; ascending,
/// without the event's own.
///
/// Example (CVNA's weekly expirations of 2023-07-18, event 07-21, later 2):
/// 07-28, 08-04, 08-11 and 09-01.
pub fn term_expirations(
    expirations: &[NaiveDate],
    event_expiration: NaiveDate,
    today: NaiveDate,
    slope_days: f64,
    later: usize,
) -> Vec<NaiveDate> {
    let mut sorted: Vec<NaiveDate> = expirations.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut wanted: Vec<NaiveDate> =
        sorted.iter().filter(|e| **e > event_expiration).take(later.saturating_add(1)).copied().collect();
    if let Some(far) = sorted.iter().find(|e| (**e - today).num_days() as f64 >= slope_days)
        && *far != event_expiration
        && !wanted.contains(far)
    {
        wanted.push(*far);
    }
    wanted.sort_unstable();
    wanted
}

/// Runs every part of the analysis. Never fails: a part that cannot be
/// computed is `None` with its reason in [`Analysis::missing`].
pub fn analyse(inputs: &AnalysisInputs<'_>, calendar: &NyseCalendar, params: &AnalysisParams) -> Analysis {
    let mut missing = Vec::new();
    let rates = params.term.rates;
    let spot_f = inputs.spot.to_f64().unwrap_or(f64::NAN);

    let as_of = inputs.snapshot.as_of;
    let event_chain = inputs.snapshot.expiration(inputs.expiration);
    // The event's expiration time serves its ATM IV and the skew fit.
    let event_time = expiry_time(calendar, as_of, inputs.expiration);
    // Term structure over the expirations present from the event's on, one
    // expiration's contracts at a time.
    let mut points = Vec::new();
    for chain in inputs.snapshot.by_expiration() {
        let expiration = chain.expiration();
        if expiration < inputs.expiration {
            continue;
        }
        let time = if expiration == inputs.expiration {
            event_time
        } else {
            expiry_time(calendar, as_of, expiration)
        };
        match term::atm_iv(&chain, time, inputs.spot, &rates) {
            Ok(point) => points.push(point),
            Err(reason) => missing.push(format!("ATM IV {expiration}: {reason}")),
        }
    }
    let term = if points.is_empty() {
        None
    } else {
        let event = match points.as_slice() {
            [front, back, ..] if front.expiration == inputs.expiration => {
                match term::event_variance(front, back) {
                    Ok(e) => Some(e),
                    Err(reason) => {
                        missing.push(format!("event move: {reason}"));
                        None
                    }
                }
            }
            _ => {
                missing
                    .push("event move: needs the ATM IVs of the event's expiration and the next".to_owned());
                None
            }
        };
        match &event {
            Some(e) if e.negative_forward_variance => {
                missing
                    .push("event move: negative forward variance between the event's expirations".to_owned());
            }
            Some(e) if e.event_move.is_none() => {
                missing.push("event move: E^2 < 0, the front expiration prices no event premium".to_owned());
            }
            _ => {}
        }
        let slope = term::term_slope(&points, params.term.slope_days);
        if slope.is_none() {
            missing.push(format!("term slope: no ATM IVs bracketing {} days", params.term.slope_days));
        }
        let iv30 = term::iv_at_days(&points, params.term.iv_days);
        Some(TermStructure { points, event, slope, iv30 })
    };

    let market_view = match (&term, params.market_view.enabled) {
        (Some(t), true) => {
            match market_view::market_view(&t.points, inputs.expiration, &params.market_view) {
                Ok(view) => Some(view),
                Err(reason) => {
                    missing.push(format!("market view: {reason}"));
                    None
                }
            }
        }
        _ => None,
    };

    // Skew of the event's expiration.
    let skew = match skew::fit_skew(&event_chain, event_time, inputs.spot, &rates, &params.skew) {
        Ok(fit) => Some(fit),
        Err(reason) => {
            missing.push(format!("skew: {reason}"));
            None
        }
    };

    let liquidity = inputs
        .atm_strike
        .map(|strike| liquidity::assess(&event_chain, strike, inputs.bars, &params.liquidity));

    // Consistency.
    let gaps: Vec<f64> = inputs.history.moves.iter().map(|m| m.gap_move).collect();
    let ewma_move = consistency::ewma_abs_move(&gaps, params.consistency.half_life_events);
    let trend = consistency::move_trend(&gaps, params.consistency.trend_growth_warning);
    let rv30 = consistency::yang_zhang(inputs.bars, params.consistency.rv_sessions);
    if rv30.is_none() {
        missing.push(format!("RV30: fewer than {} stored daily bars", params.consistency.rv_sessions + 1));
    }
    let iv30 = term.as_ref().and_then(|t| t.iv30);
    let consistency = Consistency {
        ewma_move,
        half_life_events: params.consistency.half_life_events,
        vrp_ewma: inputs.implied_move.zip(ewma_move.filter(|e| *e > 0.0)).map(|(m, e)| m / e),
        trend: trend.clone(),
        tail_risk_ratio: inputs.history.stats.as_ref().map(|s| s.tail_risk_ratio),
        iv30_rv30: iv30.zip(rv30.as_ref().map(|r| r.value).filter(|v| *v > 0.0)).map(|(iv, rv)| iv / rv),
        rv30,
        excluded_events: inputs.history.excluded.clone(),
    };

    let event_move = term.as_ref().and_then(|t| t.event.as_ref()).and_then(|e| e.event_move);
    let bounds = spot_f.is_finite().then(|| bounds::bounds(spot_f, inputs.implied_move, event_move, &gaps));

    let stats = inputs.history.stats.as_ref().filter(|_| inputs.history.moves.len() >= params.min_events);
    let score = match (inputs.implied_move, stats) {
        (Some(implied_move), Some(stats)) => score::score(
            &ScoreInputs {
                implied_move,
                mean_move: stats.mean,
                ewma_move,
                relative_mad: stats.relative_mad,
                moves_growing: trend.as_ref().is_some_and(|t| t.growing),
                liquidity: liquidity.as_ref().map(|l| l.verdict),
                term_slope: term.as_ref().and_then(|t| t.slope.as_ref()).map(|s| s.per_day),
                negative_forward_variance: term
                    .as_ref()
                    .and_then(|t| t.event.as_ref())
                    .is_some_and(|e| e.negative_forward_variance),
            },
            &params.score,
        ),
        _ => None,
    };

    Analysis { rates, term, market_view, skew, liquidity, consistency, bounds, score, missing }
}

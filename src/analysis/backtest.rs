//! Judging VRP and the tiers on history: for past events, the implied move at
//! the close before the event (from an end-of-day chain) against the gap
//! that followed. The job (`jobs::backtest`) fetches and stores; this module
//! summarises.
//!
//! Per tier (the VRP tier the event would have had at that close, with the
//! history window before it):
//! - mean implied move and mean |realized gap|, fractions;
//! - mean |realized| / implied, the ratio a seller wants below 1;
//! - the share of events whose |realized gap| exceeded the implied move.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use super::vrp::Tier;
use crate::domain::{Ticker, Timing};

/// One past event as the backtest judged it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BacktestEvent {
    /// The reporting company.
    pub ticker: Ticker,
    /// The report date (ET).
    pub report_date: NaiveDate,
    /// BMO or AMC.
    pub timing: Timing,
    /// The reference session, whose end-of-day chain is read (ET).
    pub chain_date: NaiveDate,
    /// The first session that traded on the news (ET).
    pub reaction_session: NaiveDate,
    /// The first expiration on or after the reaction session, in that chain.
    pub expiration: Option<NaiveDate>,
    /// The reference close, USD: the spot of an end-of-day chain.
    pub spot: Option<Decimal>,
    /// The ATM straddle from the chain's bid/ask mids, USD per share.
    pub straddle: Option<Decimal>,
    /// straddle / spot, fraction.
    pub implied_move: Option<f64>,
    /// Mean |gap| of the history window before the event, fraction.
    pub historical_mean_move: Option<f64>,
    /// Events in that window.
    pub n_events: usize,
    /// implied move / historical mean move.
    pub vrp: Option<f64>,
    /// The tier of that VRP.
    pub tier: Option<Tier>,
    /// The event's own gap move (signed fraction), when measured.
    pub realized_gap: Option<f64>,
    /// Whether |realized gap| > implied move.
    pub beyond_implied: Option<bool>,
    /// Why the event could not be judged.
    pub reason: Option<String>,
}

/// The figures of one tier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierSummary {
    /// The tier.
    pub tier: Tier,
    /// Events judged in it.
    pub events: usize,
    /// Mean implied move, fraction.
    pub mean_implied_move: f64,
    /// Mean |realized gap|, fraction.
    pub mean_abs_realized_move: f64,
    /// Mean of |realized| / implied per event.
    pub mean_realized_to_implied: f64,
    /// Share of events with |realized| > implied, 0..1.
    pub share_beyond_implied: f64,
}

/// Summarises the judged events (those with a tier, an implied move and a
/// realized gap) by tier, best tier first; tiers without events are left out.
///
/// Worked example: two good events, implied 0.10 and 0.20, realized -0.05
/// and +0.30: mean implied 0.15, mean |realized| 0.175, ratios 0.5 and 1.5
/// (mean 1.0), share beyond 0.5.
pub fn summarise(events: &[BacktestEvent]) -> Vec<TierSummary> {
    let mut out = Vec::new();
    for tier in [Tier::Excellent, Tier::Good, Tier::Marginal, Tier::Skip] {
        let judged: Vec<(f64, f64)> = events
            .iter()
            .filter(|e| e.tier == Some(tier))
            .filter_map(|e| Some((e.implied_move?, e.realized_gap?.abs())))
            .filter(|(implied, _)| *implied > 0.0)
            .collect();
        if judged.is_empty() {
            continue;
        }
        let n = judged.len() as f64;
        out.push(TierSummary {
            tier,
            events: judged.len(),
            mean_implied_move: judged.iter().map(|j| j.0).sum::<f64>() / n,
            mean_abs_realized_move: judged.iter().map(|j| j.1).sum::<f64>() / n,
            mean_realized_to_implied: judged.iter().map(|j| j.1 / j.0).sum::<f64>() / n,
            share_beyond_implied: judged.iter().filter(|j| j.1 > j.0).count() as f64 / n,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(tier: Option<Tier>, implied: Option<f64>, realized: Option<f64>) -> BacktestEvent {
        let d = NaiveDate::from_ymd_opt(2025, 10, 22).unwrap();
        BacktestEvent {
            ticker: Ticker::new("IBM").unwrap(),
            report_date: d,
            timing: Timing::Amc,
            chain_date: d,
            reaction_session: d,
            expiration: None,
            spot: None,
            straddle: None,
            implied_move: implied,
            historical_mean_move: None,
            n_events: 0,
            vrp: None,
            tier,
            realized_gap: realized,
            beyond_implied: None,
            reason: None,
        }
    }

    #[test]
    fn worked_example_from_the_docs() {
        let events = [
            event(Some(Tier::Good), Some(0.10), Some(-0.05)),
            event(Some(Tier::Good), Some(0.20), Some(0.30)),
            event(None, None, Some(0.4)), // no chain: not judged
        ];
        let s = summarise(&events);
        assert_eq!(s.len(), 1);
        let g = &s[0];
        assert_eq!((g.tier, g.events), (Tier::Good, 2));
        assert!((g.mean_implied_move - 0.15).abs() < 1e-12);
        assert!((g.mean_abs_realized_move - 0.175).abs() < 1e-12);
        assert!((g.mean_realized_to_implied - 1.0).abs() < 1e-12);
        assert!((g.share_beyond_implied - 0.5).abs() < 1e-12);
    }

    #[test]
    fn nothing_judged_gives_no_tiers() {
        assert!(summarise(&[event(Some(Tier::Excellent), None, Some(0.1))]).is_empty());
    }
}

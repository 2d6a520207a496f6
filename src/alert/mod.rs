//! Alerts: the report pushed after each scan, its renderings (plain text,
//! HTML email, Slack Block Kit, Discord, the generic JSON webhook), the
//! channels that carry it, and the outbox worker that delivers it.
//!
//! A report is always built from stored rows ([`load`]): the scan and its
//! candidates (`scans`, `candidates`) and the quotes of each straddle's legs
//! (`option_quotes`), so what arrives is what the database holds. The outbox
//! rows are written in the scan's own transaction (see
//! [`crate::store::Db::enqueue_scan_alert`]); [`outbox`] sends them.

use rust_decimal::Decimal;

use self::config::AlertsConfig;
use crate::analysis::vrp::Tier;
use crate::report::{Candidate, ScanReport};
use crate::store::{LegQuote, Store, StoreError};

pub mod channels;
pub mod config;
pub mod date_change;
pub mod outbox;
pub mod render;
pub mod review;
pub mod views;

/// The liquidity of a setup's straddle, from the stored quotes of its legs.
///
/// Source: domain.md, "Liquidity": open interest and volume at the
/// straddle's strikes, and the bid/ask spread as a fraction of mid.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Liquidity {
    /// The straddle's bid/ask spread as a fraction of its mid,
    /// `(call ask + put ask - call bid - put bid) / mid`, at the widest of
    /// the strikes used (one, or the two bracketing the spot). `None` when a
    /// leg lacks a two-sided quote.
    pub spread: Option<f64>,
    /// The smallest open interest among the legs, contracts.
    pub min_open_interest: Option<u64>,
    /// The smallest day's volume among the legs, contracts.
    pub min_volume: Option<u64>,
}

impl Liquidity {
    /// Computes the figures from the legs' quotes (calls and puts at each strike used).
    pub fn from_legs(legs: &[LegQuote]) -> Self {
        let mut strikes: Vec<Decimal> = legs.iter().map(|l| l.strike).collect();
        strikes.dedup();
        let mut spread: Option<f64> = None;
        let mut complete = !strikes.is_empty();
        for strike in &strikes {
            let at: Vec<&LegQuote> = legs.iter().filter(|l| l.strike == *strike).collect();
            let two_sided = at.len() == 2 && at.iter().all(|l| l.bid.is_some() && l.ask.is_some());
            if !two_sided {
                complete = false;
                continue;
            }
            let bid: Decimal = at.iter().filter_map(|l| l.bid).sum();
            let ask: Decimal = at.iter().filter_map(|l| l.ask).sum();
            let mid = (bid + ask) / Decimal::TWO;
            if mid <= Decimal::ZERO {
                complete = false;
                continue;
            }
            let s = f64::try_from((ask - bid) / mid).ok();
            spread = match (spread, s) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
        Self {
            spread: if complete { spread } else { None },
            min_open_interest: min_all(legs.iter().map(|l| l.open_interest)),
            min_volume: min_all(legs.iter().map(|l| l.volume)),
        }
    }
}

/// The minimum when every value is known (a leg without a figure makes the minimum unknown).
fn min_all(values: impl Iterator<Item = Option<u64>>) -> Option<u64> {
    let values: Option<Vec<u64>> = values.collect();
    values.and_then(|v| v.into_iter().min())
}

/// One setup in an alert: a ranked candidate at or above the minimum tier.
#[derive(Debug, Clone, PartialEq)]
pub struct Setup {
    /// The stored candidate.
    pub candidate: Candidate,
    /// Its straddle's liquidity.
    pub liquidity: Liquidity,
}

/// A scan's alert: the stored scan cut to what the user asked to see.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertReport {
    /// The stored scan, whole (the generic webhook sends it as is).
    pub scan: ScanReport,
    /// Ranked candidates at or above `min_tier`, best first, at most `top_n`.
    pub setups: Vec<Setup>,
    /// Ranked candidates not listed as setups: below `min_tier` or beyond `top_n`.
    pub below_cut: Vec<Candidate>,
    /// Candidates without figures, with their reasons.
    pub skipped: Vec<Candidate>,
    /// The lowest tier listed.
    pub min_tier: Tier,
    /// The most setups listed.
    pub top_n: usize,
}

impl AlertReport {
    /// Cuts a stored scan to the alert: setups at or above `config.min_tier`
    /// (at most `config.top_n`), the rest of the ranked ones, the skipped.
    /// `legs` gives the stored straddle quotes of a candidate.
    pub fn new(scan: ScanReport, config: &AlertsConfig, legs: &dyn Fn(&Candidate) -> Vec<LegQuote>) -> Self {
        let mut setups = Vec::new();
        let mut below_cut = Vec::new();
        let mut skipped = Vec::new();
        for c in &scan.candidates {
            match (c.rank, c.tier) {
                _ if c.makes_the_cut(config.min_tier) && setups.len() < config.top_n => {
                    setups.push(Setup { liquidity: Liquidity::from_legs(&legs(c)), candidate: c.clone() });
                }
                (Some(_), _) => below_cut.push(c.clone()),
                (None, _) => skipped.push(c.clone()),
            }
        }
        Self { scan, setups, below_cut, skipped, min_tier: config.min_tier, top_n: config.top_n }
    }

    /// The subject line, e.g. `ivcd: 3 setups for Tue 2025-11-25 (AMC) and Wed 2025-11-26 (BMO)`.
    pub fn subject(&self) -> String {
        let count = match self.setups.len() {
            0 => "no setups".to_owned(),
            1 => "1 setup".to_owned(),
            n => format!("{n} setups"),
        };
        format!(
            "ivcd: {count} for {} (AMC) and {} (BMO)",
            crate::present::format::day(self.scan.session_date),
            crate::present::format::day(self.scan.next_session)
        )
    }

    /// The oldest chain among the setups, seconds at the scan.
    pub fn oldest_chain_age(&self) -> Option<i64> {
        self.setups.iter().filter_map(|s| s.candidate.chain_age_seconds).max()
    }
}

/// Why an alert cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    /// Reading the stored scan failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The scan the alert reports is no longer stored (replaced by a re-run of its slot).
    #[error("the scan this alert reports was replaced by a re-run of its slot")]
    ScanGone,
    /// A template failed to render (a bug).
    #[error("cannot render the alert: {0}")]
    Render(RenderError),
}

/// Why a stored report could not be rendered (a bug, or a delivery row
/// whose report key ivcd did not write).
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// An askama template failed.
    #[error("{0}")]
    Template(askama::Error),
    /// The JSON body failed.
    #[error("{0}")]
    Json(serde_json::Error),
    /// A review delivery's report key names no review slot.
    #[error("unreadable report key {0:?}")]
    ReportKey(String),
}

/// Builds the alert of stored scan `scan_id` from the database.
///
/// # Errors
/// [`AlertError::Store`] when the scan or its quotes cannot be read.
pub async fn load(store: &Store, scan_id: i64, config: &AlertsConfig) -> Result<AlertReport, AlertError> {
    let config = config.clone();
    let report = store
        .run(move |db| {
            let scan = db.scan_report(scan_id)?;
            let mut legs = std::collections::HashMap::new();
            for c in &scan.candidates {
                if let (Some(id), Some(exp)) = (c.chain_snapshot_id, c.expiration) {
                    let strikes: Vec<Decimal> =
                        [c.lower_strike, c.upper_strike].into_iter().flatten().collect();
                    legs.insert(c.ticker.as_str().to_owned(), db.straddle_legs(id, exp, &strikes)?);
                }
            }
            Ok(AlertReport::new(scan, &config, &|c: &Candidate| {
                legs.get(c.ticker.as_str()).cloned().unwrap_or_default()
            }))
        })
        .await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn leg(strike: Decimal, right: &str, bid: Decimal, ask: Decimal, oi: u64) -> LegQuote {
        LegQuote {
            strike,
            right: crate::domain::OptionRight::from_code(right).unwrap(),
            bid: Some(bid),
            ask: Some(ask),
            open_interest: Some(oi),
            volume: Some(oi / 10),
        }
    }

    #[test]
    fn liquidity_takes_the_widest_spread_and_the_thinnest_leg() {
        // Two strikes: 36 (spread 0.2 on a 4.0 mid = 5%) and 37 (0.4 on 4.0 = 10%).
        let legs = [
            leg(dec!(36), "call", dec!(2.4), dec!(2.5), 900),
            leg(dec!(36), "put", dec!(1.5), dec!(1.6), 300),
            leg(dec!(37), "call", dec!(1.8), dec!(2.0), 500),
            leg(dec!(37), "put", dec!(2.0), dec!(2.2), 700),
        ];
        let l = Liquidity::from_legs(&legs);
        assert!((l.spread.unwrap() - 0.1).abs() < 1e-12, "{:?}", l.spread);
        assert_eq!(l.min_open_interest, Some(300));
        assert_eq!(l.min_volume, Some(30));
    }

    #[test]
    fn a_one_sided_leg_leaves_the_spread_unknown() {
        let mut put = leg(dec!(36), "put", dec!(1.5), dec!(1.6), 300);
        put.bid = None;
        let l = Liquidity::from_legs(&[leg(dec!(36), "call", dec!(2.4), dec!(2.5), 900), put]);
        assert_eq!(l.spread, None);
        assert_eq!(Liquidity::from_legs(&[]), Liquidity::default());
    }
}

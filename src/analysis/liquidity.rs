//! Whether the straddle can be traded at a sane price: the bid/ask spread,
//! open interest and volume of its two legs, and the underlying's average
//! daily volume.
//!
//! Source: `../shared/docs/domain.md` §6 ("a setup that cannot be entered at
//! a sane spread is not an alert, however good its VRP") and §3 (a quote with
//! bid <= 0, ask <= 0 or ask < bid is unusable; mid = (bid + ask) / 2).
//! The spread is measured as a fraction of the mid, (ask - bid) / mid, the
//! usual "percent spread" of option screeners. The default thresholds are
//! ivcd's own settings, of the order of the usual retail screens for selling
//! premium (open interest in the hundreds per strike, an underlying trading
//! about a million shares a day, a spread within about a tenth of the price);
//! they are settings, not facts, so each reason names the figure and the
//! threshold it crossed.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::domain::{DailyBar, ExpirationChain, OptionRight};

/// Liquidity thresholds (the `[analysis.liquidity]` configuration section).
///
/// A spread warns or rejects when it is strictly *above* its threshold; open
/// interest, volume and average daily volume when strictly *below* theirs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LiquidityParams {
    /// Spread as a fraction of mid above which a leg warns (default 0.10 = 10%).
    pub spread_warn: f64,
    /// Spread as a fraction of mid above which a leg rejects (default 0.25 = 25%).
    pub spread_reject: f64,
    /// Open interest per leg, contracts, below which a leg warns (default 500).
    pub open_interest_warn: u64,
    /// Open interest per leg, contracts, below which a leg rejects (default 100).
    pub open_interest_reject: u64,
    /// Session volume per leg, contracts, below which a leg warns (default
    /// 100). Volume never rejects: a chain taken before the open shows the
    /// previous session's volume, or none.
    pub volume_warn: u64,
    /// Underlying's average daily volume, shares, below which the setup warns
    /// (default 1,000,000).
    pub avg_daily_volume_warn: f64,
    /// Underlying's average daily volume, shares, below which the setup
    /// rejects (default 200,000).
    pub avg_daily_volume_reject: f64,
    /// Sessions averaged for the daily volume (default 20, about a month).
    pub adv_sessions: usize,
}

impl Default for LiquidityParams {
    fn default() -> Self {
        Self {
            spread_warn: 0.10,
            spread_reject: 0.25,
            open_interest_warn: 500,
            open_interest_reject: 100,
            volume_warn: 100,
            avg_daily_volume_warn: 1_000_000.0,
            avg_daily_volume_reject: 200_000.0,
            adv_sessions: 20,
        }
    }
}

/// The outcome of the liquidity checks, from best to worst (`Pass < Warn <
/// Reject`, so the verdict of several checks is their maximum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LiquidityVerdict {
    /// Every threshold met.
    Pass,
    /// Tradeable with care, or a figure is unknown.
    Warn,
    /// Not tradeable at a sane price: not an alert.
    Reject,
}

impl LiquidityVerdict {
    /// The stored and printed code: `pass`, `warn`, `reject`.
    pub fn code(self) -> &'static str {
        match self {
            LiquidityVerdict::Pass => "pass",
            LiquidityVerdict::Warn => "warn",
            LiquidityVerdict::Reject => "reject",
        }
    }
}

/// One leg of the straddle as quoted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LegLiquidity {
    /// Call or put.
    pub right: OptionRight,
    /// Strike, USD.
    pub strike: Decimal,
    /// Best bid, USD per share, as the source gave it.
    pub bid: Option<Decimal>,
    /// Best ask, USD per share, as the source gave it.
    pub ask: Option<Decimal>,
    /// (ask - bid) / mid, a fraction (0.032 = 3.2%); `None` when the quote
    /// has no usable mid.
    pub spread_fraction: Option<f64>,
    /// Open interest, contracts, when the source gives it.
    pub open_interest: Option<u64>,
    /// Session volume, contracts, when the source gives it.
    pub volume: Option<u64>,
}

/// The liquidity of a straddle and its underlying.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Liquidity {
    /// The straddle's expiration.
    pub expiration: NaiveDate,
    /// The straddle's strike, USD.
    pub strike: Decimal,
    /// The call leg; `None` when the chain does not list it.
    pub call: Option<LegLiquidity>,
    /// The put leg; `None` when the chain does not list it.
    pub put: Option<LegLiquidity>,
    /// The underlying's mean daily volume, shares, over the last
    /// `adv_sessions` bars that have a volume; `None` when no bar has one.
    pub avg_daily_volume: Option<f64>,
    /// Bars actually averaged (fewer than the setting when the history is short).
    pub adv_sessions: usize,
    /// The worst of the checks.
    pub verdict: LiquidityVerdict,
    /// Each threshold crossed or figure missing, in words with the figures,
    /// calls first, then puts, then the underlying. Empty on a pass.
    pub reasons: Vec<String>,
}

/// Assesses the straddle at `strike` in one expiration's `chain` and the
/// underlying's average daily volume.
///
/// - Legs: the contract of `chain` with that strike and right (the first one
///   when a chain lists it twice); other expirations' contracts never count. A leg that is not listed,
///   or whose quote has no usable mid (bid <= 0, ask <= 0, ask < bid or a
///   side missing), rejects. Otherwise its spread (ask - bid) / mid warns
///   above `spread_warn` and rejects above `spread_reject`. Open interest
///   rejects below `open_interest_reject` and warns below
///   `open_interest_warn`; volume warns below `volume_warn`. Open interest or
///   volume the source did not give warns as "unknown": it is never read as 0.
/// - Underlying: the mean volume, shares, of the last `adv_sessions` of
///   `bars` (ascending by date) that carry a volume. The caller passes the
///   sessions that had closed when the chain was quoted. No bar with a volume
///   warns as "unknown"; below `avg_daily_volume_reject` rejects, below
///   `avg_daily_volume_warn` warns.
///
/// The verdict is the worst of all checks.
///
/// Worked example (CVNA, Cboe chain of 2023-07-18 07:51 ET, 2023-07-21 37
/// straddle): call bid 2.13 ask 2.20, spread 0.07 / 2.165 = 3.23%, open
/// interest 2,445, volume 4,083; put bid 2.57 ask 2.70, spread 0.13 / 2.635 =
/// 4.93%, open interest 1,066, volume 1,342; 20-session average volume
/// 28,213,335 shares: every check passes. At the 40.5 strike the call's open
/// interest 159 warns (below 500) and the put's 17 rejects (below 100), its
/// volume 26 warns: the verdict is reject.
pub fn assess(
    chain: &ExpirationChain<'_>,
    strike: Decimal,
    bars: &[DailyBar],
    params: &LiquidityParams,
) -> Liquidity {
    let expiration = chain.expiration();
    let mut checks = Checks { verdict: LiquidityVerdict::Pass, reasons: Vec::new() };
    let call = assess_leg(chain, strike, OptionRight::Call, params, &mut checks);
    let put = assess_leg(chain, strike, OptionRight::Put, params, &mut checks);

    let volumes: Vec<u64> = bars.iter().filter_map(|b| b.volume).collect();
    let used = &volumes[volumes.len().saturating_sub(params.adv_sessions)..];
    let avg_daily_volume =
        (!used.is_empty()).then(|| used.iter().map(|v| *v as f64).sum::<f64>() / used.len() as f64);
    match avg_daily_volume {
        None => checks.flag(
            LiquidityVerdict::Warn,
            "underlying average daily volume unknown (no bar with a volume)".to_owned(),
        ),
        Some(adv) if adv < params.avg_daily_volume_reject => checks.flag(
            LiquidityVerdict::Reject,
            format!(
                "underlying average daily volume {adv:.0} shares over {} sessions, below {:.0} (reject)",
                used.len(),
                params.avg_daily_volume_reject
            ),
        ),
        Some(adv) if adv < params.avg_daily_volume_warn => checks.flag(
            LiquidityVerdict::Warn,
            format!(
                "underlying average daily volume {adv:.0} shares over {} sessions, below {:.0}",
                used.len(),
                params.avg_daily_volume_warn
            ),
        ),
        Some(_) => {}
    }

    Liquidity {
        expiration,
        strike,
        call,
        put,
        avg_daily_volume,
        adv_sessions: used.len(),
        verdict: checks.verdict,
        reasons: checks.reasons,
    }
}

/// The running verdict and its reasons.
struct Checks {
    verdict: LiquidityVerdict,
    reasons: Vec<String>,
}

impl Checks {
    fn flag(&mut self, verdict: LiquidityVerdict, reason: String) {
        self.verdict = self.verdict.max(verdict);
        self.reasons.push(reason);
    }
}

fn assess_leg(
    chain: &ExpirationChain<'_>,
    strike: Decimal,
    right: OptionRight,
    params: &LiquidityParams,
    checks: &mut Checks,
) -> Option<LegLiquidity> {
    let name = format!("{} {}", right.code(), strike.normalize());
    let Some(quote) = chain.quote(strike, right) else {
        checks.flag(LiquidityVerdict::Reject, format!("{name}: not listed for {}", chain.expiration()));
        return None;
    };

    let spread_fraction = quote.mid().and_then(|mid| {
        let (bid, ask) = (quote.bid?, quote.ask?);
        ((ask - bid) / mid).to_f64()
    });
    match spread_fraction {
        None => checks.flag(
            LiquidityVerdict::Reject,
            format!("{name}: no usable quote (bid {}, ask {})", shown(quote.bid), shown(quote.ask)),
        ),
        Some(spread) if spread > params.spread_reject => checks.flag(
            LiquidityVerdict::Reject,
            format!(
                "{name}: bid/ask spread {:.1}% of mid, above {:.1}% (reject)",
                spread * 100.0,
                params.spread_reject * 100.0
            ),
        ),
        Some(spread) if spread > params.spread_warn => checks.flag(
            LiquidityVerdict::Warn,
            format!(
                "{name}: bid/ask spread {:.1}% of mid, above {:.1}%",
                spread * 100.0,
                params.spread_warn * 100.0
            ),
        ),
        Some(_) => {}
    }

    match quote.open_interest {
        None => checks.flag(LiquidityVerdict::Warn, format!("{name}: open interest unknown")),
        Some(oi) if oi < params.open_interest_reject => checks.flag(
            LiquidityVerdict::Reject,
            format!("{name}: open interest {oi} contracts, below {} (reject)", params.open_interest_reject),
        ),
        Some(oi) if oi < params.open_interest_warn => checks.flag(
            LiquidityVerdict::Warn,
            format!("{name}: open interest {oi} contracts, below {}", params.open_interest_warn),
        ),
        Some(_) => {}
    }

    match quote.volume {
        None => checks.flag(LiquidityVerdict::Warn, format!("{name}: volume unknown")),
        Some(volume) if volume < params.volume_warn => checks.flag(
            LiquidityVerdict::Warn,
            format!("{name}: volume {volume} contracts, below {}", params.volume_warn),
        ),
        Some(_) => {}
    }

    Some(LegLiquidity {
        right,
        strike,
        bid: quote.bid,
        ask: quote.ask,
        spread_fraction,
        open_interest: quote.open_interest,
        volume: quote.volume,
    })
}

fn shown(price: Option<Decimal>) -> String {
    price.map_or_else(|| "none".to_owned(), |p| p.normalize().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::OptionQuote;
    use rust_decimal_macros::dec;
    use std::path::PathBuf;

    fn exp() -> NaiveDate {
        NaiveDate::from_ymd_opt(2023, 7, 21).unwrap()
    }

    fn quote(right: OptionRight, bid: Decimal, ask: Decimal, oi: u64, volume: u64) -> OptionQuote {
        OptionQuote {
            symbol: None,
            expiration: exp(),
            strike: dec!(37),
            right,
            bid: Some(bid),
            ask: Some(ask),
            last: None,
            volume: Some(volume),
            open_interest: Some(oi),
            iv: None,
            delta: None,
            contract_size: None,
        }
    }

    /// A straddle that passes every check: spreads 0.10 / 2.00 = 5%, OI 1,000, volume 500.
    fn good() -> Vec<OptionQuote> {
        vec![
            quote(OptionRight::Call, dec!(1.95), dec!(2.05), 1000, 500),
            quote(OptionRight::Put, dec!(1.95), dec!(2.05), 1000, 500),
        ]
    }

    fn bars(volumes: &[Option<u64>]) -> Vec<DailyBar> {
        volumes
            .iter()
            .enumerate()
            .map(|(i, v)| DailyBar {
                date: NaiveDate::from_ymd_opt(2023, 6, 1).unwrap() + chrono::Days::new(i as u64),
                open: dec!(1),
                high: dec!(1),
                low: dec!(1),
                close: dec!(1),
                volume: *v,
            })
            .collect()
    }

    fn liquid_bars() -> Vec<DailyBar> {
        bars(&[Some(2_000_000); 25])
    }

    /// Assesses the 37 straddle of 2023-07-21 in a snapshot of `contracts`.
    fn run(contracts: &[OptionQuote], bars: &[DailyBar]) -> Liquidity {
        let snapshot = crate::domain::ChainSnapshot {
            ticker: crate::domain::Ticker::new("CVNA").unwrap(),
            as_of: chrono::DateTime::UNIX_EPOCH,
            source: "test".into(),
            underlying: None,
            contracts: contracts.to_vec(),
        };
        assess(&snapshot.expiration(exp()), dec!(37), bars, &LiquidityParams::default())
    }

    #[test]
    fn defaults_and_config_section() {
        let p = LiquidityParams::default();
        assert_eq!((p.spread_warn, p.spread_reject), (0.10, 0.25));
        assert_eq!((p.open_interest_warn, p.open_interest_reject, p.volume_warn), (500, 100, 100));
        assert_eq!((p.avg_daily_volume_warn, p.avg_daily_volume_reject, p.adv_sessions), (1e6, 2e5, 20));
        let read: LiquidityParams = toml::from_str("spread_warn = 0.05").unwrap();
        assert_eq!(read, LiquidityParams { spread_warn: 0.05, ..p });
        assert!(toml::from_str::<LiquidityParams>("spread = 0.05").is_err());
    }

    #[test]
    fn verdicts_order_from_pass_to_reject() {
        assert!(LiquidityVerdict::Pass < LiquidityVerdict::Warn);
        assert!(LiquidityVerdict::Warn < LiquidityVerdict::Reject);
        assert_eq!(serde_json::to_string(&LiquidityVerdict::Reject).unwrap(), r#""reject""#);
        assert_eq!(LiquidityVerdict::Warn.code(), "warn");
    }

    #[test]
    fn a_liquid_straddle_passes() {
        let l = run(&good(), &liquid_bars());
        assert_eq!(l.verdict, LiquidityVerdict::Pass, "{:?}", l.reasons);
        assert!(l.reasons.is_empty());
        let call = l.call.unwrap();
        assert!((call.spread_fraction.unwrap() - 0.05).abs() < 1e-15);
        assert_eq!((call.open_interest, call.volume), (Some(1000), Some(500)));
        assert_eq!((l.avg_daily_volume, l.adv_sessions), (Some(2_000_000.0), 20));
    }

    #[test]
    fn spread_thresholds() {
        // Call 1.90/2.10: 0.20 / 2.00 = 10%, at the threshold: passes.
        let mut c = good();
        c[0].bid = Some(dec!(1.90));
        c[0].ask = Some(dec!(2.10));
        assert_eq!(run(&c, &liquid_bars()).verdict, LiquidityVerdict::Pass);
        // Call 1.80/2.20: 0.40 / 2.00 = 20%: warns.
        c[0].bid = Some(dec!(1.80));
        c[0].ask = Some(dec!(2.20));
        let l = run(&c, &liquid_bars());
        assert_eq!(l.verdict, LiquidityVerdict::Warn);
        assert_eq!(l.reasons, ["call 37: bid/ask spread 20.0% of mid, above 10.0%"]);
        // Put 0.70/1.30: 0.60 / 1.00 = 60%: rejects.
        c[1].bid = Some(dec!(0.70));
        c[1].ask = Some(dec!(1.30));
        let l = run(&c, &liquid_bars());
        assert_eq!(l.verdict, LiquidityVerdict::Reject);
        assert_eq!(l.reasons[1], "put 37: bid/ask spread 60.0% of mid, above 25.0% (reject)");
        assert!((l.put.unwrap().spread_fraction.unwrap() - 0.6).abs() < 1e-15);
    }

    #[test]
    fn unusable_or_missing_legs_reject() {
        let mut c = good();
        c[1].bid = Some(Decimal::ZERO);
        c[1].ask = Some(dec!(0.01));
        let l = run(&c, &liquid_bars());
        assert_eq!(l.verdict, LiquidityVerdict::Reject);
        assert_eq!(l.reasons, ["put 37: no usable quote (bid 0, ask 0.01)"]);
        assert_eq!(l.put.unwrap().spread_fraction, None);

        c[1].bid = None;
        assert_eq!(run(&c, &liquid_bars()).reasons, ["put 37: no usable quote (bid none, ask 0.01)"]);

        let l = run(&good()[..1], &liquid_bars());
        assert_eq!(l.verdict, LiquidityVerdict::Reject);
        assert_eq!(l.reasons, ["put 37: not listed for 2023-07-21"]);
        assert!(l.put.is_none() && l.call.is_some());

        // Another expiration's put does not count.
        let mut c = good();
        c[1].expiration = NaiveDate::from_ymd_opt(2023, 7, 28).unwrap();
        assert_eq!(run(&c, &liquid_bars()).reasons, ["put 37: not listed for 2023-07-21"]);
    }

    #[test]
    fn open_interest_and_volume_thresholds() {
        let mut c = good();
        c[0].open_interest = Some(499);
        c[1].volume = Some(99);
        let l = run(&c, &liquid_bars());
        assert_eq!(l.verdict, LiquidityVerdict::Warn);
        assert_eq!(
            l.reasons,
            ["call 37: open interest 499 contracts, below 500", "put 37: volume 99 contracts, below 100"]
        );
        c[0].open_interest = Some(100);
        c[1].volume = Some(100);
        assert_eq!(run(&c, &liquid_bars()).verdict, LiquidityVerdict::Warn, "100 is still below 500");
        c[0].open_interest = Some(99);
        let l = run(&c, &liquid_bars());
        assert_eq!(l.verdict, LiquidityVerdict::Reject);
        assert_eq!(l.reasons, ["call 37: open interest 99 contracts, below 100 (reject)"]);
        c[0].volume = Some(0);
        c[0].open_interest = Some(500);
        let l = run(&c, &liquid_bars());
        assert_eq!(l.verdict, LiquidityVerdict::Warn, "volume alone never rejects");
    }

    #[test]
    fn unknown_figures_warn_and_are_not_zero() {
        let mut c = good();
        c[0].open_interest = None;
        c[1].volume = None;
        let l = run(&c, &bars(&[None; 5]));
        assert_eq!(l.verdict, LiquidityVerdict::Warn);
        assert_eq!(
            l.reasons,
            [
                "call 37: open interest unknown",
                "put 37: volume unknown",
                "underlying average daily volume unknown (no bar with a volume)"
            ]
        );
        assert_eq!((l.avg_daily_volume, l.adv_sessions), (None, 0));
        assert_eq!(l.call.unwrap().open_interest, None);
    }

    #[test]
    fn average_daily_volume_uses_the_last_sessions_with_a_volume() {
        // 30 old bars of 10 shares, then 20 of 300,000 with gaps of None between:
        // the mean is over the 20 latest bars that have a volume: 300,000 shares.
        let mut v = vec![Some(10); 30];
        for _ in 0..20 {
            v.push(Some(300_000));
            v.push(None);
        }
        let l = run(&good(), &bars(&v));
        assert_eq!((l.avg_daily_volume, l.adv_sessions), (Some(300_000.0), 20));
        assert_eq!(l.verdict, LiquidityVerdict::Warn);
        assert_eq!(
            l.reasons,
            ["underlying average daily volume 300000 shares over 20 sessions, below 1000000"]
        );
        // 150,000 and 250,000 alternating over 4 bars: mean 200,000, at the threshold: warns only.
        let l = run(&good(), &bars(&[Some(150_000), Some(250_000), Some(150_000), Some(250_000)]));
        assert_eq!((l.avg_daily_volume, l.adv_sessions), (Some(200_000.0), 4));
        assert_eq!(l.verdict, LiquidityVerdict::Warn);
        // 199,999 rejects.
        let l = run(&good(), &bars(&[Some(199_999)]));
        assert_eq!(l.verdict, LiquidityVerdict::Reject);
        assert_eq!(
            l.reasons,
            ["underlying average daily volume 199999 shares over 1 sessions, below 200000 (reject)"]
        );
    }

    #[test]
    fn stored_as_json_and_read_back() {
        let l = run(&good()[..1], &bars(&[Some(150_000)]));
        let text = serde_json::to_string(&l).unwrap();
        assert_eq!(serde_json::from_str::<Liquidity>(&text).unwrap(), l);
    }

    fn data_dir() -> PathBuf {
        match std::env::var_os("IVCD_DATA_DIR") {
            Some(dir) => PathBuf::from(dir),
            None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"),
        }
    }

    fn read_data(relative: &str) -> String {
        let path = data_dir().join(relative);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read recorded data {}: {e}", path.display()))
    }

    /// The real CVNA chain of 2023-07-18 07:51 ET
    /// (../shared/data/upstar7__Gamma-Ex/cvna_quotedata.csv), rows copied from
    /// the file (columns: Expiration Date, Calls, Last Sale, Net, Bid, Ask,
    /// Volume, IV, Delta, Gamma, Open Interest, Strike, Puts, Last Sale, Net,
    /// Bid, Ask, Volume, IV, Delta, Gamma, Open Interest):
    ///
    /// ```text
    /// Fri Jul 21 2023,CVNA230721C00005000,35.5,0,31.3,31.85,0,0,1,0,0,5.00,CVNA230721P00005000,0.03,0,0,0.01,0,6.5944,-0.0006,0.0001,1069
    /// Fri Jul 21 2023,CVNA230721C00037000,2.16,-1.04,2.13,2.2,4083,1.5664,0.4992,0.0669,2445,37.00,CVNA230721P00037000,2.68,-0.52,2.57,2.7,1342,1.5615,-0.4998,0.0668,1066
    /// Fri Jul 21 2023,CVNA230721C00040500,1.11,1.11,1.09,1.17,269,1.6434,0.304,0.0552,159,40.50,CVNA230721P00040500,4.85,4.85,5.05,5.2,26,1.6534,-0.6947,0.0552,17
    /// ```
    ///
    /// By hand: 37 call spread (2.20 - 2.13) / 2.165 = 0.0323326, put
    /// (2.70 - 2.57) / 2.635 = 0.0493359. The underlying's volume from the
    /// Yahoo file (../shared/data/Krzysztof-Smykla__Stock-Price-Dashboard/data/CVNA.csv),
    /// the 20 sessions 2023-06-16..2023-07-17 that had closed before the
    /// chain was quoted: 34829300 23423900 19327200 20433200 29615300
    /// 12252700 19206800 34977700 28143000 19393100 7548200 13080500 13141400
    /// 29353100 48778100 42291200 72824900 45335300 29238100 21073700, sum
    /// 564,266,700, mean 28,213,335 shares (python3: 28213335.0).
    #[test]
    fn cvna_chain_of_2023_07_18() {
        let chain = crate::providers::files::cboe::parse_cboe_chain_csv(
            &read_data("upstar7__Gamma-Ex/cvna_quotedata.csv"),
            "cvna_quotedata.csv",
        )
        .unwrap();
        let all = crate::providers::files::ohlcv::parse_ohlcv_csv(
            &read_data("Krzysztof-Smykla__Stock-Price-Dashboard/data/CVNA.csv"),
            "CVNA.csv",
        )
        .unwrap();
        let quoted = NaiveDate::from_ymd_opt(2023, 7, 18).unwrap();
        let bars: Vec<DailyBar> = all.into_iter().filter(|b| b.date < quoted).collect();
        let params = LiquidityParams::default();

        let l = assess(&chain.expiration(exp()), dec!(37), &bars, &params);
        assert_eq!(l.verdict, LiquidityVerdict::Pass, "{:?}", l.reasons);
        let call = l.call.as_ref().unwrap();
        assert_eq!((call.bid, call.ask), (Some(dec!(2.13)), Some(dec!(2.2))));
        assert!((call.spread_fraction.unwrap() - 0.07 / 2.165).abs() < 1e-12);
        assert!((call.spread_fraction.unwrap() - 0.032_332_563_510_392_61).abs() < 1e-12);
        assert_eq!((call.open_interest, call.volume), (Some(2445), Some(4083)));
        let put = l.put.as_ref().unwrap();
        assert_eq!((put.bid, put.ask), (Some(dec!(2.57)), Some(dec!(2.7))));
        assert!((put.spread_fraction.unwrap() - 0.049_335_863_377_609_11).abs() < 1e-12);
        assert_eq!((put.open_interest, put.volume), (Some(1066), Some(1342)));
        assert_eq!(l.avg_daily_volume, Some(28_213_335.0));
        assert_eq!(l.adv_sessions, 20);

        // 40.5: call spread 0.08 / 1.13 = 7.1%, OI 159 (warn), volume 269; put spread
        // 0.15 / 5.125 = 2.9%, OI 17 (reject), volume 26 (warn).
        let l = assess(&chain.expiration(exp()), dec!(40.5), &bars, &params);
        assert_eq!(l.verdict, LiquidityVerdict::Reject);
        assert_eq!(
            l.reasons,
            [
                "call 40.5: open interest 159 contracts, below 500",
                "put 40.5: open interest 17 contracts, below 100 (reject)",
                "put 40.5: volume 26 contracts, below 100",
            ]
        );
        assert!((l.call.unwrap().spread_fraction.unwrap() - 0.08 / 1.13).abs() < 1e-12);

        // 5: the call is quoted (31.30/31.85) but has no open interest or volume; the
        // put's bid is 0, so it has no usable quote.
        let l = assess(&chain.expiration(exp()), dec!(5), &bars, &params);
        assert_eq!(l.verdict, LiquidityVerdict::Reject);
        assert_eq!(
            l.reasons,
            [
                "call 5: open interest 0 contracts, below 100 (reject)",
                "call 5: volume 0 contracts, below 100",
                "put 5: no usable quote (bid 0, ask 0.01)",
                "put 5: volume 0 contracts, below 100",
            ]
        );
    }
}

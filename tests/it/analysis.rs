//! The full analysis (term structure, event move, skew, liquidity,
//! consistency, bounds, score) on every real chain in ../shared/data, and
//! figures checked by hand against the raw files for two of them.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use ivcd::analysis::full::{self, Analysis, AnalysisInputs};
use ivcd::analysis::implied;
use ivcd::analysis::liquidity::LiquidityVerdict;
use ivcd::analysis::moves::{self, HistoricalMove};
use ivcd::analysis::{AnalysisParams, HistoryWindow};
use ivcd::calendar::NyseCalendar;
use ivcd::domain::{ChainSnapshot, DailyBar, Timing};
use ivcd::providers::alpha_vantage::wire as av;
use ivcd::providers::files::{cboe, ohlcv, trading_desk};
use ivcd::providers::tradier::wire as tradier;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::support::data::{AV, AV_2025, TRADIER_OPENBB, YAHOO_DIR};
use crate::support::read_data;
use crate::support::values::{date, ticker};

/// Yahoo bars of `symbol` before `day` (the chain's session is not complete).
fn yahoo_bars_before(symbol: &str, day: NaiveDate) -> Vec<DailyBar> {
    let path = format!("{YAHOO_DIR}/{symbol}.csv");
    let mut bars = ohlcv::parse_ohlcv_csv(&read_data(&path), &path).expect("Yahoo bars");
    bars.retain(|b| b.date < day);
    bars
}

pub(crate) fn ibm_chain(dir: &str) -> ChainSnapshot {
    let path = format!("{dir}/options/HISTORICAL_OPTIONS_6c0b1a36.csv");
    av::parse_historical_options_csv(&read_data(&path), &path, &ticker("IBM")).expect("IBM chain")
}

/// IBM's Alpha Vantage daily bars recorded with the chain, up to and including `day`.
pub(crate) fn ibm_bars_through(dir: &str, day: NaiveDate) -> Vec<DailyBar> {
    let path = format!("{dir}/time_series/TIME_SERIES_DAILY_42a08190.csv");
    let mut bars = av::parse_daily_csv(&read_data(&path), &path).expect("IBM bars");
    bars.retain(|b| b.date <= day);
    bars.sort_by_key(|b| b.date);
    bars
}

/// The analysis as the scan runs it on a snapshot of `expirations` (the
/// event's first): the implied move of the event's expiration at `spot`,
/// then every part.
pub(crate) fn analyse(
    chain: &ChainSnapshot,
    expirations: &[NaiveDate],
    spot: Decimal,
    history: &HistoryWindow,
    bars: &[DailyBar],
) -> Analysis {
    let snapshot = ChainSnapshot {
        contracts: chain.contracts.iter().filter(|c| expirations.contains(&c.expiration)).cloned().collect(),
        ..chain.clone()
    };
    let implied = implied::implied_move(&snapshot.expiration(expirations[0]), spot).ok();
    let atm_strike = implied.as_ref().and_then(implied::ImpliedMove::atm_strike);
    full::analyse(
        &AnalysisInputs {
            snapshot: &snapshot,
            expiration: expirations[0],
            spot,
            implied_move: implied.map(|m| m.implied_move),
            atm_strike,
            history,
            bars,
        },
        &NyseCalendar::new(),
        &AnalysisParams::default(),
    )
}

pub(crate) fn no_history() -> HistoryWindow {
    HistoryWindow { moves: Vec::new(), stats: None, excluded: Vec::new() }
}

/// Stored as JSON and read back unchanged: no NaN or infinity anywhere.
fn assert_finite_round_trip(name: &str, a: &Analysis) {
    let text = serde_json::to_string(a).expect("serialise");
    let back: Analysis = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
    assert_eq!(&back, a, "{name}: the analysis must survive its JSON column");
}

#[test]
fn every_real_chain_runs_through_the_full_analysis() {
    // (name, chain, spot, bars): the spot is the chain's own underlying
    // quote where it has one; the Alpha Vantage chains are end-of-day, so
    // their spot is that day's recorded close; the Tradier chains carry
    // no underlying, so the quote recorded with them (same fixture set).
    let mut cases: Vec<(&str, ChainSnapshot, Decimal, Vec<DailyBar>)> = Vec::new();
    for (name, path, symbol) in [
        ("CVNA Cboe 2023-07-18", "upstar7__Gamma-Ex/cvna_quotedata.csv", "CVNA"),
        ("AMD Cboe 2023-08", "aryamanwastaken__gamma-exposure/amd_quotedata.csv", "AMD"),
        ("TSLA Cboe 2023-08", "aryamanwastaken__gamma-exposure/tsla_quotedata.csv", "TSLA"),
        ("TSLA Cboe 2023-11 (French header)", "hicham712__SABR_Implied_Vol/tsla_quotedata.csv", "TSLA"),
        (
            "NVDA Cboe 2025-01",
            "DorelRoata__Option-Gamma-Exposure--zero-gamma-level/nvda_quotedata.csv",
            "NVDA",
        ),
    ] {
        let chain = cboe::parse_cboe_chain_csv(&read_data(path), path).expect(name);
        let spot =
            chain.underlying.as_ref().and_then(|q| q.spot()).expect("Cboe chains quote the underlying");
        let bars = yahoo_bars_before(symbol, chain.as_of.date_naive());
        cases.push((name, chain, spot, bars));
    }
    for (name, dir, day) in [
        ("IBM Alpha Vantage 2025-11-07", AV_2025, "2025-11-07"),
        ("IBM Alpha Vantage 2026-05-15", AV, "2026-05-15"),
    ] {
        let chain = ibm_chain(dir);
        let bars = ibm_bars_through(dir, date(day));
        let close = bars.last().filter(|b| b.date == date(day)).expect("the close of the chain's day").close;
        cases.push((name, chain, close, bars));
    }
    let quote_path = format!("{TRADIER_OPENBB}/quotes_PLTR_2024-06-28.json");
    let pltr = tradier::parse_quotes(&read_data(&quote_path), &quote_path).expect("PLTR quote");
    let chain_path = format!("{TRADIER_OPENBB}/chains_PLTR_2026-06-18_greeks_asof_2024-06-28.json");
    let as_of: DateTime<Utc> = "2024-06-28T20:00:00Z".parse().expect("instant");
    let chain =
        tradier::parse_chain(&read_data(&chain_path), &chain_path, &ticker("PLTR"), as_of).expect("PLTR");
    let bars = yahoo_bars_before("PLTR", date("2024-06-28"));
    cases.push(("PLTR Tradier 2024-06-28", chain, pltr[0].spot().expect("PLTR spot"), bars));
    let quote_path = "tradier__tradier.rb/spec/fixtures/quote.json";
    let aapl = tradier::parse_quotes(&read_data(quote_path), quote_path).expect("AAPL quote");
    let chain_path = "tradier__tradier.rb/spec/fixtures/chain.json";
    let as_of: DateTime<Utc> = "2013-06-10T20:00:00Z".parse().expect("instant");
    let chain =
        tradier::parse_chain(&read_data(chain_path), chain_path, &ticker("AAPL"), as_of).expect("AAPL");
    cases.push(("AAPL Tradier 2013 fixture", chain, aapl[0].spot().expect("AAPL spot"), Vec::new()));

    assert_eq!(cases.len(), 9, "every recorded chain");
    for (name, chain, spot, bars) in &cases {
        // Every expiration from the first on or after the chain's own date.
        let expirations: Vec<NaiveDate> =
            chain.expirations().into_iter().filter(|e| *e >= chain.as_of.date_naive()).collect();
        assert!(!expirations.is_empty(), "{name}: no expiration left");
        let a = analyse(chain, &expirations, *spot, &no_history(), bars);
        assert_finite_round_trip(name, &a);
        let term = a.term.as_ref();
        for p in term.map(|t| t.points.as_slice()).unwrap_or_default() {
            assert!(p.iv > 0.0 && p.iv < 5.0, "{name}: ATM IV {} at {}", p.iv, p.expiration);
        }
        if let Some(e) = term.and_then(|t| t.event.as_ref()) {
            assert_eq!(e.event_move.is_none(), e.negative_forward_variance || e.event_move.is_none());
        }
        assert!(a.score.is_none(), "{name}: no history, so no score");
    }
}

#[test]
fn ibm_2025_11_07_by_hand() {
    // IBM, Alpha Vantage HISTORICAL_OPTIONS recorded 2025-11-08 (chain of the
    // 2025-11-07 close); spot = the 2025-11-07 close 306.38 from
    // TIME_SERIES_DAILY of the same recording. Expirations as the scan
    // fetches them for an "event" expiring 2025-11-14: that one, the next
    // (11-21) and the first at or beyond 45 days (12-26, 49 days).
    //
    // Rows (expiration, strike, type, bid, ask, volume, open_interest, IV):
    //   11-14 305   call 4.85 5.35  537 991 0.25390 | put 4.75 5.25 271 260 0.33194
    //   11-14 307.5 call 3.75 4.10  648 412 0.25390 | put 6.00 6.60  85  60 0.35146
    //   11-21 305   call 0.25390 | put 0.33194
    //   12-26 305   call 0.27341 | put 0.31243
    // Implied move: straddle 305 = 5.10 + 5.00 = 10.10; 307.5 = 3.925 + 6.30
    //   = 10.225; w = (306.38 - 305) / 2.5 = 0.552; 10.10 + 0.552 x 0.125 =
    //   10.169; / 306.38 = 0.0331909.
    // ATM strikes: 307.5 for 11-14 (1.12 from the spot, 305 is 1.38);
    //   305 for 11-21 and 12-26 (5-dollar strikes).
    // ATM IVs: 11-14 (0.25390 + 0.35146) / 2 = 0.30268; 11-21 (0.25390 +
    //   0.33194) / 2 = 0.29292; 12-26 (0.27341 + 0.31243) / 2 = 0.29292.
    // Trading time from the 11-07 close: 11-10..11-14 = 5 sessions (11-11
    //   is not an NYSE holiday), T1 = 5/252; 11-21: T2 = 10/252.
    // Event variance: s1^2 T1 = 0.30268^2 x 5/252 = 0.00181774;
    //   s2^2 T2 = 0.29292^2 x 10/252 = 0.00340484; sx^2 = (0.00340484 -
    //   0.00181774) / (5/252) = 0.0799898, sx = 0.282825; E^2 = 0.00181774 -
    //   0.0799898 x 4/252 = 0.000548087, E = 0.0234113.
    // Slope: IV at 45 days between 11-21 (14 d) and 12-26 (49 d), both
    //   0.29292; (0.29292 - 0.30268) / (45 - 7) = -0.000256842 per day.
    // Liquidity at 307.5: call spread 0.35 / 3.925 = 0.0891720 (pass), OI 412
    //   (< 500: warn); put spread 0.60 / 6.30 = 0.0952381 (pass), OI 60
    //   (< 100: reject). Verdict: reject.
    let chain = ibm_chain(AV_2025);
    let bars = ibm_bars_through(AV_2025, date("2025-11-07"));
    assert_eq!(bars.last().map(|b| (b.date, b.close)), Some((date("2025-11-07"), dec!(306.38))));
    let expirations = [date("2025-11-14"), date("2025-11-21"), date("2025-12-26")];
    let a = analyse(&chain, &expirations, dec!(306.38), &no_history(), &bars);

    let term = a.term.as_ref().expect("term structure");
    let strikes: Vec<(NaiveDate, Decimal)> = term.points.iter().map(|p| (p.expiration, p.strike)).collect();
    assert_eq!(
        strikes,
        [(expirations[0], dec!(307.5)), (expirations[1], dec!(305)), (expirations[2], dec!(305))]
    );
    let ivs: Vec<f64> = term.points.iter().map(|p| p.iv).collect();
    for (got, want) in ivs.iter().zip([0.30268, 0.29292, 0.29292]) {
        assert!((got - want).abs() < 1e-9, "ATM IVs {ivs:?}");
    }
    assert!((term.points[0].years - 5.0 / 252.0).abs() < 1e-12);
    let event = term.event.as_ref().expect("event variance");
    assert!(!event.negative_forward_variance);
    let e = event.event_move.expect("E");
    assert!((e - 0.023_411_3).abs() < 2e-7, "E {e}");
    assert!((event.ex_earnings_iv.expect("sx") - 0.282_825).abs() < 2e-6);
    let slope = term.slope.as_ref().expect("slope");
    assert!((slope.per_day + 0.000_256_842).abs() < 1e-9, "slope {}", slope.per_day);

    let l = a.liquidity.as_ref().expect("liquidity");
    assert_eq!((l.strike, l.verdict), (dec!(307.5), LiquidityVerdict::Reject));
    let call = l.call.as_ref().expect("call leg");
    let put = l.put.as_ref().expect("put leg");
    assert!((call.spread_fraction.expect("spread") - 0.35 / 3.925).abs() < 1e-12);
    assert!((put.spread_fraction.expect("spread") - 0.60 / 6.30).abs() < 1e-12);
    assert_eq!((call.open_interest, put.open_interest), (Some(412), Some(60)));
    assert!(l.reasons.iter().any(|r| r.contains("60") && r.contains("reject")), "{:?}", l.reasons);

    let b = a.bounds.as_ref().expect("bounds");
    assert!(
        (b.from_straddle[0].move_fraction - 0.033_190_9 / (2.0 / std::f64::consts::PI).sqrt()).abs() < 1e-6
    );
    assert!((b.from_event_move[0].move_fraction - e).abs() < 1e-15);
}

/// CVNA's moves before 2023-07-19 from the trading-desk calendar and the
/// Yahoo bars, as the backfill measures them.
fn cvna_history(report_date: NaiveDate) -> (Vec<HistoricalMove>, Vec<DailyBar>) {
    let path = "pmak99__trading-desk-public/exports/earnings_calendar.csv";
    let events = trading_desk::parse_trading_desk_calendar(&read_data(path), path).expect("calendar");
    let bars = yahoo_bars_before("CVNA", date("2026-01-01"));
    let by_date: BTreeMap<NaiveDate, DailyBar> = bars.iter().map(|b| (b.date, b.clone())).collect();
    let cal = NyseCalendar::new();
    let check = AnalysisParams::default().timing_check;
    let measured = events
        .iter()
        .filter(|e| e.ticker.as_str() == "CVNA" && e.report_date < report_date)
        .filter_map(|e| moves::measure_move(&cal, e.report_date, e.timing, &by_date, &check).ok())
        .collect();
    (measured, bars)
}

#[test]
fn cvna_2023_11_02_is_flagged_timing_suspect_and_left_out() {
    // The trading-desk calendar lists CVNA 2023-11-02 after the close. Yahoo
    // bars (split-adjusted, so compare ratios): the stated (AMC) gap is the
    // 11-03 open against the 11-02 close, the other (BMO) gap the 11-02 open
    // against the 11-01 close. In the unadjusted file
    // (ivan-pichugin__cvna2019-2024gaps/CVNA.csv): 11-01 close 25.99,
    // 11-02 open 28.33 close 29.92, 11-03 open 28.70, so BMO gap
    // 28.33 / 25.99 - 1 = +9.00% against AMC gap 28.70 / 29.92 - 1 = -4.08%:
    // 2.2x larger and above 3%, so suspect.
    let (moves, _) = cvna_history(date("2024-01-01"));
    let m = moves.iter().find(|m| m.report_date == date("2023-11-02")).expect("the 2023-11-02 move");
    assert_eq!(m.timing, Timing::Amc);
    assert!((m.gap_move - (28.70 / 29.92 - 1.0)).abs() < 1e-3, "stated gap {}", m.gap_move);
    let other = m.other_session_gap_move.expect("the other session's gap");
    assert!((other - (28.33 / 25.99 - 1.0)).abs() < 1e-3, "other gap {other}");
    assert!(m.timing_suspect);
    let others: Vec<NaiveDate> = moves.iter().filter(|m| m.timing_suspect).map(|m| m.report_date).collect();
    assert_eq!(others, [date("2023-11-02")], "no other CVNA event before 2024 is suspect");

    let params = AnalysisParams::default();
    let w = HistoryWindow::select(&moves, date("2024-02-22"), params.window_events, &params.timing_check);
    assert_eq!(w.excluded, [date("2023-11-02")]);
    assert!(w.moves.iter().all(|m| m.report_date != date("2023-11-02")));
}

#[test]
fn cvna_full_analysis_on_the_real_chain() {
    // The scan's inputs for CVNA before the open on 2023-07-19: the Cboe
    // chain of 07-18 07:51 ET (spot (36.80 + 36.86) / 2 = 36.83), the
    // expirations the scan fetches (07-21 event, 07-28 next, 09-01 the
    // first at or beyond 45 days), its measured moves and Yahoo bars.
    let path = "upstar7__Gamma-Ex/cvna_quotedata.csv";
    let chain = cboe::parse_cboe_chain_csv(&read_data(path), path).expect("CVNA chain");
    let (moves, bars) = cvna_history(date("2023-07-19"));
    let bars: Vec<DailyBar> = bars.into_iter().filter(|b| b.date < date("2023-07-18")).collect();
    let params = AnalysisParams::default();
    let history =
        HistoryWindow::select(&moves, date("2023-07-19"), params.window_events, &params.timing_check);
    let expirations = [date("2023-07-21"), date("2023-07-28"), date("2023-09-01")];
    assert_eq!(
        full::term_expirations(&chain.expirations(), expirations[0], date("2023-07-18"), 45.0, 0),
        expirations[1..]
    );
    let a = analyse(&chain, &expirations, dec!(36.83), &history, &bars);
    assert_finite_round_trip("CVNA", &a);
    // Liquidity at 37 (the bracketing strike nearest 36.83): call 2.13/2.20,
    // OI 2445, volume 4083; put 2.57/2.70, OI 1066, volume 1342; Yahoo ADV of
    // the 20 sessions before 07-18 is 28.2 million shares: pass.
    let l = a.liquidity.as_ref().expect("liquidity");
    assert_eq!((l.strike, l.verdict), (dec!(37), LiquidityVerdict::Pass), "{:?}", l.reasons);
    // Six measured events before 07-19, none suspect; the window's figures
    // feed the score, which lists its four components.
    assert_eq!(history.moves.len(), 6);
    let score = a.score.as_ref().expect("score");
    let names: Vec<&str> = score.components.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["vrp", "consistency", "liquidity", "term_structure"]);
    let sum: f64 = score.components.iter().map(|c| c.points).sum();
    assert!((sum - score.total).abs() < 1e-9);
    // The event move from 07-21 and 07-28, both containing the 07-19 report.
    let e = a.term.as_ref().and_then(|t| t.event.as_ref()).and_then(|e| e.event_move).expect("E");
    assert!(e > 0.0 && e < 0.5, "E {e}");
}

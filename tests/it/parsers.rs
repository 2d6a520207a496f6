//! Parser tests on real recorded files: every recorded body each parser
//! applies to, concrete values read by hand from the raw files (the comment
//! names the file and line), malformed variants that must be clear errors,
//! and property tests that no input makes a parser panic.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::path::Path;
use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use ivcd::domain::{ChainSnapshot, DailyBar, OptionQuote, OptionRight, Ticker, Timing};
use ivcd::providers::ParseError;
use ivcd::providers::alpha_vantage::wire as av;
use ivcd::providers::files::{cboe, ohlcv, trading_desk};
use ivcd::providers::tradier::wire as tradier;
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::support::{data_dir, read_data};

const TRADIER_OPENBB: &str =
    "OpenBB-finance__OpenBB/openbb_platform/providers/tradier/tests/record/http/test_tradier_fetchers";
const TRADIER_RB: &str = "tradier__tradier.rb/spec/fixtures";
const AV: &str = "portfoliotree__alphavantage/specification/testdata/examples";
const AV_2025: &str = "portfoliotree__alphavantage/specification/testdata/examples/_versions_2025-11-08";
const AV_AAPL_EARNINGS: &str = "OpenBB-finance__OpenBB/openbb_platform/providers/alpha_vantage/tests/record/http/test_alpha_vantage_fetchers/EARNINGS_AAPL_recorded_2024-06-27.json";
const CVNA_CBOE: &str = "upstar7__Gamma-Ex/cvna_quotedata.csv";
const CVNA_CBOE_JULY: &str = "upstar7__Gamma-Ex/cvna_quotedata_July.csv";
const AMD_CBOE: &str = "aryamanwastaken__gamma-exposure/amd_quotedata.csv";
const TSLA_CBOE_AUG: &str = "aryamanwastaken__gamma-exposure/tsla_quotedata.csv";
const TSLA_CBOE_FR: &str = "hicham712__SABR_Implied_Vol/tsla_quotedata.csv";
const NVDA_CBOE: &str = "DorelRoata__Option-Gamma-Exposure--zero-gamma-level/nvda_quotedata.csv";
const YAHOO_DIR: &str = "Krzysztof-Smykla__Stock-Price-Dashboard/data";
const CVNA_UNADJUSTED: &str = "ivan-pichugin__cvna2019-2024gaps/CVNA.csv";
const AV_STOCK_DIR: &str = "ShallweXiaowei__earning_stocks/stock_data";
const TRADING_DESK: &str = "pmak99__trading-desk-public/exports/earnings_calendar.csv";

fn date(text: &str) -> NaiveDate {
    text.parse().expect("test date")
}

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().expect("test instant")
}

fn ticker(text: &str) -> Ticker {
    Ticker::new(text).expect("test ticker")
}

fn bar_on<'b>(bars: &'b [DailyBar], day: &str) -> &'b DailyBar {
    let day = date(day);
    bars.iter().find(|bar| bar.date == day).unwrap_or_else(|| panic!("no bar on {day}"))
}

fn contract<'c>(chain: &'c ChainSnapshot, symbol: &str) -> &'c OptionQuote {
    chain
        .contracts
        .iter()
        .find(|c| c.symbol.as_deref() == Some(symbol))
        .unwrap_or_else(|| panic!("no contract {symbol}"))
}

fn assert_ascending_unique(bars: &[DailyBar], what: &str) {
    for pair in bars.windows(2) {
        assert!(pair[0].date < pair[1].date, "{what}: {} then {}", pair[0].date, pair[1].date);
    }
}

/// The parse failed, named `input`, and said something containing `needle`.
#[track_caller]
fn assert_rejects<T: Debug>(result: Result<T, ParseError>, input: &str, needle: &str) {
    match result {
        Ok(value) => panic!("{input}: expected an error containing {needle:?}, got {value:?}"),
        Err(e) => {
            assert_eq!(e.input, input, "error names its input: {e}");
            assert!(
                e.message.to_lowercase().contains(&needle.to_lowercase()),
                "{input}: error {:?} should contain {needle:?}",
                e.message
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Tradier
// ---------------------------------------------------------------------------

#[test]
fn tradier_quotes_current_format() {
    // quotes_PLTR_2024-06-28.json, line 1: a single quote as a bare object.
    let path = format!("{TRADIER_OPENBB}/quotes_PLTR_2024-06-28.json");
    let quotes = tradier::parse_quotes(&read_data(&path), &path).unwrap();
    assert_eq!(quotes.len(), 1);
    let pltr = &quotes[0];
    assert_eq!(pltr.ticker, ticker("PLTR"));
    assert_eq!((pltr.bid, pltr.ask, pltr.last), (Some(dec!(25.49)), Some(dec!(25.5)), Some(dec!(25.5))));
    assert_eq!(pltr.volume, Some(12_860_810));
    // trade_date 1719589861696 is later than bid_date/ask_date 1719589861000.
    assert_eq!(pltr.as_of, Some(utc("2024-06-28T15:51:01.696Z")));

    // quotes_SPY_and_SPY251219P00450000_greeks_2024-06-28.json, line 1: the
    // option quote is left out, SPY stays.
    let path = format!("{TRADIER_OPENBB}/quotes_SPY_and_SPY251219P00450000_greeks_2024-06-28.json");
    let quotes = tradier::parse_quotes(&read_data(&path), &path).unwrap();
    assert_eq!(quotes.len(), 1);
    let spy = &quotes[0];
    assert_eq!(spy.ticker, ticker("SPY"));
    assert_eq!((spy.bid, spy.ask, spy.last), (Some(dec!(547.95)), Some(dec!(547.96)), Some(dec!(547.94))));
    assert_eq!(spy.volume, Some(16_616_657));
    // bid_date 1719589861000 is the latest of the three.
    assert_eq!(spy.as_of, Some(utc("2024-06-28T15:51:01Z")));
}

#[test]
fn tradier_quotes_2013_format() {
    // quote.json, lines 5-20: ISO dates; the latest is bid_date 16:34:58-04:00.
    let path = format!("{TRADIER_RB}/quote.json");
    let quotes = tradier::parse_quotes(&read_data(&path), &path).unwrap();
    assert_eq!(quotes.len(), 1);
    assert_eq!(quotes[0].ticker, ticker("AAPL"));
    assert_eq!((quotes[0].bid, quotes[0].ask), (Some(dec!(438.63)), Some(dec!(438.66))));
    assert_eq!(quotes[0].last, Some(dec!(438.89)));
    assert_eq!(quotes[0].volume, Some(14_455_098));
    assert_eq!(quotes[0].as_of, Some(utc("2013-06-10T20:34:58Z")));

    // quotes.json: AAPL (bid 438.6, line 17) and MSFT (ask 35.45, line 60).
    let path = format!("{TRADIER_RB}/quotes.json");
    let quotes = tradier::parse_quotes(&read_data(&path), &path).unwrap();
    let symbols: Vec<&str> = quotes.iter().map(|q| q.ticker.as_str()).collect();
    assert_eq!(symbols, ["AAPL", "MSFT"]);
    assert_eq!(quotes[0].bid, Some(dec!(438.6)));
    assert_eq!(quotes[1].ask, Some(dec!(35.45)));

    // option_quote(s).json hold only option quotes (no `type`, OCC symbols):
    // no underlying quotes.
    for name in ["option_quote.json", "option_quotes.json"] {
        let path = format!("{TRADIER_RB}/{name}");
        assert_eq!(tradier::parse_quotes(&read_data(&path), &path).unwrap(), vec![], "{name}");
    }
}

#[test]
fn tradier_expirations() {
    // expirations_PLTR_2024-06-28.json, line 1: 19 dates.
    let path = format!("{TRADIER_OPENBB}/expirations_PLTR_2024-06-28.json");
    let dates = tradier::parse_expirations(&read_data(&path), &path).unwrap();
    assert_eq!(dates.len(), 19);
    assert_eq!(dates.first(), Some(&date("2024-06-28")));
    assert!(dates.contains(&date("2026-06-18")));
    assert_eq!(dates.last(), Some(&date("2026-12-18")));

    // expirations.json (2013): 12 dates, lines 4-15.
    let path = format!("{TRADIER_RB}/expirations.json");
    let dates = tradier::parse_expirations(&read_data(&path), &path).unwrap();
    assert_eq!(dates.len(), 12);
    assert_eq!((dates[0], dates[11]), (date("2013-06-07"), date("2015-01-17")));

    // expirations_with_strikes.json: 12 `expiration` objects with strikes
    // (and strike adjustments), the first 2014-02-22 (line 6), the last 2016-01-15.
    let path = format!("{TRADIER_RB}/expirations_with_strikes.json");
    let dates = tradier::parse_expirations(&read_data(&path), &path).unwrap();
    assert_eq!(dates.len(), 12);
    assert_eq!((dates[0], dates[11]), (date("2014-02-22"), date("2016-01-15")));
    assert!(dates.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn tradier_chain_current_format_with_greeks() {
    let path = format!("{TRADIER_OPENBB}/chains_PLTR_2026-06-18_greeks_asof_2024-06-28.json");
    let as_of = utc("2024-06-28T16:06:00Z");
    let chain = tradier::parse_chain(&read_data(&path), &path, &ticker("PLTR"), as_of).unwrap();
    assert_eq!(chain.ticker, ticker("PLTR"));
    assert_eq!((chain.as_of, chain.source.as_str(), chain.underlying.as_ref()), (as_of, "tradier", None));
    assert_eq!(chain.contracts.len(), 22);
    assert_eq!(chain.expirations(), vec![date("2026-06-18")]);

    // Line 2: the 13 put, bid 0.0 (kept as Some(0)), bid_iv 0.0, mid_iv 0.590685.
    let put13 = contract(&chain, "PLTR260618P00013000");
    assert_eq!(
        (put13.right, put13.strike, put13.expiration),
        (OptionRight::Put, dec!(13), date("2026-06-18"))
    );
    assert_eq!((put13.bid, put13.ask, put13.last), (Some(Decimal::ZERO), Some(dec!(1.41)), Some(dec!(1.31))));
    assert_eq!((put13.volume, put13.open_interest, put13.contract_size), (Some(1), Some(10), Some(100)));
    assert_eq!(put13.iv, Some(0.590685));
    assert_eq!(put13.delta, Some(-0.0960172634326812));
    assert_eq!(put13.mid(), None, "a zero bid is not a usable quote");

    // Line 3: the 13 call, `last` null and `trade_date` 0.
    let call13 = contract(&chain, "PLTR260618C00013000");
    assert_eq!((call13.bid, call13.ask, call13.last), (Some(dec!(14.75)), Some(dec!(15.25)), None));
    assert_eq!((call13.volume, call13.iv), (Some(0), Some(0.609209)));

    // Every contract has greeks here; every one is 100 shares.
    assert!(chain.contracts.iter().all(|c| c.iv.is_some() && c.delta.is_some()));
    assert!(chain.contracts.iter().all(|c| c.contract_size == Some(100)));
    // The recorder's consistency check: 11 strikes, a call and a put each.
    let strikes: BTreeSet<Decimal> = chain.contracts.iter().map(|c| c.strike).collect();
    assert_eq!(strikes.len(), 11);
}

#[test]
fn tradier_chain_2013_format_without_greeks() {
    let path = format!("{TRADIER_RB}/chain.json");
    let as_of = utc("2013-06-10T20:00:00Z");
    let chain = tradier::parse_chain(&read_data(&path), &path, &ticker("AAPL"), as_of).unwrap();
    // 330 contracts in the file, 108 of them AAPL7 mini options (10 shares):
    // left out as non-standard.
    assert_eq!(chain.contracts.len(), 222);
    assert!(chain.contracts.iter().all(|c| c.symbol.as_deref().is_some_and(|s| !s.starts_with("AAPL7"))));
    assert_eq!(chain.expirations(), vec![date("2015-01-17")]);
    // Lines 4-12: ask 2.25, bid 1.8600000000000001, last 1.8999999999999999,
    // no volume; expiration and right from the symbol; no greeks, no size.
    let first = &chain.contracts[0];
    assert_eq!(first.symbol.as_deref(), Some("AAPL150117C01000000"));
    assert_eq!((first.right, first.strike), (OptionRight::Call, dec!(1000)));
    assert_eq!((first.bid, first.ask, first.last), (Some(dec!(1.86)), Some(dec!(2.25)), Some(dec!(1.9))));
    assert_eq!((first.volume, first.open_interest), (None, Some(5444)));
    assert_eq!((first.iv, first.delta, first.contract_size), (None, None, None));
    // Lines 1893-1900: the 430 put.
    let put = contract(&chain, "AAPL150117P00430000");
    assert_eq!((put.right, put.bid, put.ask), (OptionRight::Put, Some(dec!(60.2)), Some(dec!(60.85))));
}

#[test]
fn tradier_history() {
    // history_AAPL_daily_2024-02.json, line 1: 20 sessions of February 2024.
    let path = format!("{TRADIER_OPENBB}/history_AAPL_daily_2024-02.json");
    let bars = tradier::parse_history(&read_data(&path), &path).unwrap();
    assert_eq!(bars.len(), 20);
    assert_ascending_unique(&bars, &path);
    let feb1 = bar_on(&bars, "2024-02-01");
    assert_eq!(
        (feb1.open, feb1.high, feb1.low, feb1.close),
        (dec!(183.985), dec!(186.95), dec!(183.82), dec!(186.86))
    );
    assert_eq!(feb1.volume, Some(64_885_408));
    assert_eq!(bar_on(&bars, "2024-02-02").open, dec!(179.86));
    assert_eq!(bar_on(&bars, "2024-02-06").low, dec!(186.7695));

    // history.json (2013): 260 bars; lines 5-10 write 562.28999999999996,
    // which is the f64 of 562.29.
    let path = format!("{TRADIER_RB}/history.json");
    let bars = tradier::parse_history(&read_data(&path), &path).unwrap();
    assert_eq!(bars.len(), 260);
    assert_ascending_unique(&bars, &path);
    let first = &bars[0];
    assert_eq!(first.date, date("2012-05-25"));
    assert_eq!(
        (first.open, first.high, first.low, first.close),
        (dec!(564.59), dec!(565.85), dec!(558.472), dec!(562.29))
    );
    assert_eq!(bars[259].date, date("2013-06-10"));
    assert_eq!(bars[259].close, dec!(438.89));
}

#[test]
fn tradier_calendar_and_clock() {
    let path = format!("{TRADIER_RB}/calendar.json");
    let days = tradier::parse_market_calendar(&read_data(&path), &path).unwrap();
    assert_eq!(days.len(), 30, "June 2013");
    // Lines 5-9: Saturday 2013-06-01 closed; lines 15-29: 2013-06-03 open 09:30-16:00.
    assert_eq!(days[0], tradier::MarketDay { date: date("2013-06-01"), open: None });
    let open = (NaiveTime::from_hms_opt(9, 30, 0).unwrap(), NaiveTime::from_hms_opt(16, 0, 0).unwrap());
    assert_eq!(days[2], tradier::MarketDay { date: date("2013-06-03"), open: Some(open) });
    assert_eq!(days.iter().filter(|d| d.open.is_some()).count(), 20);

    let path = format!("{TRADIER_RB}/clock.json");
    let clock = tradier::parse_clock(&read_data(&path), &path).unwrap();
    assert_eq!(clock.date, date("2013-06-11"));
    assert_eq!(clock.state, "closed");
    assert_eq!(clock.description.as_deref(), Some("Market is closed."));
    assert_eq!(clock.next_state.as_deref(), Some("premarket"));
    assert_eq!(clock.next_change, NaiveTime::from_hms_opt(8, 0, 0));
    assert_eq!(clock.timestamp, Some(utc("2013-06-11T02:39:13Z")));
}

#[test]
fn tradier_malformed_bodies_are_clear_errors() {
    let history_path = format!("{TRADIER_OPENBB}/history_AAPL_daily_2024-02.json");
    let history = read_data(&history_path);
    let cut = history.len() / 2;
    let name = "tradier /v1/markets/history AAPL";
    assert_rejects(tradier::parse_history("", name), name, "empty body");
    assert_rejects(tradier::parse_history("  \n", name), name, "empty body");
    assert_rejects(tradier::parse_history(history.get(..cut).unwrap_or(""), name), name, "EOF");
    assert_rejects(
        tradier::parse_history("<html><head><title>502 Bad Gateway</title></head></html>", name),
        name,
        "HTML",
    );
    assert_rejects(
        tradier::parse_history(
            r#"{"history":{"day":[{"date":"2024-02-01","open":"183.985","high":1,"low":1,"close":1}]}}"#,
            name,
        ),
        name,
        "invalid type: string",
    );
    assert_rejects(
        tradier::parse_history(r#"{"history":{"day":[{"open":1,"high":1,"low":1,"close":1}]}}"#, name),
        name,
        "missing field `date`",
    );
    assert_rejects(
        tradier::parse_history(
            r#"{"history":{"day":[{"date":"02/01/2024","open":1,"high":1,"low":1,"close":1}]}}"#,
            name,
        ),
        name,
        "YYYY-MM-DD",
    );
    assert_rejects(
        tradier::parse_history(
            r#"{"history":{"day":[{"date":"2024-02-01","open":1,"high":null,"low":1,"close":1}]}}"#,
            name,
        ),
        name,
        "high",
    );
    assert_rejects(
        tradier::parse_history(r#"{"history":{"day":42}}"#, name),
        name,
        "an array, a single element",
    );
    assert_rejects(tradier::parse_history(r#"{"hist":{}}"#, name), name, "missing field `history`");
    assert_rejects(
        tradier::parse_history(
            r#"{"fault":{"faultstring":"Invalid Access Token","detail":{"errorcode":"keymanagement.service.invalid_access_token"}}}"#,
            name,
        ),
        name,
        "Invalid Access Token",
    );
    assert_rejects(
        tradier::parse_history(r#"{"errors":{"error":["Invalid Parameter: symbol"]}}"#, name),
        name,
        "Invalid Parameter",
    );
    // An Alpha Vantage throttle note is not a Tradier answer.
    assert_rejects(
        tradier::parse_history(r#"{"Note":"Thank you for using Alpha Vantage!"}"#, name),
        name,
        "missing field `history`",
    );
    // A body of another endpoint: the real strikes fixture.
    let strikes = read_data(&format!("{TRADIER_RB}/strikes.json"));
    assert_rejects(tradier::parse_expirations(&strikes, name), name, "missing field `expirations`");
    // Extra fields are the vendor adding data, not an error.
    let extra = r#"{"history":{"day":{"date":"2024-02-01","open":1,"high":2,"low":0.5,"close":1.5,"volume":9,"vwap":1.2}},"extra":true}"#;
    assert_eq!(tradier::parse_history(extra, name).unwrap().len(), 1);

    let chain_name = "tradier /v1/markets/options/chains PLTR 2026-06-18";
    let chain_path = format!("{TRADIER_OPENBB}/chains_PLTR_2026-06-18_greeks_asof_2024-06-28.json");
    let chain = read_data(&chain_path);
    let at = utc("2024-06-28T16:06:00Z");
    assert_rejects(
        tradier::parse_chain(chain.get(..chain.len() - 10).unwrap_or(""), chain_name, &ticker("PLTR"), at),
        chain_name,
        "EOF",
    );
    assert_rejects(
        tradier::parse_chain(&chain, chain_name, &ticker("CVNA"), at),
        chain_name,
        "not the requested CVNA",
    );
    assert_rejects(
        tradier::parse_chain(
            &chain.replace("\"strike\":13.0", "\"strike\":\"13\""),
            chain_name,
            &ticker("PLTR"),
            at,
        ),
        chain_name,
        "invalid type: string",
    );
    assert_rejects(
        tradier::parse_chain(
            &chain.replacen("\"option_type\":\"put\"", "\"option_type\":\"straddle\"", 1),
            chain_name,
            &ticker("PLTR"),
            at,
        ),
        chain_name,
        "neither call nor put",
    );
    assert_rejects(
        tradier::parse_chain(
            r#"{"options":{"option":{"symbol":"WEIRD","strike":1.0,"bid":1,"ask":1}}}"#,
            chain_name,
            &ticker("PLTR"),
            at,
        ),
        chain_name,
        "expiration_date",
    );

    let quotes_name = "tradier /v1/markets/quotes";
    assert_rejects(
        tradier::parse_quotes(
            r#"{"quotes":{"quote":{"symbol":"NOT A TICKER","type":"stock"}}}"#,
            quotes_name,
        ),
        quotes_name,
        "invalid ticker",
    );
    assert_rejects(
        tradier::parse_quotes(r#"{"quotes":{"quote":{"symbol":"X","trade_date":"yesterday"}}}"#, quotes_name),
        quotes_name,
        "epoch milliseconds",
    );
    assert_rejects(
        tradier::parse_quotes(r#"{"quotes":"none"}"#, quotes_name),
        quotes_name,
        "an object, null",
    );

    let calendar_name = "tradier /v1/markets/calendar";
    assert_rejects(
        tradier::parse_market_calendar(
            r#"{"calendar":{"days":{"day":{"date":"2013-06-03","status":"open"}}}}"#,
            calendar_name,
        ),
        calendar_name,
        "without an `open` window",
    );
    assert_rejects(
        tradier::parse_market_calendar(
            r#"{"calendar":{"days":{"day":{"date":"2013-06-03","status":"maybe"}}}}"#,
            calendar_name,
        ),
        calendar_name,
        "unknown status",
    );
    assert_rejects(
        tradier::parse_market_calendar(
            r#"{"calendar":{"days":{"day":{"date":"2013-06-03","status":"open","open":{"start":"9.30","end":"16:00"}}}}}"#,
            calendar_name,
        ),
        calendar_name,
        "HH:MM",
    );
    let clock_name = "tradier /v1/markets/clock";
    assert_rejects(
        tradier::parse_clock(
            r#"{"clock":{"date":"2013-06-11","state":"closed","next_change":"8am"}}"#,
            clock_name,
        ),
        clock_name,
        "HH:MM",
    );
    assert_rejects(
        tradier::parse_clock(r#"{"clock":{"date":"2013-06-11"}}"#, clock_name),
        clock_name,
        "missing field `state`",
    );
}

// ---------------------------------------------------------------------------
// Alpha Vantage
// ---------------------------------------------------------------------------

#[test]
fn av_earnings_calendar_with_timing_column() {
    let path = format!("{AV}/fundamental/EARNINGS_CALENDAR_c674ae28.csv");
    let rows = av::parse_earnings_calendar_csv(&read_data(&path), &path).unwrap();
    assert_eq!(rows.events.len(), 4526, "4526 data rows, all valid and distinct");
    assert!(rows.skipped.is_empty());
    assert!(rows.events.iter().all(|e| e.source == "alpha_vantage:EARNINGS_CALENDAR"));
    let count = |timing| rows.events.iter().filter(|e| e.timing == timing).count();
    assert_eq!((count(Timing::Bmo), count(Timing::Amc), count(Timing::Unknown)), (142, 101, 4283));
    // Line 2: ONFO 2026-05-17 post-market; line 3: OZFRY blank; line 5: AGPU pre-market.
    let first = &rows.events[0];
    assert_eq!(
        (first.ticker.as_str(), first.report_date, first.timing),
        ("ONFO", date("2026-05-17"), Timing::Amc)
    );
    assert_eq!((rows.events[1].ticker.as_str(), rows.events[1].timing), ("OZFRY", Timing::Unknown));
    assert_eq!((rows.events[3].ticker.as_str(), rows.events[3].timing), ("AGPU", Timing::Bmo));
    // Line 2535: IBM 2026-07-22, blank timing.
    let ibm = rows.events.iter().find(|e| e.ticker.as_str() == "IBM").unwrap();
    assert_eq!((ibm.report_date, ibm.timing), (date("2026-07-22"), Timing::Unknown));
}

#[test]
fn av_earnings_calendar_without_timing_column() {
    let path = format!("{AV_2025}/fundamental/EARNINGS_CALENDAR_c674ae28.csv");
    let rows = av::parse_earnings_calendar_csv(&read_data(&path), &path).unwrap();
    // 5467 rows: CBIO_OLD (line 877) is not a ticker; PICJF 2025-12-19
    // (lines 3761-3762) and TBRID 2025-11-27 (lines 4755-4756) appear twice,
    // once per fiscal period.
    assert_eq!(rows.skipped.len(), 1);
    assert_eq!((rows.skipped[0].line, rows.skipped[0].symbol.as_str()), (877, "CBIO_OLD"));
    assert_eq!(rows.events.len(), 5467 - 1 - 2);
    assert!(rows.events.iter().all(|e| e.timing == Timing::Unknown), "no timeOfTheDay column");
    // Line 2291: IBM 2026-01-28.
    let ibm = rows.events.iter().find(|e| e.ticker.as_str() == "IBM").unwrap();
    assert_eq!(ibm.report_date, date("2026-01-28"));
}

#[test]
fn av_earnings_json() {
    let path = format!("{AV}/fundamental/EARNINGS_d56c999e.json");
    let events = av::parse_earnings_json(&read_data(&path), &path).unwrap();
    assert_eq!(events.len(), 121);
    assert!(events.iter().all(|e| e.ticker.as_str() == "IBM" && e.source == "alpha_vantage:EARNINGS"));
    assert_eq!(events.iter().filter(|e| e.timing == Timing::Bmo).count(), 21);
    // Line 132: 2026-04-22 post-market; line 375: 2019-07-17 post-market;
    // line 1212: 1996-04-17 pre-market.
    assert_eq!((events[0].report_date, events[0].timing), (date("2026-04-22"), Timing::Amc));
    let july_2019 = events.iter().find(|e| e.report_date == date("2019-07-17")).unwrap();
    assert_eq!(july_2019.timing, Timing::Amc);
    assert_eq!((events[120].report_date, events[120].timing), (date("1996-04-17"), Timing::Bmo));

    let path = format!("{AV_2025}/fundamental/EARNINGS_d56c999e.json");
    let events = av::parse_earnings_json(&read_data(&path), &path).unwrap();
    assert_eq!(events.len(), 119);
    assert_eq!(events[0].report_date, date("2025-10-22"));

    // OpenBB's AAPL recording, line 133: 2024-02-01 post-market.
    let events = av::parse_earnings_json(&read_data(AV_AAPL_EARNINGS), AV_AAPL_EARNINGS).unwrap();
    assert_eq!(events.len(), 113);
    let feb = events.iter().find(|e| e.report_date == date("2024-02-01")).unwrap();
    assert_eq!((feb.ticker.as_str(), feb.timing), ("AAPL", Timing::Amc));
}

#[test]
fn av_daily_csv() {
    for (path, first, last) in [
        (format!("{AV}/time_series/TIME_SERIES_DAILY_42a08190.csv"), "2025-12-22", "2026-05-15"),
        (format!("{AV}/time_series/TIME_SERIES_DAILY_ADJUSTED_572d0539.csv"), "2025-12-22", "2026-05-15"),
        (format!("{AV_2025}/time_series/TIME_SERIES_DAILY_42a08190.csv"), "2025-06-18", "2025-11-07"),
        (
            format!("{AV_2025}/time_series/TIME_SERIES_DAILY_ADJUSTED_572d0539.csv"),
            "2025-06-18",
            "2025-11-07",
        ),
    ] {
        let bars = av::parse_daily_csv(&read_data(&path), &path).unwrap();
        assert_eq!(bars.len(), 100, "{path}");
        assert_ascending_unique(&bars, &path);
        assert_eq!((bars[0].date, bars[99].date), (date(first), date(last)), "{path}");
    }
    // TIME_SERIES_DAILY line 2 (newest first): 2026-05-15 218.2000,...,219.3000,6154450.
    let path = format!("{AV}/time_series/TIME_SERIES_DAILY_42a08190.csv");
    let bars = av::parse_daily_csv(&read_data(&path), &path).unwrap();
    let last = &bars[99];
    assert_eq!(
        (last.open, last.high, last.low, last.close),
        (dec!(218.2), dec!(220.91), dec!(217.615), dec!(219.3))
    );
    assert_eq!(last.close.to_string(), "219.3000", "written digits kept");
    assert_eq!(last.volume, Some(6_154_450));
    // The adjusted file, line 101: raw close 302.79 (adjusted_close 298.858... is ignored).
    let path = format!("{AV}/time_series/TIME_SERIES_DAILY_ADJUSTED_572d0539.csv");
    let bars = av::parse_daily_csv(&read_data(&path), &path).unwrap();
    assert_eq!(bars[0].close, dec!(302.79));
    // testdata/daily_AMJ.csv, line 2: 2020-08-21 close 13.2500.
    let path = "portfoliotree__alphavantage/testdata/daily_AMJ.csv";
    let bars = av::parse_daily_csv(&read_data(path), path).unwrap();
    assert_eq!(bar_on(&bars, "2020-08-21").close, dec!(13.25));
    // The intraday file has times in `timestamp`: not daily bars.
    let path = format!("{AV}/time_series/TIME_SERIES_INTRADAY_3dbdcdc7.csv");
    assert_rejects(av::parse_daily_csv(&read_data(&path), &path), &path, "YYYY-MM-DD");
}

/// Alpha Vantage's JSON forms (no JSON daily bars or option chain was
/// recorded): the recorded CSV rows re-encoded, field for field, in the JSON
/// shape of the documentation must parse to what the CSV parses to.
#[test]
fn av_json_forms_agree_with_the_recorded_csv() {
    let path = format!("{AV}/time_series/TIME_SERIES_DAILY_42a08190.csv");
    let csv_text = read_data(&path);
    let mut series = serde_json::Map::new();
    for line in csv_text.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        series.insert(
            fields[0].to_owned(),
            serde_json::json!({"1. open": fields[1], "2. high": fields[2], "3. low": fields[3], "4. close": fields[4], "5. volume": fields[5]}),
        );
    }
    let body =
        serde_json::json!({"Meta Data": {"2. Symbol": "IBM"}, "Time Series (Daily)": series}).to_string();
    let from_json = av::parse_daily_json(&body, "daily json").unwrap();
    assert_eq!(from_json, av::parse_daily_csv(&csv_text, &path).unwrap());

    let path = format!("{AV}/options/HISTORICAL_OPTIONS_6c0b1a36.csv");
    let csv_text = read_data(&path);
    let mut lines = csv_text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let data: Vec<serde_json::Value> = lines
        .map(|line| {
            let row: serde_json::Map<String, serde_json::Value> = header
                .iter()
                .zip(line.split(','))
                .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String(v.to_owned())))
                .collect();
            serde_json::Value::Object(row)
        })
        .collect();
    let body =
        serde_json::json!({"endpoint": "Historical Options", "message": "success", "data": data}).to_string();
    let ibm = ticker("IBM");
    let from_json = av::parse_historical_options_json(&body, "options json", &ibm).unwrap();
    assert_eq!(from_json, av::parse_historical_options_csv(&csv_text, &path, &ibm).unwrap());
}

#[test]
fn av_historical_options_csv() {
    let ibm = ticker("IBM");
    let path = format!("{AV}/options/HISTORICAL_OPTIONS_6c0b1a36.csv");
    let chain = av::parse_historical_options_csv(&read_data(&path), &path, &ibm).unwrap();
    assert_eq!(chain.contracts.len(), 2064);
    assert_eq!(chain.expirations().len(), 20);
    assert_eq!(
        (chain.source.as_str(), chain.underlying.as_ref()),
        ("alpha_vantage:HISTORICAL_OPTIONS", None)
    );
    // date 2026-05-15 (EDT): 16:00 ET is 20:00 UTC.
    assert_eq!(chain.as_of, utc("2026-05-15T20:00:00Z"));
    // Line 202: IBM260522C00220000 last 3.75 bid 3.35 ask 4.00 volume 430 OI 1813 IV 0.32707 delta 0.48710.
    let call = contract(&chain, "IBM260522C00220000");
    assert_eq!(
        (call.right, call.strike, call.expiration),
        (OptionRight::Call, dec!(220), date("2026-05-22"))
    );
    assert_eq!((call.bid, call.ask, call.last), (Some(dec!(3.35)), Some(dec!(4.00)), Some(dec!(3.75))));
    assert_eq!((call.volume, call.open_interest), (Some(430), Some(1813)));
    assert_eq!((call.iv, call.delta, call.contract_size), (Some(0.32707), Some(0.4871), None));
    // Line 203: the put, bid 3.95 ask 4.35.
    let put = contract(&chain, "IBM260522P00220000");
    assert_eq!((put.bid, put.ask), (Some(dec!(3.95)), Some(dec!(4.35))));
    // Line 3: IBM260515P00115000, bid 0.00 stays a zero bid.
    assert_eq!(contract(&chain, "IBM260515P00115000").bid, Some(Decimal::ZERO));

    let path = format!("{AV_2025}/options/HISTORICAL_OPTIONS_6c0b1a36.csv");
    let chain = av::parse_historical_options_csv(&read_data(&path), &path, &ibm).unwrap();
    assert_eq!(chain.contracts.len(), 1958);
    assert_eq!(chain.expirations().len(), 19);
    // 2025-11-07 is after the switch to EST: 16:00 ET is 21:00 UTC.
    assert_eq!(chain.as_of, utc("2025-11-07T21:00:00Z"));
    // Line 220: IBM251114C00305000 bid 4.85 ask 5.35 IV 0.25390.
    let call = contract(&chain, "IBM251114C00305000");
    assert_eq!((call.bid, call.ask, call.iv), (Some(dec!(4.85)), Some(dec!(5.35)), Some(0.2539)));

    assert_rejects(
        av::parse_historical_options_csv(&read_data(&path), "hist", &ticker("AAPL")),
        "hist",
        "not the requested AAPL",
    );
}

#[test]
fn av_notices_and_malformed_bodies() {
    let note = r#"{
    "Note": "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute and 500 calls per day. Please visit https://www.alphavantage.co/premium/ if you would like to target a higher API call frequency."
}"#;
    let information = r#"{"Information": "We have detected your API key as demo and our standard API rate limit is 25 requests per day. Please subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to instantly remove all daily rate limits."}"#;
    let error = r#"{"Error Message": "Invalid API call. Please retry or visit the documentation (https://www.alphavantage.co/documentation/) for TIME_SERIES_DAILY."}"#;
    assert!(matches!(av::classify_json_notice(note), Some(av::AvNotice::Throttled(_))));
    assert!(matches!(av::classify_json_notice(information), Some(av::AvNotice::Throttled(_))));
    assert!(matches!(av::classify_json_notice(error), Some(av::AvNotice::Error(_))));
    // No recorded Alpha Vantage body (JSON or CSV, every endpoint) is a notice.
    let recorded = walk(&data_dir().join("portfoliotree__alphavantage"));
    assert!(recorded.len() > 20);
    for path in recorded {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(av::classify_json_notice(&text), None, "{}", path.display());
    }

    let ibm = ticker("IBM");
    let name = "alpha_vantage test";
    type Parser = fn(&str, &str) -> Result<(), ParseError>;
    let parsers: [(&str, Parser); 6] = [
        ("EARNINGS_CALENDAR", |b, i| av::parse_earnings_calendar_csv(b, i).map(drop)),
        ("EARNINGS", |b, i| av::parse_earnings_json(b, i).map(drop)),
        ("daily csv", |b, i| av::parse_daily_csv(b, i).map(drop)),
        ("daily json", |b, i| av::parse_daily_json(b, i).map(drop)),
        ("options csv", |b, i| {
            av::parse_historical_options_csv(b, i, &Ticker::new("IBM").unwrap()).map(drop)
        }),
        ("options json", |b, i| {
            av::parse_historical_options_json(b, i, &Ticker::new("IBM").unwrap()).map(drop)
        }),
    ];
    for (label, parse) in parsers {
        assert_rejects(parse(note, name), name, "rate limited");
        assert_rejects(parse(information, name), name, "rate limited");
        assert_rejects(parse(error, name), name, "Invalid API call");
        assert_rejects(parse("", name), name, "empty body");
        assert_rejects(
            parse("<!DOCTYPE html><html><body>Service Unavailable</body></html>", name),
            name,
            "HTML",
        );
        assert!(parse("{\"foo\": [1, 2", name).is_err(), "{label}: truncated JSON");
    }

    // Truncated, wrong types, missing and extra fields.
    let calendar_path = format!("{AV}/fundamental/EARNINGS_CALENDAR_c674ae28.csv");
    let calendar = read_data(&calendar_path);
    let mut truncated: String = calendar.lines().take(10).collect::<Vec<_>>().join("\n");
    truncated.push_str("\nZZZ,ZZZ INC,2026-05");
    assert_rejects(av::parse_earnings_calendar_csv(&truncated, name), name, "line 11");
    assert_rejects(
        av::parse_earnings_calendar_csv("symbol,name\nIBM,IBM\n", name),
        name,
        "no `reportDate` column",
    );
    assert_rejects(
        av::parse_earnings_calendar_csv(
            "symbol,name,reportDate,fiscalDateEnding,estimate,currency,timeOfTheDay\nIBM,IBM,2026-07-22,2026-06-30,3.03,USD,,extra\n",
            name,
        ),
        name,
        "fields",
    );
    assert_rejects(
        av::parse_earnings_calendar_csv(
            "symbol,name,reportDate,fiscalDateEnding,estimate,currency,timeOfTheDay\nIBM,IBM,2026-07-22,2026-06-30,3.03,USD,lunchtime\n",
            name,
        ),
        name,
        "line 2",
    );
    assert_rejects(
        av::parse_earnings_json(r#"{"symbol":"IBM","quarterlyEarnings":[{"reportedDate":20190717}]}"#, name),
        name,
        "invalid type",
    );
    assert_rejects(
        av::parse_earnings_json(
            r#"{"symbol":"IBM","quarterlyEarnings":[{"reportedDate":"None","reportTime":"post-market"}]}"#,
            name,
        ),
        name,
        "quarterlyEarnings[0]",
    );
    assert_rejects(
        av::parse_earnings_json(
            r#"{"symbol":"IBM","quarterlyEarnings":[{"reportTime":"post-market"}]}"#,
            name,
        ),
        name,
        "missing field `reportedDate`",
    );
    assert_rejects(av::parse_earnings_json(r#"{"symbol":"IBM"}"#, name), name, "quarterlyEarnings");
    assert_eq!(av::parse_earnings_json("{}", name).unwrap(), vec![], "AV's answer for an unknown symbol");
    assert_rejects(av::parse_daily_json(r#"{"Meta Data":{}}"#, name), name, "Time Series (Daily)");
    assert_rejects(
        av::parse_daily_json(
            r#"{"Time Series (Daily)":{"2026-05-15":{"1. open":"1","2. high":"1","3. low":"1"}}}"#,
            name,
        ),
        name,
        "4. close",
    );
    assert_rejects(
        av::parse_daily_json(r#"{"Time Series (Daily)":{"2026-05-15":{"1. open":1.0}}}"#, name),
        name,
        "invalid type",
    );
    assert_rejects(
        av::parse_historical_options_json(
            r#"{"endpoint":"Historical Options","message":"No data for symbol IBM on date 2030-01-01","data":[]}"#,
            name,
            &ibm,
        ),
        name,
        "No data for symbol",
    );
    let options_path = format!("{AV}/options/HISTORICAL_OPTIONS_6c0b1a36.csv");
    let options: String = read_data(&options_path).lines().take(4).collect::<Vec<_>>().join("\n");
    assert_rejects(
        av::parse_historical_options_csv(
            &options.replace("IBM260515C00120000", "IBM260515C00125000"),
            name,
            &ibm,
        ),
        name,
        "does not match its row",
    );
    assert_rejects(
        av::parse_historical_options_csv(&options.replacen(",call,", ",kall,", 1), name, &ibm),
        name,
        "neither call nor put",
    );
    assert_rejects(
        av::parse_historical_options_csv(&options.replacen("98.62", "9.8.62", 1), name, &ibm),
        name,
        "line 2",
    );
}

// ---------------------------------------------------------------------------
// Cboe
// ---------------------------------------------------------------------------

#[test]
fn cboe_cvna_chain_before_the_2023_07_19_report() {
    let chain = cboe::parse_cboe_chain_csv(&read_data(CVNA_CBOE), CVNA_CBOE).unwrap();
    assert_eq!(chain.ticker, ticker("CVNA"));
    assert_eq!(chain.source, "cboe_csv");
    // Line 3: "Date: July 18, 2023 at 7:51 AM EDT" = 11:51 UTC.
    assert_eq!(chain.as_of, utc("2023-07-18T11:51:00Z"));
    let underlying = chain.underlying.as_ref().unwrap();
    // Line 2: Last: 36.8; line 3: Bid: 36.8, Ask: 36.86, "Volume: 21,041,228".
    assert_eq!(
        (underlying.bid, underlying.ask, underlying.last),
        (Some(dec!(36.8)), Some(dec!(36.86)), Some(dec!(36.8)))
    );
    assert_eq!((underlying.volume, underlying.as_of), (Some(21_041_228), Some(chain.as_of)));
    // 585 rows (lines 5-589), a call and a put each; 15 expirations.
    assert_eq!(chain.contracts.len(), 1170);
    let expirations = chain.expirations();
    assert_eq!(expirations.len(), 15);
    assert_eq!((expirations[0], expirations[14]), (date("2023-07-21"), date("2025-01-17")));
    // Line 57: the 36.5 strike of 2023-07-21.
    let call = contract(&chain, "CVNA230721C00036500");
    assert_eq!(
        (call.right, call.strike, call.expiration),
        (OptionRight::Call, dec!(36.5), date("2023-07-21"))
    );
    assert_eq!((call.bid, call.ask, call.last), (Some(dec!(2.31)), Some(dec!(2.40)), Some(dec!(2.35))));
    assert_eq!(
        (call.volume, call.open_interest, call.iv, call.delta),
        (Some(554), Some(716), Some(1.5432), Some(0.5321))
    );
    let put = contract(&chain, "CVNA230721P00036500");
    assert_eq!((put.bid, put.ask), (Some(dec!(2.33)), Some(dec!(2.41))));
    // Line 58: the 37 strike; the call's IV column says 1.5664 (156.64%).
    let call = contract(&chain, "CVNA230721C00037000");
    assert_eq!((call.bid, call.ask, call.iv), (Some(dec!(2.13)), Some(dec!(2.20)), Some(1.5664)));
    let put = contract(&chain, "CVNA230721P00037000");
    assert_eq!((put.bid, put.ask), (Some(dec!(2.57)), Some(dec!(2.70))));
    // Line 5: the 2.5 call has IV 0 (None) and the put a bid of 0 (kept).
    assert_eq!(contract(&chain, "CVNA230721C00002500").iv, None);
    assert_eq!(contract(&chain, "CVNA230721P00002500").bid, Some(Decimal::ZERO));
    assert!(chain.contracts.iter().all(|c| c.contract_size.is_none()));

    // The _July file: the same quotes (line 57 too) under a 1:05 PM stamp.
    let july = cboe::parse_cboe_chain_csv(&read_data(CVNA_CBOE_JULY), CVNA_CBOE_JULY).unwrap();
    assert_eq!(july.as_of, utc("2023-07-18T17:05:00Z"));
    assert_eq!(july.contracts.len(), 352);
    assert_eq!(contract(&july, "CVNA230721C00036500"), contract(&chain, "CVNA230721C00036500"));
}

#[test]
fn cboe_other_recorded_chains() {
    // AMD, line 3: "August 20, 2023 at 10:35 PM EDT". 869 rows; the 40 rows
    // of AMD1 (adjusted, lines 518-592, Jan 19 2024) are left out.
    let amd = cboe::parse_cboe_chain_csv(&read_data(AMD_CBOE), AMD_CBOE).unwrap();
    assert_eq!(amd.ticker, ticker("AMD"));
    assert_eq!(amd.as_of, utc("2023-08-21T02:35:00Z"));
    assert_eq!(amd.contracts.len(), (869 - 40) * 2);
    assert!(amd.contracts.iter().all(|c| c.symbol.as_deref().is_some_and(|s| !s.starts_with("AMD1"))));
    let underlying = amd.underlying.as_ref().unwrap();
    assert_eq!(
        (underlying.bid, underlying.ask, underlying.last),
        (Some(dec!(105.55)), Some(dec!(105.7)), Some(dec!(105.6)))
    );
    // Line 254: the 105 call of 2023-09-15, bid 5.55 ask 5.65.
    let call = contract(&amd, "AMD230915C00105000");
    assert_eq!((call.bid, call.ask), (Some(dec!(5.55)), Some(dec!(5.65))));

    // TSLA, line 3: "August 20, 2023 at 10:38 PM EDT", 118 rows.
    let tsla = cboe::parse_cboe_chain_csv(&read_data(TSLA_CBOE_AUG), TSLA_CBOE_AUG).unwrap();
    assert_eq!(
        (tsla.ticker.as_str(), tsla.as_of, tsla.contracts.len()),
        ("TSLA", utc("2023-08-21T02:38:00Z"), 236)
    );

    // TSLA, French locale, line 3: "Date: 10 novembre 2023 à 18:55 UTC−5",
    // "Volume: 130 859 611" grouped with U+202F; 340 rows.
    let french = cboe::parse_cboe_chain_csv(&read_data(TSLA_CBOE_FR), TSLA_CBOE_FR).unwrap();
    assert_eq!(french.as_of, utc("2023-11-10T23:55:00Z"));
    assert_eq!(french.contracts.len(), 680);
    let underlying = french.underlying.as_ref().unwrap();
    assert_eq!(
        (underlying.bid, underlying.ask, underlying.last),
        (Some(dec!(213.87)), Some(dec!(213.9)), Some(dec!(213.88)))
    );
    assert_eq!(underlying.volume, Some(130_859_611));

    // NVDA, line 3: "January 6, 2025 at 9:30 PM EST" = 02:30 UTC next day; Last: 150.2802.
    let nvda = cboe::parse_cboe_chain_csv(&read_data(NVDA_CBOE), NVDA_CBOE).unwrap();
    assert_eq!(
        (nvda.ticker.as_str(), nvda.as_of, nvda.contracts.len()),
        ("NVDA", utc("2025-01-07T02:30:00Z"), 1086)
    );
    assert_eq!(nvda.underlying.as_ref().unwrap().last, Some(dec!(150.2802)));
}

#[test]
fn cboe_malformed_files_are_clear_errors() {
    let text = read_data(CVNA_CBOE);
    let name = "cvna.csv";
    assert_rejects(cboe::parse_cboe_chain_csv("", name), name, "empty body");
    assert_rejects(cboe::parse_cboe_chain_csv("<html><body>Access Denied</body></html>", name), name, "HTML");
    let head: String = text.lines().take(3).collect::<Vec<_>>().join("\n");
    assert_rejects(cboe::parse_cboe_chain_csv(&head, name), name, "column header");
    let header_only: String = text.lines().take(4).collect::<Vec<_>>().join("\n");
    assert_rejects(cboe::parse_cboe_chain_csv(&header_only, name), name, "no contracts");
    let six: Vec<&str> = text.lines().take(6).collect();
    let with = |line: usize, new: &str| {
        let mut lines = six.clone();
        lines[line] = new;
        lines.join("\n")
    };
    // Line 5 with a field missing (truncated row).
    let row = six[4];
    let truncated = row.rsplit_once(',').map_or(row, |(head, _)| head);
    assert_rejects(cboe::parse_cboe_chain_csv(&with(4, truncated), name), name, "line 5: 21 fields");
    assert_rejects(
        cboe::parse_cboe_chain_csv(&with(4, &format!("{row},1")), name),
        name,
        "line 5: 23 fields",
    );
    assert_rejects(
        cboe::parse_cboe_chain_csv(&with(4, &row.replacen(",33.7,", ",abc,", 1)), name),
        name,
        "line 5: call Bid",
    );
    assert_rejects(
        cboe::parse_cboe_chain_csv(&with(4, &row.replacen("Fri Jul 21 2023", "2023-07-21", 1)), name),
        name,
        "line 5: expiration",
    );
    assert_rejects(
        cboe::parse_cboe_chain_csv(&with(4, &row.replacen(",2.50,", ",3.50,", 1)), name),
        name,
        "does not match its row",
    );
    assert_rejects(
        cboe::parse_cboe_chain_csv(&with(2, "\"Date: July 18, 2023 at 7:51 AM PDT\",Bid: 36.8"), name),
        name,
        "unknown time zone",
    );
    assert_rejects(
        cboe::parse_cboe_chain_csv(&with(2, "\"Date: January 18, 2023 at 7:51 AM EDT\",Bid: 36.8"), name),
        name,
        "not New York's offset",
    );
    assert_rejects(cboe::parse_cboe_chain_csv(&with(2, "Bid: 36.8,Ask: 36.86"), name), name, "line 3");
    assert_rejects(
        cboe::parse_cboe_chain_csv(&with(1, "Carvana Co,Change: 0.29"), name),
        name,
        "line 2: no `Last:`",
    );
    assert_rejects(
        cboe::parse_cboe_chain_csv(&with(3, "Expiration Date,Calls,Bid,Ask,Strike"), name),
        name,
        "puts",
    );
    let mixed = with(5, &six[5].replace("CVNA230721", "CVNB230721"));
    assert_rejects(cboe::parse_cboe_chain_csv(&mixed, name), name, "several underlyings");
}

// ---------------------------------------------------------------------------
// OHLCV files
// ---------------------------------------------------------------------------

fn csv_files(dir: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(data_dir().join(dir))
        .unwrap_or_else(|e| panic!("cannot list {dir}: {e}"))
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".csv"))
        .map(|name| format!("{dir}/{name}"))
        .collect();
    files.sort();
    files
}

#[test]
fn ohlcv_every_yahoo_file() {
    let files: Vec<String> =
        csv_files(YAHOO_DIR).into_iter().filter(|path| !path.ends_with("/sp500_tickers.csv")).collect();
    assert_eq!(files.len(), 503, "503 price files besides sp500_tickers.csv");
    let mut total = 0;
    for path in &files {
        let text = read_data(path);
        let bars = ohlcv::parse_ohlcv_csv(&text, path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(bars.len(), text.lines().count() - 1, "{path}: one bar per data line");
        assert_ascending_unique(&bars, path);
        for bar in &bars {
            assert!(bar.high >= bar.low, "{path} {}: high {} < low {}", bar.date, bar.high, bar.low);
            assert!(bar.volume.is_some(), "{path} {}", bar.date);
        }
        total += bars.len();
    }
    assert!(total > 600_000, "{total} bars");

    // CVNA.csv line 602: 2023-07-18 close 39.79999923706055, kept exactly;
    // line 603: 2023-07-19 open 53.9900016784668.
    let path = format!("{YAHOO_DIR}/CVNA.csv");
    let bars = ohlcv::parse_ohlcv_csv(&read_data(&path), &path).unwrap();
    assert_eq!(bar_on(&bars, "2023-07-18").close.to_string(), "39.79999923706055");
    assert_eq!(bar_on(&bars, "2023-07-18").volume, Some(37_052_000));
    assert_eq!(bar_on(&bars, "2023-07-19").open.to_string(), "53.9900016784668");
    assert_eq!((bars[0].date, bars.last().map(|b| b.date)), (date("2021-02-26"), Some(date("2026-02-25"))));
    // ADI.csv writes Close before Open (line 1); line 2: close 143.4009246826172, open 144.08193661226423.
    let path = format!("{YAHOO_DIR}/ADI.csv");
    let bars = ohlcv::parse_ohlcv_csv(&read_data(&path), &path).unwrap();
    assert_eq!(bars[0].close.to_string(), "143.4009246826172");
    assert_eq!(bars[0].open.to_string(), "144.08193661226423");
    // APP.csv line 2: volume written 11444400.0.
    let path = format!("{YAHOO_DIR}/APP.csv");
    let bars = ohlcv::parse_ohlcv_csv(&read_data(&path), &path).unwrap();
    assert_eq!((bars[0].date, bars[0].volume), (date("2021-04-15"), Some(11_444_400)));
}

#[test]
fn ohlcv_unadjusted_cvna_and_alpha_vantage_layout() {
    // CRLF file, `ticker,date,open,high,low,close`, no volume.
    let bars = ohlcv::parse_ohlcv_csv(&read_data(CVNA_UNADJUSTED), CVNA_UNADJUSTED).unwrap();
    assert_eq!(bars.len(), 2141);
    assert_ascending_unique(&bars, CVNA_UNADJUSTED);
    // Line 1566: CVNA,2023-07-18,36.6,42.27,36.32,39.8; line 1567: CVNA,2023-07-19,53.99,...
    let before = bar_on(&bars, "2023-07-18");
    assert_eq!(
        (before.open, before.high, before.low, before.close, before.volume),
        (dec!(36.6), dec!(42.27), dec!(36.32), dec!(39.8), None)
    );
    assert_eq!(bar_on(&bars, "2023-07-19").open, dec!(53.99));
    // Line 2: the first bar, 2017-04-28.
    assert_eq!((bars[0].date, bars[0].close), (date("2017-04-28"), dec!(11.1)));

    // Alpha Vantage TIME_SERIES_DAILY_ADJUSTED files, newest first.
    let files = csv_files(AV_STOCK_DIR);
    assert_eq!(files.len(), 14);
    for path in &files {
        let text = read_data(path);
        let bars = ohlcv::parse_ohlcv_csv(&text, path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(bars.len(), text.lines().count() - 1, "{path}");
        assert_ascending_unique(&bars, path);
        assert!(bars.iter().all(|b| b.high >= b.low), "{path}");
        assert_eq!(av::parse_daily_csv(&text, path).unwrap(), bars, "{path}: same layout as the AV endpoint");
    }
    // AAPL.csv line 2: 2019-07-25 207.02 close (raw; adjusted_close also 207.02);
    // last line: 1998-01-02 close 16.25 (adjusted_close 0.5084 ignored).
    let path = format!("{AV_STOCK_DIR}/AAPL.csv");
    let bars = ohlcv::parse_ohlcv_csv(&read_data(&path), &path).unwrap();
    assert_eq!(
        (bars[0].date, bars[0].close, bars[0].volume),
        (date("1998-01-02"), dec!(16.25), Some(6_411_700))
    );
    assert_eq!(bar_on(&bars, "2019-07-25").close, dec!(207.02));
}

#[test]
fn ohlcv_malformed_files_are_clear_errors() {
    let path = format!("{YAHOO_DIR}/CVNA.csv");
    let text = read_data(&path);
    let lines: Vec<&str> = text.lines().take(5).collect();
    let name = "CVNA.csv";
    let with = |index: usize, new: &str| {
        let mut copy = lines.clone();
        copy[index] = new;
        copy.join("\n")
    };
    assert_rejects(ohlcv::parse_ohlcv_csv("", name), name, "empty body");
    assert_rejects(ohlcv::parse_ohlcv_csv("<html>404</html>", name), name, "not a CSV");
    assert_rejects(ohlcv::parse_ohlcv_csv(r#"{"Note": "throttled"}"#, name), name, "not a CSV");
    assert_rejects(
        ohlcv::parse_ohlcv_csv("Date,Open,High,Low\n2021-02-26,1,2,3\n", name),
        name,
        "no `close` column",
    );
    assert_rejects(
        ohlcv::parse_ohlcv_csv(&with(2, "2021-03-01,289.1199951171875,312.19000244140625"), name),
        name,
        "line 3",
    );
    assert_rejects(ohlcv::parse_ohlcv_csv(&with(2, &format!("{},7", lines[2])), name), name, "line 3");
    assert_rejects(
        ohlcv::parse_ohlcv_csv(&with(2, &lines[2].replacen(",289.", ",abc.", 1)), name),
        name,
        "line 3: column `open`",
    );
    assert_rejects(
        ohlcv::parse_ohlcv_csv(&with(2, &lines[2].replacen("2021-03-01", "03/01/2021", 1)), name),
        name,
        "line 3: date",
    );
    assert_rejects(
        ohlcv::parse_ohlcv_csv(&with(2, "2021-03-01,null,1,1,1,1"), name),
        name,
        "line 3: column `open` is empty",
    );
    assert_rejects(
        ohlcv::parse_ohlcv_csv(&with(3, &lines[3].replacen("2021-03-02", "2021-03-01", 1)), name),
        name,
        "listed twice (lines 3 and 4)",
    );
    // A row of nulls is skipped, not an error.
    let bars = ohlcv::parse_ohlcv_csv(&with(2, "2021-03-01,null,null,null,null,null"), name).unwrap();
    assert_eq!(bars.len(), 3);
    // Two tickers in one file.
    let mixed = "ticker,date,open,high,low,close\nCVNA,2017-04-28,13.5,13.94,10.7,11.1\nAAPL,2017-05-01,11.6,11.73,10.7,10.77\n";
    assert_rejects(ohlcv::parse_ohlcv_csv(mixed, name), name, "line 3: ticker");
}

// ---------------------------------------------------------------------------
// Trading-desk calendar
// ---------------------------------------------------------------------------

#[test]
fn trading_desk_calendar() {
    let events = trading_desk::parse_trading_desk_calendar(&read_data(TRADING_DESK), TRADING_DESK).unwrap();
    assert_eq!(events.len(), 5450);
    let tickers: BTreeSet<&str> = events.iter().map(|e| e.ticker.as_str()).collect();
    assert_eq!(tickers.len(), 472);
    assert!(events.iter().all(|e| e.source == "trading_desk:earnings_calendar.csv"));
    let count = |timing| events.iter().filter(|e| e.timing == timing).count();
    assert_eq!(
        (count(Timing::Bmo), count(Timing::Amc), count(Timing::Dmh), count(Timing::Unknown)),
        (2681, 2660, 24, 85)
    );
    // Line 1283: CVNA,2023-07-19,BMO; line 1889: CVNA,2023-11-02,AMC (known to be wrong in the source).
    let cvna: Vec<_> = events.iter().filter(|e| e.ticker.as_str() == "CVNA").collect();
    assert_eq!(cvna.len(), 16);
    assert!(cvna.iter().any(|e| e.report_date == date("2023-07-19") && e.timing == Timing::Bmo));
    assert!(cvna.iter().any(|e| e.report_date == date("2023-11-02") && e.timing == Timing::Amc));
    // Line 2: BLK,2007-07-18,BMO.
    assert_eq!(
        (events[0].ticker.as_str(), events[0].report_date, events[0].timing),
        ("BLK", date("2007-07-18"), Timing::Bmo)
    );

    let name = "earnings_calendar.csv";
    let head: String = read_data(TRADING_DESK).lines().take(3).collect::<Vec<_>>().join("\n");
    assert_rejects(trading_desk::parse_trading_desk_calendar("", name), name, "empty body");
    assert_rejects(trading_desk::parse_trading_desk_calendar("<html></html>", name), name, "not a CSV");
    assert_rejects(
        trading_desk::parse_trading_desk_calendar("ticker,timing\nBLK,BMO\n", name),
        name,
        "no `earnings_date`",
    );
    assert_rejects(
        trading_desk::parse_trading_desk_calendar(&head.replacen(",BMO,", ",NOON,", 1), name),
        name,
        "line 2: column `timing`",
    );
    assert_rejects(
        trading_desk::parse_trading_desk_calendar(&head.replacen("BLK,", "BL K,", 1), name),
        name,
        "line 2: column `ticker`",
    );
    assert_rejects(
        trading_desk::parse_trading_desk_calendar(&head.replacen("2007-07-18", "2007-13-18", 1), name),
        name,
        "line 2: column `earnings_date`",
    );
    assert_rejects(trading_desk::parse_trading_desk_calendar(&format!("{head},extra"), name), name, "fields");
}

// ---------------------------------------------------------------------------
// No input makes a parser panic
// ---------------------------------------------------------------------------

/// Every parser on one input; results are ignored, panics fail the test.
fn run_every_parser(text: &str) {
    let pltr = Ticker::new("PLTR").unwrap_or_else(|_| unreachable!());
    let at = DateTime::<Utc>::UNIX_EPOCH;
    let _ = tradier::parse_quotes(text, "fuzz");
    let _ = tradier::parse_expirations(text, "fuzz");
    let _ = tradier::parse_chain(text, "fuzz", &pltr, at);
    let _ = tradier::parse_history(text, "fuzz");
    let _ = tradier::parse_market_calendar(text, "fuzz");
    let _ = tradier::parse_clock(text, "fuzz");
    let _ = av::classify_json_notice(text);
    let _ = av::parse_earnings_calendar_csv(text, "fuzz");
    let _ = av::parse_earnings_json(text, "fuzz");
    let _ = av::parse_daily_csv(text, "fuzz");
    let _ = av::parse_daily_json(text, "fuzz");
    let _ = av::parse_historical_options_csv(text, "fuzz", &pltr);
    let _ = av::parse_historical_options_json(text, "fuzz", &pltr);
    let _ = cboe::parse_cboe_chain_csv(text, "fuzz");
    let _ = cboe::parse_occ_symbol(text);
    let _ = ohlcv::parse_ohlcv_csv(text, "fuzz");
    let _ = trading_desk::parse_trading_desk_calendar(text, "fuzz");
}

/// Real recorded bodies to mutate: whole files when small, the first 40
/// lines of the large ones (a prefix of a real file is real data, and
/// truncation is one of the mutations anyway).
fn samples() -> &'static [String] {
    static SAMPLES: OnceLock<Vec<String>> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        let paths = [
            format!("{TRADIER_OPENBB}/chains_PLTR_2026-06-18_greeks_asof_2024-06-28.json"),
            format!("{TRADIER_OPENBB}/quotes_SPY_and_SPY251219P00450000_greeks_2024-06-28.json"),
            format!("{TRADIER_OPENBB}/history_AAPL_daily_2024-02.json"),
            format!("{TRADIER_OPENBB}/expirations_PLTR_2024-06-28.json"),
            format!("{TRADIER_RB}/calendar.json"),
            format!("{TRADIER_RB}/clock.json"),
            format!("{TRADIER_RB}/quote.json"),
            format!("{AV}/fundamental/EARNINGS_CALENDAR_c674ae28.csv"),
            format!("{AV}/time_series/TIME_SERIES_DAILY_42a08190.csv"),
            format!("{AV}/options/HISTORICAL_OPTIONS_6c0b1a36.csv"),
            CVNA_CBOE.to_owned(),
            TSLA_CBOE_FR.to_owned(),
            format!("{YAHOO_DIR}/CVNA.csv"),
            CVNA_UNADJUSTED.to_owned(),
            TRADING_DESK.to_owned(),
            AV_AAPL_EARNINGS.to_owned(),
        ];
        paths
            .iter()
            .map(|path| {
                let text = read_data(path);
                if text.len() > 16_000 { text.split_inclusive('\n').take(40).collect() } else { text }
            })
            .collect()
    })
}

/// One edit of a body.
#[derive(Debug, Clone)]
enum Edit {
    /// Overwrite the byte at a position.
    Replace(prop::sample::Index, u8),
    /// Remove up to `n` bytes from a position.
    Delete(prop::sample::Index, usize),
    /// Insert a token that matters to JSON or CSV at a position.
    Insert(prop::sample::Index, &'static str),
    /// Cut the body at a position.
    Truncate(prop::sample::Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    let tokens = prop::sample::select(vec![
        ",",
        "\n",
        "\r\n",
        "\"",
        "{",
        "}",
        "[",
        "]",
        ":",
        "null",
        "\"null\"",
        "0",
        "-1",
        "1e999",
        "é",
        "\u{2212}",
        "Last:",
        "Date:",
        " at ",
        "Note",
        "9999999999999999999999999999999",
    ]);
    prop_oneof![
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Replace(i, b)),
        (any::<prop::sample::Index>(), 1..64usize).prop_map(|(i, n)| Edit::Delete(i, n)),
        (any::<prop::sample::Index>(), tokens).prop_map(|(i, t)| Edit::Insert(i, t)),
        any::<prop::sample::Index>().prop_map(Edit::Truncate),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for edit in edits {
        let len = bytes.len();
        match edit {
            Edit::Replace(i, b) if len > 0 => {
                let at = i.index(len);
                bytes[at] = *b;
            }
            Edit::Delete(i, n) if len > 0 => {
                let at = i.index(len);
                let end = (at + n).min(len);
                bytes.drain(at..end);
            }
            Edit::Insert(i, token) => {
                let at = i.index(len + 1);
                bytes.splice(at..at, token.bytes());
            }
            Edit::Truncate(i) => bytes.truncate(i.index(len + 1)),
            _ => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Cases per fuzz property: `IVCD_FUZZ_CASES` (`.ci/run` sets a larger
/// bounded run), 128 by default.
fn fuzz_cases() -> u32 {
    std::env::var("IVCD_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(128)
}

/// The process's peak resident set, KiB (Linux `VmHWM`).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: fuzz_cases(), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        run_every_parser(&text);
    }

    #[test]
    fn json_and_csv_like_strings_never_panic(text in "[{}\\[\\]\",:0-9a-zA-Z. \n\r-]{0,300}") {
        run_every_parser(&text);
    }

    #[test]
    fn mutated_real_files_never_panic(
        sample in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..8),
    ) {
        let samples = samples();
        let text = apply(&samples[sample.index(samples.len())], &edits);
        run_every_parser(&text);
    }

    #[test]
    fn mutated_configuration_files_never_panic(
        file in prop::sample::select(vec!["ivcd.example.toml", "ivcd.sandbox.toml", "ivcd.systemd.toml"]),
        edits in prop::collection::vec(edit(), 1..8),
    ) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config").join(file);
        let text = apply(&std::fs::read_to_string(path).unwrap(), &edits);
        // A clear error or a configuration: never a panic.
        let figment = figment::Figment::new().merge(<figment::providers::Toml as figment::providers::Format>::string(&text));
        let _ = ivcd::config::Config::from_figment(&figment, file.to_owned());
    }
}

/// The bounded fuzz run's figures: its own inputs through every parser
/// (the four fuzz properties above run as many cases each), and the peak
/// memory.
#[test]
fn fuzz_run_reports_its_figures_and_stays_within_memory() {
    let before = peak_rss_kib();
    let samples = samples();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: fuzz_cases(),
        ..ProptestConfig::default()
    });
    let inputs = std::cell::Cell::new(0usize);
    runner
        .run(&(any::<prop::sample::Index>(), prop::collection::vec(edit(), 1..16)), |(sample, edits)| {
            let text = apply(&samples[sample.index(samples.len())], &edits);
            run_every_parser(&text);
            inputs.set(inputs.get() + 1);
            Ok(())
        })
        .unwrap();
    let after = peak_rss_kib();
    println!(
        "fuzz: {} mutated inputs of {} real recorded files through every parser (Tradier JSON, Alpha Vantage CSV/JSON, Cboe CSV, OHLCV, trading-desk CSV), 0 panics, plus {} cases in each of 4 more fuzz properties (arbitrary, JSON/CSV-like, mutated files, mutated configuration files); peak RSS {} KiB -> {} KiB",
        inputs.get(),
        samples.len(),
        fuzz_cases(),
        before.unwrap_or(0),
        after.unwrap_or(0)
    );
    if let (Some(before), Some(after)) = (before, after) {
        assert!(
            after.saturating_sub(before) < 512 * 1024,
            "fuzzing grew the peak RSS by {} KiB",
            after - before
        );
    }
}

#[test]
fn every_recorded_file_through_every_parser_never_panics() {
    let mut count = 0;
    for folder in [
        TRADIER_OPENBB,
        TRADIER_RB,
        AV,
        AV_2025,
        "upstar7__Gamma-Ex",
        "aryamanwastaken__gamma-exposure",
        "hicham712__SABR_Implied_Vol",
        "DorelRoata__Option-Gamma-Exposure--zero-gamma-level",
    ] {
        let dir = data_dir().join(folder);
        for path in walk(&dir) {
            let Ok(text) = std::fs::read_to_string(&path) else { continue };
            run_every_parser(&text);
            count += 1;
        }
    }
    assert!(count > 40, "{count} files");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return files };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

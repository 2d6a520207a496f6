//! Tradier's answers (OpenBB's recordings and tradier.rb's fixtures):
//! quotes, expirations, chains, history, the market calendar and clock.

use std::collections::BTreeSet;

use chrono::NaiveTime;
use ivcd::domain::OptionRight;
use ivcd::providers::tradier::wire as tradier;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::*;
use crate::support::data::{TRADIER_OPENBB, TRADIER_RB};
use crate::support::read_data;
use crate::support::values::{at as utc, date, ticker};

#[test]
fn quotes_current_format() {
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
fn quotes_2013_format() {
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
fn expirations() {
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
fn chain_current_format_with_greeks() {
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
fn chain_2013_format_without_greeks() {
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
fn history() {
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
fn calendar_and_clock() {
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
fn malformed_bodies_are_clear_errors() {
    // Each table: a body (a real recorded answer cut or edited, or a vendor's
    // error answer) and what the error must say; every error names its input.
    let history = read_data(&format!("{TRADIER_OPENBB}/history_AAPL_daily_2024-02.json"));
    let name = "tradier /v1/markets/history AAPL";
    let history_cases: [(&str, &str); 13] = [
        ("", "empty body"),
        ("  \n", "empty body"),
        (history.get(..history.len() / 2).unwrap_or(""), "EOF"),
        ("<html><head><title>502 Bad Gateway</title></head></html>", "HTML"),
        (
            r#"{"history":{"day":[{"date":"2024-02-01","open":"183.985","high":1,"low":1,"close":1}]}}"#,
            "invalid type: string",
        ),
        (r#"{"history":{"day":[{"open":1,"high":1,"low":1,"close":1}]}}"#, "missing field `date`"),
        (r#"{"history":{"day":[{"date":"02/01/2024","open":1,"high":1,"low":1,"close":1}]}}"#, "YYYY-MM-DD"),
        (r#"{"history":{"day":[{"date":"2024-02-01","open":1,"high":null,"low":1,"close":1}]}}"#, "high"),
        (r#"{"history":{"day":42}}"#, "an array, a single element"),
        (r#"{"hist":{}}"#, "missing field `history`"),
        (
            r#"{"fault":{"faultstring":"Invalid Access Token","detail":{"errorcode":"keymanagement.service.invalid_access_token"}}}"#,
            "Invalid Access Token",
        ),
        (r#"{"errors":{"error":["Invalid Parameter: symbol"]}}"#, "Invalid Parameter"),
        // An Alpha Vantage throttle note is not a Tradier answer.
        (r#"{"Note":"Thank you for using Alpha Vantage!"}"#, "missing field `history`"),
    ];
    for (body, needle) in history_cases {
        assert_rejects(tradier::parse_history(body, name), name, needle);
    }
    // A body of another endpoint: the real strikes fixture.
    let strikes = read_data(&format!("{TRADIER_RB}/strikes.json"));
    assert_rejects(tradier::parse_expirations(&strikes, name), name, "missing field `expirations`");
    // Extra fields are the vendor adding data, not an error.
    let extra = r#"{"history":{"day":{"date":"2024-02-01","open":1,"high":2,"low":0.5,"close":1.5,"volume":9,"vwap":1.2}},"extra":true}"#;
    assert_eq!(tradier::parse_history(extra, name).unwrap().len(), 1);

    let chain_name = "tradier /v1/markets/options/chains PLTR 2026-06-18";
    let chain = read_data(&format!("{TRADIER_OPENBB}/chains_PLTR_2026-06-18_greeks_asof_2024-06-28.json"));
    let at = utc("2024-06-28T16:06:00Z");
    let chain_cases: [(String, &str, &str); 5] = [
        (chain.get(..chain.len() - 10).unwrap_or("").to_owned(), "PLTR", "EOF"),
        (chain.clone(), "CVNA", "not the requested CVNA"),
        (chain.replace("\"strike\":13.0", "\"strike\":\"13\""), "PLTR", "invalid type: string"),
        (
            chain.replacen("\"option_type\":\"put\"", "\"option_type\":\"straddle\"", 1),
            "PLTR",
            "neither call nor put",
        ),
        (
            r#"{"options":{"option":{"symbol":"WEIRD","strike":1.0,"bid":1,"ask":1}}}"#.to_owned(),
            "PLTR",
            "expiration_date",
        ),
    ];
    for (body, requested, needle) in &chain_cases {
        assert_rejects(tradier::parse_chain(body, chain_name, &ticker(requested), at), chain_name, needle);
    }

    let quotes_name = "tradier /v1/markets/quotes";
    for (body, needle) in [
        (r#"{"quotes":{"quote":{"symbol":"NOT A TICKER","type":"stock"}}}"#, "invalid ticker"),
        (r#"{"quotes":{"quote":{"symbol":"X","trade_date":"yesterday"}}}"#, "epoch milliseconds"),
        (r#"{"quotes":"none"}"#, "an object, null"),
    ] {
        assert_rejects(tradier::parse_quotes(body, quotes_name), quotes_name, needle);
    }

    let calendar_name = "tradier /v1/markets/calendar";
    for (body, needle) in [
        (
            r#"{"calendar":{"days":{"day":{"date":"2013-06-03","status":"open"}}}}"#,
            "without an `open` window",
        ),
        (r#"{"calendar":{"days":{"day":{"date":"2013-06-03","status":"maybe"}}}}"#, "unknown status"),
        (
            r#"{"calendar":{"days":{"day":{"date":"2013-06-03","status":"open","open":{"start":"9.30","end":"16:00"}}}}}"#,
            "HH:MM",
        ),
    ] {
        assert_rejects(tradier::parse_market_calendar(body, calendar_name), calendar_name, needle);
    }

    let clock_name = "tradier /v1/markets/clock";
    for (body, needle) in [
        (r#"{"clock":{"date":"2013-06-11","state":"closed","next_change":"8am"}}"#, "HH:MM"),
        (r#"{"clock":{"date":"2013-06-11"}}"#, "missing field `state`"),
    ] {
        assert_rejects(tradier::parse_clock(body, clock_name), clock_name, needle);
    }
}

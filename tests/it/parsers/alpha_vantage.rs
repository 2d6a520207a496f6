//! Alpha Vantage's answers: the earnings calendar (CSV), earnings (JSON),
//! daily bars (CSV and JSON), historical options, and its notices.

use ivcd::domain::{OptionRight, Ticker, Timing};
use ivcd::providers::alpha_vantage::wire as av;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::*;
use crate::support::data::{AV, AV_2025};
use crate::support::values::{at as utc, date, ticker};
use crate::support::{data_dir, read_data};

#[test]
fn earnings_calendar_with_timing_column() {
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
fn earnings_calendar_without_timing_column() {
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
fn earnings_json() {
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
fn daily_csv() {
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
fn json_forms_agree_with_the_recorded_csv() {
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
fn historical_options_csv() {
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
fn notices_and_malformed_bodies() {
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

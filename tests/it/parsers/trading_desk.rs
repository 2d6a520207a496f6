//! The trading desk's earnings calendar export.

use std::collections::BTreeSet;

use ivcd::domain::Timing;
use ivcd::providers::files::trading_desk;

use super::*;
use crate::support::data::TRADING_DESK;
use crate::support::read_data;
use crate::support::values::date;

#[test]
fn calendar() {
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

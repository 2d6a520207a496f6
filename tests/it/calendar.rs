//! The NYSE calendar against recorded real data: the `exchange_calendars`
//! answer key for 1990-2023, Yahoo daily bars for 2021-2026 and Tradier's own
//! market calendar.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use ivcd::calendar::{NyseCalendar, Session};
use serde_json::json;

use crate::support::data::YAHOO_DIR;
use crate::support::read_data;
use crate::support::values::date;

const XNYS: &str = "gerrymanoim__exchange_calendars/tests/resources/xnys.csv";
const TRADIER_CALENDAR: &str = "tradier__tradier.rb/spec/fixtures/calendar.json";

/// `xnys.csv`: `,open,close,break_start,break_end`, one row per session,
/// the date as `YYYY-MM-DDT00:00:00Z`, open and close as UTC instants.
fn xnys_sessions() -> BTreeMap<NaiveDate, (DateTime<Utc>, DateTime<Utc>)> {
    let text = read_data(XNYS);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(",open,close,break_start,break_end"));
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            let instant = |field: &str| {
                DateTime::parse_from_rfc3339(field)
                    .unwrap_or_else(|e| panic!("bad instant {field:?} in {line:?}: {e}"))
                    .with_timezone(&Utc)
            };
            assert!(fields[3].is_empty() && fields[4].is_empty(), "break in {line}");
            (instant(fields[0]).date_naive(), (instant(fields[1]), instant(fields[2])))
        })
        .collect()
}

#[test]
fn every_session_1990_to_2023_matches_exchange_calendars() {
    let expected = xnys_sessions();
    assert_eq!(expected.len(), 8324, "answer key rows");
    let first = *expected.keys().next().expect("sessions");
    let last = *expected.keys().next_back().expect("sessions");
    assert_eq!((first, last), (date("1990-01-02"), date("2023-01-13")));

    let calendar = NyseCalendar::new();
    let ours: BTreeMap<NaiveDate, Session> =
        calendar.sessions_between(first, last).into_iter().map(|s| (s.date, s)).collect();

    let mut mismatches = Vec::new();
    for (day, &(open, close)) in &expected {
        match ours.get(day) {
            None => mismatches.push(format!("{day}: missing, expected {open}..{close}")),
            Some(session) => {
                let ours_utc = (session.open.with_timezone(&Utc), session.close.with_timezone(&Utc));
                if ours_utc != (open, close) {
                    mismatches.push(format!(
                        "{day}: ours {}..{}, expected {open}..{close}",
                        ours_utc.0, ours_utc.1
                    ));
                }
            }
        }
    }
    for day in ours.keys().filter(|day| !expected.contains_key(day)) {
        mismatches.push(format!("{day}: extra session ({:?})", calendar.holiday_name(*day)));
    }
    assert!(mismatches.is_empty(), "{} mismatches:\n{}", mismatches.len(), mismatches.join("\n"));

    // The early closes really are exercised (xnys.csv has 69 of them).
    let early = ours.values().filter(|s| s.early_close).count();
    assert_eq!(early, 69);
}

/// The dates with a daily bar in a Yahoo price file (`Date` column; the
/// column order differs between files).
fn yahoo_dates(ticker: &str) -> BTreeSet<NaiveDate> {
    let text = read_data(&format!("{YAHOO_DIR}/{ticker}.csv"));
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    let column = header
        .split(',')
        .position(|name| name == "Date")
        .unwrap_or_else(|| panic!("no Date column in {ticker}.csv: {header}"));
    lines
        .map(|line| {
            let field = line.split(',').nth(column).expect("Date field");
            field.parse().unwrap_or_else(|e| panic!("{ticker}.csv: bad date {field:?}: {e}"))
        })
        .collect()
}

#[test]
fn every_session_2021_to_2026_has_yahoo_bars_and_no_other_day_does() {
    let traded: BTreeSet<NaiveDate> =
        ["AAPL", "MSFT", "AMZN", "JPM", "KO", "ADI"].into_iter().flat_map(yahoo_dates).collect();
    let first = *traded.first().expect("bars");
    let last = *traded.last().expect("bars");
    assert_eq!((first, last), (date("2021-02-26"), date("2026-02-25")));
    assert_eq!(traded.len(), 1255);

    let calendar = NyseCalendar::new();
    let ours: BTreeSet<NaiveDate> =
        calendar.sessions_between(first, last).into_iter().map(|s| s.date).collect();
    let missing: Vec<_> = traded.difference(&ours).collect();
    let extra: Vec<_> = ours.difference(&traded).map(|day| (day, calendar.holiday_name(*day))).collect();
    assert!(missing.is_empty(), "bars on days we call closed: {missing:?}");
    assert!(extra.is_empty(), "sessions without bars: {extra:?}");
}

#[test]
fn carter_day_of_mourning_2025_01_09_is_closed() {
    let calendar = NyseCalendar::new();
    let day = date("2025-01-09");
    assert!(!calendar.is_session(day));
    assert_eq!(calendar.session(day), None);
    assert!(calendar.holiday_name(day).is_some_and(|name| name.contains("Carter")));
    assert_eq!(calendar.previous_session(day), date("2025-01-08"));
    assert_eq!(calendar.next_session(day), date("2025-01-10"));
    assert_eq!(calendar.next_session(date("2025-01-08")), date("2025-01-10"));
    // The recorded bars agree: none on 01-09, both neighbours traded.
    let aapl = yahoo_dates("AAPL");
    assert!(!aapl.contains(&day));
    assert!(aapl.contains(&date("2025-01-08")) && aapl.contains(&date("2025-01-10")));
}

#[test]
fn session_serializes_as_dates_and_rfc3339_instants() {
    let calendar = NyseCalendar::new();
    let black_friday = calendar.session(date("2023-11-24")).expect("early close");
    assert_eq!(
        serde_json::to_value(&black_friday).expect("json"),
        json!({
            "date": "2023-11-24",
            "open": "2023-11-24T09:30:00-05:00",
            "close": "2023-11-24T13:00:00-05:00",
            "early_close": true,
        })
    );
    // First session after DST began (Sunday 2023-03-12), and the one before.
    let after = calendar.session(date("2023-03-13")).expect("session");
    assert_eq!(
        serde_json::to_string(&after).expect("json"),
        r#"{"date":"2023-03-13","open":"2023-03-13T09:30:00-04:00","close":"2023-03-13T16:00:00-04:00","early_close":false}"#
    );
    let before = calendar.session(date("2023-03-10")).expect("session");
    assert_eq!(serde_json::to_value(&before).expect("json")["close"], "2023-03-10T16:00:00-05:00");
}

/// Tradier's `/v1/markets/calendar` for June 2013, as recorded by Tradier:
/// the exchange's own view. The rules must agree with it, and applying it
/// as overrides must change nothing.
#[test]
fn rules_agree_with_tradiers_june_2013_calendar() {
    let body: serde_json::Value = serde_json::from_str(&read_data(TRADIER_CALENDAR)).expect("calendar json");
    let days = body["calendar"]["days"]["day"].as_array().expect("day list");
    assert_eq!(days.len(), 30);

    let rules = NyseCalendar::new();
    let mut overridden = NyseCalendar::new();
    for day in days {
        let when = date(day["date"].as_str().expect("date"));
        let hours = match day["status"].as_str().expect("status") {
            "closed" => None,
            "open" => {
                let time = |key: &str| {
                    NaiveTime::parse_from_str(day["open"][key].as_str().expect(key), "%H:%M").expect("HH:MM")
                };
                Some((time("start"), time("end")))
            }
            other => panic!("unknown status {other:?} on {when}"),
        };
        let ours = rules.session(when).map(|s| (s.open.time(), s.close.time()));
        assert_eq!(ours, hours, "{when}");
        overridden.with_override(when, hours).expect("valid override");
        assert_eq!(overridden.session(when), rules.session(when), "{when}");
    }
    assert_eq!(overridden.overrides().len(), 30);
}

/// The command a user runs, `ivcd calendar 1990-01-01 2035-12-31 --json`,
/// against the exchange's sessions 1990-2023 (dates, open and close).
#[test]
fn the_calendar_command_agrees_with_exchange_calendars() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ivcd.toml");
    // No database: the rules alone (no stored exchange overrides).
    std::fs::write(&config, format!("database = {:?}\n", dir.path().join("none.db"))).unwrap();
    let mut cmd = crate::support::ivcd();
    let out = cmd
        .arg("--config")
        .arg(&config)
        .args(["calendar", "1990-01-01", "2035-12-31", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!dir.path().join("none.db").exists(), "listing the calendar creates no database");
    let listed: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let expected = xnys_sessions();
    let last_expected = *expected.keys().next_back().unwrap();
    let instant = |v: &serde_json::Value| {
        DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap().with_timezone(&Utc)
    };
    let got: BTreeMap<NaiveDate, (DateTime<Utc>, DateTime<Utc>)> = listed
        .iter()
        .map(|s| (date(s["date"].as_str().unwrap()), (instant(&s["open"]), instant(&s["close"]))))
        .filter(|(d, _)| *d <= last_expected)
        .collect();
    assert_eq!(got, expected);
    let last = listed.last().unwrap();
    assert_eq!(last["date"], "2035-12-31", "the list runs through 2035");
}

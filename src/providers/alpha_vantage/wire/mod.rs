//! Alpha Vantage's responses (JSON and CSV): notice detection and the pure
//! parsers from response bodies to domain types.
//!
//! Alpha Vantage answers most trouble with HTTP 200 and a small JSON object
//! instead of data, even on CSV endpoints (domain.md §9): `{"Note": ..}` or
//! `{"Information": ..}` when throttled, `{"Information": ..}` for other
//! notices (demo key, premium-only endpoint), `{"Error Message": ..}` for a
//! bad request. [`classify_json_notice`] recognises them; every parser here
//! calls it first and turns a notice into a [`ParseError`], while the client
//! calls it itself to map throttling to `ProviderError::RateLimited`.
//!
//! Alpha Vantage writes numbers as text, in JSON too; they are read with
//! [`Decimal::from_str`] (prices) or `f64` parsing (IV, delta), never
//! reinterpreted.

use std::collections::HashSet;
use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::America::New_York;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de;

use crate::domain::{DailyBar, EarningsEvent, Ticker, Timing};
use crate::providers::ParseError;
use crate::providers::decimal::plain_price;
use crate::providers::files::ohlcv::{describe_csv_error, parse_ohlcv_csv, record_line};

mod body;
mod historical;

use body::*;
pub use historical::{parse_historical_options_csv, parse_historical_options_json};

/// `source` of events from `EARNINGS_CALENDAR`.
pub const SOURCE_EARNINGS_CALENDAR: &str = "alpha_vantage:EARNINGS_CALENDAR";
/// `source` of events from `EARNINGS`.
pub const SOURCE_EARNINGS: &str = "alpha_vantage:EARNINGS";
/// `source` of chains from `HISTORICAL_OPTIONS`.
pub const SOURCE_HISTORICAL_OPTIONS: &str = "alpha_vantage:HISTORICAL_OPTIONS";

/// A notice Alpha Vantage sent instead of data (with HTTP 200).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AvNotice {
    /// Over the rate limit: a `Note` (the old per-minute message), or an
    /// `Information` that speaks of the rate limit, requests/calls per
    /// minute or day, or call frequency. Retrying later may succeed.
    Throttled(String),
    /// Any other `Information`: the demo key's notice, or "this is a premium
    /// endpoint". Retrying will not help; these are deliberately not
    /// [`AvNotice::Throttled`] even when they mention premium plans, so a
    /// client does not retry a request its plan can never serve.
    Information(String),
    /// `Error Message`: the request was invalid (unknown function or symbol,
    /// missing parameter).
    Error(String),
}

impl fmt::Display for AvNotice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AvNotice::Throttled(text) => write!(f, "rate limited: {text}"),
            AvNotice::Information(text) => write!(f, "information: {text}"),
            AvNotice::Error(text) => write!(f, "error: {text}"),
        }
    }
}

/// Recognises an Alpha Vantage notice body: a JSON object whose keys are all
/// among `Note`, `Information` and `Error Message`.
///
/// Cheap on data: a body that does not start with `{` (CSV) is rejected at
/// its first byte, and a JSON data body at its first key that is not a
/// notice key, without reading further. A data object that also carries an
/// `Information` key is data, not a notice. When several notice keys are
/// present, a throttle wins over an error, and an error over information.
pub fn classify_json_notice(body: &str) -> Option<AvNotice> {
    let body = body.strip_prefix('\u{feff}').unwrap_or(body).trim_start();
    if !body.starts_with('{') {
        return None;
    }
    let mut deserializer = serde_json::Deserializer::from_str(body);
    let notice = NoticeKeys::deserialize(&mut deserializer).ok()?;
    if let Some(text) = notice.note {
        return Some(AvNotice::Throttled(text));
    }
    if let Some(text) = notice.information.as_ref().filter(|text| speaks_of_rate_limit(text)) {
        return Some(AvNotice::Throttled(text.clone()));
    }
    if let Some(text) = notice.error {
        return Some(AvNotice::Error(text));
    }
    notice.information.map(AvNotice::Information)
}

/// Parses `EARNINGS_CALENDAR` (CSV) into events; see [`EarningsCalendarRows`].
///
/// Header `symbol,name,reportDate,fiscalDateEnding,estimate,currency[,timeOfTheDay]`
/// (columns found by name). `reportDate` is the ET report date; timing comes
/// from `timeOfTheDay` (`pre-market` BMO, `post-market` AMC, blank Unknown)
/// through [`Timing::parse_vendor`], and is Unknown when the column is absent
/// (files before 2026). Source `alpha_vantage:EARNINGS_CALENDAR`.
///
/// Rows whose symbol is not a valid [`Ticker`] (`CBIO_OLD`) are not events
/// ivcd can trade: they go to `skipped` with their line, not into an error,
/// because the calendar lists thousands of foreign and OTC symbols and one of
/// them must not cost the whole day. Rows that repeat an event already read
/// (same ticker, date and timing; Alpha Vantage lists some report dates once
/// per fiscal period) are dropped, keeping the first.
///
/// # Errors
/// A [`ParseError`] naming `input`: an Alpha Vantage notice (throttle, error,
/// information), empty body, HTML page, missing column, a row with the wrong
/// number of fields, and (naming the line) a report date that is not
/// `YYYY-MM-DD` or a timing that is not a known spelling.
pub fn parse_earnings_calendar_csv(body: &str, input: &str) -> Result<EarningsCalendarRows, ParseError> {
    let body = check_csv_body(body, input)?;
    let err = |message: String| ParseError::new(input, message);
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(body.as_bytes());
    let header = reader.headers().map_err(|e| err(format!("header: {e}")))?.clone();
    let find = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let missing =
        |name: &str| err(format!("no `{name}` column in the header {:?}", header.iter().collect::<Vec<_>>()));
    let symbol_col = find("symbol").ok_or_else(|| missing("symbol"))?;
    let date_col = find("reportDate").ok_or_else(|| missing("reportDate"))?;
    let timing_col = find("timeOfTheDay");

    let mut rows = EarningsCalendarRows { events: Vec::new(), skipped: Vec::new() };
    let mut seen = HashSet::new();
    for record in reader.records() {
        let record = record.map_err(|e| err(describe_csv_error(&e)))?;
        let line = record_line(&record, body);
        let cell = |col: usize| record.get(col).unwrap_or("");
        let symbol = cell(symbol_col);
        let ticker = match Ticker::new(symbol) {
            Ok(ticker) => ticker,
            Err(e) => {
                rows.skipped.push(SkippedRow { line, symbol: symbol.to_owned(), reason: e.to_string() });
                continue;
            }
        };
        let report_date = date_text(cell(date_col))
            .ok_or_else(|| err(format!("line {line}: reportDate {:?} is not YYYY-MM-DD", cell(date_col))))?;
        let timing = match timing_col.map(cell) {
            None => Timing::Unknown,
            Some(text) => Timing::parse_vendor(text)
                .ok_or_else(|| err(format!("line {line}: timeOfTheDay {text:?} is not a known timing")))?,
        };
        if seen.insert((ticker.clone(), report_date, timing)) {
            rows.events.push(EarningsEvent {
                ticker,
                report_date,
                timing,
                source: SOURCE_EARNINGS_CALENDAR.to_owned(),
            });
        }
    }
    Ok(rows)
}

/// What [`parse_earnings_calendar_csv`] read: the events, and the rows it
/// left out because their symbol is not a valid ticker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarningsCalendarRows {
    /// The events, in file order, exact repeats dropped.
    pub events: Vec<EarningsEvent>,
    /// Rows left out, for the client to log.
    pub skipped: Vec<SkippedRow>,
}

/// A calendar row left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRow {
    /// The line in the body (1-based, the header is line 1).
    pub line: u64,
    /// The symbol as written.
    pub symbol: String,
    /// Why it was left out.
    pub reason: String,
}

/// Parses `EARNINGS` (JSON) into the company's past reports, in response
/// order (newest first).
///
/// Shape: `{"symbol": "IBM", "annualEarnings": [..], "quarterlyEarnings":
/// [{"reportedDate": "2019-07-17", "reportTime": "post-market", ..}, ..]}`.
/// The ticker is `symbol`; the date is `reportedDate` (ET); timing is
/// `reportTime` (`pre-market` BMO, `post-market` AMC) through
/// [`Timing::parse_vendor`], Unknown when absent. EPS figures are ignored.
/// Source `alpha_vantage:EARNINGS`. `{}` (Alpha Vantage's answer for an
/// unknown symbol) is no events.
///
/// # Errors
/// A [`ParseError`] naming `input`: an Alpha Vantage notice, empty body, HTML
/// page, malformed JSON or a missing/mistyped field (line and column), an
/// invalid ticker, and (naming the quarter) a date that is not `YYYY-MM-DD`
/// or an unknown `reportTime`.
pub fn parse_earnings_json(body: &str, input: &str) -> Result<Vec<EarningsEvent>, ParseError> {
    let wire: EarningsBody = from_json(body, input)?;
    let (symbol, quarters) = match (wire.symbol, wire.quarterly_earnings) {
        (Some(symbol), Some(quarters)) => (symbol, quarters),
        (None, None) => return Ok(Vec::new()),
        _ => return Err(ParseError::new(input, "expected both `symbol` and `quarterlyEarnings`")),
    };
    let ticker = Ticker::new(&symbol).map_err(|e| ParseError::new(input, format!("symbol: {e}")))?;
    quarters
        .into_iter()
        .enumerate()
        .map(|(index, quarter)| {
            let at = |why: String| ParseError::new(input, format!("quarterlyEarnings[{index}]: {why}"));
            let report_date = date_text(&quarter.reported_date)
                .ok_or_else(|| at(format!("reportedDate {:?} is not YYYY-MM-DD", quarter.reported_date)))?;
            let timing = match &quarter.report_time {
                None => Timing::Unknown,
                Some(text) => Timing::parse_vendor(text)
                    .ok_or_else(|| at(format!("reportTime {text:?} is not a known timing")))?,
            };
            Ok(EarningsEvent {
                ticker: ticker.clone(),
                report_date,
                timing,
                source: SOURCE_EARNINGS.to_owned(),
            })
        })
        .collect()
}

/// Parses `TIME_SERIES_DAILY` (or `_ADJUSTED`) with `datatype=csv` into bars,
/// ascending by date (the body is newest first).
///
/// Header `timestamp,open,high,low,close,volume` (the adjusted variant adds
/// `adjusted_close`, `dividend_amount`, `split_coefficient`, ignored): the
/// raw prices in USD, volume in shares. Read by
/// [`parse_ohlcv_csv`](crate::providers::files::ohlcv::parse_ohlcv_csv) once
/// the body is known not to be a notice.
///
/// # Errors
/// A [`ParseError`] naming `input`: an Alpha Vantage notice, empty body, HTML
/// page, or any error of `parse_ohlcv_csv` (line and column).
pub fn parse_daily_csv(body: &str, input: &str) -> Result<Vec<DailyBar>, ParseError> {
    let body = check_csv_body(body, input)?;
    parse_ohlcv_csv(body, input)
}

/// Parses `TIME_SERIES_DAILY` (or `_ADJUSTED`) JSON into bars, ascending.
///
/// Shape: `{"Meta Data": {..}, "Time Series (Daily)": {"2026-05-15":
/// {"1. open": "218.2000", "2. high": .., "3. low": .., "4. close": ..,
/// "5. volume": "6154450"}, ..}}`; the adjusted variant has `"5. adjusted
/// close"` and `"6. volume"`. Prices are the raw ones, read exactly from
/// their text (USD); volume in shares.
///
/// # Errors
/// A [`ParseError`] naming `input`: an Alpha Vantage notice, empty body, HTML
/// page, no `Time Series (Daily)`, malformed JSON (line and column), and
/// (naming the date) a missing or unparsable price or volume, a bad date, a
/// date listed twice.
pub fn parse_daily_json(body: &str, input: &str) -> Result<Vec<DailyBar>, ParseError> {
    let wire: DailyBody = from_json(body, input)?;
    let series = wire.series.ok_or_else(|| {
        ParseError::new(input, "no `Time Series (Daily)`: not a TIME_SERIES_DAILY response")
    })?;
    let mut bars = Vec::with_capacity(series.0.len());
    for (date_key, day) in series.0 {
        let at = |why: String| ParseError::new(input, format!("Time Series (Daily).{date_key}: {why}"));
        let date = date_text(&date_key).ok_or_else(|| at("the key is not a YYYY-MM-DD date".to_owned()))?;
        let price = |name: &str, text: &Option<String>| -> Result<Decimal, ParseError> {
            let text = text.as_deref().ok_or_else(|| at(format!("no `{name}`")))?;
            price_text_trimmed(text).ok_or_else(|| at(format!("`{name}` {text:?} is not a price")))
        };
        let volume_text = day.volume.as_ref().or(day.volume_adjusted.as_ref());
        let volume = match volume_text {
            None => None,
            Some(text) => {
                Some(text.parse::<u64>().map_err(|_| at(format!("volume {text:?} is not a whole number")))?)
            }
        };
        bars.push(DailyBar {
            date,
            open: price("1. open", &day.open)?,
            high: price("2. high", &day.high)?,
            low: price("3. low", &day.low)?,
            close: price("4. close", &day.close)?,
            volume,
        });
    }
    bars.sort_by_key(|bar| bar.date);
    if let Some(pair) = bars.windows(2).find(|pair| pair[0].date == pair[1].date) {
        return Err(ParseError::new(
            input,
            format!("Time Series (Daily): date {} is listed twice", pair[0].date),
        ));
    }
    Ok(bars)
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// The close (16:00 America/New_York) of `date`, in UTC: the `as_of` of an
/// end-of-day chain.
pub fn end_of_day_utc(date: NaiveDate) -> Option<DateTime<Utc>> {
    let close = NaiveTime::from_hms_opt(16, 0, 0)?;
    New_York.from_local_datetime(&date.and_time(close)).single().map(|t| t.with_timezone(&Utc))
}

/// Rejects notices, empty bodies, HTML pages and other JSON before CSV parsing.
fn check_csv_body<'b>(body: &'b str, input: &str) -> Result<&'b str, ParseError> {
    let body = body.strip_prefix('\u{feff}').unwrap_or(body);
    if let Some(notice) = classify_json_notice(body) {
        return Err(ParseError::new(input, format!("Alpha Vantage sent a notice instead of data: {notice}")));
    }
    let trimmed = body.trim_start();
    if trimmed.is_empty() {
        return Err(ParseError::new(input, "empty body"));
    }
    if trimmed.starts_with('<') || trimmed.starts_with('{') || trimmed.starts_with('[') {
        let start: String = trimmed.chars().take(80).collect();
        return Err(ParseError::new(input, format!("not CSV (an HTML page or JSON): {start:?}")));
    }
    Ok(body)
}

/// Deserializes a JSON body after rejecting notices, empty bodies and HTML.
fn from_json<T: de::DeserializeOwned>(body: &str, input: &str) -> Result<T, ParseError> {
    let body = body.strip_prefix('\u{feff}').unwrap_or(body);
    if let Some(notice) = classify_json_notice(body) {
        return Err(ParseError::new(input, format!("Alpha Vantage sent a notice instead of data: {notice}")));
    }
    let trimmed = body.trim_start();
    if trimmed.is_empty() {
        return Err(ParseError::new(input, "empty body"));
    }
    if trimmed.starts_with('<') {
        let start: String = trimmed.chars().take(80).collect();
        return Err(ParseError::new(input, format!("an HTML/XML page, not JSON: {start:?}")));
    }
    serde_json::from_str(body).map_err(|e| ParseError::new(input, format!("unexpected JSON: {e}")))
}

/// Whether an `Information` text is about the rate limit.
fn speaks_of_rate_limit(text: &str) -> bool {
    let lower = text.to_lowercase();
    ["rate limit", "requests per", "calls per", "call frequency", "call volume"]
        .iter()
        .any(|needle| lower.contains(needle))
}

/// An optional cell: absent or empty is `None`; otherwise `parse` must
/// succeed, else the offending text is the error.
fn optional<T>(text: Option<&str>, parse: impl Fn(&str) -> Option<T>) -> Result<Option<T>, &str> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => parse(t).map(Some).ok_or(t),
    }
}

fn date_text(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// A non-negative price as `digits[.digits]`, surrounding spaces allowed.
fn price_text_trimmed(text: &str) -> Option<Decimal> {
    plain_price(text.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices() {
        let throttle = r#"{"Note": "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute and 500 calls per day."}"#;
        assert!(matches!(classify_json_notice(throttle), Some(AvNotice::Throttled(_))));
        let daily = r#"{"Information": "We have detected your API key as X and our standard API rate limit is 25 requests per day."}"#;
        assert!(matches!(classify_json_notice(daily), Some(AvNotice::Throttled(_))));
        let premium = r#"{"Information": "Thank you for using Alpha Vantage! This is a premium endpoint. You may subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to instantly unlock all premium endpoints"}"#;
        assert!(matches!(classify_json_notice(premium), Some(AvNotice::Information(_))));
        let error = r#"{"Error Message": "Invalid API call."}"#;
        assert_eq!(classify_json_notice(error), Some(AvNotice::Error("Invalid API call.".into())));
        assert_eq!(classify_json_notice("symbol,name\nIBM,x\n"), None);
        assert_eq!(classify_json_notice(r#"{"symbol": "IBM", "Information": "rate limit"}"#), None);
        assert_eq!(classify_json_notice("{}"), None);
        assert_eq!(classify_json_notice("{\"Note\": "), None);
    }

    #[test]
    fn end_of_day_is_the_new_york_close() {
        let d = NaiveDate::from_ymd_opt(2026, 5, 15).unwrap();
        assert_eq!(end_of_day_utc(d).unwrap().to_rfc3339(), "2026-05-15T20:00:00+00:00");
        let d = NaiveDate::from_ymd_opt(2025, 11, 7).unwrap();
        assert_eq!(end_of_day_utc(d).unwrap().to_rfc3339(), "2025-11-07T21:00:00+00:00");
    }
}

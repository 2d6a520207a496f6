//! Tradier's JSON responses: private serde wire types and the pure parsers
//! from response bodies to domain types.
//!
//! Two generations of the API are read: the current one (recorded by OpenBB
//! in 2024: epoch-millisecond dates, `greeks`, `option_type`,
//! `expiration_date`, `contract_size`, `root_symbol`) and the 2013 beta (the
//! tradier.rb fixtures: ISO-8601 date strings, no greeks, options identified
//! only by their OCC symbol).
//!
//! Quirks handled everywhere (domain.md §9):
//! - a list with one element arrives as the bare element (`"day": {...}`);
//! - an empty list arrives as `null` or as the string `"null"`
//!   (`{"history": "null"}`, `{"options": null}`);
//! - `last` (and `open`/`high`/`low`/`close`) may be `null`;
//! - `trade_date` (and `bid_date`/`ask_date`) may be `0` meaning "never";
//! - `bid_iv` is 0.0 when the bid is 0 (ivcd reads `mid_iv` only).
//!
//! Numbers arrive as JSON numbers and become [`Decimal`] through
//! [`decimal_from_f64`], which keeps the digits the vendor wrote. Every error
//! names the input; serde errors add the line and column in the body.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde::de;

use crate::domain::{ChainSnapshot, DailyBar, OptionQuote, OptionRight, Ticker, UnderlyingQuote};
use crate::providers::files::occ::{is_nonstandard_root, parse_occ_symbol};
use crate::providers::{ParseError, decimal_from_f64};

mod body;

use body::*;

/// The `source` of every snapshot this module produces.
pub const SOURCE: &str = "tradier";

/// One day of Tradier's market calendar (`/v1/markets/calendar`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketDay {
    /// The date (America/New_York).
    pub date: NaiveDate,
    /// The regular session's (start, end), ET wall-clock times (e.g. 09:30,
    /// 16:00; 13:00 end on an early close); `None` when the market is closed.
    pub open: Option<(NaiveTime, NaiveTime)>,
}

/// Tradier's market clock (`/v1/markets/clock`), as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketClock {
    /// The exchange's current date (America/New_York).
    pub date: NaiveDate,
    /// The market state: `premarket`, `open`, `postmarket` or `closed`.
    pub state: String,
    /// Tradier's description, e.g. `Market is open from 09:30 to 16:00`.
    pub description: Option<String>,
    /// The state after the next change, e.g. `postmarket`.
    pub next_state: Option<String>,
    /// When the next change happens, ET wall-clock time (e.g. 16:00).
    pub next_change: Option<NaiveTime>,
    /// When Tradier took the reading (`timestamp`, epoch seconds), UTC.
    pub timestamp: Option<DateTime<Utc>>,
}

// ---------------------------------------------------------------------------
// Parsers
// ---------------------------------------------------------------------------

/// Parses `/v1/markets/quotes` into underlying quotes, in response order.
///
/// Shape: `{"quotes": {"quote": [..] | {..}, "unmatched_symbols": {..}}}`;
/// `quote` may be absent (every symbol unmatched) and `quotes` may be `null`
/// or `"null"`: no quotes. Unmatched symbols are left out (the `Quotes`
/// contract). Option quotes (`"type": "option"`, or no `type` and an OCC
/// symbol, as in 2013) are left out: they are not underlyings.
///
/// Per quote: `bid`/`ask` in USD, 0 or absent meaning no quote (`None`);
/// `last` as given (`null` is `None`); `open` and `prevclose` in USD, 0 or
/// `null` meaning none (a stock that has not opened yet); `volume` in shares; `as_of` is the
/// latest of `bid_date`, `ask_date`, `trade_date` (epoch milliseconds today,
/// ISO-8601 in 2013), ignoring zeros; `None` when none is set.
///
/// # Errors
/// A [`ParseError`] naming `input`: empty body, HTML page, a Tradier error
/// body (`fault`, `errors`), malformed JSON, a wrong type (with line and
/// column), a price no decimal can hold, or a non-option symbol that is not a
/// valid ticker.
pub fn parse_quotes(body: &str, input: &str) -> Result<Vec<UnderlyingQuote>, ParseError> {
    let wire: QuotesBody = from_json(body, input)?;
    let Some(inner) = wire.quotes.0 else {
        return Ok(Vec::new());
    };
    let mut quotes = Vec::new();
    for (index, quote) in inner.quote.0.into_iter().enumerate() {
        let at = |field: &str| format!("quotes.quote[{index}] ({}).{field}", quote.symbol);
        let is_option = match quote.kind.as_deref() {
            Some(kind) => kind.eq_ignore_ascii_case("option"),
            None => parse_occ_symbol(&quote.symbol).is_some(),
        };
        if is_option {
            continue;
        }
        let ticker = Ticker::new(&quote.symbol)
            .map_err(|e| ParseError::new(input, format!("{}: {e}", at("symbol"))))?;
        let bid = money(quote.bid, input, || at("bid"))?.filter(|p| !p.is_zero());
        let ask = money(quote.ask, input, || at("ask"))?.filter(|p| !p.is_zero());
        let last = money(quote.last, input, || at("last"))?;
        let open = money(quote.open, input, || at("open"))?.filter(|p| !p.is_zero());
        let prev_close = money(quote.prevclose, input, || at("prevclose"))?.filter(|p| !p.is_zero());
        let as_of = [quote.bid_date.0, quote.ask_date.0, quote.trade_date.0].into_iter().flatten().max();
        quotes.push(UnderlyingQuote {
            ticker,
            bid,
            ask,
            last,
            volume: quote.volume,
            as_of,
            open,
            prev_close,
        });
    }
    Ok(quotes)
}

/// Parses `/v1/markets/options/expirations` into dates, ascending, without
/// duplicates.
///
/// Shapes: `{"expirations": {"date": ["2024-06-28", ..] | "2024-06-28"}}`
/// (plain), `{"expirations": {"expiration": [{"date": .., "strikes": ..}, ..]}}`
/// (`strikes=true`; strikes are ignored), or `{"expirations": null | "null"}`
/// (no expirations: empty).
///
/// # Errors
/// A [`ParseError`] naming `input`: empty body, HTML page, Tradier error body,
/// malformed JSON, a date that is not `YYYY-MM-DD` (with line and column).
pub fn parse_expirations(body: &str, input: &str) -> Result<Vec<NaiveDate>, ParseError> {
    let wire: ExpirationsBody = from_json(body, input)?;
    let Some(inner) = wire.expirations.0 else {
        return Ok(Vec::new());
    };
    let mut dates: Vec<NaiveDate> = inner
        .date
        .0
        .into_iter()
        .map(|d| d.0)
        .chain(inner.expiration.0.into_iter().map(|e| e.date.0))
        .collect();
    dates.sort_unstable();
    dates.dedup();
    Ok(dates)
}

/// Parses `/v1/markets/options/chains` (one expiration) into a snapshot of
/// `ticker` taken at `as_of` (the chain carries no time stamp of its own; the
/// caller passes when it asked). Source `tradier`; `underlying` is `None`.
///
/// Shape: `{"options": {"option": [..] | {..}}}`, or `{"options": null |
/// "null"}` (no contracts: an empty snapshot).
///
/// Per contract (prices USD per share, as given):
/// - `symbol` (OCC) is kept; `expiration_date` and `option_type` are used
///   when present, else they come from the symbol (2013 format);
/// - `bid`, `ask`, `last`: a bid of 0 stays `Some(0)`; `null` is `None`;
/// - `volume`, `open_interest` (contracts), `contract_size` (shares) as given;
/// - `iv` = `greeks.mid_iv` (ORATS, annualised fraction) when present and
///   positive, else `None`; `delta` = `greeks.delta`; no greeks in 2013.
///
/// Contracts of a non-standard root (`AAPL7` minis, `AMD1` adjusted; see
/// [`is_nonstandard_root`]) are left out. A contract whose `underlying`
/// names another ticker is an error (the body answers another request).
///
/// # Errors
/// A [`ParseError`] naming `input`: empty body, HTML page, Tradier error body,
/// malformed JSON or a wrong type (line and column), a missing `symbol` or
/// `strike`, an expiration or right neither given nor readable from the
/// symbol, an `option_type` other than call/put, another underlying.
pub fn parse_chain(
    body: &str,
    input: &str,
    ticker: &Ticker,
    as_of: DateTime<Utc>,
) -> Result<ChainSnapshot, ParseError> {
    let wire: ChainBody = from_json(body, input)?;
    let options = wire.options.0.map(|inner| inner.option.0).unwrap_or_default();
    let mut contracts = Vec::with_capacity(options.len());
    for (index, option) in options.into_iter().enumerate() {
        let at = |field: &str| format!("options.option[{index}] ({}).{field}", option.symbol);
        let fail = |field: &str, why: String| ParseError::new(input, format!("{}: {why}", at(field)));
        if let Some(underlying) = &option.underlying
            && Ticker::new(underlying).ok().as_ref() != Some(ticker)
        {
            return Err(fail("underlying", format!("{underlying:?} is not the requested {ticker}")));
        }
        let occ = parse_occ_symbol(&option.symbol);
        let root = option.root_symbol.clone().or_else(|| occ.as_ref().map(|o| o.root.clone()));
        if root.as_deref().is_some_and(|root| is_nonstandard_root(root, ticker)) {
            continue;
        }
        let expiration = match (&option.expiration_date, &occ) {
            (Some(date), _) => date.0,
            (None, Some(occ)) => occ.expiration,
            (None, None) => {
                return Err(fail("expiration_date", "absent, and the symbol is not an OCC symbol".into()));
            }
        };
        let right = match (option.option_type.as_deref(), &occ) {
            (Some(kind), _) if kind.eq_ignore_ascii_case("call") => OptionRight::Call,
            (Some(kind), _) if kind.eq_ignore_ascii_case("put") => OptionRight::Put,
            (Some(kind), _) => return Err(fail("option_type", format!("{kind:?} is neither call nor put"))),
            (None, Some(occ)) => occ.right,
            (None, None) => {
                return Err(fail("option_type", "absent, and the symbol is not an OCC symbol".into()));
            }
        };
        let strike = money(Some(option.strike), input, || at("strike"))?
            .ok_or_else(|| fail("strike", "absent".into()))?;
        let greeks = option.greeks.0.unwrap_or_default();
        contracts.push(OptionQuote {
            expiration,
            strike,
            right,
            bid: money(option.bid, input, || at("bid"))?,
            ask: money(option.ask, input, || at("ask"))?,
            last: money(option.last, input, || at("last"))?,
            volume: option.volume,
            open_interest: option.open_interest,
            iv: greeks.mid_iv.filter(|iv| *iv > 0.0),
            delta: greeks.delta,
            contract_size: option.contract_size,
            symbol: Some(option.symbol),
        });
    }
    Ok(ChainSnapshot {
        ticker: ticker.clone(),
        as_of,
        source: SOURCE.to_owned(),
        underlying: None,
        contracts,
    })
}

/// Parses `/v1/markets/history` (daily) into bars, ascending by date.
///
/// Shape: `{"history": {"day": [..] | {..}}}` or `{"history": null | "null"}`
/// (no bars). Per day: `date` (`YYYY-MM-DD`), `open`/`high`/`low`/`close` in
/// USD (Tradier: "may not be dividend adjusted"), `volume` in shares. A day
/// whose four prices are all `null` is skipped (no bar to report); a day with
/// some prices `null` is an error.
///
/// # Errors
/// A [`ParseError`] naming `input`: empty body, HTML page, Tradier error body,
/// malformed JSON or wrong type (line and column), partial prices, or a date
/// listed twice.
pub fn parse_history(body: &str, input: &str) -> Result<Vec<DailyBar>, ParseError> {
    let wire: HistoryBody = from_json(body, input)?;
    let days = wire.history.0.map(|inner| inner.day.0).unwrap_or_default();
    let mut bars = Vec::with_capacity(days.len());
    for (index, day) in days.into_iter().enumerate() {
        let date = day.date.0;
        let at = |field: &str| format!("history.day[{index}] ({date}).{field}");
        let prices = [("open", day.open), ("high", day.high), ("low", day.low), ("close", day.close)];
        if prices.iter().all(|(_, p)| p.is_none()) {
            continue;
        }
        let mut values = [Decimal::ZERO; 4];
        for (slot, (name, price)) in values.iter_mut().zip(prices) {
            *slot = money(price, input, || at(name))?.ok_or_else(|| {
                ParseError::new(input, format!("{}: null while other prices are set", at(name)))
            })?;
        }
        let [open, high, low, close] = values;
        bars.push(DailyBar { date, open, high, low, close, volume: day.volume });
    }
    bars.sort_by_key(|bar| bar.date);
    if let Some(pair) = bars.windows(2).find(|pair| pair[0].date == pair[1].date) {
        return Err(ParseError::new(input, format!("history.day: date {} is listed twice", pair[0].date)));
    }
    Ok(bars)
}

/// Parses `/v1/markets/calendar` into days, in response order (Tradier lists
/// the month's days ascending).
///
/// Shape: `{"calendar": {"month": .., "year": .., "days": {"day": [..]}}}`.
/// Per day: `date`, `status` (`open` or `closed`), and for an open day
/// `open: {"start": "09:30", "end": "16:00"}` (ET wall clock; the end is
/// 13:00 on an early close). `premarket`/`postmarket` windows are ignored.
///
/// # Errors
/// A [`ParseError`] naming `input`: empty body, HTML page, Tradier error body,
/// malformed JSON or wrong type (line and column), a status other than
/// open/closed, an open day without its `open` window, a time not `HH:MM`.
pub fn parse_market_calendar(body: &str, input: &str) -> Result<Vec<MarketDay>, ParseError> {
    let wire: CalendarBody = from_json(body, input)?;
    let days = wire.calendar.days.0.map(|inner| inner.day.0).unwrap_or_default();
    days.into_iter()
        .map(|day| {
            let date = day.date.0;
            let fail = |why: String| ParseError::new(input, format!("calendar.days.day ({date}): {why}"));
            let open = match day.status.as_str() {
                "closed" => None,
                "open" => {
                    let window =
                        day.open.ok_or_else(|| fail("status open without an `open` window".into()))?;
                    let start = clock_time(&window.start)
                        .ok_or_else(|| fail(format!("open.start {:?} is not HH:MM", window.start)))?;
                    let end = clock_time(&window.end)
                        .ok_or_else(|| fail(format!("open.end {:?} is not HH:MM", window.end)))?;
                    Some((start, end))
                }
                other => return Err(fail(format!("unknown status {other:?}"))),
            };
            Ok(MarketDay { date, open })
        })
        .collect()
}

/// Parses `/v1/markets/clock`.
///
/// Shape: `{"clock": {"date": "2013-06-11", "description": "Market is
/// closed.", "next_change": "08:00", "next_state": "premarket", "state":
/// "closed", "timestamp": 1370918353}}`. `date` and `state` are required; the
/// rest is `None` when absent. `next_change` is an ET wall-clock time.
///
/// # Errors
/// A [`ParseError`] naming `input`: empty body, HTML page, Tradier error body,
/// malformed JSON or wrong type (line and column), `next_change` not `HH:MM`,
/// a timestamp out of range.
pub fn parse_clock(body: &str, input: &str) -> Result<MarketClock, ParseError> {
    let wire: ClockBody = from_json(body, input)?;
    let clock = wire.clock;
    let next_change = match &clock.next_change {
        Some(text) => Some(
            clock_time(text)
                .ok_or_else(|| ParseError::new(input, format!("clock.next_change: {text:?} is not HH:MM")))?,
        ),
        None => None,
    };
    let timestamp =
        match clock.timestamp {
            Some(seconds) => Some(DateTime::from_timestamp(seconds, 0).ok_or_else(|| {
                ParseError::new(input, format!("clock.timestamp: {seconds} is out of range"))
            })?),
            None => None,
        };
    Ok(MarketClock {
        date: clock.date.0,
        state: clock.state,
        description: clock.description,
        next_state: clock.next_state,
        next_change,
        timestamp,
    })
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Deserializes a body, first turning the usual non-answers into clear errors.
fn from_json<T: de::DeserializeOwned>(body: &str, input: &str) -> Result<T, ParseError> {
    let body = body.strip_prefix('\u{feff}').unwrap_or(body);
    let trimmed = body.trim_start();
    if trimmed.is_empty() {
        return Err(ParseError::new(input, "empty body"));
    }
    if trimmed.starts_with('<') {
        let start: String = trimmed.chars().take(80).collect();
        return Err(ParseError::new(input, format!("an HTML/XML page, not JSON: {start:?}")));
    }
    serde_json::from_str(body).map_err(|e| {
        let message = match tradier_error_text(body) {
            Some(said) => format!("Tradier answered with an error: {said}"),
            None => format!("unexpected JSON: {e}"),
        };
        ParseError::new(input, message)
    })
}

/// The message of a Tradier error body: `{"fault": {"faultstring": ..}}` or
/// `{"errors": {"error": ..}}`.
fn tradier_error_text(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    if let Some(fault) = value.get("fault") {
        return Some(fault.get("faultstring").map_or_else(|| fault.to_string(), |s| s.to_string()));
    }
    value.get("errors").map(|errors| errors.get("error").unwrap_or(errors).to_string())
}

/// A JSON price as an exact decimal (see [`decimal_from_f64`]); `field`
/// names it in the error (made only then: a chain has thousands of prices).
fn money(
    value: Option<f64>,
    input: &str,
    field: impl FnOnce() -> String,
) -> Result<Option<Decimal>, ParseError> {
    match value {
        None => Ok(None),
        Some(v) => decimal_from_f64(v)
            .map(Some)
            .ok_or_else(|| ParseError::new(input, format!("{}: {v} is not a representable price", field()))),
    }
}

/// `HH:MM` (also `HH:MM:SS`).
fn clock_time(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text, "%H:%M").or_else(|_| NaiveTime::parse_from_str(text, "%H:%M:%S")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn pltr() -> Ticker {
        Ticker::new("PLTR").unwrap()
    }

    #[test]
    fn single_element_and_null_lists() {
        let one = r#"{"history":{"day":{"date":"2024-02-01","open":1.5,"high":2,"low":1,"close":1.75,"volume":3}}}"#;
        let bars = parse_history(one, "t").unwrap();
        assert_eq!(bars.len(), 1);
        assert_eq!(bars[0].close, dec!(1.75));
        assert_eq!(parse_history(r#"{"history":null}"#, "t").unwrap(), vec![]);
        assert_eq!(parse_history(r#"{"history":"null"}"#, "t").unwrap(), vec![]);
        assert_eq!(parse_expirations(r#"{"expirations":{"date":"2024-06-28"}}"#, "t").unwrap().len(), 1);
        assert_eq!(parse_expirations(r#"{"expirations":"null"}"#, "t").unwrap(), vec![]);
        let now = crate::clock::Clock::now(&crate::clock::SystemClock);
        assert!(parse_chain(r#"{"options":null}"#, "t", &pltr(), now).unwrap().contracts.is_empty());
    }

    #[test]
    fn quotes_skip_unmatched_and_options() {
        let body = r#"{"quotes":{"unmatched_symbols":{"symbol":"ZZZZ"}}}"#;
        assert!(parse_quotes(body, "t").unwrap().is_empty());
        let body = r#"{"quotes":{"quote":{"symbol":"X","type":"stock","bid":0,"ask":0.0,"last":null,"trade_date":0,"bid_date":0,"ask_date":0}}}"#;
        let q = parse_quotes(body, "t").unwrap();
        assert_eq!((q[0].bid, q[0].ask, q[0].last, q[0].as_of), (None, None, None, None));
    }

    #[test]
    fn errors_name_input_and_position() {
        let e = parse_history(r#"{"history":{"day":[{"date":"2024-02-01","open":"x"}]}}"#, "hist AAPL")
            .unwrap_err();
        assert_eq!(e.input, "hist AAPL");
        assert!(e.message.contains("line 1 column"), "{e}");
        let e = parse_quotes(r#"{"fault":{"faultstring":"Invalid Access Token"}}"#, "q").unwrap_err();
        assert!(e.message.contains("Invalid Access Token"), "{e}");
        let e = parse_clock("<html><body>502 Bad Gateway</body></html>", "clock").unwrap_err();
        assert!(e.message.contains("HTML"), "{e}");
    }
}

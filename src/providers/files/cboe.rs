//! Cboe's delayed-quotes option chain download (`<ticker>_quotedata.csv`).
//! The OCC option symbol it shares with every chain source is in
//! [`super::occ`] (re-exported here).
//!
//! The file, as saved from www.cboe.com/delayed_quotes (domain.md §9):
//!
//! ```text
//!
//! Carvana Co,Last: 36.8,Change:  0.29
//! "Date: July 18, 2023 at 7:51 AM EDT",Bid: 36.8,Ask: 36.86,Size: 2*8,"Volume: 21,041,228"
//! Expiration Date,Calls,Last Sale,Net,Bid,Ask,Volume,IV,Delta,Gamma,Open Interest,Strike,Puts,Last Sale,Net,Bid,Ask,Volume,IV,Delta,Gamma,Open Interest
//! Fri Jul 21 2023,CVNA230721C00036500,2.35,-1.075,2.31,2.4,554,1.5432,0.5321,0.0673,716,36.50,CVNA230721P00036500,2.36,...
//! ```
//!
//! a blank line, the underlying's name and last price, the time stamp with the
//! underlying's bid and ask, a header, then one row per (expiration, strike)
//! with the call on the left and the put on the right. A download made with a
//! French browser locale writes the time stamp as
//! `Date: 10 novembre 2023 à 18:55 UTC−5` (U+2212 minus) and groups the volume
//! with U+202F; both forms are read.

use std::collections::BTreeSet;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::America::New_York;
use rust_decimal::Decimal;

use crate::domain::{ChainSnapshot, OptionQuote, OptionRight, Ticker, UnderlyingQuote};
use crate::providers::ParseError;
use crate::providers::decimal::plain_decimal;
use crate::providers::files::occ::same_expiration;
pub use crate::providers::files::occ::{OccSymbol, is_nonstandard_root, parse_occ_symbol};
use crate::providers::files::ohlcv::{describe_csv_error, record_line};

/// The `source` of every snapshot this module produces.
pub const SOURCE: &str = "cboe_csv";

/// Parses a Cboe delayed-quotes chain download into a snapshot.
///
/// - `as_of` is the `Date:` line's wall-clock time: `EDT`/`EST` are checked
///   against America/New_York's offset on that date (chrono-tz) and converted
///   to UTC; `UTC±H` (French-locale downloads) is a fixed offset.
/// - `ticker` is the OCC root of the contract symbols. Rows may mix the
///   standard root with adjusted roots that add digits (`AMD` and `AMD1`);
///   the ticker is the standard root and the adjusted contracts are left out
///   (see [`is_nonstandard_root`]). A file with one root only takes it as
///   the ticker, digits and all. Roots of different underlyings, or several
///   adjusted roots without the standard one, are an error. For class shares
///   the root has no separator (`BRKB`), so neither has the ticker.
/// - `underlying`: bid and ask from the `Date:` line (0 means no quote:
///   `None`), last from the name line, volume from `Volume:` (thousands
///   separators `,`, U+202F, U+00A0 removed), `as_of` as above.
/// - contracts: file order, call then put of each row. Prices in USD per
///   share as written (a bid or last sale of 0 stays `Some(0)`); `IV` is an
///   annualised fraction (1.5664 = 156.64%), 0 becomes `None` (Cboe writes 0
///   when it has no IV); delta as written; `contract_size` is `None` because
///   the file does not say. Each contract's symbol must agree with its row's
///   expiration, strike and side.
///
/// # Errors
/// A [`ParseError`] naming `input` and, where known, the line and column:
/// empty body, an HTML page, a missing or malformed header line, a row with
/// the wrong number of fields, an unparsable number or date, a symbol that
/// contradicts its row, no contracts.
pub fn parse_cboe_chain_csv(body: &str, input: &str) -> Result<ChainSnapshot, ParseError> {
    let body = body.strip_prefix('\u{feff}').unwrap_or(body);
    check_text_body(body, input)?;
    let err = |message: String| ParseError::new(input, message);

    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(body.as_bytes());
    let mut records = reader.records();
    let mut next_record = |what: &str| -> Result<csv::StringRecord, ParseError> {
        match records.next() {
            Some(Ok(record)) => Ok(record),
            Some(Err(e)) => Err(err(format!("{what}: {}", describe_csv_error(&e)))),
            None => Err(err(format!("ends before the {what}"))),
        }
    };

    let name_line = next_record("name line (`<name>,Last: <price>,Change: <change>`)")?;
    let name_line_no = record_line(&name_line, body);
    let last = labelled(&name_line, "Last:")
        .ok_or_else(|| err(format!("line {name_line_no}: no `Last:` field in the name line")))
        .and_then(|text| header_price(text, "Last", name_line_no, input))?;

    let date_line = next_record("`Date:` line")?;
    let date_line_no = record_line(&date_line, body);
    let date_text = date_line
        .get(0)
        .and_then(|field| strip_prefix_ignore_case(field, "Date:"))
        .map(str::trim)
        .ok_or_else(|| err(format!("line {date_line_no}: expected the `Date: ...` field first")))?;
    let as_of = parse_cboe_timestamp(date_text)
        .map_err(|why| err(format!("line {date_line_no}: time stamp {date_text:?}: {why}")))?;
    let bid = match labelled(&date_line, "Bid:") {
        Some(text) => header_price(text, "Bid", date_line_no, input)?,
        None => None,
    };
    let ask = match labelled(&date_line, "Ask:") {
        Some(text) => header_price(text, "Ask", date_line_no, input)?,
        None => None,
    };
    let volume =
        match labelled(&date_line, "Volume:") {
            Some(text) => Some(grouped_integer(text).ok_or_else(|| {
                err(format!("line {date_line_no}: `Volume:` {text:?} is not a whole number"))
            })?),
            None => None,
        };

    let header = next_record("column header line")?;
    let layout = Layout::from_header(&header)
        .map_err(|why| err(format!("line {}: {why}", record_line(&header, body))))?;

    let mut rows = Vec::new();
    for record in records {
        let record = record.map_err(|e| err(describe_csv_error(&e)))?;
        let line = record_line(&record, body);
        if record.len() != header.len() {
            return Err(err(format!(
                "line {line}: {} fields, but the header has {}",
                record.len(),
                header.len()
            )));
        }
        rows.push(layout.row(&record, line).map_err(|why| err(why.to_string()))?);
    }

    let ticker = chain_ticker(&rows).map_err(|why| err(why.to_string()))?;
    let contracts = rows
        .into_iter()
        .flatten()
        .filter(|(occ, _)| !is_nonstandard_root(&occ.root, &ticker))
        .map(|(_, quote)| quote)
        .collect();
    let underlying = UnderlyingQuote {
        ticker: ticker.clone(),
        bid: bid.filter(|p| !p.is_zero()),
        ask: ask.filter(|p| !p.is_zero()),
        last,
        volume,
        as_of: Some(as_of),
        open: None,
        prev_close: None,
    };
    Ok(ChainSnapshot { ticker, as_of, source: SOURCE.to_owned(), underlying: Some(underlying), contracts })
}

/// The chain's ticker from the roots of its contracts (see [`parse_cboe_chain_csv`]).
fn chain_ticker(rows: &[Vec<(OccSymbol, OptionQuote)>]) -> Result<Ticker, CboeIssue> {
    let roots: BTreeSet<&str> = rows.iter().flatten().map(|(occ, _)| occ.root.as_str()).collect();
    let bases: BTreeSet<&str> =
        roots.iter().map(|root| root.trim_end_matches(|c: char| c.is_ascii_digit())).collect();
    let mut bases = bases.into_iter();
    let (Some(base), None) = (bases.next(), bases.next()) else {
        return Err(if roots.is_empty() {
            CboeIssue::NoContracts
        } else {
            CboeIssue::SeveralUnderlyings(owned(&roots))
        });
    };
    let standard = if roots.contains(base) {
        base
    } else if let (Some(only), 1) = (roots.first(), roots.len()) {
        // A single root ending in a digit is the ticker's own root.
        only
    } else {
        return Err(CboeIssue::OnlyAdjusted(owned(&roots)));
    };
    Ticker::new(standard).map_err(CboeIssue::Ticker)
}

fn owned(roots: &BTreeSet<&str>) -> BTreeSet<String> {
    roots.iter().map(|r| (*r).to_owned()).collect()
}

/// What is wrong with a Cboe chain file, below its first lines (the texts
/// of the [`ParseError`] it becomes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum CboeIssue {
    #[error("no contracts: cannot tell the underlying")]
    NoContracts,
    #[error("contracts of several underlyings: roots {0:?}")]
    SeveralUnderlyings(BTreeSet<String>),
    #[error("only adjusted contracts (roots {0:?}): no standard chain")]
    OnlyAdjusted(BTreeSet<String>),
    #[error(transparent)]
    Ticker(crate::domain::InvalidTicker),
    #[error("no `{name}` column in the header {header:?}")]
    NoColumn { name: String, header: Vec<String> },
    #[error("expected the columns `Calls` ... `Strike` ... `Puts` in this order")]
    ColumnOrder,
    #[error("no `{name}` column for {side}")]
    NoSideColumn { name: String, side: String },
    #[error("line {line}: expiration {text:?} is not like `Fri Jul 21 2023`")]
    Expiration { line: u64, text: String },
    #[error("line {line}: strike {text:?} is not a number")]
    Strike { line: u64, text: String },
    #[error("line {line}: {symbol:?} is not an OCC option symbol")]
    Symbol { line: u64, symbol: String },
    #[error("line {line}: symbol {symbol} does not match its row ({right} {expiration} strike {strike})")]
    SymbolMismatch { line: u64, symbol: String, right: &'static str, expiration: NaiveDate, strike: Decimal },
    #[error("line {line}: {right} {name} {text:?} is not {what}")]
    Cell { line: u64, right: &'static str, name: &'static str, text: String, what: &'static str },
}

/// What is wrong with the `Date:` line's time stamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum TimestampIssue {
    #[error("date {0:?} is not like `July 18, 2023`")]
    EnglishDate(String),
    #[error("time {0:?} is not like `7:51 AM`")]
    EnglishTime(String),
    #[error("date {0:?} is not like `10 novembre 2023`")]
    FrenchDate(String),
    #[error("time {0:?} is not like `18:55`")]
    FrenchTime(String),
    #[error("no time zone after the time")]
    NoZone,
    #[error("expected `<date> at <time> <zone>`")]
    Shape,
    #[error("unknown time zone {0:?}")]
    UnknownZone(String),
    #[error("time zone {0:?} out of range")]
    ZoneOutOfRange(String),
    #[error("time zone offset out of range")]
    OffsetOutOfRange,
    #[error("time does not exist in that zone")]
    NoSuchTime,
    #[error("{zone} is not New York's offset on {date}")]
    NotNewYork { zone: String, date: NaiveDate },
}

/// Where each per-contract column sits, found by name on the header line.
struct Layout {
    expiration: usize,
    strike: usize,
    calls: Side,
    puts: Side,
}

/// The columns of one side (calls or puts) of the table.
struct Side {
    symbol: usize,
    bid: usize,
    ask: usize,
    last: Option<usize>,
    volume: Option<usize>,
    iv: Option<usize>,
    delta: Option<usize>,
    open_interest: Option<usize>,
}

impl Layout {
    fn from_header(header: &csv::StringRecord) -> Result<Self, CboeIssue> {
        let names: Vec<String> = header.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
        let find = |name: &str| {
            names.iter().position(|n| n == name).ok_or_else(|| CboeIssue::NoColumn {
                name: name.to_owned(),
                header: header.iter().map(str::to_owned).collect(),
            })
        };
        let expiration = find("expiration date")?;
        let calls = find("calls")?;
        let strike = find("strike")?;
        let puts = find("puts")?;
        if !(calls < strike && strike < puts) {
            return Err(CboeIssue::ColumnOrder);
        }
        let side = |symbol: usize, end: usize| -> Result<Side, CboeIssue> {
            let range = symbol + 1..end;
            let find_in = |name: &str| {
                names
                    .get(range.clone())
                    .and_then(|cols| cols.iter().position(|n| n == name))
                    .map(|i| i + symbol + 1)
            };
            let need = |name: &str| {
                find_in(name).ok_or_else(|| CboeIssue::NoSideColumn {
                    name: name.to_owned(),
                    side: names.get(symbol).cloned().unwrap_or_default(),
                })
            };
            Ok(Side {
                symbol,
                bid: need("bid")?,
                ask: need("ask")?,
                last: find_in("last sale"),
                volume: find_in("volume"),
                iv: find_in("iv"),
                delta: find_in("delta"),
                open_interest: find_in("open interest"),
            })
        };
        Ok(Layout { expiration, strike, calls: side(calls, strike)?, puts: side(puts, names.len())? })
    }

    /// The row's contracts (call, then put; a side with an empty symbol has no contract).
    fn row(&self, record: &csv::StringRecord, line: u64) -> Result<Vec<(OccSymbol, OptionQuote)>, CboeIssue> {
        let field = |i: usize| record.get(i).unwrap_or("");
        let expiration_text = field(self.expiration);
        let expiration = NaiveDate::parse_from_str(expiration_text, "%a %b %d %Y")
            .map_err(|_| CboeIssue::Expiration { line, text: expiration_text.to_owned() })?;
        let strike_text = field(self.strike);
        let strike = plain_decimal(strike_text)
            .ok_or_else(|| CboeIssue::Strike { line, text: strike_text.to_owned() })?;
        let mut contracts = Vec::with_capacity(2);
        for (side, right) in [(&self.calls, OptionRight::Call), (&self.puts, OptionRight::Put)] {
            let symbol = field(side.symbol);
            if symbol.is_empty() {
                continue;
            }
            let occ = parse_occ_symbol(symbol)
                .ok_or_else(|| CboeIssue::Symbol { line, symbol: symbol.to_owned() })?;
            if occ.right != right || occ.strike != strike || !same_expiration(expiration, occ.expiration) {
                return Err(CboeIssue::SymbolMismatch {
                    line,
                    symbol: symbol.to_owned(),
                    right: right.code(),
                    expiration,
                    strike,
                });
            }
            let bad = |name: &'static str, what: &'static str| {
                move |text: &str| CboeIssue::Cell {
                    line,
                    right: right.code(),
                    name,
                    text: text.to_owned(),
                    what,
                }
            };
            let price = |col: Option<usize>, name: &'static str| -> Result<Option<Decimal>, CboeIssue> {
                optional(col.map(field), |t| plain_decimal(t).filter(|d| !d.is_sign_negative()))
                    .map_err(bad(name, "a price"))
            };
            let count = |col: Option<usize>, name: &'static str| -> Result<Option<u64>, CboeIssue> {
                optional(col.map(field), |t| t.parse::<u64>().ok()).map_err(bad(name, "a whole number"))
            };
            let real = |col: Option<usize>, name: &'static str| -> Result<Option<f64>, CboeIssue> {
                optional(col.map(field), |t| t.parse::<f64>().ok().filter(|v| v.is_finite()))
                    .map_err(bad(name, "a number"))
            };
            let quote = OptionQuote {
                symbol: Some(symbol.to_owned()),
                expiration,
                strike,
                right,
                bid: price(Some(side.bid), "Bid")?,
                ask: price(Some(side.ask), "Ask")?,
                last: price(side.last, "Last Sale")?,
                volume: count(side.volume, "Volume")?,
                open_interest: count(side.open_interest, "Open Interest")?,
                iv: real(side.iv, "IV")?.filter(|iv| *iv > 0.0),
                delta: real(side.delta, "Delta")?,
                contract_size: None,
            };
            contracts.push((occ, quote));
        }
        Ok(contracts)
    }
}

/// An optional cell: absent column or empty text is `None`; otherwise `parse`
/// must succeed, else the offending text is returned as the error.
fn optional<T>(text: Option<&str>, parse: impl Fn(&str) -> Option<T>) -> Result<Option<T>, &str> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => parse(t).map(Some).ok_or(t),
    }
}

/// Reads the `Date:` text: `July 18, 2023 at 7:51 AM EDT` or
/// `10 novembre 2023 à 18:55 UTC−5`.
fn parse_cboe_timestamp(text: &str) -> Result<DateTime<Utc>, TimestampIssue> {
    let (date, clock, zone) = if let Some((date, time)) = text.split_once(" at ") {
        let date = NaiveDate::parse_from_str(date.trim(), "%B %d, %Y")
            .map_err(|_| TimestampIssue::EnglishDate(date.to_owned()))?;
        let (clock, zone) = time.trim().rsplit_once(' ').ok_or(TimestampIssue::NoZone)?;
        let clock = NaiveTime::parse_from_str(clock.trim(), "%I:%M %p")
            .map_err(|_| TimestampIssue::EnglishTime(clock.to_owned()))?;
        (date, clock, zone.trim())
    } else if let Some((date, time)) = text.split_once(" à ") {
        let date = french_date(date.trim()).ok_or_else(|| TimestampIssue::FrenchDate(date.to_owned()))?;
        let (clock, zone) = time.trim().split_once(' ').ok_or(TimestampIssue::NoZone)?;
        let clock = NaiveTime::parse_from_str(clock.trim(), "%H:%M")
            .map_err(|_| TimestampIssue::FrenchTime(clock.to_owned()))?;
        (date, clock, zone.trim())
    } else {
        return Err(TimestampIssue::Shape);
    };
    let local = NaiveDateTime::new(date, clock);
    let (offset_seconds, named_new_york) = zone_offset(zone)?;
    let offset = FixedOffset::east_opt(offset_seconds).ok_or(TimestampIssue::OffsetOutOfRange)?;
    let instant =
        offset.from_local_datetime(&local).single().ok_or(TimestampIssue::NoSuchTime)?.with_timezone(&Utc);
    if named_new_york {
        let new_york = New_York.offset_from_utc_datetime(&instant.naive_utc()).fix().local_minus_utc();
        if new_york != offset_seconds {
            return Err(TimestampIssue::NotNewYork { zone: zone.to_owned(), date });
        }
    }
    Ok(instant)
}

/// The UTC offset in seconds a zone label names, and whether it is a New
/// York abbreviation (which must then agree with chrono-tz).
fn zone_offset(zone: &str) -> Result<(i32, bool), TimestampIssue> {
    match zone.to_ascii_uppercase().as_str() {
        "EDT" => return Ok((-4 * 3600, true)),
        "EST" => return Ok((-5 * 3600, true)),
        _ => {}
    }
    let rest = strip_prefix_ignore_case(zone, "UTC")
        .or_else(|| strip_prefix_ignore_case(zone, "GMT"))
        .ok_or_else(|| TimestampIssue::UnknownZone(zone.to_owned()))?;
    if rest.is_empty() {
        return Ok((0, false));
    }
    let (sign, magnitude) = if let Some(m) = rest.strip_prefix('+') {
        (1, m)
    } else if let Some(m) = rest.strip_prefix('-').or_else(|| rest.strip_prefix('\u{2212}')) {
        (-1, m)
    } else {
        return Err(TimestampIssue::UnknownZone(zone.to_owned()));
    };
    let (hours, minutes) = magnitude.split_once(':').unwrap_or((magnitude, "0"));
    let unknown = || TimestampIssue::UnknownZone(zone.to_owned());
    let hours: i32 = hours.parse().map_err(|_| unknown())?;
    let minutes: i32 = minutes.parse().map_err(|_| unknown())?;
    if !(0..=14).contains(&hours) || !(0..60).contains(&minutes) {
        return Err(TimestampIssue::ZoneOutOfRange(zone.to_owned()));
    }
    Ok((sign * (hours * 3600 + minutes * 60), false))
}

/// `10 novembre 2023` (also `1er novembre 2023`).
fn french_date(text: &str) -> Option<NaiveDate> {
    const MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    let mut parts = text.split_whitespace();
    let day = parts.next()?;
    let day: u32 = day.strip_suffix("er").unwrap_or(day).parse().ok()?;
    let month_name = parts.next()?.to_lowercase();
    let month = MONTHS.iter().position(|m| *m == month_name)?;
    let year: i32 = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()? + 1, day)
}

/// The text after `label` in the first field of `record` that starts with it.
fn labelled<'r>(record: &'r csv::StringRecord, label: &str) -> Option<&'r str> {
    record.iter().find_map(|field| strip_prefix_ignore_case(field.trim(), label)).map(str::trim)
}

/// A header price (`Last:`, `Bid:`, `Ask:`), thousands separators removed.
fn header_price(text: &str, name: &str, line: u64, input: &str) -> Result<Option<Decimal>, ParseError> {
    if text.is_empty() {
        return Ok(None);
    }
    let plain = strip_grouping(text);
    plain_decimal(&plain)
        .filter(|d| !d.is_sign_negative())
        .map(Some)
        .ok_or_else(|| ParseError::new(input, format!("line {line}: `{name}:` {text:?} is not a price")))
}

/// A whole number written with thousands separators (`21,041,228`, `130 859 611`).
fn grouped_integer(text: &str) -> Option<u64> {
    let plain = strip_grouping(text);
    if plain.is_empty() || !plain.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    plain.parse().ok()
}

fn strip_grouping(text: &str) -> String {
    text.chars().filter(|c| !matches!(c, ',' | '\u{202f}' | '\u{a0}' | ' ')).collect()
}

fn strip_prefix_ignore_case<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| text.get(prefix.len()..)).flatten()
}

/// Rejects an empty body or an HTML page before any CSV parsing.
fn check_text_body(body: &str, input: &str) -> Result<(), ParseError> {
    let trimmed = body.trim_start();
    if trimmed.is_empty() {
        return Err(ParseError::new(input, "empty body"));
    }
    if trimmed.starts_with('<') {
        let start: String = trimmed.chars().take(80).collect();
        return Err(ParseError::new(input, format!("an HTML/XML page, not a Cboe CSV: {start:?}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_stamps() {
        let utc = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(parse_cboe_timestamp("July 18, 2023 at 7:51 AM EDT"), Ok(utc("2023-07-18T11:51:00Z")));
        assert_eq!(parse_cboe_timestamp("January 6, 2025 at 9:30 PM EST"), Ok(utc("2025-01-07T02:30:00Z")));
        assert_eq!(
            parse_cboe_timestamp("10 novembre 2023 à 18:55 UTC\u{2212}5"),
            Ok(utc("2023-11-10T23:55:00Z"))
        );
        assert!(parse_cboe_timestamp("January 6, 2025 at 9:30 PM EDT").is_err(), "EDT in January");
        assert!(parse_cboe_timestamp("July 18, 2023 at 7:51 AM PDT").is_err());
        assert!(parse_cboe_timestamp("July 18, 2023").is_err());
    }
}

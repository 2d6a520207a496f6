//! Daily OHLCV bars from CSV files, whatever the column layout.
//!
//! Three real layouts are known, all read by column name (case-insensitive,
//! any column order, extra columns ignored):
//!
//! - Yahoo / yfinance downloads: `Date,Open,High,Low,Close,Volume` (some files
//!   of the same set write `Date,Close,High,Low,Open,Volume`), prices as the
//!   `float32` text yfinance printed (`39.79999923706055`), volume sometimes
//!   as `11444400.0`; oldest first.
//! - `ticker,date,open,high,low,close` (no volume), CRLF line ends.
//! - Alpha Vantage `TIME_SERIES_DAILY(_ADJUSTED)` CSV:
//!   `timestamp,open,high,low,close[,adjusted_close],volume[,dividend_amount,split_coefficient]`,
//!   newest first. `open`..`close` are the raw prices; `adjusted_close` is
//!   ignored.
//!
//! Prices are read from their text as decimals, never through `f64`. A Yahoo
//! price printed from a `float32` (`39.79999923706055`) is read as the price
//! yfinance recorded (`39.8`, [`recorded_price`]); any other text exactly as
//! written.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::domain::DailyBar;
use crate::providers::ParseError;
use crate::providers::decimal::recorded_price;

/// Parses a daily OHLCV CSV into bars, ascending by date.
///
/// Columns, found by name in the header (case-insensitive): the date is
/// `date` or `timestamp` (`YYYY-MM-DD`); `open`, `high`, `low`, `close`
/// (USD per share, `-?digits[.digits]`) are required; `volume` (shares, a
/// whole number, also accepted as `123.0`) is optional. A `ticker` or
/// `symbol` column, when present, must hold one value throughout: a file
/// mixing tickers would silently splice two price series.
///
/// A row whose four prices are all empty or `null` is skipped: Yahoo writes
/// such rows for dates it lists without trading data, and they carry no bar to
/// report (filling them would fabricate prices). An empty or `null` volume is
/// `None`.
///
/// # Errors
/// A [`ParseError`] naming `input`: empty body, HTML page, missing required
/// column, a row with a different number of fields than the header, a row
/// with some but not all prices missing, an unparsable or negative number
/// (naming line and column), two tickers, or a date listed twice (naming
/// both lines). A header without rows is not an error: no bars.
pub fn parse_ohlcv_csv(body: &str, input: &str) -> Result<Vec<DailyBar>, ParseError> {
    let body = body.strip_prefix('\u{feff}').unwrap_or(body);
    let err = |message: String| ParseError::new(input, message);
    let trimmed = body.trim_start();
    if trimmed.is_empty() {
        return Err(err("empty body".to_owned()));
    }
    if trimmed.starts_with('<') || trimmed.starts_with('{') || trimmed.starts_with('[') {
        let start: String = trimmed.chars().take(80).collect();
        return Err(err(format!("not a CSV file (an HTML page or JSON?): {start:?}")));
    }

    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(body.as_bytes());
    let header = reader.headers().map_err(|e| err(format!("header: {e}")))?.clone();
    let names: Vec<String> = header.iter().map(str::to_ascii_lowercase).collect();
    let find = |name: &str| names.iter().position(|n| n == name);
    let need = |name: &str| {
        find(name).ok_or_else(|| {
            err(format!("no `{name}` column in the header {:?}", header.iter().collect::<Vec<_>>()))
        })
    };
    let date_col = find("date").or_else(|| find("timestamp")).ok_or_else(|| {
        err(format!("no `date` or `timestamp` column in the header {:?}", header.iter().collect::<Vec<_>>()))
    })?;
    let price_cols =
        [("open", need("open")?), ("high", need("high")?), ("low", need("low")?), ("close", need("close")?)];
    let volume_col = find("volume");
    let ticker_col = find("ticker").or_else(|| find("symbol"));

    let mut ticker: Option<String> = None;
    let mut bars: Vec<(NaiveDate, u64, DailyBar)> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| err(describe_csv_error(&e)))?;
        let line = record_line(&record, body);
        let cell = |col: usize| record.get(col).unwrap_or("");

        if let Some(col) = ticker_col {
            let this = cell(col);
            match &ticker {
                Some(first) if !first.eq_ignore_ascii_case(this) => {
                    return Err(err(format!(
                        "line {line}: ticker {this:?} differs from {first:?} above: one file must hold one ticker"
                    )));
                }
                Some(_) => {}
                None => ticker = Some(this.to_owned()),
            }
        }

        let date_text = cell(date_col);
        let date = NaiveDate::parse_from_str(date_text, "%Y-%m-%d")
            .map_err(|_| err(format!("line {line}: date {date_text:?} is not YYYY-MM-DD")))?;
        let missing = |text: &str| text.is_empty() || text.eq_ignore_ascii_case("null");
        let absent = price_cols.iter().filter(|(_, col)| missing(cell(*col))).count();
        if absent == price_cols.len() {
            continue;
        }
        let mut prices = [Decimal::ZERO; 4];
        for (slot, (name, col)) in prices.iter_mut().zip(price_cols) {
            let text = cell(col);
            if missing(text) {
                return Err(err(format!(
                    "line {line}: column `{name}` is empty while other prices are present"
                )));
            }
            *slot = recorded_price(text)
                .ok_or_else(|| err(format!("line {line}: column `{name}`: {text:?} is not a price")))?;
        }
        let volume = match volume_col.map(cell) {
            None => None,
            Some(text) if missing(text) => None,
            Some(text) => Some(whole_number_text(text).ok_or_else(|| {
                err(format!("line {line}: column `volume`: {text:?} is not a whole number"))
            })?),
        };
        let [open, high, low, close] = prices;
        bars.push((date, line, DailyBar { date, open, high, low, close, volume }));
    }

    bars.sort_by_key(|(date, line, _)| (*date, *line));
    if let Some(pair) = bars.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        return Err(err(format!(
            "date {} is listed twice (lines {} and {})",
            pair[0].0, pair[0].1, pair[1].1
        )));
    }
    Ok(bars.into_iter().map(|(_, _, bar)| bar).collect())
}

/// The 1-based line where `record` starts in `body`. The CSV reader reports
/// the line where it began reading, which is a blank line skipped before the
/// record when there is one (Cboe files start with a blank line).
pub(crate) fn record_line(record: &csv::StringRecord, body: &str) -> u64 {
    let Some(position) = record.position() else {
        return 0;
    };
    let start = usize::try_from(position.byte()).unwrap_or(usize::MAX);
    let skipped = body.get(start..).map_or(0, |rest| {
        rest.bytes().take_while(|b| matches!(b, b'\n' | b'\r')).filter(|b| *b == b'\n').count()
    });
    position.line() + u64::try_from(skipped).unwrap_or(0)
}

/// A CSV reader error as `line N: what`, the way every parser here words it.
pub(crate) fn describe_csv_error(error: &csv::Error) -> String {
    match (error.kind(), error.position()) {
        (csv::ErrorKind::UnequalLengths { expected_len, len, .. }, Some(pos)) => {
            format!("line {}: {len} fields, but the header has {expected_len}", pos.line())
        }
        (_, Some(pos)) => format!("line {}: {error}", pos.line()),
        _ => error.to_string(),
    }
}

/// A whole number, also as `123.0` (yfinance prints some volumes as floats);
/// a fractional part other than zeros is not a whole number.
fn whole_number_text(text: &str) -> Option<u64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b == b'0')
    {
        return None;
    }
    whole.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn layouts_by_name_and_order() {
        let bars = parse_ohlcv_csv(
            "timestamp,open,high,low,close,volume\n2020-01-03,2,3,1,2.5,10\n2020-01-02,1.5,2,1,1.75,20.0\n",
            "t",
        )
        .unwrap();
        assert_eq!(bars.len(), 2);
        assert_eq!(bars[0].date, NaiveDate::from_ymd_opt(2020, 1, 2).unwrap());
        assert_eq!(bars[0].close, dec!(1.75));
        assert_eq!(bars[0].volume, Some(20));
        let bars = parse_ohlcv_csv("Date,Close,High,Low,Open,Volume\n2020-01-02,4,5,1,2,\n", "t").unwrap();
        assert_eq!((bars[0].open, bars[0].close, bars[0].volume), (dec!(2), dec!(4), None));
    }

    #[test]
    fn skips_empty_rows_and_rejects_partial_ones() {
        let body =
            "Date,Open,High,Low,Close,Volume\n2020-01-02,null,null,null,null,null\n2020-01-03,1,2,1,2,5\n";
        assert_eq!(parse_ohlcv_csv(body, "t").unwrap().len(), 1);
        let e = parse_ohlcv_csv("Date,Open,High,Low,Close\n2020-01-02,1,,1,1\n", "f.csv").unwrap_err();
        assert!(e.message.contains("line 2") && e.message.contains("high"), "{e}");
        let e = parse_ohlcv_csv("Date,Open,High,Low,Close\n2020-01-02,1,1,1,1\n2020-01-02,1,1,1,1\n", "f")
            .unwrap_err();
        assert!(e.message.contains("twice"), "{e}");
        assert!(parse_ohlcv_csv("Date,Open,High,Low,Close,Volume\n2020-01-02,1,1,1,1,1.5\n", "f").is_err());
        assert!(parse_ohlcv_csv("Date,Open,High,Low,Close\n2020-01-02,1,1,-1,1\n", "f").is_err());
    }
}

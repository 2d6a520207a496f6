//! The earnings calendar exported from the trading-desk IV-crush system
//! (`exports/earnings_calendar.csv` of pmak99/trading-desk-public).
//!
//! Header: `ticker,earnings_date,timing,confirmed,created_at,updated_at,last_validated_at`,
//! one row per event, timing `BMO`/`AMC`/`DMH`/`UNKNOWN`.

use chrono::NaiveDate;

use crate::domain::{EarningsEvent, Ticker, Timing};
use crate::providers::ParseError;
use crate::providers::files::ohlcv::{describe_csv_error, record_line};

/// The `source` of every event this module produces.
pub const SOURCE: &str = "trading_desk:earnings_calendar.csv";

/// Parses the trading-desk earnings calendar into events, in file order.
///
/// Columns by name (case-insensitive): `ticker` (a valid [`Ticker`]),
/// `earnings_date` (`YYYY-MM-DD`, America/New_York calendar date) and `timing`
/// (read by [`Timing::parse_vendor`]: `BMO`, `AMC`, `DMH`, `UNKNOWN`, empty)
/// are required; the other columns are ignored. In particular `confirmed`
/// (0/1) has no place in [`EarningsEvent`]: unconfirmed rows are returned like
/// the others, with whatever timing the file gives (usually `UNKNOWN`).
///
/// # Errors
/// A [`ParseError`] naming `input`: empty body, HTML page, missing column, a
/// row with the wrong number of fields, or (naming the line) an invalid
/// ticker, date or timing. This file is a curated export, so a bad row is a
/// broken file rather than something to skip.
pub fn parse_trading_desk_calendar(body: &str, input: &str) -> Result<Vec<EarningsEvent>, ParseError> {
    let body = body.strip_prefix('\u{feff}').unwrap_or(body);
    let err = |message: String| ParseError::new(input, message);
    let trimmed = body.trim_start();
    if trimmed.is_empty() {
        return Err(err("empty body".to_owned()));
    }
    if trimmed.starts_with('<') || trimmed.starts_with('{') {
        let start: String = trimmed.chars().take(80).collect();
        return Err(err(format!("not a CSV file (an HTML page or JSON?): {start:?}")));
    }

    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(body.as_bytes());
    let header = reader.headers().map_err(|e| err(format!("header: {e}")))?.clone();
    let need = |name: &str| {
        header.iter().position(|h| h.eq_ignore_ascii_case(name)).ok_or_else(|| {
            err(format!("no `{name}` column in the header {:?}", header.iter().collect::<Vec<_>>()))
        })
    };
    let (ticker_col, date_col, timing_col) = (need("ticker")?, need("earnings_date")?, need("timing")?);

    let mut events = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| err(describe_csv_error(&e)))?;
        let line = record_line(&record, body);
        let cell = |col: usize| record.get(col).unwrap_or("");
        let ticker =
            Ticker::new(cell(ticker_col)).map_err(|e| err(format!("line {line}: column `ticker`: {e}")))?;
        let date_text = cell(date_col);
        let report_date = NaiveDate::parse_from_str(date_text, "%Y-%m-%d").map_err(|_| {
            err(format!("line {line}: column `earnings_date`: {date_text:?} is not YYYY-MM-DD"))
        })?;
        let timing_text = cell(timing_col);
        let timing = Timing::parse_vendor(timing_text)
            .ok_or_else(|| err(format!("line {line}: column `timing`: unknown timing {timing_text:?}")))?;
        events.push(EarningsEvent { ticker, report_date, timing, source: SOURCE.to_owned() });
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_and_names_bad_lines() {
        let body = "ticker,earnings_date,timing,confirmed\nCVNA,2023-07-19,BMO,1\nAAPL,2024-02-01,amc,1\n";
        let events = parse_trading_desk_calendar(body, "t").unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[1].timing, Timing::Amc);
        let e =
            parse_trading_desk_calendar("ticker,earnings_date,timing\nCVNA,2023-07-19,LUNCH\n", "cal.csv")
                .unwrap_err();
        assert!(e.message.contains("line 2") && e.input == "cal.csv", "{e}");
    }
}

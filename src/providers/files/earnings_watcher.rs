//! EarningsWatcher's "earnings implied moves vs actual moves" dataset
//! (`earnings_implied_moves.csv` of earnings-watcher/earnings-implied-moves):
//! recorded implied moves of past reports, a provider of historical implied
//! moves beside the ones ivcd computes from chains.
//!
//! Header: `symbol,company,report_date,implied_move_pct,close_move_pct,peak_move_pct,beat_implied`,
//! one row per report. Per the dataset's README (see its `SOURCE.txt` in the
//! data directory):
//! - `report_date`: the publication date (ET); for an after-close report the
//!   reaction is the next session. The file has no BMO/AMC column.
//! - `implied_move_pct`: the options-implied +/- move from the at-the-money
//!   straddle at the **last close before the report**, percent.
//! - `close_move_pct`: the close-to-close move of the reaction session, signed percent.
//! - `peak_move_pct`: the largest intraday move of the reaction session against
//!   the pre-report close, signed percent.
//! - `beat_implied`: 1 when |peak| >= implied.
//!
//! Every figure is a derived percentage rounded to 0.1 ([`ROUNDING_PCT`]):
//! no option quotes, no prices. Licence CC BY 4.0: wherever these figures are
//! shown, credit [`ATTRIBUTION`].

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;

use crate::domain::Ticker;
use crate::providers::ParseError;
use crate::providers::decimal::plain_decimal;
use crate::providers::files::ohlcv::{describe_csv_error, record_line};

/// A CSV reader error as `line N: what`, N counted from the error's byte
/// offset: with CRLF line ends (this file's) csv 1.x counts lines short and
/// places a record's start on the `\n` ending the line before it, so the
/// newlines up to and including that byte are counted.
fn csv_error(error: &csv::Error, body: &str) -> String {
    let line = error.position().map(|p| {
        let end = usize::try_from(p.byte()).unwrap_or(usize::MAX).saturating_add(1).min(body.len());
        body.as_bytes().get(..end).map_or(0, |b| b.iter().filter(|c| **c == b'\n').count()) + 1
    });
    match (error.kind(), line) {
        (csv::ErrorKind::UnequalLengths { expected_len, len, .. }, Some(line)) => {
            format!("line {line}: {len} fields, but the header has {expected_len}")
        }
        _ => describe_csv_error(error),
    }
}

/// The `source` of every implied move this module produces.
pub const SOURCE: &str = "earnings_watcher:earnings_implied_moves.csv";

/// The attribution the dataset's licence (CC BY 4.0) requires wherever its
/// figures are shown.
pub const ATTRIBUTION: &str = "EarningsWatcher, https://earnings-watcher.com (CC BY 4.0)";

/// The rounding step of every figure in the file, in percentage points (0.1).
pub const ROUNDING_PCT: Decimal = Decimal::from_parts(1, 0, 0, false, 1);

/// The largest absolute percentage accepted in any column (1,000%): a larger
/// figure is a broken row, not a stock move.
const MAX_ABS_PCT: Decimal = Decimal::from_parts(1000, 0, 0, false, 0);

/// One recorded report. Percentages exactly as the file prints them
/// (`11.8` = 11.8%); [`RecordedImpliedMove::implied_move`] and the other
/// accessors give fractions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedImpliedMove {
    /// The reporting company.
    pub ticker: Ticker,
    /// The company's name as the file gives it.
    pub company: String,
    /// The publication date of the report (ET).
    pub report_date: NaiveDate,
    /// The implied move at the last close before the report, percent (>= 0, rounded to 0.1).
    pub implied_move_pct: Decimal,
    /// The close-to-close move of the reaction session, signed percent.
    pub close_move_pct: Decimal,
    /// The largest intraday move of the reaction session against the reference close, signed percent.
    pub peak_move_pct: Decimal,
    /// The file's own flag: |peak| >= implied.
    pub beat_implied: bool,
    /// The 1-based line of the row in the file.
    pub line: u64,
}

impl RecordedImpliedMove {
    /// The implied move as a fraction (11.8% -> 0.118).
    pub fn implied_move(&self) -> f64 {
        fraction(self.implied_move_pct)
    }

    /// The recorded close-to-close move as a signed fraction.
    pub fn close_move(&self) -> f64 {
        fraction(self.close_move_pct)
    }

    /// The recorded peak move as a signed fraction.
    pub fn peak_move(&self) -> f64 {
        fraction(self.peak_move_pct)
    }
}

fn fraction(pct: Decimal) -> f64 {
    (pct / Decimal::ONE_HUNDRED).to_f64().unwrap_or(f64::NAN)
}

/// Parses the EarningsWatcher CSV into reports, in file order.
///
/// Columns by name (case-insensitive, any order, extra columns ignored):
/// `symbol` (a valid [`Ticker`]), `company`, `report_date` (`YYYY-MM-DD`),
/// `implied_move_pct` (`digits[.digits]`, at most 1,000), `close_move_pct`
/// and `peak_move_pct` (`-?digits[.digits]`, at most 1,000 in absolute
/// value), `beat_implied` (`0` or `1`).
///
/// # Errors
/// A [`ParseError`] naming `input`: empty body, HTML page or JSON, a missing
/// column, a row with the wrong number of fields, or (naming the line and
/// column) an invalid ticker, date or number; a `beat_implied` that
/// disagrees with the row's own figures (|peak| >= implied); the same ticker
/// and report date twice (naming both lines). The file is a curated dataset,
/// so a bad row is a broken or mistranscribed file, not something to skip.
pub fn parse_earnings_watcher_csv(body: &str, input: &str) -> Result<Vec<RecordedImpliedMove>, ParseError> {
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
    let need = |name: &str| {
        header.iter().position(|h| h.eq_ignore_ascii_case(name)).ok_or_else(|| {
            err(format!("no `{name}` column in the header {:?}", header.iter().collect::<Vec<_>>()))
        })
    };
    let symbol_col = need("symbol")?;
    let company_col = need("company")?;
    let date_col = need("report_date")?;
    let implied_col = need("implied_move_pct")?;
    let close_col = need("close_move_pct")?;
    let peak_col = need("peak_move_pct")?;
    let beat_col = need("beat_implied")?;

    let mut out: Vec<RecordedImpliedMove> = Vec::new();
    let mut seen: HashMap<(Ticker, NaiveDate), u64> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| err(csv_error(&e, body)))?;
        let line = record_line(&record, body);
        let cell = |col: usize| record.get(col).unwrap_or("");
        let ticker =
            Ticker::new(cell(symbol_col)).map_err(|e| err(format!("line {line}: column `symbol`: {e}")))?;
        let date_text = cell(date_col);
        let report_date = NaiveDate::parse_from_str(date_text, "%Y-%m-%d").map_err(|_| {
            err(format!("line {line}: column `report_date`: {date_text:?} is not YYYY-MM-DD"))
        })?;
        let percent = |col: usize, name: &str| {
            let text = cell(col);
            plain_decimal(text)
                .filter(|v| v.abs() <= MAX_ABS_PCT)
                .ok_or_else(|| err(format!("line {line}: column `{name}`: {text:?} is not a percentage")))
        };
        let implied_move_pct = percent(implied_col, "implied_move_pct")?;
        if implied_move_pct.is_sign_negative() && !implied_move_pct.is_zero() {
            return Err(err(format!(
                "line {line}: column `implied_move_pct`: {implied_move_pct} is negative; an implied move is a size"
            )));
        }
        let close_move_pct = percent(close_col, "close_move_pct")?;
        let peak_move_pct = percent(peak_col, "peak_move_pct")?;
        let beat_implied = match cell(beat_col) {
            "1" => true,
            "0" => false,
            other => return Err(err(format!("line {line}: column `beat_implied`: {other:?} is not 0 or 1"))),
        };
        if beat_implied != (peak_move_pct.abs() >= implied_move_pct) {
            return Err(err(format!(
                "line {line}: beat_implied {} disagrees with the row's own figures (|peak {peak_move_pct}| vs \
                 implied {implied_move_pct}): a mistranscribed row?",
                u8::from(beat_implied)
            )));
        }
        if let Some(first) = seen.insert((ticker.clone(), report_date), line) {
            return Err(err(format!("{ticker} {report_date} is listed twice (lines {first} and {line})")));
        }
        out.push(RecordedImpliedMove {
            ticker,
            company: cell(company_col).to_owned(),
            report_date,
            implied_move_pct,
            close_move_pct,
            peak_move_pct,
            beat_implied,
            line,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    const HEADER: &str =
        "symbol,company,report_date,implied_move_pct,close_move_pct,peak_move_pct,beat_implied\r\n";

    #[test]
    fn reads_rows_as_printed_and_as_fractions() {
        let body = format!(
            "{HEADER}CVNA,Carvana,2023-07-19,11.8,40.2,43.0,1\r\nA,Agilent,2023-02-28,6.3,-3.1,-4.0,0\r\n"
        );
        let rows = parse_earnings_watcher_csv(&body, "f.csv").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].implied_move_pct, dec!(11.8));
        assert!((rows[0].implied_move() - 0.118).abs() < 1e-15);
        assert!((rows[1].close_move() + 0.031).abs() < 1e-15);
        assert_eq!((rows[1].line, rows[1].beat_implied), (3, false));
        assert_eq!(ROUNDING_PCT, dec!(0.1));
    }

    #[test]
    fn names_the_line_of_a_broken_row() {
        for (row, needle) in [
            ("CVNA,Carvana,2023-07-19,11.8,40.2,43.0,0", "beat_implied 0 disagrees"),
            ("CVNA,Carvana,19/07/2023,11.8,40.2,43.0,1", "report_date"),
            ("CVNA,Carvana,2023-07-19,-1.0,40.2,43.0,1", "negative"),
            ("CVNA,Carvana,2023-07-19,11.8,4e1,43.0,1", "close_move_pct"),
            ("CVNA,Carvana,2023-07-19,11.8,40.2,43.0,yes", "beat_implied"),
            ("CVNA,Carvana,2023-07-19,11.8,40.2,1001,1", "peak_move_pct"),
            ("CVNA,Carvana,2023-07-19,11.8,40.2", "fields"),
        ] {
            let e = parse_earnings_watcher_csv(&format!("{HEADER}{row}\r\n"), "f.csv").unwrap_err();
            assert!(e.message.contains("line 2") && e.message.contains(needle), "{row}: {e}");
        }
        let twice = format!("{HEADER}A,x,2023-02-28,6.3,-3.1,-4.0,0\r\nA,x,2023-02-28,6.3,-3.1,-4.0,0\r\n");
        let e = parse_earnings_watcher_csv(&twice, "f.csv").unwrap_err();
        assert!(e.message.contains("lines 2 and 3"), "{e}");
        assert!(parse_earnings_watcher_csv("", "f").is_err());
        assert!(parse_earnings_watcher_csv("<html>", "f").is_err());
        assert!(
            parse_earnings_watcher_csv("symbol,company\r\nA,x\r\n", "f")
                .unwrap_err()
                .message
                .contains("report_date")
        );
    }
}

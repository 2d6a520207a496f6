//! The upcoming-earnings table of an options trading bot
//! (`data/vol_premium.csv` of lowQuant/Option-Trading-Bot, one file per
//! committed version): a 2025 earnings calendar with timing.
//!
//! Header: `symbol,date,when,sector,market_cap,close,hv_current,iv_current,vol_premium`,
//! `when` = `Before market open` / `After market close`. Only the calendar
//! columns are read: the close and the IVs are from one or two sessions
//! before the report and from another vendor (DoltHub), not a chain.

use chrono::NaiveDate;

use crate::domain::{EarningsEvent, Ticker, Timing};
use crate::providers::ParseError;
use crate::providers::files::ohlcv::{describe_csv_error, record_line};

/// The `source` of every event this module produces.
pub const SOURCE: &str = "option_trading_bot:vol_premium.csv";

/// Parses one version of the bot's table into events, in file order.
///
/// Columns by name (case-insensitive): `symbol` (a valid [`Ticker`]), `date`
/// (`YYYY-MM-DD`, the report date in ET) and `when` (read by
/// [`Timing::parse_vendor`]: `Before market open`, `After market close`,
/// empty) are required; the others are ignored.
///
/// # Errors
/// A [`ParseError`] naming `input`: empty body, HTML page, missing column, a
/// row with the wrong number of fields, or (naming the line) an invalid
/// ticker, date or timing.
pub fn parse_vol_premium_csv(body: &str, input: &str) -> Result<Vec<EarningsEvent>, ParseError> {
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
    let (symbol_col, date_col, when_col) = (need("symbol")?, need("date")?, need("when")?);
    let mut events = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| err(describe_csv_error(&e)))?;
        let line = record_line(&record, body);
        let cell = |col: usize| record.get(col).unwrap_or("");
        let ticker =
            Ticker::new(cell(symbol_col)).map_err(|e| err(format!("line {line}: column `symbol`: {e}")))?;
        let date_text = cell(date_col);
        let report_date = NaiveDate::parse_from_str(date_text, "%Y-%m-%d")
            .map_err(|_| err(format!("line {line}: column `date`: {date_text:?} is not YYYY-MM-DD")))?;
        let when = cell(when_col);
        let timing = Timing::parse_vendor(when)
            .ok_or_else(|| err(format!("line {line}: column `when`: unknown timing {when:?}")))?;
        events.push(EarningsEvent { ticker, report_date, timing, source: SOURCE.to_owned() });
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_calendar_columns_only() {
        let body = "symbol,date,when,sector,market_cap,close,hv_current,iv_current,vol_premium\n\
                    MMM,2025-01-21,Before market open,Industrials,76799.1,139.18,0.1981,0.3335,1.68\n\
                    NFLX,2025-01-21,After market close,Communication,1,1,,,\n";
        let events = parse_vol_premium_csv(body, "v.csv").unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!((events[0].timing, events[1].timing), (Timing::Bmo, Timing::Amc));
        let e = parse_vol_premium_csv("symbol,date,when\nMMM,2025-01-21,At lunch\n", "v.csv").unwrap_err();
        assert!(e.message.contains("line 2") && e.message.contains("when"), "{e}");
    }
}

//! `HISTORICAL_OPTIONS`: Alpha Vantage's end-of-day chains, CSV or JSON,
//! read row by row into one chain (`ChainBuilder`), each row's problem named
//! (`RowIssue`).

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::domain::{ChainSnapshot, OptionQuote, OptionRight, Ticker};
use crate::providers::ParseError;
use crate::providers::files::occ::{is_nonstandard_root, parse_occ_symbol, same_expiration};
use crate::providers::files::ohlcv::{describe_csv_error, record_line};

use super::body::*;
use super::*;

/// Parses `HISTORICAL_OPTIONS` with `datatype=csv` into the end-of-day chain
/// of `ticker`.
///
/// Header `contractID,symbol,expiration,strike,type,last,mark,bid,bid_size,ask,ask_size,volume,open_interest,date,implied_volatility,delta,gamma,theta,vega,rho`
/// (found by name; `mark`, sizes and the other greeks are ignored). See
/// [`parse_historical_options_json`] for the mapping, which is the same.
///
/// # Errors
/// A [`ParseError`] naming `input`: an Alpha Vantage notice, empty body, HTML
/// page, missing column, a row with the wrong number of fields, and (naming
/// the line) any field error listed for the JSON form.
pub fn parse_historical_options_csv(
    body: &str,
    input: &str,
    ticker: &Ticker,
) -> Result<ChainSnapshot, ParseError> {
    let body = check_csv_body(body, input)?;
    let err = |message: String| ParseError::new(input, message);
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(body.as_bytes());
    let header = reader.headers().map_err(|e| err(format!("header: {e}")))?.clone();
    let find = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let need = |name: &str| {
        find(name).ok_or_else(|| {
            err(format!("no `{name}` column in the header {:?}", header.iter().collect::<Vec<_>>()))
        })
    };
    let cols = [
        need("contractID")?,
        need("symbol")?,
        need("expiration")?,
        need("strike")?,
        need("type")?,
        need("date")?,
    ];
    let [bid, ask] = [need("bid")?, need("ask")?];
    let optional =
        [find("last"), find("volume"), find("open_interest"), find("implied_volatility"), find("delta")];

    let mut chain = ChainBuilder::new(ticker);
    for record in reader.records() {
        let record = record.map_err(|e| err(describe_csv_error(&e)))?;
        let line = record_line(&record, body);
        let cell = |col: usize| record.get(col);
        let [contract_id, symbol, expiration, strike, kind, date] = cols.map(|c| cell(c).unwrap_or(""));
        let [last, volume, open_interest, implied_volatility, delta] = optional.map(|c| c.and_then(cell));
        let row = HistoricalRow {
            contract_id,
            symbol,
            expiration,
            strike,
            kind,
            date,
            bid: cell(bid),
            ask: cell(ask),
            last,
            volume,
            open_interest,
            implied_volatility,
            delta,
        };
        chain.push(row).map_err(|why| err(format!("line {line}: {why}")))?;
    }
    chain.finish(input, None)
}

/// Parses `HISTORICAL_OPTIONS` JSON into the end-of-day chain of `ticker`.
///
/// Shape: `{"endpoint": "Historical Options", "message": "success", "data":
/// [{"contractID": "IBM260515C00115000", "symbol": "IBM", "expiration":
/// "2026-05-15", "strike": "115.00", "type": "call", "last": .., "bid": ..,
/// "ask": .., "volume": .., "open_interest": .., "date": "2026-05-15",
/// "implied_volatility": "6.33667", "delta": "0.98267", ..}, ..]}` (values as
/// text).
///
/// Mapping (CSV and JSON alike): `as_of` is the `date` at 16:00
/// America/New_York (the close; every row must carry the same date), in UTC;
/// source `alpha_vantage:HISTORICAL_OPTIONS`; `underlying` `None`. Per
/// contract: `symbol` = `contractID` (OCC; it must agree with `expiration`,
/// `strike` and `type`); prices in USD per share as written (a bid of 0 stays
/// `Some(0)`); `iv` = `implied_volatility` (annualised fraction; 0 is
/// `None`); `delta` as written; `contract_size` `None` (not given).
/// Contracts of a non-standard root (see [`is_nonstandard_root`]) are left
/// out.
///
/// # Errors
/// A [`ParseError`] naming `input`: an Alpha Vantage notice, empty body, HTML
/// page, malformed JSON (line and column), no `data` or an empty one (no
/// date to stamp the chain with; the `message` is quoted), and (naming the
/// row) a `symbol` other than `ticker`, two different dates, an unparsable
/// number, date or type, a contract ID that contradicts its row.
pub fn parse_historical_options_json(
    body: &str,
    input: &str,
    ticker: &Ticker,
) -> Result<ChainSnapshot, ParseError> {
    let wire: HistoricalBody = from_json(body, input)?;
    let Some(data) = wire.data else {
        return Err(ParseError::new(
            input,
            format!("no `data` (message: {:?})", wire.message.unwrap_or_default()),
        ));
    };
    let mut chain = ChainBuilder::new(ticker);
    for (index, row) in data.iter().enumerate() {
        let need = |value: &Option<String>, name: &str| -> Result<String, ParseError> {
            value.clone().ok_or_else(|| ParseError::new(input, format!("data[{index}]: no `{name}`")))
        };
        let [contract_id, symbol, expiration, strike, kind, date] = [
            need(&row.contract_id, "contractID")?,
            need(&row.symbol, "symbol")?,
            need(&row.expiration, "expiration")?,
            need(&row.strike, "strike")?,
            need(&row.kind, "type")?,
            need(&row.date, "date")?,
        ];
        let parsed = HistoricalRow {
            contract_id: &contract_id,
            symbol: &symbol,
            expiration: &expiration,
            strike: &strike,
            kind: &kind,
            date: &date,
            bid: row.bid.as_deref(),
            ask: row.ask.as_deref(),
            last: row.last.as_deref(),
            volume: row.volume.as_deref(),
            open_interest: row.open_interest.as_deref(),
            implied_volatility: row.implied_volatility.as_deref(),
            delta: row.delta.as_deref(),
        };
        chain
            .push(parsed)
            .map_err(|why| ParseError::new(input, format!("data[{index}] ({contract_id}): {why}")))?;
    }
    chain.finish(input, wire.message.as_deref())
}

/// One `HISTORICAL_OPTIONS` row as text, CSV or JSON.
struct HistoricalRow<'r> {
    contract_id: &'r str,
    symbol: &'r str,
    expiration: &'r str,
    strike: &'r str,
    kind: &'r str,
    date: &'r str,
    bid: Option<&'r str>,
    ask: Option<&'r str>,
    last: Option<&'r str>,
    volume: Option<&'r str>,
    open_interest: Option<&'r str>,
    implied_volatility: Option<&'r str>,
    delta: Option<&'r str>,
}

/// What is wrong with one `HISTORICAL_OPTIONS` row (the text of the
/// [`ParseError`] it becomes, after the row's line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum RowIssue {
    #[error("symbol {symbol:?} is not the requested {requested}")]
    OtherSymbol { symbol: String, requested: Ticker },
    #[error("date {0:?} is not YYYY-MM-DD")]
    Date(String),
    #[error("date {date} differs from {first} above")]
    DateDiffers { date: NaiveDate, first: NaiveDate },
    #[error("expiration {0:?} is not YYYY-MM-DD")]
    Expiration(String),
    #[error("strike {0:?} is not a price")]
    Strike(String),
    #[error("type {0:?} is neither call nor put")]
    Kind(String),
    #[error("contractID {0:?} is not an OCC option symbol")]
    ContractId(String),
    #[error("contractID {contract_id} does not match its row ({right} {expiration} strike {strike})")]
    ContractMismatch { contract_id: String, right: &'static str, expiration: NaiveDate, strike: Decimal },
    #[error("{name} {text:?} is not {what}")]
    Cell { name: &'static str, text: String, what: &'static str },
}

/// Collects `HISTORICAL_OPTIONS` rows into a snapshot.
struct ChainBuilder<'t> {
    ticker: &'t Ticker,
    date: Option<NaiveDate>,
    rows: usize,
    contracts: Vec<OptionQuote>,
}

impl<'t> ChainBuilder<'t> {
    fn new(ticker: &'t Ticker) -> Self {
        Self { ticker, date: None, rows: 0, contracts: Vec::new() }
    }

    fn push(&mut self, row: HistoricalRow<'_>) -> Result<(), RowIssue> {
        self.rows += 1;
        if Ticker::new(row.symbol).ok().as_ref() != Some(self.ticker) {
            return Err(RowIssue::OtherSymbol {
                symbol: row.symbol.to_owned(),
                requested: self.ticker.clone(),
            });
        }
        let date = date_text(row.date).ok_or_else(|| RowIssue::Date(row.date.to_owned()))?;
        match self.date {
            Some(first) if first != date => return Err(RowIssue::DateDiffers { date, first }),
            _ => self.date = Some(date),
        }
        let expiration =
            date_text(row.expiration).ok_or_else(|| RowIssue::Expiration(row.expiration.to_owned()))?;
        let strike = price_text_trimmed(row.strike).ok_or_else(|| RowIssue::Strike(row.strike.to_owned()))?;
        let right = match row.kind.to_ascii_lowercase().as_str() {
            "call" => OptionRight::Call,
            "put" => OptionRight::Put,
            _ => return Err(RowIssue::Kind(row.kind.to_owned())),
        };
        let occ = parse_occ_symbol(row.contract_id)
            .ok_or_else(|| RowIssue::ContractId(row.contract_id.to_owned()))?;
        if occ.right != right || occ.strike != strike || !same_expiration(expiration, occ.expiration) {
            return Err(RowIssue::ContractMismatch {
                contract_id: row.contract_id.to_owned(),
                right: right.code(),
                expiration,
                strike,
            });
        }
        if is_nonstandard_root(&occ.root, self.ticker) {
            return Ok(());
        }
        let bad = |name: &'static str, what: &'static str| {
            move |text: &str| RowIssue::Cell { name, text: text.to_owned(), what }
        };
        let price = |text: Option<&str>, name: &'static str| -> Result<Option<Decimal>, RowIssue> {
            optional(text, price_text_trimmed).map_err(bad(name, "a price"))
        };
        let count = |text: Option<&str>, name: &'static str| -> Result<Option<u64>, RowIssue> {
            optional(text, |t| t.parse::<u64>().ok()).map_err(bad(name, "a whole number"))
        };
        let real = |text: Option<&str>, name: &'static str| -> Result<Option<f64>, RowIssue> {
            optional(text, |t| t.parse::<f64>().ok().filter(|v| v.is_finite())).map_err(bad(name, "a number"))
        };
        self.contracts.push(OptionQuote {
            symbol: Some(row.contract_id.to_owned()),
            expiration,
            strike,
            right,
            bid: price(row.bid, "bid")?,
            ask: price(row.ask, "ask")?,
            last: price(row.last, "last")?,
            volume: count(row.volume, "volume")?,
            open_interest: count(row.open_interest, "open_interest")?,
            iv: real(row.implied_volatility, "implied_volatility")?.filter(|iv| *iv > 0.0),
            delta: real(row.delta, "delta")?,
            contract_size: None,
        });
        Ok(())
    }

    fn finish(self, input: &str, message: Option<&str>) -> Result<ChainSnapshot, ParseError> {
        let Some(date) = self.date else {
            let said = message.map(|m| format!(" (message: {m:?})")).unwrap_or_default();
            return Err(ParseError::new(
                input,
                format!("no contracts: no date to stamp the chain with{said}"),
            ));
        };
        let as_of = end_of_day_utc(date)
            .ok_or_else(|| ParseError::new(input, format!("16:00 on {date} is not a New York time")))?;
        Ok(ChainSnapshot {
            ticker: self.ticker.clone(),
            as_of,
            source: SOURCE_HISTORICAL_OPTIONS.to_owned(),
            underlying: None,
            contracts: self.contracts,
        })
    }
}

//! Domain types shared by every layer: tickers, earnings events and their
//! timing, daily bars, underlying quotes and option chains.
//!
//! Conventions (see `../shared/docs/domain.md`):
//! - money is [`Decimal`] in USD per share, exactly as the source gave it;
//! - implied volatility is annualised, as a fraction (0.573 = 57.3%);
//! - instants are [`DateTime<Utc>`]; market dates are [`NaiveDate`] in
//!   America/New_York.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// An equity ticker symbol, upper case, validated on construction.
///
/// Accepts 1 to 10 characters of `A-Z`, `0-9`, `.`, `-` and `/` (class shares
/// such as `BRK.B` or `BRK/B`). Lower-case input is upper-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ticker(String);

/// Why a string is not a [`Ticker`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid ticker {0:?}: expected 1-10 characters of A-Z, 0-9, '.', '-' or '/'")]
pub struct InvalidTicker(pub String);

impl Ticker {
    /// Parses and normalises a ticker symbol.
    ///
    /// # Errors
    /// [`InvalidTicker`] when the symbol is empty, longer than 10 characters,
    /// or contains anything but `A-Z`, `0-9`, `.`, `-`, `/`.
    pub fn new(symbol: &str) -> Result<Self, InvalidTicker> {
        let upper = symbol.trim().to_ascii_uppercase();
        let valid = !upper.is_empty()
            && upper.len() <= 10
            && upper
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'/'));
        if valid { Ok(Self(upper)) } else { Err(InvalidTicker(symbol.to_owned())) }
    }

    /// The symbol as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Ticker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Ticker {
    type Err = InvalidTicker;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<String> for Ticker {
    type Error = InvalidTicker;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(&s)
    }
}

impl From<Ticker> for String {
    fn from(t: Ticker) -> Self {
        t.0
    }
}

/// When a company reports relative to the regular session of its report date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timing {
    /// Before market open: the reaction session is the report date itself.
    Bmo,
    /// After market close: the reaction session is the session after the report date.
    Amc,
    /// During market hours (Finnhub's `dmh`): no clean reference/reaction pair.
    Dmh,
    /// The source did not say.
    Unknown,
}

impl Timing {
    /// The lower-case code stored in the database and printed in JSON (`bmo`, `amc`, `dmh`, `unknown`).
    pub fn code(self) -> &'static str {
        match self {
            Timing::Bmo => "bmo",
            Timing::Amc => "amc",
            Timing::Dmh => "dmh",
            Timing::Unknown => "unknown",
        }
    }

    /// Reads the spellings providers use: `BMO`/`AMC`/`DMH`/`UNKNOWN` (any case),
    /// Alpha Vantage's `pre-market`/`post-market`, Nasdaq's `time-pre-market`/`time-after-hours`.
    /// An empty string or `time-not-supplied` is [`Timing::Unknown`]; anything else is `None`.
    pub fn parse_vendor(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "bmo" | "pre-market" | "time-pre-market" | "before market open" => Some(Timing::Bmo),
            "amc" | "post-market" | "time-after-hours" | "after market close" => Some(Timing::Amc),
            "dmh" | "during-market" | "during market hours" => Some(Timing::Dmh),
            "" | "unknown" | "time-not-supplied" | "--" => Some(Timing::Unknown),
            _ => None,
        }
    }
}

impl fmt::Display for Timing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Timing::Bmo => "BMO",
            Timing::Amc => "AMC",
            Timing::Dmh => "DMH",
            Timing::Unknown => "UNKNOWN",
        })
    }
}

impl FromStr for Timing {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Timing::parse_vendor(s).ok_or_else(|| format!("unknown earnings timing {s:?}"))
    }
}

/// One earnings report: (ticker, report date in ET, timing), with where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarningsEvent {
    /// The reporting company's ticker.
    pub ticker: Ticker,
    /// The report date (America/New_York calendar date).
    pub report_date: NaiveDate,
    /// Before the open, after the close, or unknown.
    pub timing: Timing,
    /// Where the event came from, e.g. `alpha_vantage:EARNINGS_CALENDAR` or `file:earnings_calendar.csv`.
    pub source: String,
}

/// One daily OHLCV bar of an underlying, prices in USD per share.
///
/// Whether the prices are split-adjusted depends on the source; sources say so
/// in [`DailyBar`]'s provenance where they know (Yahoo files are adjusted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyBar {
    /// The session date (ET).
    pub date: NaiveDate,
    /// Opening price.
    pub open: Decimal,
    /// Session high.
    pub high: Decimal,
    /// Session low.
    pub low: Decimal,
    /// Closing price.
    pub close: Decimal,
    /// Shares traded, when the source gives it.
    pub volume: Option<u64>,
}

/// A quote of the underlying stock at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnderlyingQuote {
    /// The stock.
    pub ticker: Ticker,
    /// Best bid, USD; `None` when absent or zero.
    pub bid: Option<Decimal>,
    /// Best ask, USD; `None` when absent or zero.
    pub ask: Option<Decimal>,
    /// Last trade, USD.
    pub last: Option<Decimal>,
    /// Session volume, shares.
    pub volume: Option<u64>,
    /// When the quote was taken (UTC), if the source says.
    pub as_of: Option<DateTime<Utc>>,
    /// The session's opening price, USD; `None` before the stock opens (or
    /// while it is halted) and when the source does not say.
    #[serde(default)]
    pub open: Option<Decimal>,
    /// The previous session's close, USD, when the source says.
    #[serde(default)]
    pub prev_close: Option<Decimal>,
}

impl UnderlyingQuote {
    /// The price ivcd calls the spot S: the bid/ask mid when both sides are
    /// positive and not crossed, else the last trade (domain.md §3).
    pub fn spot(&self) -> Option<Decimal> {
        match (self.bid, self.ask) {
            (Some(bid), Some(ask)) if bid > Decimal::ZERO && ask >= bid => Some((bid + ask) / Decimal::TWO),
            _ => self.last.filter(|p| *p > Decimal::ZERO),
        }
    }
}

/// Call or put.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptionRight {
    /// The right to buy.
    Call,
    /// The right to sell.
    Put,
}

impl OptionRight {
    /// `call` or `put`, as stored.
    pub fn code(self) -> &'static str {
        match self {
            OptionRight::Call => "call",
            OptionRight::Put => "put",
        }
    }
}

/// One option contract's quote as the source gave it. Absent fields are `None`,
/// never zero-filled; a bid of exactly 0 from the source stays `Some(0)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptionQuote {
    /// OCC symbol when the source gives one (e.g. `CVNA230721C00036500`).
    pub symbol: Option<String>,
    /// Expiration date (ET).
    pub expiration: NaiveDate,
    /// Strike, USD.
    pub strike: Decimal,
    /// Call or put.
    pub right: OptionRight,
    /// Best bid, USD per share.
    pub bid: Option<Decimal>,
    /// Best ask, USD per share.
    pub ask: Option<Decimal>,
    /// Last trade, USD per share.
    pub last: Option<Decimal>,
    /// Contracts traded in the session.
    pub volume: Option<u64>,
    /// Open interest, contracts.
    pub open_interest: Option<u64>,
    /// Implied volatility as the source gave it, annualised fraction.
    pub iv: Option<f64>,
    /// Delta as the source gave it.
    pub delta: Option<f64>,
    /// Shares per contract (100 unless the chain says otherwise).
    pub contract_size: Option<u32>,
}

impl OptionQuote {
    /// The bid/ask mid, USD per share, when the quote is usable: bid > 0,
    /// ask > 0 and ask >= bid (domain.md §3). `None` otherwise.
    pub fn mid(&self) -> Option<Decimal> {
        match (self.bid, self.ask) {
            (Some(bid), Some(ask)) if bid > Decimal::ZERO && ask > Decimal::ZERO && ask >= bid => {
                Some((bid + ask) / Decimal::TWO)
            }
            _ => None,
        }
    }
}

/// An option chain as recorded at one instant: the underlying quote (if the
/// source gave one) and every contract, over one or more expirations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainSnapshot {
    /// The underlying.
    pub ticker: Ticker,
    /// When the quotes were taken (UTC).
    pub as_of: DateTime<Utc>,
    /// The source, e.g. `tradier`, `cboe_csv`, `alpha_vantage:HISTORICAL_OPTIONS`.
    pub source: String,
    /// The underlying's quote at `as_of`, when the source includes one.
    pub underlying: Option<UnderlyingQuote>,
    /// Every contract of the snapshot.
    pub contracts: Vec<OptionQuote>,
}

impl ChainSnapshot {
    /// The distinct expirations present, ascending.
    pub fn expirations(&self) -> Vec<NaiveDate> {
        let mut dates: Vec<NaiveDate> = self.contracts.iter().map(|c| c.expiration).collect();
        dates.sort_unstable();
        dates.dedup();
        dates
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn ticker_normalises_and_rejects() {
        assert_eq!(Ticker::new(" cvna ").unwrap().as_str(), "CVNA");
        assert_eq!(Ticker::new("BRK.B").unwrap().as_str(), "BRK.B");
        assert!(Ticker::new("").is_err());
        assert!(Ticker::new("CV NA").is_err());
        assert!(Ticker::new("ABCDEFGHIJK").is_err());
    }

    #[test]
    fn timing_reads_vendor_spellings() {
        assert_eq!(Timing::parse_vendor("post-market"), Some(Timing::Amc));
        assert_eq!(Timing::parse_vendor("BMO"), Some(Timing::Bmo));
        assert_eq!(Timing::parse_vendor(""), Some(Timing::Unknown));
        assert_eq!(Timing::parse_vendor("lunchtime"), None);
    }

    #[test]
    fn mid_requires_a_sane_two_sided_quote() {
        let mut q = OptionQuote {
            symbol: None,
            expiration: NaiveDate::from_ymd_opt(2023, 7, 21).unwrap(),
            strike: dec!(36.5),
            right: OptionRight::Call,
            bid: Some(dec!(2.31)),
            ask: Some(dec!(2.40)),
            last: None,
            volume: None,
            open_interest: None,
            iv: None,
            delta: None,
            contract_size: None,
        };
        assert_eq!(q.mid(), Some(dec!(2.355)));
        q.bid = Some(Decimal::ZERO);
        assert_eq!(q.mid(), None);
        q.bid = Some(dec!(2.5));
        assert_eq!(q.mid(), None, "crossed quote");
    }

    #[test]
    fn spot_prefers_mid_then_last() {
        let t = Ticker::new("CVNA").unwrap();
        let q = UnderlyingQuote {
            ticker: t.clone(),
            bid: Some(dec!(36.8)),
            ask: Some(dec!(36.86)),
            last: Some(dec!(36.8)),
            volume: None,
            as_of: None,
            open: None,
            prev_close: None,
        };
        assert_eq!(q.spot(), Some(dec!(36.83)));
        let q = UnderlyingQuote { bid: None, ..q };
        assert_eq!(q.spot(), Some(dec!(36.8)));
    }
}

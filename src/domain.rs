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

    /// Reads a stored code (`bmo`, `amc`, `dmh`, `unknown`; exactly as
    /// [`Timing::code`] writes it). Providers' spellings are for
    /// [`Timing::parse_vendor`].
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "bmo" => Some(Timing::Bmo),
            "amc" => Some(Timing::Amc),
            "dmh" => Some(Timing::Dmh),
            "unknown" => Some(Timing::Unknown),
            _ => None,
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

/// A timing none of the spellings of [`Timing::parse_vendor`] names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown earnings timing {0:?}")]
pub struct UnknownTiming(pub String);

impl FromStr for Timing {
    type Err = UnknownTiming;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Timing::parse_vendor(s).ok_or_else(|| UnknownTiming(s.to_owned()))
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

    /// Reads a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "call" => Some(OptionRight::Call),
            "put" => Some(OptionRight::Put),
            _ => None,
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

    /// The contracts of `expiration` alone, in the snapshot's order; empty
    /// when the snapshot lists none of that expiration.
    ///
    /// Every figure of one expiration (the ATM straddle and the implied
    /// move's brackets, the proposed structures, their legs' liquidity, the
    /// smile fit, the ATM IV, the exit values) is computed from this, never
    /// from [`ChainSnapshot::contracts`], which may hold other expirations
    /// (the scan adds the term structure's).
    pub fn expiration(&self, expiration: NaiveDate) -> ExpirationChain<'_> {
        ExpirationChain {
            expiration,
            contracts: self.contracts.iter().filter(|c| c.expiration == expiration).collect(),
        }
    }

    /// One [`ExpirationChain`] per expiration present, ascending by expiration.
    pub fn by_expiration(&self) -> Vec<ExpirationChain<'_>> {
        self.expirations().into_iter().map(|e| self.expiration(e)).collect()
    }
}

/// The contracts of one expiration, and only those: the input of every
/// figure that belongs to one expiration.
///
/// Made by [`ChainSnapshot::expiration`] (which picks the expiration's
/// contracts out of a snapshot of any expirations) or by the checked
/// [`ExpirationChain::new`] (which refuses a contract of another expiration),
/// so a slice that mixes expirations cannot reach an ATM strike, a straddle,
/// an interpolation bracket or a structure's leg: with strike grids that
/// differ between expirations, a strike of another expiration would bracket
/// the spot (issue 19: NVDA's 2025-01-17 151 strike for the 2025-01-10
/// straddle gave 5.29% instead of 4.69%).
///
/// The contracts keep their order; where an expiration lists the same strike
/// and right twice, lookups take the first.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpirationChain<'a> {
    expiration: NaiveDate,
    contracts: Vec<&'a OptionQuote>,
}

/// A contract handed to [`ExpirationChain::new`] that expires on another date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the {strike} {right} expiring {found} is not of the expiration {expected}: one expiration's chain holds \
     that expiration's contracts only (take them with ChainSnapshot::expiration)"
)]
pub struct MixedExpirations {
    /// The expiration of the chain being built.
    pub expected: NaiveDate,
    /// The other expiration found.
    pub found: NaiveDate,
    /// The strike of the contract found, USD.
    pub strike: Decimal,
    /// `call` or `put`.
    pub right: &'static str,
}

impl<'a> ExpirationChain<'a> {
    /// The chain of `expiration` from `contracts`, all of which must expire
    /// on `expiration` (an empty chain is allowed).
    ///
    /// # Errors
    /// [`MixedExpirations`] naming the first contract of another expiration.
    pub fn new(
        expiration: NaiveDate,
        contracts: impl IntoIterator<Item = &'a OptionQuote>,
    ) -> Result<Self, MixedExpirations> {
        let contracts: Vec<&'a OptionQuote> = contracts.into_iter().collect();
        if let Some(other) = contracts.iter().find(|c| c.expiration != expiration) {
            return Err(MixedExpirations {
                expected: expiration,
                found: other.expiration,
                strike: other.strike.normalize(),
                right: other.right.code(),
            });
        }
        Ok(Self { expiration, contracts })
    }

    /// The expiration (ET).
    pub fn expiration(&self) -> NaiveDate {
        self.expiration
    }

    /// The contracts, in the order the source listed them.
    pub fn contracts(&self) -> &[&'a OptionQuote] {
        &self.contracts
    }

    /// Iterates over the contracts.
    pub fn iter(&self) -> impl Iterator<Item = &'a OptionQuote> + '_ {
        self.contracts.iter().copied()
    }

    /// Whether the expiration has no contract.
    pub fn is_empty(&self) -> bool {
        self.contracts.is_empty()
    }

    /// The number of contracts.
    pub fn len(&self) -> usize {
        self.contracts.len()
    }

    /// The first listed contract of `right` at `strike` (USD), if any.
    pub fn quote(&self, strike: Decimal, right: OptionRight) -> Option<&'a OptionQuote> {
        self.iter().find(|c| c.strike == strike && c.right == right)
    }

    /// The distinct strikes listed for `right`, ascending, USD.
    pub fn strikes(&self, right: OptionRight) -> Vec<Decimal> {
        let set: std::collections::BTreeSet<Decimal> =
            self.iter().filter(|c| c.right == right).map(|c| c.strike).collect();
        set.into_iter().collect()
    }

    /// The strikes at which both a call and a put are listed, ascending, USD.
    /// One pass over the contracts: a chain has hundreds.
    pub fn strikes_with_both_legs(&self) -> Vec<Decimal> {
        let mut calls = std::collections::BTreeSet::new();
        let mut puts = std::collections::BTreeSet::new();
        for c in self.iter() {
            match c.right {
                OptionRight::Call => calls.insert(c.strike),
                OptionRight::Put => puts.insert(c.strike),
            };
        }
        calls.intersection(&puts).copied().collect()
    }

    /// The shares per contract: the first the chain states, if any.
    pub fn contract_size(&self) -> Option<u32> {
        self.iter().find_map(|c| c.contract_size)
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

    fn contract(expiration: NaiveDate, strike: Decimal, right: OptionRight) -> OptionQuote {
        OptionQuote {
            symbol: None,
            expiration,
            strike,
            right,
            bid: Some(dec!(1)),
            ask: Some(dec!(1.1)),
            last: None,
            volume: None,
            open_interest: None,
            iv: None,
            delta: None,
            contract_size: None,
        }
    }

    #[test]
    fn an_expiration_chain_holds_its_expiration_alone() {
        let (front, back) =
            (NaiveDate::from_ymd_opt(2025, 1, 10).unwrap(), NaiveDate::from_ymd_opt(2025, 1, 17).unwrap());
        let snapshot = ChainSnapshot {
            ticker: Ticker::new("NVDA").unwrap(),
            as_of: DateTime::UNIX_EPOCH,
            source: "test".into(),
            underlying: None,
            contracts: vec![
                contract(back, dec!(151), OptionRight::Call),
                contract(front, dec!(150), OptionRight::Put),
                contract(back, dec!(151), OptionRight::Put),
                contract(front, dec!(150), OptionRight::Call),
                contract(front, dec!(152.5), OptionRight::Call),
            ],
        };
        let chain = snapshot.expiration(front);
        assert_eq!(chain.expiration(), front);
        let listed: Vec<(Decimal, OptionRight)> = chain.iter().map(|c| (c.strike, c.right)).collect();
        assert_eq!(
            listed,
            [(dec!(150), OptionRight::Put), (dec!(150), OptionRight::Call), (dec!(152.5), OptionRight::Call)]
        );
        assert_eq!(chain.strikes_with_both_legs(), [dec!(150)], "151 is only listed for 01-17");
        assert_eq!(chain.strikes(OptionRight::Call), [dec!(150), dec!(152.5)]);
        assert_eq!(chain.quote(dec!(151), OptionRight::Call), None);
        assert!(snapshot.expiration(NaiveDate::from_ymd_opt(2025, 1, 24).unwrap()).is_empty());
        let each: Vec<(NaiveDate, usize)> =
            snapshot.by_expiration().iter().map(|c| (c.expiration(), c.len())).collect();
        assert_eq!(each, [(front, 3), (back, 2)]);

        // The checked constructor refuses a contract of another expiration.
        let err = ExpirationChain::new(front, &snapshot.contracts).unwrap_err();
        assert_eq!((err.expected, err.found, err.strike, err.right), (front, back, dec!(151), "call"));
        assert!(
            err.to_string().contains("the 151 call expiring 2025-01-17 is not of the expiration 2025-01-10")
        );
        assert_eq!(ExpirationChain::new(front, &snapshot.contracts[1..2]).unwrap().len(), 1);
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

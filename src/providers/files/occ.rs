//! The OCC (OSI) option symbol, shared by every chain source: taken apart,
//! checked against the listed expiration, and the adjusted or mini roots
//! that chain parsers leave out.

use chrono::{Datelike, NaiveDate, Weekday};
use rust_decimal::Decimal;

use crate::domain::{OptionRight, Ticker};

/// An OCC (OSI) option symbol taken apart: `CVNA230721C00036500` is root
/// `CVNA`, expiration 2023-07-21, call, strike 36.5.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OccSymbol {
    /// The option root: 1 to 6 characters of `A-Z0-9`, starting with a
    /// letter. It is the underlying's symbol without class separators (`BRKB`
    /// for BRK.B) for standard contracts; a root that adds a digit (`AMD1`,
    /// `TSLA1`, `AAPL7`) marks an adjusted or mini contract whose deliverable
    /// is not 100 shares of the underlying.
    pub root: String,
    /// The expiration date the symbol carries (before 2015, monthly options
    /// carried the Saturday after the last trading day).
    pub expiration: NaiveDate,
    /// Call or put.
    pub right: OptionRight,
    /// Strike, USD (the symbol's last 8 digits are the strike in thousandths).
    pub strike: Decimal,
}

/// Takes an OCC option symbol apart: root (1-6 characters, optionally padded
/// with spaces to 6 as in the 21-character OSI form), `YYMMDD` expiration
/// (20YY), `C` or `P`, and the strike in thousandths of a dollar on 8 digits.
///
/// Returns `None` for anything else (including non-ASCII text), never panics.
pub fn parse_occ_symbol(symbol: &str) -> Option<OccSymbol> {
    let symbol = symbol.trim();
    if !symbol.is_ascii() || symbol.len() < 16 {
        return None;
    }
    // ASCII only, so every byte index is a char boundary.
    let (root, tail) = symbol.split_at(symbol.len() - 15);
    let root = root.trim_end();
    let root_ok = (1..=6).contains(&root.len())
        && root.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
        && root.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if !root_ok {
        return None;
    }
    let (date, rest) = tail.split_at(6);
    let (right, strike) = rest.split_at(1);
    if !date.bytes().all(|b| b.is_ascii_digit()) || !strike.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let yy: i32 = date.get(0..2)?.parse().ok()?;
    let mm: u32 = date.get(2..4)?.parse().ok()?;
    let dd: u32 = date.get(4..6)?.parse().ok()?;
    let expiration = NaiveDate::from_ymd_opt(2000 + yy, mm, dd)?;
    let right = match right {
        "C" => OptionRight::Call,
        "P" => OptionRight::Put,
        _ => return None,
    };
    let thousandths: i64 = strike.parse().ok()?;
    Some(OccSymbol {
        root: root.to_owned(),
        expiration,
        right,
        strike: Decimal::new(thousandths, 3).normalize(),
    })
}

/// Whether a contract of option root `root` is a non-standard (adjusted or
/// mini) contract of `ticker`: its root is not the ticker's own root (the
/// ticker without `.`, `/`, `-`) and ends in a digit, which is how OCC marks
/// contracts whose deliverable changed (`AMD1` after the Xilinx merger,
/// `AAPL7` mini options of 10 shares).
///
/// Chain parsers leave such contracts out: a snapshot has no field for a
/// deliverable, and keeping them would put two unrelated quotes on the same
/// (expiration, strike, right), which an implied-move computation would mix up.
pub fn is_nonstandard_root(root: &str, ticker: &Ticker) -> bool {
    let own_root: String = ticker.as_str().chars().filter(char::is_ascii_alphanumeric).collect();
    root != own_root && root.ends_with(|c: char| c.is_ascii_digit())
}

/// Whether `listed` (an expiration as a source lists it) and `in_symbol` (the
/// date in the OCC symbol) name the same expiration: equal, or the symbol
/// carries the Saturday after a Friday (pre-2015 monthly convention).
pub(crate) fn same_expiration(listed: NaiveDate, in_symbol: NaiveDate) -> bool {
    listed == in_symbol
        || (listed.weekday() == Weekday::Fri
            && in_symbol.weekday() == Weekday::Sat
            && listed.succ_opt() == Some(in_symbol))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn occ_symbols() {
        let occ = parse_occ_symbol("CVNA230721C00036500").unwrap();
        assert_eq!(occ.root, "CVNA");
        assert_eq!(occ.expiration, NaiveDate::from_ymd_opt(2023, 7, 21).unwrap());
        assert_eq!(occ.right, OptionRight::Call);
        assert_eq!(occ.strike, dec!(36.5));
        assert_eq!(parse_occ_symbol("AMD1240119P00075000").unwrap().root, "AMD1");
        assert_eq!(parse_occ_symbol("AAPL  240119C00190000").unwrap().root, "AAPL");
        for bad in [
            "",
            "CVNA",
            "CVNA230721X00036500",
            "CVNA231321C00036500",
            "1ABC230721C00036500",
            "ABCDEFG230721C00036500",
            "CVNÄ230721C00036500",
        ] {
            assert_eq!(parse_occ_symbol(bad), None, "{bad}");
        }
    }

    #[test]
    fn nonstandard_roots() {
        let amd = Ticker::new("AMD").unwrap();
        assert!(is_nonstandard_root("AMD1", &amd));
        assert!(!is_nonstandard_root("AMD", &amd));
        assert!(!is_nonstandard_root("BRKB", &Ticker::new("BRK.B").unwrap()));
    }
}

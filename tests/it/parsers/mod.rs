//! Parser tests on real recorded files: every recorded body each parser
//! applies to, concrete values read by hand from the raw files (the comment
//! names the file and line), malformed variants that must be clear errors,
//! and property tests that no input makes a parser panic. One file per
//! vendor's format; the helpers they share are here.

mod alpha_vantage;
mod cboe;
mod fuzz;
mod ohlcv;
mod tradier;
mod trading_desk;

use std::fmt::Debug;

use ivcd::domain::{ChainSnapshot, DailyBar, OptionQuote};
use ivcd::providers::ParseError;

use crate::support::values::date;

const AV_AAPL_EARNINGS: &str = "OpenBB-finance__OpenBB/openbb_platform/providers/alpha_vantage/tests/record/http/test_alpha_vantage_fetchers/EARNINGS_AAPL_recorded_2024-06-27.json";
const CVNA_CBOE: &str = "upstar7__Gamma-Ex/cvna_quotedata.csv";
const CVNA_CBOE_JULY: &str = "upstar7__Gamma-Ex/cvna_quotedata_July.csv";
const AMD_CBOE: &str = "aryamanwastaken__gamma-exposure/amd_quotedata.csv";
const TSLA_CBOE_AUG: &str = "aryamanwastaken__gamma-exposure/tsla_quotedata.csv";
const TSLA_CBOE_FR: &str = "hicham712__SABR_Implied_Vol/tsla_quotedata.csv";
const CVNA_UNADJUSTED: &str = "ivan-pichugin__cvna2019-2024gaps/CVNA.csv";
const AV_STOCK_DIR: &str = "ShallweXiaowei__earning_stocks/stock_data";

fn bar_on<'b>(bars: &'b [DailyBar], day: &str) -> &'b DailyBar {
    let day = date(day);
    bars.iter().find(|bar| bar.date == day).unwrap_or_else(|| panic!("no bar on {day}"))
}

fn contract<'c>(chain: &'c ChainSnapshot, symbol: &str) -> &'c OptionQuote {
    chain
        .contracts
        .iter()
        .find(|c| c.symbol.as_deref() == Some(symbol))
        .unwrap_or_else(|| panic!("no contract {symbol}"))
}

fn assert_ascending_unique(bars: &[DailyBar], what: &str) {
    for pair in bars.windows(2) {
        assert!(pair[0].date < pair[1].date, "{what}: {} then {}", pair[0].date, pair[1].date);
    }
}

/// The parse failed, named `input`, and said something containing `needle`.
#[track_caller]
fn assert_rejects<T: Debug>(result: Result<T, ParseError>, input: &str, needle: &str) {
    match result {
        Ok(value) => panic!("{input}: expected an error containing {needle:?}, got {value:?}"),
        Err(e) => {
            assert_eq!(e.input, input, "error names its input: {e}");
            assert!(
                e.message.to_lowercase().contains(&needle.to_lowercase()),
                "{input}: error {:?} should contain {needle:?}",
                e.message
            );
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return files };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

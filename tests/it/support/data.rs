//! Where the recorded real market data lives, and the recorded files that
//! more than one test module reads, each by name.

use std::path::PathBuf;

/// The repository's root (the crate's manifest directory).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The directory of recorded real market data: `$IVCD_DATA_DIR` when set,
/// else `../shared/data` beside the repository (as CI lays it out).
pub fn data_dir() -> PathBuf {
    match std::env::var_os("IVCD_DATA_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => repo().join("../shared/data"),
    }
}

/// Reads a recorded file under [`data_dir`], panicking with the path on failure.
pub fn read_data(relative: &str) -> String {
    let path = data_dir().join(relative);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read recorded data {}: {e}", path.display()))
}

/// Alpha Vantage's specification examples (portfoliotree), as recorded.
pub const AV: &str = "portfoliotree__alphavantage/specification/testdata/examples";
/// The same examples as the specification had them on 2025-11-08.
pub const AV_2025: &str = "portfoliotree__alphavantage/specification/testdata/examples/_versions_2025-11-08";
/// Alpha Vantage's earnings calendar recorded on 2026-05-17 (CSV): 4 AMC
/// reporters on Mon 2026-05-18 and 20 BMO on Tue 05-19, among others.
pub const AV_CALENDAR: &str =
    "portfoliotree__alphavantage/specification/testdata/examples/fundamental/EARNINGS_CALENDAR_c674ae28.csv";
/// OpenBB's recorded Tradier responses (PLTR, 2024-06-28).
pub const TRADIER_OPENBB: &str =
    "OpenBB-finance__OpenBB/openbb_platform/providers/tradier/tests/record/http/test_tradier_fetchers";
/// tradier.rb's fixtures (Tradier's documented answers).
pub const TRADIER_RB: &str = "tradier__tradier.rb/spec/fixtures";
/// Yahoo daily bars, one `TICKER.csv` per ticker.
pub const YAHOO_DIR: &str = "Krzysztof-Smykla__Stock-Price-Dashboard/data";
/// The trading desk's earnings calendar export.
pub const TRADING_DESK: &str = "pmak99__trading-desk-public/exports/earnings_calendar.csv";
/// Cboe's NVDA option quotes (a chain with many expirations).
pub const NVDA_CBOE: &str = "DorelRoata__Option-Gamma-Exposure--zero-gamma-level/nvda_quotedata.csv";

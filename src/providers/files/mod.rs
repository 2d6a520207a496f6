//! Recorded files on disk: Cboe chain downloads, daily OHLCV CSVs, the
//! trading-desk earnings calendar, the trading bot's 2025 calendar and
//! EarningsWatcher's recorded implied moves, parsed by pure functions of
//! their text.

pub mod cboe;
pub mod earnings_watcher;
pub mod occ;
pub mod ohlcv;
pub mod recorded;
pub mod trading_desk;
pub mod vol_premium;

//! Recorded files on disk: Cboe chain downloads, daily OHLCV CSVs and the
//! trading-desk earnings calendar, parsed by pure functions of their text.

pub mod cboe;
pub mod ohlcv;
pub mod recorded;
pub mod trading_desk;

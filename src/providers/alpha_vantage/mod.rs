//! Alpha Vantage: notice detection and parsers from response bodies (JSON
//! and CSV) to domain types.

pub mod client;
pub mod config;
pub mod wire;

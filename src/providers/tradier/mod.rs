//! Tradier market data: wire types and parsers from response bodies to
//! domain types.

pub mod client;
pub mod config;
pub mod wire;

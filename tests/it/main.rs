//! ivcd's integration tests: one binary (see matklad, "Delete Cargo
//! Integration Tests"), one module per capability, helpers in `support`.

// Tests print their figures to the terminal that runs them: a
// closed pipe there is the harness failing, not input ivcd must survive
// (clippy.toml forbids these macros in ivcd itself).
#![allow(clippy::disallowed_macros, reason = "output to the terminal running them")]
// Their durations are literals, and a test's panic is its failure.
#![allow(clippy::disallowed_methods, reason = "literal durations")]
// A test's unwrap, expect or panic is its failure, with the message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests: a panic is the failure")]

mod alerts;
mod analysis;
mod architecture;
mod backfill;
mod calendar;
mod calibration;
mod cli;
mod config_files;
mod crash;
mod daemon;
mod date_changes;
mod db;
mod docs;
mod expirations;
mod extremes;
mod faults;
mod market_view;
mod metrics;
mod package;
mod parsers;
mod replay;
mod review;
mod scan_http;
mod sec;
mod security;
mod shutdown;
mod status;
mod support;

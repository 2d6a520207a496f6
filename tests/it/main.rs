//! ivcd's integration tests: one binary (see matklad, "Delete Cargo
//! Integration Tests"), one module per capability, helpers in `support`.

mod alerts;
mod analysis;
mod backfill;
mod calendar;
mod cli;
mod config_files;
mod crash;
mod daemon;
mod db;
mod docs;
mod expirations;
mod faults;
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

//! ivcd, the IV crush daemon: scans the option chains of companies about to
//! report earnings, compares the implied move with the stock's historical
//! earnings moves, ranks the setups and keeps everything in SQLite.
//!
//! See `docs/ARCHITECTURE.md` for the map of the modules and their invariants.

pub mod alert;
pub mod analysis;
pub mod calendar;
pub mod cli;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod domain;
pub mod jobs;
pub mod providers;
pub mod render;
pub mod replay;
pub mod report;
pub mod review;
pub mod status;
pub mod store;
pub mod timetable;

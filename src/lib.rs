//! ivcd, the IV crush daemon: scans the option chains of companies about to
//! report earnings, compares the implied move with the stock's historical
//! earnings moves, ranks the setups and keeps everything in SQLite.
//!
//! See `docs/ARCHITECTURE.md` for the map of the modules and their invariants.

pub mod alert;
pub mod analysis;
pub mod calendar;
pub mod calibration;
pub mod cli;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod domain;
pub mod jobs;
pub mod metrics;
pub mod net;
pub mod present;
pub mod providers;
pub mod redact;
pub mod replay;
pub mod report;
pub mod review;
pub mod settings;
pub mod status;
pub mod store;
pub mod time;
pub mod timetable;

/// The git commit this binary was built from (`git describe --always --dirty
/// --exclude=*` at build time: the abbreviated hash even when tags exist;
/// `unknown` when built outside a git checkout, e.g. from a crate tarball).
pub const GIT_COMMIT: &str = git_version::git_version!(
    args = ["--always", "--dirty=-modified", "--abbrev=12", "--exclude=*"],
    fallback = "unknown"
);

/// ivcd's version as `ivcd --version`, `ivcd status` and the metrics show it:
/// `0.1.0 (a1b2c3d4e5f6)`.
pub static VERSION: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{} ({GIT_COMMIT})", env!("CARGO_PKG_VERSION")));

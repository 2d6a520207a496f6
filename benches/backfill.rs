//! Backfill at scale, from files: the whole trading-desk earnings calendar
//! (5,450 events, 472 tickers) with the Yahoo daily prices (504 S&P 500
//! tickers), into a fresh database, then the same backfill again
//! (incremental: it must fetch nothing). Prints wall time, CPU time, peak
//! RSS and the job's counts for each run.
//!
//! Run: `cargo bench --bench backfill` (reads `$IVCD_DATA_DIR`, default
//! `../shared/data`); the latest figures are in docs/performance.md.

// Benches and tests print their figures to the terminal that runs them: a
// closed pipe there is the harness failing, not input ivcd must survive
// (clippy.toml forbids these macros in ivcd itself).
#![allow(clippy::disallowed_macros, reason = "output to the terminal running them")]
// Their durations are literals, and a test's panic is its failure.
#![allow(clippy::disallowed_methods, reason = "literal durations")]
// A test's unwrap, expect or panic is its failure, with the message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests: a panic is the failure")]

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use ivcd::clock::FixedClock;
use ivcd::config::Config;
use ivcd::jobs::JobContext;
use ivcd::jobs::backfill::{self, BackfillCounts};
use ivcd::providers::files::recorded::{self, CalendarFormat};
use ivcd::replay::{RecordedFiles, recorded_context};
use ivcd::store::Store;

mod common;

const CALENDAR: &str = "pmak99__trading-desk-public/exports/earnings_calendar.csv";
const YAHOO: &str = "Krzysztof-Smykla__Stock-Price-Dashboard/data";

fn context(data_dir: &Path, db: &Path, at: DateTime<Utc>) -> (JobContext, Vec<ivcd::domain::EarningsEvent>) {
    let events = recorded::load_calendar(data_dir, Path::new(CALENDAR), CalendarFormat::TradingDesk)
        .expect("the trading-desk calendar");
    let files = RecordedFiles {
        events: events.clone(),
        calendar_source: format!("files:{CALENDAR}"),
        calendar_path: Path::new(CALENDAR),
        data_dir,
        bars_dir: Path::new(YAHOO),
        chains: Vec::new(),
    };
    let config = Config { database: db.to_path_buf(), ..Config::default() };
    let store = Store::open(db).expect("the bench database");
    (recorded_context(files, store, &config, Arc::new(FixedClock::new(at))), events)
}

fn run(rt: &tokio::runtime::Runtime, ctx: &JobContext, at: DateTime<Utc>, tickers: &[ivcd::domain::Ticker]) {
    let (cpu0, wall) = (common::cpu_seconds(), Instant::now());
    let counts: BackfillCounts =
        rt.block_on(backfill::backfill(ctx, at, tickers, &|_, _, _| {})).expect("the backfill");
    let (wall, cpu) = (wall.elapsed().as_secs_f64(), common::cpu_seconds() - cpu0);
    println!(
        "| {} | {wall:.2} | {cpu:.2} | {:.0} | {} | {} | {} | {} | {} | {} |",
        counts.tickers,
        common::memory_mib("self", "VmHWM"),
        counts.history_events,
        counts.bar_requests,
        counts.bars,
        counts.moves,
        counts.moves_unchanged,
        counts.failures.len(),
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken.
    let data_dir = common::data_dir();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("backfill.db");
    // The day after the last Yahoo bar (2026-02-25), 20:00 ET: every report has its reaction session.
    let at: DateTime<Utc> = "2026-02-27T01:00:00Z".parse().expect("instant");
    let (ctx, events) = context(&data_dir, &db, at);
    let tickers: Vec<_> = events
        .iter()
        .map(|e| e.ticker.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    println!(
        "backfill of {} events, {} tickers, from files (the trading-desk calendar, Yahoo prices)",
        events.len(),
        tickers.len()
    );
    println!();
    println!(
        "| run | tickers | wall s | CPU s | peak RSS MiB | past events read | bar requests | bars stored | moves measured | tickers unchanged | tickers failed |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    print!("| first ");
    run(&rt, &ctx, at, &tickers);
    print!("| again ");
    run(&rt, &ctx, at, &tickers);
    let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    println!();
    println!("database: {:.1} MiB", size as f64 / (1024.0 * 1024.0));
}

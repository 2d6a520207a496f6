//! The command line: clap definitions and dispatch. `main.rs` only calls [`main`].
//!
//! Exit codes: 0 success, 1 failure, 2 usage error (clap: also every argument
//! out of its bounds, checked before anything is opened), 3 `status`: the
//! daemon is not running, 4 `--notify`: an alert delivery failed for good
//! ([`EXIT_ALERT_FAILED`]), 75 the database is in use by another ivcd
//! process (sysexits `EX_TEMPFAIL`), 78 configuration error, a database
//! newer than the binary, or a damaged database at the daemon's start
//! (sysexits `EX_CONFIG`, which the systemd unit does not restart on). A
//! closed stdout is not an error: the output is dropped.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Result, bail};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Parser, Subcommand};

use crate::clock::{Clock, SystemClock};
use crate::config::{Config, ConfigError};
use crate::domain::Ticker;
use crate::present;
use crate::store::Store;

mod args;
mod compose;
mod daemon;
mod db;
mod generate;
mod jobs;
mod logging;
mod notify;
mod out;
mod replay;

pub use self::args::{ArgError, MAX_PENDING_DAYS, parse_date, parse_instant};
pub use self::compose::{compose_live, live_context};
use self::compose::{stored_calendar, writer_lock};
use self::daemon::{run_daemon, show_status};
use self::db::{DbCommand, db_command};
use self::generate::{GenerateCommand, generate};
use self::jobs::{ByHand, progress_bar};
use self::logging::init_tracing;
use self::notify::{Delivered, NotifyCommand, deliver_now, notify_command};
use self::out::{note, say, say_part};
use self::replay::remove_database;

/// Exit code for configuration errors (sysexits EX_CONFIG).
pub const EXIT_CONFIG: u8 = 78;

/// Exit code of `scan`, `review` and `replay` with `--notify` when the job
/// ran and was stored but an alert delivery failed for good (refused, or
/// given up): the report did not reach that channel and will not.
pub const EXIT_ALERT_FAILED: u8 = 4;

/// ivcd, the IV crush daemon: ranks pre-earnings option setups by the implied
/// move against the stock's historical earnings moves.
#[derive(Debug, Parser)]
#[command(name = "ivcd", version = crate::VERSION.as_str(), about, long_about = None)]
pub struct Cli {
    /// Configuration file (default: /etc/ivcd/ivcd.toml when it exists; IVCD_* environment variables override it).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the effective configuration with secrets redacted, or every problem found (exit 78).
    CheckConfig {
        /// The file to check (default: --config, else /etc/ivcd/ivcd.toml when it exists).
        file: Option<PathBuf>,
    },
    /// Read upcoming earnings reports from the calendar provider into the database.
    RefreshCalendar {
        /// Run as of this instant: RFC 3339 (`2023-07-18T15:00:00-04:00`) or ET local (`2023-07-18T15:00`). Default: now.
        #[arg(long, value_name = "TIME", value_parser = parse_instant)]
        as_of: Option<DateTime<Utc>>,
    },
    /// Fetch past report dates and daily bars, and compute historical moves.
    Backfill {
        /// Tickers to backfill (default: those reporting in the next `backfill.horizon_days`).
        tickers: Vec<Ticker>,
        /// Run as of this instant (see refresh-calendar). Default: now.
        #[arg(long, value_name = "TIME", value_parser = parse_instant)]
        as_of: Option<DateTime<Utc>>,
    },
    /// Scan today's AMC and the next session's BMO reporters, rank and store the setups.
    Scan {
        /// Run as of this instant (see refresh-calendar). Default: now.
        #[arg(long, value_name = "TIME", value_parser = parse_instant)]
        as_of: Option<DateTime<Utc>>,
        /// Print the stored scan as JSON (schema in docs/json.md) instead of a table.
        #[arg(long)]
        json: bool,
        /// Queue the scan's alert for the configured channels and try to send it now
        /// (what is not delivered stays in the outbox for the daemon).
        #[arg(long)]
        notify: bool,
    },
    /// The post-crush review: for each scanned event whose reaction session is today, the gap
    /// against the implied move and what each proposed structure made at the open.
    Review {
        /// Run as of this instant (see refresh-calendar); must be during a session. Default: now.
        #[arg(long, value_name = "TIME", value_parser = parse_instant)]
        as_of: Option<DateTime<Utc>>,
        /// Print the stored reviews as JSON (schema in docs/json.md) instead of tables.
        #[arg(long)]
        json: bool,
        /// Queue the review alert for the configured channels and try to send it now.
        #[arg(long)]
        notify: bool,
    },
    /// The scoreboard of every stored review: per tier and structure (count, hit rate, mean and
    /// median P&L, worst loss, realized/implied), then per ticker.
    Report {
        /// Only reviews of reaction sessions on or after this date (YYYY-MM-DD).
        #[arg(long, value_name = "DATE", value_parser = parse_date)]
        since: Option<NaiveDate>,
        /// Print JSON (schema in docs/json.md) instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Judge VRP and the tiers on history: backfill the tickers, read the end-of-day chain (Alpha
    /// Vantage HISTORICAL_OPTIONS) at the close before each past event, and compare the implied move
    /// with the gap that followed, per tier.
    Backtest {
        /// The tickers.
        #[arg(required = true)]
        tickers: Vec<Ticker>,
        /// Only events reported on or after this date (ET, YYYY-MM-DD).
        #[arg(long, value_name = "DATE", value_parser = parse_date)]
        since: Option<NaiveDate>,
        /// Run as of this instant (see refresh-calendar). Default: now.
        #[arg(long, value_name = "TIME", value_parser = parse_instant)]
        as_of: Option<DateTime<Utc>>,
        /// Print JSON (schema in docs/json.md) instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Calibrate the tiers and the score on recorded past reports: EarningsWatcher's implied moves
    /// (CC BY 4.0) judged with ivcd's own bars, history windows, tiers and score (docs/calibration.md).
    Calibrate {
        /// Print JSON (docs/json.md, "CalibrationReport") instead of text.
        #[arg(long)]
        json: bool,
        /// Also write the plots (SVG) into DIR, created if missing.
        #[arg(long, value_name = "DIR")]
        plots: Option<PathBuf>,
    },
    /// Show a ticker's stored historical earnings moves, their consistency and the latest scan's score.
    Moves {
        /// The ticker.
        ticker: Ticker,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Run the jobs of a recorded market day against recorded files (e.g. tests/scenarios/cvna-2023q2.toml).
    Replay {
        /// The scenario file.
        scenario: PathBuf,
        /// The database to write (default: replay-<name>.db in the current directory; replaced if it exists).
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
        /// Where the recorded data lives (default: the `data_dir` setting, ../shared/data).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// Print the scans as JSON instead of tables.
        #[arg(long)]
        json: bool,
        /// Queue each scan's alert for the configured channels and try to send them now.
        #[arg(long)]
        notify: bool,
    },
    /// Alerts: send a test message to each channel, or list the outbox.
    Notify {
        #[command(subcommand)]
        action: NotifyCommand,
    },
    /// Run the daemon: the timetable of refreshes, backfills, scans, reviews and housekeeping (systemd Type=notify).
    Run {
        /// Start the daemon's clock at this instant instead of now, then let it run at real speed: a
        /// rehearsal of a past day against recorded responses. RFC 3339 or ET local (see refresh-calendar).
        /// Never in production.
        #[arg(long, value_name = "TIME", value_parser = parse_instant)]
        simulate_from: Option<DateTime<Utc>>,
    },
    /// Show the daemon's state: running or not, the market, each job's next and last run, the
    /// database's counts, provider health and open problems. Exit 0 healthy, 1 problems, 3 not running.
    Status {
        /// Print JSON (documented in docs/json.md).
        #[arg(long, conflicts_with = "prometheus")]
        json: bool,
        /// Print Prometheus metrics (text format; names in docs/operations.md#metrics) and exit 0
        /// whatever the state: the state is in the metrics.
        #[arg(long)]
        prometheus: bool,
    },
    /// The database: an online backup, or a check of its integrity and schema version.
    Db {
        #[command(subcommand)]
        action: DbCommand,
    },
    /// Print the man page or shell completions, generated from this command line (for packagers).
    Generate {
        #[command(subcommand)]
        what: GenerateCommand,
    },
    /// List NYSE sessions with their open and close in ET.
    Calendar {
        /// First date (YYYY-MM-DD, 1990-01-01 to 2099-12-31).
        #[arg(value_parser = parse_date)]
        from: NaiveDate,
        /// Last date (YYYY-MM-DD, 1990-01-01 to 2099-12-31).
        #[arg(value_parser = parse_date)]
        to: NaiveDate,
        /// Print a JSON array of {date, open, close, early_close}.
        #[arg(long)]
        json: bool,
    },
}

/// Worker threads of ivcd's async runtime, at most: ivcd waits on providers
/// and alert channels, so a few workers keep up with any rate limit; a fixed
/// ceiling keeps the unit's `TasksMax=` true on a machine of any size.
pub const MAX_WORKER_THREADS: usize = 4;

/// Threads of the runtime's blocking pool, at most (SQLite work through
/// `Store::run`, which one connection serializes anyway, and DNS lookups):
/// tokio's default is 512.
pub const MAX_BLOCKING_THREADS: usize = 64;

/// ivcd's async runtime: multi-threaded with [`MAX_WORKER_THREADS`] workers
/// (fewer on a smaller machine) and at most [`MAX_BLOCKING_THREADS`]
/// blocking threads, so the process never has more than about 75 threads
/// (docs/performance.md: the figure behind the unit's `TasksMax=`).
///
/// # Errors
/// When the operating system refuses the threads.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores.min(MAX_WORKER_THREADS))
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .enable_all()
        .build()
}

/// Parses the arguments, runs the command, and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            note!("ivcd: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let daemon = matches!(cli.command, Command::Run { .. });
    let outcome = runtime.block_on(run(cli));
    if daemon {
        // The daemon's stop is budgeted from the signal: what still runs on
        // the runtime's blocking threads is abandoned, as a kill would.
        runtime.shutdown_timeout(crate::daemon::RUNTIME_EXIT);
    }
    match outcome {
        Ok(code) => code,
        Err(e) => {
            if let Some(config) = e.downcast_ref::<ConfigError>() {
                note!("ivcd: {config}");
                return ExitCode::from(EXIT_CONFIG);
            }
            // A database newer than this binary, or a damaged one: restarting
            // cannot help (the unit does not restart on 78); an operator must act.
            if e.chain().any(|c| {
                matches!(
                    c.downcast_ref(),
                    Some(crate::store::StoreError::TooNew { .. } | crate::store::StoreError::Damaged { .. })
                )
            }) {
                note!("ivcd: {e:#}");
                return ExitCode::from(EXIT_CONFIG);
            }
            // Another ivcd process writes this database: try again later.
            if e.chain().any(|c| matches!(c.downcast_ref(), Some(crate::store::StoreError::Locked { .. }))) {
                note!("ivcd: {e:#}");
                return ExitCode::from(crate::store::EXIT_LOCKED);
            }
            note!("ivcd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one command.
///
/// # Errors
/// A [`ConfigError`] (exit 78) or any other failure with context.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    if let Command::CheckConfig { file } = &cli.command {
        let file = file.as_deref().or(cli.config.as_deref());
        return match Config::load(file) {
            Ok(config) => {
                for warning in Config::warnings(file) {
                    note!("warning: {warning}");
                }
                // Whether each secret is set and from where; never a value.
                say!("# Secrets (their values are never shown):");
                for line in Config::secret_sources(file)? {
                    say!("#   {line}");
                }
                say_part!("{}", config.to_redacted_toml());
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                note!("{e}");
                Ok(ExitCode::from(EXIT_CONFIG))
            }
        };
    }
    if let Command::Generate { what } = &cli.command {
        return generate(what);
    }
    let config = Config::load(cli.config.as_deref())?;
    let daemon = matches!(cli.command, Command::Run { .. });
    // A replay prints its own account of each step, and `status` a report:
    // their logs stay at warnings unless RUST_LOG says otherwise.
    let level = if matches!(cli.command, Command::Replay { .. } | Command::Status { .. }) {
        "warn"
    } else {
        &config.log.level
    };
    let _log_guard = init_tracing(level, daemon, daemon.then_some(&config.log))?;
    for warning in Config::warnings(cli.config.as_deref()) {
        tracing::warn!("{warning}");
    }
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match cli.command {
        Command::CheckConfig { .. } | Command::Generate { .. } => unreachable!("handled above"),
        Command::Db { action } => return db_command(&config, action).await,
        Command::Run { simulate_from } => {
            let clock: Arc<dyn Clock> = match simulate_from {
                Some(start) => {
                    tracing::warn!(start = %start, "simulated clock: the daemon's time starts at {start} and runs at real speed");
                    Arc::new(crate::clock::SimulatedClock::starting_at(start))
                }
                None => clock,
            };
            return run_daemon(cli.config, config, clock).await;
        }
        Command::Status { json, prometheus } => return show_status(&config, json, prometheus).await,
        Command::Calendar { from, to, json } => {
            if from > to {
                bail!("FROM {from} is after TO {to}");
            }
            let calendar = stored_calendar(&config).await;
            if !calendar.overrides().is_empty() {
                note!(
                    "ivcd: {} day(s) follow the exchange's own calendar (stored by the daemon from Tradier), not the rules",
                    calendar.overrides().len()
                );
            }
            let sessions = calendar.sessions_between(from, to);
            if json {
                say!("{}", serde_json::to_string_pretty(&sessions)?);
            } else {
                for s in &sessions {
                    let early = if s.early_close { "  early close" } else { "" };
                    say!("{}  {}  {}{early}", s.date, s.open.format("%H:%M %Z"), s.close.format("%H:%M %Z"));
                }
            }
        }
        Command::Notify { action } => return notify_command(&config, clock, action).await,
        Command::Replay { scenario, db, data_dir, json, notify } => {
            let scenario_file = scenario;
            let scenario = crate::replay::Scenario::load(&scenario_file)?;
            let data_dir = data_dir.unwrap_or_else(|| config.data_dir.clone());
            let db = db.unwrap_or_else(|| PathBuf::from(format!("replay-{}.db", scenario.name)));
            // The replay replaces its database: never one another ivcd process uses.
            let _lock = crate::store::DatabaseLock::acquire(&db, "ivcd replay")?;
            remove_database(&db)?;
            let outcome = crate::replay::run(&scenario, &data_dir, &db, &config, notify).await?;
            let delivered = if notify {
                // The replay's reports are stamped with its simulated time: deliver each on that
                // clock, at the instant of the step that queued it (as the daemon would), so its
                // age is measured as if the day were live.
                let mut instants: Vec<_> = outcome
                    .scans
                    .iter()
                    .map(|s| s.as_of)
                    .chain(outcome.reviews.iter().map(|r| r.slot))
                    .collect();
                instants.sort_unstable();
                instants.dedup();
                let store = Store::open(&db)?;
                let mut pass = Delivered::default();
                for at in instants {
                    let clock = Arc::new(crate::clock::FixedClock::new(at));
                    pass.extend(deliver_now(&config, store.clone(), clock).await?);
                    if config.alerts.channel_names().is_empty() {
                        break; // the one pass said so
                    }
                }
                Some(pass)
            } else {
                None
            };
            if json {
                say!("{}", serde_json::to_string_pretty(&outcome.scans)?);
            } else {
                say!("Replay {}: {}", scenario.name, scenario.description.trim());
                for line in &outcome.log {
                    say!("  {line}");
                }
                for report in &outcome.scans {
                    say!();
                    say_part!("{}", present::scan_table(report));
                }
                for run in &outcome.reviews {
                    say!();
                    say_part!("{}", present::review_table(run));
                }
                say!(
                    "\nDatabase: {} (try: sqlite3 {} 'SELECT * FROM latest_scan_ranked')",
                    db.display(),
                    db.display()
                );
            }
            if let Some(pass) = delivered {
                for line in &pass.lines {
                    note!("{line}");
                }
                if pass.failed > 0 {
                    note!(
                        "ivcd: {} alert delivery(ies) failed for good (exit {EXIT_ALERT_FAILED})",
                        pass.failed
                    );
                    return Ok(ExitCode::from(EXIT_ALERT_FAILED));
                }
            }
        }
        Command::Report { since, json } => {
            let store = Store::open_read_only(&config.database)?;
            let reviews = store.run(move |db| db.reviews(since, None)).await?;
            let card = crate::review::ReportCard::new(reviews, since);
            if json {
                say!("{}", serde_json::to_string_pretty(&card)?);
            } else {
                say_part!("{}", present::report_card(&card));
            }
        }
        Command::Review { as_of, json, notify } => {
            let by_hand = ByHand { command: "ivcd review", as_of, json, notify };
            return by_hand
                .run(
                    &config,
                    clock,
                    async |ctx, at| crate::jobs::run_review(ctx, at).await,
                    present::review_table,
                )
                .await;
        }
        Command::Calibrate { json, plots } => {
            let _lock = writer_lock(&config, "ivcd calibrate")?;
            let settings = crate::calibration::Settings {
                data_dir: config.data_dir.clone(),
                config: config.calibration.clone(),
                analysis: config.analysis.clone(),
                calendar: stored_calendar(&config).await,
                now: clock.now(),
            };
            let store = Store::open(&config.database)?;
            let out = tokio::task::spawn_blocking(move || {
                crate::calibration::run::command(&store, &settings, json, plots.as_deref())
            })
            .await??;
            say_part!("{out}");
        }
        Command::Moves { ticker, json } => {
            let store = Store::open(&config.database)?;
            let t = ticker.clone();
            let today = crate::time::et_date(clock.now());
            let from = today - chrono::Days::new(90);
            let (moves, bars, latest) = store
                .run(move |db| {
                    Ok((db.moves_for_ticker(&t)?, db.bars(&t, from, today)?, db.latest_candidate(&t)?))
                })
                .await?;
            let bars: Vec<_> = bars.into_values().collect();
            let latest = latest.map(|(slot, candidate)| crate::report::LatestCandidate { slot, candidate });
            let report =
                crate::report::MovesReport::new(ticker, moves, &bars, latest, today, &config.analysis);
            if json {
                say!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                say_part!("{}", present::moves_report(&report));
            }
        }
        Command::RefreshCalendar { as_of } => {
            let _lock = writer_lock(&config, "ivcd refresh-calendar")?;
            let ctx = live_context(&config, clock.clone())?;
            let at = as_of.unwrap_or_else(|| clock.now());
            let c = crate::jobs::run_refresh(&ctx, at).await?;
            say!(
                "{} events from {} to {} ({} with BMO/AMC timing, {} rescheduled removed)",
                c.events,
                c.from,
                c.to,
                c.with_timing,
                c.removed
            );
        }
        Command::Backfill { tickers, as_of } => {
            let _lock = writer_lock(&config, "ivcd backfill")?;
            let ctx = live_context(&config, clock.clone())?;
            let at = as_of.unwrap_or_else(|| clock.now());
            let bar = progress_bar();
            let c = crate::jobs::run_backfill(&ctx, at, tickers, &|t, done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
                bar.set_message(t.to_string());
            })
            .await;
            bar.finish_and_clear();
            let c = c?;
            say!(
                "{} tickers: {} bars in {} requests, {} moves measured, {} events lack bars, {} tickers unchanged",
                c.tickers,
                c.bars,
                c.bar_requests,
                c.moves,
                c.moves_missing_bars,
                c.moves_unchanged
            );
            for (ticker, reason) in &c.failures {
                say!("  {ticker}: {reason}");
            }
        }
        Command::Backtest { tickers, since, as_of, json } => {
            let _lock = writer_lock(&config, "ivcd backtest")?;
            let ctx = live_context(&config, clock.clone())?;
            let at = as_of.unwrap_or_else(|| clock.now());
            let c = crate::jobs::run_backfill(&ctx, at, tickers.clone(), &|_, _, _| {}).await?;
            for (ticker, reason) in &c.failures {
                note!("backfill {ticker}: {reason}");
            }
            let report = crate::jobs::backtest::backtest(&ctx, at, &tickers, since).await?;
            if json {
                say!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                say_part!("{}", present::backtest_table(&report));
            }
        }
        Command::Scan { as_of, json, notify } => {
            let by_hand = ByHand { command: "ivcd scan", as_of, json, notify };
            return by_hand
                .run(
                    &config,
                    clock,
                    async |ctx, at| crate::jobs::run_scan(ctx, at).await,
                    present::scan_table,
                )
                .await;
        }
    }
    Ok(ExitCode::SUCCESS)
}

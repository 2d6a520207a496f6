//! The command line: clap definitions and dispatch. `main.rs` only calls [`main`].
//!
//! Exit codes: 0 success, 1 failure, 2 usage error (clap: also every argument
//! out of its bounds, checked before anything is opened), 3 `status`: the
//! daemon is not running, 4 `--notify`: an alert delivery failed for good
//! ([`EXIT_ALERT_FAILED`]), 66 a command that only reads found no database
//! (sysexits `EX_NOINPUT`; nothing is created), 75 the database is in use by another ivcd
//! process (sysexits `EX_TEMPFAIL`), 78 configuration error, a database
//! newer than the binary, or a damaged database at the daemon's start
//! (sysexits `EX_CONFIG`, which the systemd unit does not restart on). A
//! closed stdout is not an error: the output is dropped.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Parser, Subcommand};

use crate::clock::{Clock, SystemClock};
use crate::config::{Config, ConfigError};
use crate::domain::Ticker;
use crate::present;

mod args;
mod calendar;
mod check_config;
mod compose;
mod daemon;
mod db;
mod docs;
mod generate;
mod jobs;
mod logging;
mod notify;
mod out;
mod providers;
mod replay;
mod reports;

pub use self::args::{ArgError, MAX_PENDING_DAYS, parse_date, parse_instant};
pub use self::compose::{compose_live, live_context};
use self::daemon::{run_daemon, show_status};
use self::db::{DbCommand, db_command};
use self::generate::{GenerateCommand, generate};
use self::jobs::ByHand;
use self::logging::init_tracing;
use self::notify::{NotifyCommand, notify_command};
use self::out::note;
use self::providers::{ProvidersCommand, providers_command};

/// Exit code for configuration errors (sysexits EX_CONFIG).
pub const EXIT_CONFIG: u8 = 78;

/// Exit code of `scan`, `review` and `replay` with `--notify` when the job
/// ran and was stored but an alert delivery failed for good (refused, or
/// given up): the report did not reach that channel and will not.
pub const EXIT_ALERT_FAILED: u8 = 4;

/// The exit codes, under every `--help` (docs/operations.md#exit-codes).
const EXIT_CODES_HELP: &str = "Exit codes:
  0   done
  1   failed, or done in part: what failed is named on stderr, the rest is stored
  2   usage: an unknown command or option, a missing or out-of-range argument
  3   status: the daemon is not running
  4   --notify: the job ran and was stored, but an alert delivery failed for good
  66  a command that only reads found no database (nothing is created)
  75  the database is in use by another ivcd process: try again later
  78  invalid configuration, or a database newer than this binary or damaged

Start here: ivcd replay tests/scenarios/cvna-2023q2.toml (recorded data, no account needed).
Documentation: README.md and docs/ (operations.md, configuration.md, json.md).";

/// ivcd, the IV crush daemon: ranks pre-earnings option setups by the implied
/// move against the stock's historical earnings moves.
#[derive(Debug, Parser)]
#[command(name = "ivcd", version = crate::VERSION.as_str(), about, long_about = None, after_help = EXIT_CODES_HELP)]
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
    #[command(
        after_help = "Examples:\n  ivcd check-config /etc/ivcd/ivcd.toml\n  ivcd check-config config/ivcd.example.toml\n\nExit codes: see `ivcd --help`"
    )]
    CheckConfig {
        /// The file to check (default: --config, else /etc/ivcd/ivcd.toml when it exists).
        file: Option<PathBuf>,
    },
    /// Read upcoming earnings reports from the calendar provider into the database.
    #[command(
        after_help = "Examples:\n  ivcd refresh-calendar\n  ivcd refresh-calendar --as-of 2026-05-18T06:00\n\nExit codes: see `ivcd --help`"
    )]
    RefreshCalendar {
        /// Run as of this instant: RFC 3339 (`2023-07-18T15:00:00-04:00`) or ET local (`2023-07-18T15:00`). Default: now.
        #[arg(long, value_name = "TIME", value_parser = parse_instant)]
        as_of: Option<DateTime<Utc>>,
    },
    /// Fetch past report dates and daily bars, and compute historical moves.
    #[command(
        after_help = "Examples:\n  ivcd backfill\n  ivcd backfill CVNA NVDA --as-of 2026-05-18T06:05\n\nExit codes: see `ivcd --help`"
    )]
    Backfill {
        /// Tickers to backfill (default: those reporting in the next `backfill.horizon_days`).
        tickers: Vec<Ticker>,
        /// Run as of this instant (see refresh-calendar). Default: now.
        #[arg(long, value_name = "TIME", value_parser = parse_instant)]
        as_of: Option<DateTime<Utc>>,
    },
    /// Scan today's AMC and the next session's BMO reporters, rank and store the setups.
    #[command(
        after_help = "Examples:\n  ivcd scan\n  ivcd scan --as-of 2026-05-18T15:00 --json\n  ivcd scan --notify\n\nExit codes: see `ivcd --help`"
    )]
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
    #[command(
        after_help = "Examples:\n  ivcd review\n  ivcd review --as-of 2026-05-19T09:31 --notify\n\nExit codes: see `ivcd --help`"
    )]
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
    #[command(
        after_help = "Examples:\n  ivcd report\n  ivcd report --since 2026-01-01 --json\n\nExit codes: see `ivcd --help`"
    )]
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
    #[command(
        after_help = "Examples:\n  ivcd backtest IBM --since 2024-01-01\n\nExit codes: see `ivcd --help`"
    )]
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
    #[command(
        after_help = "Examples:\n  ivcd calibrate\n  ivcd calibrate --json --plots calibration-plots\n\nExit codes: see `ivcd --help`"
    )]
    Calibrate {
        /// Print JSON (docs/json.md, "CalibrationReport") instead of text.
        #[arg(long)]
        json: bool,
        /// Also write the plots (SVG) into DIR, created if missing.
        #[arg(long, value_name = "DIR")]
        plots: Option<PathBuf>,
    },
    /// Show a ticker's stored historical earnings moves, their consistency and the latest scan's score.
    #[command(
        after_help = "Examples:\n  ivcd moves CVNA\n  IVCD_DATABASE=replay-cvna-2023q2.db ivcd moves CVNA --json\n\nExit codes: see `ivcd --help`"
    )]
    Moves {
        /// The ticker.
        ticker: Ticker,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Run the jobs of a recorded market day against recorded files (e.g. tests/scenarios/cvna-2023q2.toml).
    #[command(
        after_help = "Examples:\n  ivcd replay tests/scenarios/cvna-2023q2.toml\n  ivcd replay tests/scenarios/busy-week-2025-10-27.toml --db /tmp/busy.db --json\n\nExit codes: see `ivcd --help`"
    )]
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
    #[command(
        after_help = "Examples:\n  ivcd notify test\n  ivcd notify preview --min-tier skip --out alert-preview\n  ivcd notify pending --days 3\n\nExit codes: see `ivcd --help`"
    )]
    Notify {
        /// What to do with the alerts.
        #[command(subcommand)]
        action: NotifyCommand,
    },
    /// Check each configured provider's credentials with one cheap request.
    #[command(
        after_help = "Examples:\n  ivcd providers test\n  IVCD_TRADIER__TOKEN=... ivcd providers test\n\nExit codes: see `ivcd --help`"
    )]
    Providers {
        /// What to do.
        #[command(subcommand)]
        action: ProvidersCommand,
    },
    /// Run the daemon: the timetable of refreshes, backfills, scans, reviews and housekeeping (systemd Type=notify).
    #[command(
        after_help = "Examples:\n  ivcd run --config /etc/ivcd/ivcd.toml\n  ivcd run --scenario tests/scenarios/cvna-2023q2.toml --simulate-from 2023-07-18T15:00:05\n\nExit codes: see `ivcd --help`"
    )]
    Run {
        /// Start the daemon's clock at this instant instead of now, then let it run at real speed: a
        /// rehearsal of a past day against recorded responses. RFC 3339 or ET local (see refresh-calendar).
        /// Never in production.
        #[arg(long, value_name = "TIME", value_parser = parse_instant)]
        simulate_from: Option<DateTime<Utc>>,
        /// Rehearse offline: the providers are this replay scenario's recorded files (calendar,
        /// daily bars, chains under `data_dir`) instead of Tradier and Alpha Vantage, so no
        /// account is needed; the clock starts at --simulate-from, or at the scenario's first step.
        #[arg(long, value_name = "FILE")]
        scenario: Option<PathBuf>,
    },
    /// Show the daemon's state: running or not, the market, each job's next and last run, the
    /// database's counts, provider health and open problems. Exit 0 healthy, 1 problems, 3 not running.
    #[command(
        after_help = "Examples:\n  ivcd status\n  ivcd status --json\n  ivcd status --prometheus\n\nExit codes: see `ivcd --help`"
    )]
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
    #[command(
        after_help = "Examples:\n  ivcd db check\n  ivcd db backup /var/backups/ivcd.db --force\n\nExit codes: see `ivcd --help`"
    )]
    Db {
        /// Backup or check.
        #[command(subcommand)]
        action: DbCommand,
    },
    /// Print a topic of the documentation built into this binary (Markdown): the configuration's
    /// keys, the JSON, the database's tables, the alerts, operations, the figures.
    #[command(
        after_help = "Examples:\n  ivcd docs config | less\n  ivcd docs json\n  ivcd docs schema\n\nExit codes: see `ivcd --help`"
    )]
    Docs {
        /// The topic.
        #[arg(value_enum)]
        topic: docs::Topic,
    },
    /// Print the man page or shell completions, generated from this command line (for packagers).
    #[command(
        after_help = "Examples:\n  ivcd generate man target/man\n  ivcd generate completions bash > /etc/bash_completion.d/ivcd\n\nExit codes: see `ivcd --help`"
    )]
    Generate {
        /// The man page or a shell's completions.
        #[command(subcommand)]
        what: GenerateCommand,
    },
    /// List NYSE sessions with their open and close in ET, or (--changes) the stored earnings date
    /// and timing changes between calendar refreshes.
    #[command(
        after_help = "Examples:\n  ivcd calendar 2026-11-23 2026-11-30\n  ivcd calendar 2026-12-21 2026-12-31 --json\n  ivcd calendar --changes\n\nExit codes: see `ivcd --help`"
    )]
    Calendar {
        /// First date (YYYY-MM-DD, 1990-01-01 to 2099-12-31).
        #[arg(value_parser = parse_date, required_unless_present = "changes")]
        from: Option<NaiveDate>,
        /// Last date (YYYY-MM-DD, 1990-01-01 to 2099-12-31).
        #[arg(value_parser = parse_date, required_unless_present = "changes")]
        to: Option<NaiveDate>,
        /// List the stored earnings date and timing changes (table `calendar_changes`), oldest first,
        /// instead of sessions.
        #[arg(long, conflicts_with_all = ["from", "to"])]
        changes: bool,
        /// Print a JSON array of {date, open, close, early_close} (with --changes: of DateChange).
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
    present::format::fit_tables_to_terminal();
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
            // A command that only reads, and nothing is stored yet.
            if e.chain().any(|c| matches!(c.downcast_ref(), Some(crate::store::StoreError::Missing { .. }))) {
                note!("ivcd: {e:#}");
                return ExitCode::from(crate::store::EXIT_NO_DATABASE);
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
    let file = cli.config;
    let load = |logs| Setup::load(file.as_deref(), logs);
    // The commands that open the database say which one, on stderr.
    let load_db = |logs| {
        let setup = Setup::load(file.as_deref(), logs)?;
        note!("ivcd: database {}", setup.config.database.display());
        Ok::<Setup, anyhow::Error>(setup)
    };
    match cli.command {
        // None needs a valid configuration: check-config reports its problems.
        Command::CheckConfig { file: checked } => {
            check_config::check_config(checked.as_deref().or(file.as_deref()))
        }
        Command::Generate { what } => generate(&what),
        Command::Docs { topic } => docs::docs(topic),
        Command::Db { action } => db_command(&load_db(Logs::Command)?.config, action).await,
        Command::Run { simulate_from, scenario } => {
            let s = load(Logs::Daemon)?;
            let Some(scenario) = scenario else {
                let compose = Box::new(compose::compose_live);
                return run_daemon(file, s.config, s.clock.simulated_from(simulate_from), compose).await;
            };
            let (start, compose) = compose::compose_recorded(&s.config, &scenario)?;
            run_daemon(file, s.config, s.clock.simulated_from(simulate_from.or(Some(start))), compose).await
        }
        Command::Status { json, prometheus } => {
            show_status(&load(Logs::Quiet)?.config, json, prometheus).await
        }
        Command::Calendar { from, to, changes, json } => {
            let config = load(Logs::Command)?.config;
            match (from, to) {
                (Some(from), Some(to)) if !changes => calendar::calendar(&config, from, to, json).await,
                _ => calendar::changes(&config, json).await,
            }
        }
        Command::Notify { action } => {
            let s = load_db(Logs::Command)?;
            notify_command(&s.config, s.clock.0, action).await
        }
        Command::Providers { action } => {
            let s = load(Logs::Quiet)?;
            providers_command(&s.config, s.clock.0, action).await
        }
        Command::Replay { scenario, db, data_dir, json, notify } => {
            let s = load(Logs::Quiet)?;
            replay::replay(&s.config, scenario, db, data_dir, json, notify).await
        }
        Command::Report { since, json } => {
            reports::report(&load_db(Logs::Command)?.config, since, json).await
        }
        Command::Moves { ticker, json } => {
            let s = load_db(Logs::Command)?;
            reports::moves(&s.config, s.clock.0.as_ref(), ticker, json).await
        }
        Command::Calibrate { json, plots } => {
            let s = load_db(Logs::Command)?;
            reports::calibrate(&s.config, s.clock.0.as_ref(), json, plots).await
        }
        Command::RefreshCalendar { as_of } => {
            let s = load_db(Logs::Command)?;
            jobs::refresh_calendar(&s.config, s.clock.0, as_of).await
        }
        Command::Backfill { tickers, as_of } => {
            let s = load_db(Logs::Command)?;
            jobs::backfill(&s.config, s.clock.0, tickers, as_of).await
        }
        Command::Backtest { tickers, since, as_of, json } => {
            let s = load_db(Logs::Command)?;
            jobs::backtest(&s.config, s.clock.0, tickers, since, as_of, json).await
        }
        Command::Scan { as_of, json, notify } => {
            let s = load_db(Logs::Command)?;
            let by_hand = ByHand { command: jobs::SCAN, as_of, json, notify };
            by_hand
                .run(
                    &s.config,
                    s.clock.0,
                    async |ctx, at| crate::jobs::run_scan(ctx, at).await,
                    present::scan_table,
                )
                .await
        }
        Command::Review { as_of, json, notify } => {
            let s = load_db(Logs::Command)?;
            let by_hand = ByHand { command: "ivcd review", as_of, json, notify };
            by_hand
                .run(
                    &s.config,
                    s.clock.0,
                    async |ctx, at| crate::jobs::run_review(ctx, at).await,
                    present::review_table,
                )
                .await
        }
    }
}

/// Where a command's logs go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Logs {
    /// A command: `[log] level` to stderr, so `--json` stays clean.
    Command,
    /// A command that prints its own account (`replay`, `status`): warnings
    /// only, to stderr, unless `RUST_LOG` says otherwise.
    Quiet,
    /// The daemon: `[log] level` to stdout (journald) and to `[log] directory`.
    Daemon,
}

/// The system clock, as a command takes it.
struct CommandClock(Arc<dyn Clock>);

impl CommandClock {
    /// The daemon's clock: the system clock, or a simulated one starting at
    /// `start` and running at real speed (a rehearsal of a past day).
    fn simulated_from(self, start: Option<DateTime<Utc>>) -> Arc<dyn Clock> {
        match start {
            Some(start) => {
                tracing::warn!(start = %start, "simulated clock: the daemon's time starts at {start} and runs at real speed");
                Arc::new(crate::clock::SimulatedClock::starting_at(start))
            }
            None => self.0,
        }
    }
}

/// What every command that reads the configuration starts with: the
/// configuration, logging set up (its guard flushes log files at exit) and
/// the system clock.
struct Setup {
    config: Config,
    clock: CommandClock,
    _log_guard: Option<tracing_appender::non_blocking::WorkerGuard>,
}

impl Setup {
    /// Loads the configuration from `file` and sets up logging as `logs` says.
    ///
    /// # Errors
    /// A [`ConfigError`] (exit 78), or a log directory that cannot be used.
    fn load(file: Option<&std::path::Path>, logs: Logs) -> Result<Self> {
        let config = Config::load(file)?;
        let daemon = logs == Logs::Daemon;
        let level = if logs == Logs::Quiet { "warn" } else { &config.log.level };
        let log_guard = init_tracing(level, daemon, daemon.then_some(&config.log))?;
        for warning in Config::warnings(file) {
            tracing::warn!("{warning}");
        }
        Ok(Self { config, clock: CommandClock(Arc::new(SystemClock)), _log_guard: log_guard })
    }
}

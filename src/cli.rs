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

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use clap::{Parser, Subcommand};

use crate::alert::channels::Channel;
use crate::alert::outbox::{AttemptOutcome, Outbox};
use crate::calendar::NyseCalendar;
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, ConfigError};
use crate::domain::Ticker;
use crate::jobs::{self, JobContext, Providers};
use crate::providers::alpha_vantage::client::AlphaVantageClient;
use crate::providers::tradier::client::TradierClient;
use crate::providers::unconfigured::Unconfigured;
use crate::store::{ExistingTarget, Store};
use crate::{present, replay};

/// Set once stdout is found closed (its reader, such as `head`, went away).
static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Writes `text` to stdout. Once the reader has gone (`ivcd moves CVNA |
/// head -1` closes the pipe), the rest of the output is dropped without a
/// word and the command finishes its work (a `scan --notify` still
/// delivers) with its own exit code.
///
/// # Errors
/// Any other write failure (a full disk under a redirection).
fn out(text: std::fmt::Arguments<'_>) -> Result<()> {
    use std::io::Write;
    use std::sync::atomic::Ordering;
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut stdout = std::io::stdout().lock();
    match stdout.write_fmt(text).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        Err(e) => Err(e).context("cannot write to standard output"),
    }
}

/// Writes `text` and a newline to stderr. A closed or failing stderr is
/// ignored: there is nowhere else to say it.
fn note_line(text: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_fmt(text).and_then(|()| stderr.write_all(b"\n"));
}

/// `println!` through [`out`]: returns early from the enclosing function on
/// a write failure other than a closed pipe.
macro_rules! say {
    () => {
        out(format_args!("\n"))?
    };
    ($($arg:tt)*) => {
        out(format_args!("{}\n", format_args!($($arg)*)))?
    };
}

/// `print!` through [`out`] (see [`say!`]).
macro_rules! say_part {
    ($($arg:tt)*) => {
        out(format_args!($($arg)*))?
    };
}

/// `eprintln!` through [`note_line`]: never fails, never panics.
macro_rules! note {
    ($($arg:tt)*) => {
        note_line(format_args!($($arg)*))
    };
}

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

/// Sets up logging: `level` is a tracing filter (`RUST_LOG` wins). The
/// daemon logs to stdout (journald reads it); other commands to stderr, so
/// `--json` output stays clean. With `[log] directory`, also to daily files
/// (rotated at midnight UTC, `retention_days` kept); the returned guard
/// flushes them and must live until exit.
fn init_tracing(
    level: &str,
    to_stdout: bool,
    log: Option<&crate::config::LogConfig>,
) -> Result<Option<tracing_appender::non_blocking::WorkerGuard>> {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
            let mut filter = tracing_subscriber::EnvFilter::new(level);
            // tokio-cron-scheduler logs every one-shot job it creates at INFO:
            // noise, unless the configured filter asks for it by name.
            if !level.contains("tokio_cron_scheduler")
                && let Ok(quiet) = "tokio_cron_scheduler=warn".parse()
            {
                filter = filter.add_directive(quiet);
            }
            filter
        })
    };
    use std::io::IsTerminal;
    // Colours only on a terminal: journald and files get plain text.
    // Every log line passes the redactor (crate::redact), whatever it quotes.
    use crate::redact::Redacting;
    let console = if to_stdout {
        tracing_subscriber::fmt::layer()
            .with_ansi(std::io::stdout().is_terminal())
            .with_writer(Redacting(std::io::stdout))
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(Redacting(std::io::stderr))
            .boxed()
    };
    let mut guard = None;
    let files = match log.and_then(|l| l.directory.as_ref().map(|d| (d, l.retention_days))) {
        Some((dir, keep)) => {
            // tracing-appender complains on first start when the directory is missing.
            std::fs::create_dir_all(dir)
                .with_context(|| format!("log.directory {}: cannot create it", dir.display()))?;
            let appender = tracing_appender::rolling::Builder::new()
                .rotation(tracing_appender::rolling::Rotation::DAILY)
                .filename_prefix("ivcd")
                .filename_suffix("log")
                .max_log_files(keep as usize)
                .build(dir)
                .with_context(|| format!("log.directory {}: cannot open a log file there", dir.display()))?;
            let (writer, g) = tracing_appender::non_blocking(appender);
            guard = Some(g);
            Some(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(Redacting(writer))
                    .with_filter(filter()),
            )
        }
        None => None,
    };
    let _ = tracing_subscriber::registry().with(console.with_filter(filter())).with(files).try_init();
    Ok(guard)
}

/// `ivcd notify` subcommands.
#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Send a test message to each configured channel (or one) and report success or the exact failure.
    Test {
        /// Only this channel: email, slack, webhook or discord.
        #[arg(long, value_name = "NAME")]
        channel: Option<String>,
    },
    /// Print the alert of a stored scan (the latest, or --scan-id) or review (--review) as a
    /// channel would send it.
    Preview {
        /// The scan (table `scans`); default: the latest.
        #[arg(long, value_name = "ID", conflicts_with = "review")]
        scan_id: Option<i64>,
        /// Preview the latest review slot's alert instead of a scan's.
        #[arg(long)]
        review: bool,
        /// text, html (the email's parts), slack, discord or webhook (the JSON bodies).
        #[arg(long, default_value = "text", value_parser = ["text", "html", "slack", "discord", "webhook"])]
        format: String,
    },
    /// List the outbox: deliveries not yet sent, and those finished in the days before its last
    /// activity (a replay's database: the replay's day).
    Pending {
        /// Also list deliveries finished within this many days of the outbox's last activity
        /// (default 7; 0 to 3650).
        #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(0..=MAX_PENDING_DAYS))]
        days: u32,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// `ivcd db` subcommands.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Copy the database to PATH with SQLite's online backup API (safe while the daemon runs);
    /// the copy is checked before it is kept. PATH must not exist (unless --force), and must not
    /// be the database or one of its -wal, -shm or -journal files.
    Backup {
        /// The file to write.
        path: PathBuf,
        /// Replace PATH when it exists (only once the new copy has passed its check).
        #[arg(long)]
        force: bool,
    },
    /// Check the database: `PRAGMA integrity_check`, foreign keys, and its schema version against
    /// this ivcd's (older is migrated on start; newer is refused). Exit 0 ok, 1 problems. Changes nothing.
    Check {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `ivcd generate` subcommands.
#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Write the man pages (ivcd.1 and one per command, roff) into DIR.
    Man {
        /// The directory to write them in (created if missing).
        dir: PathBuf,
    },
    /// Print the completion script for SHELL on stdout.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
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
            let scenario = replay::Scenario::load(&scenario_file)?;
            let data_dir = data_dir.unwrap_or_else(|| config.data_dir.clone());
            let db = db.unwrap_or_else(|| PathBuf::from(format!("replay-{}.db", scenario.name)));
            // The replay replaces its database: never one another ivcd process uses.
            let _lock = crate::store::DatabaseLock::acquire(&db, "ivcd replay")?;
            remove_database(&db)?;
            let outcome = replay::run(&scenario, &data_dir, &db, &config, notify).await?;
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
                .run(&config, clock, async |ctx, at| jobs::run_review(ctx, at).await, present::review_table)
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
            let c = jobs::run_refresh(&ctx, at).await?;
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
            let c = jobs::run_backfill(&ctx, at, tickers, &|t, done, total| {
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
            let c = jobs::run_backfill(&ctx, at, tickers.clone(), &|_, _, _| {}).await?;
            for (ticker, reason) in &c.failures {
                note!("backfill {ticker}: {reason}");
            }
            let report = jobs::backtest::backtest(&ctx, at, &tickers, since).await?;
            if json {
                say!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                say_part!("{}", present::backtest_table(&report));
            }
        }
        Command::Scan { as_of, json, notify } => {
            let by_hand = ByHand { command: "ivcd scan", as_of, json, notify };
            return by_hand
                .run(&config, clock, async |ctx, at| jobs::run_scan(ctx, at).await, present::scan_table)
                .await;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A job that reports (scan, review) run by hand: `--as-of`, `--json`, `--notify`.
struct ByHand {
    /// `ivcd scan` or `ivcd review`: the holder named in the database's lock.
    command: &'static str,
    as_of: Option<DateTime<Utc>>,
    json: bool,
    notify: bool,
}

impl ByHand {
    /// Runs `job` as of `--as-of` (or now), queueing its alert with
    /// `--notify`; prints its stored result as JSON or with `text`; with
    /// `--notify` makes one delivery pass, and exits [`EXIT_ALERT_FAILED`]
    /// when a delivery failed for good.
    async fn run<T: serde::Serialize>(
        self,
        config: &Config,
        clock: Arc<dyn Clock>,
        job: impl AsyncFnOnce(&JobContext, DateTime<Utc>) -> Result<T, jobs::JobError>,
        text: fn(&T) -> String,
    ) -> Result<ExitCode> {
        let _lock = writer_lock(config, self.command)?;
        let mut ctx = live_context(config, clock.clone())?;
        ctx.queue_alerts = self.notify;
        let at = self.as_of.unwrap_or_else(|| clock.now());
        let result = job(&ctx, at).await?;
        if self.json {
            say!("{}", serde_json::to_string_pretty(&result)?);
        } else {
            say_part!("{}", text(&result));
        }
        if self.notify {
            let pass = deliver_now(config, ctx.store.clone(), clock).await?;
            for line in &pass.lines {
                note!("{line}");
            }
            if pass.failed > 0 {
                note!("ivcd: {} alert delivery(ies) failed for good (exit {EXIT_ALERT_FAILED})", pass.failed);
                return Ok(ExitCode::from(EXIT_ALERT_FAILED));
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// What a delivery pass came to: a line per attempt, and how many failed for good.
#[derive(Debug, Default)]
struct Delivered {
    lines: Vec<String>,
    failed: usize,
}

impl Delivered {
    fn extend(&mut self, other: Delivered) {
        self.lines.extend(other.lines);
        self.failed += other.failed;
    }
}

/// The database's writer lock for a command that writes, held until it
/// returns (see [`crate::store::DatabaseLock`]).
///
/// # Errors
/// [`crate::store::StoreError::Locked`] (exit 75) when the daemon or
/// another command holds it.
fn writer_lock(config: &Config, command: &str) -> Result<crate::store::DatabaseLock> {
    Ok(crate::store::DatabaseLock::acquire(&config.database, command)?)
}

/// One delivery pass over the outbox (what is due now, every channel at
/// once); one line per attempt. What is not delivered stays queued.
async fn deliver_now(config: &Config, store: Store, clock: Arc<dyn Clock>) -> Result<Delivered> {
    let outbox = Outbox::new(store, &config.alerts, clock).map_err(anyhow::Error::msg)?;
    if outbox.channels().is_empty() {
        return Ok(Delivered {
            lines: vec![
                "alerts: no channel is configured ([alerts.email], [alerts.slack], ...); nothing to send"
                    .into(),
            ],
            failed: 0,
        });
    }
    let attempts = outbox.deliver_due_all().await?;
    let failed = attempts.iter().filter(|a| matches!(a.outcome, AttemptOutcome::Failed { .. })).count();
    let lines = attempts
        .iter()
        .map(|a| match &a.outcome {
            AttemptOutcome::Sent => format!("alert {}: sent ({})", a.channel, a.key),
            AttemptOutcome::Retry { at, error } => format!(
                "alert {}: not sent ({error}); still queued, next attempt at {} ET by the daemon using this database",
                a.channel,
                crate::time::et(*at).format("%Y-%m-%d %H:%M:%S")
            ),
            AttemptOutcome::Failed { error } => format!("alert {}: FAILED: {error}", a.channel),
            AttemptOutcome::Superseded => format!("alert {}: superseded by a re-run of its scan", a.channel),
        })
        .collect();
    Ok(Delivered { lines, failed })
}

/// `ivcd notify test|pending`.
async fn notify_command(config: &Config, clock: Arc<dyn Clock>, action: NotifyCommand) -> Result<ExitCode> {
    match action {
        NotifyCommand::Test { channel } => {
            let channels = Channel::all(&config.alerts).map_err(anyhow::Error::msg)?;
            let names: Vec<&str> = channels.iter().map(Channel::name).collect();
            if let Some(only) = &channel
                && !names.contains(&only.as_str())
            {
                bail!(
                    "channel {only:?} is not configured (configured: {}); add its [alerts.{only}] table",
                    if names.is_empty() { "none".to_owned() } else { names.join(", ") }
                );
            }
            if channels.is_empty() {
                bail!(
                    "no alert channel is configured: add [alerts.email], [alerts.slack], [alerts.webhook] or [alerts.discord]"
                );
            }
            let host = hostname();
            let now = clock.now();
            let message = crate::alert::render::test_message(&host, now);
            let installation = installation_id(config).await;
            let mut failed = false;
            for c in channels.iter().filter(|c| channel.as_deref().is_none_or(|o| o == c.name())) {
                // Unique per installation and per message, even for two tests in one second.
                let key = format!("{installation}/test/{}/{}", uuid::Uuid::new_v4().simple(), c.name());
                match c.send(&message, &key, now).await {
                    Ok(()) => say!("{}: sent", c.name()),
                    Err(e) => {
                        failed = true;
                        say!("{}: FAILED: {e}", c.name());
                    }
                }
            }
            Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
        }
        NotifyCommand::Preview { scan_id, review, format } => {
            let store = Store::open_read_only(&config.database)?;
            let m = if review {
                let slot = store
                    .run(|db| db.latest_review_slot())
                    .await?
                    .context("no review is stored yet: run `ivcd review` or `ivcd replay` first")?;
                crate::alert::review::render(&crate::alert::review::load(&store, slot).await?)?
            } else {
                let id = match scan_id {
                    Some(id) => id,
                    None => store
                        .run(|db| db.latest_scan())
                        .await?
                        .map(|s| s.scan_id)
                        .context("no scan is stored yet: run `ivcd scan` or `ivcd replay` first")?,
                };
                crate::alert::render::scan(&crate::alert::load(&store, id, &config.alerts).await?)?
            };
            match format.as_str() {
                "html" => say_part!("{}", m.html),
                "slack" => say!("{}", serde_json::to_string_pretty(&m.slack)?),
                "discord" => say!("{}", serde_json::to_string_pretty(&m.discord)?),
                "webhook" => say!("{}", String::from_utf8_lossy(&m.webhook)),
                _ => say_part!("Subject: {}\n\n{}", m.subject, m.text),
            }
            Ok(ExitCode::SUCCESS)
        }
        NotifyCommand::Pending { days, json } => {
            let store = Store::open_read_only(&config.database)?;
            // The window ends at the outbox's last activity, not at the wall
            // clock: a replay's deliveries are stamped with its simulated day.
            let last = store.run(|db| db.outbox_last_activity()).await?.unwrap_or_else(|| clock.now());
            let since = chrono::Duration::try_days(i64::from(days))
                .and_then(|window| last.checked_sub_signed(window))
                .unwrap_or(DateTime::<Utc>::MIN_UTC);
            let rows = store.run(move |db| db.outbox(since)).await?;
            if json {
                say!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                say_part!("{}", present::outbox_table(&rows));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The installation id of the configured database (read-only), for the
/// test message's idempotency key; a random one when there is no database
/// yet (or it predates schema version 9).
async fn installation_id(config: &Config) -> String {
    let stored = match config.database.exists().then(|| Store::open_read_only(&config.database)) {
        Some(Ok(store)) => store.run(|db| db.installation_id()).await.ok(),
        _ => None,
    };
    stored.unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string())
}

/// This machine's name, for the test message.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this host".into())
}

/// A terminal progress bar, hidden when stderr is not a terminal.
fn progress_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}") {
        bar.set_style(style);
    }
    bar
}

/// Deletes a replay database and its WAL files so a replay starts clean.
fn remove_database(db: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let path = PathBuf::from(format!("{}{suffix}", db.display()));
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot replace {}", path.display())),
        }
    }
    Ok(())
}

/// The largest `ivcd notify pending --days`: ten years.
pub const MAX_PENDING_DAYS: i64 = 3650;

/// Why a command-line date or instant is refused (clap prints it as the
/// usage error: `invalid value '<text>' for '--as-of <TIME>': <this>`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgError {
    /// Neither RFC 3339 nor an ET local date-time.
    #[error("{0:?}: expected RFC 3339 (2023-07-18T15:00:00-04:00) or ET local time (2023-07-18T15:00)")]
    NotAnInstant(String),
    /// An ET local time that does not exist or happens twice (daylight saving).
    #[error("{0}: not a single instant in America/New_York (daylight-saving change)")]
    NotOneInstant(String),
    /// Not a date YYYY-MM-DD.
    #[error("{0:?}: expected a date YYYY-MM-DD (2023-07-18)")]
    NotADate(String),
    /// A date outside the calendar's window.
    #[error(
        "{0}: outside {first}..{last}, the dates the NYSE calendar rules are meant for",
        first = crate::calendar::FIRST_DATE,
        last = crate::calendar::LAST_DATE
    )]
    OutsideWindow(String),
}

/// Parses an instant given on the command line (`--as-of`,
/// `--simulate-from`): RFC 3339 with an offset, or a local ET date-time
/// (`2023-07-18T15:00` or `2023-07-18 15:00`), whose ET date lies within
/// [`crate::calendar::FIRST_DATE`]..=[`crate::calendar::LAST_DATE`]. Used
/// as clap's value parser, so a bad value is a usage error before anything
/// is opened.
///
/// # Errors
/// [`ArgError`] naming the text when it is neither form, is an ET time that
/// does not exist (a daylight-saving gap), or lies outside the window.
pub fn parse_instant(text: &str) -> Result<DateTime<Utc>, ArgError> {
    let at = if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        t.with_timezone(&Utc)
    } else {
        let local = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
            .ok_or_else(|| ArgError::NotAnInstant(text.to_owned()))?;
        local
            .and_local_timezone(crate::time::NEW_YORK)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| ArgError::NotOneInstant(text.to_owned()))?
    };
    if in_window(crate::time::et_date(at)) { Ok(at) } else { Err(ArgError::OutsideWindow(text.to_owned())) }
}

/// Parses a date given on the command line (YYYY-MM-DD), within
/// [`crate::calendar::FIRST_DATE`]..=[`crate::calendar::LAST_DATE`].
///
/// # Errors
/// [`ArgError`] naming the text when it is not a date or lies outside the window.
pub fn parse_date(text: &str) -> Result<NaiveDate, ArgError> {
    let date =
        NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| ArgError::NotADate(text.to_owned()))?;
    if in_window(date) { Ok(date) } else { Err(ArgError::OutsideWindow(text.to_owned())) }
}

/// Whether `date` lies within the calendar's window.
fn in_window(date: NaiveDate) -> bool {
    (crate::calendar::FIRST_DATE..=crate::calendar::LAST_DATE).contains(&date)
}

/// `ivcd run`: the daemon, fed by signal-hook, until SIGTERM or SIGINT.
async fn run_daemon(config_file: Option<PathBuf>, config: Config, clock: Arc<dyn Clock>) -> Result<ExitCode> {
    // Never start on a damaged file: every job would write into it. A new
    // database (no file yet) is created by the daemon.
    if config.database.exists() {
        let store = Store::open_read_only(&config.database)?;
        tokio::task::spawn_blocking(move || store.quick_check()).await??;
    }
    let (controls, receiver) = tokio::sync::mpsc::unbounded_channel();
    crate::daemon::signals::forward_signals(controls).context("cannot install the signal handlers")?;
    let reload_file = config_file.clone();
    let options = crate::daemon::Options {
        config,
        config_file: config_file
            .clone()
            .or_else(|| Some(PathBuf::from(crate::config::SYSTEM_CONFIG)).filter(|p| p.exists())),
        reload: Box::new(move || Config::load(reload_file.as_deref())),
        compose: Box::new(compose_live),
        clock,
        alarms: crate::daemon::alarms::AlarmKind::Cron,
        systemd: crate::daemon::notify::Systemd::from_env(),
    };
    crate::daemon::run(options, receiver).await?;
    Ok(ExitCode::SUCCESS)
}

/// The calendar `ivcd calendar` lists: the rules, plus the exchange's
/// overrides when the configured database exists (read-only; never created).
async fn stored_calendar(config: &Config) -> NyseCalendar {
    if !config.database.exists() {
        return NyseCalendar::new();
    }
    match Store::open_read_only(&config.database) {
        Ok(store) => crate::daemon::calendar_from_store(&store).await.unwrap_or_default(),
        Err(_) => NyseCalendar::new(),
    }
}

/// `ivcd db backup` and `ivcd db check`. Neither migrates nor changes the database.
async fn db_command(config: &Config, action: DbCommand) -> Result<ExitCode> {
    let database = &config.database;
    if !database.exists() {
        bail!(
            "database {} does not exist (the daemon creates it on first start; set `database` in the \
             configuration or pass --config)",
            database.display()
        );
    }
    let store = Store::open_read_only(database)?;
    match action {
        DbCommand::Backup { path, force } => {
            let existing = if force { ExistingTarget::Replace } else { ExistingTarget::Refuse };
            let report = tokio::task::spawn_blocking(move || store.backup_to(&path, existing)).await??;
            say!(
                "backed up {} (schema version {}) to {}: {:.1} MiB, integrity ok",
                report.source,
                report.schema_version.map_or_else(|| "none".to_owned(), |v| v.to_string()),
                report.destination,
                report.bytes as f64 / (1024.0 * 1024.0)
            );
            Ok(ExitCode::SUCCESS)
        }
        DbCommand::Check { json } => {
            let report = store.run(|db| db.check()).await?;
            if json {
                say!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                say_part!("{}", present::db_check(&report));
            }
            Ok(if report.ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}

/// `ivcd generate`: man pages and completion scripts from the clap definition.
fn generate(what: &GenerateCommand) -> Result<ExitCode> {
    use clap::CommandFactory;
    let mut command = Cli::command();
    match what {
        GenerateCommand::Man { dir } => {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(command, dir)
                .with_context(|| format!("cannot write the man pages into {}", dir.display()))?;
        }
        GenerateCommand::Completions { shell } => {
            // Into memory first: clap_complete panics when its writer fails (a closed pipe).
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut command, "ivcd", &mut script);
            say_part!("{}", String::from_utf8_lossy(&script));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `ivcd status`: the daemon's snapshot from its socket, or, when no daemon
/// answers, what the database knows (read-only), with exit code 3.
async fn show_status(config: &Config, json: bool, prometheus: bool) -> Result<ExitCode> {
    let clock = SystemClock;
    let report = match crate::status::fetch(&config.daemon.status_socket).await? {
        Some(report) => report,
        None => {
            let (store, error) = if config.database.exists() {
                match Store::open_read_only(&config.database) {
                    Ok(s) => (Some(s), None),
                    Err(e) => (None, Some(e.to_string())),
                }
            } else {
                (
                    None,
                    Some(format!(
                        "{} does not exist (the daemon creates it on first start)",
                        config.database.display()
                    )),
                )
            };
            let calendar = match &store {
                Some(s) => crate::daemon::calendar_from_store(s).await.unwrap_or_default(),
                None => NyseCalendar::new(),
            };
            let timetable = crate::timetable::Timetable::new(config.timetable.clone(), calendar);
            crate::status::build(store.as_ref(), &config.database, error, &timetable, clock.now(), None).await
        }
    };
    if prometheus {
        let facts = match Store::open_read_only(&config.database) {
            Ok(store) => {
                let started = report.daemon.as_ref().map(|d| d.started_at);
                crate::metrics::store_facts(&store, started).await.ok()
            }
            Err(_) => None,
        };
        say_part!("{}", crate::metrics::render(&report, facts.as_ref()));
        return Ok(ExitCode::SUCCESS);
    }
    if json {
        say!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        say_part!("{}", crate::status::render_text(&report));
    }
    Ok(ExitCode::from(report.state.exit_code()))
}

/// Composes the live providers from the configuration: Alpha Vantage for the
/// earnings calendar and history, Tradier for quotes, chains and bars
/// (Alpha Vantage bars when Tradier is not configured).
///
/// # Errors
/// When a configured client cannot be built, or the database cannot be opened.
pub fn live_context(config: &Config, clock: Arc<dyn Clock>) -> Result<JobContext> {
    compose_live(config, clock).map(|c| c.context)
}

/// As [`live_context`], also handing out the Tradier client (the daemon
/// reads the exchange's calendar from it).
///
/// # Errors
/// As [`live_context`].
pub fn compose_live(config: &Config, clock: Arc<dyn Clock>) -> Result<crate::daemon::Composed> {
    let tradier = if config.tradier.token.is_set() {
        Some(Arc::new(TradierClient::new(&config.tradier, clock.clone()).map_err(anyhow::Error::msg)?))
    } else {
        None
    };
    let alpha = if config.alpha_vantage.api_key.is_set() {
        Some(Arc::new(
            AlphaVantageClient::new(&config.alpha_vantage, clock.clone()).map_err(anyhow::Error::msg)?,
        ))
    } else {
        None
    };
    let store = Store::open(&config.database)?;
    let missing_av = Arc::new(Unconfigured { setting: "alpha_vantage.api_key" });
    let missing_tradier = Arc::new(Unconfigured { setting: "tradier.token" });
    let providers = Providers {
        calendar: alpha.clone().map_or_else(|| missing_av.clone() as _, |a| a as _),
        calendar_source: crate::providers::alpha_vantage::wire::SOURCE_EARNINGS_CALENDAR.to_owned(),
        history: alpha.clone().map(|a| a as _),
        history_source: "alpha_vantage:EARNINGS".to_owned(),
        bars: match (&tradier, &alpha) {
            (Some(t), _) => t.clone() as _,
            (None, Some(a)) => a.clone() as _,
            (None, None) => missing_tradier.clone() as _,
        },
        bars_source: if tradier.is_some() { "tradier:history" } else { "alpha_vantage:TIME_SERIES_DAILY" }
            .to_owned(),
        quotes: tradier.clone().map_or_else(|| missing_tradier.clone() as _, |t| t as _),
        chains: match &tradier {
            Some(t) => Arc::new(crate::providers::cache::CachedChains::new(
                t.clone(),
                "tradier",
                store.clone(),
                clock.clone(),
                config.cache.clone(),
            )),
            None => missing_tradier as _,
        },
        end_of_day_chains: alpha.clone().map_or_else(|| missing_av.clone() as _, |a| a as _),
        health: tradier.iter().map(|t| t.health()).chain(alpha.iter().map(|a| a.health())).collect(),
    };
    let context = JobContext {
        store,
        providers,
        calendar: NyseCalendar::new(),
        config: Arc::new(config.clone()),
        clock,
        cancel: tokio_util::sync::CancellationToken::new(),
        queue_alerts: true,
    };
    let outbox =
        crate::alert::outbox::Outbox::new(context.store.clone(), &config.alerts, context.clock.clone())
            .map_err(anyhow::Error::msg)?;
    Ok(crate::daemon::Composed { context, tradier, outbox: Arc::new(outbox) })
}

//! Replays: run the jobs of a recorded market day against recorded files.
//!
//! A scenario is a TOML file (see `tests/scenarios/`) naming the recorded
//! inputs (paths relative to the data directory) and the steps: which job
//! runs as of which instant. The replay steps a [`FixedClock`] through them
//! and writes a real SQLite database.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use serde::Deserialize;

use crate::calendar::NyseCalendar;
use crate::clock::FixedClock;
use crate::config::Config;
use crate::domain::Ticker;
use crate::jobs::{self, JobContext, JobError, Providers};
use crate::providers::files::recorded::{self, CalendarFormat, ChainFormat, RecordedProvider};
use crate::report::ScanReport;
use crate::review::{ReviewRun, ReviewStatus};
use crate::store::Store;

/// A replay scenario, as written in its TOML file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// A short name, e.g. `cvna-2023q2`.
    pub name: String,
    /// What the scenario shows and where its data comes from.
    pub description: String,
    /// The recorded inputs.
    pub inputs: Inputs,
    /// The jobs to run, in the order written, which must be time order
    /// (each dated at or after the one above: [`Scenario::load`] refuses
    /// a file otherwise).
    pub steps: Vec<Step>,
}

/// The recorded inputs of a scenario; paths are relative to the data directory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    /// The earnings calendar file (also serves past report dates).
    pub earnings_calendar: CalendarInput,
    /// A directory of `{TICKER}.csv` daily OHLCV files.
    pub daily_bars_dir: PathBuf,
    /// Recorded option chains.
    #[serde(default)]
    pub chains: Vec<ChainInput>,
}

/// A recorded earnings calendar.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarInput {
    /// The file, relative to the data directory.
    pub path: PathBuf,
    /// Its layout.
    pub format: CalendarFormat,
}

/// A recorded option chain.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainInput {
    /// The file, relative to the data directory.
    pub path: PathBuf,
    /// Its layout.
    pub format: ChainFormat,
    /// The underlying, for formats that do not name it.
    pub ticker: Option<Ticker>,
    /// When the quotes were taken, for formats that do not say.
    pub as_of: Option<DateTime<FixedOffset>>,
}

/// One job of a scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// `refresh-calendar`, `backfill`, `scan` or `review`.
    pub job: StepJob,
    /// The instant the job runs as of (RFC 3339 with offset, e.g. `2023-07-18T15:00:00-04:00`).
    pub at: DateTime<FixedOffset>,
    /// For `backfill`: the tickers (default: those reporting soon).
    #[serde(default)]
    pub tickers: Vec<Ticker>,
}

/// The jobs a scenario can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepJob {
    /// The earnings calendar refresh.
    RefreshCalendar,
    /// The backfill of past events, bars and moves.
    Backfill,
    /// The pre-earnings scan.
    Scan,
    /// The post-crush review at the open.
    Review,
}

impl StepJob {
    /// The name a scenario file gives the job (`refresh-calendar`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::RefreshCalendar => "refresh-calendar",
            Self::Backfill => "backfill",
            Self::Scan => "scan",
            Self::Review => "review",
        }
    }
}

/// Why a replay failed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The scenario file is missing or malformed.
    #[error("scenario {path}: {message}")]
    Scenario {
        /// The scenario file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A recorded input could not be loaded.
    #[error("scenario input: {0}")]
    Input(#[from] crate::providers::ProviderError),
    /// The database could not be opened.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A job failed.
    #[error("step {step} ({job:?} at {at}): {source}")]
    Job {
        /// 1-based step number.
        step: usize,
        /// The job.
        job: StepJob,
        /// Its as-of instant.
        at: DateTime<FixedOffset>,
        /// The job's error.
        #[source]
        source: Box<JobError>,
    },
}

impl Scenario {
    /// Reads a scenario file.
    ///
    /// # Errors
    /// [`ReplayError::Scenario`] naming the file for I/O and TOML errors.
    /// [`ReplayError::Scenario`] also when a step is dated before the step
    /// written above it: the steps run in the order written, and a review
    /// before its scan, or a scan before its backfill, would replay a
    /// different day than the file describes. The error names both steps,
    /// their instants and the lines of their `[[steps]]` headers.
    pub fn load(path: &Path) -> Result<Self, ReplayError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ReplayError::Scenario { path: shown.clone(), message: e.to_string() })?;
        let scenario: Self = toml::from_str(&text)
            .map_err(|e| ReplayError::Scenario { path: shown.clone(), message: e.to_string() })?;
        scenario.check_order(&text).map_err(|message| ReplayError::Scenario { path: shown, message })?;
        Ok(scenario)
    }

    /// Every step dated at or after the one before it; otherwise the
    /// message of [`Scenario::load`]'s error. `text` is the file, for the
    /// lines of the `[[steps]]` headers.
    fn check_order(&self, text: &str) -> Result<(), String> {
        let headers: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, line)| line.trim_start().starts_with("[[steps]]"))
            .map(|(i, _)| i + 1)
            .collect();
        let at_line = |index: usize| match headers.get(index) {
            Some(line) if headers.len() == self.steps.len() => format!(", line {line}"),
            _ => String::new(),
        };
        for (index, pair) in self.steps.windows(2).enumerate() {
            if let [before, after] = pair
                && after.at < before.at
            {
                return Err(format!(
                    "step {} ({} at {}{}) is dated before step {} ({} at {}{}): the steps run in the \
                     order written; put them in time order",
                    index + 2,
                    after.job.name(),
                    after.at.to_rfc3339(),
                    at_line(index + 1),
                    index + 1,
                    before.job.name(),
                    before.at.to_rfc3339(),
                    at_line(index),
                ));
            }
        }
        Ok(())
    }
}

/// What a replay produced: the database and every scan's stored report.
#[derive(Debug)]
pub struct ReplayOutcome {
    /// The database written.
    pub database: PathBuf,
    /// The stored reports of the scan steps, in order.
    pub scans: Vec<ScanReport>,
    /// What the review steps stored, in order.
    pub reviews: Vec<ReviewRun>,
    /// One line per step, for people.
    pub log: Vec<String>,
}

/// The recorded files a job context reads instead of the providers.
pub struct RecordedFiles<'a> {
    /// The earnings calendar's events (also the earnings history).
    pub events: Vec<crate::domain::EarningsEvent>,
    /// Where the events came from, stored with them.
    pub calendar_source: String,
    /// The calendar file, relative to `data_dir`.
    pub calendar_path: &'a Path,
    /// The recorded data's directory.
    pub data_dir: &'a Path,
    /// The daily-bar files' directory, relative to `data_dir`.
    pub bars_dir: &'a Path,
    /// The recorded chains.
    pub chains: Vec<crate::domain::ChainSnapshot>,
}

/// A job context whose providers are recorded files (see
/// [`RecordedProvider`]), over `store`, on `clock`; it queues no alert.
pub fn recorded_context(
    files: RecordedFiles<'_>,
    store: Store,
    config: &Config,
    clock: Arc<dyn crate::clock::Clock>,
) -> JobContext {
    let provider = Arc::new(RecordedProvider::new(
        files.events,
        Some(files.data_dir.join(files.bars_dir)),
        files.chains,
    ));
    JobContext {
        store,
        providers: Providers {
            calendar: provider.clone(),
            calendar_source: files.calendar_source,
            history: Some(provider.clone()),
            history_source: format!("files:{}", files.calendar_path.display()),
            bars: provider.clone(),
            bars_source: format!("files:{}", files.bars_dir.display()),
            quotes: provider.clone(),
            chains: provider.clone(),
            end_of_day_chains: provider,
            sec: None,
            health: Vec::new(),
        },
        calendar: NyseCalendar::new(),
        config: Arc::new(config.clone()),
        clock,
        cancel: tokio_util::sync::CancellationToken::new(),
        queue_alerts: false,
    }
}

/// A scenario's recorded inputs, loaded once: what a replay and the daemon's
/// rehearsal (`ivcd run --scenario`) read instead of providers.
#[derive(Debug, Clone)]
pub struct LoadedInputs {
    events: Vec<crate::domain::EarningsEvent>,
    calendar_source: String,
    calendar_path: PathBuf,
    data_dir: PathBuf,
    bars_dir: PathBuf,
    chains: Vec<crate::domain::ChainSnapshot>,
}

impl LoadedInputs {
    /// Reads the scenario's calendar and chains from `data_dir` (the daily
    /// bars are read when asked for).
    ///
    /// # Errors
    /// [`ReplayError::Input`] naming the file that is missing or malformed.
    pub fn load(scenario: &Scenario, data_dir: &Path) -> Result<Self, ReplayError> {
        let inputs = &scenario.inputs;
        let events = recorded::load_calendar(
            data_dir,
            &inputs.earnings_calendar.path,
            inputs.earnings_calendar.format,
        )?;
        let calendar_source = events.first().map_or_else(|| "files".to_owned(), |e| e.source.clone());
        let mut chains = Vec::new();
        for c in &inputs.chains {
            chains.push(recorded::load_chain(
                data_dir,
                &c.path,
                c.format,
                c.ticker.as_ref(),
                c.as_of.map(|t| t.with_timezone(&Utc)),
            )?);
        }
        Ok(Self {
            events,
            calendar_source,
            calendar_path: inputs.earnings_calendar.path.clone(),
            data_dir: data_dir.to_path_buf(),
            bars_dir: inputs.daily_bars_dir.clone(),
            chains,
        })
    }

    /// A job context over these inputs (see [`recorded_context`]).
    pub fn context(&self, store: Store, config: &Config, clock: Arc<dyn crate::clock::Clock>) -> JobContext {
        let files = RecordedFiles {
            events: self.events.clone(),
            calendar_source: self.calendar_source.clone(),
            calendar_path: &self.calendar_path,
            data_dir: &self.data_dir,
            bars_dir: &self.bars_dir,
            chains: self.chains.clone(),
        };
        recorded_context(files, store, config, clock)
    }
}

/// Runs `scenario` with recorded data under `data_dir`, writing `database`.
/// With `notify`, each stored scan and review queues its alert for the channels of
/// `config.alerts` (delivered by the caller, see [`crate::alert::outbox`]).
///
/// # Errors
/// [`ReplayError`] for unreadable inputs, the store, or a failed job.
pub async fn run(
    scenario: &Scenario,
    data_dir: &Path,
    database: &Path,
    config: &Config,
    notify: bool,
) -> Result<ReplayOutcome, ReplayError> {
    let inputs = LoadedInputs::load(scenario, data_dir)?;
    let first_at = scenario
        .steps
        .first()
        .map_or_else(|| crate::clock::Clock::now(&crate::clock::SystemClock), |s| s.at.with_timezone(&Utc));
    let clock = Arc::new(FixedClock::new(first_at));
    let mut ctx = inputs.context(Store::open(database)?, config, clock.clone());
    ctx.queue_alerts = notify;
    let mut scans = Vec::new();
    let mut reviews = Vec::new();
    let mut log = Vec::new();
    for (i, step) in scenario.steps.iter().enumerate() {
        let at = step.at.with_timezone(&Utc);
        clock.set(at);
        let fail =
            |source| ReplayError::Job { step: i + 1, job: step.job, at: step.at, source: Box::new(source) };
        match step.job {
            StepJob::RefreshCalendar => {
                let c = jobs::run_refresh(&ctx, at).await.map_err(fail)?;
                log.push(format!(
                    "{}  refresh-calendar: {} events {}..{} ({} with timing)",
                    step.at, c.events, c.from, c.to, c.with_timing
                ));
            }
            StepJob::Backfill => {
                let c =
                    jobs::run_backfill(&ctx, at, step.tickers.clone(), &|_, _, _| {}).await.map_err(fail)?;
                log.push(format!(
                    "{}  backfill: {} tickers, {} bars, {} moves ({} events lack bars, {} tickers unchanged, {} tickers failed)",
                    step.at,
                    c.tickers,
                    c.bars,
                    c.moves,
                    c.moves_missing_bars,
                    c.moves_unchanged,
                    c.failures.len()
                ));
            }
            StepJob::Scan => {
                let report = jobs::run_scan(&ctx, at).await.map_err(fail)?;
                log.push(format!("{}  scan: {} candidates", step.at, report.candidates.len()));
                scans.push(report);
            }
            StepJob::Review => {
                let run = jobs::run_review(&ctx, at).await.map_err(fail)?;
                let reviewed = run.reviews.iter().filter(|r| r.status == ReviewStatus::Reviewed).count();
                log.push(format!(
                    "{}  review: {reviewed} events reviewed, {} waiting for an opening price",
                    step.at,
                    run.reviews.len() - reviewed
                ));
                reviews.push(run);
            }
        }
    }
    Ok(ReplayOutcome { database: database.to_path_buf(), scans, reviews, log })
}

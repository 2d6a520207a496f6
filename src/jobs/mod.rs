//! The jobs: refresh the earnings calendar, backfill past events and bars
//! (and the historical moves computed from them), and scan.
//!
//! Every job takes the instant it runs "as of" as an argument: nothing here
//! reads the wall clock, which is what lets a replay step a simulated clock
//! through a recorded day. Jobs do the I/O (providers, store) and call the
//! pure [`crate::analysis`] functions. A failure for one ticker is recorded
//! with that ticker and never stops the others.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::calendar::NyseCalendar;
use crate::clock::Clock;
use crate::config::Config;
use crate::providers::{DailyBars, EarningsCalendar, EarningsHistory, OptionChains, Quotes};
use crate::store::{Outcome, Store, StoreError};
use crate::timetable::Job;

pub mod backfill;
pub mod backtest;
pub mod filings;
pub mod refresh;
pub mod review;
pub mod scan;

/// The providers a job may use, by capability. Which vendor serves each is
/// decided once, when the daemon or the replay is composed.
#[derive(Clone)]
pub struct Providers {
    /// Upcoming earnings reports.
    pub calendar: Arc<dyn EarningsCalendar>,
    /// The `source` the calendar's events carry (a refresh replaces that source's window).
    pub calendar_source: String,
    /// Past earnings of one ticker, when a provider serves them.
    pub history: Option<Arc<dyn EarningsHistory>>,
    /// A name for the history source (recorded in `history_fetches`).
    pub history_source: String,
    /// Daily bars.
    pub bars: Arc<dyn DailyBars>,
    /// A name for the bars source (recorded with each bar).
    pub bars_source: String,
    /// Underlying quotes.
    pub quotes: Arc<dyn Quotes>,
    /// Option expirations and chains.
    pub chains: Arc<dyn OptionChains>,
    /// End-of-day chains of past sessions (`ivcd backtest`).
    pub end_of_day_chains: Arc<dyn crate::providers::EndOfDayChains>,
    /// SEC EDGAR's earnings-release filings (the timing audit); `None`
    /// when `[sec]` is not configured.
    pub sec: Option<Arc<dyn crate::providers::sec::SecFilings>>,
    /// The HTTP providers' health records (empty for recorded files).
    pub health: Vec<crate::providers::http::ProviderHealth>,
}

/// What a job needs: the store, the providers, the session calendar and the configuration.
#[derive(Clone)]
pub struct JobContext {
    /// The database.
    pub store: Store,
    /// The providers.
    pub providers: Providers,
    /// The NYSE session calendar.
    pub calendar: NyseCalendar,
    /// The configuration.
    pub config: Arc<Config>,
    /// The clock that stamps job runs (the system clock, or a replay's simulated one).
    pub clock: Arc<dyn Clock>,
    /// Cancelled when the daemon shuts down: scan and backfill stop at the
    /// next ticker boundary and return [`JobError::Interrupted`].
    pub cancel: CancellationToken,
    /// Whether a stored scan queues its alert for the channels of
    /// `config.alerts` (the daemon does; `ivcd scan` and `ivcd replay` only
    /// with `--notify`).
    pub queue_alerts: bool,
}

/// A job's failure as a whole (per-ticker failures are counted, not raised).
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The store failed; nothing of the job's current transaction was kept.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The job's main provider request failed.
    #[error(transparent)]
    Provider(#[from] crate::providers::ProviderError),
    /// The job runs on sessions only, and `date` (ET) is none.
    #[error("{date} is not an NYSE session; nothing to {job}")]
    NotASession {
        /// The as-of date, ET.
        date: chrono::NaiveDate,
        /// `scan` or `review`.
        job: &'static str,
    },
    /// A review needs the open, and the session of `date` has not opened yet.
    #[error("the session of {date} opens at {opens}; a review needs the open")]
    BeforeOpen {
        /// The as-of date, ET.
        date: chrono::NaiveDate,
        /// The session's open, `09:30 EDT`.
        opens: String,
    },
    /// A shutdown stopped the job at a ticker boundary after `done` of
    /// `total` tickers. What those tickers stored is kept (a backfill) or
    /// nothing is (a scan stores its result in one transaction at the end).
    #[error("stopped by shutdown after {done} of {total} tickers")]
    Interrupted {
        /// Tickers finished.
        done: usize,
        /// Tickers the run had to do.
        total: usize,
    },
}

/// Runs `work` as a recorded job run of `job` for `slot`: a `job_runs` row
/// marked running, then ok (with the counts it returns) or failed (with the
/// error). `work` is given the run's id.
///
/// # Errors
/// The job's error, after it was recorded.
pub async fn recorded_run<T, W, F>(
    ctx: &JobContext,
    job: Job,
    slot: DateTime<Utc>,
    work: W,
) -> Result<T, JobError>
where
    W: FnOnce(i64) -> F,
    F: std::future::Future<Output = Result<(T, serde_json::Value), JobError>>,
{
    let store = &ctx.store;
    let started_at = ctx.clock.now();
    let slot_text = crate::store::instant_text(slot);
    let name = job.name();
    let run_id = store.run(move |db| db.start_job_run(name, &slot_text, started_at)).await?;
    let span = tracing::info_span!("job", job = name, run_id);
    async {
        tracing::info!(slot = %slot, "job started");
        let result = work(run_id).await;
        let (outcome, error, counts) = match &result {
            Ok((_, counts)) => (Outcome::Ok, None, counts.clone()),
            Err(e @ JobError::Interrupted { done, total }) => (
                Outcome::Interrupted,
                Some(e.to_string()),
                serde_json::json!({ "done": done, "total": total }),
            ),
            Err(e) => (Outcome::Failed, Some(e.to_string()), serde_json::Value::Null),
        };
        let finished_at = ctx.clock.now();
        let err_text = error.clone();
        store
            .run(move |db| db.finish_job_run(run_id, outcome, err_text.as_deref(), &counts, finished_at))
            .await?;
        match (&error, outcome) {
            (None, _) => tracing::info!(outcome = outcome.code(), "job finished"),
            (Some(e), Outcome::Interrupted) => tracing::warn!(error = %e, "job interrupted"),
            (Some(e), _) => tracing::error!(error = %e, "job failed"),
        }
        result.map(|(value, _)| value)
    }
    .instrument(span)
    .await
}

/// `refresh-calendar` as a recorded job run for `slot`.
///
/// # Errors
/// As [`refresh::refresh_calendar`]; the failure is recorded first.
pub async fn run_refresh(ctx: &JobContext, slot: DateTime<Utc>) -> Result<refresh::RefreshCounts, JobError> {
    recorded_run(ctx, Job::RefreshCalendar, slot, |_| async {
        let counts = refresh::refresh_calendar(ctx, slot).await?;
        let json = serde_json::to_value(&counts).unwrap_or_default();
        Ok((counts, json))
    })
    .await
}

/// `backfill` as a recorded job run for `slot`, of `tickers` (or, when
/// empty, of those reporting soon). `progress` is told each ticker done,
/// with the count done and the total. With `[sec]` configured, their SEC
/// filings are fetched first and their timing audited last
/// ([`filings::before_backfill`], [`filings::after_backfill`]); neither
/// fails the job.
///
/// # Errors
/// As [`backfill::backfill`]; the failure is recorded first.
pub async fn run_backfill(
    ctx: &JobContext,
    slot: DateTime<Utc>,
    tickers: Vec<crate::domain::Ticker>,
    progress: &(dyn Fn(&crate::domain::Ticker, usize, usize) + Sync),
) -> Result<backfill::BackfillCounts, JobError> {
    recorded_run(ctx, Job::Backfill, slot, |_| async {
        let tickers =
            if tickers.is_empty() { backfill::tickers_to_backfill(ctx, slot).await? } else { tickers };
        let sec = filings::before_backfill(ctx, slot, &tickers).await;
        let mut counts = backfill::backfill(ctx, slot, &tickers, progress).await?;
        counts.sec = filings::after_backfill(ctx, slot, &tickers, sec).await;
        let json = serde_json::to_value(&counts).unwrap_or_default();
        Ok((counts, json))
    })
    .await
}

/// `scan` as a recorded job run for `slot` (scanning as of the slot), the
/// stored scan linked to its run.
///
/// # Errors
/// As [`scan::scan`]; the failure is recorded first.
pub async fn run_scan(ctx: &JobContext, slot: DateTime<Utc>) -> Result<crate::report::ScanReport, JobError> {
    recorded_run(ctx, Job::Scan, slot, |run_id| async move {
        let report = scan::scan(ctx, slot, slot, Some(run_id)).await?;
        let json = serde_json::json!({
            "scan_id": report.scan_id,
            "candidates": report.candidates.len(),
            "requests": report.requests,
        });
        Ok((report, json))
    })
    .await
}

/// `review` as a recorded job run for `slot` (reviewing as of the slot).
///
/// # Errors
/// As [`review::review`]; the failure is recorded first.
pub async fn run_review(ctx: &JobContext, slot: DateTime<Utc>) -> Result<crate::review::ReviewRun, JobError> {
    recorded_run(ctx, Job::Review, slot, |_| async {
        let run = review::review(ctx, slot, slot).await?;
        let reviewed =
            run.reviews.iter().filter(|r| r.status == crate::review::ReviewStatus::Reviewed).count();
        let json = serde_json::json!({ "reviewed": reviewed, "pending": run.reviews.len() - reviewed });
        Ok((run, json))
    })
    .await
}

/// The weekly housekeeping as a recorded job run: job-run retention,
/// `PRAGMA optimize`, WAL checkpoint.
///
/// # Errors
/// Store failures, recorded first.
pub async fn run_housekeeping(
    ctx: &JobContext,
    slot: DateTime<Utc>,
) -> Result<crate::store::HousekeepingCounts, JobError> {
    recorded_run(ctx, Job::Housekeeping, slot, |_| async {
        let days = u64::from(ctx.config.housekeeping.job_run_retention_days);
        let retain_after = slot - crate::time::days(days);
        let counts = ctx.store.run(move |db| db.housekeep(retain_after)).await?;
        let json = serde_json::to_value(&counts).unwrap_or_default();
        Ok((counts, json))
    })
    .await
}

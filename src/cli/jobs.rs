//! The commands that run a job by hand: `scan` and `review` (`--as-of`,
//! `--json`, `--notify`), and what they share.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};

use super::compose::{live_context, writer_lock};
use super::notify::deliver_now;
use super::out::{note, say, say_part};
use crate::clock::Clock;
use crate::config::Config;
use crate::domain::Ticker;
use crate::jobs::{self, JobContext};
use crate::present;

/// The holder name of `ivcd scan` (see [`ByHand::command`]).
pub(super) const SCAN: &str = "ivcd scan";

/// A job that reports (scan, review) run by hand: `--as-of`, `--json`, `--notify`.
pub(super) struct ByHand {
    /// `ivcd scan` or `ivcd review`: the holder named in the database's lock.
    pub(super) command: &'static str,
    pub(super) as_of: Option<DateTime<Utc>>,
    pub(super) json: bool,
    pub(super) notify: bool,
}

impl ByHand {
    /// Runs `job` as of `--as-of` (or now), queueing its alert with
    /// `--notify`; prints its stored result as JSON or with `text`; with
    /// `--notify` makes one delivery pass, and exits [`super::EXIT_ALERT_FAILED`]
    /// when a delivery failed for good.
    pub(super) async fn run<T: serde::Serialize>(
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
        // A scan replaces the one stored for its slot: say so, never silently.
        let replaced =
            if self.command == SCAN { ctx.store.run(move |db| db.scan_at_slot(at)).await? } else { None };
        let result = job(&ctx, at).await?;
        if let Some(id) = replaced {
            note!(
                "ivcd scan: replaced scan {id}, stored for the same slot ({}): its candidates and its alerts \
                 not yet sent are superseded by this one",
                crate::time::et(at).format("%a %Y-%m-%d %H:%M %Z")
            );
        }
        if self.json {
            say!("{}", serde_json::to_string_pretty(&result)?);
        } else {
            say_part!("{}", text(&result));
        }
        if self.notify
            && let Some(failed) = deliver_now(config, ctx.store.clone(), clock).await?.report()
        {
            return Ok(failed);
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// A terminal progress bar, hidden when stderr is not a terminal.
pub(super) fn progress_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}") {
        bar.set_style(style);
    }
    bar
}

/// `ivcd refresh-calendar`.
pub(super) async fn refresh_calendar(
    config: &Config,
    clock: Arc<dyn Clock>,
    as_of: Option<DateTime<Utc>>,
) -> Result<ExitCode> {
    let _lock = writer_lock(config, "ivcd refresh-calendar")?;
    let ctx = live_context(config, clock.clone())?;
    let at = as_of.unwrap_or_else(|| clock.now());
    let c = jobs::run_refresh(&ctx, at).await?;
    say!(
        "{} events from {} to {} ({} with BMO/AMC timing, {} rescheduled removed, {} date or timing changes, {} \
         alerted; `ivcd calendar --changes` lists them)",
        c.events,
        c.from,
        c.to,
        c.with_timing,
        c.removed,
        c.changes,
        c.change_alerts
    );
    Ok(ExitCode::SUCCESS)
}

/// `ivcd backfill [TICKER...]`, with a progress bar on a terminal.
pub(super) async fn backfill(
    config: &Config,
    clock: Arc<dyn Clock>,
    tickers: Vec<Ticker>,
    as_of: Option<DateTime<Utc>>,
) -> Result<ExitCode> {
    let _lock = writer_lock(config, "ivcd backfill")?;
    let ctx = live_context(config, clock.clone())?;
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
    let sec_failed = sec_lines(c.sec.as_ref())?;
    if c.failures.is_empty() && !sec_failed {
        return Ok(ExitCode::SUCCESS);
    }
    if c.failures.is_empty() {
        return Ok(ExitCode::FAILURE);
    }
    // A partial failure: what is stored stays, what failed is named, exit 1.
    note!(
        "backfill: {} of {} tickers failed (the others are stored; run `ivcd backfill` with these again):",
        c.failures.len(),
        c.tickers
    );
    for (ticker, reason) in &c.failures {
        note!("  {ticker}: {reason}");
    }
    Ok(ExitCode::FAILURE)
}

/// Says what the SEC part of a backfill did; `Ok(true)` when a ticker's filings failed (named on stderr).
fn sec_lines(sec: Option<&crate::jobs::filings::SecCounts>) -> Result<bool> {
    // Not configured: the job logged it (INFO).
    let Some(sec) = sec else { return Ok(false) };
    let f = &sec.filings;
    say!(
        "SEC: {} Item 2.02 filings of {} tickers stored, {} settle the timing",
        f.filings,
        f.tickers,
        f.settled
    );
    if let Some(a) = &sec.audit {
        let of = |v| a.verdict.get(&v).copied().unwrap_or(0);
        use crate::analysis::timing_audit::Agreement;
        say!(
            "timing audit: {} past events: {} agree, {} disagree, {} unknown (`ivcd moves TICKER` shows each)",
            a.events,
            of(Agreement::Agree),
            of(Agreement::Disagree),
            of(Agreement::Unknown)
        );
    }
    if f.failures.is_empty() {
        return Ok(false);
    }
    note!("SEC filings: {} of {} tickers failed (the others are stored):", f.failures.len(), f.tickers);
    for (ticker, reason) in &f.failures {
        note!("  {ticker}: {reason}");
    }
    Ok(true)
}

/// `ivcd backtest TICKER...`: a backfill of the tickers, then the backtest.
pub(super) async fn backtest(
    config: &Config,
    clock: Arc<dyn Clock>,
    tickers: Vec<Ticker>,
    since: Option<NaiveDate>,
    as_of: Option<DateTime<Utc>>,
    json: bool,
) -> Result<ExitCode> {
    let _lock = writer_lock(config, "ivcd backtest")?;
    let ctx = live_context(config, clock.clone())?;
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
    Ok(ExitCode::SUCCESS)
}

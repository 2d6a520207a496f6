//! The commands that run a job by hand: `scan` and `review` (`--as-of`,
//! `--json`, `--notify`), and what they share.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;
use chrono::{DateTime, Utc};

use super::EXIT_ALERT_FAILED;
use super::compose::{live_context, writer_lock};
use super::notify::deliver_now;
use super::out::{note, say, say_part};
use crate::clock::Clock;
use crate::config::Config;
use crate::jobs::{self, JobContext};

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
    /// `--notify` makes one delivery pass, and exits [`EXIT_ALERT_FAILED`]
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

/// A terminal progress bar, hidden when stderr is not a terminal.
pub(super) fn progress_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}") {
        bar.set_style(style);
    }
    bar
}

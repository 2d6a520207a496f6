//! `refresh-calendar`: upcoming earnings reports into the store.

use chrono::{DateTime, Days, Utc};
use serde::Serialize;

use super::{JobContext, JobError};
use crate::time::et_date;

/// What a calendar refresh did.
#[derive(Debug, Clone, Serialize)]
pub struct RefreshCounts {
    /// First report date read (ET).
    pub from: chrono::NaiveDate,
    /// Last report date read (ET).
    pub to: chrono::NaiveDate,
    /// Events the provider listed in the window.
    pub events: usize,
    /// Of those, events with a known timing (BMO/AMC).
    pub with_timing: usize,
    /// Stored events of this source in the window that the listing no longer has (rescheduled).
    pub removed: usize,
}

/// Reads the reports dated from the as-of date through
/// `calendar.horizon_days` ahead and stores them, replacing this source's
/// earlier listing of that window (so a rescheduled report moves). One
/// transaction: a failure keeps the previous listing whole.
///
/// # Errors
/// [`JobError`] when the provider or the store fails.
pub async fn refresh_calendar(ctx: &JobContext, as_of: DateTime<Utc>) -> Result<RefreshCounts, JobError> {
    let from = et_date(as_of);
    let to = from + Days::new(u64::from(ctx.config.calendar.horizon_days));
    let events = ctx.providers.calendar.earnings_between(from, to).await?;
    let with_timing = events
        .iter()
        .filter(|e| matches!(e.timing, crate::domain::Timing::Bmo | crate::domain::Timing::Amc))
        .count();
    let n = events.len();
    let source = ctx.providers.calendar_source.clone();
    let removed = ctx
        .store
        .run(move |db| db.transaction(|db| db.replace_calendar_window(&source, from, to, &events, as_of)))
        .await?
        .1;
    tracing::info!(events = n, with_timing, removed, %from, %to, "earnings calendar refreshed");
    Ok(RefreshCounts { from, to, events: n, with_timing, removed })
}

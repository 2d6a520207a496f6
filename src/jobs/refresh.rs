//! `refresh-calendar`: upcoming earnings reports into the store.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, Utc};
use serde::Serialize;

use super::{JobContext, JobError};
use crate::domain::{EarningsEvent, Ticker};
use crate::store::SetupExposure;
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
    /// Stored upcoming events whose date or timing this listing changed
    /// (table `calendar_changes`).
    pub changes: usize,
    /// Of those, the changes alerted (queued in the outbox).
    pub change_alerts: usize,
}

/// Reads the reports dated from the as-of date through
/// `calendar.horizon_days` ahead and stores them, replacing this source's
/// earlier listing of that window (so a rescheduled report moves). One
/// transaction: a failure keeps the previous listing whole. The listing is
/// kept as a version (`calendar_versions`); each stored event whose date
/// or timing it changes is recorded (`calendar_changes`, see
/// [`date_changes`]) and, when [`alert_reason`] says so and the context
/// queues alerts, alerted through the outbox in the same transaction.
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
    let calendar = ctx.calendar.clone();
    let channels: Vec<String> = if ctx.queue_alerts {
        ctx.config.alerts.channel_names().into_iter().map(str::to_owned).collect()
    } else {
        Vec::new()
    };
    let (removed, changes) = ctx
        .store
        .run(move |db| {
            db.transaction(|db| {
                // The listing, its version and its changes (with their
                // alerts) commit together: a refresh run again after a
                // restart finds the events already moved, so a change is
                // recorded and alerted once.
                let old = db.events_of_source_between(&source, from, to)?;
                let (_, removed) = db.replace_calendar_window(&source, from, to, &events, as_of)?;
                db.record_calendar_version(&source, &events, as_of)?;
                let mut changes = Vec::new();
                for (before, after) in date_changes(&old, &events) {
                    let exposure = db.setup_exposure(&before.ticker, before.report_date)?;
                    let reason = alert_reason(&exposure, &after, &calendar);
                    changes.push(db.record_date_change(&source, &before, &after, as_of, reason, &channels)?);
                }
                Ok((removed, changes))
            })
        })
        .await?;
    for c in &changes {
        tracing::warn!(
            ticker = %c.ticker,
            from = %format!("{} {}", c.old_report_date, c.old_timing),
            to = %format!("{} {}", c.new_report_date, c.new_timing),
            alert = c.alert_reason.as_deref().unwrap_or("none"),
            "earnings date or timing changed"
        );
    }
    let change_alerts = changes.iter().filter(|c| c.alert_id.is_some()).count();
    tracing::info!(events = n, with_timing, removed, changes = changes.len(), %from, %to, "earnings calendar refreshed");
    Ok(RefreshCounts { from, to, events: n, with_timing, removed, changes: changes.len(), change_alerts })
}

/// The stored upcoming events (`old`, one source's window) whose date or
/// timing the new listing of the same window (`new`) changed, paired with
/// their new version. Per ticker: an event on the same date with another
/// timing is a timing change; the events left on either side (neither
/// date in the other listing) are paired in date order, a date change. An
/// old event left without a partner was removed, a new one is new: neither
/// is a change.
pub fn date_changes(old: &[EarningsEvent], new: &[EarningsEvent]) -> Vec<(EarningsEvent, EarningsEvent)> {
    // Each listing grouped by ticker once (not filtered again per ticker).
    type Sides<'a> = (Vec<&'a EarningsEvent>, Vec<&'a EarningsEvent>);
    let mut by_ticker: BTreeMap<&Ticker, Sides<'_>> = BTreeMap::new();
    for e in old {
        by_ticker.entry(&e.ticker).or_default().0.push(e);
    }
    for e in new {
        if let Some(sides) = by_ticker.get_mut(&e.ticker) {
            sides.1.push(e);
        }
    }
    let mut out = Vec::new();
    for (mut before, mut after) in by_ticker.into_values() {
        before.sort_by_key(|e| e.report_date);
        after.sort_by_key(|e| e.report_date);
        let same_date =
            |a: &EarningsEvent, list: &[&EarningsEvent]| list.iter().any(|b| b.report_date == a.report_date);
        for b in &before {
            if let Some(a) = after.iter().find(|a| a.report_date == b.report_date)
                && a.timing != b.timing
            {
                out.push(((*b).clone(), (*a).clone()));
            }
        }
        let moved_from: Vec<&EarningsEvent> =
            before.iter().copied().filter(|b| !same_date(b, &after)).collect();
        let moved_to: Vec<&EarningsEvent> =
            after.iter().copied().filter(|a| !same_date(a, &before)).collect();
        for (b, a) in moved_from.into_iter().zip(moved_to) {
            out.push((b.clone(), a.clone()));
        }
    }
    out
}

/// Why a change of an event is alerted, if it is: `alerted_setup` when a
/// scan whose alert was queued listed the event; else `crosses_expiration`
/// when the new reaction session (the new report date when the new timing
/// is unknown) falls after an expiration a scan chose for it, so the
/// expiration no longer holds the event. `None`: no scan listed it, and
/// no expiration is known to be crossed.
pub fn alert_reason(
    exposure: &SetupExposure,
    new: &EarningsEvent,
    calendar: &crate::calendar::NyseCalendar,
) -> Option<&'static str> {
    if exposure.alerted {
        return Some("alerted_setup");
    }
    let reaction = crate::analysis::moves::event_sessions(calendar, new.report_date, new.timing)
        .map_or(new.report_date, |s| s.reaction_session);
    exposure.expirations.iter().any(|e| reaction > *e).then_some("crosses_expiration")
}

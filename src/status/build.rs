//! The status report built from the database, the timetable and what only a
//! running daemon knows.

use std::path::Path;

use chrono::{DateTime, Utc};

use super::text::{et_short, override_line, slot_line};
use super::*;
use crate::store::{DeliveryState, Outcome, Store};
use crate::timetable::{Job, Timetable};

/// Builds the report from the database (`store`, or `None` when it cannot
/// be opened, with `store_error`), the timetable, and what only a running
/// daemon knows (`live`; `None` when it is down). The runs in progress are
/// the `running` rows of the database, shown only while a daemon runs.
pub async fn build(
    store: Option<&Store>,
    database: &Path,
    store_error: Option<String>,
    timetable: &Timetable,
    now: DateTime<Utc>,
    live: Option<Live>,
) -> StatusReport {
    let today = now.with_timezone(&NEW_YORK).date_naive();
    let calendar = timetable.calendar();
    let mut horizon = calendar.session_on_or_after(today);
    for _ in 1..UPCOMING_SESSIONS {
        horizon = calendar.next_session(horizon);
    }
    let read = match store {
        Some(store) => store
            .run(move |db| {
                let counts = db.store_counts(today, horizon)?;
                let runs = db.last_runs()?;
                let overrides = db.calendar_overrides()?;
                let alerts = db.outbox(now - crate::time::days(ALERT_HISTORY_DAYS.unsigned_abs()))?;
                let reviews = db.reviews(None, None)?;
                let reviews = (!reviews.is_empty())
                    .then(|| crate::present::card_summary(&crate::review::ReportCard::new(reviews, None)));
                Ok::<_, StoreError>((counts, runs, overrides, alerts, reviews))
            })
            .await
            .map_err(|e| e.to_string()),
        None => Err(store_error.unwrap_or_else(|| "the database could not be opened".into())),
    };
    let (counts, runs, overrides, alerts, reviews, store_error) = match read {
        Ok((c, r, o, a, v)) => (Some(c), r, o, a, v, None),
        Err(e) => (None, Vec::new(), Vec::new(), Vec::new(), None, Some(e)),
    };
    let running = live.is_some();
    let jobs: Vec<JobStatus> = Job::ALL
        .into_iter()
        .map(|job| {
            let of_job: Vec<&JobRun> = runs.iter().filter(|r| r.job == job.name()).collect();
            let in_progress = of_job.iter().find(|r| r.outcome == Outcome::Running).map(|r| (*r).clone());
            let last_run = of_job.iter().find(|r| r.outcome != Outcome::Running).map(|r| (*r).clone());
            JobStatus {
                job,
                next_run: running.then(|| timetable.next_of(job, now).map(|s| s.at)).flatten(),
                running: in_progress.filter(|_| running),
                last_run,
            }
        })
        .collect();
    let overrides: Vec<CalendarOverride> = overrides.into_iter().filter(|o| o.date >= today).collect();
    let mut problems = Vec::new();
    let mut problem = |kind: &str, message: String| problems.push(Problem { kind: kind.into(), message });
    if let Some(e) = &store_error {
        problem("store_unreadable", e.clone());
    }
    for o in &overrides {
        problem("calendar_disagreement", override_line(o));
    }
    for j in &jobs {
        if let Some(r) = &j.last_run {
            match r.outcome {
                Outcome::Failed => problem(
                    "job_failed",
                    format!(
                        "{} for {} failed: {}",
                        j.job,
                        et_short(r.slot),
                        r.error.as_deref().unwrap_or("no error recorded")
                    ),
                ),
                Outcome::Interrupted if running => problem(
                    "job_interrupted",
                    format!(
                        "{} for {} was interrupted: {}",
                        j.job,
                        et_short(r.slot),
                        r.error.as_deref().unwrap_or("no reason recorded")
                    ),
                ),
                _ => {}
            }
        }
    }
    for d in &alerts {
        let what = format!("alert {} of {}", d.channel, d.report_key);
        match d.state {
            DeliveryState::Failed => problem(
                "alert_failed",
                format!("{what} was given up: {}", d.last_error.as_deref().unwrap_or("no error recorded")),
            ),
            DeliveryState::Pending if d.attempts > 0 => problem(
                "alert_retrying",
                format!(
                    "{what} failed {} time(s), next attempt {}: {}",
                    d.attempts,
                    et_short(d.next_attempt_at),
                    d.last_error.as_deref().unwrap_or("no error recorded")
                ),
            ),
            _ => {}
        }
    }
    let (daemon, providers) = match live {
        Some(Live { daemon, providers }) => (Some(daemon), providers),
        None => (None, Vec::new()),
    };
    if let Some(d) = &daemon {
        for s in &d.skipped_slots {
            problem("skipped_slot", format!("{} skipped: {}", slot_line(&s.slot), s.reason));
        }
        if let Some(t) = &d.store_trouble {
            let next = match t.retry_at {
                Some(at) => format!("it runs again at {}", et_short(at)),
                None => "its window closes before a retry; the job's next slot does its work".to_owned(),
            };
            problem(
                "store_error",
                format!(
                    "{} failed at {} because the database refused it; {next}: {}",
                    slot_line(&t.slot),
                    et_short(t.at),
                    t.message
                ),
            );
        }
        if let Some(Reload { at, error: Some(e) }) = &d.last_reload {
            problem(
                "reload_failed",
                format!("reload at {} rejected, the previous configuration is in force: {e}", et_short(*at)),
            );
        }
    }
    for p in &providers {
        if let Some(crate::providers::resilience::BreakerState::Open { until }) = p.breaker {
            problem(
                "circuit_open",
                format!(
                    "{}: circuit open after repeated failures; calls fail at once until {}",
                    p.provider,
                    et_short(until)
                ),
            );
        }
        if let Some(e) = &p.last_error
            && p.last_success.is_none_or(|ok| ok < e.at)
        {
            problem(
                "provider_error",
                format!("{}: last request failed at {}: {}", p.provider, et_short(e.at), e.message),
            );
        }
    }
    let state = match (&daemon, problems.is_empty()) {
        (None, _) => State::Down,
        (Some(_), true) => State::Healthy,
        (Some(_), false) => State::Degraded,
    };
    StatusReport {
        generated_at: now,
        state,
        daemon,
        market: market_now(timetable, now),
        jobs,
        store: StoreStatus { database: database.display().to_string(), counts, error: store_error },
        providers,
        calendar_overrides: overrides,
        alerts,
        reviews,
        problems,
    }
}

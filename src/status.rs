//! `ivcd status`: what the daemon is doing and what the database knows.
//!
//! The daemon serves a [`StatusReport`] as JSON on a Unix socket (mode 0660)
//! to every client that connects, then closes the connection; it never reads
//! from the socket. `ivcd status` reads that snapshot, or, when nothing
//! answers, builds the same report from the database alone (read-only) and
//! says the daemon is down. The JSON is documented in `docs/json.md`.
//!
//! Exit codes of `ivcd status`: 0 running and healthy, 1 running with
//! problems, 3 not running (the LSB code for a stopped service).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::calendar::{NEW_YORK, Session};
use crate::jobs::et;
use crate::providers::http::HealthSnapshot;
use crate::store::{CalendarOverride, DeliveryState, JobRun, Outcome, Store, StoreCounts, StoreError};
use crate::timetable::{Job, Slot, Timetable};

/// How many sessions ahead the "upcoming events" count looks.
pub const UPCOMING_SESSIONS: usize = 7;

/// How many days of finished alert deliveries the report lists.
pub const ALERT_HISTORY_DAYS: i64 = 7;

/// Exit code: running and healthy.
pub const EXIT_HEALTHY: u8 = 0;
/// Exit code: running, with problems listed.
pub const EXIT_PROBLEMS: u8 = 1;
/// Exit code: the daemon is not running (LSB "program is not running").
pub const EXIT_DOWN: u8 = 3;

/// Everything `ivcd status` shows. Times are UTC instants (RFC 3339);
/// the text rendering shows them in ET.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    /// When the report was made (UTC).
    pub generated_at: DateTime<Utc>,
    /// `healthy`, `degraded` (running with problems) or `down`.
    pub state: State,
    /// The daemon process, when it is running.
    pub daemon: Option<DaemonInfo>,
    /// The market at `generated_at`.
    pub market: MarketNow,
    /// Each job: next run, the run in progress, the last run.
    pub jobs: Vec<JobStatus>,
    /// The database file and its counts.
    pub store: StoreStatus,
    /// Each HTTP provider's health (empty when the daemon is down: only it knows).
    pub providers: Vec<HealthSnapshot>,
    /// Days on which the exchange's calendar overrides the rules (today and later).
    pub calendar_overrides: Vec<CalendarOverride>,
    /// The alerts outbox: deliveries not yet sent, and those finished in the last 7 days.
    #[serde(default)]
    pub alerts: Vec<crate::store::Delivery>,
    /// The post-crush reviews' scoreboard in one line (`None` before the first review).
    #[serde(default)]
    pub reviews: Option<String>,
    /// Open problems, one line each.
    pub problems: Vec<Problem>,
}

/// The overall state, and `ivcd status`'s exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Running, no open problem (exit 0).
    Healthy,
    /// Running with open problems (exit 1).
    Degraded,
    /// Not running (exit 3).
    Down,
}

impl State {
    /// The exit code of `ivcd status`.
    pub fn exit_code(self) -> u8 {
        match self {
            State::Healthy => EXIT_HEALTHY,
            State::Degraded => EXIT_PROBLEMS,
            State::Down => EXIT_DOWN,
        }
    }
}

/// The daemon process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DaemonInfo {
    /// Its process id.
    pub pid: u32,
    /// ivcd's version.
    pub version: String,
    /// When it started (UTC).
    pub started_at: DateTime<Utc>,
    /// The configuration file it read, if any.
    pub config_file: Option<String>,
    /// The last SIGHUP reload: when, and its error if the new file was rejected.
    pub last_reload: Option<Reload>,
    /// Whether it is draining for shutdown.
    pub stopping: bool,
    /// Slots it did not run since it started (catch-up skips, overlaps), with the reason.
    pub skipped_slots: Vec<SkippedSlot>,
    /// The database refused the last job that ran (locked, full, read-only);
    /// cleared by the next job that reaches it (the refused slot's retry, or
    /// any later job).
    #[serde(default)]
    pub store_trouble: Option<StoreTrouble>,
}

/// A job that failed because the database refused it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreTrouble {
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// The slot whose job failed.
    pub slot: Slot,
    /// The database's error, with what to do.
    pub message: String,
    /// When the daemon runs the slot again (UTC; `[daemon] store_retry_minutes`
    /// later), or `None` when the slot's window closes before that: a later
    /// slot of the job then does its work.
    #[serde(default)]
    pub retry_at: Option<DateTime<Utc>>,
}

/// A configuration reload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reload {
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// Why the new configuration was rejected (the old one stays), or `None` when it was applied.
    pub error: Option<String>,
}

/// A slot that was not run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedSlot {
    /// The slot.
    pub slot: Slot,
    /// Why.
    pub reason: String,
}

/// The market at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarketNow {
    /// Whether the regular session is open.
    pub open: bool,
    /// Today's session (ET date), if today is one.
    pub today: Option<SessionTimes>,
    /// The next opening bell after now (UTC).
    pub next_open: DateTime<Utc>,
    /// The next closing bell after now (UTC).
    pub next_close: DateTime<Utc>,
}

/// A session's date and bells.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionTimes {
    /// The ET date.
    pub date: NaiveDate,
    /// The opening bell (UTC).
    pub open: DateTime<Utc>,
    /// The closing bell (UTC).
    pub close: DateTime<Utc>,
    /// Whether it closes early (13:00 ET).
    pub early_close: bool,
}

impl From<&Session> for SessionTimes {
    fn from(s: &Session) -> Self {
        Self {
            date: s.date,
            open: s.open.with_timezone(&Utc),
            close: s.close.with_timezone(&Utc),
            early_close: s.early_close,
        }
    }
}

/// One job of the timetable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobStatus {
    /// The job.
    pub job: Job,
    /// Its next slot (UTC), when the daemon runs it.
    pub next_run: Option<DateTime<Utc>>,
    /// The run in progress, if any.
    pub running: Option<JobRun>,
    /// The most recent finished (or skipped) run.
    pub last_run: Option<JobRun>,
}

/// The database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreStatus {
    /// The database file.
    pub database: String,
    /// Its counts, when it could be read.
    pub counts: Option<StoreCounts>,
    /// Why it could not be read.
    pub error: Option<String>,
}

/// An open problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// `calendar_disagreement`, `skipped_slot`, `job_failed`, `job_interrupted`,
    /// `provider_error`, `circuit_open`, `store_error`, `reload_failed` or `store_unreadable`.
    pub kind: String,
    /// What, in a sentence.
    pub message: String,
}

/// What the daemon adds to what the database knows.
#[derive(Debug, Clone)]
pub struct Live {
    /// The process.
    pub daemon: DaemonInfo,
    /// The providers' health.
    pub providers: Vec<HealthSnapshot>,
}

/// The market at `now` by `timetable`'s calendar.
pub fn market_now(timetable: &Timetable, now: DateTime<Utc>) -> MarketNow {
    let calendar = timetable.calendar();
    let today = now.with_timezone(&NEW_YORK).date_naive();
    let session = calendar.session(today);
    let open = session.as_ref().is_some_and(|s| now >= s.open && now < s.close);
    // Today's bell when it is still ahead, else the next session's.
    let following = calendar.session(calendar.next_session(today));
    let after = |bell: fn(&Session) -> DateTime<Utc>| {
        session.iter().chain(following.iter()).map(bell).find(|t| *t > now).unwrap_or(now)
    };
    MarketNow {
        open,
        today: session.as_ref().map(SessionTimes::from),
        next_open: after(|s| s.open.with_timezone(&Utc)),
        next_close: after(|s| s.close.with_timezone(&Utc)),
    }
}

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
                let alerts = db.outbox(now - crate::clock::days(ALERT_HISTORY_DAYS.unsigned_abs()))?;
                let reviews = db.reviews(None, None)?;
                let reviews =
                    (!reviews.is_empty()).then(|| crate::review::ReportCard::new(reviews, None).summary());
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

fn et_short(at: DateTime<Utc>) -> String {
    et(at).format("%a %Y-%m-%d %H:%M %Z").to_string()
}

fn slot_line(slot: &Slot) -> String {
    format!("{} {}", slot.job, et_short(slot.at))
}

fn hours(h: Option<(chrono::NaiveTime, chrono::NaiveTime)>) -> String {
    h.map_or_else(|| "closed".into(), |(o, c)| format!("{}-{}", o.format("%H:%M"), c.format("%H:%M")))
}

fn override_line(o: &CalendarOverride) -> String {
    format!(
        "{}: the exchange says {} ET, the rules say {}; the exchange's answer is used ({})",
        o.date,
        hours(o.exchange),
        hours(o.rules),
        o.source
    )
}

/// `2h 03m`, `45s`, `3d 4h`: a duration for people.
pub fn human_duration(seconds: f64) -> String {
    if seconds < 60.0 {
        return format!("{seconds:.1}s");
    }
    crate::jobs::scan::human_age(seconds.round() as i64)
}

fn counts_line(counts: &Option<serde_json::Value>) -> String {
    let Some(serde_json::Value::Object(map)) = counts else { return String::new() };
    map.iter()
        .filter_map(|(k, v)| match v {
            serde_json::Value::Number(n) => Some(format!("{k}={n}")),
            serde_json::Value::Array(a) => Some(format!("{k}={}", a.len())),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The report as text for people; times in ET.
pub fn render_text(r: &StatusReport) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let state = match r.state {
        State::Healthy => "healthy",
        State::Degraded => "running with problems",
        State::Down => "not running",
    };
    match &r.daemon {
        Some(d) => {
            let uptime = human_duration((r.generated_at - d.started_at).num_seconds().max(0) as f64);
            let _ = writeln!(
                out,
                "ivcd {}: {state} (pid {}, up {uptime}{})",
                d.version,
                d.pid,
                if d.stopping { ", stopping" } else { "" }
            );
            if let Some(file) = &d.config_file {
                let _ = writeln!(out, "Config: {file}");
            }
        }
        None => {
            let _ = writeln!(
                out,
                "ivcd {}: {state} (no daemon answers on the status socket)",
                env!("CARGO_PKG_VERSION")
            );
            let _ = writeln!(out, "What the database knows is shown below.");
        }
    }
    let _ = writeln!(out, "As of {}", et_short(r.generated_at));
    let m = &r.market;
    let _ = writeln!(
        out,
        "Market: {}; next open {}, next close {}",
        if m.open { "open" } else { "closed" },
        et_short(m.next_open),
        et_short(m.next_close)
    );
    if let Some(t) = &m.today
        && t.early_close
    {
        let _ = writeln!(out, "  today closes early at {}", et(t.close).format("%H:%M %Z"));
    }

    let _ = writeln!(out, "\nJobs:");
    let mut table = comfy_table::Table::new();
    table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED).force_no_tty().set_header(vec![
        "job",
        "next run",
        "last slot",
        "outcome",
        "took",
        "counts / error",
    ]);
    for j in &r.jobs {
        let next = j.next_run.map_or_else(|| "-".into(), et_short);
        let (slot, outcome, took, detail) = match (&j.running, &j.last_run) {
            (Some(run), _) => (
                et_short(run.slot),
                "running".to_owned(),
                format!("since {}", et(run.started_at).format("%H:%M:%S")),
                String::new(),
            ),
            (None, Some(run)) => (
                et_short(run.slot),
                run.outcome.code().to_owned(),
                run.duration_seconds().map_or_else(|| "-".into(), human_duration),
                match &run.error {
                    Some(e) => e.chars().take(80).collect(),
                    None => counts_line(&run.counts),
                },
            ),
            (None, None) => ("never".into(), "-".into(), "-".into(), String::new()),
        };
        table.add_row(vec![j.job.name().to_owned(), next, slot, outcome, took, detail]);
    }
    let _ = writeln!(out, "{table}");

    let _ = writeln!(out, "\nStore: {}", r.store.database);
    match &r.store.counts {
        Some(c) => {
            let _ = writeln!(
                out,
                "  {} earnings events from {} to {} (the next {UPCOMING_SESSIONS} sessions); {} tickers with historical moves",
                c.upcoming_events, c.upcoming_from, c.upcoming_to, c.tickers_with_history
            );
            match &c.last_scan {
                Some(s) => {
                    let tiers: BTreeMap<&str, usize> =
                        s.by_tier.iter().map(|(k, v)| (k.as_str(), *v)).collect();
                    let order = ["excellent", "good", "marginal", "skip", "unanalysed"];
                    let by_tier: Vec<String> =
                        order.iter().filter_map(|t| tiers.get(t).map(|n| format!("{n} {t}"))).collect();
                    let requests = s.requests.map(|n| format!("; {n} provider requests")).unwrap_or_default();
                    let _ = writeln!(
                        out,
                        "  last scan: {} (session {}): {} candidates: {}{requests}",
                        et_short(s.slot),
                        s.session_date,
                        s.candidates,
                        if by_tier.is_empty() { "none".into() } else { by_tier.join(", ") }
                    );
                }
                None => {
                    let _ = writeln!(out, "  no scan stored yet");
                }
            }
        }
        None => {
            let _ = writeln!(out, "  cannot read: {}", r.store.error.as_deref().unwrap_or("unknown error"));
        }
    }

    if !r.providers.is_empty() {
        let _ = writeln!(out, "\nProviders:");
        for p in &r.providers {
            let ok = p
                .last_success
                .map_or_else(|| "no success yet".into(), |t| format!("last success {}", et_short(t)));
            let _ = writeln!(
                out,
                "  {}: {ok}; {} requests sent, {} in the last minute (limit {}/min)",
                p.provider, p.requests_sent, p.requests_last_minute, p.requests_per_minute
            );
            if p.retries > 0 || p.rate_limit_waits > 0 {
                let _ = writeln!(
                    out,
                    "    {} retries, {} waits for the provider's rate-limit window",
                    p.retries, p.rate_limit_waits
                );
            }
            if p.rate_limit_refusals > 0 {
                let _ = writeln!(
                    out,
                    "    {} answers refused for the vendor's rate limit (another client on the same credentials?)",
                    p.rate_limit_refusals
                );
            }
            match p.breaker {
                Some(crate::providers::resilience::BreakerState::Open { until }) => {
                    let _ = writeln!(out, "    circuit OPEN until {}", et_short(until));
                }
                Some(crate::providers::resilience::BreakerState::HalfOpen) => {
                    let _ = writeln!(out, "    circuit half-open: a probe request is in flight");
                }
                Some(crate::providers::resilience::BreakerState::Closed { consecutive_failures })
                    if consecutive_failures > 0 =>
                {
                    let _ = writeln!(out, "    circuit closed, {consecutive_failures} failed calls in a row");
                }
                _ => {}
            }
            if let Some(e) = &p.last_error {
                let _ = writeln!(out, "    last error {}: {}", et_short(e.at), e.message);
            }
        }
    }

    if !r.alerts.is_empty() {
        let count = |state| r.alerts.iter().filter(|d| d.state == state).count();
        let last_sent = r.alerts.iter().filter_map(|d| d.delivered_at).max();
        let _ = writeln!(
            out,
            "\nAlerts (last {ALERT_HISTORY_DAYS} days): {} pending, {} sent, {} failed; last sent {}",
            count(DeliveryState::Pending) + count(DeliveryState::Sending),
            count(DeliveryState::Sent),
            count(DeliveryState::Failed),
            last_sent.map_or_else(|| "never".into(), et_short)
        );
    }

    if let Some(line) = &r.reviews {
        let _ = writeln!(out, "\nReviews: {line}");
    }

    if r.problems.is_empty() {
        let _ = writeln!(out, "\nProblems: none");
    } else {
        let _ = writeln!(out, "\nProblems:");
        for p in &r.problems {
            let _ = writeln!(out, "  - [{}] {}", p.kind, p.message);
        }
    }
    out
}

/// Why the status socket could not be served.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    /// Another process answers on the socket: a second daemon must not steal it.
    #[error("status socket {path}: another ivcd daemon is answering on it; stop that one first")]
    InUse {
        /// The socket path.
        path: String,
    },
    /// The socket could not be created.
    #[error("status socket {path}: {source}; set daemon.status_socket to a writable path")]
    Io {
        /// The socket path.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// Binds the status socket at `path` with mode 0660, replacing a stale
/// socket file that nothing answers on.
///
/// # Errors
/// [`SocketError::InUse`] when a daemon answers there; [`SocketError::Io`] otherwise.
pub async fn bind(path: &Path) -> Result<tokio::net::UnixListener, SocketError> {
    use std::os::unix::fs::PermissionsExt;
    let shown = path.display().to_string();
    let io = |source| SocketError::Io { path: shown.clone(), source };
    if path.exists() {
        if tokio::net::UnixStream::connect(path).await.is_ok() {
            return Err(SocketError::InUse { path: shown });
        }
        std::fs::remove_file(path).map_err(io)?;
    }
    let listener = tokio::net::UnixListener::bind(path).map_err(io)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(io)?;
    Ok(listener)
}

/// Writes `report` as JSON to one connected client and closes the
/// connection; nothing is read from it.
///
/// # Errors
/// I/O errors of that one connection.
pub async fn send(mut stream: tokio::net::UnixStream, report: &StatusReport) -> std::io::Result<()> {
    let json = serde_json::to_vec(report).map_err(std::io::Error::other)?;
    stream.write_all(&json).await?;
    stream.shutdown().await
}

/// Reads the daemon's snapshot from the socket at `path`: `Ok(None)` when no
/// daemon answers (no socket, or nobody listening).
///
/// # Errors
/// When a daemon answered with something unreadable or too slowly (5 s).
pub async fn fetch(path: &Path) -> anyhow::Result<Option<StatusReport>> {
    use anyhow::Context;
    let mut stream = match tokio::net::UnixStream::connect(path).await {
        Ok(s) => s,
        Err(e)
            if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused) =>
        {
            return Ok(None);
        }
        Err(e) => {
            return Err(e).with_context(|| {
                format!("status socket {}: cannot connect (are you in the ivcd group?)", path.display())
            });
        }
    };
    let mut body = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut body))
        .await
        .with_context(|| format!("status socket {}: no answer within 5 s", path.display()))?
        .with_context(|| format!("status socket {}: read failed", path.display()))?;
    let report = serde_json::from_slice(&body).with_context(|| {
        format!("status socket {}: not a status report (a different ivcd version?)", path.display())
    })?;
    Ok(Some(report))
}

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
//!
//! `mod.rs` holds the report's records; `build.rs` builds it, `text.rs`
//! renders it for people, `socket.rs` serves and fetches it.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::Session;
use crate::providers::http::HealthSnapshot;
use crate::store::{CalendarOverride, DeliveryState, JobRun, StoreCounts, StoreError};
use crate::time::NEW_YORK;
use crate::timetable::{Job, Slot, Timetable};

mod build;
mod socket;
mod text;

pub use build::build;
pub use socket::{SocketError, bind, fetch, send};
pub use text::render_text;

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

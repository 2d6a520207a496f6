//! The daemon's timetable: which job runs at which instant.
//!
//! Pure: the slots are computed from the NYSE calendar and the
//! `[timetable]` settings, in America/New_York through chrono-tz, and
//! converted to UTC instants. Nothing here reads a clock or arms a timer;
//! the daemon asks for the slots of the coming hours and arms one alarm per
//! slot, so a daylight-saving change or an early close is never a cron
//! expression's problem.
//!
//! | job | when (ET) | days |
//! |---|---|---|
//! | `refresh-calendar` | each of `refresh_times` (06:00, 18:00) | every day |
//! | `backfill` | `backfill_time` (20:00) | sessions |
//! | `scan` | the close minus `scan_minutes_before_close` (15:00; 12:00 on a 13:00 early close) | sessions |
//! | `review` | the open plus `review_minutes_after_open` (09:31), then each of `review_retry_minutes` later (09:46, 10:16) for stocks not yet open | sessions |
//! | `housekeeping` | `housekeeping_time` (03:00) | `housekeeping_day` (Sunday) |

use std::fmt;

use chrono::Weekday;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::NyseCalendar;
pub use crate::time::EtTime;
use crate::time::{NEW_YORK, et_instant};

/// `[timetable]`: when the daemon's jobs run. Every time is America/New_York
/// wall-clock time; the NYSE calendar decides which days are sessions and
/// when they open and close.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimetableConfig {
    /// Earnings-calendar refreshes, every day (default 06:00 and 18:00 ET).
    pub refresh_times: Vec<EtTime>,
    /// The backfill, on session days (default 20:00 ET).
    pub backfill_time: EtTime,
    /// The scan runs this many minutes before each session's close: 15:00 ET
    /// on a regular day, 12:00 ET on a 13:00 early close (default 60).
    pub scan_minutes_before_close: u32,
    /// The post-crush review runs this many minutes after each session's open (default 1).
    pub review_minutes_after_open: u32,
    /// A missed review is still caught up until this time on its day (default 10:30 ET).
    pub review_deadline: EtTime,
    /// Further review slots, in minutes after the first, for stocks that had
    /// not opened yet (a delayed open or a halt) (default 15 and 45).
    pub review_retry_minutes: Vec<u32>,
    /// The weekly housekeeping's day (default `Sun`).
    pub housekeeping_day: Weekday,
    /// The weekly housekeeping's time (default 03:00 ET).
    pub housekeeping_time: EtTime,
    /// Whether the daemon catches up missed slots on start (default true).
    pub catch_up: bool,
    /// How far back, in days, the daemon looks for missed slots on start (default 7).
    pub catch_up_lookback_days: u32,
}

impl Default for TimetableConfig {
    fn default() -> Self {
        Self {
            refresh_times: vec![EtTime::hm(6, 0), EtTime::hm(18, 0)],
            backfill_time: EtTime::hm(20, 0),
            scan_minutes_before_close: 60,
            review_minutes_after_open: 1,
            review_deadline: EtTime::hm(10, 30),
            review_retry_minutes: vec![15, 45],
            housekeeping_day: Weekday::Sun,
            housekeeping_time: EtTime::hm(3, 0),
            catch_up: true,
            catch_up_lookback_days: 7,
        }
    }
}

impl TimetableConfig {
    /// The bounds of its minutes and days (see [`crate::settings::Bounded`]).
    pub fn bounds(&self, b: &mut crate::settings::Bounds) {
        b.int("timetable.scan_minutes_before_close", self.scan_minutes_before_close, 1, 360);
        b.int("timetable.review_minutes_after_open", self.review_minutes_after_open, 0, 360);
        for minutes in &self.review_retry_minutes {
            b.int("timetable.review_retry_minutes", *minutes, 1, 360);
        }
        b.int("timetable.catch_up_lookback_days", self.catch_up_lookback_days, 1, 60);
    }

    /// The problems bounds do not cover: the lengths of its lists.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !(1..=24).contains(&self.refresh_times.len()) {
            problems.push("timetable.refresh_times must list from 1 to 24 times".to_owned());
        }
        if self.review_retry_minutes.len() > 10 {
            problems.push("timetable.review_retry_minutes may list at most 10 retries".to_owned());
        }
        problems
    }
}

/// A job of the daemon's timetable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Job {
    /// Read upcoming earnings reports (every day).
    RefreshCalendar,
    /// Past report dates, daily bars and historical moves (session evenings).
    Backfill,
    /// The pre-earnings scan, an hour before the close.
    Scan,
    /// The post-crush review, just after the open.
    Review,
    /// Retention, `PRAGMA optimize` and a WAL checkpoint (weekly).
    Housekeeping,
}

impl Job {
    /// Every job, in the order `ivcd status` lists them.
    pub const ALL: [Job; 5] =
        [Job::RefreshCalendar, Job::Backfill, Job::Scan, Job::Review, Job::Housekeeping];

    /// The name stored in `job_runs.job` and shown in logs.
    pub fn name(self) -> &'static str {
        match self {
            Job::RefreshCalendar => "refresh-calendar",
            Job::Backfill => "backfill",
            Job::Scan => "scan",
            Job::Review => "review",
            Job::Housekeeping => "housekeeping",
        }
    }
}

impl fmt::Display for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One scheduled run: a job and the instant it is due (UTC). A slot is the
/// identity of a run: re-running a slot replaces what it stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Slot {
    /// When the run is due (UTC; shown in ET).
    pub at: DateTime<Utc>,
    /// The job.
    pub job: Job,
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.job, self.at.with_timezone(&NEW_YORK).format("%a %Y-%m-%d %H:%M %Z"))
    }
}

/// The timetable: the `[timetable]` settings over a session calendar.
#[derive(Debug, Clone)]
pub struct Timetable {
    config: TimetableConfig,
    calendar: NyseCalendar,
}

impl Timetable {
    /// The timetable of `config` over `calendar` (with the exchange's overrides in it).
    pub fn new(config: TimetableConfig, calendar: NyseCalendar) -> Self {
        Self { config, calendar }
    }

    /// The calendar the timetable follows.
    pub fn calendar(&self) -> &NyseCalendar {
        &self.calendar
    }

    /// The slots whose ET date is `date`, in time order. Session jobs (backfill,
    /// scan, review) only on sessions.
    pub fn slots_on(&self, date: NaiveDate) -> Vec<Slot> {
        let c = &self.config;
        let mut slots: Vec<Slot> = c
            .refresh_times
            .iter()
            .map(|t| Slot { job: Job::RefreshCalendar, at: et_instant(date, t.0) })
            .collect();
        if let Some(session) = self.calendar.session(date) {
            let open = session.open.with_timezone(&Utc);
            let close = session.close.with_timezone(&Utc);
            let scan = (close - crate::time::minutes(u64::from(c.scan_minutes_before_close))).max(open);
            let review = open + crate::time::minutes(u64::from(c.review_minutes_after_open));
            slots.push(Slot { job: Job::Review, at: review });
            for retry in &c.review_retry_minutes {
                let at = review + crate::time::minutes(u64::from(*retry));
                if at < close {
                    slots.push(Slot { job: Job::Review, at });
                }
            }
            slots.push(Slot { job: Job::Scan, at: scan });
            slots.push(Slot { job: Job::Backfill, at: et_instant(date, c.backfill_time.0) });
        }
        if date.weekday() == c.housekeeping_day {
            slots.push(Slot { job: Job::Housekeeping, at: et_instant(date, c.housekeeping_time.0) });
        }
        slots.sort();
        slots.dedup();
        slots
    }

    /// The slots due in `(from, to]`, in time order.
    pub fn slots_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Slot> {
        if to <= from {
            return Vec::new();
        }
        // A slot's ET date is within a day of its UTC date either way.
        let first = crate::time::et_date(from) - crate::time::days(1);
        let last = crate::time::et_date(to) + crate::time::days(1);
        first
            .iter_days()
            .take_while(|d| *d <= last)
            .flat_map(|d| self.slots_on(d))
            .filter(|s| s.at > from && s.at <= to)
            .collect()
    }

    /// The first slot of `job` after `after`, looking up to 15 days ahead
    /// (the weekly housekeeping and the longest run of closed days fit).
    pub fn next_of(&self, job: Job, after: DateTime<Utc>) -> Option<Slot> {
        self.slots_between(after, after + crate::time::days(15)).into_iter().find(|s| s.job == job)
    }

    /// Until when a missed `slot` may still be caught up: a scan until its
    /// session's close; a review until `review_deadline` ET on its day (or
    /// its own time, if later). `None` for the jobs that are always worth
    /// running late (refresh, backfill, housekeeping); a later slot of the
    /// same job supersedes them.
    pub fn catch_up_deadline(&self, slot: &Slot) -> Option<DateTime<Utc>> {
        let date = slot.at.with_timezone(&NEW_YORK).date_naive();
        match slot.job {
            Job::Scan => Some(self.calendar.session(date).map_or(slot.at, |s| s.close.with_timezone(&Utc))),
            Job::Review => Some(et_instant(date, self.config.review_deadline.0).max(slot.at)),
            Job::RefreshCalendar | Job::Backfill | Job::Housekeeping => None,
        }
    }

    /// Whether catch-up is enabled, and how many days back it looks.
    pub fn catch_up(&self) -> Option<u32> {
        self.config.catch_up.then_some(self.config.catch_up_lookback_days)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveTime;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn timetable() -> Timetable {
        Timetable::new(TimetableConfig::default(), NyseCalendar::new())
    }

    fn at(slots: &[Slot], job: Job) -> Vec<DateTime<Utc>> {
        slots.iter().filter(|s| s.job == job).map(|s| s.at).collect()
    }

    #[test]
    fn a_regular_session_in_daylight_time() {
        // Thu 2025-10-30, EDT (UTC-4).
        let slots = timetable().slots_on(day(2025, 10, 30));
        assert_eq!(
            at(&slots, Job::RefreshCalendar),
            [utc("2025-10-30T10:00:00Z"), utc("2025-10-30T22:00:00Z")]
        );
        assert_eq!(
            at(&slots, Job::Review),
            [utc("2025-10-30T13:31:00Z"), utc("2025-10-30T13:46:00Z"), utc("2025-10-30T14:16:00Z")]
        );
        assert_eq!(at(&slots, Job::Scan), [utc("2025-10-30T19:00:00Z")]);
        assert_eq!(at(&slots, Job::Backfill), [utc("2025-10-31T00:00:00Z")]);
        assert!(at(&slots, Job::Housekeeping).is_empty());
        assert!(slots.windows(2).all(|w| w[0].at <= w[1].at), "in time order");
    }

    #[test]
    fn the_same_et_times_after_the_fall_back_change() {
        // Mon 2025-11-03, EST (UTC-5): one hour later in UTC than the week before.
        let slots = timetable().slots_on(day(2025, 11, 3));
        assert_eq!(
            at(&slots, Job::Review),
            [utc("2025-11-03T14:31:00Z"), utc("2025-11-03T14:46:00Z"), utc("2025-11-03T15:16:00Z")]
        );
        assert_eq!(at(&slots, Job::Scan), [utc("2025-11-03T20:00:00Z")]);
        assert_eq!(at(&slots, Job::Backfill), [utc("2025-11-04T01:00:00Z")]);
    }

    #[test]
    fn the_change_day_itself() {
        // Sun 2025-11-02: clocks fall back at 02:00 EDT; 06:00 and 18:00 are EST.
        let slots = timetable().slots_on(day(2025, 11, 2));
        assert_eq!(
            at(&slots, Job::RefreshCalendar),
            [utc("2025-11-02T11:00:00Z"), utc("2025-11-02T23:00:00Z")]
        );
        assert_eq!(at(&slots, Job::Housekeeping), [utc("2025-11-02T08:00:00Z")], "03:00 EST");
        assert!(at(&slots, Job::Scan).is_empty(), "a Sunday has no session");
        // Sun 2026-03-08: spring forward; 03:00 EDT exists, 02:30 does not and moves to 03:30.
        let slots = timetable().slots_on(day(2026, 3, 8));
        assert_eq!(at(&slots, Job::Housekeeping), [utc("2026-03-08T07:00:00Z")]);
        assert_eq!(
            et_instant(day(2026, 3, 8), NaiveTime::from_hms_opt(2, 30, 0).unwrap()),
            utc("2026-03-08T07:30:00Z")
        );
        assert_eq!(
            et_instant(day(2025, 11, 2), NaiveTime::from_hms_opt(1, 30, 0).unwrap()),
            utc("2025-11-02T05:30:00Z"),
            "a repeated time takes its first (EDT) instance"
        );
    }

    #[test]
    fn holidays_and_early_closes() {
        let t = timetable();
        // Thanksgiving: refreshes only.
        let slots = t.slots_on(day(2025, 11, 27));
        assert!(slots.iter().all(|s| s.job == Job::RefreshCalendar), "{slots:?}");
        // The day after: a 13:00 close, so the scan is at 12:00 ET.
        let slots = t.slots_on(day(2025, 11, 28));
        assert_eq!(at(&slots, Job::Scan), [utc("2025-11-28T17:00:00Z")]);
        assert_eq!(
            at(&slots, Job::Review),
            [utc("2025-11-28T14:31:00Z"), utc("2025-11-28T14:46:00Z"), utc("2025-11-28T15:16:00Z")]
        );
        // A one-off closure (the national day of mourning, 2025-01-09).
        assert!(t.slots_on(day(2025, 1, 9)).iter().all(|s| s.job == Job::RefreshCalendar));
    }

    #[test]
    fn slots_between_is_half_open_and_ordered() {
        let t = timetable();
        let from = utc("2025-10-30T19:00:00Z");
        let slots = t.slots_between(from, utc("2025-10-31T19:00:00Z"));
        assert_eq!(
            slots.first().map(|s| s.job),
            Some(Job::RefreshCalendar),
            "the scan at `from` is excluded"
        );
        assert_eq!(slots.last().map(|s| (s.job, s.at)), Some((Job::Scan, utc("2025-10-31T19:00:00Z"))));
        assert_eq!(t.next_of(Job::Housekeeping, from).map(|s| s.at), Some(utc("2025-11-02T08:00:00Z")));
    }

    #[test]
    fn catch_up_windows() {
        let t = timetable();
        let scan = Slot { job: Job::Scan, at: utc("2025-11-28T17:00:00Z") };
        assert_eq!(t.catch_up_deadline(&scan), Some(utc("2025-11-28T18:00:00Z")), "until the early close");
        let review = Slot { job: Job::Review, at: utc("2025-11-03T14:31:00Z") };
        assert_eq!(t.catch_up_deadline(&review), Some(utc("2025-11-03T15:30:00Z")), "until 10:30 EST");
        let refresh = Slot { job: Job::RefreshCalendar, at: utc("2025-11-03T11:00:00Z") };
        assert_eq!(t.catch_up_deadline(&refresh), None);
    }

    #[test]
    fn the_exchange_override_moves_the_scan() {
        let mut calendar = NyseCalendar::new();
        let (open, close) =
            (NaiveTime::from_hms_opt(9, 30, 0).unwrap(), NaiveTime::from_hms_opt(13, 0, 0).unwrap());
        calendar.with_override(day(2025, 10, 30), Some((open, close))).unwrap();
        let t = Timetable::new(TimetableConfig::default(), calendar);
        assert_eq!(at(&t.slots_on(day(2025, 10, 30)), Job::Scan), [utc("2025-10-30T16:00:00Z")]);
    }
}

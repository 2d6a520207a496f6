//! Time as ivcd speaks it: Eastern Time (America/New_York, where the NYSE
//! keeps its sessions), ET dates of UTC instants, ET wall-clock times of a
//! date, durations that never panic, and ages for people.
//!
//! Pure and at the bottom of the layers (`docs/ARCHITECTURE.md`): it uses
//! chrono and chrono-tz only, and every module may use it. Reading the
//! current time is [`crate::clock`]'s job, never this module's.

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize, Serializer};

/// The NYSE's time zone, America/New_York (Eastern Time, with daylight
/// saving, from chrono-tz's copy of the IANA database).
pub const NEW_YORK: Tz = chrono_tz::America::New_York;

/// The ET calendar date of an instant.
pub fn et_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&NEW_YORK).date_naive()
}

/// The instant in ET, for display.
pub fn et(at: DateTime<Utc>) -> DateTime<Tz> {
    at.with_timezone(&NEW_YORK)
}

/// The instant of an ET wall-clock time on an ET date. A time skipped by the
/// spring-forward change (02:00-03:00) moves an hour later; a time repeated
/// by the fall-back change takes its first (daylight) instance.
pub fn et_instant(date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = date.and_time(time);
    NEW_YORK
        .from_local_datetime(&local)
        .earliest()
        .or_else(|| NEW_YORK.from_local_datetime(&(local + hours(1))).earliest())
        .map_or_else(|| Utc.from_utc_datetime(&local), |t| t.with_timezone(&Utc))
}

/// `n` seconds as a [`chrono::TimeDelta`], never panicking: a count too
/// large for one is [`chrono::TimeDelta::MAX`]. chrono's own
/// `TimeDelta::seconds` (and `minutes`, `hours`, `days`) panic out of range
/// and `clippy.toml` forbids them; the configuration's bounds keep every
/// configured count far below the saturation point.
pub const fn seconds(n: u64) -> chrono::TimeDelta {
    if n > i64::MAX as u64 {
        return chrono::TimeDelta::MAX;
    }
    match chrono::TimeDelta::try_seconds(n as i64) {
        Some(d) => d,
        None => chrono::TimeDelta::MAX,
    }
}

/// `n` minutes as a [`chrono::TimeDelta`] (see [`seconds`]).
pub const fn minutes(n: u64) -> chrono::TimeDelta {
    seconds(n.saturating_mul(60))
}

/// `n` hours as a [`chrono::TimeDelta`] (see [`seconds`]).
pub const fn hours(n: u64) -> chrono::TimeDelta {
    seconds(n.saturating_mul(3600))
}

/// `n` days of 24 hours as a [`chrono::TimeDelta`] (see [`seconds`]).
pub const fn days(n: u64) -> chrono::TimeDelta {
    seconds(n.saturating_mul(86_400))
}

/// `7h 09m`, `3m`, `2d 4h`: an age in seconds for people (a negative age
/// reads `0m`).
pub fn human_age(seconds: i64) -> String {
    let m = seconds.max(0) / 60;
    let (d, h, m) = (m / 1440, (m / 60) % 24, m % 60);
    match (d, h) {
        (0, 0) => format!("{m}m"),
        (0, _) => format!("{h}h {m:02}m"),
        _ => format!("{d}d {h}h"),
    }
}

/// `2h 03m`, `45s`, `3d 4h`: a duration for people (seconds with one
/// decimal under a minute, else as [`human_age`]).
pub fn human_duration(seconds: f64) -> String {
    if seconds < 60.0 {
        return format!("{seconds:.1}s");
    }
    human_age(seconds.round() as i64)
}

/// A wall-clock time of day in America/New_York, written `"HH:MM"` in the
/// configuration (`[timetable]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct EtTime(pub NaiveTime);

impl EtTime {
    /// `hour:minute` ET. Panics on an impossible time (constants only).
    #[expect(clippy::panic, reason = "for constants: an impossible time fails the build")]
    pub const fn hm(hour: u32, minute: u32) -> Self {
        match NaiveTime::from_hms_opt(hour, minute, 0) {
            Some(t) => Self(t),
            None => panic!("impossible time of day"),
        }
    }
}

impl fmt::Display for EtTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%H:%M"))
    }
}

impl Serialize for EtTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EtTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        NaiveTime::parse_from_str(&text, "%H:%M")
            .map(Self)
            .map_err(|_| serde::de::Error::custom(format!("{text:?} is not a time of day \"HH:MM\" (ET)")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn ages_read_naturally() {
        assert_eq!(human_age(7 * 3600 + 9 * 60), "7h 09m");
        assert_eq!(human_age(180), "3m");
        assert_eq!(human_age(2 * 86400 + 4 * 3600), "2d 4h");
        assert_eq!(human_age(-5), "0m");
        assert_eq!(human_duration(45.04), "45.0s");
        assert_eq!(human_duration(7380.0), "2h 03m");
    }

    #[test]
    fn et_dates_follow_daylight_saving() {
        // 03:30 UTC is still the evening before in New York, in summer and in winter.
        assert_eq!(et_date(utc("2023-07-19T03:30:00Z")), day(2023, 7, 18));
        assert_eq!(et_date(utc("2023-12-19T04:30:00Z")), day(2023, 12, 18));
        assert_eq!(et_date(utc("2023-12-19T05:00:00Z")), day(2023, 12, 19));
    }

    #[test]
    fn et_instants_across_the_changes() {
        // Sun 2026-03-08: spring forward; 02:30 does not exist and moves to 03:30 EDT.
        assert_eq!(
            et_instant(day(2026, 3, 8), NaiveTime::from_hms_opt(2, 30, 0).unwrap()),
            utc("2026-03-08T07:30:00Z")
        );
        // Sun 2025-11-02: fall back; 01:30 happens twice and takes its EDT instance.
        assert_eq!(
            et_instant(day(2025, 11, 2), NaiveTime::from_hms_opt(1, 30, 0).unwrap()),
            utc("2025-11-02T05:30:00Z")
        );
    }

    #[test]
    fn durations_saturate_instead_of_panicking() {
        assert_eq!(days(u64::MAX), chrono::TimeDelta::MAX);
        assert_eq!(minutes(2), chrono::TimeDelta::try_seconds(120).unwrap());
    }
}

//! The NYSE trading-session calendar: which dates are sessions, and when each
//! one opens and closes in America/New_York.
//!
//! Pure: no I/O and no clock. Callers pass the date they ask about.
//!
//! # Rules
//!
//! - Regular session 09:30-16:00 ET, Monday to Friday. Daylight saving comes
//!   from `chrono-tz` ([`crate::time::NEW_YORK`]), so 09:30 ET is 14:30 UTC in winter and
//!   13:30 UTC in summer.
//! - Full holidays: New Year's Day, Martin Luther King, Jr. Day (from 1998),
//!   Washington's Birthday, Good Friday, Memorial Day, Juneteenth (from 2022),
//!   Independence Day, Labor Day, Thanksgiving Day, Christmas Day. A holiday on
//!   a Sunday is observed on the Monday after; a holiday on a Saturday on the
//!   Friday before, except New Year's Day: NYSE Rule 7.2 (formerly Rule 51)
//!   keeps the exchange open on a Friday that ends a monthly or yearly
//!   accounting period, so a Saturday January 1 is not observed at all
//!   (2022-01-01, 2028-01-01).
//! - Early closes at 13:00 ET: the day after Thanksgiving (from 1993),
//!   Christmas Eve on a Monday to Thursday (from 1993), and July 3 on a Monday,
//!   Tuesday or Thursday (from 1995) or a Wednesday (from 2013). From 1995 to
//!   2012 a Wednesday July 3 stayed a full day and the Friday July 5 after the
//!   holiday closed early instead (1996, 2002).
//! - One-off closures and early closes are in two small tables below, each
//!   entry naming its event.
//!
//! # Sources
//!
//! - 1990-2023: the `exchange_calendars` project's NYSE answer key
//!   (`tests/resources/xnys.csv`, every session 1990-01-02..2023-01-13 with its
//!   open and close) and NYSE's own "History of NYSE holidays / special
//!   closings" document (revised January 2011) shipped beside it; the
//!   integration tests check every session of that range.
//! - 2021-2026: Yahoo daily bars of S&P 500 stocks (the integration tests
//!   check that the dates with bars are exactly our sessions), and NYSE's
//!   published holiday and early-closing calendars for 2022-2028.
//! - Later years follow the published rules above. The exchange's own answer
//!   (Tradier's market calendar) can override any single day, see
//!   [`NyseCalendar::with_override`].
//!
//! The rules are meant for 1990..=2099. Before 1990 they extrapolate today's
//! rules and are not the exchange's history (for example the 1985 Hurricane
//! Gloria closure and the election-day closures up to 1980 are absent).
//!
//! Intraday disruptions that were not scheduled sessions are deliberately not
//! encoded, following `xnys.csv`: the delayed openings of 1990-12-27,
//! 1995-12-18, 1996-01-08 (blizzard, also closed at 14:00) and 2002-09-11,
//! the 14:30 snowstorm close of 1994-02-11, the 1997-10-27 circuit-breaker
//! halt and the 16:15 close of 2009-07-02 all appear in NYSE's document but
//! are regular sessions here.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, SecondsFormat, TimeZone, Weekday};
use chrono_tz::Tz;
use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::time::NEW_YORK;

/// Regular opening time, 09:30 ET.
pub const REGULAR_OPEN: NaiveTime = hm(9, 30);

/// Regular closing time, 16:00 ET.
pub const REGULAR_CLOSE: NaiveTime = hm(16, 0);

/// The closing time of a scheduled early close since 1993, 13:00 ET.
pub const EARLY_CLOSE: NaiveTime = hm(13, 0);

/// Explanation given by [`NyseCalendar::holiday_name`] for a weekday that an
/// override closed although the rules have it open.
pub const OVERRIDE_CLOSURE: &str = "Closed by the exchange's calendar (override)";

/// Explanation given by [`NyseCalendar::early_close_name`] for a short
/// session that an override set although the rules have a regular one.
pub const OVERRIDE_EARLY_CLOSE: &str = "Early close set by the exchange's calendar (override)";

/// One-off full-day closures, beyond the holiday rules. Sources: NYSE's
/// historical closings document and `xnys.csv` for 1990-2023 (which shows no
/// other weekday closures in that range), NYSE's notice for 2025.
const SPECIAL_CLOSURES: &[(NaiveDate, &str)] = &[
    (ymd(1994, 4, 27), "Funeral of former President Richard M. Nixon"),
    (ymd(2001, 9, 11), "September 11 attacks on the World Trade Center"),
    (ymd(2001, 9, 12), "September 11 attacks on the World Trade Center"),
    (ymd(2001, 9, 13), "September 11 attacks on the World Trade Center"),
    (ymd(2001, 9, 14), "September 11 attacks on the World Trade Center"),
    (ymd(2004, 6, 11), "National Day of Mourning for former President Ronald Reagan"),
    (ymd(2007, 1, 2), "National Day of Mourning for former President Gerald R. Ford"),
    (ymd(2012, 10, 29), "Hurricane Sandy"),
    (ymd(2012, 10, 30), "Hurricane Sandy"),
    (ymd(2018, 12, 5), "National Day of Mourning for former President George H. W. Bush"),
    (ymd(2025, 1, 9), "National Day of Mourning for former President Jimmy Carter"),
];

/// One-off early closes that the rules do not produce, with their closing
/// time in ET. Source: `xnys.csv` (closes at 19:00 UTC = 14:00 EST, and
/// 18:00 UTC = 13:00 EST), confirmed by NYSE's historical closings document.
const SPECIAL_EARLY_CLOSES: &[(NaiveDate, NaiveTime, &str)] = &[
    // Before 1993 the holiday-eve closes were at 14:00, and there was none on
    // the day after Thanksgiving in 1990 and 1991.
    (ymd(1990, 12, 24), hm(14, 0), "Christmas Eve"),
    (ymd(1991, 12, 24), hm(14, 0), "Christmas Eve"),
    (ymd(1992, 11, 27), hm(14, 0), "Day after Thanksgiving"),
    (ymd(1992, 12, 24), hm(14, 0), "Christmas Eve"),
    // Christmas on a Thursday: the Friday after closed early in 1997 and
    // 2003, but not in 2008 or 2014.
    (ymd(1997, 12, 26), EARLY_CLOSE, "Friday after Christmas"),
    (ymd(1999, 12, 31), EARLY_CLOSE, "New Year's Eve 1999 (Y2K)"),
    (ymd(2003, 12, 26), EARLY_CLOSE, "Friday after Christmas"),
];

/// One NYSE trading session.
///
/// Serializes (serde) as an object with `date` (`"YYYY-MM-DD"`), `open` and
/// `close` (RFC 3339 with the New York offset, e.g.
/// `"2023-07-18T09:30:00-04:00"`) and `early_close` (bool).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The session's date in America/New_York.
    pub date: NaiveDate,
    /// The opening bell, in America/New_York (09:30 ET unless overridden).
    pub open: DateTime<Tz>,
    /// The closing bell, in America/New_York (16:00 ET, or earlier on an
    /// early close).
    pub close: DateTime<Tz>,
    /// Whether the session closes before the regular 16:00 ET.
    pub early_close: bool,
}

impl Serialize for Session {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("Session", 4)?;
        state.serialize_field("date", &self.date.format("%Y-%m-%d").to_string())?;
        state.serialize_field("open", &self.open.to_rfc3339_opts(SecondsFormat::Secs, false))?;
        state.serialize_field("close", &self.close.to_rfc3339_opts(SecondsFormat::Secs, false))?;
        state.serialize_field("early_close", &self.early_close)?;
        state.end()
    }
}

/// Why an override was refused by [`NyseCalendar::with_override`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OverrideError {
    /// The closing time is not after the opening time.
    #[error("calendar override for {date}: close {close} ET is not after open {open} ET")]
    CloseNotAfterOpen {
        /// The overridden date.
        date: NaiveDate,
        /// The opening time given, ET.
        open: NaiveTime,
        /// The closing time given, ET.
        close: NaiveTime,
    },
    /// The time does not name exactly one instant on that date in New York
    /// (it falls in a daylight-saving change, 01:00-03:00 ET).
    #[error("calendar override for {date}: {time} ET is skipped or repeated by a daylight-saving change")]
    NotALocalTime {
        /// The overridden date.
        date: NaiveDate,
        /// The time that could not be placed, ET.
        time: NaiveTime,
    },
}

/// The NYSE calendar: the rules of this module plus per-day overrides from
/// the exchange's own calendar, which win.
///
/// `next_session`/`previous_session` and friends always terminate: the rules
/// never leave more than 7 days between two sessions (the longest gap is
/// 2001-09-10 to 2001-09-17), and there are finitely many overrides.
#[derive(Debug, Clone, Default)]
pub struct NyseCalendar {
    /// Per-day answers from the exchange: `None` = closed, `Some` = that
    /// session.
    overrides: BTreeMap<NaiveDate, Option<Session>>,
}

impl NyseCalendar {
    /// A calendar that follows the rules alone (no overrides).
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the exchange's own answer win for `date`: `None` means closed
    /// all day; `Some((open, close))` means a session with those ET times
    /// (an early close when `close` is before 16:00). Replaces any earlier
    /// override of the same date.
    ///
    /// # Errors
    /// [`OverrideError::CloseNotAfterOpen`] when `close <= open`, and
    /// [`OverrideError::NotALocalTime`] when a time falls in a daylight-saving
    /// change on that date. The calendar is unchanged on error.
    pub fn with_override(
        &mut self,
        date: NaiveDate,
        hours: Option<(NaiveTime, NaiveTime)>,
    ) -> Result<(), OverrideError> {
        let session = match hours {
            None => None,
            Some((open, close)) => {
                if close <= open {
                    return Err(OverrideError::CloseNotAfterOpen { date, open, close });
                }
                let local = |time| new_york(date, time).ok_or(OverrideError::NotALocalTime { date, time });
                Some(Session {
                    date,
                    open: local(open)?,
                    close: local(close)?,
                    early_close: close < REGULAR_CLOSE,
                })
            }
        };
        self.overrides.insert(date, session);
        Ok(())
    }

    /// The overrides in force, by date: `None` = closed, `Some` = the
    /// session the exchange announced.
    pub fn overrides(&self) -> &BTreeMap<NaiveDate, Option<Session>> {
        &self.overrides
    }

    /// The session on `date` (a New York date), or `None` when the exchange
    /// is closed all day. An override for `date` wins over the rules.
    pub fn session(&self, date: NaiveDate) -> Option<Session> {
        match self.overrides.get(&date) {
            Some(overridden) => overridden.clone(),
            None => Self::rule_based_session(date),
        }
    }

    /// The session on `date` according to the rules alone, ignoring every
    /// override: compare it with an override to detect a disagreement with
    /// the exchange.
    pub fn rule_based_session(date: NaiveDate) -> Option<Session> {
        match rule_day(date) {
            RuleDay::Weekend | RuleDay::Closed(_) => None,
            RuleDay::Open { close, early_close } => {
                // Invariant: every rule time lies between 09:30 and 16:00,
                // far from the 02:00 daylight-saving changes, so each names
                // exactly one instant.
                #[expect(
                    clippy::expect_used,
                    reason = "the rule times (09:30 to 16:00) are never in a DST change"
                )]
                let at = |time| new_york(date, time).expect("NYSE rule times are never in a DST change");
                Some(Session {
                    date,
                    open: at(REGULAR_OPEN),
                    close: at(close),
                    early_close: early_close.is_some(),
                })
            }
        }
    }

    /// Whether `date` (New York) is a trading session.
    pub fn is_session(&self, date: NaiveDate) -> bool {
        match self.overrides.get(&date) {
            Some(overridden) => overridden.is_some(),
            None => matches!(rule_day(date), RuleDay::Open { .. }),
        }
    }

    /// The first session strictly after `date`, whatever `date` is.
    ///
    /// # Panics
    /// Only if no session exists before the end of chrono's date range
    /// (year 262143).
    #[expect(clippy::expect_used, reason = "every week of chrono's range has a session under the rules")]
    pub fn next_session(&self, date: NaiveDate) -> NaiveDate {
        std::iter::successors(date.succ_opt(), NaiveDate::succ_opt)
            .find(|&day| self.is_session(day))
            .expect("a session follows every date in chrono's range")
    }

    /// The last session strictly before `date`, whatever `date` is.
    ///
    /// # Panics
    /// Only if no session exists after the start of chrono's date range.
    #[expect(clippy::expect_used, reason = "every week of chrono's range has a session under the rules")]
    pub fn previous_session(&self, date: NaiveDate) -> NaiveDate {
        std::iter::successors(date.pred_opt(), NaiveDate::pred_opt)
            .find(|&day| self.is_session(day))
            .expect("a session precedes every date in chrono's range")
    }

    /// `date` itself when it is a session, else the next session.
    pub fn session_on_or_after(&self, date: NaiveDate) -> NaiveDate {
        if self.is_session(date) { date } else { self.next_session(date) }
    }

    /// `date` itself when it is a session, else the previous session.
    pub fn session_on_or_before(&self, date: NaiveDate) -> NaiveDate {
        if self.is_session(date) { date } else { self.previous_session(date) }
    }

    /// The last session whose daily bar is complete at `as_of`: the session
    /// of `as_of`'s ET date once it has closed, else the previous session.
    pub fn last_completed_session(&self, as_of: DateTime<chrono::Utc>) -> NaiveDate {
        let today = crate::time::et_date(as_of);
        match self.session(today) {
            Some(s) if as_of >= s.close.with_timezone(&chrono::Utc) => today,
            _ => self.previous_session(today),
        }
    }

    /// Every session from `from` to `to`, both included, in date order.
    /// Empty when `from > to`.
    pub fn sessions_between(&self, from: NaiveDate, to: NaiveDate) -> Vec<Session> {
        from.iter_days().take_while(|&day| day <= to).filter_map(|day| self.session(day)).collect()
    }

    /// Why the exchange is closed on a weekday: the holiday's name (an
    /// observed holiday carries the holiday's own name, e.g. 2021-12-24 is
    /// "Christmas Day"), the event of a one-off closure, or
    /// [`OVERRIDE_CLOSURE`]. `None` when `date` is a session or a weekend.
    pub fn holiday_name(&self, date: NaiveDate) -> Option<&'static str> {
        if self.is_session(date) {
            return None;
        }
        match rule_day(date) {
            RuleDay::Weekend => None,
            RuleDay::Closed(name) => Some(name),
            RuleDay::Open { .. } => Some(OVERRIDE_CLOSURE),
        }
    }

    /// Why the session on `date` closes early (e.g. "Day after
    /// Thanksgiving"), [`OVERRIDE_EARLY_CLOSE`] when only an override makes it
    /// short, `None` when `date` is not an early-close session.
    pub fn early_close_name(&self, date: NaiveDate) -> Option<&'static str> {
        if !self.session(date)?.early_close {
            return None;
        }
        match rule_day(date) {
            RuleDay::Open { early_close: Some(name), .. } => Some(name),
            _ => Some(OVERRIDE_EARLY_CLOSE),
        }
    }
}

/// What the rules say about one date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RuleDay {
    /// Saturday or Sunday.
    Weekend,
    /// A weekday without a session, with the holiday's or event's name.
    Closed(&'static str),
    /// A session closing at `close` (ET), named when it is an early close.
    Open { close: NaiveTime, early_close: Option<&'static str> },
}

/// The rules engine: weekend, one-off closure, holiday, early close, or a
/// regular session, in that order.
fn rule_day(date: NaiveDate) -> RuleDay {
    if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
        return RuleDay::Weekend;
    }
    let special_closure = SPECIAL_CLOSURES.iter().find(|(day, _)| *day == date).map(|&(_, name)| name);
    if let Some(name) = special_closure.or_else(|| holiday(date)) {
        return RuleDay::Closed(name);
    }
    let special_early_close =
        SPECIAL_EARLY_CLOSES.iter().find(|(day, _, _)| *day == date).map(|&(_, close, name)| (close, name));
    if let Some((close, name)) = special_early_close {
        return RuleDay::Open { close, early_close: Some(name) };
    }
    if let Some(name) = early_close(date) {
        return RuleDay::Open { close: EARLY_CLOSE, early_close: Some(name) };
    }
    RuleDay::Open { close: REGULAR_CLOSE, early_close: None }
}

/// The full holiday observed on `date` (a weekday), if any.
fn holiday(date: NaiveDate) -> Option<&'static str> {
    let year = date.year();
    let fixed = |month, day| NaiveDate::from_ymd_opt(year, month, day);
    let nth = |month, weekday, n| NaiveDate::from_weekday_of_month_opt(year, month, weekday, n);
    let observed_holidays = [
        // No Saturday observance (NYSE Rule 7.2: December 31 ends the year).
        (fixed(1, 1).and_then(sunday_to_monday), "New Year's Day"),
        ((year >= 1998).then(|| nth(1, Weekday::Mon, 3)).flatten(), "Martin Luther King, Jr. Day"),
        (nth(2, Weekday::Mon, 3), "Washington's Birthday"),
        (easter_sunday(year).and_then(|easter| easter.checked_sub_days(Days::new(2))), "Good Friday"),
        (last_monday_of_may(year), "Memorial Day"),
        (
            (year >= 2022).then(|| fixed(6, 19).and_then(observed)).flatten(),
            "Juneteenth National Independence Day",
        ),
        (fixed(7, 4).and_then(observed), "Independence Day"),
        (nth(9, Weekday::Mon, 1), "Labor Day"),
        (thanksgiving(year), "Thanksgiving Day"),
        (fixed(12, 25).and_then(observed), "Christmas Day"),
    ];
    observed_holidays.into_iter().find(|(day, _)| *day == Some(date)).map(|(_, name)| name)
}

/// The scheduled 13:00 early close on `date` (an open weekday), if any.
fn early_close(date: NaiveDate) -> Option<&'static str> {
    let year = date.year();
    let weekday = date.weekday();
    let (month, day) = (date.month(), date.day());
    if (month, day) == (7, 3) && year >= 1995 {
        // A Friday July 3 is the observed holiday and never gets here.
        let wednesday_allowed = year >= 2013;
        if weekday != Weekday::Wed || wednesday_allowed {
            return Some("Day before Independence Day");
        }
    }
    if (month, day) == (7, 5) && weekday == Weekday::Fri && (1995..=2012).contains(&year) {
        return Some("Day after Independence Day");
    }
    if year >= 1993 && thanksgiving(year).and_then(|t| t.succ_opt()) == Some(date) {
        return Some("Day after Thanksgiving");
    }
    // A Friday December 24 is the observed Christmas and never gets here.
    if (month, day) == (12, 24) && year >= 1993 {
        return Some("Christmas Eve");
    }
    None
}

/// A Saturday holiday moves to the Friday before, a Sunday one to the Monday
/// after.
fn observed(date: NaiveDate) -> Option<NaiveDate> {
    match date.weekday() {
        Weekday::Sat => date.pred_opt(),
        Weekday::Sun => date.succ_opt(),
        _ => Some(date),
    }
}

/// A Sunday holiday moves to the Monday after; a Saturday one is not
/// observed (returned as is, so it never matches a weekday).
fn sunday_to_monday(date: NaiveDate) -> Option<NaiveDate> {
    match date.weekday() {
        Weekday::Sun => date.succ_opt(),
        _ => Some(date),
    }
}

/// Thanksgiving Day: the fourth Thursday of November.
fn thanksgiving(year: i32) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, 11, Weekday::Thu, 4)
}

/// Memorial Day: the last Monday of May.
fn last_monday_of_may(year: i32) -> Option<NaiveDate> {
    let may_31 = NaiveDate::from_ymd_opt(year, 5, 31)?;
    let days_after_monday = may_31.weekday().num_days_from_monday();
    may_31.checked_sub_days(Days::new(days_after_monday.into()))
}

/// Western (Gregorian) Easter Sunday, by the anonymous Gregorian algorithm
/// (Meeus, "Astronomical Algorithms", ch. 8).
fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year.rem_euclid(19);
    let (b, c) = (year.div_euclid(100), year.rem_euclid(100));
    let (d, e) = (b.div_euclid(4), b.rem_euclid(4));
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let (i, k) = (c.div_euclid(4), c.rem_euclid(4));
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let n = h + l - 7 * m + 114;
    let month = u32::try_from(n / 31).ok()?;
    let day = u32::try_from(n % 31 + 1).ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

/// `time` ET on `date` as an instant, or `None` when a daylight-saving change
/// skips or repeats that wall-clock time.
fn new_york(date: NaiveDate, time: NaiveTime) -> Option<DateTime<Tz>> {
    NEW_YORK.from_local_datetime(&date.and_time(time)).single()
}

/// A date for the tables; an invalid one fails at compile time.
#[expect(clippy::panic, reason = "called only in constants: a bad date fails the build, never a run")]
const fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(date) => date,
        None => panic!("invalid date in an NYSE calendar table"),
    }
}

/// The first date the rules are meant for (see the module docs). Every date
/// and instant a command accepts lies between [`FIRST_DATE`] and
/// [`LAST_DATE`], so no date range a user gives is unbounded.
pub const FIRST_DATE: NaiveDate = ymd(1990, 1, 1);

/// The last date the rules are meant for (see [`FIRST_DATE`]).
pub const LAST_DATE: NaiveDate = ymd(2099, 12, 31);

/// A time of day for the constants; an invalid one fails at compile time.
#[expect(clippy::panic, reason = "called only in constants: a bad time fails the build, never a run")]
const fn hm(hour: u32, minute: u32) -> NaiveTime {
    match NaiveTime::from_hms_opt(hour, minute, 0) {
        Some(time) => time,
        None => panic!("invalid time in an NYSE calendar constant"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use proptest::prelude::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().expect("test date")
    }

    fn close_et(calendar: &NyseCalendar, day: &str) -> Option<NaiveTime> {
        calendar.session(date(day)).map(|s| s.close.time())
    }

    #[test]
    fn good_friday_2024_is_closed() {
        let calendar = NyseCalendar::new();
        assert!(!calendar.is_session(date("2024-03-29")));
        assert_eq!(calendar.holiday_name(date("2024-03-29")), Some("Good Friday"));
        assert!(calendar.is_session(date("2024-03-28")));
        assert!(calendar.is_session(date("2024-04-01")));
    }

    #[test]
    fn easter_matches_published_dates() {
        for (year, easter) in [
            (1991, "1991-03-31"),
            (2000, "2000-04-23"),
            (2008, "2008-03-23"),
            (2011, "2011-04-24"),
            (2024, "2024-03-31"),
            (2025, "2025-04-20"),
            (2038, "2038-04-25"),
            (2099, "2099-04-12"),
        ] {
            assert_eq!(easter_sunday(year), Some(date(easter)), "{year}");
        }
    }

    #[test]
    fn saturday_juneteenth_2027_is_observed_on_friday() {
        let calendar = NyseCalendar::new();
        assert_eq!(date("2027-06-19").weekday(), Weekday::Sat);
        assert!(!calendar.is_session(date("2027-06-18")));
        assert_eq!(calendar.holiday_name(date("2027-06-18")), Some("Juneteenth National Independence Day"));
        // Before 2022 Juneteenth was a session (2021-06-18, the Friday
        // before a Saturday Juneteenth, traded normally).
        assert!(calendar.is_session(date("2021-06-18")));
    }

    #[test]
    fn saturday_new_year_is_not_observed_on_friday() {
        let calendar = NyseCalendar::new();
        let session = calendar.session(date("2021-12-31")).expect("2021-12-31 trades");
        assert!(!session.early_close);
        assert_eq!(session.close.time(), REGULAR_CLOSE);
        assert!(calendar.is_session(date("2022-01-03")));
        // Published for 2028: "no New Year's Day holiday is observed".
        assert!(calendar.is_session(date("2027-12-31")));
        // A Sunday New Year moves to Monday.
        assert!(!calendar.is_session(date("2023-01-02")));
    }

    #[test]
    fn next_session_skips_a_holiday_weekend() {
        let calendar = NyseCalendar::new();
        // Memorial Day 2024-05-27.
        assert_eq!(calendar.next_session(date("2024-05-24")), date("2024-05-28"));
        assert_eq!(calendar.next_session(date("2024-05-25")), date("2024-05-28"));
        // Christmas 2021 (Saturday) observed on Friday 2021-12-24.
        assert_eq!(calendar.next_session(date("2021-12-23")), date("2021-12-27"));
        assert_eq!(calendar.session_on_or_after(date("2024-05-27")), date("2024-05-28"));
        assert_eq!(calendar.session_on_or_after(date("2024-05-28")), date("2024-05-28"));
    }

    #[test]
    fn previous_session_skips_holidays() {
        let calendar = NyseCalendar::new();
        assert_eq!(calendar.previous_session(date("2024-07-05")), date("2024-07-03"));
        assert_eq!(calendar.previous_session(date("2025-01-10")), date("2025-01-08"));
        assert_eq!(calendar.previous_session(date("2024-01-02")), date("2023-12-29"));
        assert_eq!(calendar.session_on_or_before(date("2024-01-01")), date("2023-12-29"));
        assert_eq!(calendar.session_on_or_before(date("2024-01-02")), date("2024-01-02"));
    }

    #[test]
    fn early_closes_follow_the_published_rules() {
        let calendar = NyseCalendar::new();
        let one_pm = Some(EARLY_CLOSE);
        let four_pm = Some(REGULAR_CLOSE);
        // 2024: Wednesday July 3 (post-2013 rule), Nov 29, Tuesday Dec 24.
        assert_eq!(close_et(&calendar, "2024-07-03"), one_pm);
        assert_eq!(close_et(&calendar, "2024-11-29"), one_pm);
        assert_eq!(close_et(&calendar, "2024-12-24"), one_pm);
        // 2026: July 3 is the observed holiday and July 2 is a full day;
        // Nov 27 and Thursday Dec 24 close early (NYSE 2026 calendar).
        assert_eq!(close_et(&calendar, "2026-07-02"), four_pm);
        assert_eq!(close_et(&calendar, "2026-11-27"), one_pm);
        assert_eq!(close_et(&calendar, "2026-12-24"), one_pm);
        // 2028: Monday July 3 (NYSE 2028 calendar).
        assert_eq!(close_et(&calendar, "2028-07-03"), one_pm);
        // Pre-2013 Wednesday July 3 stayed full; Friday July 5 closed early.
        assert_eq!(close_et(&calendar, "2002-07-03"), four_pm);
        assert_eq!(close_et(&calendar, "2002-07-05"), one_pm);
        // Christmas on Thursday: 2008-12-26 full, 2003-12-26 one-off.
        assert_eq!(close_et(&calendar, "2008-12-26"), four_pm);
        assert_eq!(close_et(&calendar, "2003-12-26"), one_pm);
        assert_eq!(close_et(&calendar, "1991-12-24"), Some(hm(14, 0)));
        assert_eq!(calendar.early_close_name(date("2024-11-29")), Some("Day after Thanksgiving"));
        assert_eq!(calendar.early_close_name(date("2024-11-27")), None);
    }

    #[test]
    fn daylight_saving_moves_the_utc_open() {
        let calendar = NyseCalendar::new();
        let open_utc = |day| calendar.session(date(day)).map(|s| s.open.with_timezone(&Utc).time());
        // DST began on Sunday 2024-03-10.
        assert_eq!(open_utc("2024-03-08"), Some(hm(14, 30)));
        assert_eq!(open_utc("2024-03-11"), Some(hm(13, 30)));
    }

    #[test]
    fn overrides_win_and_rules_stay_visible() {
        let mut calendar = NyseCalendar::new();
        let day = date("2024-08-07");
        calendar.with_override(day, None).expect("valid override");
        assert!(!calendar.is_session(day));
        assert_eq!(calendar.holiday_name(day), Some(OVERRIDE_CLOSURE));
        assert_eq!(calendar.next_session(date("2024-08-06")), date("2024-08-08"));
        assert!(NyseCalendar::rule_based_session(day).is_some());

        let short = date("2024-08-08");
        calendar.with_override(short, Some((REGULAR_OPEN, hm(12, 0)))).expect("valid override");
        let session = calendar.session(short).expect("open");
        assert!(session.early_close);
        assert_eq!(session.close.time(), hm(12, 0));
        assert_eq!(calendar.early_close_name(short), Some(OVERRIDE_EARLY_CLOSE));
        assert_eq!(calendar.overrides().len(), 2);

        // Opening a holiday.
        calendar
            .with_override(date("2024-12-25"), Some((REGULAR_OPEN, REGULAR_CLOSE)))
            .expect("valid override");
        assert!(calendar.is_session(date("2024-12-25")));
        assert_eq!(calendar.holiday_name(date("2024-12-25")), None);
    }

    #[test]
    fn invalid_overrides_are_refused() {
        let mut calendar = NyseCalendar::new();
        let day = date("2024-08-07");
        assert_eq!(
            calendar.with_override(day, Some((REGULAR_CLOSE, REGULAR_OPEN))),
            Err(OverrideError::CloseNotAfterOpen { date: day, open: REGULAR_CLOSE, close: REGULAR_OPEN })
        );
        // 02:30 did not exist on 2024-03-10 in New York.
        let spring_forward = date("2024-03-10");
        assert_eq!(
            calendar.with_override(spring_forward, Some((hm(2, 30), hm(4, 0)))),
            Err(OverrideError::NotALocalTime { date: spring_forward, time: hm(2, 30) })
        );
        assert!(calendar.overrides().is_empty());
    }

    #[test]
    fn every_rule_session_1990_to_2099_is_well_formed() {
        let calendar = NyseCalendar::new();
        let sessions = calendar.sessions_between(date("1990-01-01"), date("2099-12-31"));
        let allowed_closes = [REGULAR_CLOSE, EARLY_CLOSE, hm(14, 0)];
        for session in &sessions {
            assert_eq!(session.open.date_naive(), session.date);
            assert_eq!(session.open.time(), REGULAR_OPEN, "{}", session.date);
            assert!(allowed_closes.contains(&session.close.time()), "{}", session.date);
            assert_eq!(session.early_close, session.close.time() < REGULAR_CLOSE);
        }
        for pair in sessions.windows(2) {
            let gap = pair[1].date - pair[0].date;
            assert!(gap.num_days() <= 7, "{} -> {}", pair[0].date, pair[1].date);
        }
        // About 252 sessions a year.
        for year in 1990..=2099 {
            let count = sessions.iter().filter(|s| s.date.year() == year).count();
            assert!((245..=254).contains(&count), "{year}: {count} sessions");
        }
    }

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        let first = date("1990-01-08");
        let last = date("2099-12-24");
        let span = u64::try_from((last - first).num_days()).expect("positive span");
        (0..=span).prop_map(move |offset| first + Days::new(offset))
    }

    proptest! {
        #[test]
        fn neighbouring_sessions_are_ordered(day in any_date()) {
            let calendar = NyseCalendar::new();
            let next = calendar.next_session(day);
            let previous = calendar.previous_session(day);
            prop_assert!(next > day && calendar.is_session(next));
            prop_assert!(previous < day && calendar.is_session(previous));
            prop_assert!((next - day).num_days() <= 7);
            prop_assert_eq!(calendar.next_session(previous), calendar.session_on_or_after(day));
            prop_assert_eq!(calendar.previous_session(next), calendar.session_on_or_before(day));
            let between = calendar.sessions_between(previous, next);
            prop_assert!(between.len() == 2 || (between.len() == 3 && between[1].date == day));
        }
    }
}

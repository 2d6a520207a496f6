//! When an earnings release reached the market, from the company's own SEC
//! filing: an 8-K with Item 2.02 ("Results of Operations and Financial
//! Condition") furnishes the release, and EDGAR stamps it with the instant
//! it was accepted (`acceptanceDateTime`, UTC) and a filing date (an EDGAR
//! business day, ET).
//!
//! The rules (issue 23), applied in ET with the NYSE session of the day
//! ([`NyseCalendar`]: 09:30 open, 16:00 close, or the early close):
//!
//! | acceptance (ET)                                    | EDGAR's filing date        | timing | rule |
//! |----------------------------------------------------|----------------------------|--------|------|
//! | before the open                                    | the acceptance day         | BMO on that day | `before_open` |
//! | at or after the close                              | the acceptance day         | AMC on that day | `after_close` |
//! | after the close (EDGAR's cut-off is 17:30)         | a later day, no session between | BMO on the filing date | `evening_dated_next_day` |
//! | on a day the exchange is closed                    | that day, or a later day with no session between | BMO on the filing date | `closed_day` |
//! | during the session                                 | any                        | unknown | `during_market_hours` |
//!
//! Anything else is `unknown` with the rule that says why (an amendment, a
//! session between the acceptance and the filing date, a filing date before
//! the acceptance): never a guess.
//!
//! Why the evening rule is safe: EDGAR dates a filing accepted after 17:30 ET
//! the next business day. PepsiCo files its 8-K the evening before its
//! 06:00 ET release (17:41-19:16 ET, `../shared/data/annanyashah9__accounting-redflag-screen/SOURCE.txt`),
//! so the filing date is the report day and the release is before its open.
//! A company that released after the close and filed late in the evening
//! (Costco 2022-12-08, accepted 18:48 ET, dated 12-09) gets BMO on 12-09,
//! which names the same two sessions as AMC on 12-08 (reference close
//! 12-08, reaction 12-09): the measured move is the same. That holds only
//! when no session lies between the acceptance day and the filing date
//! (an NYSE session on a federal holiday, when EDGAR is closed, would make
//! the two readings differ), so such a filing is `unknown`.
//!
//! Limits: the acceptance instant is when EDGAR took the filing, not when
//! the release crossed the wire. During the session it says nothing
//! (Intel files at 11:00-12:10 ET and releases after the close), so it is
//! `unknown`; some Item 2.02 8-Ks are not earnings releases at all (a
//! mid-quarter update, an acquisition), which the audit shows as
//! disagreements or unmatched filings rather than hides.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::NyseCalendar;
use crate::domain::Timing;

/// The most calendar days between an evening acceptance and the filing
/// date EDGAR gives it: a Friday evening before a Monday holiday is dated
/// Tuesday (4 days); a longer gap is not EDGAR's next business day.
pub const MAX_DATING_GAP_DAYS: i64 = 5;

/// An SEC Central Index Key: the issuer's number on EDGAR, 1 to
/// 9,999,999,999, written with 10 digits in EDGAR's URLs (`CIK0000320193`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct Cik(u64);

/// Why a number or text is not a [`Cik`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CIK {0:?}: expected 1 to 10 digits, not all zero")]
pub struct InvalidCik(pub String);

impl Cik {
    /// The largest CIK (10 digits).
    pub const MAX: u64 = 9_999_999_999;

    /// A CIK from its number.
    ///
    /// # Errors
    /// [`InvalidCik`] for 0 or more than 10 digits.
    pub fn new(number: u64) -> Result<Self, InvalidCik> {
        if (1..=Self::MAX).contains(&number) { Ok(Self(number)) } else { Err(InvalidCik(number.to_string())) }
    }

    /// A CIK from EDGAR's text: digits with or without leading zeros, or
    /// `CIK` followed by them (`"0000320193"`, `"320193"`, `"CIK0000320193"`).
    ///
    /// # Errors
    /// [`InvalidCik`] naming the text.
    pub fn parse(text: &str) -> Result<Self, InvalidCik> {
        let digits = text.trim();
        let digits = digits.strip_prefix("CIK").unwrap_or(digits);
        if digits.is_empty() || digits.len() > 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidCik(text.to_owned()));
        }
        digits.parse::<u64>().map_err(|_| InvalidCik(text.to_owned())).and_then(Self::new)
    }

    /// The number.
    pub fn number(self) -> u64 {
        self.0
    }
}

impl std::fmt::Display for Cik {
    /// Ten digits with leading zeros, as EDGAR writes it (`0000320193`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:010}", self.0)
    }
}

impl TryFrom<u64> for Cik {
    type Error = InvalidCik;
    fn try_from(n: u64) -> Result<Self, Self::Error> {
        Self::new(n)
    }
}

impl From<Cik> for u64 {
    fn from(c: Cik) -> Self {
        c.0
    }
}

/// One EDGAR filing, as the submissions file lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filing {
    /// The accession number, `##########-##-######` (filer id, year, sequence).
    pub accession: String,
    /// The form type as EDGAR writes it (`8-K`, `8-K/A`, `10-Q`, ...).
    pub form: String,
    /// The 8-K items, as EDGAR lists them (`["2.02", "9.01"]`); empty for other forms.
    pub items: Vec<String>,
    /// EDGAR's filing date (ET): the acceptance day, or the next business
    /// day for a filing accepted after 17:30 ET.
    pub filing_date: NaiveDate,
    /// The "period of report" (`reportDate`): for an 8-K, the date of the
    /// event it reports (often the release day), when EDGAR gives one.
    pub period: Option<NaiveDate>,
    /// When EDGAR accepted the filing (UTC).
    pub accepted_at: DateTime<Utc>,
}

impl Filing {
    /// Whether the filing is an 8-K or 8-K/A listing Item 2.02.
    pub fn is_item_202(&self) -> bool {
        self.form.starts_with("8-K") && self.items.iter().any(|i| i == "2.02")
    }

    /// Whether the form is an amendment (`8-K/A`).
    pub fn is_amendment(&self) -> bool {
        self.form.ends_with("/A")
    }

    /// The acceptance instant in America/New_York.
    pub fn accepted_et(&self) -> DateTime<chrono_tz::Tz> {
        crate::time::et(self.accepted_at)
    }
}

/// Which rule decided a filing's timing (stored beside the filing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimingRule {
    /// Accepted before the session opened on its filing date: BMO.
    BeforeOpen,
    /// Accepted at or after the session closed on its filing date: AMC.
    AfterClose,
    /// Accepted after the close and dated by EDGAR a later day with no
    /// session between: BMO on the filing date (PepsiCo files the evening before).
    EveningDatedNextDay,
    /// Accepted on a day the exchange is closed, dated that day or a later
    /// one with no session between: BMO on the filing date (the next
    /// session is the first to trade on it).
    ClosedDay,
    /// Accepted while the exchange was open: says nothing about the release (Intel).
    DuringMarketHours,
    /// An NYSE session lies between the acceptance day and EDGAR's filing
    /// date (or they are more than [`MAX_DATING_GAP_DAYS`] apart): unknown.
    SessionBetween,
    /// EDGAR's filing date is before the acceptance day: not EDGAR's dating; unknown.
    DatedBeforeAcceptance,
    /// An amendment (8-K/A): its acceptance is not the release; unknown.
    Amendment,
    /// Not an 8-K with Item 2.02: not an earnings release; unknown.
    NotItem202,
}

impl TimingRule {
    /// Every rule, in the order of the module's table.
    pub const ALL: [TimingRule; 9] = [
        TimingRule::BeforeOpen,
        TimingRule::AfterClose,
        TimingRule::EveningDatedNextDay,
        TimingRule::ClosedDay,
        TimingRule::DuringMarketHours,
        TimingRule::SessionBetween,
        TimingRule::DatedBeforeAcceptance,
        TimingRule::Amendment,
        TimingRule::NotItem202,
    ];

    /// The code stored in `sec_filings.rule` and printed in JSON.
    pub fn code(self) -> &'static str {
        match self {
            TimingRule::BeforeOpen => "before_open",
            TimingRule::AfterClose => "after_close",
            TimingRule::EveningDatedNextDay => "evening_dated_next_day",
            TimingRule::ClosedDay => "closed_day",
            TimingRule::DuringMarketHours => "during_market_hours",
            TimingRule::SessionBetween => "session_between",
            TimingRule::DatedBeforeAcceptance => "dated_before_acceptance",
            TimingRule::Amendment => "amendment",
            TimingRule::NotItem202 => "not_item_2_02",
        }
    }

    /// The rule of a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
}

impl std::fmt::Display for TimingRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// What a filing says about its release: the report date and timing it
/// implies, and the rule that decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilingTiming {
    /// The report date (ET) the timing belongs to: EDGAR's filing date.
    pub report_date: NaiveDate,
    /// [`Timing::Bmo`], [`Timing::Amc`] or [`Timing::Unknown`] (never DMH).
    pub timing: Timing,
    /// The rule that decided.
    pub rule: TimingRule,
}

impl FilingTiming {
    /// Whether the filing settles the timing (BMO or AMC).
    pub fn is_known(&self) -> bool {
        matches!(self.timing, Timing::Bmo | Timing::Amc)
    }
}

/// The timing an Item 2.02 filing implies, by the rules of the module docs.
///
/// The filing date is the report date in every case; the sessions it
/// implies follow [`crate::analysis::moves::event_sessions`].
///
/// Worked examples (real filings, `../shared/data/annanyashah9__accounting-redflag-screen`):
/// Apple 2025-01-30, accepted 16:30 ET, dated 01-30: AMC (`after_close`);
/// Walmart, accepted 06:57-06:59 ET on its release days: BMO (`before_open`);
/// PepsiCo 2024-02-09, accepted 2024-02-08 18:01 ET, dated 02-09: BMO on
/// 02-09 (`evening_dated_next_day`); Intel 2024-01-25, accepted 11:07 ET:
/// unknown (`during_market_hours`).
pub fn filing_timing(filing: &Filing, calendar: &NyseCalendar) -> FilingTiming {
    let report_date = filing.filing_date;
    let decided = |timing, rule| FilingTiming { report_date, timing, rule };
    let unknown = |rule| decided(Timing::Unknown, rule);
    if !filing.is_item_202() {
        return unknown(TimingRule::NotItem202);
    }
    if filing.is_amendment() {
        return unknown(TimingRule::Amendment);
    }
    let accepted = filing.accepted_et();
    let accepted_day = accepted.date_naive();
    let days_later = (report_date - accepted_day).num_days();
    if days_later < 0 {
        return unknown(TimingRule::DatedBeforeAcceptance);
    }
    if days_later > 0 {
        // EDGAR dated it a later day: only safe when nothing traded in between.
        let session_between = days_later > MAX_DATING_GAP_DAYS
            || accepted_day.succ_opt().is_some_and(|first| {
                first < report_date && calendar.session_on_or_after(first) < report_date
            });
        if session_between {
            return unknown(TimingRule::SessionBetween);
        }
    }
    let Some(session) = calendar.session(accepted_day) else {
        return decided(Timing::Bmo, TimingRule::ClosedDay);
    };
    if accepted < session.open {
        if days_later > 0 {
            // Before the open of a session day, yet dated later: that session
            // traded before the filing date, so the readings differ.
            return unknown(TimingRule::SessionBetween);
        }
        return decided(Timing::Bmo, TimingRule::BeforeOpen);
    }
    if accepted < session.close {
        return unknown(TimingRule::DuringMarketHours);
    }
    if days_later > 0 {
        decided(Timing::Bmo, TimingRule::EveningDatedNextDay)
    } else {
        decided(Timing::Amc, TimingRule::AfterClose)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// A filing with the given acceptance (ET wall time) and filing date.
    fn filing(
        form: &str,
        items: &str,
        accepted_et: (i32, u32, u32, u32, u32),
        filing_date: NaiveDate,
    ) -> Filing {
        let (y, m, day, h, min) = accepted_et;
        let accepted_at = crate::time::NEW_YORK
            .with_ymd_and_hms(y, m, day, h, min, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc);
        Filing {
            accession: "0000000000-00-000000".into(),
            form: form.into(),
            items: items.split(',').map(str::to_owned).collect(),
            filing_date,
            period: None,
            accepted_at,
        }
    }

    fn timing_of(f: &Filing) -> (Timing, TimingRule, NaiveDate) {
        let t = filing_timing(f, &NyseCalendar::new());
        (t.timing, t.rule, t.report_date)
    }

    #[test]
    fn cik_text_and_bounds() {
        assert_eq!(Cik::parse("0000320193").unwrap().to_string(), "0000320193");
        assert_eq!(Cik::parse("CIK0000320193").unwrap().number(), 320_193);
        assert_eq!(Cik::parse("320193").unwrap().to_string(), "0000320193");
        for bad in ["", "0", "0000000000", "12345678901", "32019x", "-1", "CIK"] {
            assert!(Cik::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Cik::new(Cik::MAX + 1).is_err());
    }

    // The acceptance times below are those of real filings (the module docs
    // name them); the boundaries are exercised one minute either side.

    #[test]
    fn before_the_open_is_bmo_and_the_open_itself_is_not() {
        let f = filing("8-K", "2.02,9.01", (2024, 2, 20, 6, 57), d(2024, 2, 20));
        assert_eq!(timing_of(&f), (Timing::Bmo, TimingRule::BeforeOpen, d(2024, 2, 20)));
        let f = filing("8-K", "2.02", (2024, 2, 20, 9, 29), d(2024, 2, 20));
        assert_eq!(timing_of(&f).0, Timing::Bmo);
        let f = filing("8-K", "2.02", (2024, 2, 20, 9, 30), d(2024, 2, 20));
        assert_eq!(timing_of(&f), (Timing::Unknown, TimingRule::DuringMarketHours, d(2024, 2, 20)));
    }

    #[test]
    fn at_or_after_the_close_is_amc_and_an_early_close_counts() {
        let f = filing("8-K", "2.02", (2024, 2, 1, 15, 59), d(2024, 2, 1));
        assert_eq!(timing_of(&f).1, TimingRule::DuringMarketHours);
        let f = filing("8-K", "2.02", (2024, 2, 1, 16, 0), d(2024, 2, 1));
        assert_eq!(timing_of(&f), (Timing::Amc, TimingRule::AfterClose, d(2024, 2, 1)));
        // The day after Thanksgiving 2023 closed at 13:00 ET.
        let f = filing("8-K", "2.02", (2023, 11, 24, 13, 30), d(2023, 11, 24));
        assert_eq!(timing_of(&f).0, Timing::Amc);
    }

    #[test]
    fn an_evening_filing_dated_the_next_day_is_bmo_of_that_day() {
        // PepsiCo: accepted Thu 2024-02-08 18:01 ET, EDGAR date Fri 02-09.
        let f = filing("8-K", "2.02,9.01", (2024, 2, 8, 18, 1), d(2024, 2, 9));
        assert_eq!(timing_of(&f), (Timing::Bmo, TimingRule::EveningDatedNextDay, d(2024, 2, 9)));
        // Friday evening dated Monday: no session between.
        let f = filing("8-K", "2.02", (2024, 2, 9, 18, 0), d(2024, 2, 12));
        assert_eq!(timing_of(&f).0, Timing::Bmo);
        // Friday 2023-10-06 evening dated Tuesday 10-10 (Columbus Day, EDGAR
        // closed): the NYSE traded on Monday 10-09 in between.
        let f = filing("8-K", "2.02", (2023, 10, 6, 18, 0), d(2023, 10, 10));
        assert_eq!(timing_of(&f), (Timing::Unknown, TimingRule::SessionBetween, d(2023, 10, 10)));
    }

    #[test]
    fn closed_days_amendments_and_impossible_dates() {
        // Good Friday 2024-03-29: NYSE closed, EDGAR open.
        let f = filing("8-K", "2.02", (2024, 3, 29, 11, 0), d(2024, 3, 29));
        assert_eq!(timing_of(&f), (Timing::Bmo, TimingRule::ClosedDay, d(2024, 3, 29)));
        let f = filing("8-K/A", "2.02,9.01", (2024, 2, 1, 16, 30), d(2024, 2, 1));
        assert_eq!(timing_of(&f).1, TimingRule::Amendment);
        let f = filing("8-K", "5.02,9.01", (2024, 2, 1, 16, 30), d(2024, 2, 1));
        assert_eq!(timing_of(&f).1, TimingRule::NotItem202);
        let f = filing("8-K", "2.02", (2024, 2, 1, 16, 30), d(2024, 1, 31));
        assert_eq!(timing_of(&f).1, TimingRule::DatedBeforeAcceptance);
        let f = filing("8-K", "2.02", (2024, 2, 1, 8, 0), d(2024, 2, 2));
        assert_eq!(timing_of(&f).1, TimingRule::SessionBetween, "the 02-01 session traded before 02-02");
        let f = filing("8-K", "2.02", (2024, 2, 1, 18, 0), d(2024, 2, 20));
        assert_eq!(timing_of(&f).1, TimingRule::SessionBetween);
    }

    #[test]
    fn rule_codes_round_trip() {
        for rule in TimingRule::ALL {
            assert_eq!(TimingRule::from_code(rule.code()), Some(rule));
        }
        assert_eq!(TimingRule::from_code("guess"), None);
    }
}

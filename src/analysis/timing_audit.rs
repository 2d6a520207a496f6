//! The timing audit of past earnings events: the calendar's timing against
//! two independent witnesses, the company's SEC filing
//! ([`super::filing_timing`]) and the price gaps (the timing check of
//! [`super::moves::TimingCheck`], applied both ways).
//!
//! Two timings agree when they name the same reference and reaction
//! sessions ([`event_sessions`]), not when their labels match: a filing
//! accepted after the close and dated the next day reads "BMO on D+1",
//! which is the same pair of sessions as the calendar's "AMC on D" when D+1
//! is the next session. The move ivcd measures is the same either way.
//!
//! Per event:
//! - **calendar**: the stored event's timing;
//! - **filing**: the Item 2.02 8-K accepted on the report date or dated by
//!   EDGAR on it (the earliest one that settles the timing, else the
//!   earliest); without one, the nearest unclaimed original within
//!   [`NEARBY_FILING_DAYS`], which puts the calendar's date in doubt;
//! - **gap**: BMO when the gap at the report date's open is at least
//!   `min_move` and `ratio` times the gap at the next open (the AMC
//!   reaction), AMC the other way round, unknown otherwise or without bars;
//! - **verdict**: `agree` when the calendar's timing is known and every
//!   known witness names its sessions, `disagree` when a known witness
//!   names others, `unknown` when the calendar or both witnesses say nothing.
//!
//! Where the filing settles the timing, the history window can use it
//! ([`settle_events`], `[sec] history_uses_filing_timing`); [`history_change`]
//! shows what that does to the mean absolute gap.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::HistoryWindow;
use super::filing_timing::{Filing, FilingTiming};
use super::moves::{self, EventSessions, HistoricalMove, TimingCheck};
use crate::calendar::NyseCalendar;
use crate::domain::{DailyBar, EarningsEvent, Timing};

/// Whether two timings name the same sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agreement {
    /// Both known, same reference and reaction sessions.
    Agree,
    /// Both known, different sessions.
    Disagree,
    /// One of them (or both) says nothing.
    Unknown,
}

impl Agreement {
    /// The code stored in `timing_audits` and printed in JSON.
    pub fn code(self) -> &'static str {
        match self {
            Agreement::Agree => "agree",
            Agreement::Disagree => "disagree",
            Agreement::Unknown => "unknown",
        }
    }

    /// The agreement of a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        [Agreement::Agree, Agreement::Disagree, Agreement::Unknown].into_iter().find(|a| a.code() == code)
    }
}

/// The filing matched to an event, with the timing it implies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilingEvidence {
    /// The filing as EDGAR lists it.
    pub filing: Filing,
    /// What it says about the release.
    pub timing: FilingTiming,
}

/// The price gaps around a report date and the timing they point to.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GapEvidence {
    /// open(first session on or after the report date) / close(the session
    /// before it) - 1: the move if the report came before the open, signed fraction.
    pub bmo_gap_move: f64,
    /// open(the session after) / close(last session on or before the report
    /// date) - 1: the move if it came after the close, signed fraction.
    pub amc_gap_move: f64,
    /// BMO, AMC or unknown by the timing check applied both ways.
    pub timing: Timing,
}

/// The audit of one past event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventAudit {
    /// The calendar's report date (ET).
    pub report_date: NaiveDate,
    /// The calendar's timing.
    pub calendar_timing: Timing,
    /// Where the calendar's event came from.
    pub calendar_source: String,
    /// The matched Item 2.02 filing, if any.
    pub filing: Option<FilingEvidence>,
    /// `None` when the filing is on the calendar's date; else how many
    /// days from it the nearest unclaimed filing is (filing minus calendar,
    /// at most [`NEARBY_FILING_DAYS`]): the calendar's date is then in doubt.
    pub filing_days_away: Option<i64>,
    /// The gaps, when the four bars are there.
    pub gap: Option<GapEvidence>,
    /// Calendar against filing.
    pub calendar_vs_filing: Agreement,
    /// Calendar against gap.
    pub calendar_vs_gap: Agreement,
    /// Filing against gap.
    pub filing_vs_gap: Agreement,
    /// The calendar against every known witness (module docs).
    pub verdict: Agreement,
    /// The (report date, timing) the history uses when the filing settles
    /// the timing: the calendar's date with the timing naming the filing's
    /// sessions when one does, else the filing's own date and timing.
    pub settled: Option<(NaiveDate, Timing)>,
}

impl EventAudit {
    /// The filing's timing, `unknown` without a filing.
    pub fn filing_timing(&self) -> Timing {
        self.filing.as_ref().map_or(Timing::Unknown, |f| f.timing.timing)
    }

    /// The gaps' timing, `unknown` without bars.
    pub fn gap_timing(&self) -> Timing {
        self.gap.map_or(Timing::Unknown, |g| g.timing)
    }

    /// One line for people: the three timings, the filing's acceptance
    /// (ET) and rule, the gaps in percent, and the verdict.
    pub fn detail(&self) -> String {
        let away = match self.filing_days_away {
            Some(days) => format!(", {days:+} days from the calendar's date"),
            None => String::new(),
        };
        let filing = match &self.filing {
            Some(f) => format!(
                "filing {} {} {} (accepted {} ET, {}{away})",
                f.timing.timing,
                f.timing.report_date,
                f.filing.accession,
                f.filing.accepted_et().format("%Y-%m-%d %H:%M"),
                f.timing.rule
            ),
            None => "no Item 2.02 filing within a week".to_owned(),
        };
        let gap = match self.gap {
            Some(g) => format!(
                "gap {} (BMO {:+.2}%, AMC {:+.2}%)",
                g.timing,
                g.bmo_gap_move * 100.0,
                g.amc_gap_move * 100.0
            ),
            None => "no bars for the gaps".to_owned(),
        };
        format!(
            "calendar {} {}; {filing}; {gap}: {}",
            self.calendar_timing,
            self.report_date,
            self.verdict.code()
        )
    }
}

/// The sessions of a (date, timing), `None` for unknown or DMH.
fn sessions(calendar: &NyseCalendar, date: NaiveDate, timing: Timing) -> Option<EventSessions> {
    moves::event_sessions(calendar, date, timing)
}

/// Compares two sessions that may be missing.
fn agreement(a: Option<EventSessions>, b: Option<EventSessions>) -> Agreement {
    match (a, b) {
        (Some(a), Some(b)) if a == b => Agreement::Agree,
        (Some(_), Some(_)) => Agreement::Disagree,
        _ => Agreement::Unknown,
    }
}

/// The gaps around `report_date` and their timing (module docs), when the bars are there.
pub fn gap_evidence(
    calendar: &NyseCalendar,
    report_date: NaiveDate,
    bars: &BTreeMap<NaiveDate, DailyBar>,
    check: &TimingCheck,
) -> Option<GapEvidence> {
    let bmo = moves::measure_move(calendar, report_date, Timing::Bmo, bars, check).ok()?;
    let amc_gap_move = bmo.other_session_gap_move?;
    let bmo_gap_move = bmo.gap_move;
    let timing = if check.is_suspect(amc_gap_move, bmo_gap_move)
        && !check.is_suspect(bmo_gap_move, amc_gap_move)
    {
        Timing::Bmo
    } else if check.is_suspect(bmo_gap_move, amc_gap_move) && !check.is_suspect(amc_gap_move, bmo_gap_move) {
        Timing::Amc
    } else {
        Timing::Unknown
    };
    Some(GapEvidence { bmo_gap_move, amc_gap_move, timing })
}

/// How far from the calendar's date a filing may be and still be the
/// event's, in calendar days: a release a week away from the listed date
/// (Costco's listed 2023-06-01, its 8-K 2023-05-25) is the calendar's
/// error, not another event.
pub const NEARBY_FILING_DAYS: i64 = 7;

/// The Item 2.02 filing of an event on `report_date`: among the filings
/// accepted (ET) or dated on that day, the earliest original 8-K whose
/// timing is known, else the earliest original, else the earliest amendment.
fn filing_on_date(report_date: NaiveDate, filings: &[FilingEvidence]) -> Option<&FilingEvidence> {
    let on_date = |f: &&FilingEvidence| {
        f.filing.is_item_202()
            && (f.filing.filing_date == report_date || f.filing.accepted_et().date_naive() == report_date)
    };
    let mut candidates: Vec<&FilingEvidence> = filings.iter().filter(on_date).collect();
    candidates.sort_by_key(|f| (f.filing.is_amendment(), !f.timing.is_known(), f.filing.accepted_at));
    candidates.first().copied()
}

/// The filing matched to each event (by report date): the one on its date
/// ([`filing_on_date`]), else the nearest original Item 2.02 8-K within
/// [`NEARBY_FILING_DAYS`] that no event matched on its date and no other
/// event is as close to, with its distance in days (filing's report date
/// minus the calendar's).
fn match_filings<'f>(
    events: &[EarningsEvent],
    filings: &'f [FilingEvidence],
) -> BTreeMap<NaiveDate, (&'f FilingEvidence, Option<i64>)> {
    let mut matched: BTreeMap<NaiveDate, (&FilingEvidence, Option<i64>)> = BTreeMap::new();
    for event in events {
        if let Some(f) = filing_on_date(event.report_date, filings) {
            matched.insert(event.report_date, (f, None));
        }
    }
    let taken: std::collections::BTreeSet<&str> =
        matched.values().map(|(f, _)| f.filing.accession.as_str()).collect();
    let days = |f: &FilingEvidence, date: NaiveDate| (f.timing.report_date - date).num_days();
    let unmatched: Vec<&EarningsEvent> =
        events.iter().filter(|e| !matched.contains_key(&e.report_date)).collect();
    for event in unmatched {
        let nearest = filings
            .iter()
            .filter(|f| f.filing.is_item_202() && !f.filing.is_amendment())
            .filter(|f| !taken.contains(f.filing.accession.as_str()))
            .filter(|f| days(f, event.report_date).abs() <= NEARBY_FILING_DAYS)
            .filter(|f| {
                let mine = days(f, event.report_date).abs();
                events.iter().all(|other| {
                    other.report_date == event.report_date || days(f, other.report_date).abs() > mine
                })
            })
            .min_by_key(|f| (days(f, event.report_date).abs(), f.filing.accepted_at));
        if let Some(f) = nearest {
            matched.insert(event.report_date, (f, Some(days(f, event.report_date))));
        }
    }
    matched
}

/// The (date, timing) of `event` as `filing` settles it (see [`EventAudit::settled`]).
fn settle(
    calendar: &NyseCalendar,
    event: &EarningsEvent,
    filing: &FilingTiming,
) -> Option<(NaiveDate, Timing)> {
    if !filing.is_known() {
        return None;
    }
    let target = sessions(calendar, filing.report_date, filing.timing)?;
    [Timing::Bmo, Timing::Amc]
        .into_iter()
        .find(|t| sessions(calendar, event.report_date, *t) == Some(target))
        .map_or(Some((filing.report_date, filing.timing)), |t| Some((event.report_date, t)))
}

/// Audits one ticker's past events: those reported on or before
/// `last_session` (ET), oldest first.
///
/// `events` are the ticker's calendar events, `filings` its filings (any
/// form; only Item 2.02 8-Ks are matched) with their timing, `bars` its
/// daily bars by session date.
pub fn audit_events(
    events: &[EarningsEvent],
    filings: &[FilingEvidence],
    bars: &BTreeMap<NaiveDate, DailyBar>,
    calendar: &NyseCalendar,
    check: &TimingCheck,
    last_session: NaiveDate,
) -> Vec<EventAudit> {
    let matched = match_filings(events, filings);
    let mut past: Vec<&EarningsEvent> = events.iter().filter(|e| e.report_date <= last_session).collect();
    past.sort_by_key(|e| e.report_date);
    past.into_iter()
        .map(|event| {
            let found = matched.get(&event.report_date);
            let filing = found.map(|(f, _)| (*f).clone());
            let gap = gap_evidence(calendar, event.report_date, bars, check);
            let calendar_sessions = sessions(calendar, event.report_date, event.timing);
            let filing_sessions =
                filing.as_ref().and_then(|f| sessions(calendar, f.timing.report_date, f.timing.timing));
            let gap_sessions = gap.and_then(|g| sessions(calendar, event.report_date, g.timing));
            let calendar_vs_filing = agreement(calendar_sessions, filing_sessions);
            let calendar_vs_gap = agreement(calendar_sessions, gap_sessions);
            let verdict = match (calendar_vs_filing, calendar_vs_gap) {
                (Agreement::Disagree, _) | (_, Agreement::Disagree) => Agreement::Disagree,
                (Agreement::Agree, _) | (_, Agreement::Agree) => Agreement::Agree,
                _ => Agreement::Unknown,
            };
            EventAudit {
                report_date: event.report_date,
                calendar_timing: event.timing,
                calendar_source: event.source.clone(),
                settled: filing.as_ref().and_then(|f| settle(calendar, event, &f.timing)),
                filing_days_away: found.and_then(|(_, days)| *days),
                filing_vs_gap: agreement(filing_sessions, gap_sessions),
                filing,
                gap,
                calendar_vs_filing,
                calendar_vs_gap,
                verdict,
            }
        })
        .collect()
}

/// Counts of an audit, by comparison and outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditCounts {
    /// Events audited.
    pub events: usize,
    /// Events with a matched Item 2.02 filing.
    pub with_filing: usize,
    /// Events whose filing settles the timing (BMO or AMC).
    pub settled_by_filing: usize,
    /// Events with the four bars of the gaps.
    pub with_gaps: usize,
    /// The verdicts: agree, disagree, unknown.
    pub verdict: BTreeMap<Agreement, usize>,
    /// Calendar against filing.
    pub calendar_vs_filing: BTreeMap<Agreement, usize>,
    /// Calendar against gap.
    pub calendar_vs_gap: BTreeMap<Agreement, usize>,
    /// Filing against gap.
    pub filing_vs_gap: BTreeMap<Agreement, usize>,
    /// Filings' timings by rule code, over the matched filings.
    pub filing_rules: BTreeMap<String, usize>,
}

impl AuditCounts {
    /// Adds `audits` to the counts.
    pub fn add(&mut self, audits: &[EventAudit]) {
        for a in audits {
            self.events += 1;
            if let Some(f) = &a.filing {
                self.with_filing += 1;
                self.settled_by_filing += usize::from(f.timing.is_known());
                *self.filing_rules.entry(f.timing.rule.code().to_owned()).or_default() += 1;
            }
            self.with_gaps += usize::from(a.gap.is_some());
            *self.verdict.entry(a.verdict).or_default() += 1;
            *self.calendar_vs_filing.entry(a.calendar_vs_filing).or_default() += 1;
            *self.calendar_vs_gap.entry(a.calendar_vs_gap).or_default() += 1;
            *self.filing_vs_gap.entry(a.filing_vs_gap).or_default() += 1;
        }
    }
}

/// The events the history measures when the filings settle the timing:
/// each event with its [`EventAudit::settled`] date and timing (source
/// `sec:<accession>`), the others unchanged. An event whose settled date
/// is another event's date is left as the calendar has it.
pub fn settle_events(events: &[EarningsEvent], audits: &[EventAudit]) -> Vec<EarningsEvent> {
    let by_date: BTreeMap<NaiveDate, &EventAudit> = audits.iter().map(|a| (a.report_date, a)).collect();
    settled_with(events, |event| {
        let audit = by_date.get(&event.report_date)?;
        Some((audit.settled?, audit.filing.as_ref()?.filing.accession.clone()))
    })
}

/// [`settle_events`] straight from the filings, without the gaps: what the
/// backfill measures when `[sec] history_uses_filing_timing` is on.
pub fn settled_events(
    events: &[EarningsEvent],
    filings: &[FilingEvidence],
    calendar: &NyseCalendar,
) -> Vec<EarningsEvent> {
    let matched = match_filings(events, filings);
    settled_with(events, |event| {
        let (filing, _) = matched.get(&event.report_date)?;
        Some((settle(calendar, event, &filing.timing)?, filing.filing.accession.clone()))
    })
}

fn settled_with(
    events: &[EarningsEvent],
    settled: impl Fn(&EarningsEvent) -> Option<((NaiveDate, Timing), String)>,
) -> Vec<EarningsEvent> {
    events
        .iter()
        .map(|event| {
            settled(event)
                .filter(|((date, _), _)| {
                    *date == event.report_date || !events.iter().any(|e| e.report_date == *date)
                })
                .map_or_else(
                    || event.clone(),
                    |((report_date, timing), accession)| EarningsEvent {
                        ticker: event.ticker.clone(),
                        report_date,
                        timing,
                        source: format!("sec:{accession}"),
                    },
                )
        })
        .collect()
}

/// The history window with the calendar's timings and with the filings'.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryChange {
    /// The window from the calendar's timings.
    pub calendar: HistoryWindow,
    /// The window from the settled timings.
    pub settled: HistoryWindow,
    /// Report dates (the calendar's) whose timing the filing changed.
    pub changed: Vec<NaiveDate>,
}

impl HistoryChange {
    /// The mean absolute gap of the settled window minus the calendar's,
    /// fraction, when both exist.
    pub fn mean_change(&self) -> Option<f64> {
        Some(self.settled.stats.as_ref()?.mean - self.calendar.stats.as_ref()?.mean)
    }
}

/// Measures the moves of `events` (those with a BMO or AMC timing whose bars are there).
pub fn measure_events(
    events: &[EarningsEvent],
    bars: &BTreeMap<NaiveDate, DailyBar>,
    calendar: &NyseCalendar,
    check: &TimingCheck,
) -> Vec<HistoricalMove> {
    events
        .iter()
        .filter_map(|e| moves::measure_move(calendar, e.report_date, e.timing, bars, check).ok())
        .collect()
}

/// The history window a scan on `before` would use, from the calendar's
/// timings and from the timings the filings settle (see [`settle_events`]),
/// both with the same window length and timing check.
pub fn history_change(
    events: &[EarningsEvent],
    audits: &[EventAudit],
    bars: &BTreeMap<NaiveDate, DailyBar>,
    calendar: &NyseCalendar,
    check: &TimingCheck,
    window_events: usize,
    before: NaiveDate,
) -> HistoryChange {
    let settled_events = settle_events(events, audits);
    let changed = events
        .iter()
        .zip(&settled_events)
        .filter(|(a, b)| (a.report_date, a.timing) != (b.report_date, b.timing))
        .map(|(a, _)| a.report_date)
        .collect();
    let window = |events: &[EarningsEvent]| {
        HistoryWindow::select(&measure_events(events, bars, calendar, check), before, window_events, check)
    };
    HistoryChange { calendar: window(events), settled: window(&settled_events), changed }
}

/// A ticker's timing audit as `ivcd moves TICKER` shows it (`--json`:
/// docs/json.md, "TickerTimingAudit").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TickerTimingAudit {
    /// Each past event's audit (calendar, filing and price-gap timing), oldest first.
    pub events: Vec<EventAudit>,
    /// `[sec] history_uses_filing_timing`: whether the stored moves use the
    /// filings' timings where they settle it.
    pub history_uses_filing_timing: bool,
    /// The calendar's report dates whose date or timing the filings change.
    pub changed: Vec<NaiveDate>,
    /// Mean |gap move| of the history window with the calendar's timings, fraction.
    pub calendar_mean_abs_move: Option<f64>,
    /// Mean |gap move| of the window with the filings' timings, fraction.
    pub settled_mean_abs_move: Option<f64>,
    /// `settled_mean_abs_move - calendar_mean_abs_move`, fraction: the
    /// change the filings make to the history; `None` when
    /// `history_uses_filing_timing` is off, no timing changed, or either
    /// window is empty.
    pub mean_abs_move_change: Option<f64>,
}

/// Audits a ticker's stored `events` (those reported on or before
/// `last_session`) against its `filings` and `bars`, with the history
/// windows a scan after `last_session` would use from the calendar's
/// timings and from the filings' (see [`history_change`]).
#[allow(clippy::too_many_arguments, reason = "the audit's inputs, each a different kind")]
pub fn ticker_timing_audit(
    events: &[EarningsEvent],
    filings: &[FilingEvidence],
    bars: &BTreeMap<NaiveDate, DailyBar>,
    calendar: &NyseCalendar,
    check: &TimingCheck,
    window_events: usize,
    last_session: NaiveDate,
    history_uses_filing_timing: bool,
) -> TickerTimingAudit {
    let audits = audit_events(events, filings, bars, calendar, check, last_session);
    let before = last_session.succ_opt().unwrap_or(last_session);
    let change = history_change(events, &audits, bars, calendar, check, window_events, before);
    let mean = |w: &HistoryWindow| w.stats.as_ref().map(|s| s.mean);
    let mean_abs_move_change =
        if history_uses_filing_timing && !change.changed.is_empty() { change.mean_change() } else { None };
    TickerTimingAudit {
        events: audits,
        history_uses_filing_timing,
        calendar_mean_abs_move: mean(&change.calendar),
        settled_mean_abs_move: mean(&change.settled),
        changed: change.changed,
        mean_abs_move_change,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::filing_timing::{TimingRule, filing_timing};
    use crate::domain::Ticker;
    use chrono::{TimeZone, Utc};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn event(date: NaiveDate, timing: Timing) -> EarningsEvent {
        EarningsEvent {
            ticker: Ticker::new("COST").unwrap(),
            report_date: date,
            timing,
            source: "test".into(),
        }
    }

    fn evidence(accepted_et: (i32, u32, u32, u32, u32), filing_date: NaiveDate) -> FilingEvidence {
        let (y, m, day, h, min) = accepted_et;
        let filing = Filing {
            accession: "0000909832-22-000001".into(),
            form: "8-K".into(),
            items: vec!["2.02".into(), "9.01".into()],
            filing_date,
            period: None,
            accepted_at: crate::time::NEW_YORK
                .with_ymd_and_hms(y, m, day, h, min, 0)
                .single()
                .unwrap()
                .with_timezone(&Utc),
        };
        let timing = filing_timing(&filing, &NyseCalendar::new());
        FilingEvidence { filing, timing }
    }

    #[test]
    fn an_evening_filing_dated_next_day_agrees_with_the_calendars_amc() {
        // Costco 2022-12-08: the calendar says AMC on 12-08; the 8-K was
        // accepted 18:48 ET and dated 12-09, so it reads BMO on 12-09: the
        // same sessions (reference 12-08, reaction 12-09).
        let cal = NyseCalendar::new();
        let filings = [evidence((2022, 12, 8, 18, 48), d(2022, 12, 9))];
        assert_eq!(filings[0].timing.rule, TimingRule::EveningDatedNextDay);
        let audits = audit_events(
            &[event(d(2022, 12, 8), Timing::Amc)],
            &filings,
            &BTreeMap::new(),
            &cal,
            &TimingCheck::default(),
            d(2023, 1, 31),
        );
        assert_eq!(audits.len(), 1);
        assert_eq!(audits[0].calendar_vs_filing, Agreement::Agree);
        assert_eq!(audits[0].verdict, Agreement::Agree);
        assert_eq!(audits[0].settled, Some((d(2022, 12, 8), Timing::Amc)), "the calendar's date is kept");
        assert_eq!(audits[0].gap, None);
    }

    #[test]
    fn a_filing_before_the_open_contradicts_an_amc_calendar() {
        let cal = NyseCalendar::new();
        let filings = [evidence((2023, 12, 14, 6, 58), d(2023, 12, 14))];
        let events = [event(d(2023, 12, 14), Timing::Amc), event(d(2024, 3, 7), Timing::Unknown)];
        let audits =
            audit_events(&events, &filings, &BTreeMap::new(), &cal, &TimingCheck::default(), d(2024, 6, 1));
        assert_eq!(audits[0].verdict, Agreement::Disagree);
        assert_eq!(audits[0].settled, Some((d(2023, 12, 14), Timing::Bmo)));
        assert_eq!(audits[1].verdict, Agreement::Unknown, "no filing, no bars, no calendar timing");
        let settled = settle_events(&events, &audits);
        assert_eq!(settled[0].timing, Timing::Bmo);
        assert_eq!(settled[0].source, "sec:0000909832-22-000001");
        assert_eq!(settled[1], events[1]);
    }
}

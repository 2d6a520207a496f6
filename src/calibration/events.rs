//! From the parsed files to one record per recorded report: its timing
//! ([`super::timing`]) and its judgement ([`super::judge`]). Pure: no I/O.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::judge::{self, JudgeParams, Judgement, RecordedEvent};
use super::timing::{self, BarsVerdict, CalendarClaim, TimingBasis, TimingParams, TimingResolution};
use crate::calendar::NyseCalendar;
use crate::domain::{DailyBar, EarningsEvent, Ticker, Timing};
use crate::providers::files::earnings_watcher::RecordedImpliedMove;

/// What the calendars say, by ticker and report date: each source's distinct claims.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Claims(pub HashMap<Ticker, BTreeMap<NaiveDate, Vec<CalendarClaim>>>);

impl Claims {
    /// Collects the claims of `events` (any calendars, any order): one claim
    /// per (source, timing) per event, sorted.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a EarningsEvent>) -> Self {
        let mut map: HashMap<Ticker, BTreeMap<NaiveDate, Vec<CalendarClaim>>> = HashMap::new();
        for e in events {
            let claims = map.entry(e.ticker.clone()).or_default().entry(e.report_date).or_default();
            let claim = CalendarClaim { source: e.source.clone(), timing: e.timing };
            if !claims.contains(&claim) {
                claims.push(claim);
            }
        }
        for claims in map.values_mut().flat_map(BTreeMap::values_mut) {
            claims.sort_by(|a, b| {
                (a.source.as_str(), a.timing.code()).cmp(&(b.source.as_str(), b.timing.code()))
            });
        }
        Self(map)
    }

    /// The claims on one event (none when no calendar lists it on that date).
    pub fn on(&self, ticker: &Ticker, report_date: NaiveDate) -> &[CalendarClaim] {
        self.0.get(ticker).and_then(|dates| dates.get(&report_date)).map_or(&[], Vec::as_slice)
    }

    /// The reports of `ticker` that the calendars time unanimously (BMO or
    /// AMC), by date.
    pub fn timed(&self, ticker: &Ticker) -> Vec<(NaiveDate, Timing)> {
        let Some(dates) = self.0.get(ticker) else { return Vec::new() };
        dates
            .iter()
            .filter_map(|(date, claims)| {
                let mut stated =
                    claims.iter().map(|c| c.timing).filter(|t| matches!(t, Timing::Bmo | Timing::Amc));
                let first = stated.next()?;
                stated.all(|t| t == first).then_some((*date, first))
            })
            .collect()
    }
}

/// Everything the calibration reads, parsed.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// The recorded reports.
    pub recorded: Vec<RecordedImpliedMove>,
    /// The calendars' claims.
    pub claims: Claims,
    /// Daily bars by ticker (split-adjusted), by session date.
    pub bars: HashMap<Ticker, BTreeMap<NaiveDate, DailyBar>>,
}

/// Why an event is not judged, or `judged`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Judged: its timing is decided and its reaction session's bars exist.
    Judged,
    /// A bar it needs is missing (no file for the ticker, or outside the bars' dates).
    NoBars,
    /// Its timing stays ambiguous: left out.
    AmbiguousTiming,
}

impl Status {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Status::Judged => "judged",
            Status::NoBars => "no_bars",
            Status::AmbiguousTiming => "ambiguous_timing",
        }
    }

    /// Reads a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        [Status::Judged, Status::NoBars, Status::AmbiguousTiming].into_iter().find(|s| s.code() == code)
    }
}

/// One recorded report with everything decided about it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    /// The reporting company.
    pub ticker: Ticker,
    /// The report date (ET).
    pub report_date: NaiveDate,
    /// The recorded implied move, percent as printed.
    pub implied_move_pct: Decimal,
    /// The recorded close-to-close move, percent as printed.
    pub close_move_pct: Decimal,
    /// The recorded peak move, percent as printed.
    pub peak_move_pct: Decimal,
    /// How its timing was decided.
    pub timing: TimingResolution,
    /// Judged or why not.
    pub status: Status,
    /// What is missing, in words, when not judged.
    pub reason: Option<String>,
    /// The judgement, when the reference session's bar exists.
    pub judgement: Option<Judgement>,
}

/// The settings of [`evaluate`].
#[derive(Debug, Clone, Copy)]
pub struct EvaluateParams<'a> {
    /// The timing rule's tolerances.
    pub timing: TimingParams,
    /// The judgement's settings.
    pub judge: JudgeParams<'a>,
}

/// Decides the timing of every recorded report and judges it. Records come
/// out sorted by ticker and report date, whatever the order of `inputs`.
pub fn evaluate(inputs: &Inputs, calendar: &NyseCalendar, params: &EvaluateParams<'_>) -> Vec<EventRecord> {
    let empty = BTreeMap::new();
    let mut by_ticker: BTreeMap<&Ticker, Vec<&RecordedImpliedMove>> = BTreeMap::new();
    for r in &inputs.recorded {
        by_ticker.entry(&r.ticker).or_default().push(r);
    }
    let mut out = Vec::with_capacity(inputs.recorded.len());
    for (ticker, mut rows) in by_ticker {
        rows.sort_by_key(|r| r.report_date);
        let bars = inputs.bars.get(ticker).unwrap_or(&empty);
        let resolutions: Vec<TimingResolution> = rows
            .iter()
            .map(|r| {
                timing::resolve(
                    calendar,
                    r.report_date,
                    r.close_move(),
                    r.peak_move(),
                    inputs.claims.on(ticker, r.report_date),
                    bars,
                    &params.timing,
                )
            })
            .collect();
        let events: Vec<RecordedEvent> = rows
            .iter()
            .zip(&resolutions)
            .filter_map(|(r, res)| {
                Some(RecordedEvent {
                    ticker: ticker.clone(),
                    report_date: r.report_date,
                    implied_move: r.implied_move(),
                    timing: res.timing?,
                    basis: res.basis,
                })
            })
            .collect();
        let recorded_dates: Vec<NaiveDate> = rows.iter().map(|r| r.report_date).collect();
        let timed = inputs.claims.timed(ticker);
        let mut others = judge::calendar_only(&timed, &recorded_dates);
        // A recorded report left out still happened: in later windows it
        // counts with its calendar timing, as the scan would measure it.
        others.extend(
            rows.iter()
                .zip(&resolutions)
                .filter(|(_, res)| res.timing.is_none())
                .filter_map(|(r, _)| timed.iter().find(|(date, _)| *date == r.report_date).copied()),
        );
        let mut judgements: HashMap<NaiveDate, Judgement> =
            judge::judge_ticker(calendar, &events, &others, bars, &params.judge)
                .into_iter()
                .map(|j| (j.report_date, j))
                .collect();
        for (r, res) in rows.iter().zip(resolutions) {
            let judgement = judgements.remove(&r.report_date);
            let (status, reason) = status_of(&res, judgement.as_ref(), bars.is_empty());
            out.push(EventRecord {
                ticker: ticker.clone(),
                report_date: r.report_date,
                implied_move_pct: r.implied_move_pct,
                close_move_pct: r.close_move_pct,
                peak_move_pct: r.peak_move_pct,
                timing: res,
                status,
                reason,
                judgement,
            });
        }
    }
    out
}

fn status_of(
    res: &TimingResolution,
    judgement: Option<&Judgement>,
    no_bars_at_all: bool,
) -> (Status, Option<String>) {
    if no_bars_at_all {
        return (Status::NoBars, Some("no daily bars for the ticker".to_owned()));
    }
    let Some(timing) = res.timing else {
        if res.basis == TimingBasis::DatasetSessionDoubtful {
            return (Status::AmbiguousTiming, Some(doubtful_reason(res)));
        }
        if res.bmo.is_none() || res.amc.is_none() {
            let which = if res.bmo.is_none() { "BMO" } else { "AMC" };
            return (
                Status::NoBars,
                Some(format!("timing unknown, and the bars of its {which} session are missing")),
            );
        }
        if let Some(note) = &res.note {
            return (Status::AmbiguousTiming, Some(note.clone()));
        }
        let why = match &res.bars {
            BarsVerdict::CannotTell { why } => why.clone(),
            _ => String::new(),
        };
        return (Status::AmbiguousTiming, Some(format!("no calendar times it, and {why}")));
    };
    match judgement {
        Some(j) if j.outcome.is_some() => (Status::Judged, None),
        Some(j) => (
            Status::NoBars,
            Some(format!("no daily bar for the reaction session {} ({timing})", j.sessions.reaction_session)),
        ),
        None => (Status::NoBars, Some(format!("no daily bar for the reference session ({timing})"))),
    }
}

/// Why a dataset session is doubtful, with both sessions' sizes.
fn doubtful_reason(res: &TimingResolution) -> String {
    let size = |f: Option<&timing::SessionFit>| f.map_or(f64::NAN, |f| f.size() * 100.0);
    let measured = match &res.bars {
        BarsVerdict::Says { timing, .. } => *timing,
        _ => Timing::Unknown,
    };
    format!(
        "the recorded close move is the {measured} session's, which moved {:.1}% while the other moved {:.1}%: \
         the dataset likely measured the wrong session (its implied move may be from after the report)",
        size(if measured == Timing::Bmo { res.bmo.as_ref() } else { res.amc.as_ref() }),
        size(if measured == Timing::Bmo { res.amc.as_ref() } else { res.bmo.as_ref() }),
    )
}

/// The counts of each timing basis among `records` whose bars exist (events
/// of tickers without bars cannot be checked and are counted apart).
pub fn basis_counts(records: &[EventRecord]) -> BTreeMap<TimingBasis, usize> {
    let mut out: BTreeMap<TimingBasis, usize> = TimingBasis::ALL.into_iter().map(|b| (b, 0)).collect();
    for r in records.iter().filter(|r| !matches!(r.timing.bars, BarsVerdict::NoBars)) {
        *out.entry(r.timing.basis).or_default() += 1;
    }
    out
}

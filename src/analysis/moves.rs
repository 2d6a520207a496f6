//! Historical earnings moves: which two sessions an event is measured
//! between, and the gap and close-to-close moves between them.
//!
//! Source: `../shared/docs/domain.md` §1-2. For a report on date D:
//!
//! | timing | reference close           | reaction session        |
//! |--------|---------------------------|-------------------------|
//! | BMO    | the session before D      | D (or the next session) |
//! | AMC    | D (or the session before) | the session after D     |
//!
//! "Before/after" means NYSE sessions, never calendar days.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::calendar::NyseCalendar;
use crate::domain::{DailyBar, Timing};

/// The text stored with every move, naming the definition used (domain.md §2).
pub const MOVE_DEFINITION: &str =
    "gap = open(reaction) / close(reference) - 1; close_to_close = close(reaction) / close(reference) - 1";

/// The pair of sessions an earnings event is measured between.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSessions {
    /// The session whose close is the last price before the news (ET date).
    pub reference_session: NaiveDate,
    /// The first session that trades on the news (ET date).
    pub reaction_session: NaiveDate,
}

/// Finds the reference and reaction sessions of a report on `report_date`.
///
/// Returns `None` for [`Timing::Unknown`] and [`Timing::Dmh`]: without a
/// timing the reaction session cannot be known, and guessing it is the most
/// common bug of earnings tools (domain.md §1).
///
/// A BMO report on a non-session day reacts at the next session; an AMC
/// report on a non-session day has the last session before it as reference.
pub fn event_sessions(
    calendar: &NyseCalendar,
    report_date: NaiveDate,
    timing: Timing,
) -> Option<EventSessions> {
    match timing {
        Timing::Bmo => {
            let reaction_session = calendar.session_on_or_after(report_date);
            Some(EventSessions {
                reference_session: calendar.previous_session(reaction_session),
                reaction_session,
            })
        }
        Timing::Amc => {
            let reference_session = calendar.session_on_or_before(report_date);
            Some(EventSessions {
                reference_session,
                reaction_session: calendar.next_session(reference_session),
            })
        }
        Timing::Dmh | Timing::Unknown => None,
    }
}

/// One past event's measured move. Prices in USD per share as the bars gave
/// them (split-adjusted bars, so a split does not look like a move); moves are
/// signed fractions of the reference close (0.1304 = +13.04%).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoricalMove {
    /// The report date (ET).
    pub report_date: NaiveDate,
    /// BMO or AMC.
    pub timing: Timing,
    /// The sessions the move is measured between.
    #[serde(flatten)]
    pub sessions: EventSessions,
    /// Close of the reference session, USD.
    pub reference_close: Decimal,
    /// Open of the reaction session, USD.
    pub reaction_open: Decimal,
    /// High of the reaction session, USD (extra information, not a move).
    pub reaction_high: Decimal,
    /// Low of the reaction session, USD (extra information, not a move).
    pub reaction_low: Decimal,
    /// Close of the reaction session, USD.
    pub reaction_close: Decimal,
    /// open(reaction) / close(reference) - 1, signed fraction.
    pub gap_move: f64,
    /// close(reaction) / close(reference) - 1, signed fraction.
    pub close_to_close_move: f64,
    /// The gap the other timing would imply (BMO <-> AMC), signed fraction,
    /// when its bars are stored. See [`TimingCheck`].
    pub other_session_gap_move: Option<f64>,
    /// The larger gap falls on the other session than the stated timing
    /// implies (calendar sanity, [`TimingCheck`]); left out of the means
    /// unless `include_suspect` is set.
    pub timing_suspect: bool,
}

/// Calendar sanity for past events (the `[analysis.timing_check]` settings).
///
/// A calendar can state the wrong timing: the trading-desk calendar lists
/// CVNA 2023-11-02 as after the close, but the stock gapped at the 11-02
/// open. An event is *timing-suspect* when the gap at the session the other
/// timing implies is at least `min_move` in absolute value and at least
/// `ratio` times the stated gap's absolute value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimingCheck {
    /// How many times larger the other session's |gap| must be (default 2.0).
    pub ratio: f64,
    /// The smallest other-session |gap| that can make an event suspect,
    /// fraction (default 0.05 = 5%): below it both gaps can be ordinary noise
    /// or a market-wide move (AMZN 2025-05-01 gapped 3.4% at the open
    /// before its report, with the market).
    pub min_move: f64,
    /// Count suspect events in the historical means anyway (default false).
    pub include_suspect: bool,
}

impl Default for TimingCheck {
    fn default() -> Self {
        Self { ratio: 2.0, min_move: 0.05, include_suspect: false }
    }
}

impl TimingCheck {
    /// Whether a stated gap and the other session's gap (signed fractions)
    /// make the stated timing suspect.
    ///
    /// Worked example (CVNA 2023-11-02, listed AMC): stated gap at the 11-03
    /// open against the 11-02 close is small, the gap at the 11-02 open
    /// against the 11-01 close is large, so the event is suspect.
    pub fn is_suspect(&self, stated_gap: f64, other_gap: f64) -> bool {
        other_gap.abs() >= self.min_move && other_gap.abs() >= self.ratio * stated_gap.abs()
    }
}

/// Why a past event has no measured move.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoveGap {
    /// The event's timing is unknown or during market hours.
    #[error("timing {0} does not tell the reaction session")]
    NoTiming(Timing),
    /// A needed daily bar is not stored.
    #[error("no daily bar for the {which} session {date}")]
    MissingBar {
        /// `reference` or `reaction`.
        which: &'static str,
        /// The session date.
        date: NaiveDate,
    },
    /// The reference close is zero or negative, so no ratio exists.
    #[error("reference close {0} is not positive")]
    BadReferenceClose(Decimal),
}

/// Measures one past event from daily bars keyed by session date.
///
/// # Errors
/// [`MoveGap`] when the timing is unknown, a bar is missing, or the
/// reference close is not positive. Nothing is estimated in its place.
///
/// The gap at the other timing's sessions (AMC <-> BMO on the same report
/// date) is measured too when its bars are stored, and `check` decides
/// whether the stated timing is suspect.
pub fn measure_move(
    calendar: &NyseCalendar,
    report_date: NaiveDate,
    timing: Timing,
    bars: &BTreeMap<NaiveDate, DailyBar>,
    check: &TimingCheck,
) -> Result<HistoricalMove, MoveGap> {
    let sessions = event_sessions(calendar, report_date, timing).ok_or(MoveGap::NoTiming(timing))?;
    let reference = bars
        .get(&sessions.reference_session)
        .ok_or(MoveGap::MissingBar { which: "reference", date: sessions.reference_session })?;
    let reaction = bars
        .get(&sessions.reaction_session)
        .ok_or(MoveGap::MissingBar { which: "reaction", date: sessions.reaction_session })?;
    if reference.close <= Decimal::ZERO {
        return Err(MoveGap::BadReferenceClose(reference.close));
    }
    let gap_move = relative_change(reaction.open, reference.close);
    let other_timing = match timing {
        Timing::Bmo => Timing::Amc,
        _ => Timing::Bmo,
    };
    let other_session_gap_move = event_sessions(calendar, report_date, other_timing).and_then(|other| {
        let reference = bars.get(&other.reference_session)?;
        let reaction = bars.get(&other.reaction_session)?;
        (reference.close > Decimal::ZERO).then(|| relative_change(reaction.open, reference.close))
    });
    Ok(HistoricalMove {
        report_date,
        timing,
        sessions,
        reference_close: reference.close,
        reaction_open: reaction.open,
        reaction_high: reaction.high,
        reaction_low: reaction.low,
        reaction_close: reaction.close,
        gap_move,
        close_to_close_move: relative_change(reaction.close, reference.close),
        other_session_gap_move,
        timing_suspect: other_session_gap_move.is_some_and(|other| check.is_suspect(gap_move, other)),
    })
}

/// `to / from - 1` as a fraction; `from` must be positive.
pub(crate) fn relative_change(to: Decimal, from: Decimal) -> f64 {
    // Decimal division keeps 28 significant digits; f64 is ample for a ratio.
    (to / from - Decimal::ONE).to_f64().unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn bmo_reacts_on_the_report_date() {
        let cal = NyseCalendar::new();
        // CVNA reported before the open on Wed 2023-07-19.
        let s = event_sessions(&cal, d(2023, 7, 19), Timing::Bmo).unwrap();
        assert_eq!(s.reference_session, d(2023, 7, 18));
        assert_eq!(s.reaction_session, d(2023, 7, 19));
    }

    #[test]
    fn friday_amc_reacts_on_monday() {
        let cal = NyseCalendar::new();
        let s = event_sessions(&cal, d(2023, 7, 21), Timing::Amc).unwrap();
        assert_eq!(s.reference_session, d(2023, 7, 21));
        assert_eq!(s.reaction_session, d(2023, 7, 24));
    }

    #[test]
    fn amc_before_a_holiday_reacts_after_it() {
        let cal = NyseCalendar::new();
        // Thu 2024-03-28 after the close; Good Friday 03-29 is closed.
        let s = event_sessions(&cal, d(2024, 3, 28), Timing::Amc).unwrap();
        assert_eq!(s.reaction_session, d(2024, 4, 1));
        // Mon 2024-02-20 BMO after Presidents Day: reference is Fri 02-16.
        let s = event_sessions(&cal, d(2024, 2, 20), Timing::Bmo).unwrap();
        assert_eq!(s.reference_session, d(2024, 2, 16));
    }

    #[test]
    fn unknown_timing_has_no_sessions() {
        let cal = NyseCalendar::new();
        assert_eq!(event_sessions(&cal, d(2023, 7, 19), Timing::Unknown), None);
        assert_eq!(event_sessions(&cal, d(2023, 7, 19), Timing::Dmh), None);
    }

    fn bar(date: NaiveDate, open: Decimal, close: Decimal) -> (NaiveDate, DailyBar) {
        (date, DailyBar { date, open, high: open.max(close), low: open.min(close), close, volume: None })
    }

    #[test]
    fn gap_and_close_moves_from_bars() {
        let cal = NyseCalendar::new();
        // Worked example with CVNA's bars around 2023-07-19: close 39.80 on
        // 07-18, open 53.99 and close 55.80 on 07-19.
        // gap = 53.99 / 39.80 - 1 = 0.356533...; close = 55.80 / 39.80 - 1 = 0.402010...
        let bars: BTreeMap<_, _> =
            [bar(d(2023, 7, 18), dec!(36.60), dec!(39.80)), bar(d(2023, 7, 19), dec!(53.99), dec!(55.80))]
                .into_iter()
                .collect();
        let check = TimingCheck::default();
        let m = measure_move(&cal, d(2023, 7, 19), Timing::Bmo, &bars, &check).unwrap();
        assert!((m.gap_move - 0.356_532_663).abs() < 1e-9, "{}", m.gap_move);
        assert!((m.close_to_close_move - 0.402_010_050).abs() < 1e-9);
        assert_eq!(m.other_session_gap_move, None, "no bar for 07-20, the AMC reaction");
        assert!(!m.timing_suspect);
        let missing = measure_move(&cal, d(2023, 7, 19), Timing::Amc, &bars, &check).unwrap_err();
        assert_eq!(missing, MoveGap::MissingBar { which: "reaction", date: d(2023, 7, 20) });
    }
}

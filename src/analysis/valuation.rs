//! The review's valuation of one scanned event at the open of its reaction
//! session (`../shared/docs/domain.md` §7, `docs/review.md`): the opening
//! price against the reference close (the realized gap, set against the
//! implied move), each proposed structure's exit value and P&L at natural
//! prices and at mids, and the IV crush at the straddle's strike. Pure: the
//! review job fetches the quote, the bars and the exit chain, and stores
//! what this returns.
//!
//! Exit quotes count only when they were taken during the reaction session;
//! otherwise the structures are valued at intrinsic value from the open and
//! labelled (a bound for short options only, an estimate with long wings).
//! A stock without an opening price is pending, never given one.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use super::structures::{self, ExitBasis, ExitValue, Leg, PnL, Structure, StructureKind};
use crate::calendar::Session;
use crate::domain::{ChainSnapshot, DailyBar, UnderlyingQuote};
use crate::time::et;

/// Where a price of the review came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceSource {
    /// The underlying quote taken at the review (its open or previous close).
    Quote,
    /// A daily bar (stored, or fetched for the review).
    DailyBar,
}

impl PriceSource {
    /// The code stored in `reviews.open_source` and `reviews.reference_source`
    /// and printed in JSON: `quote` or `daily_bar`.
    pub fn code(self) -> &'static str {
        match self {
            PriceSource::Quote => "quote",
            PriceSource::DailyBar => "daily_bar",
        }
    }

    /// Reads a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "quote" => Some(PriceSource::Quote),
            "daily_bar" => Some(PriceSource::DailyBar),
            _ => None,
        }
    }
}

/// One proposed structure's outcome at the open.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StructureOutcome {
    /// Which structure.
    pub kind: StructureKind,
    /// Its legs with their quotes at the scan.
    pub legs: Vec<Leg>,
    /// Shares per contract.
    pub contract_size: u32,
    /// How the exit was valued: `quotes`, `bound` (intrinsic, short options
    /// only: the real P&L is at most the figure) or `intrinsic_estimate`.
    pub basis: ExitBasis,
    /// Why the exit is not quote-based, when it is not.
    pub exit_note: Option<String>,
    /// At natural prices: credit (short bids - long asks), debit (short asks
    /// - long bids), P&L per share and per contract, USD.
    pub natural: PnL,
    /// At mids.
    pub mid: PnL,
}

/// What the scan left of an event for its review.
#[derive(Debug, Clone, Copy)]
pub struct ScannedEvent<'a> {
    /// The last session before the news (ET).
    pub reference_session: NaiveDate,
    /// The session that trades on the news (ET).
    pub reaction_session: NaiveDate,
    /// The event's expiration (the structures' legs), when the scan had a chain.
    pub expiration: Option<NaiveDate>,
    /// The implied move at the scan, fraction.
    pub implied_move: Option<f64>,
    /// The structures the scan proposed, with their legs' quotes at the scan.
    pub structures: &'a [Structure],
}

/// The opening price of the reaction session and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opening {
    /// The opening price, USD.
    pub price: Decimal,
    /// The quote's `open` (taken during today's session), else the bar's.
    pub source: PriceSource,
    /// The underlying's bid at the review, USD, when quoted.
    pub bid: Option<Decimal>,
    /// The underlying's ask at the review, USD, when quoted.
    pub ask: Option<Decimal>,
}

/// Why a review has no exit chain of the reaction session's open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoExitChain {
    /// The review runs after the reaction session: no quotes of that open.
    #[error("reviewed after its reaction session {0}: no quotes of that open")]
    AfterReaction(NaiveDate),
    /// The scan had no expiration (no chain).
    #[error("the scan had no expiration")]
    NoExpiration,
    /// The chain the provider has was not taken during today's session.
    #[error("no chain taken at the open of {date} (the latest is from {latest})")]
    NotAtTheOpen {
        /// Today's session.
        date: NaiveDate,
        /// When the chain was taken, ET, as `Tue 2023-07-18 07:51 EDT`.
        latest: String,
    },
    /// The provider failed: its error's text (already redacted).
    #[error("no exit chain: {0}")]
    Provider(String),
}

/// The exit chain as the review job has it.
#[derive(Debug, Clone, Copy)]
pub enum ExitInput<'a> {
    /// Not needed: no structures, or no opening price.
    NotNeeded,
    /// Needed but missing, and why.
    Missing(&'a NoExitChain),
    /// The chain of the event's expiration taken now.
    Fetched(&'a ChainSnapshot),
}

/// Whether the review needs an exit chain for `event` on `today`, and of
/// which expiration: `Ok(None)` without structures, `Ok(Some(expiration))`
/// to fetch, `Err` when none can serve (after the reaction session, or no
/// expiration at the scan).
///
/// # Errors
/// [`NoExitChain::AfterReaction`], [`NoExitChain::NoExpiration`].
pub fn exit_expiration(event: &ScannedEvent<'_>, today: &Session) -> Result<Option<NaiveDate>, NoExitChain> {
    if event.structures.is_empty() {
        return Ok(None);
    }
    if event.reaction_session != today.date {
        return Err(NoExitChain::AfterReaction(event.reaction_session));
    }
    event.expiration.map(Some).ok_or(NoExitChain::NoExpiration)
}

/// The opening price of the reaction session: the quote's `open` when the
/// quote was taken during today's session (before the bell a vendor may
/// still show the previous open), else the reaction session's bar.
pub fn opening(
    event: &ScannedEvent<'_>,
    today: &Session,
    quote: Option<&UnderlyingQuote>,
    bars: &BTreeMap<NaiveDate, DailyBar>,
) -> Option<Opening> {
    quote
        .filter(|q| opened_today(q, today))
        .and_then(|q| q.open.map(|open| (q, open)))
        .map(|(q, price)| Opening { price, source: PriceSource::Quote, bid: q.bid, ask: q.ask })
        .or_else(|| {
            bars.get(&event.reaction_session).map(|b| Opening {
                price: b.open,
                source: PriceSource::DailyBar,
                bid: quote.and_then(|q| q.bid),
                ask: quote.and_then(|q| q.ask),
            })
        })
}

fn opened_today(q: &UnderlyingQuote, today: &Session) -> bool {
    q.as_of.is_some_and(|t| t >= today.open.with_timezone(&Utc))
}

/// What [`value`] reads.
#[derive(Debug, Clone, Copy)]
pub struct ValuationInputs<'a> {
    /// The event as scanned.
    pub event: ScannedEvent<'a>,
    /// Today's session (the review's).
    pub today: &'a Session,
    /// The underlying quote taken at the review, when the reaction session is today.
    pub quote: Option<&'a UnderlyingQuote>,
    /// Bars of the reference and reaction sessions, when stored or fetched.
    pub bars: &'a BTreeMap<NaiveDate, DailyBar>,
    /// Warnings from fetching the bars (e.g. `daily bars unavailable: ...`).
    pub bar_warnings: &'a [String],
    /// The exit chain.
    pub exit: ExitInput<'a>,
}

/// The review's figures of one event. Moves are fractions, money USD.
#[derive(Debug, Clone, PartialEq)]
pub struct Valuation {
    /// The opening price; `None`: the review is pending.
    pub opening: Option<Opening>,
    /// The reference session's close and where it came from.
    pub reference: Option<(Decimal, PriceSource)>,
    /// open / reference close - 1, signed fraction.
    pub realized_move: Option<f64>,
    /// |realized move| / implied move.
    pub move_ratio: Option<f64>,
    /// Whether the stock moved more than implied.
    pub outside: Option<bool>,
    /// When the exit quotes were taken (UTC), when they were used.
    pub exit_as_of: Option<DateTime<Utc>>,
    /// Each structure's outcome (empty while pending).
    pub structures: Vec<StructureOutcome>,
    /// ATM IV at the scan (the straddle legs' mean), annualised fraction.
    pub iv_entry: Option<f64>,
    /// ATM IV at the review, same strike and expiration.
    pub iv_exit: Option<f64>,
    /// (IV entry - IV exit) / IV entry, fraction.
    pub iv_crush: Option<f64>,
    /// Why the review is pending or not (fully) quote-based.
    pub reason: Option<String>,
    /// Caveats.
    pub warnings: Vec<String>,
}

/// Values one event at the open. Never fails: a missing input is a reason.
pub fn value(inputs: &ValuationInputs<'_>) -> Valuation {
    let ValuationInputs { event, today, quote, bars, .. } = *inputs;
    let mut warnings: Vec<String> = inputs.bar_warnings.to_vec();
    let reaction_is_today = event.reaction_session == today.date;
    let reference =
        bars.get(&event.reference_session).map(|b| (b.close, PriceSource::DailyBar)).or_else(|| {
            quote
                .filter(|q| opened_today(q, today))
                .and_then(|q| q.prev_close)
                .filter(|_| reaction_is_today)
                .map(|c| (c, PriceSource::Quote))
        });
    let mut v = Valuation {
        opening: None,
        reference,
        realized_move: None,
        move_ratio: None,
        outside: None,
        exit_as_of: None,
        structures: Vec::new(),
        iv_entry: None,
        iv_exit: None,
        iv_crush: None,
        reason: None,
        warnings: Vec::new(),
    };
    let Some(opening) = opening(&event, today, quote, bars) else {
        let why = match quote {
            Some(_) => "the quote has no opening price: halted or a delayed open".to_owned(),
            None if warnings.is_empty() => format!("no quote and no daily bar of {}", event.reaction_session),
            None => format!("no quote, and {}", warnings.join("; ")),
        };
        v.reason = Some(format!(
            "no opening price for {} yet ({why}); retried at the next review slot",
            event.reaction_session
        ));
        v.warnings = warnings;
        return v;
    };
    v.opening = Some(opening);
    match reference {
        Some((close, _)) => {
            v.realized_move = structures::realized_move(opening.price, close);
            if let (Some(realized), Some(implied)) =
                (v.realized_move, event.implied_move.filter(|m| *m > 0.0))
            {
                v.move_ratio = Some(realized.abs() / implied);
                v.outside = Some(realized.abs() > implied);
            }
        }
        None => warnings.push(format!("no close of the reference session {}", event.reference_session)),
    }

    // The exit chain: only quotes taken during the reaction session count.
    let (exit, exit_reason) = match inputs.exit {
        ExitInput::NotNeeded => (None, None),
        ExitInput::Missing(why) => (None, Some(why.to_string())),
        ExitInput::Fetched(s) => {
            let (open, close) = (today.open.with_timezone(&Utc), today.close.with_timezone(&Utc));
            if s.as_of >= open && s.as_of <= close {
                (Some(s), None)
            } else {
                let latest = et(s.as_of).format("%a %Y-%m-%d %H:%M %Z").to_string();
                (None, Some(NoExitChain::NotAtTheOpen { date: today.date, latest }.to_string()))
            }
        }
    };
    v.exit_as_of = exit.map(|s| s.as_of);
    let mut intrinsic_notes = Vec::new();
    for s in event.structures {
        // Only the structure's own expiration's quotes value its legs.
        let quoted = exit.map(|snapshot| structures::exit_with_quotes(s, &snapshot.expiration(s.expiration)));
        let (value, note) = match quoted {
            Some(Ok(value)) => (value, None),
            Some(Err(e)) => {
                intrinsic_notes.push(format!("{}: {e}", s.kind.label()));
                (structures::exit_at_intrinsic(s, opening.price), Some(e.to_string()))
            }
            None => (structures::exit_at_intrinsic(s, opening.price), exit_reason.clone()),
        };
        v.structures.push(outcome(s, value, note));
    }
    if let Some(straddle) = event.structures.iter().find(|s| s.kind == StructureKind::ShortStraddle) {
        v.iv_entry = entry_iv(straddle);
        if let (Some(strike), Some(snapshot)) = (straddle.straddle_strike(), exit) {
            v.iv_exit = structures::atm_iv(&snapshot.expiration(straddle.expiration), strike);
        }
        if let (Some(entry), Some(exit)) = (v.iv_entry, v.iv_exit) {
            v.iv_crush = structures::iv_crush(entry, exit);
        }
    }
    let intrinsic = v.structures.iter().any(|s| s.basis != ExitBasis::Quotes);
    v.reason = match (exit_reason, intrinsic) {
        (Some(r), true) => Some(format!("{r}; structures valued at intrinsic value from the open")),
        (None, true) => {
            Some(format!("valued at intrinsic value from the open: {}", intrinsic_notes.join("; ")))
        }
        _ => None,
    };
    v.warnings = warnings;
    v
}

/// The straddle's IV at the scan: the mean of its two legs' IVs.
fn entry_iv(straddle: &Structure) -> Option<f64> {
    match straddle.legs.iter().filter_map(|l| l.entry_iv).collect::<Vec<f64>>().as_slice() {
        [call, put] => Some((call + put) / 2.0),
        _ => None,
    }
}

fn outcome(s: &Structure, exit: ExitValue, note: Option<String>) -> StructureOutcome {
    StructureOutcome {
        kind: s.kind,
        legs: s.legs.clone(),
        contract_size: s.contract_size,
        basis: exit.basis,
        exit_note: note.filter(|_| exit.basis != ExitBasis::Quotes),
        natural: structures::pnl(s, s.entry_natural(), exit.natural),
        mid: structures::pnl(s, s.entry_mid(), exit.mid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::NyseCalendar;

    fn date(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2023, 7, d).unwrap()
    }

    fn event(structures: &[Structure]) -> ScannedEvent<'_> {
        ScannedEvent {
            reference_session: date(18),
            reaction_session: date(19),
            expiration: Some(date(21)),
            implied_move: Some(0.1296),
            structures,
        }
    }

    #[test]
    fn without_an_opening_price_the_review_waits_and_says_why() {
        let today = NyseCalendar::new().session(date(19)).unwrap();
        let bars = BTreeMap::new();
        let inputs = |bar_warnings: &'static [String]| ValuationInputs {
            event: event(&[]),
            today: &today,
            quote: None,
            bars: &bars,
            bar_warnings,
            exit: ExitInput::NotNeeded,
        };
        let v = value(&inputs(&[]));
        assert_eq!(v.opening, None);
        assert_eq!(
            v.reason.as_deref(),
            Some(
                "no opening price for 2023-07-19 yet (no quote and no daily bar of 2023-07-19); retried at the next review slot"
            )
        );
        assert!(v.structures.is_empty() && v.realized_move.is_none());
    }

    #[test]
    fn an_exit_chain_serves_only_its_reaction_session() {
        let calendar = NyseCalendar::new();
        let (on_the_day, later) = (calendar.session(date(19)).unwrap(), calendar.session(date(20)).unwrap());
        assert_eq!(exit_expiration(&event(&[]), &on_the_day), Ok(None), "nothing to value");
        let straddle = Structure {
            kind: StructureKind::ShortStraddle,
            expiration: date(21),
            contract_size: 100,
            legs: Vec::new(),
        };
        let structures = [straddle];
        assert_eq!(exit_expiration(&event(&structures), &on_the_day), Ok(Some(date(21))));
        assert_eq!(
            exit_expiration(&event(&structures), &later).map_err(|e| e.to_string()),
            Err("reviewed after its reaction session 2023-07-19: no quotes of that open".to_owned())
        );
    }
}

//! The short-volatility structures a scan proposes, and what they are worth
//! at the open of the reaction session.
//!
//! Source: `../shared/docs/domain.md` §7 (review P&L), §3 (usable quotes).
//!
//! - **Short straddle**: sell the call and the put at the listed strike
//!   nearest the spot.
//! - **Short strangle**: sell the put at the listed strike nearest
//!   S x (1 - implied move) and the call nearest S x (1 + implied move), both
//!   out of the money.
//! - **Iron condor**: the strangle's short strikes, plus a long put and a
//!   long call `wing_steps` listed strikes further out.
//!
//! Prices are USD per share, exact decimals. "Natural" prices cross the
//! spread (sell at the bid, buy at the ask); "mid" prices use (bid + ask) / 2.
//! A leg needs a usable quote (bid > 0, ask > 0, ask >= bid) to be traded.
//!
//! P&L per share = entry credit - exit debit, where
//! - entry credit (natural) = sum of short bids - sum of long asks;
//! - exit debit (natural) = sum of short asks - sum of long bids;
//! - the mid figures use mids on both sides.
//!
//! An iron condor cannot lose more than its wider wing minus its credit
//! (held to expiration, the spreads pay at most their width), so its P&L is
//! floored there; the figure says when the floor applied.
//!
//! When no usable exit quotes exist, the exit is valued at intrinsic value
//! from the opening price. For a structure of short options only (straddle,
//! strangle) that is a bound: an American option is worth at least its
//! intrinsic value, so the real P&L is at most the figure. For the condor the
//! long wings' time value works the other way, so the figure is only an
//! estimate (still within the maximum loss).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::domain::{ExpirationChain, OptionQuote, OptionRight};

/// The default contract multiplier: 100 shares per option contract.
pub const DEFAULT_CONTRACT_SIZE: u32 = 100;

/// Which structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StructureKind {
    /// Short call and short put at the ATM strike.
    ShortStraddle,
    /// Short OTM put and short OTM call about one implied move away.
    ShortStrangle,
    /// The strangle with a long put and a long call further out.
    IronCondor,
}

impl StructureKind {
    /// Every kind, in the order reports list them.
    pub const ALL: [StructureKind; 3] =
        [StructureKind::ShortStraddle, StructureKind::ShortStrangle, StructureKind::IronCondor];

    /// The stored code: `short_straddle`, `short_strangle`, `iron_condor`.
    pub fn code(self) -> &'static str {
        match self {
            StructureKind::ShortStraddle => "short_straddle",
            StructureKind::ShortStrangle => "short_strangle",
            StructureKind::IronCondor => "iron_condor",
        }
    }

    /// Reads a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// `short straddle`, `short strangle`, `iron condor`.
    pub fn label(self) -> &'static str {
        match self {
            StructureKind::ShortStraddle => "short straddle",
            StructureKind::ShortStrangle => "short strangle",
            StructureKind::IronCondor => "iron condor",
        }
    }
}

/// Sold or bought.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Sold to open (bought back to close).
    Short,
    /// Bought to open (sold to close).
    Long,
}

impl Side {
    /// `short` or `long`.
    pub fn code(self) -> &'static str {
        match self {
            Side::Short => "short",
            Side::Long => "long",
        }
    }

    /// Reads a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "short" => Some(Side::Short),
            "long" => Some(Side::Long),
            _ => None,
        }
    }
}

/// One option of a structure, with its quote when the structure was proposed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Leg {
    /// Short or long, one contract per leg.
    pub side: Side,
    /// Call or put.
    pub right: OptionRight,
    /// Strike, USD.
    pub strike: Decimal,
    /// Bid at entry, USD per share.
    pub entry_bid: Decimal,
    /// Ask at entry, USD per share.
    pub entry_ask: Decimal,
    /// The vendor's implied volatility at entry (annualised fraction), if quoted.
    pub entry_iv: Option<f64>,
}

impl Leg {
    fn entry_mid(&self) -> Decimal {
        (self.entry_bid + self.entry_ask) / Decimal::TWO
    }

    /// Intrinsic value at underlying price `s`, USD per share.
    pub fn intrinsic(&self, s: Decimal) -> Decimal {
        match self.right {
            OptionRight::Call => (s - self.strike).max(Decimal::ZERO),
            OptionRight::Put => (self.strike - s).max(Decimal::ZERO),
        }
    }
}

/// A proposed structure: its legs (one contract each) in one expiration.
/// Serialized with its entry credits (`entry_natural`, `entry_mid`) and, for
/// the condor, `wing_width` (USD per share).
#[derive(Debug, Clone, PartialEq)]
pub struct Structure {
    /// Which structure.
    pub kind: StructureKind,
    /// The expiration of every leg (the event's expiration).
    pub expiration: NaiveDate,
    /// Shares per contract (100 unless the chain says otherwise).
    pub contract_size: u32,
    /// The legs: puts before calls, lower strikes first.
    pub legs: Vec<Leg>,
}

impl Serialize for Structure {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct View<'a> {
            kind: StructureKind,
            expiration: NaiveDate,
            contract_size: u32,
            entry_natural: Decimal,
            entry_mid: Decimal,
            wing_width: Option<Decimal>,
            legs: &'a [Leg],
        }
        View {
            kind: self.kind,
            expiration: self.expiration,
            contract_size: self.contract_size,
            entry_natural: self.entry_natural(),
            entry_mid: self.entry_mid(),
            wing_width: self.wing_width(),
            legs: &self.legs,
        }
        .serialize(serializer)
    }
}

impl Structure {
    /// Entry credit at natural prices: short bids - long asks, USD per share.
    pub fn entry_natural(&self) -> Decimal {
        self.legs
            .iter()
            .map(|l| match l.side {
                Side::Short => l.entry_bid,
                Side::Long => -l.entry_ask,
            })
            .sum()
    }

    /// Entry credit at mid prices, USD per share.
    pub fn entry_mid(&self) -> Decimal {
        self.legs
            .iter()
            .map(|l| match l.side {
                Side::Short => l.entry_mid(),
                Side::Long => -l.entry_mid(),
            })
            .sum()
    }

    /// The iron condor's wider wing: the larger distance between a short
    /// strike and its long wing, USD per share. `None` for other structures.
    pub fn wing_width(&self) -> Option<Decimal> {
        if self.kind != StructureKind::IronCondor {
            return None;
        }
        [OptionRight::Put, OptionRight::Call]
            .into_iter()
            .filter_map(|right| {
                let short = self.legs.iter().find(|l| l.right == right && l.side == Side::Short)?;
                let long = self.legs.iter().find(|l| l.right == right && l.side == Side::Long)?;
                Some((short.strike - long.strike).abs())
            })
            .max()
    }

    /// The maximum loss for an entry `credit`: wing width - credit, USD per
    /// share. `None` for the unbounded short straddle and strangle.
    ///
    /// Example: a condor 31.5/32 put spread and 41.5/42 call spread (width
    /// 0.50) opened for 0.10 can lose at most 0.40 per share, $40 a contract.
    pub fn max_loss(&self, credit: Decimal) -> Option<Decimal> {
        self.wing_width().map(|w| w - credit)
    }

    /// The strike of the straddle (its call and put share it), if this is one.
    pub fn straddle_strike(&self) -> Option<Decimal> {
        (self.kind == StructureKind::ShortStraddle).then(|| self.legs.first().map(|l| l.strike)).flatten()
    }

    /// The value of the structure at intrinsic prices for underlying price
    /// `s` (what closing it would cost if every option traded at intrinsic),
    /// USD per share.
    pub fn intrinsic(&self, s: Decimal) -> Decimal {
        self.legs
            .iter()
            .map(|l| match l.side {
                Side::Short => l.intrinsic(s),
                Side::Long => -l.intrinsic(s),
            })
            .sum()
    }

    /// Whether every leg is short (so intrinsic value bounds the exit).
    pub fn short_only(&self) -> bool {
        self.legs.iter().all(|l| l.side == Side::Short)
    }
}

/// What the scan could propose for one candidate.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Proposals {
    /// The structures that could be built, straddle first.
    pub structures: Vec<Structure>,
    /// Why a structure could not be built, for the user.
    pub notes: Vec<String>,
}

/// Proposes the short straddle, short strangle and iron condor from one
/// expiration's `chain` (every leg is of `chain`'s expiration), with spot `spot` (USD) and `implied_move`
/// (fraction). `wing_steps` is how many listed strikes beyond each short
/// strike the condor's wings sit (1 = the next listed strike).
///
/// Worked example (CVNA, Cboe chain 2023-07-18 07:51 ET, expiration
/// 2023-07-21, S = 36.83, implied move 12.96%):
/// - straddle at 37 (nearest to 36.83): call 2.13/2.20, put 2.57/2.70;
///   credit 4.70 natural, 4.80 mid;
/// - strangle: 36.83 x 0.8704 = 32.06 gives the 32 put (0.55/0.60),
///   36.83 x 1.1296 = 41.60 the 41.5 call (0.87/0.98); credit 1.42
///   natural, 1.50 mid;
/// - condor: wings at 31.5 (put 0.45/0.47) and 42 (call 0.80/0.85); credit
///   0.55 + 0.87 - 0.47 - 0.85 = 0.10 natural, 0.215 mid; width 0.50.
pub fn propose(
    chain: &ExpirationChain<'_>,
    spot: Decimal,
    implied_move: f64,
    wing_steps: usize,
) -> Proposals {
    let mut out = Proposals::default();
    let expiration = chain.expiration();
    let contract_size = chain.contract_size().unwrap_or(DEFAULT_CONTRACT_SIZE);
    let make = |kind, legs: Vec<Leg>| Structure { kind, expiration, contract_size, legs };
    let usable = |right: OptionRight, strike: Decimal| -> Option<&OptionQuote> {
        chain.iter().find(|c| c.right == right && c.strike == strike && c.mid().is_some())
    };
    let leg = |side, q: &OptionQuote| Leg {
        side,
        right: q.right,
        strike: q.strike,
        entry_bid: q.bid.unwrap_or_default(),
        entry_ask: q.ask.unwrap_or_default(),
        entry_iv: q.iv.filter(|iv| iv.is_finite() && *iv > 0.0),
    };
    let (puts, calls) = (chain.strikes(OptionRight::Put), chain.strikes(OptionRight::Call));

    // The straddle: the nearest strike with both legs usable (ties: the lower).
    let atm = calls
        .iter()
        .filter(|k| puts.contains(k))
        .filter(|k| usable(OptionRight::Call, **k).is_some() && usable(OptionRight::Put, **k).is_some())
        .min_by_key(|k| ((**k - spot).abs(), **k))
        .copied();
    match atm {
        Some(k) => {
            let (call, put) = (usable(OptionRight::Call, k), usable(OptionRight::Put, k));
            if let (Some(call), Some(put)) = (call, put) {
                out.structures.push(make(
                    StructureKind::ShortStraddle,
                    vec![leg(Side::Short, put), leg(Side::Short, call)],
                ));
            }
        }
        None => out.notes.push("no short straddle: no strike with a usable call and put".into()),
    }

    // The strangle's short strikes: nearest to one implied move away, out of the money.
    let Some(m) = Decimal::from_f64_retain(implied_move).filter(|m| *m > Decimal::ZERO) else {
        out.notes.push("no short strangle or iron condor: no implied move".into());
        return out;
    };
    let nearest =
        |strikes: &[Decimal], right: OptionRight, target: Decimal, otm: &dyn Fn(Decimal) -> bool| {
            strikes
                .iter()
                .copied()
                .filter(|k| otm(*k) && usable(right, *k).is_some())
                // Ties go to the strike further out of the money.
                .min_by_key(|k| ((*k - target).abs(), if right == OptionRight::Put { *k } else { -*k }))
        };
    let short_put = nearest(&puts, OptionRight::Put, spot * (Decimal::ONE - m), &|k| k < spot);
    let short_call = nearest(&calls, OptionRight::Call, spot * (Decimal::ONE + m), &|k| k > spot);
    let (Some(sp), Some(sc)) = (short_put, short_call) else {
        out.notes.push(format!(
            "no short strangle or iron condor: no usable out-of-the-money {} near one implied move",
            if short_put.is_none() { "put" } else { "call" }
        ));
        return out;
    };
    let (sp_q, sc_q) = (usable(OptionRight::Put, sp), usable(OptionRight::Call, sc));
    let (Some(sp_q), Some(sc_q)) = (sp_q, sc_q) else { return out };
    out.structures
        .push(make(StructureKind::ShortStrangle, vec![leg(Side::Short, sp_q), leg(Side::Short, sc_q)]));

    // The condor's wings: `wing_steps` listed strikes further out.
    let steps = wing_steps.max(1);
    let long_put = puts.iter().rev().filter(|k| **k < sp).nth(steps - 1).copied();
    let long_call = calls.iter().filter(|k| **k > sc).nth(steps - 1).copied();
    match (
        long_put.and_then(|k| usable(OptionRight::Put, k)),
        long_call.and_then(|k| usable(OptionRight::Call, k)),
    ) {
        (Some(lp), Some(lc)) => out.structures.push(make(
            StructureKind::IronCondor,
            vec![leg(Side::Long, lp), leg(Side::Short, sp_q), leg(Side::Short, sc_q), leg(Side::Long, lc)],
        )),
        (lp, _) => out.notes.push(format!(
            "no iron condor: no usable {} {steps} listed strike(s) beyond the short {}",
            if lp.is_none() { "put" } else { "call" },
            if lp.is_none() { sp } else { sc },
        )),
    }
    out
}

/// How an exit value was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitBasis {
    /// From quotes of every leg taken during the reaction session.
    Quotes,
    /// At intrinsic value from the opening price, for a structure of short
    /// options only: the real P&L is at most the figure.
    Bound,
    /// At intrinsic value, for a structure with long legs: an estimate.
    IntrinsicEstimate,
}

impl ExitBasis {
    /// `quotes`, `bound` or `intrinsic_estimate`.
    pub fn code(self) -> &'static str {
        match self {
            ExitBasis::Quotes => "quotes",
            ExitBasis::Bound => "bound",
            ExitBasis::IntrinsicEstimate => "intrinsic_estimate",
        }
    }

    /// Reads a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        [ExitBasis::Quotes, ExitBasis::Bound, ExitBasis::IntrinsicEstimate]
            .into_iter()
            .find(|b| b.code() == code)
    }
}

/// What closing a structure costs, USD per share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitValue {
    /// How it was obtained.
    pub basis: ExitBasis,
    /// Debit to close at natural prices (short asks - long bids).
    pub natural: Decimal,
    /// Debit to close at mids.
    pub mid: Decimal,
}

/// Why a structure has no exit value from quotes; the text is the note its
/// outcome keeps (`exit_note`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoExitQuote {
    /// The quotes are of another expiration than the structure's.
    #[error("the exit quotes are of {chain}, the structure expires {structure}")]
    OtherExpiration {
        /// The quotes' expiration.
        chain: NaiveDate,
        /// The structure's expiration.
        structure: NaiveDate,
    },
    /// A leg has no usable quote (bid > 0, ask > 0, ask >= bid).
    #[error("no usable exit quote for the {strike} {} {}", right.code(), side.code())]
    Leg {
        /// The leg's strike, USD.
        strike: Decimal,
        /// Call or put.
        right: OptionRight,
        /// Short or long.
        side: Side,
    },
}

/// The exit value from `chain`, the structure's expiration's quotes taken at
/// the exit: short asks - long bids at natural prices, and mids.
///
/// # Errors
/// [`NoExitQuote`] when `chain` is of another expiration than the structure's, or
/// naming the first leg without a usable quote (bid > 0, ask > 0,
/// ask >= bid) in `chain`.
pub fn exit_with_quotes(
    structure: &Structure,
    chain: &ExpirationChain<'_>,
) -> Result<ExitValue, NoExitQuote> {
    if chain.expiration() != structure.expiration {
        return Err(NoExitQuote::OtherExpiration {
            chain: chain.expiration(),
            structure: structure.expiration,
        });
    }
    let (mut natural, mut mid) = (Decimal::ZERO, Decimal::ZERO);
    for l in &structure.legs {
        let q = chain.quote(l.strike, l.right);
        let Some((q, m)) = q.and_then(|q| q.mid().map(|m| (q, m))) else {
            return Err(NoExitQuote::Leg { strike: l.strike, right: l.right, side: l.side });
        };
        let (bid, ask) = (q.bid.unwrap_or_default(), q.ask.unwrap_or_default());
        match l.side {
            Side::Short => {
                natural += ask;
                mid += m;
            }
            Side::Long => {
                natural -= bid;
                mid -= m;
            }
        }
    }
    Ok(ExitValue { basis: ExitBasis::Quotes, natural, mid })
}

/// The exit value at intrinsic value for underlying price `open` (USD): the
/// same figure at natural and mid (intrinsic has no spread), labelled a
/// bound for short-only structures and an estimate otherwise.
pub fn exit_at_intrinsic(structure: &Structure, open: Decimal) -> ExitValue {
    let value = structure.intrinsic(open);
    let basis = if structure.short_only() { ExitBasis::Bound } else { ExitBasis::IntrinsicEstimate };
    ExitValue { basis, natural: value, mid: value }
}

/// A structure's result at one set of prices (natural or mid).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PnL {
    /// Entry credit, USD per share.
    pub credit: Decimal,
    /// Exit debit, USD per share.
    pub debit: Decimal,
    /// credit - debit (floored at -max loss for a condor), USD per share.
    pub per_share: Decimal,
    /// per_share x contract size, USD per contract.
    pub per_contract: Decimal,
    /// The condor's maximum loss for this credit, USD per share.
    pub max_loss: Option<Decimal>,
    /// per_share / max_loss (fraction), for the condor when max_loss > 0.
    pub return_on_risk: Option<f64>,
    /// Whether the condor's floor (-max loss) replaced a larger loss.
    pub capped: bool,
}

/// P&L of `structure` for an entry credit and exit debit, USD per share.
///
/// Worked examples (CVNA 2023-07-19, open 53.99, exits at intrinsic):
/// - short straddle at 37, credit 4.70: debit 16.99, P&L -12.29 a share,
///   -$1,229 a contract (a bound: at most this);
/// - iron condor, credit 0.10, width 0.50: the call spread is worth its
///   full 0.50, P&L -0.40 = the maximum loss, return on risk -100%.
pub fn pnl(structure: &Structure, credit: Decimal, debit: Decimal) -> PnL {
    let max_loss = structure.max_loss(credit);
    let raw = credit - debit;
    let (per_share, capped) = match max_loss {
        Some(cap) if cap > Decimal::ZERO && raw < -cap => (-cap, true),
        _ => (raw, false),
    };
    let return_on_risk = max_loss.filter(|m| *m > Decimal::ZERO).and_then(|m| (per_share / m).to_f64());
    PnL {
        credit,
        debit,
        per_share,
        per_contract: per_share * Decimal::from(structure.contract_size),
        max_loss,
        return_on_risk,
        capped,
    }
}

/// The realized gap move: open / reference close - 1, a signed fraction.
/// `None` when the reference close is not positive.
pub fn realized_move(open: Decimal, reference_close: Decimal) -> Option<f64> {
    if reference_close <= Decimal::ZERO {
        return None;
    }
    (open / reference_close - Decimal::ONE).to_f64()
}

/// The IV crush: (IV at entry - IV at exit) / IV at entry, a fraction (0.40
/// = the IV fell by 40%). `None` unless both are positive.
pub fn iv_crush(iv_entry: f64, iv_exit: f64) -> Option<f64> {
    (iv_entry > 0.0 && iv_exit > 0.0 && iv_entry.is_finite() && iv_exit.is_finite())
        .then(|| (iv_entry - iv_exit) / iv_entry)
}

/// The ATM IV: the mean of the call's and the put's IV at `strike` in
/// one expiration's `chain` (annualised fraction), when both are quoted and
/// positive.
pub fn atm_iv(chain: &ExpirationChain<'_>, strike: Decimal) -> Option<f64> {
    let iv = |right| chain.quote(strike, right).and_then(|c| c.iv).filter(|iv| iv.is_finite() && *iv > 0.0);
    Some((iv(OptionRight::Call)? + iv(OptionRight::Put)?) / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn exp() -> NaiveDate {
        NaiveDate::from_ymd_opt(2023, 7, 21).unwrap()
    }

    /// One expiration's chain of `quotes` (all of 2023-07-21).
    fn chain(quotes: &[OptionQuote]) -> ExpirationChain<'_> {
        ExpirationChain::new(exp(), quotes).unwrap()
    }

    fn q(right: OptionRight, strike: Decimal, bid: Decimal, ask: Decimal) -> OptionQuote {
        OptionQuote {
            symbol: None,
            expiration: exp(),
            strike,
            right,
            bid: Some(bid),
            ask: Some(ask),
            last: None,
            volume: None,
            open_interest: None,
            iv: None,
            delta: None,
            contract_size: None,
        }
    }

    /// The CVNA 2023-07-21 quotes of the Cboe file (2023-07-18 07:51 ET)
    /// around the strikes the structures use, copied from
    /// ../shared/data/upstar7__Gamma-Ex/cvna_quotedata.csv.
    fn cvna() -> Vec<OptionQuote> {
        use OptionRight::{Call, Put};
        vec![
            q(Put, dec!(31.5), dec!(0.45), dec!(0.47)),
            q(Call, dec!(31.5), dec!(5.35), dec!(5.55)),
            q(Put, dec!(32), dec!(0.55), dec!(0.60)),
            q(Call, dec!(32), dec!(5), dec!(5.2)),
            q(Put, dec!(36.5), dec!(2.33), dec!(2.41)),
            q(Call, dec!(36.5), dec!(2.31), dec!(2.40)),
            q(Put, dec!(37), dec!(2.57), dec!(2.70)),
            q(Call, dec!(37), dec!(2.13), dec!(2.20)),
            q(Put, dec!(41.5), dec!(5.85), dec!(6)),
            q(Call, dec!(41.5), dec!(0.87), dec!(0.98)),
            q(Put, dec!(42), dec!(6.25), dec!(6.4)),
            q(Call, dec!(42), dec!(0.80), dec!(0.85)),
        ]
    }

    fn proposed() -> Proposals {
        propose(&chain(&cvna()), dec!(36.83), 4.7745 / 36.83, 1)
    }

    fn kind(p: &Proposals, k: StructureKind) -> &Structure {
        p.structures.iter().find(|s| s.kind == k).unwrap()
    }

    fn strikes(s: &Structure) -> Vec<(Side, OptionRight, Decimal)> {
        s.legs.iter().map(|l| (l.side, l.right, l.strike)).collect()
    }

    #[test]
    fn cvna_structures_use_the_nearest_listed_strikes() {
        use OptionRight::{Call, Put};
        use Side::{Long, Short};
        let p = proposed();
        assert!(p.notes.is_empty(), "{:?}", p.notes);
        let straddle = kind(&p, StructureKind::ShortStraddle);
        assert_eq!(strikes(straddle), [(Short, Put, dec!(37)), (Short, Call, dec!(37))]);
        assert_eq!((straddle.entry_natural(), straddle.entry_mid()), (dec!(4.70), dec!(4.80)));
        let strangle = kind(&p, StructureKind::ShortStrangle);
        assert_eq!(strikes(strangle), [(Short, Put, dec!(32)), (Short, Call, dec!(41.5))]);
        assert_eq!((strangle.entry_natural(), strangle.entry_mid()), (dec!(1.42), dec!(1.50)));
        let condor = kind(&p, StructureKind::IronCondor);
        assert_eq!(
            strikes(condor),
            [
                (Long, Put, dec!(31.5)),
                (Short, Put, dec!(32)),
                (Short, Call, dec!(41.5)),
                (Long, Call, dec!(42))
            ]
        );
        assert_eq!((condor.entry_natural(), condor.entry_mid()), (dec!(0.10), dec!(0.215)));
        assert_eq!(condor.wing_width(), Some(dec!(0.5)));
        assert_eq!(condor.max_loss(dec!(0.10)), Some(dec!(0.40)));
        assert_eq!(straddle.max_loss(dec!(4.70)), None);
    }

    #[test]
    fn straddle_pnl_at_intrinsic_is_a_bound() {
        // CVNA opened at 53.99 on 2023-07-19: the 37 call is worth at least 16.99.
        let p = proposed();
        let straddle = kind(&p, StructureKind::ShortStraddle);
        let exit = exit_at_intrinsic(straddle, dec!(53.99));
        assert_eq!(exit, ExitValue { basis: ExitBasis::Bound, natural: dec!(16.99), mid: dec!(16.99) });
        let natural = pnl(straddle, straddle.entry_natural(), exit.natural);
        assert_eq!((natural.per_share, natural.per_contract), (dec!(-12.29), dec!(-1229)));
        let mid = pnl(straddle, straddle.entry_mid(), exit.mid);
        assert_eq!((mid.per_share, mid.per_contract), (dec!(-12.19), dec!(-1219)));
        assert_eq!((natural.max_loss, natural.return_on_risk, natural.capped), (None, None, false));
    }

    #[test]
    fn strangle_and_condor_at_intrinsic() {
        let p = proposed();
        let strangle = kind(&p, StructureKind::ShortStrangle);
        // 41.5 call: 53.99 - 41.5 = 12.49; 32 put: 0.
        let exit = exit_at_intrinsic(strangle, dec!(53.99));
        assert_eq!(pnl(strangle, dec!(1.42), exit.natural).per_share, dec!(-11.07));
        let condor = kind(&p, StructureKind::IronCondor);
        let exit = exit_at_intrinsic(condor, dec!(53.99));
        // Call spread 41.5/42 fully in the money: 12.49 - 11.99 = 0.50.
        assert_eq!(
            exit,
            ExitValue { basis: ExitBasis::IntrinsicEstimate, natural: dec!(0.5), mid: dec!(0.5) }
        );
        let natural = pnl(condor, condor.entry_natural(), exit.natural);
        assert_eq!((natural.per_share, natural.per_contract), (dec!(-0.40), dec!(-40)));
        assert_eq!(natural.return_on_risk, Some(-1.0));
        assert!(!natural.capped, "exactly the maximum loss, not beyond it");
        let mid = pnl(condor, condor.entry_mid(), exit.mid);
        assert_eq!((mid.per_share, mid.max_loss), (dec!(-0.285), Some(dec!(0.285))));
    }

    #[test]
    fn natural_and_mid_exits_from_quotes() {
        // A made-up exit chain (arithmetic only): the 37 put 0.05/0.10, the 37 call 16.80/17.20.
        let straddle = kind(&proposed(), StructureKind::ShortStraddle).clone();
        let exit = [
            q(OptionRight::Put, dec!(37), dec!(0.05), dec!(0.10)),
            q(OptionRight::Call, dec!(37), dec!(16.80), dec!(17.20)),
        ];
        let value = exit_with_quotes(&straddle, &chain(&exit)).unwrap();
        // Natural: buy back at the asks, 0.10 + 17.20; mid: 0.075 + 17.00.
        assert_eq!(value, ExitValue { basis: ExitBasis::Quotes, natural: dec!(17.30), mid: dec!(17.075) });
        assert_eq!(pnl(&straddle, dec!(4.70), value.natural).per_share, dec!(-12.60));
        assert_eq!(pnl(&straddle, dec!(4.80), value.mid).per_share, dec!(-12.275));
        // One leg one-sided: no quote-based exit, and the error names the leg.
        let one_sided = [exit[0].clone(), OptionQuote { bid: None, ..exit[1].clone() }];
        assert_eq!(
            exit_with_quotes(&straddle, &chain(&one_sided)).unwrap_err().to_string(),
            "no usable exit quote for the 37 call short"
        );
    }

    fn data_dir() -> std::path::PathBuf {
        match std::env::var_os("IVCD_DATA_DIR") {
            Some(dir) => dir.into(),
            None => std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"),
        }
    }

    #[test]
    fn an_exit_reads_the_structures_expiration_alone() {
        // The Cboe CVNA file of 2023-07-18 07:51 ET lists the 37 strike in
        // both 2023-07-21 (call 2.13 / 2.20, put 2.57 / 2.70) and 2023-07-28
        // (call 3.45 / 3.60, put 4.00 / 4.15). Valued as if those quotes were
        // the exit chain, with 07-28's listed first in the snapshot, the 07-21
        // straddle costs its own asks 2.20 + 2.70 = 4.90 natural and mids
        // 2.165 + 2.635 = 4.80, not 07-28's 3.60 + 4.15 = 7.75.
        let (text, shown) = crate::providers::files::recorded::read_recorded(
            &data_dir(),
            std::path::Path::new("upstar7__Gamma-Ex/cvna_quotedata.csv"),
        )
        .unwrap();
        let mut chain = crate::providers::files::cboe::parse_cboe_chain_csv(&text, &shown).unwrap();
        let later = NaiveDate::from_ymd_opt(2023, 7, 28).unwrap();
        chain.contracts.retain(|c| c.strike == dec!(37) && (c.expiration == exp() || c.expiration == later));
        chain.contracts.sort_by_key(|c| std::cmp::Reverse(c.expiration));
        assert_eq!(chain.contracts.len(), 4);
        assert_eq!(chain.contracts[0].expiration, later, "the other expiration comes first");

        let straddle = kind(&proposed(), StructureKind::ShortStraddle).clone();
        let value = exit_with_quotes(&straddle, &chain.expiration(straddle.expiration)).unwrap();
        assert_eq!(value, ExitValue { basis: ExitBasis::Quotes, natural: dec!(4.90), mid: dec!(4.80) });
        // The straddle's IV at exit is 07-21's too: (1.5664 + 1.5615) / 2.
        let iv = atm_iv(&chain.expiration(straddle.expiration), dec!(37)).unwrap();
        assert!((iv - 1.563_95).abs() < 1e-12, "{iv}");
        // Another expiration's quotes are refused, never used.
        assert_eq!(
            exit_with_quotes(&straddle, &chain.expiration(later)).unwrap_err().to_string(),
            "the exit quotes are of 2023-07-28, the structure expires 2023-07-21"
        );
        // And a chain mixing the two cannot be built.
        let mixed = ExpirationChain::new(exp(), &chain.contracts).unwrap_err();
        assert_eq!((mixed.expected, mixed.found), (exp(), later));
    }

    #[test]
    fn condor_loss_is_capped_at_the_wing_width_minus_credit() {
        // Exit at natural prices wider than the wing: short asks 12.70 + 0.05,
        // long bids 12.00 + 0.01 -> debit 0.74 on a width of 0.50.
        let condor = kind(&proposed(), StructureKind::IronCondor).clone();
        let exit = [
            q(OptionRight::Put, dec!(31.5), dec!(0.01), dec!(0.03)),
            q(OptionRight::Put, dec!(32), dec!(0.02), dec!(0.05)),
            q(OptionRight::Call, dec!(41.5), dec!(12.30), dec!(12.70)),
            q(OptionRight::Call, dec!(42), dec!(12.00), dec!(12.20)),
        ];
        let value = exit_with_quotes(&condor, &chain(&exit)).unwrap();
        assert_eq!(value.natural, dec!(0.74));
        let r = pnl(&condor, dec!(0.10), value.natural);
        assert_eq!((r.per_share, r.capped, r.return_on_risk), (dec!(-0.40), true, Some(-1.0)));
        // The mid exit (12.50 - 12.10 + 0.035 - 0.02 = 0.415) is within the cap.
        let r = pnl(&condor, dec!(0.215), value.mid);
        assert_eq!((r.per_share, r.capped), (dec!(-0.200), false));
    }

    #[test]
    fn strangle_strikes_stay_out_of_the_money() {
        // 0.5% either side of 36.83 is 36.65 and 37.01: the nearest listed
        // out-of-the-money strikes are the 36.5 put and the 37 call.
        let p = propose(&chain(&cvna()), dec!(36.83), 0.005, 1);
        let strangle = kind(&p, StructureKind::ShortStrangle);
        assert_eq!((strikes(strangle)[0].2, strikes(strangle)[1].2), (dec!(36.5), dec!(37)));
        // Without any call above the spot, the straddle moves to 36.5 and
        // there is no strangle, with a note that says why.
        let no_calls: Vec<_> =
            cvna().into_iter().filter(|c| !(c.right == OptionRight::Call && c.strike > dec!(36.5))).collect();
        let p = propose(&chain(&no_calls), dec!(36.83), 0.1296, 1);
        assert_eq!(p.structures.len(), 1);
        assert_eq!(p.structures[0].straddle_strike(), Some(dec!(36.5)));
        assert!(p.notes[0].contains("out-of-the-money call"), "{:?}", p.notes);
    }

    #[test]
    fn wider_wings_step_further_out() {
        let p = propose(&chain(&cvna()), dec!(36.83), 0.1296, 2);
        assert!(p.notes.iter().any(|n| n.starts_with("no iron condor")), "{:?}", p.notes);
        assert_eq!(p.structures.len(), 2);
    }

    #[test]
    fn realized_move_and_iv_crush() {
        // CVNA: 53.99 / 39.80 - 1 = +35.65%.
        let m = realized_move(dec!(53.99), dec!(39.80)).unwrap();
        assert!((m - 0.356_532_663).abs() < 1e-9, "{m}");
        assert_eq!(realized_move(dec!(1), Decimal::ZERO), None);
        assert!((iv_crush(1.5, 0.6).unwrap() - 0.6).abs() < 1e-12);
        assert_eq!(iv_crush(0.0, 0.6), None);
    }
}

//! One expiration's figures read that expiration's contracts alone: on every
//! real chain we hold, adding the contracts of other expirations to a
//! snapshot (as the scan does for the term structure) never changes the
//! implied move, its brackets and ATM strike, the proposed structures, the
//! liquidity of their legs, the smile fit, the ATM IV or the exit values.

use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, Utc};
use ivcd::analysis::full::{self, AnalysisInputs};
use ivcd::analysis::implied::{self, ImpliedMove, NoImpliedMove, StraddleMethod};
use ivcd::analysis::liquidity::{self, Liquidity, LiquidityParams};
use ivcd::analysis::skew::{self, SkewFit, SkewParams};
use ivcd::analysis::structures::{self, ExitValue, Proposals, StructureKind};
use ivcd::analysis::term::{self, AtmIv, RateAssumptions};
use ivcd::analysis::{AnalysisParams, HistoryWindow};
use ivcd::calendar::NyseCalendar;
use ivcd::domain::{ChainSnapshot, DailyBar, OptionQuote};
use ivcd::providers::alpha_vantage::wire as av;
use ivcd::providers::files::cboe;
use ivcd::providers::tradier::wire as tradier;
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::support::data::{AV, AV_2025, NVDA_CBOE, TRADIER_OPENBB};
use crate::support::read_data;
use crate::support::values::{date, ticker};

/// A recorded chain with the spot the scan would use for it.
struct RealChain {
    name: &'static str,
    chain: ChainSnapshot,
    spot: Decimal,
    /// The chain's expirations, ascending.
    expirations: Vec<NaiveDate>,
}

/// Every real chain we hold, parsed once: the Cboe downloads (spot from
/// their own underlying quote), the Alpha Vantage end-of-day chains of IBM
/// (spot = that day's close from the same recording), the Tradier chains
/// (spot from the quote recorded with them; they hold one expiration each,
/// so the property has nothing to add to them).
fn real_chains() -> &'static [RealChain] {
    static CHAINS: OnceLock<Vec<RealChain>> = OnceLock::new();
    CHAINS.get_or_init(|| {
        let mut out = Vec::new();
        let mut add = |name, chain: ChainSnapshot, spot| {
            let expirations = chain.expirations();
            out.push(RealChain { name, chain, spot, expirations });
        };
        for (name, path) in [
            ("CVNA Cboe 2023-07-18", "upstar7__Gamma-Ex/cvna_quotedata.csv"),
            ("CVNA Cboe July", "upstar7__Gamma-Ex/cvna_quotedata_July.csv"),
            ("AMD Cboe 2023-08", "aryamanwastaken__gamma-exposure/amd_quotedata.csv"),
            ("TSLA Cboe 2023-08", "aryamanwastaken__gamma-exposure/tsla_quotedata.csv"),
            ("TSLA Cboe 2023-11 (French header)", "hicham712__SABR_Implied_Vol/tsla_quotedata.csv"),
            ("NVDA Cboe 2025-01-06", NVDA_CBOE),
        ] {
            let chain = cboe::parse_cboe_chain_csv(&read_data(path), path).expect(name);
            let spot =
                chain.underlying.as_ref().and_then(|q| q.spot()).expect("Cboe chains quote the underlying");
            add(name, chain, spot);
        }
        for (name, dir, day) in [
            ("IBM Alpha Vantage 2025-11-07", AV_2025, "2025-11-07"),
            ("IBM Alpha Vantage 2026-05-15", AV, "2026-05-15"),
        ] {
            let path = format!("{dir}/options/HISTORICAL_OPTIONS_6c0b1a36.csv");
            let chain =
                av::parse_historical_options_csv(&read_data(&path), &path, &ticker("IBM")).expect(name);
            let bars_path = format!("{dir}/time_series/TIME_SERIES_DAILY_42a08190.csv");
            let bars = av::parse_daily_csv(&read_data(&bars_path), &bars_path).expect("IBM bars");
            let close =
                bars.iter().find(|b| b.date == date(day)).expect("the close of the chain's day").close;
            add(name, chain, close);
        }
        let quote_path = format!("{TRADIER_OPENBB}/quotes_PLTR_2024-06-28.json");
        let pltr = tradier::parse_quotes(&read_data(&quote_path), &quote_path).expect("PLTR quote");
        let chain_path = format!("{TRADIER_OPENBB}/chains_PLTR_2026-06-18_greeks_asof_2024-06-28.json");
        let as_of: DateTime<Utc> = "2024-06-28T20:00:00Z".parse().expect("instant");
        let chain =
            tradier::parse_chain(&read_data(&chain_path), &chain_path, &ticker("PLTR"), as_of).expect("PLTR");
        add("PLTR Tradier 2024-06-28", chain, pltr[0].spot().expect("PLTR spot"));
        let quote_path = "tradier__tradier.rb/spec/fixtures/quote.json";
        let aapl = tradier::parse_quotes(&read_data(quote_path), quote_path).expect("AAPL quote");
        let chain_path = "tradier__tradier.rb/spec/fixtures/chain.json";
        let as_of: DateTime<Utc> = "2013-06-10T20:00:00Z".parse().expect("instant");
        let chain =
            tradier::parse_chain(&read_data(chain_path), chain_path, &ticker("AAPL"), as_of).expect("AAPL");
        add("AAPL Tradier 2013 fixture", chain, aapl[0].spot().expect("AAPL spot"));
        out
    })
}

/// The chain with only the contracts `keep` says yes to, in their order.
fn snapshot_of(chain: &ChainSnapshot, keep: impl Fn(&OptionQuote) -> bool) -> ChainSnapshot {
    ChainSnapshot {
        contracts: chain.contracts.iter().filter(|c| keep(c)).cloned().collect(),
        ..chain.clone()
    }
}

/// Every figure that belongs to one expiration, as the scan and the review
/// compute them from a snapshot.
#[derive(Debug, PartialEq)]
struct Figures {
    implied: Result<ImpliedMove, NoImpliedMove>,
    atm_strike: Option<Decimal>,
    proposals: Option<Proposals>,
    liquidity: Option<Liquidity>,
    skew: Result<SkewFit, skew::NoSkewFit>,
    atm_iv: Result<AtmIv, term::NoAtmIv>,
    /// Each proposed structure valued against the snapshot as if it were the exit chain.
    exits: Vec<Result<ExitValue, structures::NoExitQuote>>,
    straddle_iv: Option<f64>,
}

fn figures(snapshot: &ChainSnapshot, expiration: NaiveDate, spot: Decimal) -> Figures {
    let calendar = NyseCalendar::new();
    let rates = RateAssumptions::default();
    let time = full::expiry_time(&calendar, snapshot.as_of, expiration);
    let chain = snapshot.expiration(expiration);
    let implied = implied::implied_move(&chain, spot);
    let atm_strike = implied.as_ref().ok().and_then(ImpliedMove::atm_strike);
    let proposals = implied.as_ref().ok().map(|m| structures::propose(&chain, m.spot, m.implied_move, 1));
    let liquidity = atm_strike.map(|k| liquidity::assess(&chain, k, &[], &LiquidityParams::default()));
    let skew = skew::fit_skew(&chain, time, spot, &rates, &SkewParams::default());
    let atm_iv = term::atm_iv(&chain, time, spot, &rates);
    let built = proposals.as_ref().map(|p| p.structures.as_slice()).unwrap_or_default();
    // As the review values them: each structure from its own expiration's quotes.
    let exits =
        built.iter().map(|s| structures::exit_with_quotes(s, &snapshot.expiration(s.expiration))).collect();
    let straddle_iv = built
        .iter()
        .find_map(structures::Structure::straddle_strike)
        .and_then(|k| structures::atm_iv(&chain, k));
    Figures { implied, atm_strike, proposals, liquidity, skew, atm_iv, exits, straddle_iv }
}

/// The per-expiration parts of the full analysis: the expiration's ATM IV
/// point of the term structure, the skew and the liquidity.
fn full_parts(
    snapshot: &ChainSnapshot,
    expiration: NaiveDate,
    spot: Decimal,
) -> (Option<AtmIv>, Option<SkewFit>, Option<Liquidity>) {
    let implied = implied::implied_move(&snapshot.expiration(expiration), spot).ok();
    let history = HistoryWindow { moves: Vec::new(), stats: None, excluded: Vec::new() };
    let a = full::analyse(
        &AnalysisInputs {
            snapshot,
            expiration,
            spot,
            implied_move: implied.as_ref().map(|m| m.implied_move),
            atm_strike: implied.as_ref().and_then(ImpliedMove::atm_strike),
            history: &history,
            bars: &[] as &[DailyBar],
        },
        &NyseCalendar::new(),
        &AnalysisParams::default(),
    );
    let point = a.term.and_then(|t| t.points.into_iter().find(|p| p.expiration == expiration));
    (point, a.skew, a.liquidity)
}

#[test]
fn nvda_implied_move_brackets_the_spot_with_the_event_expirations_strikes() {
    // NVDA, Cboe delayed quotes of Mon 2025-01-06 9:30 PM EST (after the
    // close). Spot = (bid 150.28 + ask 150.30) / 2 = 150.29. For an event
    // whose expiration is Fri 2025-01-10, the scan's snapshot also holds the
    // next expiration, 2025-01-17 (no expiration in the file is 45 days out:
    // 01-10, 01-17, 01-24, 01-31), whose strikes are 1 apart where 01-10's
    // are 2.5 apart around the spot.
    //
    // 2025-01-10 rows (call bid/ask | strike | put bid/ask):
    //   3.25 / 3.35 | 150.00 | 3.65 / 3.75
    //   2.26 / 2.28 | 152.50 | 5.10 / 5.25
    // Straddle at 150:   call mid 3.30 + put mid 3.70 = 7.00
    // Straddle at 152.5: call mid 2.27 + put mid 5.175 = 7.445
    // w = (150.29 - 150) / (152.5 - 150) = 0.116
    // straddle = 7.00 + 0.116 x (7.445 - 7.00) = 7.05162
    // implied move = 7.05162 / 150.29 = 0.0469201 (4.69%)
    //
    // Bracketed with 2025-01-17's 151 instead (call 4.45 / 4.55, put 5.70 /
    // 5.85: straddle 4.50 + 5.775 = 10.275), w = 0.29 / 1 = 0.29 and the
    // straddle 7.00 + 0.29 x 3.275 = 7.94975: 5.29%, 12.7% too high.
    //
    // The structures (2025-01-10 strikes are 1 apart up to 150, then 2.5):
    // straddle at 150 (0.29 from the spot): credit 3.25 + 3.65 = 6.90
    // natural. Strangle targets 150.29 x (1 -/+ 0.0469201) = 143.238 and
    // 157.342: the 143 put (bid 1.08, ask 1.11; 144 is 0.762 away) and the
    // 157.5 call (0.94 / 0.96; 155 is 2.342 away): credit 1.08 + 0.94 = 2.02
    // natural, 1.095 + 0.95 = 2.045 mid. Condor wings one listed strike out:
    // the 142 put (0.89 / 0.91) and the 160 call (0.58 / 0.59): credit
    // 2.02 - 0.91 - 0.59 = 0.52 natural, 2.045 - 0.90 - 0.585 = 0.56 mid;
    // wider wing 160 - 157.5 = 2.5. (With 5.29% the put target would be
    // 142.34: the 142 put, and the condor's wing the 141.)
    let chain = cboe::parse_cboe_chain_csv(&read_data(NVDA_CBOE), NVDA_CBOE).expect("NVDA chain");
    let spot = chain.underlying.as_ref().and_then(|q| q.spot()).expect("NVDA spot");
    assert_eq!(spot, dec!(150.29));
    let event = date("2025-01-10");
    let term = full::term_expirations(&chain.expirations(), event, date("2025-01-06"), 45.0, 0);
    assert_eq!(term, [date("2025-01-17")]);
    let snapshot = snapshot_of(&chain, |c| c.expiration == event || term.contains(&c.expiration));

    let m = implied::implied_move(&snapshot.expiration(event), spot).expect("implied move");
    assert_eq!(m.method, StraddleMethod::Interpolated);
    let lower = m.lower.as_ref().expect("lower bracket");
    let upper = m.upper.as_ref().expect("upper bracket");
    assert_eq!((lower.strike, lower.call_mid, lower.put_mid), (dec!(150), dec!(3.30), dec!(3.70)));
    assert_eq!((upper.strike, upper.call_mid, upper.put_mid), (dec!(152.5), dec!(2.27), dec!(5.175)));
    assert_eq!(m.straddle, dec!(7.05162));
    assert!((m.implied_move - 0.046_920_087_830).abs() < 1e-12, "{}", m.implied_move);
    assert_eq!(m.atm_strike(), Some(dec!(150)));

    let p = structures::propose(&snapshot.expiration(event), m.spot, m.implied_move, 1);
    assert!(p.notes.is_empty(), "{:?}", p.notes);
    let legs = |kind| -> Vec<(Decimal, &str)> {
        let s = p.structures.iter().find(|s| s.kind == kind).expect("structure");
        assert_eq!(s.expiration, event);
        s.legs.iter().map(|l| (l.strike, l.right.code())).collect()
    };
    assert_eq!(legs(StructureKind::ShortStraddle), [(dec!(150), "put"), (dec!(150), "call")]);
    assert_eq!(legs(StructureKind::ShortStrangle), [(dec!(143), "put"), (dec!(157.5), "call")]);
    assert_eq!(
        legs(StructureKind::IronCondor),
        [(dec!(142), "put"), (dec!(143), "put"), (dec!(157.5), "call"), (dec!(160), "call")]
    );
    let credits: Vec<(Decimal, Decimal)> =
        p.structures.iter().map(|s| (s.entry_natural(), s.entry_mid())).collect();
    assert_eq!(credits, [(dec!(6.90), dec!(7.00)), (dec!(2.02), dec!(2.045)), (dec!(0.52), dec!(0.56))]);
    assert_eq!(p.structures[2].wing_width(), Some(dec!(2.5)));
}

/// Every expiration of every real chain, with the whole chain around it
/// (every other expiration added): the same figures as the expiration alone.
#[test]
fn every_expiration_of_every_real_chain_reads_its_own_contracts_alone() {
    let mut checked = 0;
    for c in real_chains() {
        for &expiration in &c.expirations {
            let alone = snapshot_of(&c.chain, |q| q.expiration == expiration);
            let own = figures(&alone, expiration, c.spot);
            assert_eq!(figures(&c.chain, expiration, c.spot), own, "{}: expiration {expiration}", c.name);
            assert_eq!(
                full_parts(&c.chain, expiration, c.spot),
                full_parts(&alone, expiration, c.spot),
                "{}: expiration {expiration} in the full analysis",
                c.name
            );
            checked += 1;
        }
    }
    assert!(checked > 40, "{checked} expirations");
}

/// A chain, one of its expirations, and other expirations' contracts to add
/// (indices into the chain: any subset, in any order) with where each goes.
fn mixed_snapshot() -> impl Strategy<Value = (usize, usize, Vec<usize>, Vec<prop::sample::Index>)> {
    (0..real_chains().len())
        .prop_flat_map(|i| (Just(i), 0..real_chains()[i].expirations.len()))
        .prop_flat_map(|(i, e)| {
            let c = &real_chains()[i];
            let others: Vec<usize> = (0..c.chain.contracts.len())
                .filter(|&n| c.chain.contracts[n].expiration != c.expirations[e])
                .collect();
            let n = others.len();
            (
                Just(i),
                Just(e),
                prop::sample::subsequence(others, 0..=n).prop_shuffle(),
                prop::collection::vec(any::<prop::sample::Index>(), n),
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn adding_other_expirations_never_changes_an_expirations_figures(
        (i, e, added, positions) in mixed_snapshot()
    ) {
        let c = &real_chains()[i];
        let expiration = c.expirations[e];
        let alone = snapshot_of(&c.chain, |q| q.expiration == expiration);
        // Each added contract goes anywhere among those already there; the
        // expiration's own contracts keep their order.
        let mut mixed = alone.clone();
        for (n, at) in added.iter().zip(&positions) {
            let at = at.index(mixed.contracts.len() + 1);
            mixed.contracts.insert(at, c.chain.contracts[*n].clone());
        }
        prop_assert_eq!(figures(&mixed, expiration, c.spot), figures(&alone, expiration, c.spot), "{}: {}", c.name, expiration);
    }
}

//! Criterion benchmarks of the per-ticker hot path on real recorded data:
//! parsing a chain (Cboe CSV, Tradier JSON), the implied move, the full
//! analysis, and the historical moves of one ticker. Reads the recorded
//! files in place (`$IVCD_DATA_DIR`, default `../shared/data`).
//!
//! Run: `cargo bench --bench analysis`; results and goals in docs/performance.md.

// A bench's unwrap, expect or panic is its failure, with the message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "benches: a panic is the failure")]
#![allow(missing_docs, reason = "criterion_main! defines an undocumented main")]

use std::collections::BTreeMap;
use std::hint::black_box;

use chrono::{DateTime, NaiveDate, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use ivcd::analysis::full::{self, AnalysisInputs};
use ivcd::analysis::moves::{self, HistoricalMove};
use ivcd::analysis::{AnalysisParams, HistoryWindow, implied};
use ivcd::calendar::NyseCalendar;
use ivcd::domain::{ChainSnapshot, DailyBar, Ticker};
use ivcd::providers::files::{cboe, ohlcv, trading_desk};
use ivcd::providers::tradier::wire as tradier;
use rust_decimal_macros::dec;

mod common;

const CVNA_CHAIN: &str = "upstar7__Gamma-Ex/cvna_quotedata.csv";
const CVNA_BARS: &str = "Krzysztof-Smykla__Stock-Price-Dashboard/data/CVNA.csv";
const CALENDAR: &str = "pmak99__trading-desk-public/exports/earnings_calendar.csv";
const PLTR_CHAIN: &str = "OpenBB-finance__OpenBB/openbb_platform/providers/tradier/tests/record/http/\
                          test_tradier_fetchers/chains_PLTR_2026-06-18_greeks_asof_2024-06-28.json";

fn read(relative: &str) -> String {
    let path = common::data_dir().join(relative);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read recorded data {}: {e}", path.display()))
}

fn date(text: &str) -> NaiveDate {
    text.parse().expect("bench date")
}

/// CVNA before its report of 2023-07-19 (BMO), as the scan sees it: the
/// Cboe chain of 07-18, its Yahoo bars before 07-18, its measured moves.
struct Cvna {
    chain_csv: String,
    chain: ChainSnapshot,
    bars: Vec<DailyBar>,
    moves: Vec<HistoricalMove>,
    events: Vec<ivcd::domain::EarningsEvent>,
    by_date: BTreeMap<NaiveDate, DailyBar>,
}

fn cvna() -> Cvna {
    let chain_csv = read(CVNA_CHAIN);
    let chain = cboe::parse_cboe_chain_csv(&chain_csv, CVNA_CHAIN).expect("CVNA chain");
    let all_bars = ohlcv::parse_ohlcv_csv(&read(CVNA_BARS), CVNA_BARS).expect("CVNA bars");
    let by_date: BTreeMap<NaiveDate, DailyBar> =
        all_bars.iter().filter(|b| b.date < date("2023-07-18")).map(|b| (b.date, b.clone())).collect();
    let events: Vec<_> = trading_desk::parse_trading_desk_calendar(&read(CALENDAR), CALENDAR)
        .expect("calendar")
        .into_iter()
        .filter(|e| e.ticker.as_str() == "CVNA" && e.report_date < date("2023-07-19"))
        .collect();
    let check = AnalysisParams::default().timing_check;
    let calendar = NyseCalendar::new();
    let moves = events
        .iter()
        .filter_map(|e| moves::measure_move(&calendar, e.report_date, e.timing, &by_date, &check).ok())
        .collect();
    let bars = by_date.values().cloned().collect();
    Cvna { chain_csv, chain, bars, moves, events, by_date }
}

fn benches(c: &mut Criterion) {
    let cvna = cvna();
    let params = AnalysisParams::default();
    let calendar = NyseCalendar::new();
    let spot = dec!(36.83); // (36.80 + 36.86) / 2, the chain's own underlying quote
    let expirations = [date("2023-07-21"), date("2023-07-28"), date("2023-09-01")];
    // The snapshot the scan builds: the event's expiration and the term structure's.
    let snapshot = ChainSnapshot {
        contracts: cvna
            .chain
            .contracts
            .iter()
            .filter(|q| expirations.contains(&q.expiration))
            .cloned()
            .collect(),
        ..cvna.chain.clone()
    };
    let event = snapshot.expiration(expirations[0]);
    let history =
        HistoryWindow::select(&cvna.moves, date("2023-07-19"), params.window_events, &params.timing_check);

    c.bench_function("parse Cboe CSV chain (CVNA 2023-07-18, 15 expirations)", |b| {
        b.iter(|| cboe::parse_cboe_chain_csv(black_box(&cvna.chain_csv), CVNA_CHAIN).expect("chain"));
    });
    let pltr_json = read(PLTR_CHAIN);
    let pltr = Ticker::new("PLTR").expect("ticker");
    let as_of: DateTime<Utc> = "2024-06-28T19:00:00Z".parse().expect("instant");
    c.bench_function("parse Tradier JSON chain with greeks (PLTR, one expiration)", |b| {
        b.iter(|| tradier::parse_chain(black_box(&pltr_json), PLTR_CHAIN, &pltr, as_of).expect("chain"));
    });
    c.bench_function("implied move from the ATM straddle (CVNA 07-21)", |b| {
        b.iter(|| implied::implied_move(black_box(&event), spot).expect("implied move"));
    });
    c.bench_function("historical moves of one ticker (CVNA, 6 events)", |b| {
        b.iter(|| {
            cvna.events
                .iter()
                .filter_map(|e| {
                    moves::measure_move(
                        &calendar,
                        e.report_date,
                        e.timing,
                        black_box(&cvna.by_date),
                        &params.timing_check,
                    )
                    .ok()
                })
                .count()
        });
    });
    let implied = implied::implied_move(&event, spot).expect("implied move");
    let inputs = AnalysisInputs {
        snapshot: &snapshot,
        expiration: expirations[0],
        spot,
        implied_move: Some(implied.implied_move),
        atm_strike: implied.atm_strike(),
        history: &history,
        bars: &cvna.bars,
    };
    c.bench_function("full analysis (CVNA: term, skew, liquidity, consistency, bounds, score)", |b| {
        b.iter(|| full::analyse(black_box(&inputs), &calendar, &params));
    });
    c.bench_function("per ticker: parse the chain, implied move, full analysis (CVNA)", |b| {
        b.iter(|| {
            let mut chain =
                cboe::parse_cboe_chain_csv(black_box(&cvna.chain_csv), CVNA_CHAIN).expect("chain");
            chain.contracts.retain(|q| expirations.contains(&q.expiration));
            let implied =
                implied::implied_move(&chain.expiration(expirations[0]), spot).expect("implied move");
            full::analyse(
                &AnalysisInputs {
                    snapshot: &chain,
                    expiration: expirations[0],
                    spot,
                    implied_move: Some(implied.implied_move),
                    atm_strike: implied.atm_strike(),
                    history: &history,
                    bars: &cvna.bars,
                },
                &calendar,
                &params,
            )
        });
    });
}

criterion_group!(analysis, benches);
criterion_main!(analysis);

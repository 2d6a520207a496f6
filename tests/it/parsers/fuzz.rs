//! No input makes a parser panic: every recorded file through every parser,
//! and property tests on mutated real bodies (`IVCD_FUZZ_CASES` cases, 128
//! by default; CI's extra step runs 2000).

use std::path::Path;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use ivcd::domain::Ticker;
use ivcd::providers::alpha_vantage::wire as av;
use ivcd::providers::files::{cboe, ohlcv, trading_desk};
use ivcd::providers::tradier::wire as tradier;
use proptest::prelude::*;

use super::*;
use crate::support::data::{AV, AV_2025, TRADIER_OPENBB, TRADIER_RB, TRADING_DESK, YAHOO_DIR};
use crate::support::{data_dir, read_data};

/// Every parser on one input; results are ignored, panics fail the test.
fn run_every_parser(text: &str) {
    let pltr = Ticker::new("PLTR").unwrap_or_else(|_| unreachable!());
    let at = DateTime::<Utc>::UNIX_EPOCH;
    let _ = tradier::parse_quotes(text, "fuzz");
    let _ = tradier::parse_expirations(text, "fuzz");
    let _ = tradier::parse_chain(text, "fuzz", &pltr, at);
    let _ = tradier::parse_history(text, "fuzz");
    let _ = tradier::parse_market_calendar(text, "fuzz");
    let _ = tradier::parse_clock(text, "fuzz");
    let _ = av::classify_json_notice(text);
    let _ = av::parse_earnings_calendar_csv(text, "fuzz");
    let _ = av::parse_earnings_json(text, "fuzz");
    let _ = av::parse_daily_csv(text, "fuzz");
    let _ = av::parse_daily_json(text, "fuzz");
    let _ = av::parse_historical_options_csv(text, "fuzz", &pltr);
    let _ = av::parse_historical_options_json(text, "fuzz", &pltr);
    let _ = cboe::parse_cboe_chain_csv(text, "fuzz");
    let _ = cboe::parse_occ_symbol(text);
    let _ = ohlcv::parse_ohlcv_csv(text, "fuzz");
    let _ = trading_desk::parse_trading_desk_calendar(text, "fuzz");
}

/// Real recorded bodies to mutate: whole files when small, the first 40
/// lines of the large ones (a prefix of a real file is real data, and
/// truncation is one of the mutations anyway).
fn samples() -> &'static [String] {
    static SAMPLES: OnceLock<Vec<String>> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        let paths = [
            format!("{TRADIER_OPENBB}/chains_PLTR_2026-06-18_greeks_asof_2024-06-28.json"),
            format!("{TRADIER_OPENBB}/quotes_SPY_and_SPY251219P00450000_greeks_2024-06-28.json"),
            format!("{TRADIER_OPENBB}/history_AAPL_daily_2024-02.json"),
            format!("{TRADIER_OPENBB}/expirations_PLTR_2024-06-28.json"),
            format!("{TRADIER_RB}/calendar.json"),
            format!("{TRADIER_RB}/clock.json"),
            format!("{TRADIER_RB}/quote.json"),
            format!("{AV}/fundamental/EARNINGS_CALENDAR_c674ae28.csv"),
            format!("{AV}/time_series/TIME_SERIES_DAILY_42a08190.csv"),
            format!("{AV}/options/HISTORICAL_OPTIONS_6c0b1a36.csv"),
            CVNA_CBOE.to_owned(),
            TSLA_CBOE_FR.to_owned(),
            format!("{YAHOO_DIR}/CVNA.csv"),
            CVNA_UNADJUSTED.to_owned(),
            TRADING_DESK.to_owned(),
            AV_AAPL_EARNINGS.to_owned(),
        ];
        paths
            .iter()
            .map(|path| {
                let text = read_data(path);
                if text.len() > 16_000 { text.split_inclusive('\n').take(40).collect() } else { text }
            })
            .collect()
    })
}

/// One edit of a body.
#[derive(Debug, Clone)]
enum Edit {
    /// Overwrite the byte at a position.
    Replace(prop::sample::Index, u8),
    /// Remove up to `n` bytes from a position.
    Delete(prop::sample::Index, usize),
    /// Insert a token that matters to JSON or CSV at a position.
    Insert(prop::sample::Index, &'static str),
    /// Cut the body at a position.
    Truncate(prop::sample::Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    let tokens = prop::sample::select(vec![
        ",",
        "\n",
        "\r\n",
        "\"",
        "{",
        "}",
        "[",
        "]",
        ":",
        "null",
        "\"null\"",
        "0",
        "-1",
        "1e999",
        "é",
        "\u{2212}",
        "Last:",
        "Date:",
        " at ",
        "Note",
        "9999999999999999999999999999999",
    ]);
    prop_oneof![
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Replace(i, b)),
        (any::<prop::sample::Index>(), 1..64usize).prop_map(|(i, n)| Edit::Delete(i, n)),
        (any::<prop::sample::Index>(), tokens).prop_map(|(i, t)| Edit::Insert(i, t)),
        any::<prop::sample::Index>().prop_map(Edit::Truncate),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for edit in edits {
        let len = bytes.len();
        match edit {
            Edit::Replace(i, b) if len > 0 => {
                let at = i.index(len);
                bytes[at] = *b;
            }
            Edit::Delete(i, n) if len > 0 => {
                let at = i.index(len);
                let end = (at + n).min(len);
                bytes.drain(at..end);
            }
            Edit::Insert(i, token) => {
                let at = i.index(len + 1);
                bytes.splice(at..at, token.bytes());
            }
            Edit::Truncate(i) => bytes.truncate(i.index(len + 1)),
            _ => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Cases per fuzz property: `IVCD_FUZZ_CASES` (`.ci/run` sets a larger
/// bounded run), 128 by default.
fn fuzz_cases() -> u32 {
    std::env::var("IVCD_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(128)
}

/// The process's peak resident set, KiB (Linux `VmHWM`).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: fuzz_cases(), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        run_every_parser(&text);
    }

    #[test]
    fn json_and_csv_like_strings_never_panic(text in "[{}\\[\\]\",:0-9a-zA-Z. \n\r-]{0,300}") {
        run_every_parser(&text);
    }

    #[test]
    fn mutated_real_files_never_panic(
        sample in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..8),
    ) {
        let samples = samples();
        let text = apply(&samples[sample.index(samples.len())], &edits);
        run_every_parser(&text);
    }

    #[test]
    fn mutated_configuration_files_never_panic(
        file in prop::sample::select(vec!["ivcd.example.toml", "ivcd.sandbox.toml", "ivcd.systemd.toml"]),
        edits in prop::collection::vec(edit(), 1..8),
    ) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config").join(file);
        let text = apply(&std::fs::read_to_string(path).unwrap(), &edits);
        // A clear error or a configuration: never a panic.
        let figment = figment::Figment::new().merge(<figment::providers::Toml as figment::providers::Format>::string(&text));
        let _ = ivcd::config::Config::from_figment(&figment, file.to_owned());
    }
}

/// The bounded fuzz run's figures: its own inputs through every parser
/// (the four fuzz properties above run as many cases each), and the peak
/// memory.
#[test]
fn fuzz_run_reports_its_figures_and_stays_within_memory() {
    let before = peak_rss_kib();
    let samples = samples();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: fuzz_cases(),
        ..ProptestConfig::default()
    });
    let inputs = std::cell::Cell::new(0usize);
    runner
        .run(&(any::<prop::sample::Index>(), prop::collection::vec(edit(), 1..16)), |(sample, edits)| {
            let text = apply(&samples[sample.index(samples.len())], &edits);
            run_every_parser(&text);
            inputs.set(inputs.get() + 1);
            Ok(())
        })
        .unwrap();
    let after = peak_rss_kib();
    println!(
        "fuzz: {} mutated inputs of {} real recorded files through every parser (Tradier JSON, Alpha Vantage CSV/JSON, Cboe CSV, OHLCV, trading-desk CSV), 0 panics, plus {} cases in each of 4 more fuzz properties (arbitrary, JSON/CSV-like, mutated files, mutated configuration files); peak RSS {} KiB -> {} KiB",
        inputs.get(),
        samples.len(),
        fuzz_cases(),
        before.unwrap_or(0),
        after.unwrap_or(0)
    );
    if let (Some(before), Some(after)) = (before, after) {
        assert!(
            after.saturating_sub(before) < 512 * 1024,
            "fuzzing grew the peak RSS by {} KiB",
            after - before
        );
    }
}

#[test]
fn every_recorded_file_through_every_parser_never_panics() {
    let mut count = 0;
    for folder in [
        TRADIER_OPENBB,
        TRADIER_RB,
        AV,
        AV_2025,
        "upstar7__Gamma-Ex",
        "aryamanwastaken__gamma-exposure",
        "hicham712__SABR_Implied_Vol",
        "DorelRoata__Option-Gamma-Exposure--zero-gamma-level",
    ] {
        let dir = data_dir().join(folder);
        for path in walk(&dir) {
            let Ok(text) = std::fs::read_to_string(&path) else { continue };
            run_every_parser(&text);
            count += 1;
        }
    }
    assert!(count > 40, "{count} files");
}

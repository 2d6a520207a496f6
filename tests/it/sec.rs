//! SEC EDGAR (issue 23): the submissions parser on both recorded layouts,
//! the filing-timing rules on every recorded Item 2.02 8-K and against
//! independent evidence, the recorded and live providers, and the timing
//! audit of the 28 recorded issuers (docs/timing-audit.md).
//!
//! Recorded data (see each folder's SOURCE.txt):
//! - `annanyashah9__accounting-redflag-screen/data/submissions/`: 28
//!   issuers, values as the SEC gave them, re-serialised by that repository
//!   with the older pages merged into `filings.recent`;
//! - `krymer15__edgar-app/data/raw/submissions/`: AAPL and MSFT in the
//!   SEC's exact compact layout, `filings.files` naming pages not recorded.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, Utc};
use ivcd::analysis::filing_timing::{Cik, Filing, FilingTiming, TimingRule, filing_timing};
use ivcd::analysis::moves::{TimingCheck, event_sessions};
use ivcd::analysis::timing_audit::{self, Agreement, AuditCounts, EventAudit, FilingEvidence};
use ivcd::calendar::NyseCalendar;
use ivcd::domain::{DailyBar, EarningsEvent, Ticker, Timing};
use ivcd::providers::sec::SecFilings;
use ivcd::providers::sec::files::RecordedSec;
use ivcd::providers::sec::wire::{self, parse_company_tickers, parse_submissions};

use crate::support::data::TRADING_DESK;
use crate::support::values::{date, ticker};
use crate::support::{data_dir, read_data};

const REDFLAG: &str = "annanyashah9__accounting-redflag-screen/data/submissions";
const EDGAR_APP: &str = "krymer15__edgar-app/data/raw/submissions";
const BARS: &str = "Krzysztof-Smykla__Stock-Price-Dashboard/data";
const AV_AAPL: &str = "OpenBB-finance__OpenBB/openbb_platform/providers/alpha_vantage/tests/record/http/\
                       test_alpha_vantage_fetchers/EARNINGS_AAPL_recorded_2024-06-27.json";

/// Every recorded submissions file of a folder, parsed, by file name.
fn submissions_in(folder: &str) -> BTreeMap<String, wire::Submissions> {
    let dir = data_dir().join(folder);
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("CIK") && name.ends_with(".json") {
            let text = std::fs::read_to_string(&path).unwrap();
            out.insert(name, parse_submissions(&text, &path.display().to_string()).unwrap());
        }
    }
    out
}

/// The first ticker EDGAR lists for an issuer, or its name (Nikola lists none).
fn label(s: &wire::Submissions) -> String {
    s.tickers.first().cloned().unwrap_or_else(|| s.name.clone())
}

fn item_202(s: &wire::Submissions) -> Vec<&Filing> {
    s.filings.iter().filter(|f| f.is_item_202()).collect()
}

#[test]
fn the_secs_exact_layout_parses_with_its_older_pages_listed() {
    let files = submissions_in(EDGAR_APP);
    let aapl = &files["CIK0000320193.json"];
    let msft = &files["CIK0000789019.json"];
    assert_eq!(
        (aapl.cik.number(), aapl.name.as_str(), aapl.tickers.as_slice()),
        (320_193, "Apple Inc.", &["AAPL".to_owned()][..])
    );
    assert_eq!(msft.cik.to_string(), "0000789019");
    // SOURCE.txt: filings.files still lists CIK0000320193-submissions-001.json
    // (AAPL) and -001/-002 (MSFT); AAPL 43 and MSFT 26 item-2.02 8-Ks.
    assert_eq!(aapl.older_pages.len(), 1);
    assert_eq!(aapl.older_pages[0].name, "CIK0000320193-submissions-001.json");
    assert_eq!(
        (aapl.older_pages[0].filing_from, aapl.older_pages[0].filing_to),
        (date("1994-01-26"), date("2014-09-21"))
    );
    assert_eq!(aapl.older_pages[0].filing_count, 1145);
    assert!(!msft.older_pages.is_empty());
    assert_eq!(item_202(aapl).len(), 43);
    assert_eq!(item_202(msft).len(), 26);
    let since_2021 =
        |s: &wire::Submissions| item_202(s).iter().filter(|f| f.filing_date >= date("2021-01-01")).count();
    assert_eq!((since_2021(aapl), since_2021(msft)), (17, 17));
    // One filing read field by field: Apple's Q1 FY2025 release.
    let f = aapl.filings.iter().find(|f| f.accession == "0000320193-25-000007").unwrap();
    assert_eq!(f.form, "8-K");
    assert_eq!(f.items, ["2.02", "9.01"]);
    assert_eq!((f.filing_date, f.period), (date("2025-01-30"), Some(date("2025-01-30"))));
    assert_eq!(f.accepted_at, "2025-01-30T21:30:23Z".parse::<chrono::DateTime<Utc>>().unwrap());
}

#[test]
fn both_layouts_give_the_same_filings() {
    // SOURCE.txt (annanyashah9): all 2,001 filings of the verbatim capture
    // are present with identical form, dates, acceptance and items.
    let exact = submissions_in(EDGAR_APP);
    let merged = submissions_in(REDFLAG);
    let mut compared = 0;
    for (name, s) in &exact {
        let other: BTreeMap<&str, &Filing> =
            merged[name].filings.iter().map(|f| (f.accession.as_str(), f)).collect();
        for f in &s.filings {
            assert_eq!(other.get(f.accession.as_str()), Some(&f), "{name} {}", f.accession);
            compared += 1;
        }
    }
    assert_eq!(compared, 2_001);
}

/// Item 2.02 8-Ks per issuer in annanyashah9's SOURCE.txt: (all, filed 2021+).
const REDFLAG_COUNTS: [(&str, usize, usize); 28] = [
    ("CAT", 91, 23),
    ("KO", 89, 22),
    ("GE", 91, 23),
    ("INTC", 109, 23),
    ("MAT", 91, 22),
    ("MCD", 104, 22),
    ("MMM", 114, 26),
    ("PEP", 88, 22),
    ("PFE", 91, 25),
    ("PG", 87, 22),
    ("TXN", 93, 22),
    ("WMT", 90, 22),
    ("JNJ", 91, 24),
    ("MRK", 90, 23),
    ("NKE", 143, 22),
    ("AAPL", 93, 22),
    ("HD", 87, 22),
    ("MSFT", 89, 22),
    ("CSCO", 87, 22),
    ("BHC", 82, 25),
    ("COST", 88, 22),
    ("UAA", 86, 22),
    ("ORCL", 84, 23),
    ("HRI", 116, 22),
    ("MDXG", 82, 25),
    ("KHC", 48, 22),
    ("Nikola Corp", 25, 23),
    ("DIS", 29, 22),
];

#[test]
fn the_merged_layout_holds_every_issuers_item_202_filings() {
    let files = submissions_in(REDFLAG);
    assert_eq!(files.len(), 28);
    let counted: BTreeMap<String, (usize, usize)> = files
        .values()
        .map(|s| {
            let all = item_202(s);
            let recent = all.iter().filter(|f| f.filing_date >= date("2021-01-01")).count();
            (label(s), (all.len(), recent))
        })
        .collect();
    let expected: BTreeMap<String, (usize, usize)> =
        REDFLAG_COUNTS.iter().map(|(t, a, r)| ((*t).to_owned(), (*a, *r))).collect();
    assert_eq!(counted, expected);
    let total: (usize, usize) = counted.values().fold((0, 0), |acc, c| (acc.0 + c.0, acc.1 + c.1));
    assert_eq!(total, (2_458, 637), "SOURCE.txt: 2,458 in all, 637 filed 2021-01-01 .. 2026-06-29");
    for s in files.values() {
        assert!(s.older_pages.is_empty(), "{}: the pages were merged", label(s));
    }
}

/// Edits one occurrence of `from` in a real recorded file.
fn edited(relative: &str, from: &str, to: &str) -> String {
    let text = read_data(relative);
    assert!(text.contains(from), "{relative} has no {from:?}");
    text.replacen(from, to, 1)
}

#[test]
fn malformed_submissions_are_clear_parse_errors() {
    let aapl = format!("{EDGAR_APP}/CIK0000320193.json");
    let input = "sec /submissions/CIK0000320193.json";
    let cases: Vec<(&str, String, &str)> = vec![
        ("empty", String::new(), "empty body"),
        ("html", "<!DOCTYPE html><html>Request Rate Threshold Exceeded</html>".into(), "not a JSON object"),
        ("truncated", read_data(&aapl)[..50_000].to_owned(), "EOF while parsing"),
        (
            "a filing date dropped",
            edited(&aapl, "\"filingDate\":[\"2025-04-25\",", "\"filingDate\":["),
            "filings.recent.filingDate has 999 entries but filings.recent.form has 1000",
        ),
        (
            "a bad acceptance",
            edited(&aapl, "\"2025-04-25T22:30:14.000Z\"", "\"2025-04-25 22:30\""),
            "filings.recent.acceptanceDateTime[0]: \"2025-04-25 22:30\" is not an RFC 3339 instant",
        ),
        (
            "a bad filing date",
            edited(&aapl, "\"filingDate\":[\"2025-04-25\"", "\"filingDate\":[\"25/04/2025\""),
            "filings.recent.filingDate[0]: \"25/04/2025\" is not YYYY-MM-DD",
        ),
        ("no cik", edited(&aapl, "\"cik\":\"0000320193\",", ""), "missing field `cik`"),
        ("a zero cik", edited(&aapl, "\"cik\":\"0000320193\"", "\"cik\":\"0000000000\""), "cik: invalid CIK"),
        ("no recent filings", edited(&aapl, "\"recent\":", "\"recnt\":"), "missing field `recent`"),
        (
            "a bad page name",
            edited(&aapl, "CIK0000320193-submissions-001.json", "../../etc/passwd"),
            "filings.files[0].name: \"../../etc/passwd\" is not an EDGAR page name",
        ),
    ];
    let mut failures = Vec::new();
    for (name, body, needle) in &cases {
        match parse_submissions(body, input) {
            Ok(_) => failures.push(format!("{name}: parsed")),
            Err(e) if e.input == input && e.to_string().contains(needle) => {}
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    let page = wire::parse_submissions_page("{\"form\": []}", "page 001").unwrap_err();
    assert!(page.to_string().contains("missing field `accessionNumber`"), "{page}");
}

/// The SEC's company tickers layout assembled from the CIKs, tickers and
/// names the recorded submissions files carry (no recording of the SEC's own
/// file exists in ../shared/data; the values are real, the layout is the
/// one documented at sec.gov/files/company_tickers.json).
fn company_tickers_body() -> String {
    let mut entries = serde_json::Map::new();
    let mut n = 0;
    for s in submissions_in(REDFLAG).values() {
        for t in &s.tickers {
            entries.insert(
                n.to_string(),
                serde_json::json!({"cik_str": s.cik.number(), "ticker": t, "title": s.name}),
            );
            n += 1;
        }
    }
    serde_json::Value::Object(entries).to_string()
}

#[test]
fn the_company_tickers_file_maps_tickers_to_ciks() {
    let parsed = parse_company_tickers(&company_tickers_body(), "company_tickers.json").unwrap();
    assert_eq!(parsed.by_ticker[&ticker("AAPL")], Cik::new(320_193).unwrap());
    assert_eq!(parsed.by_ticker[&ticker("UA")], parsed.by_ticker[&ticker("UAA")], "two classes, one issuer");
    assert_eq!(parsed.by_ticker.len(), 29, "27 issuers with tickers, UAA/UA and ORCL/ORCL-PD twice");
    for (body, needle) in [
        ("[]", "not a JSON object"),
        ("{\"0\": []}", "invalid length 0"),
        ("{\"0\": {\"ticker\": \"AAPL\"}}", "missing field `cik_str`"),
        ("{\"0\": {\"cik_str\": 0, \"ticker\": \"AAPL\"}}", "entry \"0\": cik_str: invalid CIK"),
    ] {
        let e = parse_company_tickers(body, "company_tickers.json").unwrap_err();
        assert!(e.to_string().contains(needle) && e.to_string().contains("company_tickers.json"), "{e}");
    }
}

#[tokio::test]
async fn the_recorded_provider_maps_tickers_from_the_files_themselves() {
    let sec = RecordedSec::new(vec![data_dir().join(EDGAR_APP), data_dir().join(REDFLAG)], 4);
    let tickers = sec.tickers().unwrap();
    assert_eq!(tickers.len(), 29);
    assert!(!tickers.iter().any(|t| t.as_str().contains("NIKOLA")), "Nikola lists no ticker");
    // AAPL is in both folders: the first (the SEC's exact layout, captured
    // 2025-04) wins, and it says how far back its newest page reaches.
    let aapl = sec.earnings_filings(&ticker("AAPL"), date("2010-01-01")).await.unwrap();
    assert!(aapl.source.contains(EDGAR_APP), "{}", aapl.source);
    assert_eq!(aapl.covers_from, Some(date("2014-09-23")), "page 001 (1994-2014) was not recorded");
    assert_eq!(aapl.filings.len(), 43);
    assert!(aapl.filings.windows(2).all(|w| w[0].accepted_at >= w[1].accepted_at), "newest first");
    let pep = sec.earnings_filings(&ticker("PEP"), date("2021-01-01")).await.unwrap();
    assert_eq!((pep.cik.number(), pep.filings.len()), (77_476, 22));
    let e = sec.earnings_filings(&ticker("ZZZZ"), date("2021-01-01")).await.unwrap_err();
    assert!(e.to_string().contains("no recorded submissions file lists it"), "{e}");
}

/// Every recorded Item 2.02 8-K of the 28 issuers with its timing, by ticker.
fn recorded_timings() -> BTreeMap<String, Vec<(Filing, FilingTiming)>> {
    let calendar = NyseCalendar::new();
    submissions_in(REDFLAG)
        .values()
        .map(|s| {
            let timings = item_202(s).into_iter().map(|f| (f.clone(), filing_timing(f, &calendar))).collect();
            (label(s), timings)
        })
        .collect()
}

#[test]
fn every_item_202_filing_gets_a_timing_and_a_rule() {
    let all = recorded_timings();
    assert_eq!(all.values().map(Vec::len).sum::<usize>(), 2_458);
    let since = |t: &str| -> Vec<&(Filing, FilingTiming)> {
        all[t].iter().filter(|(f, _)| f.filing_date >= date("2021-01-01")).collect()
    };
    let rules = |t: &str| -> BTreeSet<(&'static str, &'static str)> {
        since(t).iter().map(|(_, ft)| (ft.timing.code(), ft.rule.code())).collect()
    };
    let only = |timing: Timing, rule: TimingRule| BTreeSet::from([(timing.code(), rule.code())]);
    // SOURCE.txt, "Known timings": AAPL 16:30 ET every quarter, MSFT
    // 16:03-16:08, NKE 16:15-16:24; WMT 06:57-06:59, PG 07:01-07:06, KO
    // 06:58-07:00; INTC 11:04-12:10 (23 since 2021); PEP the evening
    // before, dated the report day (17:41-19:16 ET).
    for t in ["AAPL", "MSFT", "NKE"] {
        assert_eq!(rules(t), only(Timing::Amc, TimingRule::AfterClose), "{t}");
    }
    for t in ["WMT", "PG", "KO"] {
        assert_eq!(rules(t), only(Timing::Bmo, TimingRule::BeforeOpen), "{t}");
    }
    assert_eq!(rules("INTC"), only(Timing::Unknown, TimingRule::DuringMarketHours));
    assert_eq!(since("INTC").len(), 23);
    // PepsiCo releases before the open: every one is BMO, most by the
    // evening rule (one, 2023-10-10, was accepted at 06:05 ET that morning).
    assert!(since("PEP").iter().all(|(_, ft)| ft.timing == Timing::Bmo));
    for (f, ft) in since("PEP").iter().filter(|(_, ft)| ft.rule == TimingRule::EveningDatedNextDay) {
        assert_eq!(ft.report_date, f.filing_date, "the timing belongs to EDGAR's date, the report day");
        assert_eq!((f.filing_date - f.accepted_et().date_naive()).num_days(), 1, "{}", f.accession);
        let at = f.accepted_et().time();
        assert!(at >= chrono::NaiveTime::from_hms_opt(17, 41, 0).unwrap(), "{}: {at}", f.accession);
        assert!(at <= chrono::NaiveTime::from_hms_opt(19, 17, 0).unwrap(), "{}: {at}", f.accession);
    }
    assert!(since("PEP").iter().filter(|(_, ft)| ft.rule == TimingRule::EveningDatedNextDay).count() >= 20);
    // Whatever the issuer: a known timing is never read from an acceptance
    // during a session, and an amendment never settles anything.
    let calendar = NyseCalendar::new();
    for (f, ft) in all.values().flatten() {
        let accepted = f.accepted_et();
        if let Some(session) = calendar.session(accepted.date_naive())
            && accepted >= session.open
            && accepted < session.close
        {
            assert_eq!(ft.timing, Timing::Unknown, "{}", f.accession);
        }
        if f.is_amendment() {
            assert_eq!(ft.rule, TimingRule::Amendment, "{}", f.accession);
        }
    }
}

/// Independent evidence of when a release came out.
enum Evidence {
    /// The trading-desk calendar's row (pmak99__trading-desk-public).
    TradingDesk(&'static str),
    /// Alpha Vantage EARNINGS `reportTime` for AAPL (OpenBB's recording of 2024-06-27).
    AlphaVantage(&'static str),
    /// The larger gap in the daily bars (Krzysztof-Smykla, Yahoo), by the
    /// timing check applied both ways.
    Gap(&'static str),
}

/// The timing an evidence gives for `ticker` on `day`.
fn evidence(ticker_text: &str, e: &Evidence) -> (NaiveDate, Timing) {
    match e {
        Evidence::TradingDesk(day) => {
            let events = ivcd::providers::files::trading_desk::parse_trading_desk_calendar(
                &read_data(TRADING_DESK),
                TRADING_DESK,
            )
            .unwrap();
            let e = events
                .iter()
                .find(|e| e.ticker.as_str() == ticker_text && e.report_date == date(day))
                .unwrap();
            (e.report_date, e.timing)
        }
        Evidence::AlphaVantage(day) => {
            let json: serde_json::Value = serde_json::from_str(&read_data(AV_AAPL)).unwrap();
            let q = json["quarterlyEarnings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|q| q["reportedDate"] == *day)
                .unwrap();
            (date(day), Timing::parse_vendor(q["reportTime"].as_str().unwrap()).unwrap())
        }
        Evidence::Gap(day) => {
            let g = timing_audit::gap_evidence(
                &NyseCalendar::new(),
                date(day),
                &bars(ticker_text),
                &TimingCheck::default(),
            )
            .unwrap();
            (date(day), g.timing)
        }
    }
}

fn bars(ticker_text: &str) -> BTreeMap<NaiveDate, DailyBar> {
    let relative = format!("{BARS}/{ticker_text}.csv");
    ivcd::providers::files::ohlcv::parse_ohlcv_csv(&read_data(&relative), &relative)
        .unwrap()
        .into_iter()
        .map(|b| (b.date, b))
        .collect()
}

#[test]
fn filing_timings_match_independent_evidence() {
    use Evidence::{AlphaVantage, Gap, TradingDesk};
    // (ticker, accession, evidence, expected timing from the filing, rule).
    // The filing must name the same two sessions as the evidence, except
    // where it must say unknown (Intel: the release is after the close, the
    // 8-K is accepted mid-session).
    let cases: [(&str, &str, Evidence, Timing, TimingRule); 16] = [
        // Apple, accepted 16:30 ET; Alpha Vantage reportTime "post-market".
        ("AAPL", "0000320193-24-000005", AlphaVantage("2024-02-01"), Timing::Amc, TimingRule::AfterClose),
        ("AAPL", "0000320193-22-000006", AlphaVantage("2022-01-27"), Timing::Amc, TimingRule::AfterClose),
        // Apple 2025-01-30: trading-desk AMC.
        ("AAPL", "0000320193-25-000007", TradingDesk("2025-01-30"), Timing::Amc, TimingRule::AfterClose),
        // Walmart, accepted 06:59 ET: trading-desk BMO; the bars gap +4.77%
        // at the 02-20 open against -0.49% at the next.
        ("WMT", "0000104169-24-000019", TradingDesk("2024-02-20"), Timing::Bmo, TimingRule::BeforeOpen),
        ("WMT", "0000104169-24-000088", Gap("2024-05-16"), Timing::Bmo, TimingRule::BeforeOpen),
        // PepsiCo: accepted 2024-02-08 18:01 ET, dated 02-09; trading-desk BMO on 02-09.
        (
            "PEP",
            "0000077476-24-000010",
            TradingDesk("2024-02-09"),
            Timing::Bmo,
            TimingRule::EveningDatedNextDay,
        ),
        (
            "PEP",
            "0000077476-23-000048",
            TradingDesk("2023-07-13"),
            Timing::Bmo,
            TimingRule::EveningDatedNextDay,
        ),
        // Procter & Gamble 07:02 ET and Coca-Cola 06:57 ET: trading-desk BMO.
        ("PG", "0000080424-24-000013", TradingDesk("2024-01-23"), Timing::Bmo, TimingRule::BeforeOpen),
        ("KO", "0000021344-24-000004", TradingDesk("2024-02-13"), Timing::Bmo, TimingRule::BeforeOpen),
        // Microsoft 16:08 ET: trading-desk AMC; gap -5.33% at the 01-30 open.
        ("MSFT", "0000950170-25-010484", Gap("2025-01-29"), Timing::Amc, TimingRule::AfterClose),
        // Oracle 16:13 ET: +32.16% at the 2025-09-10 open.
        ("ORCL", "0001193125-25-199175", Gap("2025-09-09"), Timing::Amc, TimingRule::AfterClose),
        // Nike 16:16 ET: -18.11% at the 2024-06-28 open.
        ("NKE", "0000320187-24-000028", Gap("2024-06-27"), Timing::Amc, TimingRule::AfterClose),
        // Costco: accepted 2022-12-08 18:48 ET, dated 12-09; the trading desk
        // says AMC on 12-08: BMO on 12-09 is the same pair of sessions.
        (
            "COST",
            "0000909832-22-000029",
            TradingDesk("2022-12-08"),
            Timing::Bmo,
            TimingRule::EveningDatedNextDay,
        ),
        // Intel, accepted 11:07 ET and 12:08 ET: the release was after the
        // close (trading-desk AMC; -10.84% and -24.48% at the next opens),
        // but a mid-session acceptance says nothing.
        (
            "INTC",
            "0000050863-24-000008",
            TradingDesk("2024-01-25"),
            Timing::Unknown,
            TimingRule::DuringMarketHours,
        ),
        ("INTC", "0000050863-24-000008", Gap("2024-01-25"), Timing::Unknown, TimingRule::DuringMarketHours),
        ("INTC", "0000050863-24-000122", Gap("2024-08-01"), Timing::Unknown, TimingRule::DuringMarketHours),
    ];
    let all = recorded_timings();
    let calendar = NyseCalendar::new();
    let mut failures = Vec::new();
    for (t, accession, ev, timing, rule) in &cases {
        let (_, ft) = all[*t].iter().find(|(f, _)| f.accession == *accession).unwrap();
        let (day, evidence_timing) = evidence(t, ev);
        assert!(
            matches!(evidence_timing, Timing::Bmo | Timing::Amc),
            "{t} {accession}: the evidence must know"
        );
        if (ft.timing, ft.rule) != (*timing, *rule) {
            failures.push(format!("{t} {accession}: {} {} (want {timing} {rule})", ft.timing, ft.rule));
            continue;
        }
        if ft.is_known() {
            let filing = event_sessions(&calendar, ft.report_date, ft.timing);
            let evidence = event_sessions(&calendar, day, evidence_timing);
            if filing != evidence {
                failures.push(format!("{t} {accession}: sessions {filing:?}, evidence {evidence:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// One issuer's calendar events, their audit and its daily bars.
type Audited = (Vec<EarningsEvent>, Vec<EventAudit>, BTreeMap<NaiveDate, DailyBar>);

/// The audit of the 28 recorded issuers: the trading-desk calendar's events
/// of those tickers, their recorded filings and their daily bars.
fn audit_recorded() -> BTreeMap<String, Audited> {
    let calendar = NyseCalendar::new();
    let events = ivcd::providers::files::trading_desk::parse_trading_desk_calendar(
        &read_data(TRADING_DESK),
        TRADING_DESK,
    )
    .unwrap();
    let timings = recorded_timings();
    let mut out = BTreeMap::new();
    for (t, filings) in &timings {
        let Ok(tk) = Ticker::new(t) else { continue };
        let mine: Vec<EarningsEvent> = events.iter().filter(|e| e.ticker == tk).cloned().collect();
        let evidence: Vec<FilingEvidence> = filings
            .iter()
            .map(|(filing, timing)| FilingEvidence { filing: filing.clone(), timing: *timing })
            .collect();
        let path = data_dir().join(format!("{BARS}/{t}.csv"));
        let bars = if path.is_file() { bars(t) } else { BTreeMap::new() };
        let audits = timing_audit::audit_events(
            &mine,
            &evidence,
            &bars,
            &calendar,
            &TimingCheck::default(),
            date("2026-06-26"),
        );
        out.insert(t.clone(), (mine, audits, bars));
    }
    out
}

#[test]
fn the_audit_of_the_recorded_issuers_reproduces_the_curators_check() {
    let started = std::time::Instant::now();
    let audited = audit_recorded();
    let elapsed = started.elapsed();
    let mut counts = AuditCounts::default();
    for (_, audits, _) in audited.values() {
        counts.add(audits);
    }
    // SOURCE.txt (annanyashah9), checked against the trading-desk calendar:
    // "307 of 323 same-date events agree on BMO/AMC using 'accepted < 09:30
    // ET or after 17:30 ET the previous evening -> BMO, >= 16:00 -> AMC'.
    // 15 of the 16 disagreements are INTC; the 16th is AAPL 2026-01-29
    // (16:30, pmak99 says UNKNOWN)". Here those 16 are `unknown`: a
    // mid-session acceptance and a calendar without a timing say nothing.
    // The curator counted filings of 2021 on (the 637 of its summary). One
    // more is `unknown` here: INTC 2024-08-01, which the calendar lists as
    // DMH and Intel's 8-K was accepted at 12:08 ET; the curator's check
    // counted "during market hours" on both sides as agreeing, but neither
    // names a reaction session (the bars do: -24.48% at the 08-02 open).
    let same_date: Vec<(&String, &EventAudit)> = audited
        .iter()
        .flat_map(|(t, (_, audits, _))| audits.iter().map(move |a| (t, a)))
        .filter(|(_, a)| a.report_date >= date("2021-01-01"))
        .filter(|(_, a)| {
            a.filing
                .as_ref()
                .is_some_and(|f| f.filing.filing_date == a.report_date && !f.filing.is_amendment())
        })
        .collect();
    assert_eq!(same_date.len(), 323);
    let agree = same_date.iter().filter(|(_, a)| a.calendar_vs_filing == Agreement::Agree).count();
    let unknown: Vec<String> = same_date
        .iter()
        .filter(|(_, a)| a.calendar_vs_filing != Agreement::Agree)
        .map(|(t, a)| format!("{t} {} {}", a.report_date, a.calendar_vs_filing.code()))
        .collect();
    assert_eq!(unknown.len(), 17, "{unknown:#?}");
    assert_eq!(agree, 306);
    assert_eq!(
        unknown.iter().filter(|u| u.starts_with("INTC ") && u.ends_with(" unknown")).count(),
        16,
        "{unknown:#?}"
    );
    assert!(unknown.contains(&"INTC 2024-08-01 unknown".to_owned()), "{unknown:#?}");
    assert!(unknown.contains(&"AAPL 2026-01-29 unknown".to_owned()), "{unknown:#?}");
    eprintln!("audit of {} events in {elapsed:?}: {counts:#?}", counts.events);
}

#[test]
fn the_filings_settle_an_unknown_timing_and_move_three_misdated_events() {
    // What the filings change in the 28 issuers' history (a window of 12
    // before 2026-02-26):
    // - AAPL 2026-01-29 has no timing in the trading-desk calendar
    //   (SOURCE.txt: "16:30, pmak99 says UNKNOWN"); its 8-K accepted 16:30
    //   ET settles it as AMC, so the history gains that event: the gap
    //   open(2026-01-30) / close(2026-01-29) - 1.
    // - COST 2023-06-01 and 2024-06-06 (trading-desk BMO): no Item 2.02 8-K
    //   on those dates; the quarter's were accepted 2023-05-25 16:22 ET and
    //   2024-05-30 16:26 ET, seven days earlier, so the history measures those
    //   releases (AMC). EarningsWatcher lists the same wrong dates, with an
    //   implied move of only 1.8% and 1.3% at the close before them.
    // - ORCL 2026-03-09 (trading-desk AMC): the 8-K was accepted 2026-03-10
    //   16:12 ET, and EarningsWatcher lists ORCL on 2026-03-10 too.
    let calendar = NyseCalendar::new();
    let check = TimingCheck::default();
    let mut changed = Vec::new();
    for (t, (events, audits, bars)) in audit_recorded() {
        let change = timing_audit::history_change(
            events.as_slice(),
            &audits,
            &bars,
            &calendar,
            &check,
            12,
            date("2026-02-26"),
        );
        for day in &change.changed {
            let settled = audits.iter().find(|a| a.report_date == *day).and_then(|a| a.settled).unwrap();
            changed.push(format!("{t} {day} -> {} {}", settled.0, settled.1));
        }
        if t == "AAPL" {
            let added = change.settled.moves.iter().find(|m| m.report_date == date("2026-01-29")).unwrap();
            let (close, open) = (bars[&date("2026-01-29")].close, bars[&date("2026-01-30")].open);
            let expected = (open / close - rust_decimal::Decimal::ONE).to_string().parse::<f64>().unwrap();
            assert!((added.gap_move - expected).abs() < 1e-12, "{} vs {expected}", added.gap_move);
            assert!(change.calendar.moves.iter().all(|m| m.report_date != date("2026-01-29")));
            assert!(change.mean_change().is_some());
        }
    }
    assert_eq!(
        changed,
        [
            "AAPL 2026-01-29 -> 2026-01-29 AMC",
            "COST 2023-06-01 -> 2023-05-25 AMC",
            "COST 2024-06-06 -> 2024-05-30 AMC",
            "ORCL 2026-03-09 -> 2026-03-10 AMC",
        ]
    );
    let watcher = read_data("earnings-watcher__earnings-implied-moves/earnings_implied_moves.csv");
    for row in ["COST,Costco,2023-06-01,1.8,", "COST,Costco,2024-06-06,1.3,", "ORCL,Oracle,2026-03-10,"] {
        assert!(watcher.lines().any(|l| l.starts_with(row)), "EarningsWatcher: {row}");
    }
}

#[test]
fn the_gaps_catch_some_of_the_december_2025_reports_the_calendar_puts_after_the_close() {
    // Issue 23: the trading-desk export marks these December 2025
    // before-the-open reports as after the close. No SEC filing of theirs is
    // recorded, so only the gaps can speak: the timing check (|gap| >= 5%
    // and twice the other) convicts CIEN (+6.54% at the 12-11 open), DG
    // (+5.33%) and HRL (+7.86%); the others moved less than 5% at the open,
    // so the gaps say nothing, and never confirm the calendar's AMC.
    let calendar = NyseCalendar::new();
    let events = ivcd::providers::files::trading_desk::parse_trading_desk_calendar(
        &read_data(TRADING_DESK),
        TRADING_DESK,
    )
    .unwrap();
    let mut verdicts = BTreeMap::new();
    for t in ["ACN", "AZO", "CIEN", "CTAS", "DRI", "FDS", "GIS", "KR", "PAYX", "JBL", "DG", "HRL"] {
        let mine: Vec<EarningsEvent> = events
            .iter()
            .filter(|e| {
                e.ticker.as_str() == t && e.timing == Timing::Amc && e.report_date >= date("2025-12-01")
            })
            .filter(|e| e.report_date <= date("2025-12-31"))
            .cloned()
            .collect();
        assert_eq!(mine.len(), 1, "{t}");
        let audits = timing_audit::audit_events(
            &mine,
            &[],
            &bars(t),
            &calendar,
            &TimingCheck::default(),
            date("2026-02-25"),
        );
        verdicts.insert(t, (audits[0].verdict, audits[0].gap_timing()));
    }
    let disagree: Vec<&str> =
        verdicts.iter().filter(|(_, v)| v.0 == Agreement::Disagree).map(|(t, _)| *t).collect();
    assert_eq!(disagree, ["CIEN", "DG", "HRL"]);
    assert!(verdicts.values().all(|v| v.0 != Agreement::Agree && v.1 != Timing::Amc), "{verdicts:?}");
    assert!(verdicts.iter().filter(|(_, v)| v.0 == Agreement::Disagree).all(|(_, v)| v.1 == Timing::Bmo));
}

#[tokio::test]
async fn the_audit_through_the_store_and_its_view() {
    use ivcd::jobs::filings::{audit_timing, fetch_filings};
    let dir = tempfile::tempdir().unwrap();
    let store = ivcd::store::Store::open(&dir.path().join("ivcd.db")).unwrap();
    let calendar = NyseCalendar::new();
    let at = "2026-06-29T12:00:00Z".parse::<chrono::DateTime<Utc>>().unwrap();
    let tickers: Vec<Ticker> = ["AAPL", "PEP", "INTC", "COST"].into_iter().map(ticker).collect();
    let all_events = ivcd::providers::files::trading_desk::parse_trading_desk_calendar(
        &read_data(TRADING_DESK),
        TRADING_DESK,
    )
    .unwrap();
    for t in &tickers {
        let events: Vec<EarningsEvent> = all_events.iter().filter(|e| e.ticker == *t).cloned().collect();
        let bars: Vec<DailyBar> = bars(t.as_str()).into_values().collect();
        let (t, source) = (t.clone(), "yahoo".to_owned());
        store
            .run(move |db| {
                db.upsert_events(&events, at)?;
                db.upsert_bars(&t, &bars, &source, at)
            })
            .await
            .unwrap();
    }
    let sec = RecordedSec::new(vec![data_dir().join(REDFLAG)], 0);
    let fetched = fetch_filings(&sec, &store, &calendar, &tickers, date("2019-01-01"), at).await.unwrap();
    assert!(fetched.failures.is_empty(), "{:?}", fetched.failures);
    // SOURCE.txt: 22 + 22 + 23 + 22 since 2021; 2019-2020 adds 8 per issuer.
    assert!(fetched.filings >= 89 + 24, "{fetched:?}");
    let (audits, counts) =
        audit_timing(&store, &calendar, &TimingCheck::default(), 12, &tickers, date("2026-06-26"), at)
            .await
            .unwrap();
    let rows = store.run(|db| db.timing_audit(None)).await.unwrap();
    assert_eq!(rows.len(), counts.events);
    let audited: BTreeMap<(String, NaiveDate), Agreement> = audits
        .iter()
        .flat_map(|a| a.events.iter().map(move |e| ((a.ticker.to_string(), e.report_date), e.verdict)))
        .collect();
    let viewed: BTreeMap<(String, NaiveDate), Agreement> =
        rows.iter().map(|r| ((r.ticker.to_string(), r.report_date), r.verdict)).collect();
    assert_eq!(audited, viewed);
    let pep =
        rows.iter().find(|r| r.ticker.as_str() == "PEP" && r.report_date == date("2024-02-09")).unwrap();
    assert_eq!((pep.calendar_timing, pep.filing_timing), (Timing::Bmo, Timing::Bmo));
    assert_eq!(pep.filing_rule, Some(TimingRule::EveningDatedNextDay));
    assert_eq!(pep.filing_accepted_at, Some("2024-02-08T23:01:49Z".parse().unwrap()));
    let intc =
        rows.iter().find(|r| r.ticker.as_str() == "INTC" && r.report_date == date("2024-01-25")).unwrap();
    assert_eq!(
        (intc.filing_timing, intc.gap_timing, intc.verdict),
        (Timing::Unknown, Timing::Amc, Agreement::Agree)
    );
    assert!(intc.detail.contains("during_market_hours"), "{}", intc.detail);
    // A calendar that changes its mind hides the stale audit until the next one.
    let moved = EarningsEvent {
        timing: Timing::Bmo,
        ..all_events
            .iter()
            .find(|e| e.ticker.as_str() == "INTC" && e.report_date == date("2024-01-25"))
            .unwrap()
            .clone()
    };
    store.run(move |db| db.upsert_events(&[moved], at)).await.unwrap();
    let rows = store.run(|db| db.timing_audit(Some(&ticker("INTC")))).await.unwrap();
    assert!(rows.iter().all(|r| r.report_date != date("2024-01-25")));
}

mod http {
    //! The live client against wiremock serving the recorded AAPL response.

    use std::sync::Arc;

    use ivcd::providers::sec::cache::CachedSec;
    use ivcd::providers::sec::client::SecClient;
    use ivcd::providers::sec::{SecConfig, SecFilings};
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::{EDGAR_APP, company_tickers_body, date, ticker};
    use crate::support::read_data;

    const AGENT: &str = "Jane Doe jane@example.com";

    fn config(server: &MockServer) -> SecConfig {
        SecConfig {
            user_agent: AGENT.into(),
            base_url: server.uri(),
            tickers_url: format!("{}/files/company_tickers.json", server.uri()),
            ..SecConfig::default()
        }
    }

    fn client(config: &SecConfig) -> SecClient {
        SecClient::new(config, Arc::new(ivcd::clock::SystemClock)).unwrap()
    }

    async fn serve_apple(server: &MockServer, expect_submissions: u64) {
        Mock::given(method("GET"))
            .and(path("/files/company_tickers.json"))
            .and(header("user-agent", AGENT))
            .respond_with(ResponseTemplate::new(200).set_body_string(company_tickers_body()))
            .mount(server)
            .await;
        Mock::given(method("GET"))
            .and(path("/submissions/CIK0000320193.json"))
            .and(header("user-agent", AGENT))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_string(read_data(&format!("{EDGAR_APP}/CIK0000320193.json"))),
            )
            .expect(expect_submissions)
            .mount(server)
            .await;
    }

    #[tokio::test]
    async fn the_client_names_itself_maps_the_ticker_and_reads_the_filings() {
        let server = MockServer::start().await;
        serve_apple(&server, 1).await;
        let sec = client(&config(&server));
        let aapl = sec.earnings_filings(&ticker("AAPL"), date("2021-01-01")).await.unwrap();
        assert_eq!(aapl.cik.to_string(), "0000320193");
        assert_eq!(aapl.filings.len(), 17, "SOURCE.txt: 17 item-2.02 8-Ks since 2021");
        assert_eq!(sec.requests_sent(), 2, "the tickers file, then the submissions; no older page needed");
        let e = sec.earnings_filings(&ticker("ZZZZ"), date("2021-01-01")).await.unwrap_err();
        assert!(e.to_string().contains("ZZZZ in the SEC's company tickers file"), "{e}");
        assert_eq!(sec.requests_sent(), 2, "the tickers file is read once");
    }

    #[tokio::test]
    async fn an_older_page_that_fails_leaves_the_newest_and_says_how_far_it_reaches() {
        let server = MockServer::start().await;
        serve_apple(&server, 1).await;
        let sec = client(&config(&server));
        // Since 2010: the newest page starts 2014-09-23, so page 001 is asked
        // for; the mock has none (404).
        let aapl = sec.earnings_filings(&ticker("AAPL"), date("2010-01-01")).await.unwrap();
        assert_eq!(aapl.covers_from, Some(date("2014-09-23")));
        assert_eq!(aapl.filings.len(), 43);
        let asked: Vec<String> =
            server.received_requests().await.unwrap().iter().map(|r| r.url.path().to_owned()).collect();
        assert!(asked.contains(&"/submissions/CIK0000320193-submissions-001.json".to_owned()), "{asked:?}");
    }

    #[tokio::test]
    async fn at_most_ten_requests_a_second() {
        let server = MockServer::start().await;
        serve_apple(&server, 11).await;
        let sec = client(&config(&server));
        let cik = ivcd::analysis::filing_timing::Cik::new(320_193).unwrap();
        let started = std::time::Instant::now();
        for _ in 0..11 {
            sec.submissions(cik).await.unwrap();
        }
        // Ten in any second: the eleventh goes a second after the first was answered.
        assert!(started.elapsed() >= std::time::Duration::from_millis(990), "{:?}", started.elapsed());
    }

    #[tokio::test]
    async fn the_cache_answers_the_second_time() {
        let server = MockServer::start().await;
        serve_apple(&server, 1).await;
        let dir = tempfile::tempdir().unwrap();
        let store = ivcd::store::Store::open(&dir.path().join("ivcd.db")).unwrap();
        let inner: Arc<dyn SecFilings> = Arc::new(client(&config(&server)));
        let cached = CachedSec::new(inner, store, Arc::new(ivcd::clock::SystemClock), 12);
        let first = cached.earnings_filings(&ticker("AAPL"), date("2021-01-01")).await.unwrap();
        let second = cached.earnings_filings(&ticker("AAPL"), date("2021-01-01")).await.unwrap();
        assert_eq!(first, second);
        // `expect(1)` on the submissions mock is verified when the server drops.
    }

    #[tokio::test]
    async fn a_refusal_says_what_to_check_and_no_agent_no_client() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(403).set_body_string(
                    "<html>Your Request Originates from an Undeclared Automated Tool</html>",
                ),
            )
            .mount(&server)
            .await;
        let e =
            client(&config(&server)).earnings_filings(&ticker("AAPL"), date("2021-01-01")).await.unwrap_err();
        assert!(e.to_string().contains("sec.user_agent") && e.to_string().contains("403"), "{e}");
        assert!(!e.is_transient());
        let unset = SecConfig { user_agent: String::new(), ..config(&server) };
        let e = SecClient::new(&unset, Arc::new(ivcd::clock::SystemClock)).unwrap_err();
        assert!(e.to_string().contains("sec.user_agent is not set"), "{e}");
    }
}

/// The moves stored for `ticker`: report date, timing.
async fn stored_move_dates(store: &ivcd::store::Store, t: &Ticker) -> Vec<(NaiveDate, Timing)> {
    let t = t.clone();
    store
        .run(move |db| db.moves_for_ticker(&t))
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.report_date, m.timing))
        .collect()
}

/// The recorded trading-desk calendar and the Yahoo bars under `data`, as
/// the backfill tests read them.
fn trading_desk_files(data: &std::path::Path) -> ivcd::replay::RecordedFiles<'_> {
    use ivcd::providers::files::recorded::{self, CalendarFormat};
    use std::path::Path;
    ivcd::replay::RecordedFiles {
        events: recorded::load_calendar(data, Path::new(TRADING_DESK), CalendarFormat::TradingDesk).unwrap(),
        calendar_source: format!("files:{TRADING_DESK}"),
        calendar_path: Path::new(TRADING_DESK),
        data_dir: data,
        bars_dir: Path::new(BARS),
        chains: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backfill_measures_with_the_filings_timing_unless_switched_off() {
    use ivcd::jobs::backfill::backfill;
    use ivcd::replay::recorded_context;
    use std::sync::Arc;
    // After the 2026-02-25 close: AAPL's 2026-01-29 report is UNKNOWN in the
    // trading-desk calendar, so the backfill cannot measure it until its
    // 8-K (accepted 16:30 ET) is stored.
    let at = "2026-02-26T01:00:00Z".parse::<chrono::DateTime<Utc>>().unwrap();
    let aapl = vec![ticker("AAPL")];
    for switch in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("ivcd.db");
        let data = data_dir();
        let files = trading_desk_files(&data);
        let mut config = ivcd::config::Config { database: db.clone(), ..ivcd::config::Config::default() };
        config.sec.history_uses_filing_timing = switch;
        let store = ivcd::store::Store::open(&db).unwrap();
        let ctx = recorded_context(files, store.clone(), &config, Arc::new(ivcd::clock::FixedClock::new(at)));
        backfill(&ctx, at, &aapl, &|_, _, _| {}).await.unwrap();
        let before = stored_move_dates(&store, &aapl[0]).await;
        assert!(!before.iter().any(|(d, _)| *d == date("2026-01-29")), "{before:?}");
        let sec = RecordedSec::new(vec![data_dir().join(REDFLAG)], 0);
        ivcd::jobs::filings::fetch_filings(&sec, &store, &NyseCalendar::new(), &aapl, date("2021-01-01"), at)
            .await
            .unwrap();
        let again = backfill(&ctx, at, &aapl, &|_, _, _| {}).await.unwrap();
        let after = stored_move_dates(&store, &aapl[0]).await;
        if switch {
            assert_eq!(again.moves_unchanged, 0, "a new filing changes what the moves are computed from");
            assert_eq!(after.len(), before.len() + 1);
            assert!(after.contains(&(date("2026-01-29"), Timing::Amc)), "{after:?}");
        } else {
            assert_eq!(again.moves_unchanged, 1);
            assert_eq!(after, before);
        }
    }
}

mod wiring {
    //! The SEC filings and the timing audit inside the backfill (the
    //! daemon's nightly slot and `ivcd backfill`), and the audit in `ivcd
    //! moves`, against the recorded EDGAR answers served by a local fake.

    use std::sync::Arc;

    use chrono::Utc;
    use ivcd::domain::{Ticker, Timing};
    use ivcd::providers::sec::SecConfig;
    use ivcd::providers::sec::client::SecClient;
    use ivcd::replay::recorded_context;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::{REDFLAG, company_tickers_body, date, stored_move_dates, ticker, trading_desk_files};
    use crate::support::cmd::{all_output, ivcd_config, stdout};
    use crate::support::data::TRADING_DESK;
    use crate::support::{data_dir, read_data};

    const AGENT: &str = "Jane Doe jane@example.com";

    /// A fake EDGAR: the company tickers file, AAPL's and PEP's recorded submissions, and a 500 for
    /// INTC's (CIK 50863), which fails that ticker.
    async fn edgar() -> MockServer {
        let server = MockServer::start().await;
        for (route, body) in [
            ("/files/company_tickers.json", company_tickers_body()),
            ("/submissions/CIK0000320193.json", read_data(&format!("{REDFLAG}/CIK0000320193.json"))),
            ("/submissions/CIK0000077476.json", read_data(&format!("{REDFLAG}/CIK0000077476.json"))),
        ] {
            Mock::given(method("GET"))
                .and(path(route))
                .respond_with(ResponseTemplate::new(200).set_body_string(body))
                .mount(&server)
                .await;
        }
        Mock::given(method("GET"))
            .and(path("/submissions/CIK0000050863.json"))
            .respond_with(ResponseTemplate::new(500).set_body_string("{\"error\":\"injected\"}"))
            .mount(&server)
            .await;
        server
    }

    fn sec_config(server: &MockServer) -> SecConfig {
        let mut sec = SecConfig {
            user_agent: AGENT.into(),
            base_url: server.uri(),
            tickers_url: format!("{}/files/company_tickers.json", server.uri()),
            ..SecConfig::default()
        };
        sec.retry.max_attempts = 2;
        sec.retry.initial_delay_ms = 10;
        sec
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_backfill_fetches_filings_first_audits_last_and_one_failure_stops_nothing() {
        let server = edgar().await;
        // After the 2026-02-25 close (see the_backfill_measures_with_the_filings_timing_unless_switched_off).
        let at = "2026-02-26T01:00:00Z".parse::<chrono::DateTime<Utc>>().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("ivcd.db");
        let data = data_dir();
        let files = trading_desk_files(&data);
        let mut config = ivcd::config::Config { database: db.clone(), ..ivcd::config::Config::default() };
        config.sec = sec_config(&server);
        let store = ivcd::store::Store::open(&db).unwrap();
        let clock = Arc::new(ivcd::clock::FixedClock::new(at));
        let mut ctx = recorded_context(files, store.clone(), &config, clock.clone());
        ctx.providers.sec = Some(Arc::new(SecClient::new(&config.sec, clock).unwrap()));
        let tickers: Vec<Ticker> = ["AAPL", "INTC", "PEP"].into_iter().map(ticker).collect();
        let counts = ivcd::jobs::run_backfill(&ctx, at, tickers.clone(), &|_, _, _| {}).await.unwrap();
        let sec = counts.sec.expect("[sec] is configured");
        let failed: Vec<&str> = sec.filings.failures.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(failed, ["INTC"], "{:?}", sec.filings.failures);
        assert!(sec.filings.failures[0].1.contains("500"), "{:?}", sec.filings.failures);
        let stored = |t: &str| {
            crate::support::db::count(&db, &format!("SELECT count(*) FROM sec_filings WHERE ticker = '{t}'"))
        };
        // Since 1500 days before 2026-02-25 (2022-01-17): AAPL's and PEP's
        // recorded Item 2.02 8-Ks from then on.
        assert!(stored("AAPL") >= 16 && stored("PEP") >= 16, "{} {}", stored("AAPL"), stored("PEP"));
        assert_eq!(stored("INTC"), 0);
        assert_eq!(usize::try_from(stored("AAPL") + stored("PEP")).unwrap(), sec.filings.filings);
        // The filings were stored before the moves were measured: AAPL's
        // 2026-01-29 report, UNKNOWN in the calendar, is measured AMC (its 8-K
        // was accepted at 16:30 ET).
        let moves = stored_move_dates(&store, &tickers[0]).await;
        assert!(moves.contains(&(date("2026-01-29"), Timing::Amc)), "{moves:?}");
        // The audit ran after, over all three (INTC without a filing).
        let audit = sec.audit.expect("the audit ran");
        let rows = store.run(|db| db.timing_audit(None)).await.unwrap();
        assert_eq!(rows.len(), audit.events);
        for t in &tickers {
            assert!(rows.iter().any(|r| r.ticker == *t), "{t} audited");
        }
        assert!(rows.iter().filter(|r| r.ticker.as_str() == "INTC").all(|r| r.filing_accession.is_none()));
        // The job run's counts carry it.
        let runs = crate::support::db::query(&db, "SELECT counts FROM job_runs WHERE job = 'backfill'");
        let json: serde_json::Value = serde_json::from_str(&runs[0][0]).unwrap();
        assert_eq!(json["sec"]["filings"]["filings"], sec.filings.filings);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn without_a_user_agent_the_backfill_skips_the_sec_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("ivcd.db");
        let config = crate::support::cmd::config_file(dir.path(), &db);
        let out = all_output(ivcd_config(&config).args(["backfill", "AAPL"]));
        assert!(
            out.contains("SEC filings and the timing audit skipped: [sec] user_agent is not set"),
            "{out}"
        );
        assert_eq!(crate::support::db::count(&db, "SELECT count(*) FROM sec_filings"), 0);
        // With it, `ivcd backfill` asks the (fake) SEC and says what it stored,
        // though the ticker's bars fail (no bars provider is configured).
        let server = edgar().await;
        let text = std::fs::read_to_string(&config).unwrap();
        std::fs::write(
            &config,
            format!(
                "{text}[sec]\nuser_agent = {AGENT:?}\nbase_url = {:?}\ntickers_url = \"{}/files/company_tickers.json\"\n",
                server.uri(),
                server.uri()
            ),
        )
        .unwrap();
        let out = all_output(ivcd_config(&config).args(["backfill", "AAPL", "--as-of", "2026-02-25T20:00"]));
        assert!(out.contains("SEC: ") && out.contains("Item 2.02 filings of 1 tickers stored"), "{out}");
        assert!(!out.contains("skipped: [sec]"), "{out}");
        assert!(
            crate::support::db::count(&db, "SELECT count(*) FROM sec_filings WHERE ticker = 'AAPL'") >= 16
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn moves_shows_each_events_audit_and_the_change_in_the_mean_gap() {
        use ivcd::jobs::filings::fetch_filings;
        use ivcd::providers::files::trading_desk::parse_trading_desk_calendar;
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("ivcd.db");
        let store = ivcd::store::Store::open(&db).unwrap();
        let at = "2026-06-29T12:00:00Z".parse::<chrono::DateTime<Utc>>().unwrap();
        let events: Vec<_> = parse_trading_desk_calendar(&read_data(TRADING_DESK), TRADING_DESK)
            .unwrap()
            .into_iter()
            .filter(|e| e.ticker.as_str() == "AAPL")
            .collect();
        let bars: Vec<_> = super::bars("AAPL").into_values().collect();
        store
            .run(move |db| {
                db.upsert_events(&events, at)?;
                db.upsert_bars(&ticker("AAPL"), &bars, "yahoo", at)
            })
            .await
            .unwrap();
        let sec = ivcd::providers::sec::files::RecordedSec::new(vec![data_dir().join(REDFLAG)], 0);
        let calendar = ivcd::calendar::NyseCalendar::new();
        fetch_filings(&sec, &store, &calendar, &[ticker("AAPL")], date("2019-01-01"), at).await.unwrap();
        drop(store);
        let config = crate::support::cmd::config_file(dir.path(), &db);
        let out = stdout(ivcd_config(&config).args(["moves", "AAPL", "--json"]));
        let json: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
        let audit = &json["timing_audit"];
        let events = audit["events"].as_array().unwrap();
        assert!(events.len() >= 10, "{}", events.len());
        // AAPL 2026-01-29: UNKNOWN in the trading-desk calendar, its 8-K
        // accepted 16:30 ET: the filing settles it AMC.
        let jan = events.iter().find(|e| e["report_date"] == "2026-01-29").unwrap();
        assert_eq!(
            (&jan["calendar_timing"], &jan["filing"]["timing"]["timing"]),
            (&"unknown".into(), &"amc".into())
        );
        assert_eq!(jan["settled"], serde_json::json!(["2026-01-29", "amc"]));
        assert!(audit["changed"].as_array().unwrap().contains(&"2026-01-29".into()));
        let (cal, set) = (audit["calendar_mean_abs_move"].as_f64(), audit["settled_mean_abs_move"].as_f64());
        let change = audit["mean_abs_move_change"].as_f64().unwrap();
        assert!((set.unwrap() - cal.unwrap() - change).abs() < 1e-12, "{audit}");
        let text = all_output(ivcd_config(&config).args(["moves", "AAPL"]));
        assert!(text.contains("timing audit of") && text.contains("2026-01-29"), "{text}");
        assert!(text.contains("with the filings'") && text.contains("points"), "{text}");
        // Switched off: the change is not claimed.
        let cfg = std::fs::read_to_string(&config).unwrap();
        std::fs::write(&config, format!("{cfg}[sec]\nhistory_uses_filing_timing = false\n")).unwrap();
        let out = stdout(ivcd_config(&config).args(["moves", "AAPL", "--json"]));
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(json["timing_audit"]["mean_abs_move_change"].is_null());
        let text = all_output(ivcd_config(&config).args(["moves", "AAPL"]));
        assert!(text.contains("history_uses_filing_timing = false"), "{text}");
    }
}

//! The post-crush review end to end: the CVNA scenario's scan proposes the
//! structures, its review step values them at the real open of 2023-07-19;
//! the scoreboard, `ivcd report` and the review alert read what was stored.

use std::str::FromStr;
use std::sync::Arc;

use chrono::DateTime;
use ivcd::alert::outbox::Outbox;
use ivcd::analysis::structures::{ExitBasis, Side, StructureKind};
use ivcd::analysis::vrp::Tier;
use ivcd::clock::FixedClock;
use ivcd::config::{Config, ReviewConfig};
use ivcd::domain::OptionRight;
use ivcd::replay::{self, Scenario, Step, StepJob};
use ivcd::review::{Review, ReviewStatus};
use ivcd::store::Store;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::support::channels::{alerts, assert_signed, assert_valid_slack, only};
use crate::support::cmd::{portable, stdout};
use crate::support::fakes::{receivers, requests_to};
use crate::support::replay::{replay_scenario, scenario};
use crate::support::{cvna, data_dir, ivcd_in_repo as ivcd, read_data};

fn cvna_scenario() -> Scenario {
    scenario("cvna-2023q2.toml")
}

fn step(job: StepJob, at: &str) -> Step {
    Step { job, at: DateTime::parse_from_rfc3339(at).unwrap(), tickers: Vec::new() }
}

/// One Yahoo bar field of CVNA as the file writes it (`Date,Open,High,Low,Close,Volume`).
/// The text of one field of the Yahoo CVNA bar of `date`.
fn yahoo_cvna(date: &str, column: usize) -> String {
    let text = read_data("Krzysztof-Smykla__Stock-Price-Dashboard/data/CVNA.csv");
    let line = text.lines().find(|l| l.starts_with(date)).unwrap_or_else(|| panic!("no CVNA bar {date}"));
    line.split(',').nth(column).unwrap().to_owned()
}

fn of<'a>(reviews: &'a [Review], ticker: &str) -> &'a Review {
    reviews.iter().find(|r| r.ticker.as_str() == ticker).unwrap_or_else(|| panic!("no review of {ticker}"))
}

/// The figures are worked from the recorded files, not copied from a run:
/// - reference close 2023-07-18 and open 2023-07-19 from the Yahoo CVNA bars
///   (39.79999923706055 and 53.9900016784668, the float32s of 39.8 and
///   53.99: read as 39.8 and 53.99);
/// - the structures from the Cboe chain of 2023-07-18 07:51 ET (expiration
///   2023-07-21): the 37 straddle sold for 2.13 + 2.57 = 4.70 (mids 2.165 +
///   2.635 = 4.80); the 32 put / 41.5 call strangle for 0.55 + 0.87 = 1.42
///   (mids 0.575 + 0.925 = 1.50); the condor with wings 31.5 (put 0.45/0.47)
///   and 42 (call 0.80/0.85) for 1.42 - 0.47 - 0.85 = 0.10 (mids 0.215);
/// - no chain of the 07-19 open exists, so every exit is at intrinsic value
///   from the open: the 37 call is worth open - 37, the 41.5 call open - 41.5,
///   the 41.5/42 call spread its full 0.50.
#[tokio::test]
async fn cvna_review_values_the_structures_at_intrinsic_from_the_real_open() {
    let outcome = &cvna().outcome;

    // The scan proposed the three structures with the Cboe quotes.
    let cvna = outcome.scans[0].candidates.iter().find(|c| c.ticker.as_str() == "CVNA").unwrap();
    let kinds: Vec<StructureKind> = cvna.structures.iter().map(|s| s.kind).collect();
    assert_eq!(kinds, StructureKind::ALL);
    let straddle = &cvna.structures[0];
    assert_eq!(straddle.expiration, "2023-07-21".parse().unwrap());
    let legs: Vec<(Side, OptionRight, Decimal, Decimal, Decimal)> =
        straddle.legs.iter().map(|l| (l.side, l.right, l.strike, l.entry_bid, l.entry_ask)).collect();
    assert_eq!(
        legs,
        [
            (Side::Short, OptionRight::Put, dec!(37), dec!(2.57), dec!(2.70)),
            (Side::Short, OptionRight::Call, dec!(37), dec!(2.13), dec!(2.20)),
        ]
    );

    assert_eq!(outcome.reviews.len(), 1);
    let reviews = &outcome.reviews[0].reviews;
    let r = of(reviews, "CVNA");
    // The file prints the float32s yfinance recorded for 39.8 and 53.99.
    let (close, open) = (dec!(39.8), dec!(53.99));
    assert_eq!(yahoo_cvna("2023-07-18", 4).parse::<f32>(), Ok(39.8_f32));
    assert_eq!(yahoo_cvna("2023-07-19", 1).parse::<f32>(), Ok(53.99_f32));
    assert_eq!(r.status, ReviewStatus::Reviewed);
    assert_eq!((r.reference_close, r.open_price), (Some(close), Some(open)));
    assert_eq!(r.open_source, Some(ivcd::review::PriceSource::DailyBar));
    let realized = r.realized_move.unwrap();
    assert!((realized - (open / close - Decimal::ONE).to_string().parse::<f64>().unwrap()).abs() < 1e-12);
    assert_eq!(format!("{:+.2}%", realized * 100.0), "+35.65%");
    let implied = r.implied_move.unwrap();
    assert!((implied - 4.7745 / 36.83).abs() < 1e-9);
    assert!((r.move_ratio.unwrap() - realized / implied).abs() < 1e-12);
    assert_eq!(r.outside, Some(true));
    assert_eq!((r.tier, r.expiration), (Some(Tier::Skip), Some("2023-07-21".parse().unwrap())));
    // Entry IV: the 37 call 1.5664 and put 1.5615 of the Cboe file; no exit IV without an exit chain.
    assert!((r.iv_entry.unwrap() - (1.5664 + 1.5615) / 2.0).abs() < 1e-12);
    assert_eq!((r.iv_exit, r.iv_crush, r.exit_snapshot_id), (None, None, None));
    assert!(
        r.reason.as_deref().unwrap().contains("no chain taken at the open of 2023-07-19"),
        "{:?}",
        r.reason
    );

    let s = r.structure(StructureKind::ShortStraddle).unwrap();
    assert_eq!(s.basis, ExitBasis::Bound);
    assert_eq!(s.natural.per_contract, (dec!(4.70) - (open - dec!(37))) * dec!(100));
    assert_eq!(s.mid.per_contract, (dec!(4.80) - (open - dec!(37))) * dec!(100));
    assert_eq!(s.natural.per_contract.round_dp(2), dec!(-1229.00));
    let s = r.structure(StructureKind::ShortStrangle).unwrap();
    assert_eq!(s.basis, ExitBasis::Bound);
    assert_eq!(s.natural.per_contract, (dec!(1.42) - (open - dec!(41.5))) * dec!(100));
    let s = r.structure(StructureKind::IronCondor).unwrap();
    assert_eq!(s.basis, ExitBasis::IntrinsicEstimate);
    assert_eq!((s.natural.credit, s.natural.debit), (dec!(0.10), dec!(0.50)));
    assert_eq!((s.natural.per_contract, s.natural.max_loss), (dec!(-40), Some(dec!(0.40))));
    assert_eq!((s.mid.per_contract, s.natural.return_on_risk), (dec!(-28.5), Some(-1.0)));

    // Candidates without a chain still get their gap measured; ASML has no bars at all.
    let omc = of(reviews, "OMC");
    assert!(omc.structures.is_empty() && omc.status == ReviewStatus::Reviewed);
    assert_eq!(omc.reaction_session, "2023-07-19".parse().unwrap(), "AMC on 07-18 reacts on 07-19");
    let asml = of(reviews, "ASML");
    assert_eq!(asml.status, ReviewStatus::Pending);
    assert!(asml.reason.as_deref().unwrap().contains("no opening price for 2023-07-19"), "{:?}", asml.reason);
}

#[tokio::test]
async fn a_later_review_slot_retries_only_what_is_pending() {
    let dir = tempfile::tempdir().unwrap();
    let mut scenario = cvna_scenario();
    scenario.steps.push(step(StepJob::Review, "2023-07-19T09:46:00-04:00"));
    let db = dir.path().join("cvna.db");
    let outcome = replay_scenario(&scenario, &db, &Config::default(), false).await;
    let retry = &outcome.reviews[1].reviews;
    let tickers: Vec<&str> = retry.iter().map(|r| r.ticker.as_str()).collect();
    assert_eq!(tickers, ["ASML"], "only the pending review is retried");
    let stored = Store::open(&db).unwrap().run(|db| db.reviews(None, None)).await.unwrap();
    assert_eq!(stored.len(), 12, "one review per event, the retry replaced ASML's");
    assert_eq!(
        of(&stored, "CVNA"),
        of(&outcome.reviews[0].reviews, "CVNA"),
        "a finished review is kept as is"
    );
}

#[tokio::test]
async fn a_review_before_the_open_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut scenario = cvna_scenario();
    scenario.steps.pop();
    scenario.steps.push(step(StepJob::Review, "2023-07-19T09:15:00-04:00"));
    let err = replay::run(&scenario, &data_dir(), &dir.path().join("x.db"), &Config::default(), false)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("opens at 09:30 EDT"), "{err}");
}

#[test]
fn the_cvna_replay_prints_the_gap_the_implied_move_and_the_straddle_bound() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cvna.db");
    let out = stdout(ivcd().args(["replay", "tests/scenarios/cvna-2023q2.toml", "--db"]).arg(&db));
    let cvna = out.lines().find(|l| l.contains("CVNA") && l.contains("+35.65%")).expect("the realized move");
    assert!(cvna.contains("12.96%") && cvna.contains("2.75x") && cvna.contains("yes"), "{cvna}");
    let straddle = out.lines().find(|l| l.contains("short straddle") && l.contains('≤')).unwrap();
    assert!(straddle.contains("≤ -$1,229.00") && straddle.contains("bound (intrinsic)"), "{straddle}");
    assert!(out.contains("the real P&L is at most this"), "{out}");

    // `ivcd report`, text and JSON, on the replayed database.
    let text = stdout(ivcd().env("IVCD_DATABASE", &db).arg("report"));
    insta::assert_snapshot!("report_cvna_text", portable(&text));
    let json: serde_json::Value =
        serde_json::from_str(&portable(&stdout(ivcd().env("IVCD_DATABASE", &db).args(["report", "--json"]))))
            .unwrap();
    insta::assert_json_snapshot!("report_cvna_json", json);
    let since = stdout(ivcd().env("IVCD_DATABASE", &db).args(["report", "--since", "2023-07-20"]));
    assert!(since.contains("no events reviewed yet"), "{since}");
}

/// The scoreboard of `ivcd report --json` recomputed with SQL over the
/// stored rows (`review_structures` joined with `reviews`).
#[test]
fn the_scoreboard_recomputes_from_the_stored_reviews() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cvna.db");
    stdout(ivcd().args(["replay", "tests/scenarios/cvna-2023q2.toml", "--db"]).arg(&db));
    let json: serde_json::Value =
        serde_json::from_str(&stdout(ivcd().env("IVCD_DATABASE", &db).args(["report", "--json"]))).unwrap();
    let board = json["scoreboard"].as_array().unwrap();

    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT r.tier, s.kind, s.pnl_natural_contract, s.pnl_mid_contract, s.basis, r.move_ratio
             FROM review_structures s JOIN reviews r ON r.id = s.review_id
             WHERE r.status = 'reviewed' AND r.tier IS NOT NULL ORDER BY r.tier, s.kind",
        )
        .unwrap();
    type Row = (String, String, String, String, String, Option<f64>);
    let rows: Vec<Row> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!rows.is_empty());
    let mut groups: std::collections::BTreeMap<(String, String), Vec<&Row>> = Default::default();
    for row in &rows {
        groups.entry((row.0.clone(), row.1.clone())).or_default().push(row);
    }
    assert_eq!(board.len(), groups.len());
    for line in board {
        let key = (line["tier"].as_str().unwrap().to_owned(), line["structure"].as_str().unwrap().to_owned());
        let group = &groups[&key];
        let natural: Vec<Decimal> = group.iter().map(|r| Decimal::from_str(&r.2).unwrap()).collect();
        let mid: Vec<Decimal> = group.iter().map(|r| Decimal::from_str(&r.3).unwrap()).collect();
        let n = Decimal::from(group.len());
        let money = |field: &str| Decimal::from_str(line[field].as_str().unwrap()).unwrap();
        assert_eq!(line["n"], group.len(), "{key:?}");
        assert_eq!(line["n_intrinsic"], group.iter().filter(|r| r.4 != "quotes").count());
        let won = natural.iter().filter(|p| **p > Decimal::ZERO).count() as f64 / group.len() as f64;
        assert_eq!(line["hit_rate_natural"].as_f64().unwrap(), won);
        assert_eq!(money("mean_natural"), (natural.iter().sum::<Decimal>() / n).round_dp(2));
        assert_eq!(money("mean_mid"), (mid.iter().sum::<Decimal>() / n).round_dp(2));
        assert_eq!(money("worst_natural"), *natural.iter().min().unwrap());
        let mut sorted = natural.clone();
        sorted.sort();
        let median = if sorted.len() % 2 == 1 {
            sorted[sorted.len() / 2]
        } else {
            (sorted[sorted.len() / 2 - 1] + sorted[sorted.len() / 2]) / dec!(2)
        };
        assert_eq!(money("median_natural"), median.round_dp(2));
        let ratios: Vec<f64> = group.iter().filter_map(|r| r.5).collect();
        let mean_ratio = ratios.iter().sum::<f64>() / ratios.len() as f64;
        assert!((line["mean_move_ratio"].as_f64().unwrap() - mean_ratio).abs() < 1e-12);
    }
}

/// The review alert goes through the same outbox: the webhook receives the
/// stored reviews (signed), Slack a valid Block Kit message; the bodies are
/// snapshotted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_review_alert_reports_the_stored_review() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cvna.db");
    let http = receivers().await;
    let config = Config {
        alerts: only(alerts(1, &http.uri(), Tier::Marginal), "webhook"),
        review: ReviewConfig { alert: true, ..ReviewConfig::default() },
        ..Config::default()
    };
    let outcome = replay_scenario(&cvna_scenario(), &db, &config, true).await;
    let slot = outcome.reviews[0].slot;
    let store = Store::open(&db).unwrap();
    let outbox = Outbox::new(store.clone(), &config.alerts, Arc::new(FixedClock::new(slot))).unwrap();
    let sent = outbox.deliver_due_all().await.unwrap();
    assert_eq!(sent.len(), 2, "the scan's alert and the review's: {sent:?}");

    let hooks = requests_to(&http, "/hook").await;
    let review = hooks.iter().find(|r| r.body.starts_with(br#"{"kind":"review""#)).expect("a review body");
    assert_signed(review);
    let body: serde_json::Value = serde_json::from_slice(&review.body).unwrap();
    let stored: Vec<Review> = store.run(move |db| db.reviews(None, Some(slot))).await.unwrap();
    assert_eq!(body["reviews"], serde_json::to_value(&stored).unwrap(), "the body is the stored reviews");
    assert_eq!(body["slot"], "2023-07-19T13:31:00Z");
    assert_eq!(body["scoreboard"].as_array().unwrap().len(), 3);

    let alert = ivcd::alert::review::load(&store, slot).await.unwrap();
    let m = ivcd::alert::review::render(&alert).unwrap();
    assert_eq!(m.subject, "ivcd review Wed 2023-07-19: 11 events reviewed, 1 moved more than implied");
    // A reason names the input (ticker, date, vendor, what was asked), never a
    // path on this host: ASML has no recorded bars, and the alert says so.
    let host = data_dir().canonicalize().unwrap();
    for (form, body) in [
        ("text", m.text.clone()),
        ("html", m.html.clone()),
        ("slack", m.slack.to_string()),
        ("webhook", String::from_utf8_lossy(&review.body).into_owned()),
    ] {
        for path in [data_dir().display().to_string(), host.display().to_string(), ".csv".to_owned()] {
            assert!(!body.contains(&path), "the {form} alert shows {path:?}:\n{body}");
        }
    }
    assert!(m.text.contains("files: no data for daily bars of ASML (none recorded)"), "{}", m.text);
    assert!(
        m.text.contains("gap +35.65% against implied 12.96%") && m.text.contains("≤ -$1,229.00"),
        "{}",
        m.text
    );
    assert_valid_slack(&m.slack);
    insta::assert_snapshot!("review_alert_cvna_text", portable(&m.text));
    insta::assert_snapshot!("review_alert_cvna_html", portable(&m.html));
    let slack: serde_json::Value = serde_json::from_str(&portable(&m.slack.to_string())).unwrap();
    insta::assert_json_snapshot!("review_alert_cvna_slack", slack);
}

/// `ivcd replay --notify` delivers each report at the simulated instant of
/// the step that queued it: the 15:00 scan's alert is not stale by the time
/// the 09:31 review's is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_notify_sends_the_scan_and_the_review_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let http = receivers().await;
    let config = dir.path().join("ivcd.toml");
    std::fs::write(&config, format!("[alerts.webhook]\nurl = \"{}/hook\"\n", http.uri())).unwrap();
    let db = dir.path().join("cvna.db");
    let mut cmd = ivcd();
    cmd.arg("--config")
        .arg(&config)
        .args(["replay", "tests/scenarios/cvna-2023q2.toml", "--notify", "--db"])
        .arg(&db);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("/scan/2023-07-18T19:00:00Z/1/webhook)"), "{err}");
    assert!(err.contains("/review/2023-07-19T13:31:00Z/2/webhook)"), "{err}");
    let bodies: Vec<serde_json::Value> =
        requests_to(&http, "/hook").await.iter().map(|r| serde_json::from_slice(&r.body).unwrap()).collect();
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0]["scan_id"], 1);
    assert_eq!(bodies[1]["kind"], "review");
}

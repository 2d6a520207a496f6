//! Issue 23, item 5: the calendar's date changes. Two refreshes of Alpha
//! Vantage's calendar (a fake serving the real body recorded on 2026-05-17,
//! then a SYNTHETIC second body: the same file with one event's date moved,
//! because no recorded pair of calendars shows a move), a scan between
//! them that alerted the event, and the change's alert delivered exactly
//! once through a restart.

use std::sync::Arc;

use ivcd::alert::outbox::Outbox;
use ivcd::analysis::vrp::Tier;
use ivcd::clock::FixedClock;
use ivcd::config::Config;
use ivcd::domain::Timing;
use ivcd::jobs;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::channels::{alerts, only};
use crate::support::cmd::{ivcd_config, stdout};
use crate::support::data::{AV_CALENDAR, read_data};
use crate::support::fakes::{free_port, live_config, receivers, requests_to};
use crate::support::values::{at, date};

/// The recorded line of AGYS (Agilysys), post-market on Mon 2026-05-18.
const AGYS_RECORDED: &str = "AGYS,AGILYSYS INCORPORATED,2026-05-18,2026-03-31,0.37,USD,post-market";
/// SYNTHETIC: the same line with the report moved to Wed 2026-05-20. Not
/// recorded data: built here to make a date change between two refreshes.
const AGYS_MOVED: &str = "AGYS,AGILYSYS INCORPORATED,2026-05-20,2026-03-31,0.37,USD,post-market";

fn config(tradier: &MockServer, alpha: &MockServer, http: &MockServer, db: &std::path::Path) -> Config {
    let mut c = live_config(tradier, alpha, db);
    c.alerts = only(alerts(free_port(), &http.uri(), Tier::Skip), "webhook");
    // The scan has no chain (Tradier knows none): its alert is queued anyway.
    c.alerts.send_empty = true;
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_date_change_between_two_refreshes_is_alerted_exactly_once_through_a_restart() {
    let recorded = read_data(AV_CALENDAR);
    assert!(recorded.contains(AGYS_RECORDED), "the recorded line");
    let synthetic = recorded.replace(AGYS_RECORDED, AGYS_MOVED);
    let tradier = MockServer::start().await; // knows no chain: 404 to everything
    let alpha = MockServer::start().await;
    let calendar =
        || Mock::given(method("GET")).and(path("/query")).and(query_param("function", "EARNINGS_CALENDAR"));
    calendar()
        .respond_with(ResponseTemplate::new(200).set_body_string(recorded.clone()))
        .up_to_n_times(1)
        .mount(&alpha)
        .await;
    calendar().respond_with(ResponseTemplate::new(200).set_body_string(synthetic)).mount(&alpha).await;
    let http = receivers().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ivcd.db");
    let config = config(&tradier, &alpha, &http, &db);

    let clock = Arc::new(FixedClock::new(at("2026-05-17T22:00:00Z")));
    {
        let ctx = ivcd::cli::live_context(&config, clock.clone()).unwrap();
        let first =
            jobs::refresh::refresh_calendar(&ctx, ivcd::clock::Clock::now(clock.as_ref())).await.unwrap();
        assert_eq!(first.changes, 0, "nothing was stored before");
        // The 15:00 ET scan of Mon 2026-05-18 lists AGYS (AMC that day) and queues its alert.
        let scan_at = at("2026-05-18T19:00:00Z");
        clock.set(scan_at);
        let report = jobs::scan::scan(&ctx, scan_at, scan_at, None).await.unwrap();
        assert!(report.candidates.iter().any(|c| c.ticker.as_str() == "AGYS" && c.timing == Timing::Amc));
        // The evening refresh reads the synthetic body: AGYS moved to 05-20.
        clock.set(at("2026-05-18T22:00:00Z"));
        let second =
            jobs::refresh::refresh_calendar(&ctx, ivcd::clock::Clock::now(clock.as_ref())).await.unwrap();
        assert_eq!((second.changes, second.change_alerts), (1, 1), "{second:?}");
    }
    // A restart before the alert was sent: a new process, and the refresh
    // slot run again (as the daemon's catch-up may) with the same listing.
    clock.set(at("2026-05-18T23:00:00Z"));
    let ctx = ivcd::cli::live_context(&config, clock.clone()).unwrap();
    let again = jobs::refresh::refresh_calendar(&ctx, ivcd::clock::Clock::now(clock.as_ref())).await.unwrap();
    assert_eq!(again.changes, 0, "the stored event already moved");
    let changes = ctx.store.run(|db| db.date_changes()).await.unwrap();
    assert_eq!(changes.len(), 1);
    let c = &changes[0];
    assert_eq!(
        (c.ticker.as_str(), c.old_report_date, c.old_timing, c.new_report_date, c.new_timing),
        ("AGYS", date("2026-05-18"), Timing::Amc, date("2026-05-20"), Timing::Amc)
    );
    assert_eq!(c.alert_reason.as_deref(), Some("alerted_setup"));
    // Every calendar refresh's version is kept.
    let versions = crate::support::db::query(
        &db,
        "SELECT report_date, status FROM calendar_versions WHERE ticker = 'AGYS' ORDER BY refreshed_at",
    );
    assert_eq!(versions.len(), 3);
    assert_eq!(versions[0], ["2026-05-18", "unknown"]);
    assert_eq!(versions[1][0], "2026-05-20");

    // Delivery: the scan's alert and the change's; twice, and after another restart.
    for _ in 0..2 {
        let outbox = Outbox::new(ctx.store.clone(), &config.alerts, clock.clone()).unwrap();
        outbox.deliver_due_all().await.unwrap();
    }
    let reopened = ivcd::store::Store::open(&db).unwrap();
    Outbox::new(reopened, &config.alerts, clock.clone()).unwrap().deliver_due_all().await.unwrap();
    let posts = requests_to(&http, "/hook").await;
    let moved: Vec<serde_json::Value> = posts
        .iter()
        .map(|r| serde_json::from_slice::<serde_json::Value>(&r.body).unwrap())
        .filter(|b| b["kind"] == "date_change")
        .collect();
    assert_eq!(moved.len(), 1, "exactly once: {moved:?}");
    assert_eq!((&moved[0]["ticker"], &moved[0]["new_report_date"]), (&"AGYS".into(), &"2026-05-20".into()));
    let keys: Vec<String> = posts
        .iter()
        .filter_map(|r| r.headers.get("idempotency-key").map(|v| v.to_str().unwrap().to_owned()))
        .collect();
    assert!(keys.iter().any(|k| k.contains(&format!("/date_change/{}/", c.id))), "{keys:?}");

    // `ivcd calendar --changes` lists it.
    let file = crate::support::cmd::config_file(dir.path(), &db);
    let out = stdout(ivcd_config(&file).args(["calendar", "--changes", "--json"]));
    let listed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["old_report_date"], "2026-05-18");
    let text = stdout(ivcd_config(&file).args(["calendar", "--changes"]));
    assert!(
        text.contains("AGYS") && text.contains("2026-05-20 AMC") && text.contains("alerted_setup"),
        "{text}"
    );
}

#[test]
fn changes_pair_moved_events_per_ticker_and_ignore_new_and_removed_ones() {
    use ivcd::domain::EarningsEvent;
    use ivcd::jobs::refresh::date_changes;
    let e = |t: &str, d: &str, timing| EarningsEvent {
        ticker: crate::support::values::ticker(t),
        report_date: date(d),
        timing,
        source: "s".into(),
    };
    let old = [
        e("AGYS", "2026-05-18", Timing::Amc),
        e("ANNX", "2026-05-18", Timing::Unknown),
        e("AGPU", "2026-05-18", Timing::Bmo),
        e("GONE", "2026-05-19", Timing::Bmo),
    ];
    let new = [
        e("AGYS", "2026-05-20", Timing::Amc),
        e("ANNX", "2026-05-18", Timing::Unknown),
        e("AGPU", "2026-05-18", Timing::Amc),
        e("NEWT", "2026-05-19", Timing::Bmo),
    ];
    let changes = date_changes(&old, &new);
    let pairs: Vec<(&str, String, String)> = changes
        .iter()
        .map(|(a, b)| {
            (
                a.ticker.as_str(),
                format!("{} {}", a.report_date, a.timing),
                format!("{} {}", b.report_date, b.timing),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [
            ("AGPU", "2026-05-18 BMO".to_owned(), "2026-05-18 AMC".to_owned()),
            ("AGYS", "2026-05-18 AMC".to_owned(), "2026-05-20 AMC".to_owned()),
        ]
    );
}

//! `ivcd status` for a healthy, a degraded and a stopped daemon, on the
//! database the real CVNA replay leaves (snapshots of what people read,
//! reviewed by hand), and the binary's exit code when no daemon runs.

use std::path::{Path, PathBuf};

use ivcd::calendar::NyseCalendar;
use ivcd::config::TimetableConfig;
use ivcd::providers::http::{HealthError, HealthSnapshot};
use ivcd::providers::resilience::BreakerState;
use ivcd::status::{self, DaemonInfo, Live, SkippedSlot, State, StatusReport};
use ivcd::store::Store;
use ivcd::timetable::{Job, Slot, Timetable};

use crate::support::values::at;
use crate::support::{config_file, cvna_copy, data_dir, ivcd_config};

/// Tue 2023-07-18 15:30 ET: half an hour after the CVNA scan.
const NOW: &str = "2023-07-18T15:30:00-04:00";

/// A copy of the shared CVNA replay's database at `dir/ivcd.db`, opened.
fn cvna_store(dir: &Path) -> (Store, PathBuf) {
    let db = cvna_copy(dir);
    (Store::open(&db).unwrap(), db)
}

fn daemon_info() -> DaemonInfo {
    DaemonInfo {
        pid: 4242,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        started_at: at("2023-07-18T05:00:00-04:00"),
        config_file: Some("/etc/ivcd/ivcd.toml".into()),
        last_reload: None,
        stopping: false,
        skipped_slots: Vec::new(),
        store_trouble: None,
    }
}

fn timetable() -> Timetable {
    Timetable::new(TimetableConfig::default(), NyseCalendar::new())
}

/// The text with the crate version, the data directory and the temporary
/// directory replaced, for snapshots that hold on any checkout.
fn stable(text: &str, dir: &Path) -> String {
    text.replace(env!("CARGO_PKG_VERSION"), "[version]")
        .replace(&data_dir().display().to_string(), "[data]")
        .replace(&dir.display().to_string(), "[dir]")
}

async fn report(live: Option<Live>) -> (StatusReport, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (store, db) = cvna_store(dir.path());
    let report = status::build(Some(&store), &db, None, &timetable(), at(NOW), live).await;
    (report, dir)
}

#[tokio::test]
async fn healthy() {
    let tradier = HealthSnapshot {
        provider: "tradier".into(),
        requests_sent: 26,
        requests_last_minute: 0,
        requests_per_minute: 120,
        last_success: Some(at("2023-07-18T15:00:12-04:00")),
        last_error: None,
        retries: 0,
        rate_limit_waits: 0,
        rate_limit_refusals: 0,
        breaker: Some(BreakerState::Closed { consecutive_failures: 0 }),
        requests_by_status: [("200".to_owned(), 26)].into(),
        errors_by_kind: Default::default(),
        limiter_waits: 0,
        rate_limit_wait_seconds: 0.0,
    };
    let (report, dir) = report(Some(Live { daemon: daemon_info(), providers: vec![tradier] })).await;
    assert_eq!(report.state, State::Healthy, "{:?}", report.problems);
    assert_eq!(report.state.exit_code(), 0);
    assert!(!report.market.open || report.market.today.is_some());
    assert!(report.market.open, "15:30 ET on a Tuesday");
    let scan = report.jobs.iter().find(|j| j.job == Job::Scan).unwrap();
    assert_eq!(scan.next_run, Some(at("2023-07-19T15:00:00-04:00")));
    assert_eq!(scan.last_run.as_ref().unwrap().slot, at("2023-07-18T15:00:00-04:00"));
    let counts = report.store.counts.as_ref().unwrap();
    let last = counts.last_scan.as_ref().unwrap();
    assert_eq!(last.by_tier.get("skip"), Some(&1), "CVNA: VRP about 1.00 is skip; {last:?}");
    insta::assert_snapshot!("status_healthy_text", stable(&status::render_text(&report), dir.path()));
    let json = serde_json::to_string_pretty(&report).unwrap();
    insta::assert_snapshot!("status_healthy_json", stable(&json, dir.path()));
}

#[tokio::test]
async fn degraded() {
    let mut info = daemon_info();
    info.skipped_slots.push(SkippedSlot {
        slot: Slot { job: Job::Review, at: at("2023-07-18T09:31:00-04:00") },
        reason: "missed while the daemon was down; its window closed at 10:30 EDT".into(),
    });
    let alpha = HealthSnapshot {
        provider: "alpha_vantage".into(),
        requests_sent: 3,
        requests_last_minute: 1,
        requests_per_minute: 75,
        last_success: Some(at("2023-07-18T06:00:02-04:00")),
        last_error: Some(HealthError {
            at: at("2023-07-18T15:29:40-04:00"),
            message: "alpha_vantage: request EARNINGS CVNA: rate limited: Thank you for using Alpha Vantage!"
                .into(),
        }),
        retries: 2,
        rate_limit_waits: 0,
        rate_limit_refusals: 2,
        breaker: Some(BreakerState::Open { until: at("2023-07-18T15:30:40-04:00") }),
        requests_by_status: [("200".to_owned(), 3)].into(),
        errors_by_kind: [("rate_limited".to_owned(), 2)].into(),
        limiter_waits: 1,
        rate_limit_wait_seconds: 0.8,
    };
    let (report, dir) = report(Some(Live { daemon: info, providers: vec![alpha] })).await;
    assert_eq!(report.state, State::Degraded);
    assert_eq!(report.state.exit_code(), 1);
    let kinds: Vec<&str> = report.problems.iter().map(|p| p.kind.as_str()).collect();
    assert_eq!(kinds, ["skipped_slot", "circuit_open", "provider_error"]);
    insta::assert_snapshot!("status_degraded_text", stable(&status::render_text(&report), dir.path()));
    let json = serde_json::to_string_pretty(&report).unwrap();
    insta::assert_snapshot!("status_degraded_json", stable(&json, dir.path()));
}

#[tokio::test]
async fn stopped() {
    let (report, dir) = report(None).await;
    assert_eq!(report.state, State::Down);
    assert_eq!(report.state.exit_code(), 3);
    assert!(
        report.jobs.iter().all(|j| j.next_run.is_none() && j.running.is_none()),
        "only a daemon has a plan"
    );
    assert!(report.jobs.iter().any(|j| j.last_run.is_some()), "the database still tells the last runs");
    insta::assert_snapshot!("status_stopped_text", stable(&status::render_text(&report), dir.path()));
    let json = serde_json::to_string_pretty(&report).unwrap();
    insta::assert_snapshot!("status_stopped_json", stable(&json, dir.path()));
}

#[test]
fn the_binary_exits_3_and_still_reports_the_database_when_no_daemon_runs() {
    let dir = tempfile::tempdir().unwrap();
    let db = cvna_copy(dir.path());
    let config = config_file(dir.path(), &db);
    let out = ivcd_config(&config).args(["status", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let report: StatusReport = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report.state, State::Down);
    let scan = report.store.counts.as_ref().unwrap().last_scan.as_ref().unwrap();
    assert_eq!(scan.session_date.to_string(), "2023-07-18");
    let out = ivcd_config(&config).arg("status").output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stdout).contains("not running"));
}

#[tokio::test]
async fn a_running_job_still_shows_its_last_finished_run() {
    let dir = tempfile::tempdir().unwrap();
    let (store, db) = cvna_store(dir.path());
    let started = at("2023-07-18T15:29:00-04:00");
    store.run(move |db| db.start_job_run("backfill", "2023-07-18T19:29:00Z", started)).await.unwrap();
    let live = Live { daemon: daemon_info(), providers: Vec::new() };
    let report = status::build(Some(&store), &db, None, &timetable(), at(NOW), Some(live)).await;
    let backfill = report.jobs.iter().find(|j| j.job == Job::Backfill).unwrap();
    assert_eq!(backfill.running.as_ref().map(|r| r.started_at), Some(started));
    let last = backfill.last_run.as_ref().expect("the replay's backfill");
    assert_eq!(last.slot, at("2023-07-18T06:05:00-04:00"));
}

#[tokio::test]
async fn a_job_the_database_refused_is_a_problem_with_what_to_do() {
    let refused = |retry_at: Option<&str>| ivcd::status::StoreTrouble {
        at: at("2023-07-18T15:00:06-04:00"),
        slot: Slot { job: Job::Scan, at: at("2023-07-18T15:00:00-04:00") },
        message:
            "database /var/lib/ivcd/ivcd.db: start job run: database is locked (another process holds the \
                  database, e.g. a sqlite3 session with an open transaction: end it)"
                .into(),
        retry_at: retry_at.map(at),
    };
    let mut info = daemon_info();
    info.store_trouble = Some(refused(Some("2023-07-18T15:05:06-04:00")));
    let (open, _dir) = report(Some(Live { daemon: info, providers: Vec::new() })).await;
    assert_eq!(open.state, State::Degraded);
    let problem = open.problems.iter().find(|p| p.kind == "store_error").expect("a store_error problem");
    for part in ["scan", "database is locked", "runs again at Tue 2023-07-18 15:05 EDT"] {
        assert!(problem.message.contains(part), "{part:?} in {}", problem.message);
    }
    let text = status::render_text(&open);
    assert!(text.contains("[store_error]"), "{text}");

    // No retry fits before the slot's window closes.
    let mut info = daemon_info();
    info.store_trouble = Some(refused(None));
    let (closed, _dir) = report(Some(Live { daemon: info, providers: Vec::new() })).await;
    let problem = closed.problems.iter().find(|p| p.kind == "store_error").expect("a store_error problem");
    assert!(problem.message.contains("the job's next slot does its work"), "{}", problem.message);
}

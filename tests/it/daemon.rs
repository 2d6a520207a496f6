//! The daemon, run in-process on a simulated clock (tokio's paused time:
//! a month passes in milliseconds, nothing sleeps), and its alarm backend.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use chrono_tz::America::New_York;
use ivcd::clock::{Clock, SimulatedClock};
use ivcd::config::Config;
use ivcd::daemon::alarms::AlarmKind;
use ivcd::daemon::notify::Systemd;
use ivcd::daemon::{Control, Options};
use ivcd::store::{JobRun, Outcome, Store};
use ivcd::timetable::Job;
use tokio::sync::mpsc;

use crate::support::db::{hold_write_lock, integrity};
use crate::support::values::et;

/// A configuration in `dir`, with no provider configured (the jobs still
/// run and record their outcome; a refresh fails for want of a key).
fn test_config(dir: &Path, catch_up: bool) -> Config {
    let mut c = Config { database: dir.join("ivcd.db"), ..Config::default() };
    c.daemon.status_socket = dir.join("status.sock");
    c.timetable.catch_up = catch_up;
    c
}

fn options(config: Config, clock: Arc<dyn Clock>) -> Options {
    let reloaded = config.clone();
    Options {
        config,
        config_file: None,
        reload: Box::new(move || Ok(reloaded.clone())),
        compose: Box::new(ivcd::cli::compose_live),
        clock,
        alarms: AlarmKind::Clock,
        systemd: Systemd::disabled(),
    }
}

/// Runs the daemon from `start` until `end` (simulated), then stops it.
async fn run_between(config: &Config, start: DateTime<Utc>, end: DateTime<Utc>) {
    let clock = Arc::new(SimulatedClock::starting_at(start));
    let (controls, receiver) = mpsc::unbounded_channel();
    let daemon = tokio::spawn(ivcd::daemon::run(options(config.clone(), clock.clone()), receiver));
    clock.sleep_until(end).await;
    controls.send(Control::Shutdown).unwrap();
    daemon.await.unwrap().unwrap();
}

fn runs(config: &Config, since: DateTime<Utc>) -> Vec<JobRun> {
    let store = Store::open(&config.database).unwrap();
    store.run_blocking(|db| db.job_runs_since(since)).unwrap()
}

/// The timetable of November 2025 written out by hand from the exchange's
/// published schedule, independently of `ivcd::timetable`: refreshes at
/// 06:00 and 18:00 every day; on sessions the review at 09:31, the scan at
/// 15:00 (12:00 on the 13:00 early close of Fri 11-28) and the backfill at
/// 20:00; Thanksgiving (Thu 11-27) closed; housekeeping Sundays at 03:00.
fn expected_slots(from: DateTime<Utc>, to: DateTime<Utc>) -> BTreeSet<(String, DateTime<Utc>)> {
    let thanksgiving = NaiveDate::from_ymd_opt(2025, 11, 27).unwrap();
    let early_close = NaiveDate::from_ymd_opt(2025, 11, 28).unwrap();
    let mut out = BTreeSet::new();
    let first = from.with_timezone(&New_York).date_naive();
    for date in first.iter_days().take(40) {
        let (y, m, d) = (date.year(), date.month(), date.day());
        out.insert(("refresh-calendar".to_owned(), et(y, m, d, 6, 0)));
        out.insert(("refresh-calendar".to_owned(), et(y, m, d, 18, 0)));
        let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        if !weekend && date != thanksgiving {
            // The review at 09:31, retried at 09:46 and 10:16 for stocks not open yet.
            for (h, min) in [(9, 31), (9, 46), (10, 16)] {
                out.insert(("review".to_owned(), et(y, m, d, h, min)));
            }
            let scan_hour = if date == early_close { 12 } else { 15 };
            out.insert(("scan".to_owned(), et(y, m, d, scan_hour, 0)));
            out.insert(("backfill".to_owned(), et(y, m, d, 20, 0)));
        }
        if date.weekday() == Weekday::Sun {
            out.insert(("housekeeping".to_owned(), et(y, m, d, 3, 0)));
        }
    }
    out.into_iter().filter(|(_, at)| *at > from && *at <= to).collect()
}

#[tokio::test(start_paused = true)]
async fn a_month_with_a_dst_change_a_holiday_and_an_early_close() {
    let dir = tempfile::tempdir().unwrap();
    let config = test_config(dir.path(), false);
    // Mon 2025-10-27 00:00 EDT to Mon 2025-12-01 00:00 EST: the fall-back
    // change (Sun 11-02), Thanksgiving, the early close after it, 5 weekends.
    let (start, end) = (et(2025, 10, 27, 0, 0), et(2025, 12, 1, 0, 0));
    run_between(&config, start, end).await;

    let runs = runs(&config, start);
    let fired: BTreeSet<(String, DateTime<Utc>)> = runs.iter().map(|r| (r.job.clone(), r.slot)).collect();
    let expected = expected_slots(start, end);
    assert_eq!(fired.len(), runs.len(), "one run per slot");
    let missing: Vec<_> = expected.difference(&fired).collect();
    let extra: Vec<_> = fired.difference(&expected).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing {missing:?}\nextra {extra:?}");
    for r in &runs {
        assert!(
            (r.started_at - r.slot).abs() < Duration::seconds(1),
            "{} for {} started at {}",
            r.job,
            r.slot,
            r.started_at
        );
        assert_ne!(r.outcome, Outcome::Skipped, "{r:?}");
        assert_ne!(r.outcome, Outcome::Running, "{r:?}");
    }
    // Spot checks in UTC, across the change: 15:00 EDT is 19:00Z, 15:00 EST is 20:00Z.
    assert!(fired.contains(&("scan".to_owned(), "2025-10-31T19:00:00Z".parse().unwrap())));
    assert!(fired.contains(&("scan".to_owned(), "2025-11-03T20:00:00Z".parse().unwrap())));
    assert!(fired.contains(&("scan".to_owned(), "2025-11-28T17:00:00Z".parse().unwrap())));
    assert!(
        !runs
            .iter()
            .any(|r| r.job == "scan" && r.slot.with_timezone(&New_York).day() == 27 && r.slot.month() == 11)
    );
}

#[tokio::test(start_paused = true)]
async fn catch_up_runs_what_is_still_open_and_records_what_was_missed() {
    let dir = tempfile::tempdir().unwrap();
    let config = test_config(dir.path(), true);

    // A fresh install started Mon 2025-11-17 at 09:00 ET: the latest refresh,
    // backfill and housekeeping slots run at once; Friday's scan and review
    // windows have closed, and a fresh install records nothing for them.
    run_between(&config, et(2025, 11, 17, 9, 0), et(2025, 11, 17, 14, 30)).await;
    let first = runs(&config, et(2025, 11, 1, 0, 0));
    let at_start: Vec<(&str, DateTime<Utc>)> = first
        .iter()
        .filter(|r| r.started_at == et(2025, 11, 17, 9, 0))
        .map(|r| (r.job.as_str(), r.slot))
        .collect();
    assert_eq!(
        at_start,
        [
            ("backfill", et(2025, 11, 14, 20, 0)),
            ("housekeeping", et(2025, 11, 16, 3, 0)),
            ("refresh-calendar", et(2025, 11, 17, 6, 0)),
        ]
    );
    assert!(first.iter().any(|r| r.job == "review" && r.slot == et(2025, 11, 17, 9, 31)), "the review fired");

    // Down from 14:30 to 15:30: the 15:00 scan's window is open until the close.
    run_between(&config, et(2025, 11, 17, 15, 30), et(2025, 11, 17, 15, 45)).await;
    let scans: Vec<JobRun> =
        runs(&config, et(2025, 11, 17, 0, 0)).into_iter().filter(|r| r.job == "scan").collect();
    assert_eq!(scans.len(), 1, "{scans:?}");
    assert_eq!(scans[0].slot, et(2025, 11, 17, 15, 0));
    assert_eq!(scans[0].started_at, et(2025, 11, 17, 15, 30));
    assert_eq!(scans[0].outcome, Outcome::Ok);

    // Down overnight until Tue 11:00: the 18:00 refresh is superseded by
    // 06:00 (which runs), the 20:00 backfill runs, the 09:31 review and its
    // 09:46 retry are superseded by the 10:16 one, whose window closed at 10:30.
    run_between(&config, et(2025, 11, 18, 11, 0), et(2025, 11, 18, 11, 5)).await;
    let later = runs(&config, et(2025, 11, 17, 15, 46));
    let summary: Vec<(&str, DateTime<Utc>, Outcome)> =
        later.iter().map(|r| (r.job.as_str(), r.slot, r.outcome)).collect();
    assert!(
        summary.contains(&("refresh-calendar", et(2025, 11, 17, 18, 0), Outcome::Skipped)),
        "{summary:?}"
    );
    for (h, m) in [(9, 31), (9, 46), (10, 16)] {
        assert!(summary.contains(&("review", et(2025, 11, 18, h, m), Outcome::Skipped)), "{summary:?}");
    }
    assert!(summary.contains(&("backfill", et(2025, 11, 17, 20, 0), Outcome::Ok)), "{summary:?}");
    assert!(
        later.iter().any(|r| r.job == "refresh-calendar"
            && r.slot == et(2025, 11, 18, 6, 0)
            && r.started_at == et(2025, 11, 18, 11, 0)
            && r.outcome != Outcome::Skipped),
        "{summary:?}"
    );
    // The last review slot's window closed; the earlier ones are superseded by it.
    let reviews: Vec<&JobRun> = later.iter().filter(|r| r.job == "review").collect();
    let error = |r: &JobRun| r.error.clone().unwrap_or_default();
    assert!(error(reviews[2]).contains("window closed at 10:30 EST"), "{reviews:?}");
    assert!(
        reviews[..2].iter().all(|r| error(r).contains("superseded by the Tue 11-18 10:16 EST slot")),
        "{reviews:?}"
    );
    assert_eq!(later.len(), 6, "nothing else ran or was recorded: {summary:?}");
}

#[tokio::test(start_paused = true)]
async fn reload_applies_a_valid_file_and_keeps_the_old_one_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let config = test_config(dir.path(), false);
    let start = et(2025, 11, 17, 8, 0);
    let clock = Arc::new(SimulatedClock::starting_at(start));
    let (controls, receiver) = mpsc::unbounded_channel();
    let attempt = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut opts = options(config.clone(), clock.clone());
    let (seen, base) = (attempt.clone(), config.clone());
    opts.reload = Box::new(move || {
        if seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            // What Config::load returns for a broken file.
            Err(ivcd::config::ConfigError { origin: "ivcd.toml".into(), problems: vec!["bad key".into()] })
        } else {
            let mut c = base.clone();
            c.timetable.scan_minutes_before_close = 30;
            Ok(c)
        }
    });
    let daemon = tokio::spawn(ivcd::daemon::run(opts, receiver));

    clock.sleep_until(et(2025, 11, 17, 10, 0)).await;
    controls.send(Control::Reload).unwrap(); // rejected: Monday's scan stays at 15:00
    clock.sleep_until(et(2025, 11, 17, 16, 0)).await;
    controls.send(Control::Reload).unwrap(); // applied: Tuesday's scan moves to 15:30
    clock.sleep_until(et(2025, 11, 18, 16, 30)).await;
    controls.send(Control::Shutdown).unwrap();
    daemon.await.unwrap().unwrap();

    let scans: Vec<DateTime<Utc>> =
        runs(&config, start).into_iter().filter(|r| r.job == "scan").map(|r| r.slot).collect();
    assert_eq!(scans, [et(2025, 11, 17, 15, 0), et(2025, 11, 18, 15, 30)]);
}

#[tokio::test]
async fn the_status_socket_serves_a_snapshot_and_is_removed_on_stop() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let config = test_config(dir.path(), false);
    // A Sunday morning: the market is closed, the next slot is the housekeeping.
    let start = et(2025, 11, 16, 2, 0);
    let clock: Arc<dyn Clock> = Arc::new(SimulatedClock::starting_at(start));
    let (controls, receiver) = mpsc::unbounded_channel();
    let socket = config.daemon.status_socket.clone();
    let daemon = tokio::spawn(ivcd::daemon::run(options(config.clone(), clock), receiver));

    // The socket exists once the daemon has bound it; connect until it answers.
    let report = loop {
        if let Some(report) = ivcd::status::fetch(&socket).await.unwrap() {
            break report;
        }
        tokio::task::yield_now().await;
    };
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660);
    assert_eq!(report.state, ivcd::status::State::Healthy, "{:?}", report.problems);
    let daemon_info = report.daemon.as_ref().unwrap();
    assert_eq!(daemon_info.pid, std::process::id());
    assert!(!report.market.open);
    assert_eq!(report.market.next_open, et(2025, 11, 17, 9, 30));
    let next: Vec<(ivcd::timetable::Job, Option<DateTime<Utc>>)> =
        report.jobs.iter().map(|j| (j.job, j.next_run)).collect();
    assert!(next.contains(&(ivcd::timetable::Job::Housekeeping, Some(et(2025, 11, 16, 3, 0)))), "{next:?}");
    assert!(next.contains(&(ivcd::timetable::Job::Scan, Some(et(2025, 11, 17, 15, 0)))), "{next:?}");

    controls.send(Control::Shutdown).unwrap();
    daemon.await.unwrap().unwrap();
    assert!(!socket.exists(), "the socket is removed on stop");
    assert!(ivcd::status::fetch(&socket).await.unwrap().is_none(), "nothing answers after stop");
}

#[tokio::test]
async fn a_second_daemon_does_not_steal_the_socket() {
    let dir = tempfile::tempdir().unwrap();
    let config = test_config(dir.path(), false);
    let clock: Arc<dyn Clock> = Arc::new(SimulatedClock::starting_at(et(2025, 11, 16, 2, 0)));
    let (controls, receiver) = mpsc::unbounded_channel();
    let first = tokio::spawn(ivcd::daemon::run(options(config.clone(), clock.clone()), receiver));
    while ivcd::status::fetch(&config.daemon.status_socket).await.unwrap().is_none() {
        tokio::task::yield_now().await;
    }
    // The same database: refused by its lock before anything else.
    let (_controls2, receiver2) = mpsc::unbounded_channel();
    let err = ivcd::daemon::run(options(config.clone(), clock.clone()), receiver2).await.unwrap_err();
    assert!(
        matches!(err.downcast_ref(), Some(ivcd::store::StoreError::Locked { holder, .. }) if holder.contains("ivcd run")),
        "{err:#}"
    );
    // Another database, the same socket: refused by the socket.
    let other = Config { database: dir.path().join("other.db"), ..config.clone() };
    let (_controls3, receiver3) = mpsc::unbounded_channel();
    let err = ivcd::daemon::run(options(other, clock), receiver3).await.unwrap_err();
    assert!(format!("{err:#}").contains("another ivcd daemon is answering"), "{err:#}");
    assert!(
        ivcd::status::fetch(&config.daemon.status_socket).await.unwrap().is_some(),
        "the first still answers"
    );
    controls.send(Control::Shutdown).unwrap();
    first.await.unwrap().unwrap();
}

#[tokio::test]
async fn cron_alarms_are_one_shot_jobs_at_the_computed_instants() {
    use ivcd::daemon::alarms::CronAlarms;
    use ivcd::timetable::{Job, Slot};
    // The slots of the week across the spring-forward change, armed from a
    // clock that reads the Friday before. tokio-cron-scheduler works on the
    // wall clock in whole seconds: each job must be held at the wall-clock
    // moment that is as far ahead as the slot is ahead of the daemon's clock.
    let now = et(2026, 3, 6, 12, 0);
    let clock: Arc<dyn Clock> = Arc::new(SimulatedClock::starting_at(now));
    let (ring, _rung) = mpsc::unbounded_channel();
    let alarms = CronAlarms::start(clock, ring).await.unwrap();
    let slots = [
        Slot { job: Job::Scan, at: et(2026, 3, 6, 15, 0) },
        Slot { job: Job::Housekeeping, at: et(2026, 3, 8, 3, 0) },
        Slot { job: Job::Review, at: et(2026, 3, 9, 9, 31) },
    ];
    let before = Utc::now();
    for slot in slots {
        alarms.arm(slot).await.unwrap();
    }
    let after = Utc::now();
    for slot in slots {
        let tick = alarms.next_tick(&slot).await.expect("armed");
        let ahead = slot.at - now;
        assert!(
            tick >= before + ahead - Duration::seconds(2) && tick <= after + ahead + Duration::seconds(1),
            "{slot}: held at {tick}, expected {ahead} after {before}"
        );
    }
    // 2026-03-09 09:31 EDT is 13:31Z: 68 h 31 min after Friday 12:00 EST
    // (17:00Z), not the 69 h 31 min that a fixed EST offset would give.
    assert_eq!(slots[2].at - now, Duration::minutes(68 * 60 + 31));
}

#[tokio::test]
async fn the_exchange_calendar_of_june_2013_agrees_with_the_rules() {
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    // Tradier's own calendar for June 2013 (tradier.rb's recorded fixture);
    // July and August were not recorded, so the fake answers 404 for them.
    let tradier = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/markets/calendar"))
        .and(query_param("month", "06"))
        .and(query_param("year", "2013"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(crate::support::read_data(
                "tradier__tradier.rb/spec/fixtures/calendar.json",
            )),
        )
        .expect(1)
        .mount(&tradier)
        .await;
    let mut c = Config::default();
    c.tradier.base_url = tradier.uri();
    c.tradier.token = ivcd::config::Secret::new("test-token");
    let now = et(2013, 6, 11, 9, 0);
    let clock: Arc<dyn Clock> = Arc::new(SimulatedClock::starting_at(now));
    let client = ivcd::providers::tradier::client::TradierClient::new(&c.tradier, clock).unwrap();
    let store = Store::open_in_memory().unwrap();
    ivcd::daemon::check_exchange_calendar(&client, &store, now).await;
    let overrides = store.run(|db| db.calendar_overrides()).await.unwrap();
    assert!(overrides.is_empty(), "the rules and the exchange disagree on {overrides:?}");
    assert_eq!(client.requests_sent(), 3, "June, July and August asked for");
    let health = client.health().snapshot();
    assert!(health.last_error.is_some_and(|e| e.message.contains("404")), "the unrecorded months failed");
}

/// Polls the daemon's status until it satisfies `ready` (paused time does
/// not move while this polls); fails after a minute of real time.
async fn status_until(
    socket: &Path,
    what: &str,
    ready: impl Fn(&ivcd::status::StatusReport) -> bool,
) -> ivcd::status::StatusReport {
    let limit = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Some(report) = ivcd::status::fetch(socket).await.unwrap()
            && ready(&report)
        {
            return report;
        }
        assert!(std::time::Instant::now() < limit, "the daemon's status never showed {what}");
        tokio::task::yield_now().await;
    }
}

fn store_trouble(report: &ivcd::status::StatusReport) -> Option<ivcd::status::StoreTrouble> {
    report.daemon.as_ref().and_then(|d| d.store_trouble.clone())
}

#[tokio::test(start_paused = true)]
async fn a_scan_the_locked_database_refused_is_a_status_problem_and_runs_again_once_released() {
    let dir = tempfile::tempdir().unwrap();
    let config = test_config(dir.path(), false);
    assert_eq!(config.daemon.store_retry_minutes, 5, "the default");
    // Tue 2025-11-18 14:50 ET: the next slot is the 15:00 scan.
    let clock = Arc::new(SimulatedClock::starting_at(et(2025, 11, 18, 14, 50)));
    let (controls, receiver) = mpsc::unbounded_channel();
    let daemon = tokio::spawn(ivcd::daemon::run(options(config.clone(), clock.clone()), receiver));
    let socket = config.daemon.status_socket.clone();
    status_until(&socket, "the daemon up", |_| true).await;

    let holder = hold_write_lock(&config.database);
    clock.sleep_until(et(2025, 11, 18, 15, 0) + Duration::seconds(30)).await;
    let report = status_until(&socket, "the refused scan", |r| store_trouble(r).is_some()).await;
    let trouble = store_trouble(&report).unwrap();
    assert_eq!((trouble.slot.job, trouble.slot.at), (Job::Scan, et(2025, 11, 18, 15, 0)));
    assert_eq!(trouble.retry_at, Some(trouble.at + Duration::minutes(5)));
    assert!(trouble.at < et(2025, 11, 18, 15, 1), "refused at {}", trouble.at);
    assert!(trouble.message.contains("database is locked"), "{}", trouble.message);
    assert_eq!(report.state, ivcd::status::State::Degraded);
    let problem = report.problems.iter().find(|p| p.kind == "store_error").expect("a store_error problem");
    assert!(problem.message.contains("runs again at Tue 2025-11-18 15:05 EST"), "{}", problem.message);

    // The user ends the session; the retry reaches the database and clears the problem.
    drop(holder);
    clock.sleep_until(et(2025, 11, 18, 15, 6)).await;
    let report = status_until(&socket, "the retried scan", |r| {
        r.jobs.iter().any(|j| j.job == Job::Scan && j.last_run.is_some())
    })
    .await;
    assert_eq!(store_trouble(&report), None);
    assert!(!report.problems.iter().any(|p| p.kind == "store_error"), "{:?}", report.problems);
    let scan = report.jobs.iter().find(|j| j.job == Job::Scan).unwrap().last_run.clone().unwrap();
    assert_eq!((scan.slot, scan.outcome), (et(2025, 11, 18, 15, 0), Outcome::Ok), "{scan:?}");
    assert!(scan.started_at >= et(2025, 11, 18, 15, 5), "{scan:?}");

    // The timetable is kept: the evening's backfill runs at its slot.
    clock.sleep_until(et(2025, 11, 18, 20, 1)).await;
    controls.send(Control::Shutdown).unwrap();
    daemon.await.unwrap().unwrap();
    let runs = runs(&config, et(2025, 11, 18, 14, 50));
    let slots: Vec<(&str, DateTime<Utc>)> = runs.iter().map(|r| (r.job.as_str(), r.slot)).collect();
    let expected = [
        ("scan", et(2025, 11, 18, 15, 0)),
        ("refresh-calendar", et(2025, 11, 18, 18, 0)),
        ("backfill", et(2025, 11, 18, 20, 0)),
    ];
    assert_eq!(slots, expected);
    assert_eq!(integrity(&config.database), "ok");
}

#[tokio::test(start_paused = true)]
async fn a_refused_scan_whose_window_closes_before_a_retry_is_left_to_the_next_slot() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path(), false);
    // An hour after 15:00 is the close: no retry fits in the scan's window.
    config.daemon.store_retry_minutes = 60;
    let clock = Arc::new(SimulatedClock::starting_at(et(2025, 11, 18, 14, 50)));
    let (controls, receiver) = mpsc::unbounded_channel();
    let daemon = tokio::spawn(ivcd::daemon::run(options(config.clone(), clock.clone()), receiver));
    let socket = config.daemon.status_socket.clone();
    status_until(&socket, "the daemon up", |_| true).await;

    let holder = hold_write_lock(&config.database);
    clock.sleep_until(et(2025, 11, 18, 15, 0) + Duration::seconds(30)).await;
    let report = status_until(&socket, "the refused scan", |r| store_trouble(r).is_some()).await;
    assert_eq!(store_trouble(&report).unwrap().retry_at, None);
    let problem = report.problems.iter().find(|p| p.kind == "store_error").expect("a store_error problem");
    assert!(problem.message.contains("the job's next slot does its work"), "{}", problem.message);

    // Released: the next jobs reach the database (the 18:00 refresh, the
    // 20:00 backfill) and clear the problem.
    drop(holder);
    clock.sleep_until(et(2025, 11, 18, 20, 1)).await;
    let report = status_until(&socket, "the backfill", |r| {
        r.jobs.iter().any(|j| j.job == Job::Backfill && j.last_run.is_some())
    })
    .await;
    assert_eq!(store_trouble(&report), None);
    controls.send(Control::Shutdown).unwrap();
    daemon.await.unwrap().unwrap();
    let runs = runs(&config, et(2025, 11, 18, 14, 50));
    let slots: Vec<(&str, DateTime<Utc>)> = runs.iter().map(|r| (r.job.as_str(), r.slot)).collect();
    let expected = [("refresh-calendar", et(2025, 11, 18, 18, 0)), ("backfill", et(2025, 11, 18, 20, 0))];
    assert_eq!(slots, expected, "the refused scan was not run again");
    assert_eq!(integrity(&config.database), "ok");
}

/// Polls `path` (a file the daemon writes) until `ready` holds on its text.
async fn file_until(path: &Path, what: &str, ready: impl Fn(&str) -> bool) -> String {
    let limit = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && ready(&text)
        {
            return text;
        }
        assert!(std::time::Instant::now() < limit, "{} never showed {what}", path.display());
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn the_metrics_textfile_follows_the_jobs_and_says_down_once_stopped() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path(), false);
    let textfile = dir.path().join("ivcd.prom");
    config.metrics.textfile = Some(textfile.clone());
    // Tue 2025-11-18 14:50 ET: the next slot is the 15:00 scan.
    let clock = Arc::new(SimulatedClock::starting_at(et(2025, 11, 18, 14, 50)));
    let (controls, receiver) = mpsc::unbounded_channel();
    let daemon = tokio::spawn(ivcd::daemon::run(options(config.clone(), clock.clone()), receiver));

    let text = file_until(&textfile, "the daemon up", |t| t.contains("\nivcd_up 1\n")).await;
    let m = crate::support::prometheus::samples(&text);
    assert_eq!(m["ivcd_job_runs_total{ivcd_job=\"scan\",outcome=\"ok\"}"], 0.0);
    assert_eq!(std::fs::metadata(&textfile).unwrap().permissions().mode() & 0o777, 0o644);

    clock.sleep_until(et(2025, 11, 18, 15, 0) + Duration::seconds(30)).await;
    // The scan's run is counted and its outcome shown (the two are read at
    // different moments of one write: wait for both).
    let text = file_until(&textfile, "the scan", |t| {
        t.contains("ivcd_job_runs_total{ivcd_job=\"scan\",outcome=\"ok\"} 1")
            && t.contains("ivcd_job_last_outcome{ivcd_job=\"scan\",outcome=\"ok\"} 1")
    })
    .await;
    let m = crate::support::prometheus::samples(&text);
    let scan = runs(&config, et(2025, 11, 18, 14, 50)).into_iter().find(|r| r.job == "scan").unwrap();
    assert_eq!(scan.outcome, Outcome::Ok);
    let finished = scan.finished_at.unwrap().timestamp_millis() as f64 / 1000.0;
    assert_eq!(m["ivcd_last_successful_scan_timestamp_seconds"], finished);
    assert_eq!(m["ivcd_job_last_outcome{ivcd_job=\"scan\",outcome=\"ok\"}"], 1.0);
    assert_eq!(m["ivcd_job_runs_total{ivcd_job=\"scan\",outcome=\"failed\"}"], 0.0);
    let next_scan = et(2025, 11, 19, 15, 0).timestamp() as f64;
    assert_eq!(m["ivcd_job_next_run_timestamp_seconds{ivcd_job=\"scan\"}"], next_scan);
    // Only the file: no temporary left beside it.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");

    controls.send(Control::Shutdown).unwrap();
    daemon.await.unwrap().unwrap();
    let m = crate::support::prometheus::samples(&std::fs::read_to_string(&textfile).unwrap());
    assert_eq!(m["ivcd_up"], 0.0, "a stopped daemon's file says so");
    assert!(!m.contains_key("ivcd_job_runs_total{ivcd_job=\"scan\",outcome=\"ok\"}"));
    assert!(!m.keys().any(|k| k.starts_with("ivcd_job_next_run")), "no next run once stopped");
    assert_eq!(m["ivcd_last_successful_scan_timestamp_seconds"], finished);
}

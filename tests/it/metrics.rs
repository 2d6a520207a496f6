//! Prometheus metrics: `ivcd status --prometheus` on the database the real
//! CVNA replay leaves, the provider counters of a client that met real
//! faults, and the daemon's textfile (in daemon.rs). Every figure is checked
//! against the database or the fake server's own log, and the text is parsed
//! by an independent parser (prometheus-parse).

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use ivcd::clock::{Clock, FixedClock};
use ivcd::config::{Config, Secret};
use ivcd::domain::Ticker;
use ivcd::providers::Quotes;
use ivcd::providers::tradier::client::TradierClient;
use ivcd::status::{DaemonInfo, Live};
use ivcd::store::Store;
use ivcd::timetable::Timetable;

use crate::support::fakes::failing_until_healthy;
use crate::support::prometheus::samples;
use crate::support::{config_file, cvna_copy, ivcd_config as ivcd};

/// A running daemon's record, started at `at`.
fn daemon_started(at: DateTime<Utc>) -> DaemonInfo {
    DaemonInfo {
        pid: 1,
        version: ivcd::VERSION.clone(),
        started_at: at,
        config_file: None,
        last_reload: None,
        stopping: false,
        skipped_slots: Vec::new(),
        store_trouble: None,
    }
}

fn epoch(db: &Path, sql: &str) -> f64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    let text: String = conn.query_row(sql, [], |r| r.get(0)).unwrap();
    DateTime::parse_from_rfc3339(&text).unwrap().timestamp() as f64
}

fn number(db: &Path, sql: &str) -> f64 {
    rusqlite::Connection::open(db).unwrap().query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap() as f64
}

/// The replayed CVNA database (in the returned directory, with its
/// configuration) and `ivcd status --prometheus` on it, no daemon running.
fn replayed_metrics() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let db = cvna_copy(dir.path());
    let config = config_file(dir.path(), &db);
    let out = ivcd(&config).args(["status", "--prometheus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    (dir, db, config, String::from_utf8(out.stdout).unwrap())
}

#[test]
fn status_prometheus_without_a_daemon_gives_the_databases_gauges() {
    let (_dir, db, config, text) = replayed_metrics();
    let m = samples(&text);

    assert_eq!(m["ivcd_up"], 0.0);
    let scan_ok = epoch(&db, "SELECT max(finished_at) FROM job_runs WHERE job = 'scan' AND outcome = 'ok'");
    assert_eq!(m["ivcd_last_successful_scan_timestamp_seconds"], scan_ok);
    assert_eq!(scan_ok, 1_689_706_800.0, "the replay's 15:00 ET scan on 2023-07-18 (19:00Z)");
    assert_eq!(m["ivcd_job_last_success_timestamp_seconds{ivcd_job=\"scan\"}"], scan_ok);
    assert_eq!(m["ivcd_job_last_outcome{ivcd_job=\"review\",outcome=\"ok\"}"], 1.0);
    assert_eq!(m["ivcd_job_last_outcome{ivcd_job=\"review\",outcome=\"failed\"}"], 0.0);
    assert_eq!(m["ivcd_database_schema_version"], f64::from(ivcd::store::supported_schema_version()));
    assert_eq!(m["ivcd_database_size_bytes"], std::fs::metadata(&db).unwrap().len() as f64);
    let candidates =
        number(&db, "SELECT count(*) FROM candidates WHERE scan_id = (SELECT max(id) FROM scans)");
    assert_eq!(m["ivcd_last_scan_candidates{tier=\"all\"}"], candidates);
    let pending = number(&db, "SELECT count(*) FROM alert_deliveries WHERE state IN ('pending', 'sending')");
    assert_eq!(m["ivcd_outbox_depth{channel=\"all\"}"], pending);
    // Counters count since the daemon started: with none running there are none.
    assert!(!m.keys().any(|k| k.ends_with("_total") || k.contains("_total{")), "{text}");
    assert!(m.keys().any(|k| k.starts_with("ivcd_build_info{commit=")), "{text}");
    // The same numbers the status report gives.
    let out = ivcd(&config).args(["status", "--json"]).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(m["ivcd_problems_open"], report["problems"].as_array().unwrap().len() as f64);
}

#[tokio::test]
async fn the_provider_counters_are_what_the_client_sent_and_met() {
    // Tradier answers 500 to every request until told otherwise: two calls of
    // two tries each, then the breaker (2 failures) refuses a third call
    // without a request; a fourth, after the cool-down, gets the recorded quote.
    let (server, healthy) = failing_until_healthy().await;
    let mut c = crate::support::fakes::config(&server.uri);
    c.tradier.retry.max_attempts = 2;
    c.tradier.breaker.failures = 2;
    c.tradier.breaker.cool_down_seconds = 60;
    let start: DateTime<Utc> = "2024-06-28T19:00:00Z".parse().unwrap();
    let clock = Arc::new(FixedClock::new(start));
    let client = TradierClient::new(&c.tradier, clock.clone()).unwrap();
    let pltr = Ticker::new("PLTR").unwrap();
    for _ in 0..3 {
        client.quotes(std::slice::from_ref(&pltr)).await.unwrap_err();
    }
    healthy.store(true, std::sync::atomic::Ordering::SeqCst);
    clock.set(start + chrono::Duration::seconds(61));
    client.quotes(std::slice::from_ref(&pltr)).await.unwrap();

    let log = server.requests();
    let answered = |name: &str| log.iter().filter(|(_, _, fault)| *fault == name).count() as f64;
    let store = Store::open_in_memory().unwrap();
    let live = Live { daemon: daemon_started(start), providers: vec![client.health().snapshot()] };
    let timetable = Timetable::new(Config::default().timetable, ivcd::calendar::NyseCalendar::new());
    let report =
        ivcd::status::build(Some(&store), store.path(), None, &timetable, clock.now(), Some(live)).await;
    let facts = ivcd::metrics::store_facts(&store, Some(start)).await.unwrap();
    let m = samples(&ivcd::metrics::render(&report, Some(&facts)));

    assert_eq!(m["ivcd_up"], 1.0);
    assert_eq!(m["ivcd_provider_requests_total{provider=\"tradier\",status=\"500\"}"], answered("status"));
    assert_eq!(answered("status"), 4.0);
    assert_eq!(m["ivcd_provider_requests_total{provider=\"tradier\",status=\"200\"}"], answered("ok"));
    assert_eq!(m["ivcd_provider_errors_total{kind=\"http_status\",provider=\"tradier\"}"], 4.0);
    assert_eq!(m["ivcd_provider_errors_total{kind=\"circuit_open\",provider=\"tradier\"}"], 1.0);
    // Kinds that did not happen are there at 0, so `increase()` sees their first burst.
    assert_eq!(m["ivcd_provider_errors_total{kind=\"timeout\",provider=\"tradier\"}"], 0.0);
    assert_eq!(m["ivcd_provider_retries_total{provider=\"tradier\"}"], 2.0);
    assert_eq!(m["ivcd_provider_circuit_open{provider=\"tradier\"}"], 0.0, "closed again after the probe");
    assert_eq!(m["ivcd_provider_last_success_timestamp_seconds{provider=\"tradier\"}"], 1_719_601_261.0);
    // No job ran: every job's counter is there, at 0, so increase() sees the first run.
    assert_eq!(m["ivcd_job_runs_total{ivcd_job=\"scan\",outcome=\"failed\"}"], 0.0);
    assert_eq!(m["ivcd_job_run_seconds_total{ivcd_job=\"review\"}"], 0.0);
}

/// `ivcd status --prometheus`'s text names each family once, with HELP and TYPE.
#[test]
fn every_family_has_help_and_type() {
    let (_dir, _db, _config, text) = replayed_metrics();
    let mut families = std::collections::BTreeSet::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let name = line.split(['{', ' ']).next().unwrap();
        families.insert(name.to_owned());
    }
    for family in &families {
        assert!(text.contains(&format!("# HELP {family} ")), "{family} has no HELP");
        assert!(text.contains(&format!("# TYPE {family} ")), "{family} has no TYPE");
        assert!(family.starts_with("ivcd_"), "{family}");
    }
    assert!(families.len() >= 10, "{families:?}");
}

/// The alert rules of docs/operations.md (its one `yaml` block).
fn documented_rules() -> String {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/operations.md")).unwrap();
    let start = doc.find("```yaml\n").expect("a yaml block in operations.md") + "```yaml\n".len();
    let end = start + doc[start..].find("```").unwrap();
    doc[start..end].to_owned()
}

/// Rule unit tests for promtool: each documented alert fires on the series
/// that should fire it, after its `for:`, and not before.
const RULE_TESTS: &str = r#"
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 5m
    input_series:
      # The last ok scan ended at t=0 and none since: 5 days of samples, every
      # 5 minutes (as a scrape would, within Prometheus's 5-minute lookback).
      - series: 'ivcd_last_successful_scan_timestamp_seconds{instance="ivcd"}'
        values: '0x1440'
    alert_rule_test:
      - eval_time: 90h
        alertname: IvcdNoRecentScan
        exp_alerts: []
      - eval_time: 98h
        alertname: IvcdNoRecentScan
        exp_alerts:
          - exp_labels: {instance: ivcd}
            exp_annotations:
              summary: "no successful scan for 4 days: ivcd status, journalctl -u ivcd"
  - interval: 5m
    input_series:
      - series: 'ivcd_job_last_outcome{instance="ivcd",ivcd_job="scan",outcome="failed"}'
        values: '0 0 1 1 1 1 1 1'
      - series: 'ivcd_up{instance="ivcd"}'
        values: '1 1 1 0 0 0 0 0'
    alert_rule_test:
      - eval_time: 20m
        alertname: IvcdJobFailed
        exp_alerts: []
      - eval_time: 30m
        alertname: IvcdJobFailed
        exp_alerts:
          - exp_labels: {instance: ivcd, ivcd_job: scan, outcome: failed}
            exp_annotations:
              summary: "ivcd scan failed: ivcd status shows the error"
      - eval_time: 20m
        alertname: IvcdDown
        exp_alerts: []
      - eval_time: 30m
        alertname: IvcdDown
        exp_alerts:
          - exp_labels: {instance: ivcd}
            exp_annotations:
              summary: "ivcd is not running (or its metrics file is stale): systemctl status ivcd"
"#;

#[test]
#[ignore = "needs promtool (.ci/promtool fetches Debian's); .ci/run runs it"]
fn the_metrics_and_the_documented_alert_rules_pass_promtool() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let found = std::process::Command::new("bash").arg(repo.join(".ci/promtool")).output().unwrap();
    assert!(found.status.success(), "{}", String::from_utf8_lossy(&found.stderr));
    let promtool = String::from_utf8(found.stdout).unwrap().trim().to_owned();

    // The metrics text, from the replayed database without a daemon, then
    // from a live report on it (the counters and the provider families).
    let (dir, db, _config, text) = replayed_metrics();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let check = |text: &[u8]| {
        let mut child = std::process::Command::new(&promtool)
            .args(["check", "metrics"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), text).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
            "promtool check metrics: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    check(text.as_bytes());
    let live = rt.block_on(async {
        let store = Store::open(&db).unwrap();
        let started: DateTime<Utc> = "2023-07-18T10:00:00Z".parse().unwrap();
        let mut tradier = Config::default().tradier;
        tradier.token = Secret::new("test-token");
        let client = TradierClient::new(&tradier, Arc::new(FixedClock::new(started))).unwrap();
        let live = Live { daemon: daemon_started(started), providers: vec![client.health().snapshot()] };
        let timetable = Timetable::new(Config::default().timetable, ivcd::calendar::NyseCalendar::new());
        let now: DateTime<Utc> = "2023-07-19T14:00:00Z".parse().unwrap();
        let report = ivcd::status::build(Some(&store), &db, None, &timetable, now, Some(live)).await;
        let facts = ivcd::metrics::store_facts(&store, Some(started)).await.unwrap();
        ivcd::metrics::render(&report, Some(&facts))
    });
    let m = samples(&live);
    assert_eq!(m["ivcd_job_runs_total{ivcd_job=\"scan\",outcome=\"ok\"}"], 1.0, "the replay's scan");
    assert!(m.contains_key("ivcd_provider_rate_limit_waits_total{limiter=\"ivcd\",provider=\"tradier\"}"));
    check(live.as_bytes());

    // The rules: valid, and each fires when it should.
    std::fs::write(dir.path().join("rules.yml"), documented_rules()).unwrap();
    std::fs::write(dir.path().join("tests.yml"), RULE_TESTS).unwrap();
    for args in [vec!["check", "rules", "rules.yml"], vec!["test", "rules", "tests.yml"]] {
        let out = std::process::Command::new(&promtool).args(&args).current_dir(dir.path()).output().unwrap();
        assert!(
            out.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

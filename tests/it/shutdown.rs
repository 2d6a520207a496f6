//! The built binary as systemd runs it: SIGTERM in the middle of a scan, a
//! clean exit within the drain timeout, and a restart that catches the slot
//! up. The providers are local fakes: the real Alpha Vantage earnings
//! calendar recorded on 2026-05-17, and a slow Tradier that knows no chain.

use std::path::Path;
use std::time::Duration;

use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::daemon::{Daemon, KillOnPanic, ivcd_output};
use crate::support::db::query;
use crate::support::fakes::Fakes;

/// Mon 2026-05-18, five seconds after the 15:00 ET scan slot: its window is
/// open until the 16:00 close.
const START: &str = "2026-05-18T15:00:05-04:00";
const SCAN_SLOT: &str = "2026-05-18T19:00:00Z";

/// `ivcd run` from [`START`] on the simulated clock.
fn start(config: &Path) -> Daemon {
    Daemon::spawn(config, &["run", "--simulate-from", START])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_scan_exits_cleanly_and_a_restart_catches_the_slot_up() {
    // Tradier knows no chain, and answers slowly, so the scan is still running when the signal comes.
    let fakes = Fakes::start(Duration::from_millis(700)).await;
    let dir = tempfile::tempdir().unwrap();
    // daemon.drain_timeout_seconds stays at its default, 20.
    let (config, db) = fakes.write_config(dir.path(), "");

    // First run: catch-up refreshes the calendar, then scans; SIGTERM mid-scan.
    let daemon = start(&config);
    daemon.wait_for(&["scan started"]);
    daemon.terminate();
    let status = daemon.exit_within(Duration::from_secs(25));
    assert!(status.success(), "exit status {status:?}");

    assert_eq!(query(&db, "PRAGMA integrity_check"), [["ok"]]);
    let scan_runs = query(
        &db,
        &format!("SELECT outcome, error FROM job_runs WHERE job = 'scan' AND slot = '{SCAN_SLOT}'"),
    );
    assert_eq!(scan_runs.len(), 1, "{scan_runs:?}");
    assert_eq!(scan_runs[0][0], "interrupted");
    assert!(scan_runs[0][1].starts_with("stopped by shutdown after"), "{scan_runs:?}");
    assert_eq!(query(&db, "SELECT count(*) FROM scans"), [["0"]], "an interrupted scan stores nothing");
    assert_eq!(query(&db, "SELECT count(*) FROM job_runs WHERE outcome = 'running'"), [["0"]]);

    // Restart inside the window: the interrupted slot runs again, once.
    let daemon = start(&config);
    daemon.wait_for(&["scan stored"]);
    daemon.terminate();
    let status = daemon.exit_within(Duration::from_secs(25));
    assert!(status.success(), "exit status {status:?}");

    let outcomes = query(
        &db,
        &format!("SELECT outcome FROM job_runs WHERE job = 'scan' AND slot = '{SCAN_SLOT}' ORDER BY id"),
    );
    assert_eq!(outcomes, [["interrupted"], ["ok"]]);
    assert_eq!(
        query(&db, "SELECT count(*), count(DISTINCT slot) FROM scans"),
        [["1", "1"]],
        "one scan for the slot"
    );
    // From the recorded calendar: 4 AMC reporters on 05-18 and 20 BMO on 05-19, each once.
    assert_eq!(query(&db, "SELECT count(*), count(DISTINCT ticker) FROM candidates"), [["24", "24"]]);
    assert_eq!(
        query(&db, "SELECT count(*) FROM job_runs WHERE job = 'refresh-calendar' AND outcome = 'ok'"),
        [["1"]],
        "the refresh was settled by the first run and not repeated"
    );
    assert_eq!(query(&db, "PRAGMA integrity_check"), [["ok"]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_pending_at_a_sigkill_are_delivered_after_the_restart() {
    let fakes = Fakes::start(Duration::ZERO).await;
    // The webhook fails until the daemon is killed.
    let hook = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(503)).mount(&hook).await;
    let dir = tempfile::tempdir().unwrap();
    let (config, db) = fakes.write_config(
        dir.path(),
        &format!(
            "[alerts]\ninitial_backoff_seconds = 1\nmax_backoff_seconds = 2\ntimeout_seconds = 1\n\
             [alerts.webhook]\nurl = \"{}/hook\"\n",
            hook.uri()
        ),
    );

    // The caught-up scan stores its report and queues it; the webhook refuses; SIGKILL.
    let daemon = start(&config);
    daemon.wait_for(&["alert not sent; will retry"]);
    daemon.kill();
    let pending = query(&db, "SELECT channel, state FROM alert_deliveries");
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert!(pending[0][1] == "pending" || pending[0][1] == "sending", "{pending:?}");

    // The webhook recovers; the restarted daemon delivers the queued report, once.
    hook.reset().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&hook).await;
    let daemon = start(&config);
    daemon.wait_for(&["alert sent", "webhook"]);
    daemon.terminate();
    assert!(daemon.exit_within(Duration::from_secs(25)).success());

    let received = hook.received_requests().await.unwrap();
    assert_eq!(received.len(), 1, "delivered exactly once after the restart");
    let body: serde_json::Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(body["slot"], SCAN_SLOT);
    assert_eq!(body["candidates"].as_array().unwrap().len(), 24, "the stored scan, whole");
    assert_eq!(query(&db, "SELECT state FROM alert_deliveries"), [["sent"]]);
    assert_eq!(query(&db, "SELECT count(*) FROM scans"), [["1"]], "the scan was not run again");
}

/// SIGKILL at seeded points of the daemon's scan: nothing drains, nothing is
/// marked. After each kill the database is sound and holds no partial scan;
/// the restart marks the crashed run `interrupted` and catches the slot up
/// (its window is open until the close), once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_scan_then_restart_catches_the_slot_up_once() {
    // Tradier knows no chain and answers each request after 150 ms, and the
    // scan works on 4 tickers at a time (not sized to the window, which would
    // take all 24 at once): the scan of 24 reporters lasts well over a second.
    let fakes = Fakes::start(Duration::from_millis(150)).await;
    let mut seed: u64 = 0x5eed_0f1c;
    let mut killed_mid_scan = 0;
    for _ in 0..5 {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let delay = Duration::from_millis((seed >> 33) % 700);
        let dir = tempfile::tempdir().unwrap();
        let (config, db) = fakes.write_config(dir.path(), "[scan]\nconcurrency = 4\n");
        let daemon = start(&config);
        daemon.wait_for(&["scan started"]);
        // The fault injected: SIGKILL after a seeded delay.
        std::thread::sleep(delay);
        daemon.kill();
        assert_eq!(query(&db, "PRAGMA integrity_check"), [["ok"]]);
        let stored = query(&db, "SELECT count(*) FROM candidates");
        assert!(stored == [["0"]] || stored == [["24"]], "a partial scan is visible: {stored:?}");
        let before =
            query(&db, &format!("SELECT outcome FROM job_runs WHERE job = 'scan' AND slot = '{SCAN_SLOT}'"));
        if before == [["ok"]] {
            continue; // finished before the kill: nothing to catch up
        }
        killed_mid_scan += 1;
        assert_eq!(before, [["running"]], "a SIGKILL leaves the run as it was");

        let daemon = start(&config);
        daemon.wait_for(&["scan stored"]);
        daemon.terminate();
        assert!(daemon.exit_within(Duration::from_secs(25)).success());
        let outcomes = query(
            &db,
            &format!("SELECT outcome FROM job_runs WHERE job = 'scan' AND slot = '{SCAN_SLOT}' ORDER BY id"),
        );
        assert_eq!(outcomes, [["interrupted"], ["ok"]]);
        assert_eq!(query(&db, "SELECT count(*), count(DISTINCT ticker) FROM candidates"), [["24", "24"]]);
        assert_eq!(query(&db, "PRAGMA integrity_check"), [["ok"]]);
    }
    assert!(killed_mid_scan >= 3, "only {killed_mid_scan} of 5 kills landed mid-scan");
    println!(
        "crash: daemon SIGKILLed mid-scan {killed_mid_scan} times; each restart marked the run interrupted and caught the slot up once"
    );
}

/// An idle daemon (the catch-up done, nothing running, no send in flight)
/// exits within half a second of SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_daemon_exits_within_half_a_second_of_sigterm() {
    let fakes = Fakes::start(Duration::ZERO).await;
    let dir = tempfile::tempdir().unwrap();
    // Every part that runs beside the jobs: the alerts worker (a webhook that
    // answers at once) and the metrics writer.
    let hook = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&hook).await;
    let (config, _db) = fakes.write_config(
        dir.path(),
        &format!(
            "[metrics]\ntextfile = {:?}\n[alerts.webhook]\nurl = \"{}/hook\"\n",
            dir.path().join("ivcd.prom"),
            hook.uri()
        ),
    );
    let daemon = start(&config);
    // The caught-up scan is the last job of the start, and its alert the last send; then the daemon idles.
    daemon.wait_for(&["alert sent", "webhook"]);
    let (status, elapsed) = daemon.terminate_and_time(Duration::from_secs(25));
    assert!(status.success(), "exit status {status:?}");
    println!("shutdown: an idle daemon exited {:.3} s after SIGTERM", elapsed.as_secs_f64());
    assert!(elapsed < Duration::from_millis(500), "an idle daemon took {elapsed:?} to exit");
}

/// A webhook that never answers: the send in flight at SIGTERM is cut off
/// within the drain budget, measured from the signal, and the process exits
/// inside it. The delivery is left to the next start (`sending`, sent again
/// when its lease runs out), never lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_webhook_never_holds_the_stop_past_the_drain_budget() {
    let fakes = Fakes::start(Duration::ZERO).await;
    let hook = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(600)))
        .mount(&hook)
        .await;
    let dir = tempfile::tempdir().unwrap();
    // alerts.timeout_seconds stays at its default (30; a send may take 60 s),
    // far beyond the drain budget of 4 s.
    let (config, db) = fakes.write_config(
        dir.path(),
        &format!("drain_timeout_seconds = 4\n[alerts.webhook]\nurl = \"{}/hook\"\n", hook.uri()),
    );
    let budget = Duration::from_secs(4);
    let daemon = start(&config);
    daemon.wait_for(&["job=\"scan\"", "job finished"]);
    // The report's POST reached the webhook, which holds it.
    let started = std::time::Instant::now();
    while hook.received_requests().await.unwrap().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(30), "the alert was never sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, elapsed) = daemon.terminate_and_time(Duration::from_secs(30));
    assert!(status.success(), "exit status {status:?}");
    println!(
        "shutdown: with a webhook that never answers, exited {:.3} s after SIGTERM (budget {budget:?})",
        elapsed.as_secs_f64()
    );
    assert!(elapsed <= budget, "exited {elapsed:?} after SIGTERM, past the {budget:?} budget");
    // The report is not lost: the next start sends it again.
    assert_eq!(query(&db, "SELECT state, attempts FROM alert_deliveries"), [["sending", "1"]]);
    assert_eq!(query(&db, "PRAGMA integrity_check"), [["ok"]]);
}

/// A daemon stopped while it reads the exchange's calendar (a slow Tradier:
/// 700 ms a request, three months), at its start and again in the
/// caught-up refresh, exits within half a second: the check is not a job
/// that must reach a safe point.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_stopped_while_it_reads_the_exchange_calendar_exits_within_half_a_second() {
    let fakes = Fakes::start(Duration::from_millis(700)).await;
    for (moment, parts) in [
        ("at its start", &["starting"][..]),
        ("after the caught-up refresh", &["job=\"refresh-calendar\"", "job finished"][..]),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (config, db) = fakes.write_config(dir.path(), "");
        let daemon = start(&config);
        daemon.wait_for(parts);
        let (status, elapsed) = daemon.terminate_and_time(Duration::from_secs(25));
        assert!(status.success(), "exit status {status:?}");
        println!("shutdown: stopped {moment}, exited {:.3} s after SIGTERM", elapsed.as_secs_f64());
        assert!(elapsed < Duration::from_millis(500), "stopped {moment}, took {elapsed:?} to exit");
        assert_eq!(query(&db, "SELECT count(*) FROM job_runs WHERE outcome = 'running'"), [["0"]]);
    }
}

/// One daemon per database: a second `ivcd run` (with its own status
/// socket, or with the first one's) and a scan by hand are refused with
/// exit code 75 naming the running daemon, and change nothing: the first
/// daemon's scan stays `running`, no row is added, no socket is bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_daemon_or_a_writing_command_is_refused_while_the_daemon_runs() {
    // A slow Tradier: the first daemon's caught-up scan runs for seconds.
    let fakes = Fakes::start(Duration::from_millis(700)).await;
    let dir = tempfile::tempdir().unwrap();
    let (config, db) = fakes.write_config(dir.path(), "");
    // The same database with another status socket.
    let other_socket = dir.path().join("other.sock");
    let second = dir.path().join("second.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replace(&format!("{:?}", dir.path().join("status.sock")), &format!("{other_socket:?}"));
    std::fs::write(&second, text).unwrap();

    let daemon = start(&config);
    let pid = daemon.pid();
    let _guard = KillOnPanic(pid);
    daemon.wait_for(&["scan started"]);
    let rows = || query(&db, "SELECT id, job, slot, outcome, coalesce(error, '') FROM job_runs ORDER BY id");
    let before = rows();
    assert!(before.iter().any(|r| r[1] == "scan" && r[3] == "running"), "{before:?}");

    for (what, file, args) in [
        ("a second daemon with its own socket", &second, &["run", "--simulate-from", START][..]),
        ("a second daemon with the same socket", &config, &["run", "--simulate-from", START][..]),
        ("a scan by hand", &config, &["scan", "--as-of", "2026-05-18T15:00"][..]),
        ("a refresh by hand", &config, &["refresh-calendar", "--as-of", "2026-05-18T06:00"][..]),
    ] {
        let out = ivcd_output(file, args, Duration::from_secs(30));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(75), "{what}: {:?}\n{stderr}", out.status);
        assert!(
            stderr.contains(&format!("is in use by pid {pid}: ivcd run"))
                && stderr.contains("changed nothing"),
            "{what}: {stderr}"
        );
        assert_eq!(rows(), before, "{what} changed job_runs");
        assert!(!other_socket.exists(), "{what} bound a socket");
    }
    assert_eq!(query(&db, "SELECT count(*) FROM scans"), [["0"]]);

    // The first daemon carries on, and its stop frees the database.
    daemon.wait_for(&["scan stored"]);
    daemon.terminate();
    assert!(daemon.exit_within(Duration::from_secs(25)).success());
    let out =
        ivcd_output(&config, &["refresh-calendar", "--as-of", "2026-05-18T06:00"], Duration::from_secs(60));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

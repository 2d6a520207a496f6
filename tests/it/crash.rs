//! Crash safety: the built binary is killed with SIGKILL at seeded random
//! points of backfills, scans and their alert deliveries, then run again
//! ("restarted") on the same database, `IVCD_CRASH_RUNS` times (12 by
//! default, four per operation; CI's extra step runs 100). After every kill and at the end: `PRAGMA integrity_check` is
//! ok, no scan is visible with part of its candidates, and no report is lost;
//! a report is received twice only inside the documented window (a kill
//! between the channel's acceptance and the `sent` commit), and then with the
//! same Idempotency-Key. Prints the figures.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use ivcd::clock::FixedClock;
use wiremock::matchers::{method, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::data::AV;
use crate::support::fakes::{Fault, FaultServer, alpha_vantage_with_calendar};
use crate::support::read_data;

/// A small seeded generator (xorshift64*), so a failing run can be replayed by its seed.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn ivcd(db: &Path, tradier: &str, alpha: &str, webhook: &str, args: &[&str]) -> Command {
    let mut cmd = crate::support::cmd::ivcd_std();
    cmd.env("IVCD_DATABASE", db)
        .env("RUST_LOG", "error")
        .env("IVCD_TRADIER__BASE_URL", tradier)
        .env("IVCD_TRADIER__TOKEN", "crash-test-token")
        .env("IVCD_TRADIER__REQUESTS_PER_MINUTE", "6000")
        .env("IVCD_ALPHA_VANTAGE__BASE_URL", alpha)
        .env("IVCD_ALPHA_VANTAGE__API_KEY", "crash-test-key")
        .env("IVCD_ALPHA_VANTAGE__REQUESTS_PER_MINUTE", "6000")
        .env("IVCD_ALERTS__WEBHOOK__URL", webhook)
        .env("IVCD_ALERTS__TIMEOUT_SECONDS", "2")
        .env("IVCD_DAEMON__STATUS_SOCKET", db.with_extension("sock"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// Integrity, and no scan with part of its candidates: every stored scan of
/// a slot has the candidate count of that slot's first complete run.
fn check_database(db: &Path, complete: &mut HashMap<String, i64>) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok");
    let scans: Vec<(String, i64)> = conn
        .prepare("SELECT s.slot, (SELECT count(*) FROM candidates c WHERE c.scan_id = s.id) FROM scans s")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (slot, n) in scans {
        let expected = *complete.entry(slot.clone()).or_insert(n);
        assert_eq!(n, expected, "scan of {slot} holds {n} candidates, a complete one {expected}");
    }
    let orphans: i64 = conn
        .query_row("SELECT count(*) FROM alerts a WHERE NOT EXISTS (SELECT 1 FROM alert_deliveries d WHERE d.alert_id = a.id)", [], |r| r.get(0))
        .unwrap();
    assert_eq!(orphans, 0, "an alert without its deliveries");
}

// Multi-threaded: the binary runs blocking while the fakes answer it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_loses_and_corrupts_nothing() {
    let runs: u64 = std::env::var("IVCD_CRASH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(12);
    let alpha = alpha_vantage_with_calendar().await;
    for (function, file) in [
        ("EARNINGS", "fundamental/EARNINGS_d56c999e.json"),
        ("TIME_SERIES_DAILY", "time_series/TIME_SERIES_DAILY_42a08190.csv"),
    ] {
        Mock::given(query_param("function", function))
            .and(query_param("symbol", "IBM"))
            .respond_with(ResponseTemplate::new(200).set_body_string(read_data(&format!("{AV}/{file}"))))
            .mount(&alpha)
            .await;
    }
    // Tradier has no chain for these reporters: each answer takes 10 ms, so
    // a scan lasts long enough to be killed in the middle.
    let tradier =
        FaultServer::start(|_, _| Fault::Delayed(Duration::from_millis(10), Box::new(Fault::Status(404))))
            .await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(40)))
        .mount(&receiver)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ivcd.db");
    let webhook = format!("{}/hook", receiver.uri());
    let run = |args: &[&str]| ivcd(&db, &tradier.uri, &alpha.uri(), &webhook, args);

    let status = run(&["refresh-calendar", "--as-of", "2026-05-17T18:00"]).status().unwrap();
    assert!(status.success());
    let operations: [&[&str]; 3] = [
        &["backfill", "IBM", "--as-of", "2026-05-17T20:00"],
        &["scan", "--as-of", "2026-05-18T15:00", "--notify"],
        &["scan", "--as-of", "2026-05-19T15:00", "--notify"],
    ];
    let mut complete = HashMap::new();
    let mut rng = Seeded(0x1dc0_ffee);
    let mut killed_mid_run = 0;
    for seed in 0..runs {
        let args = operations[(seed % 3) as usize];
        let delay = Duration::from_millis(rng.next() % 400);
        let mut child = run(args).spawn().unwrap();
        // The fault injected: SIGKILL after a seeded delay (not a wait for a result).
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            killed_mid_run += 1;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        check_database(&db, &mut complete);
        // The restart: the same work again, to the end.
        let out = run(args).output().unwrap();
        // The fake Tradier refuses IBM's history (404): the backfill runs to
        // its end and says so with exit 1 (a partial failure); the rest succeed.
        let stderr = String::from_utf8_lossy(&out.stderr);
        let partial =
            args[0] == "backfill" && out.status.code() == Some(1) && stderr.contains("1 of 1 tickers failed");
        assert!(out.status.success() || partial, "seed {seed} {args:?}: {stderr}");
        check_database(&db, &mut complete);
    }

    // What a daemon's outbox does at start: deliver everything due, including
    // `sending` rows whose lease ran out (one hour later here).
    let config = {
        let mut c = ivcd::config::Config { database: db.clone(), ..ivcd::config::Config::default() };
        c.alerts.webhook =
            Some(ivcd::config::WebhookConfig { url: webhook.clone(), secret: Default::default() });
        c.alerts.timeout_seconds = 2;
        c
    };
    let store = ivcd::store::Store::open(&db).unwrap();
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    let outbox =
        ivcd::alert::outbox::Outbox::new(store, &config.alerts, Arc::new(FixedClock::new(later))).unwrap();
    outbox.deliver_due_all().await.unwrap();

    let conn = rusqlite::Connection::open(&db).unwrap();
    let rows: Vec<(String, String, i64)> = conn
        .prepare("SELECT idempotency_key, state, attempts FROM alert_deliveries")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut received: HashMap<String, usize> = HashMap::new();
    for request in receiver.received_requests().await.unwrap() {
        let key =
            request.headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        *received.entry(key).or_default() += 1;
    }
    let lost: Vec<_> = rows.iter().filter(|(_, state, _)| state != "sent" && state != "superseded").collect();
    assert!(lost.is_empty(), "reports not delivered: {lost:?}");
    let mut duplicated = 0;
    for (key, state, attempts) in &rows {
        let n = received.get(key).copied().unwrap_or(0);
        if state == "sent" {
            assert!(n >= 1, "{key} marked sent but never received");
        }
        if n > 1 {
            duplicated += 1;
            assert!(*attempts as usize >= n, "{key}: received {n} times in {attempts} attempts");
        }
    }
    let sent = rows.iter().filter(|r| r.1 == "sent").count();
    let scans: i64 = conn.query_row("SELECT count(*) FROM scans", [], |r| r.get(0)).unwrap();
    println!(
        "crash: {runs} SIGKILLs ({killed_mid_run} mid-run), {runs} restarts survived, integrity ok after each; \
         {scans} scans stored, none partial; {} reports queued, {sent} delivered, 0 lost, {duplicated} duplicated \
         (each inside the documented window, same Idempotency-Key)",
        rows.len()
    );
}

/// A database another process holds locked: the scan fails with an error
/// that says so and what to do, stores nothing partial, loses nothing stored,
/// and the next run succeeds once the lock is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_is_a_clear_error_and_the_next_run_succeeds() {
    let alpha = alpha_vantage_with_calendar().await;
    let tradier = FaultServer::start(|_, _| Fault::Status(404)).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ivcd.db");
    let run = |args: &[&str]| ivcd(&db, &tradier.uri, &alpha.uri(), "http://127.0.0.1:9/unused", args);
    assert!(run(&["refresh-calendar", "--as-of", "2026-05-17T18:00"]).status().unwrap().success());
    let events = |conn: &rusqlite::Connection| -> i64 {
        conn.query_row("SELECT count(*) FROM earnings_events", [], |r| r.get(0)).unwrap()
    };

    // A sqlite3 session with an open write transaction.
    let holder = rusqlite::Connection::open(&db).unwrap();
    let before = events(&holder);
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let out = run(&["scan", "--as-of", "2026-05-18T15:00"]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("another process holds the database"), "{stderr}");
    assert!(stderr.contains(db.to_str().unwrap()), "the message names the database: {stderr}");
    holder.execute_batch("ROLLBACK").unwrap();

    let conn = rusqlite::Connection::open(&db).unwrap();
    let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok");
    assert_eq!(events(&conn), before, "nothing stored was lost");
    let scans: i64 = conn.query_row("SELECT count(*) FROM scans", [], |r| r.get(0)).unwrap();
    assert_eq!(scans, 0, "no partial scan");
    let out = run(&["scan", "--as-of", "2026-05-18T15:00"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("replaced"));
    let scans: i64 = conn.query_row("SELECT count(*) FROM scans", [], |r| r.get(0)).unwrap();
    assert_eq!(scans, 1);

    // The same slot again replaces that scan, and says so.
    let first: i64 = conn.query_row("SELECT id FROM scans", [], |r| r.get(0)).unwrap();
    let out = run(&["scan", "--as-of", "2026-05-18T15:00"]).output().unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "ivcd scan: replaced scan {first}, stored for the same slot (Mon 2026-05-18 15:00 EDT)"
        )),
        "{stderr}"
    );
    let scans: i64 = conn.query_row("SELECT count(*) FROM scans", [], |r| r.get(0)).unwrap();
    assert_eq!(scans, 1);
}

/// The number of earnings events, scans and candidates stored.
fn stored(db: &Path) -> (i64, i64, i64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok");
    let count = |table: &str| -> i64 {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap()
    };
    (count("earnings_events"), count("scans"), count("candidates"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_the_disk_refuses_are_a_clear_error_and_lose_nothing() {
    let alpha = alpha_vantage_with_calendar().await;
    let tradier = FaultServer::start(|_, _| Fault::Status(404)).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ivcd.db");
    let run = |args: &[&str]| ivcd(&db, &tradier.uri, &alpha.uri(), "http://127.0.0.1:9/unused", args);
    assert!(run(&["refresh-calendar", "--as-of", "2026-05-17T18:00"]).status().unwrap().success());
    let before = stored(&db);
    assert!(before.0 > 0 && before.1 == 0, "{before:?}");

    // The scan's process may write files of at most 40 KiB: past that its
    // writes fail in the kernel (EFBIG, SIGXFSZ ignored) as a full disk's
    // do (ENOSPC). The WAL reaches 40 KiB while the scan stores its candidates.
    let scan = run(&["scan", "--as-of", "2026-05-18T15:00"]);
    let mut limited = Command::new("bash");
    limited
        .args(["-c", "trap '' XFSZ; ulimit -f 40; exec \"$0\" \"$@\""])
        .arg(scan.get_program())
        .args(scan.get_args())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (key, value) in scan.get_envs() {
        match value {
            Some(value) => limited.env(key, value),
            None => limited.env_remove(key),
        };
    }
    let out = limited.output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(db.to_str().unwrap()), "the message names the database: {stderr}");
    assert!(stderr.contains("disk I/O error"), "{stderr}");
    assert!(stderr.contains("is the disk full or failing? Check `df`"), "{stderr}");
    let refused = stored(&db);
    assert_eq!(refused.0, before.0, "nothing stored was lost");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let scan_runs: Vec<String> = conn
        .prepare("SELECT outcome FROM job_runs WHERE job = 'scan'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!scan_runs.iter().any(|o| o == "ok"), "the refused scan is not recorded as done: {scan_runs:?}");

    // Space again: the same scan runs, and replaces whatever the refused one committed.
    let out = run(&["scan", "--as-of", "2026-05-18T15:00"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after = stored(&db);
    assert_eq!((after.0, after.1), (before.0, 1));
    assert!(after.2 > 0, "{after:?}");
    // No partial scan: the refused run stored none or all of its candidates.
    assert!(refused.1 == 0 && refused.2 == 0 || refused.1 == 1 && refused.2 == after.2, "{refused:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_database_is_a_clear_error_and_loses_nothing() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::os::unix::process::CommandExt;
    let alpha = alpha_vantage_with_calendar().await;
    let tradier = FaultServer::start(|_, _| Fault::Status(404)).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ivcd.db");
    let run = |args: &[&str]| ivcd(&db, &tradier.uri, &alpha.uri(), "http://127.0.0.1:9/unused", args);
    assert!(run(&["refresh-calendar", "--as-of", "2026-05-17T18:00"]).status().unwrap().success());
    let before = stored(&db);

    // The database and its directory belong to another user (a backup
    // restored as root, say): readable, not writable. Root ignores file
    // modes, so as root the scan runs as `nobody`.
    let mode = |path: &Path, mode: u32| std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
    mode(dir.path(), 0o755).unwrap();
    mode(&db, 0o644).unwrap();
    let mut scan = run(&["scan", "--as-of", "2026-05-18T15:00"]);
    if std::fs::metadata(&db).unwrap().uid() == 0 {
        scan.uid(65534).gid(65534);
    }
    let out = scan.output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(db.to_str().unwrap()), "the message names the database: {stderr}");
    assert!(stderr.contains("not writable by this user: check the owner and mode"), "{stderr}");
    assert_eq!(stored(&db), before, "nothing stored was lost");

    // The owner runs it: the same scan runs.
    let out = run(&["scan", "--as-of", "2026-05-18T15:00"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stored(&db).1, 1);
}

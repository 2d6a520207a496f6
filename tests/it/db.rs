//! Upgrades and backups: `ivcd db backup`, `ivcd db check`, the backup taken
//! before a migration, and the refusal of a database newer than the binary;
//! on the database the real CVNA replay leaves.

use std::path::Path;

use rusqlite::Connection;

use crate::support::db::{count, schema_version};
use crate::support::{config_file, cvna_copy, ivcd_config as ivcd};

/// The newest schema version this ivcd has.
fn latest() -> u32 {
    ivcd::store::supported_schema_version()
}

/// Rolls a replayed (current) database back to schema version 7: drops what
/// the later migrations create and forgets them. V8 added `move_inputs`;
/// V10 rebuilt `historical_implied_moves` (which it rebuilds again from any
/// shape) and added `calibration_events` and `calibration_inputs`; V9
/// added `installation`; V11 `sec_filings`, `timing_audits` and their view
/// (and rebuilds `response_cache`, from any shape, to widen its `kind`);
/// V12 `calibration_tiers`; V13 `calendar_versions` and `calendar_changes`
/// (and rebuilds `alerts` and `alert_deliveries`, from any shape, to widen
/// the alert's `kind`).
const ROLL_BACK_TO_7: &str =
    "DROP TABLE calendar_changes; DROP TABLE calendar_versions; DROP TABLE calibration_tiers;
     DROP VIEW timing_audit; DROP TABLE timing_audits; DROP TABLE sec_filings;
     DROP TABLE move_inputs; DROP TABLE installation; DROP TABLE calibration_events; DROP TABLE calibration_inputs;
     DELETE FROM refinery_schema_history WHERE version > 7;";

fn replayed() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = cvna_copy(dir.path());
    (dir, db)
}

#[test]
fn a_backup_is_a_sound_copy_of_every_row_and_never_overwrites_a_file() {
    let (dir, db) = replayed();
    let config = config_file(dir.path(), &db);
    let copy = dir.path().join("backups-ivcd.db");
    let out = ivcd(&config).args(["db", "backup"]).arg(&copy).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&format!("schema version {}", latest())) && said.contains("integrity ok"),
        "{said}"
    );
    for table in
        ["earnings_events", "daily_bars", "historical_moves", "option_quotes", "candidates", "job_runs"]
    {
        let sql = format!("SELECT count(*) FROM {table}");
        assert_eq!(count(&copy, &sql), count(&db, &sql), "{table}");
        assert!(count(&copy, &sql) > 0, "{table} is empty in the replay");
    }
    assert_eq!(schema_version(&copy), schema_version(&db));
    assert!(!dir.path().join("backups-ivcd.db.partial").exists());

    // The copy is never overwritten: a second backup to the same name fails and leaves it.
    let before = std::fs::read(&copy).unwrap();
    let out = ivcd(&config).args(["db", "backup"]).arg(&copy).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    assert_eq!(std::fs::read(&copy).unwrap(), before);

    // A directory that does not exist is a clear error, and nothing is left behind.
    let nowhere = dir.path().join("missing/ivcd.db");
    let out = ivcd(&config).args(["db", "backup"]).arg(&nowhere).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("backup to"), "{out:?}");
    assert!(!dir.path().join("missing").exists());
}

#[test]
fn db_check_reports_a_sound_current_database_and_fails_on_a_file_that_is_not_one() {
    let (dir, db) = replayed();
    let config = config_file(dir.path(), &db);
    let out = ivcd(&config).args(["db", "check", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["schema_version"], latest());
    assert_eq!(report["supported_version"], latest());
    assert_eq!(report["integrity"], serde_json::json!(["ok"]));
    assert_eq!(report["foreign_key_violations"], 0);
    assert_eq!(report["pending_migrations"], serde_json::json!([]));

    let garbage = dir.path().join("garbage.db");
    std::fs::write(
        &garbage,
        "this is not an SQLite database, it is a text file of some length...\n".repeat(100),
    )
    .unwrap();
    let config = config_file(dir.path(), &garbage);
    let out = ivcd(&config).args(["db", "check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("garbage.db") && said.contains("not a database"), "{said}");
}

#[test]
fn an_older_database_is_backed_up_then_migrated_on_open() {
    let (dir, db) = replayed();
    let conn = Connection::open(&db).unwrap();
    conn.execute_batch(ROLL_BACK_TO_7).unwrap();
    drop(conn);
    let events = count(&db, "SELECT count(*) FROM earnings_events");
    let config = config_file(dir.path(), &db);

    let out = ivcd(&config).args(["db", "check"]).output().unwrap();
    assert!(out.status.success(), "an older schema is not a problem: {out:?}");
    let said = String::from_utf8_lossy(&out.stdout);
    let pending: Vec<String> = ivcd::store::known_migrations()
        .into_iter()
        .filter(|(v, _)| *v > 7)
        .map(|(v, n)| format!("V{v}__{n}"))
        .collect();
    assert!(
        said.contains(&format!("7; this ivcd migrates it to {} on start ({})", latest(), pending.join(", "))),
        "{said}"
    );
    assert_eq!(schema_version(&db), 7, "db check changes nothing");

    // A command that only reads says what to do with a schema too old for it.
    let out = ivcd(&config).args(["calendar", "--changes"]).output().unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("is at schema version 7; the date changes are kept from version 13 on"), "{said}");
    assert_eq!(schema_version(&db), 7, "calendar --changes changes nothing");

    // Any command that opens the database for writing migrates it, after a backup.
    let out = ivcd(&config).args(["moves", "CVNA"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(schema_version(&db), i64::from(latest()));
    let backups: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with("ivcd.db.before-v8.") && name.ends_with(".bak")
        })
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert_eq!(schema_version(&backups[0]), 7);
    assert_eq!(count(&backups[0], "SELECT count(*) FROM earnings_events"), events);
    assert_eq!(count(&db, "SELECT count(*) FROM earnings_events"), events);

    // Opening it again takes no second backup.
    let out = ivcd(&config).args(["moves", "CVNA"]).output().unwrap();
    assert!(out.status.success());
    let n = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".bak"))
        .count();
    assert_eq!(n, 1);
}

#[test]
fn a_database_newer_than_the_binary_is_refused_unchanged_and_the_daemon_does_not_start() {
    let (dir, db) = replayed();
    let conn = Connection::open(&db).unwrap();
    conn.execute_batch(
        "PRAGMA wal_checkpoint(TRUNCATE);
         INSERT INTO refinery_schema_history (version, name, applied_on, checksum)
         VALUES (999, 'from_a_newer_ivcd', '2026-12-02T03:30:00Z', '1');
         PRAGMA wal_checkpoint(TRUNCATE);",
    )
    .unwrap();
    drop(conn);
    let before = std::fs::read(&db).unwrap();
    let config = config_file(dir.path(), &db);

    // Bounded: were the check to regress, the daemon would start and run on.
    let out = ivcd(&config).arg("run").timeout(std::time::Duration::from_secs(60)).output().unwrap();
    // 78 (EX_CONFIG): the unit's RestartPreventExitStatus, so systemd does not loop on it.
    assert_eq!(out.status.code(), Some(78));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("has schema version 999, newer than this ivcd"), "{said}");
    assert!(said.contains("Nothing was changed") && said.contains(".before-v*.bak"), "{said}");
    assert_eq!(std::fs::read(&db).unwrap(), before, "the file is untouched");

    let out = ivcd(&config).args(["db", "check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let newer = format!("999, NEWER than this ivcd knows ({})", latest());
    assert!(String::from_utf8_lossy(&out.stdout).contains(&newer));
    assert!(
        !std::fs::read_dir(dir.path()).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".bak")),
        "no backup: nothing was migrated"
    );
}

#[test]
fn version_names_the_git_commit() {
    let out = crate::support::ivcd().arg("--version").output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let commit = said
        .strip_prefix(concat!("ivcd ", env!("CARGO_PKG_VERSION"), " ("))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{said}"));
    let git = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    match git {
        // Built from a checkout: the commit is HEAD's (with -modified when the tree had changes).
        Ok(git) if git.status.success() => {
            let head = String::from_utf8_lossy(&git.stdout).trim().to_owned();
            assert!(commit.starts_with(&head), "{commit} is not HEAD {head}");
        }
        _ => assert_eq!(commit, "unknown"),
    }
}

#[test]
fn a_pre_migration_backup_that_fails_leaves_no_file_and_no_migration() {
    let (dir, db) = replayed();
    let conn = Connection::open(&db).unwrap();
    conn.execute_batch(&format!("{ROLL_BACK_TO_7} PRAGMA wal_checkpoint(TRUNCATE);")).unwrap();
    drop(conn);
    let config = config_file(dir.path(), &db);
    // The disk refuses the 8 MiB copy: files may not grow past 40 KiB
    // (EFBIG, as a full disk's ENOSPC), which the database's own WAL index fits in.
    let mut limited = std::process::Command::new("bash");
    limited
        .args(["-c", "trap '' XFSZ; ulimit -f 40; exec \"$0\" \"$@\""])
        .arg(assert_cmd::cargo::cargo_bin("ivcd"))
        .arg("--config")
        .arg(&config)
        .args(["moves", "CVNA"]);
    crate::support::cmd::strip_env(&mut limited);
    let out = limited.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("backup to") && said.contains("before-v8"), "{said}");
    let not_started =
        format!("the migration to version {} was not started and nothing was changed", latest());
    assert!(said.contains(&not_started), "{said}");
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("before-v"))
        .collect();
    assert!(left.is_empty(), "no partial or truncated backup is left: {left:?}");
    assert_eq!(schema_version(&db), 7, "not migrated");

    // With room on the disk the next start backs up and migrates.
    let out = ivcd(&config).args(["moves", "CVNA"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(schema_version(&db), i64::from(latest()));
}

#[test]
fn a_backup_never_targets_the_database_or_its_companion_files_and_replaces_only_with_force() {
    let (dir, db) = replayed();
    let config = config_file(dir.path(), &db);
    let events = count(&db, "SELECT count(*) FROM earnings_events");
    let before = std::fs::read(&db).unwrap();
    // The database by another spelling, and each file SQLite keeps beside it
    // (whether it exists now or not).
    for target in ["ivcd.db", "./ivcd.db", "ivcd.db-wal", "./ivcd.db-wal", "ivcd.db-shm", "ivcd.db-journal"] {
        for force in [false, true] {
            let mut cmd = ivcd(&config);
            cmd.current_dir(dir.path()).args(["db", "backup", target]);
            if force {
                cmd.arg("--force");
            }
            let out = cmd.output().unwrap();
            assert_eq!(out.status.code(), Some(1), "{target} (force {force}) was accepted");
            let said = String::from_utf8_lossy(&out.stderr);
            assert!(said.contains("the database itself or one of the files SQLite keeps"), "{said}");
            assert_eq!(std::fs::read(&db).unwrap(), before, "{target}: the database changed");
            for suffix in ["-wal", "-shm", "-journal"] {
                let companion = dir.path().join(format!("ivcd.db{suffix}"));
                assert!(
                    !companion.exists() || std::fs::metadata(&companion).unwrap().len() < 1024 * 1024,
                    "{target}: a copy was written as {}",
                    companion.display()
                );
            }
        }
    }
    assert_eq!(count(&db, "SELECT count(*) FROM earnings_events"), events);

    // An existing file is replaced only with --force, by a sound copy.
    let old = dir.path().join("old-backup.db");
    std::fs::write(&old, "an older file").unwrap();
    let out = ivcd(&config).args(["db", "backup"]).arg(&old).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"), "{out:?}");
    assert_eq!(std::fs::read(&old).unwrap(), b"an older file");
    let out = ivcd(&config).args(["db", "backup", "--force"]).arg(&old).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(count(&old, "SELECT count(*) FROM earnings_events"), events);
}

#[test]
fn a_database_path_that_is_a_directory_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_file = dir.path().join("state");
    std::fs::create_dir(&not_a_file).unwrap();
    let config = config_file(dir.path(), &not_a_file);
    for args in [&["moves", "CVNA"][..], &["db", "check"], &["status"], &["report"]] {
        let out = ivcd(&config).args(args).output().unwrap();
        let said =
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(!out.status.success(), "{args:?}: {said}");
        assert!(said.contains("this path is a directory, not a database file"), "{args:?}: {said}");
        assert!(!said.contains("disk is full") && !said.contains("not writable"), "{args:?}: {said}");
    }
}

/// Overwrites the first byte of the b-tree page at `page` (its page type) in
/// `db`, whose WAL is checkpointed first: a page `PRAGMA quick_check` rejects.
fn damage_page(db: &Path, page: i64) {
    let conn = Connection::open(db).unwrap();
    let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
    drop(conn);
    let mut bytes = std::fs::read(db).unwrap();
    let offset = usize::try_from((page - 1) * page_size).unwrap();
    bytes[offset] = 0x55;
    std::fs::write(db, bytes).unwrap();
}

#[test]
fn the_daemon_refuses_a_damaged_database_and_names_the_newest_backup() {
    let (dir, db) = replayed();
    let config = config_file(dir.path(), &db);
    let backup = dir.path().join("ivcd-2026-12-01.db");
    assert!(ivcd(&config).args(["db", "backup"]).arg(&backup).output().unwrap().status.success());
    let root: i64 = count(&db, "SELECT rootpage FROM sqlite_master WHERE name = 'option_quotes'");
    damage_page(&db, root);
    let before = std::fs::read(&db).unwrap();

    // Bounded: were the check to regress, the daemon would start and run on.
    let out = ivcd(&config).arg("run").timeout(std::time::Duration::from_secs(60)).output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{said}");
    assert!(said.contains("is damaged: PRAGMA quick_check says"), "{said}");
    assert!(said.contains(&backup.display().to_string()), "the newest backup is named: {said}");
    assert!(said.contains("docs/operations.md#backup-and-restore"), "{said}");
    assert_eq!(std::fs::read(&db).unwrap(), before, "the file is untouched");
    assert!(!dir.path().join("status.sock").exists(), "the daemon never started");
}

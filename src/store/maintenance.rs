//! Schema versions, backups and checks: what `ivcd db` and an upgrade need.
//!
//! The schema version is the highest migration refinery has recorded in
//! `refinery_schema_history` (migrations `V1` … `Vn` in `migrations/`). A
//! binary applies the migrations it has and the database lacks; it refuses a
//! database whose version is higher than its own newest migration, since it
//! cannot know what that schema means.
//!
//! Backups use SQLite's online backup API: a consistent copy taken inside
//! one read transaction, which in WAL mode does not block the daemon's
//! writes (<https://www.sqlite.org/backup.html>).

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension};

use super::{Db, Store, StoreError, embedded};

/// The newest schema version this binary knows (its last migration's number).
pub fn supported_schema_version() -> u32 {
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| u32::try_from(m.version()).unwrap_or(0))
        .max()
        .unwrap_or(0)
}

/// The migrations this binary has, as `(version, name)` in order.
pub fn known_migrations() -> Vec<(u32, String)> {
    let mut all: Vec<(u32, String)> = embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| (u32::try_from(m.version()).unwrap_or(0), m.name().to_owned()))
        .collect();
    all.sort_unstable();
    all
}

/// The schema version recorded in `conn`: `None` for a database refinery
/// never touched (a new, empty file).
pub(super) fn applied_schema_version(conn: &Connection) -> rusqlite::Result<Option<u32>> {
    let has_history: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'refinery_schema_history')",
        [],
        |r| r.get(0),
    )?;
    if !has_history {
        return Ok(None);
    }
    conn.query_row("SELECT max(version) FROM refinery_schema_history", [], |r| r.get::<_, Option<u32>>(0))
}

/// Copies the database behind `conn` to `dest` with SQLite's online backup
/// API, in one step (one read transaction, so the copy is consistent), and
/// retries a few times while another connection holds a lock that stops the step.
fn backup_connection(conn: &Connection, dest: &Path) -> rusqlite::Result<()> {
    use rusqlite::backup::{Backup, StepResult};
    let mut target = Connection::open(dest)?;
    let backup = Backup::new(conn, &mut target)?;
    for _ in 0..50 {
        match backup.step(-1)? {
            StepResult::Done => return Ok(()),
            StepResult::More | StepResult::Busy | StepResult::Locked => {
                std::thread::sleep(Duration::from_millis(100));
            }
            // StepResult is non-exhaustive.
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    Err(rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
        Some("the database stayed locked for 5 s".into()),
    ))
}

/// Backs `conn`'s database up to `dest` safely: the copy is written to
/// `dest.partial`, must pass `PRAGMA integrity_check`, and only then is
/// renamed to `dest`; on any failure the partial file is removed, so a file
/// named `dest` is always a whole, sound copy. Returns the copy's schema
/// version.
///
/// # Errors
/// [`BackupFailure`] (the caller names the files).
pub(super) fn backup_checked(conn: &Connection, dest: &Path) -> Result<Option<u32>, BackupFailure> {
    let partial = with_suffix(dest, ".partial");
    // The partial copy and what SQLite keeps beside it (a failed copy leaves
    // its rollback journal).
    let remove_partial = || {
        for suffix in COMPANION_SUFFIXES {
            let _ = std::fs::remove_file(with_suffix(&partial, suffix));
        }
    };
    remove_partial();
    let checked = backup_connection(conn, &partial).and_then(|_| {
        let copy = Connection::open(&partial)?;
        let integrity: String = copy.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        Ok((integrity, applied_schema_version(&copy)?))
    });
    let kept = match checked {
        Ok((integrity, version)) if integrity == "ok" => std::fs::rename(&partial, dest)
            .map(|()| version)
            .map_err(|error| BackupFailure::Rename { partial: partial.display().to_string(), error }),
        Ok((integrity, _)) => Err(BackupFailure::Integrity(integrity)),
        Err(e) => Err(BackupFailure::Copy(e)),
    };
    if kept.is_err() {
        remove_partial();
    }
    kept
}

/// Why a checked backup was not kept.
#[derive(Debug, thiserror::Error)]
pub enum BackupFailure {
    /// SQLite's online backup, or reading the copy back, failed.
    #[error("{0}")]
    Copy(rusqlite::Error),
    /// The copy failed `PRAGMA integrity_check`: SQLite's verdict.
    #[error("the copy failed its integrity check ({0})")]
    Integrity(String),
    /// The checked copy could not be renamed into place.
    #[error("rename {partial}: {error}")]
    Rename {
        /// The partial copy.
        partial: String,
        /// Why.
        error: std::io::Error,
    },
}

/// Where [`Store::open`] keeps the copy it takes before migrating `path`
/// from `from` to `to`: beside the database, e.g.
/// `ivcd.db.before-v9.20261202T033000Z.bak`.
pub fn pre_migration_backup_path(path: &Path, to: u32, at: DateTime<Utc>) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".before-v{to}.{}.bak", at.format("%Y%m%dT%H%M%SZ")));
    path.with_file_name(name)
}

/// What `ivcd db backup` made.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BackupReport {
    /// The database copied.
    pub source: String,
    /// The copy.
    pub destination: String,
    /// The copy's schema version.
    pub schema_version: Option<u32>,
    /// The copy's size, bytes. (Only a copy that passed `PRAGMA
    /// integrity_check` is kept.)
    pub bytes: u64,
}

/// What `ivcd db check` found.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CheckReport {
    /// The database file.
    pub database: String,
    /// Its size, bytes (the main file; the WAL is not counted).
    pub bytes: u64,
    /// Its schema version (`None`: no migration recorded, not an ivcd database yet).
    pub schema_version: Option<u32>,
    /// The newest version this ivcd knows.
    pub supported_version: u32,
    /// The migrations this ivcd would apply on start, by name (`V9__…`).
    pub pending_migrations: Vec<String>,
    /// `PRAGMA integrity_check`'s lines: `["ok"]` when the file is sound.
    pub integrity: Vec<String>,
    /// Rows that break a foreign key (`PRAGMA foreign_key_check`).
    pub foreign_key_violations: usize,
}

impl CheckReport {
    /// Whether everything is in order: sound, no broken references, and a
    /// schema this ivcd can use (older is fine: it migrates on start).
    pub fn ok(&self) -> bool {
        self.integrity == ["ok"]
            && self.foreign_key_violations == 0
            && self.schema_version.is_some_and(|v| v <= self.supported_version)
    }
}

/// Runs of one job that ended one way, for the metrics.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct JobTotal {
    /// The job (`scan`, `backfill`, ...).
    pub job: String,
    /// How the runs ended (`ok`, `failed`, `interrupted`, `skipped`).
    pub outcome: String,
    /// How many runs.
    pub runs: u64,
    /// Their summed duration, seconds.
    pub seconds: f64,
}

/// What `ivcd db backup` does when its target exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExistingTarget {
    /// Refuse, changing nothing (the default).
    Refuse,
    /// Replace it with the new copy, once the copy passed its check (`--force`).
    Replace,
}

/// The files SQLite keeps for a database beside it: the database itself and
/// its write-ahead log, shared-memory index and rollback journal.
const COMPANION_SUFFIXES: [&str; 4] = ["", "-wal", "-shm", "-journal"];

/// `path` with `suffix` appended to its file name.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// `path` made absolute with its directory's symbolic links resolved, for
/// comparing two paths of which the second may not exist yet.
fn resolved(path: &Path) -> Option<PathBuf> {
    if let Ok(p) = std::fs::canonicalize(path) {
        return Some(p);
    }
    let name = path.file_name()?;
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    Some(std::fs::canonicalize(parent).ok()?.join(name))
}

/// Whether `dest` is `database` or one of the files SQLite keeps beside it
/// (the same path by another name, or a hard link to one of them).
fn is_database_file(database: &Path, dest: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Some(dest_resolved) = resolved(dest) else { return false };
    let dest_meta = std::fs::metadata(dest).ok();
    COMPANION_SUFFIXES.iter().any(|suffix| {
        let file = with_suffix(database, suffix);
        let same_path = resolved(&file).is_some_and(|f| f == dest_resolved);
        let same_inode = match (&dest_meta, std::fs::metadata(&file)) {
            (Some(d), Ok(f)) => d.dev() == f.dev() && d.ino() == f.ino(),
            _ => false,
        };
        same_path || same_inode
    })
}

/// The newest file in `database`'s directory that looks like a backup of it:
/// a pre-migration copy (`NAME.before-v*.bak`) or a `*.db` file other than
/// the database, by modification time. For the advice of [`StoreError::Damaged`].
fn newest_backup(database: &Path) -> Option<PathBuf> {
    let dir = database.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let own = database.file_name()?.to_string_lossy().into_owned();
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name != own
                && ((name.starts_with(&own) && name.ends_with(".bak")) || name.ends_with(".db"))
                && e.file_type().is_ok_and(|t| t.is_file())
        })
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max()
        .map(|(_, path)| path)
}

impl Store {
    /// Copies the database to `dest` with SQLite's online backup API, safe
    /// while the daemon writes. The copy is made at `dest.partial`, checked
    /// with `PRAGMA integrity_check`, and renamed to `dest` only when sound.
    ///
    /// # Errors
    /// [`StoreError::Backup`], changing nothing, when `dest` is the database
    /// or one of its `-wal`, `-shm` or `-journal` files, when it exists (with
    /// [`ExistingTarget::Refuse`]; with `Replace`, when it is not a file or
    /// has `-wal`/`-shm` files of its own, i.e. may be open), when its
    /// directory is missing or not writable, when the copy fails, or when the
    /// copy is not sound (it is removed).
    pub fn backup_to(&self, dest: &Path, existing: ExistingTarget) -> Result<BackupReport, StoreError> {
        let failed = |message: String| StoreError::Backup {
            path: self.path.display().to_string(),
            dest: dest.display().to_string(),
            message,
        };
        if is_database_file(&self.path, dest) {
            return Err(failed(
                "that is the database itself or one of the files SQLite keeps beside it (-wal, -shm, \
                 -journal); nothing was changed: choose another file"
                    .into(),
            ));
        }
        if let Ok(meta) = std::fs::symlink_metadata(dest) {
            if existing == ExistingTarget::Refuse {
                return Err(failed(
                    "it already exists: choose a new name, or pass --force to replace it".into(),
                ));
            }
            if !meta.is_file() {
                return Err(failed("it exists and is not a file; nothing was changed".into()));
            }
            if ["-wal", "-shm"].iter().any(|s| with_suffix(dest, s).exists()) {
                return Err(failed(
                    "it has -wal or -shm files beside it, so it may be open in another program; nothing \
                     was changed: close it and remove them, or choose another name"
                        .into(),
                ));
            }
        }
        let guard = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let schema_version =
            backup_checked(&guard, dest).map_err(|e| failed(format!("{e}; nothing was kept")))?;
        drop(guard);
        let bytes = std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0);
        Ok(BackupReport {
            source: self.path.display().to_string(),
            destination: dest.display().to_string(),
            schema_version,
            bytes,
        })
    }

    /// `PRAGMA quick_check` on the whole file: the daemon runs it before it
    /// starts, so that it never writes into a damaged database.
    ///
    /// # Errors
    /// [`StoreError::Damaged`] with the first problem found and the newest
    /// backup beside the database, or [`StoreError::Sqlite`] when the check
    /// cannot run (a file that is not a database at all).
    pub fn quick_check(&self) -> Result<(), StoreError> {
        let checked = self.run_blocking(|db| {
            Ok(db.conn.prepare("PRAGMA quick_check").and_then(|mut stmt| {
                stmt.query_map([], |r| r.get::<_, String>(0))
                    .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            }))
        })?;
        let lines = match checked {
            Ok(lines) if lines == ["ok"] => return Ok(()),
            Ok(lines) => lines,
            // SQLite may stop the check itself on a malformed page.
            Err(e @ rusqlite::Error::SqliteFailure(..))
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseCorrupt) =>
            {
                vec![e.to_string()]
            }
            Err(cause) => {
                return Err(StoreError::Sqlite {
                    path: self.path.display().to_string(),
                    context: "quick check".into(),
                    cause,
                });
            }
        };
        Err(StoreError::Damaged {
            path: self.path.display().to_string(),
            problem: lines.first().cloned().unwrap_or_default(),
            more: lines.len().saturating_sub(1),
            newest_backup: newest_backup(&self.path).map(|p| p.display().to_string()),
        })
    }
}

impl Db<'_> {
    /// The schema version recorded in this database (see the module docs).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn schema_version(&mut self) -> Result<Option<u32>, StoreError> {
        applied_schema_version(self.conn).map_err(self.err("read the schema version"))
    }

    /// Checks the database: integrity, foreign keys, and its schema version
    /// against this binary's (what `ivcd db check` prints).
    ///
    /// # Errors
    /// SQLite errors (a file that is not a database fails here).
    pub fn check(&mut self) -> Result<CheckReport, StoreError> {
        let schema_version = self.schema_version()?;
        let integrity = {
            let mut stmt =
                self.conn.prepare("PRAGMA integrity_check").map_err(self.err("integrity check"))?;
            stmt.query_map([], |r| r.get::<_, String>(0))
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(self.err("integrity check"))?
        };
        let foreign_key_violations = {
            let mut stmt =
                self.conn.prepare("PRAGMA foreign_key_check").map_err(self.err("foreign key check"))?;
            let mut rows = stmt.query([]).map_err(self.err("foreign key check"))?;
            let mut n = 0;
            while rows.next().map_err(self.err("foreign key check"))?.is_some() {
                n += 1;
            }
            n
        };
        let pending_migrations = known_migrations()
            .into_iter()
            .filter(|(v, _)| schema_version.is_none_or(|s| *v > s))
            .map(|(v, name)| format!("V{v}__{name}"))
            .collect();
        let bytes = std::fs::metadata(self.path).map(|m| m.len()).unwrap_or(0);
        Ok(CheckReport {
            database: self.path.display().to_string(),
            bytes,
            schema_version,
            supported_version: supported_schema_version(),
            pending_migrations,
            integrity,
            foreign_key_violations,
        })
    }

    /// Finished runs that started at or after `since`, per job and outcome.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn job_totals(&mut self, since: DateTime<Utc>) -> Result<Vec<JobTotal>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT job, outcome, count(*) AS runs,
                        total((julianday(finished_at) - julianday(started_at)) * 86400.0) AS seconds
                 FROM job_runs
                 WHERE started_at >= ?1 AND finished_at IS NOT NULL
                 GROUP BY job, outcome ORDER BY job, outcome",
            )
            .map_err(self.err("count job runs"))?;
        let rows = stmt
            .query_map([super::instant_text(since)], |r| {
                Ok(JobTotal {
                    job: r.get("job")?,
                    outcome: r.get("outcome")?,
                    runs: r.get::<_, i64>("runs")?.max(0) as u64,
                    seconds: r.get("seconds")?,
                })
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>());
        rows.map_err(self.err("count job runs"))
    }

    /// When the last run of `job` that ended `ok` finished (UTC), if any.
    ///
    /// # Errors
    /// SQLite errors, or a corrupt stored instant.
    pub fn last_ok_run(&mut self, job: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT max(finished_at) FROM job_runs WHERE job = ?1 AND outcome = 'ok'",
                [job],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err("read the last successful run"))?
            .flatten();
        super::rows::Fields::new(self, "job_runs").opt_instant("finished_at", text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_supported_version_is_the_last_migration_file() {
        let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
            .expect("migrations/")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|n| n.strip_prefix('V')?.split("__").next()?.parse::<u32>().ok())
            .max();
        assert_eq!(Some(supported_schema_version()), files);
        // No gaps, but version 12: it is the calibration branch's, not merged
        // here yet (this branch's V13 was numbered after it to avoid a clash).
        // Once V12 is merged, drop this filter.
        let versions: Vec<u32> = known_migrations().into_iter().map(|(v, _)| v).collect();
        let expected: Vec<u32> =
            (1..=supported_schema_version()).filter(|v| *v != 12 || versions.contains(&12)).collect();
        assert_eq!(versions, expected);
    }

    #[test]
    fn the_pre_migration_backup_sits_beside_the_database() {
        let at = Utc.with_ymd_and_hms(2026, 12, 2, 3, 30, 0).unwrap();
        assert_eq!(
            pre_migration_backup_path(Path::new("/var/lib/ivcd/ivcd.db"), 9, at),
            Path::new("/var/lib/ivcd/ivcd.db.before-v9.20261202T033000Z.bak")
        );
    }
}

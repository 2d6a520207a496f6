//! The store: the only module that runs SQL.
//!
//! One SQLite file in WAL mode with foreign keys and a busy timeout. The
//! schema lives in `migrations/` as plain SQL, applied in order on open by
//! refinery and recorded in `refinery_schema_history`. Money is stored as
//! decimal TEXT (exact round trip), moves as REAL fractions, dates as
//! `YYYY-MM-DD`, instants as RFC 3339 UTC.
//!
//! SQLite work is blocking: async callers go through [`Store::run`], which
//! moves it off the async workers.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::Connection;

mod alerts;
mod backtest;
mod bars;
mod cache;
mod calendar_changes;
mod calibration;
mod candidates;
mod daemon;
mod events;
mod filings;
mod jobs;
mod lock;
mod maintenance;
mod moves;
mod reviews;
mod rows;
mod scans;

pub use alerts::{Delivery, DeliveryState};
pub use backtest::HistoricalImplied;
pub use cache::CacheEntry;
pub use calendar_changes::{DateChange, SetupExposure};
pub use calibration::{CalibrationRow, RecordedImplied};
pub use daemon::{CalendarOverride, HousekeepingCounts, ScanSummary, StoreCounts};
pub use filings::TimingAuditRow;
pub use jobs::{JobRun, Outcome};
pub use lock::{DatabaseLock, EXIT_LOCKED, lock_path};
pub use maintenance::{
    BackupReport, CheckReport, ExistingTarget, JobTotal, known_migrations, pre_migration_backup_path,
    supported_schema_version,
};
pub use reviews::DueReview;
pub use scans::{LegQuote, NewScan};

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// A store failure, naming the database file and what was being done.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused an operation.
    ///
    /// SQLite's message is part of this error's text (the status report and
    /// `job_runs.error` keep only the text), so it is not also a `source`:
    /// printing the chain would repeat it.
    #[error("database {path}: {context}: {cause}{}", advice(cause))]
    Sqlite {
        /// The database file.
        path: String,
        /// What was being done.
        context: String,
        /// SQLite's error.
        cause: rusqlite::Error,
    },
    /// A migration failed; the database is left at the last applied version.
    #[error("database {path}: migration failed: {message}")]
    Migration {
        /// The database file.
        path: String,
        /// refinery's message.
        message: String,
    },
    /// The database was written by a newer ivcd: its schema is newer than
    /// this binary's migrations. Nothing was changed.
    #[error(
        "database {path} has schema version {found}, newer than this ivcd {version} knows (up to {supported}): \
         it was last opened by a newer ivcd. Nothing was changed. Install that newer ivcd again, or stop ivcd and \
         restore the backup taken before the upgrade (`{path}.before-v*.bak`, see docs/operations.md#upgrade)"
    )]
    TooNew {
        /// The database file.
        path: String,
        /// The database's schema version.
        found: u32,
        /// The newest version this binary knows.
        supported: u32,
        /// This binary's version.
        version: &'static str,
    },
    /// A backup could not be made (nothing was changed).
    #[error("database {path}: backup to {dest} failed: {message}")]
    Backup {
        /// The database file.
        path: String,
        /// The backup file asked for.
        dest: String,
        /// What went wrong, and what to do.
        message: String,
    },
    /// No database at the path a command that only reads was given: nothing
    /// was created (exit [`EXIT_NO_DATABASE`]).
    #[error(
        "no database at {path}: nothing is stored there yet, and this command only reads. The daemon \
         (`ivcd run`) creates it on its first start, and `ivcd refresh-calendar` then `ivcd backfill` fill \
         it by hand; a replay writes its own database beside the scenario (e.g. `IVCD_DATABASE=\
         replay-cvna-2023q2.db ivcd moves CVNA`). If the database is elsewhere, set `database` in the \
         configuration or IVCD_DATABASE"
    )]
    Missing {
        /// The database file asked for.
        path: String,
    },
    /// The database's directory does not exist.
    #[error(
        "database {path}: its directory does not exist; create it or set `database` in the configuration"
    )]
    NoDirectory {
        /// The database file.
        path: String,
    },
    /// The database path names a directory (or something else that is not a file).
    #[error(
        "database {path}: this path is a directory, not a database file; set `database` in the configuration \
         to a file path, e.g. {path}/ivcd.db"
    )]
    NotAFile {
        /// The path configured as the database.
        path: String,
    },
    /// The database failed `PRAGMA quick_check`: the file is damaged.
    #[error(
        "database {path} is damaged: PRAGMA quick_check says {problem:?}{}. ivcd does not run on it. \
         Stop ivcd, move the damaged file (and its -wal and -shm files) aside, and restore the newest \
         good backup{}: see docs/operations.md#backup-and-restore",
        if *more > 0 { format!(" (and {more} more problems)") } else { String::new() },
        newest_backup.as_ref().map(|b| format!(" (the newest beside it: {b})")).unwrap_or_default()
    )]
    Damaged {
        /// The database file.
        path: String,
        /// The first line `PRAGMA quick_check` printed.
        problem: String,
        /// How many more lines it printed.
        more: usize,
        /// The newest file beside the database that looks like a backup of it, if any.
        newest_backup: Option<String>,
    },
    /// A stored value could not be read back (a row edited by hand?).
    #[error("database {path}: corrupt value in {table}.{column}: {value:?}")]
    Corrupt {
        /// The database file.
        path: String,
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// The text found.
        value: String,
    },
    /// The blocking task running the query panicked or was cancelled.
    #[error("database task failed: {0}")]
    Task(String),
    /// Another ivcd process holds the database's writer lock (see
    /// [`DatabaseLock`]). Nothing was opened or changed.
    #[error(
        "database {path} is in use by {holder}: one ivcd process writes a database at a time, and this one \
         changed nothing. When that is the daemon (`ivcd run`), it runs the jobs on its timetable; to run one \
         by hand, stop it first (`sudo systemctl stop ivcd`), or run the command on a copy \
         (`ivcd db backup /tmp/copy.db`, then `IVCD_DATABASE=/tmp/copy.db ivcd ...`). Otherwise wait for \
         that command to finish"
    )]
    Locked {
        /// The database file.
        path: String,
        /// Who holds it: `pid 1234: ivcd run`, or `another ivcd process`.
        holder: String,
    },
    /// The lock file beside the database cannot be created or locked.
    #[error(
        "database {path}: cannot take its lock {lock}: {message} (the database's directory or its lock file \
         is not writable by this user: check the owner and mode of the state directory, /var/lib/ivcd for \
         the service; nothing was changed)"
    )]
    LockFile {
        /// The database file.
        path: String,
        /// The lock file.
        lock: String,
        /// The operating system's error.
        message: String,
    },
}

/// What to do about the storage trouble SQLite reports, for the error message.
fn advice(source: &rusqlite::Error) -> &'static str {
    use rusqlite::ErrorCode;
    match source.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            " (another process holds the database, e.g. a sqlite3 session with an open transaction: \
             end it; nothing committed was lost, and the daemon runs the job again \
             (`ivcd status` shows when))"
        }
        Some(ErrorCode::DiskFull) => {
            " (the disk is full: free space; nothing committed was lost, and the daemon runs the job \
             again (`ivcd status` shows when))"
        }
        Some(ErrorCode::SystemIoFailure) => {
            " (the operating system refused a read or write: is the disk full or failing? Check `df` and \
             the kernel log; nothing committed was lost, and the daemon runs the job again \
             (`ivcd status` shows when))"
        }
        Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => {
            " (the database or its directory is not writable by this user: check the owner and mode of the \
             state directory, /var/lib/ivcd for the service; nothing committed was lost)"
        }
        _ => "",
    }
}

/// Exit code of a command that only reads when there is no database
/// (sysexits `EX_NOINPUT`).
pub const EXIT_NO_DATABASE: u8 = 66;

/// [`StoreError::Missing`] when nothing is at `path` (a broken symlink
/// included).
fn refuse_missing(path: &Path) -> Result<(), StoreError> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(StoreError::Missing { path: path.display().to_string() })
        }
        _ => Ok(()),
    }
}

/// Refuses a database path that exists but is not a file (a directory, a
/// socket): SQLite's own error for it ("unable to open", "disk I/O error")
/// sends the operator looking at permissions or the disk.
fn refuse_non_file(path: &Path) -> Result<(), StoreError> {
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => Err(StoreError::NotAFile { path: path.display().to_string() }),
        _ => Ok(()),
    }
}

/// A handle on the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database at `path`, sets WAL, foreign
    /// keys and a 5 s busy timeout, and applies pending migrations.
    ///
    /// # Errors
    /// [`StoreError`] when the file cannot be opened or a migration fails.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let shown = path.display().to_string();
        refuse_non_file(path)?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
            && !parent.is_dir()
        {
            return Err(StoreError::NoDirectory { path: shown });
        }
        let conn = Connection::open(path).map_err(|cause| StoreError::Sqlite {
            path: shown.clone(),
            context: "open".into(),
            cause,
        })?;
        Self::prepare(conn, path.to_path_buf())
    }

    /// Opens the database at `path` as [`Store::open`] does (migrations
    /// applied), but only when it exists: for the commands that read what is
    /// stored and must not leave a new, empty database behind.
    ///
    /// # Errors
    /// [`StoreError::Missing`] when there is no file at `path`; otherwise as
    /// [`Store::open`].
    pub fn open_existing(path: &Path) -> Result<Self, StoreError> {
        refuse_missing(path)?;
        Self::open(path)
    }

    /// Opens an existing database read-only, without applying migrations
    /// (for `ivcd status` when the daemon is down: it must change nothing).
    ///
    /// # Errors
    /// [`StoreError::Missing`] when there is no file at `path` (nothing is
    /// created); [`StoreError::Sqlite`] when it cannot be read.
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        use rusqlite::OpenFlags;
        let shown = path.display().to_string();
        refuse_missing(path)?;
        refuse_non_file(path)?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|cause| StoreError::Sqlite {
            path: shown.clone(),
            context: "open read-only".into(),
            cause,
        })?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(|cause| StoreError::Sqlite {
            path: shown,
            context: "set busy timeout".into(),
            cause,
        })?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)), path: path.to_path_buf() })
    }

    /// An in-memory database with the full schema, for tests.
    ///
    /// # Errors
    /// As [`Store::open`].
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory().map_err(|cause| StoreError::Sqlite {
            path: ":memory:".into(),
            context: "open".into(),
            cause,
        })?;
        Self::prepare(conn, PathBuf::from(":memory:"))
    }

    fn prepare(mut conn: Connection, path: PathBuf) -> Result<Self, StoreError> {
        let shown = path.display().to_string();
        let sql_err = |context: &str| {
            let shown = shown.clone();
            let context = context.to_owned();
            move |cause| StoreError::Sqlite { path: shown, context, cause }
        };
        conn.busy_timeout(Duration::from_secs(5)).map_err(sql_err("set busy timeout"))?;
        // Room for every statement a scan repeats (the cache's, the history's,
        // the scan's inserts and its read-back): none is prepared twice.
        conn.set_prepared_statement_cache_capacity(64);
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))
            .map_err(sql_err("enable WAL"))?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(sql_err("enable foreign keys"))?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(sql_err("set synchronous"))?;
        let found = maintenance::applied_schema_version(&conn).map_err(sql_err("read the schema version"))?;
        let supported = supported_schema_version();
        match found {
            Some(found) if found > supported => {
                return Err(StoreError::TooNew {
                    path: shown,
                    found,
                    supported,
                    version: crate::VERSION.as_str(),
                });
            }
            // An ivcd database that this binary migrates: keep a copy first.
            Some(found) if found < supported && shown != ":memory:" => {
                let dest = pre_migration_backup_path(
                    &path,
                    found + 1,
                    crate::clock::Clock::now(&crate::clock::SystemClock),
                );
                maintenance::backup_checked(&conn, &dest).map_err(|cause| StoreError::Backup {
                    path: shown.clone(),
                    dest: dest.display().to_string(),
                    message: format!(
                        "{cause}; the migration to version {supported} was not started and nothing was \
                         changed: free space or fix the directory's permissions, then start ivcd again"
                    ),
                })?;
                tracing::info!(
                    database = %shown,
                    backup = %dest.display(),
                    from = found,
                    to = supported,
                    "database backed up before migrating"
                );
            }
            _ => {}
        }
        let report = embedded::migrations::runner()
            .run(&mut conn)
            .map_err(|e| StoreError::Migration { path: shown.clone(), message: e.to_string() })?;
        // One line when the schema changed; nothing when it was current.
        if let Some(last) = report.applied_migrations().last() {
            tracing::info!(
                database = %shown,
                applied = report.applied_migrations().len(),
                schema_version = last.version(),
                "database schema migrated"
            );
        }
        Ok(Self { conn: Arc::new(Mutex::new(conn)), path })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` with the connection on a blocking thread.
    ///
    /// # Errors
    /// Whatever `f` returns, or [`StoreError::Task`] if the thread panicked.
    pub async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Db<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.run_blocking(f))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Runs `f` with the connection on the current thread (for synchronous callers).
    ///
    /// # Errors
    /// Whatever `f` returns.
    pub fn run_blocking<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut Db<'_>) -> Result<T, StoreError>,
    {
        let mut guard = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        if !guard.is_autocommit() {
            // A caller panicked inside a transaction: undo its half-done work.
            let _ = guard.execute_batch("ROLLBACK");
        }
        let mut db = Db { conn: &mut guard, path: &self.path };
        f(&mut db)
    }
}

/// The connection lent to one [`Store::run`] call. Its methods (in the
/// submodules) are the store's whole SQL vocabulary.
pub struct Db<'a> {
    conn: &'a mut Connection,
    path: &'a Path,
}

impl Db<'_> {
    /// Wraps a rusqlite error with the database path and `context`.
    fn err(&self, context: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> StoreError + '_ {
        let context = context.into();
        move |cause| StoreError::Sqlite { path: self.path.display().to_string(), context, cause }
    }

    fn corrupt(&self, table: &'static str, column: &'static str, value: &str) -> StoreError {
        StoreError::Corrupt { path: self.path.display().to_string(), table, column, value: value.to_owned() }
    }

    /// Runs `f` inside one transaction (`BEGIN IMMEDIATE`): all of it is
    /// stored or none. Transactions do not nest.
    ///
    /// # Errors
    /// `f`'s error (after rolling back) or a failed commit.
    pub fn transaction<T>(
        &mut self,
        f: impl FnOnce(&mut Db<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(self.err("begin transaction"))?;
        match f(self) {
            Ok(value) => {
                self.conn.execute_batch("COMMIT").map_err(self.err("commit"))?;
                Ok(value)
            }
            Err(e) => {
                if let Err(rollback) = self.conn.execute_batch("ROLLBACK") {
                    tracing::error!(error = %rollback, "rollback failed after: {e}");
                }
                Err(e)
            }
        }
    }

    /// Row counts of the main tables, by table name.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn table_counts(&mut self) -> Result<std::collections::BTreeMap<&'static str, i64>, StoreError> {
        const TABLES: [&str; 8] = [
            "earnings_events",
            "daily_bars",
            "historical_moves",
            "chain_snapshots",
            "option_quotes",
            "scans",
            "candidates",
            "job_runs",
        ];
        let mut out = std::collections::BTreeMap::new();
        for table in TABLES {
            // Table names come from the constant list above, never from input.
            let n: i64 = self
                .conn
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                .map_err(self.err(format!("count {table}")))?;
            out.insert(table, n);
        }
        Ok(out)
    }

    /// `PRAGMA integrity_check`: `ok` when the file is sound.
    ///
    /// # Errors
    /// When the pragma cannot run.
    pub fn integrity_check(&mut self) -> Result<String, StoreError> {
        self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(self.err("integrity check"))
    }
}

/// Formats an instant as stored: RFC 3339 UTC with seconds, e.g. `2023-07-18T19:00:00Z`.
pub fn instant_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An optional value as stored text (`None` stays NULL).
pub(crate) fn opt_text<T: ToString>(v: &Option<T>) -> Option<String> {
    v.as_ref().map(ToString::to_string)
}

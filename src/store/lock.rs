//! One writer per database: an exclusive advisory lock (`flock(2)`, through
//! std's [`File::try_lock`]) on a lock file beside the database,
//! `<database>.lock`.
//!
//! The daemon holds it for its whole life, taken before it opens the
//! database; a command that writes (`scan`, `backfill`, `review`,
//! `refresh-calendar`, `backtest`, `replay`) holds it while it runs. Whoever
//! comes second is refused at once with [`StoreError::Locked`] (exit code 75)
//! and changes nothing: no row, no socket, no file but the lock file itself.
//! Commands that only read (`status`, `report`, `notify preview|pending`,
//! `db check|backup`) open the database read-only and take no lock.
//!
//! A separate file rather than the database itself: SQLite takes its own
//! POSIX locks on the database, and on file systems that emulate `flock`
//! with POSIX locks the two would collide. The kernel drops the lock when
//! the process ends, however it ends (a SIGKILL included), so a stale lock
//! file holds nothing; it is never deleted, since deleting a lock file
//! another process has just opened would let two processes lock two files.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use super::StoreError;

/// Exit code for a database in use by another ivcd process: sysexits
/// `EX_TEMPFAIL` (try again later). systemd's `Restart=on-failure` starts
/// the daemon again after `RestartSec`.
pub const EXIT_LOCKED: u8 = 75;

/// The held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct DatabaseLock {
    /// The open lock file: the lock lives as long as this descriptor.
    _file: File,
    path: PathBuf,
}

/// The lock file of `database`: `<database>.lock`, beside it.
pub fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl DatabaseLock {
    /// Takes the exclusive lock on `database` for `holder` (what this
    /// process is, e.g. `ivcd run`; written into the lock file with the pid
    /// so that a refused process can say who holds it). Never waits.
    ///
    /// # Errors
    /// [`StoreError::Locked`] when another process (or another handle in
    /// this one) holds it; [`StoreError::NoDirectory`] when the database's
    /// directory does not exist; [`StoreError::LockFile`] when the lock file
    /// cannot be created or locked.
    pub fn acquire(database: &Path, holder: &str) -> Result<Self, StoreError> {
        let shown = database.display().to_string();
        if let Some(parent) = database.parent().filter(|p| !p.as_os_str().is_empty())
            && !parent.is_dir()
        {
            return Err(StoreError::NoDirectory { path: shown });
        }
        let path = lock_path(database);
        let lock_error = |e: std::io::Error| StoreError::LockFile {
            path: shown.clone(),
            lock: path.display().to_string(),
            message: e.to_string(),
        };
        let (mut file, writable) =
            match OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path) {
                Ok(file) => (file, true),
                // A lock file another user created (a command run as root, say):
                // `flock` works on a descriptor open for reading as well.
                Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                    (OpenOptions::new().read(true).open(&path).map_err(lock_error)?, false)
                }
                Err(e) => return Err(lock_error(e)),
            };
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                // Best effort: the holder may not have written its name yet.
                let _ = file.read_to_string(&mut text);
                return Err(StoreError::Locked { path: shown, holder: describe_holder(&text) });
            }
            Err(TryLockError::Error(e)) => return Err(lock_error(e)),
        }
        if !writable {
            return Ok(Self { _file: file, path });
        }
        let record = format!("pid {}\n{}\n", std::process::id(), holder.trim());
        let written = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(record.as_bytes()))
            .and_then(|()| file.flush());
        if let Err(e) = written {
            // The lock holds all the same; only the holder's name is missing.
            tracing::warn!(lock = %path.display(), error = %e, "cannot write this process's name into the lock file");
        }
        Ok(Self { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `pid 1234: ivcd run` from the lock file's text (`pid 1234\nivcd run\n`);
/// `another ivcd process` when it is empty or unreadable.
fn describe_holder(text: &str) -> String {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    match (lines.next(), lines.next()) {
        (Some(pid), Some(what)) if pid.starts_with("pid ") => {
            format!("{pid}: {}", what.chars().take(120).collect::<String>())
        }
        (Some(pid), None) if pid.starts_with("pid ") => pid.to_owned(),
        _ => "another ivcd process".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_handle_is_refused_naming_the_holder_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("ivcd.db");
        let first = DatabaseLock::acquire(&db, "ivcd run").unwrap();
        assert_eq!(first.path(), dir.path().join("ivcd.db.lock"));
        let err = DatabaseLock::acquire(&db, "ivcd scan").unwrap_err();
        let StoreError::Locked { holder, .. } = &err else { panic!("{err}") };
        assert_eq!(holder, &format!("pid {}: ivcd run", std::process::id()));
        assert!(err.to_string().contains("in use by"), "{err}");
        assert!(!db.exists(), "the database is not touched");
        drop(first);
        let again = DatabaseLock::acquire(&db, "ivcd scan").unwrap();
        drop(again);
    }

    #[test]
    fn a_missing_directory_is_named() {
        let err = DatabaseLock::acquire(Path::new("/nonexistent-ivcd-dir/ivcd.db"), "ivcd run").unwrap_err();
        assert!(matches!(err, StoreError::NoDirectory { .. }), "{err}");
    }

    #[test]
    fn the_holder_is_described_from_the_lock_file() {
        assert_eq!(describe_holder("pid 42\nivcd run\n"), "pid 42: ivcd run");
        assert_eq!(describe_holder("pid 42\n"), "pid 42");
        assert_eq!(describe_holder(""), "another ivcd process");
        assert_eq!(describe_holder("garbage"), "another ivcd process");
    }
}

//! `ivcd replay`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Deletes a replay database and its WAL files so a replay starts clean.
pub(super) fn remove_database(db: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let path = PathBuf::from(format!("{}{suffix}", db.display()));
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot replace {}", path.display())),
        }
    }
    Ok(())
}

//! `ivcd db backup` and `ivcd db check`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

use super::out::{say, say_part};
use crate::config::Config;
use crate::present;
use crate::store::{ExistingTarget, Store};

/// `ivcd db` subcommands.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Copy the database to PATH with SQLite's online backup API (safe while the daemon runs);
    /// the copy is checked before it is kept. PATH must not exist (unless --force), and must not
    /// be the database or one of its -wal, -shm or -journal files.
    Backup {
        /// The file to write.
        path: PathBuf,
        /// Replace PATH when it exists (only once the new copy has passed its check).
        #[arg(long)]
        force: bool,
    },
    /// Check the database: `PRAGMA integrity_check`, foreign keys, and its schema version against
    /// this ivcd's (older is migrated on start; newer is refused). Exit 0 ok, 1 problems. Changes nothing.
    Check {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `ivcd db backup` and `ivcd db check`. Neither migrates nor changes the database.
pub(super) async fn db_command(config: &Config, action: DbCommand) -> Result<ExitCode> {
    let database = &config.database;
    let store = Store::open_read_only(database)?;
    match action {
        DbCommand::Backup { path, force } => {
            let existing = if force { ExistingTarget::Replace } else { ExistingTarget::Refuse };
            let report = tokio::task::spawn_blocking(move || store.backup_to(&path, existing)).await??;
            say!(
                "backed up {} (schema version {}) to {}: {:.1} MiB, integrity ok",
                report.source,
                report.schema_version.map_or_else(|| "none".to_owned(), |v| v.to_string()),
                report.destination,
                report.bytes as f64 / (1024.0 * 1024.0)
            );
            Ok(ExitCode::SUCCESS)
        }
        DbCommand::Check { json } => {
            let report = store.run(|db| db.check()).await?;
            if json {
                say!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                say_part!("{}", present::db_check(&report));
            }
            Ok(if report.ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}

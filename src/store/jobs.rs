//! Job runs.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{Db, StoreError, instant_text};

/// How a job run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Still running (or the process died: a later start marks it interrupted).
    Running,
    /// Finished its work.
    Ok,
    /// Stopped by an error.
    Failed,
    /// Stopped by a shutdown before finishing.
    Interrupted,
    /// Not run (e.g. not a session day).
    Skipped,
}

impl Outcome {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Running => "running",
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::Interrupted => "interrupted",
            Outcome::Skipped => "skipped",
        }
    }
}

impl Db<'_> {
    /// Records the start of a run of `job` for `slot` (an RFC 3339 instant or a label); returns its id.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn start_job_run(
        &mut self,
        job: &str,
        slot: &str,
        started_at: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT INTO job_runs (job, slot, started_at, outcome) VALUES (?1, ?2, ?3, 'running')",
                params![job, slot, instant_text(started_at)],
            )
            .map_err(self.err("start job run"))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Records how run `id` ended, with an error text and counts (JSON).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn finish_job_run(
        &mut self,
        id: i64,
        outcome: Outcome,
        error: Option<&str>,
        counts: &serde_json::Value,
        finished_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE job_runs SET outcome = ?2, error = ?3, counts = ?4, finished_at = ?5 WHERE id = ?1",
                params![id, outcome.code(), error, counts.to_string(), instant_text(finished_at)],
            )
            .map_err(self.err("finish job run"))?;
        Ok(())
    }
}

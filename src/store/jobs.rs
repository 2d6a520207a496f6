//! Job runs.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::rows::{Fields, row_struct, select_list};
use super::{Db, StoreError, instant_text};

/// How a job run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

/// One stored job run, as `ivcd status` and the daemon read it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct JobRun {
    /// The row id.
    pub id: i64,
    /// The job's name (`scan`, `backfill`, ...).
    pub job: String,
    /// The slot the run was for (UTC).
    pub slot: DateTime<Utc>,
    /// When the run started (UTC; for a skipped slot, when it was skipped).
    pub started_at: DateTime<Utc>,
    /// When it ended (UTC), unless still running.
    pub finished_at: Option<DateTime<Utc>>,
    /// How it ended.
    pub outcome: Outcome,
    /// The error, or why the slot was skipped or interrupted.
    pub error: Option<String>,
    /// The job's counts (JSON object), when it reported any.
    pub counts: Option<serde_json::Value>,
}

impl JobRun {
    /// The run's duration in seconds, once finished.
    pub fn duration_seconds(&self) -> Option<f64> {
        self.finished_at.map(|f| (f - self.started_at).num_milliseconds() as f64 / 1000.0)
    }
}

row_struct! {
    /// One row of `job_runs`, as stored.
    struct JobRunRow {
        id: i64,
        job: String,
        slot: String,
        started_at: String,
        finished_at: Option<String>,
        outcome: String,
        error: Option<String>,
        counts: Option<String>,
    }
}

impl JobRunRow {
    fn run(self, db: &Db<'_>) -> Result<JobRun, StoreError> {
        let f = Fields::new(db, "job_runs");
        Ok(JobRun {
            id: self.id,
            job: self.job,
            slot: f.instant("slot", &self.slot)?,
            started_at: f.instant("started_at", &self.started_at)?,
            finished_at: f.opt_instant("finished_at", self.finished_at)?,
            outcome: f.code("outcome", &self.outcome, Outcome::from_code)?,
            error: self.error,
            counts: self
                .counts
                .and_then(|c| serde_json::from_str(&c).ok())
                .filter(|c: &serde_json::Value| !c.is_null()),
        })
    }
}

impl Outcome {
    /// The outcome stored as `code`.
    pub fn from_code(code: &str) -> Option<Self> {
        [Outcome::Running, Outcome::Ok, Outcome::Failed, Outcome::Interrupted, Outcome::Skipped]
            .into_iter()
            .find(|o| o.code() == code)
    }
}

impl Db<'_> {
    fn job_runs_where(
        &mut self,
        clause: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<JobRun>, StoreError> {
        let sql = format!("SELECT {} FROM job_runs WHERE {clause}", select_list(JobRunRow::COLUMNS, ""));
        let rows: Vec<JobRunRow> = {
            let mut stmt = self.conn.prepare(&sql).map_err(self.err("query job runs"))?;
            stmt.query_map(args, JobRunRow::read)
                .and_then(|rows| rows.collect())
                .map_err(self.err("query job runs"))?
        };
        rows.into_iter().map(|row| row.run(self)).collect()
    }

    /// Marks every run still `running` as interrupted (the process that ran
    /// it is gone: a crash, a kill, a drain timeout). Returns how many.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn interrupt_stale_runs(&mut self, at: DateTime<Utc>, reason: &str) -> Result<usize, StoreError> {
        self.conn
            .execute(
                "UPDATE job_runs SET outcome = 'interrupted', error = ?1, finished_at = ?2 WHERE outcome = 'running'",
                params![reason, instant_text(at)],
            )
            .map_err(self.err("mark stale job runs interrupted"))
    }

    /// Marks the runs of `job`'s `slot` still `running` as interrupted: the
    /// daemon's earlier attempt, which the database refused to finish. The
    /// daemon runs one job at a time, so no other run of the slot is live.
    /// Returns how many.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn interrupt_slot_runs(
        &mut self,
        job: &str,
        slot: DateTime<Utc>,
        at: DateTime<Utc>,
        reason: &str,
    ) -> Result<usize, StoreError> {
        self.conn
            .execute(
                "UPDATE job_runs SET outcome = 'interrupted', error = ?1, finished_at = ?2
                 WHERE job = ?3 AND slot = ?4 AND outcome = 'running'",
                params![reason, instant_text(at), job, instant_text(slot)],
            )
            .map_err(self.err("mark the slot's unfinished runs interrupted"))
    }

    /// Records that the slot `job`/`slot` was not run, and why.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn record_skipped(
        &mut self,
        job: &str,
        slot: DateTime<Utc>,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let at = instant_text(at);
        self.conn
            .execute(
                "INSERT INTO job_runs (job, slot, started_at, finished_at, outcome, error)
                 VALUES (?1, ?2, ?3, ?3, 'skipped', ?4)",
                params![job, instant_text(slot), at, reason],
            )
            .map_err(self.err("record skipped slot"))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Whether `job`'s `slot` is settled: run to the end (`ok`) or
    /// deliberately skipped. Failed and interrupted runs are not settled: a
    /// catch-up may run the slot again.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn slot_settled(&mut self, job: &str, slot: DateTime<Utc>) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM job_runs WHERE job = ?1 AND slot = ?2 AND outcome IN ('ok', 'skipped'))",
                params![job, instant_text(slot)],
                |r| r.get(0),
            )
            .map_err(self.err("look up slot"))
    }

    /// The latest slot for which `job` has any recorded run.
    ///
    /// # Errors
    /// SQLite errors, or a stored slot that is not an instant.
    pub fn last_recorded_slot(&mut self, job: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let text: Option<String> = self
            .conn
            .query_row("SELECT max(slot) FROM job_runs WHERE job = ?1", [job], |r| r.get(0))
            .map_err(self.err("look up last slot"))?;
        super::rows::Fields::new(self, "job_runs").opt_instant("slot", text)
    }

    /// Per job, its most recent run and its most recent run that is not
    /// still running (one row when they are the same), by job name, newest first.
    ///
    /// # Errors
    /// SQLite errors or corrupt rows.
    pub fn last_runs(&mut self) -> Result<Vec<JobRun>, StoreError> {
        self.job_runs_where(
            "id IN (SELECT max(id) FROM job_runs GROUP BY job
                    UNION SELECT max(id) FROM job_runs WHERE outcome != 'running' GROUP BY job)
             ORDER BY job, id DESC",
            &[],
        )
    }

    /// Every run whose slot is at or after `since`, oldest slot first.
    ///
    /// # Errors
    /// SQLite errors or corrupt rows.
    pub fn job_runs_since(&mut self, since: DateTime<Utc>) -> Result<Vec<JobRun>, StoreError> {
        let since = instant_text(since);
        self.job_runs_where("slot >= ?1 ORDER BY slot, id", &[&since])
    }
}

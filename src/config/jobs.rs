//! The sections the jobs read (`crate::jobs` sits above `config`, so they
//! are defined here): `[calendar]`, `[backfill]`, `[scan]`, `[review]`,
//! `[housekeeping]`.

use serde::{Deserialize, Serialize};

/// `[calendar]`: which upcoming reports are kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CalendarConfig {
    /// How many calendar days ahead the refresh reads (default 14).
    pub horizon_days: u32,
}

impl Default for CalendarConfig {
    fn default() -> Self {
        Self { horizon_days: 14 }
    }
}

impl CalendarConfig {
    /// The bounds of its days: 1 to 90.
    pub fn bounds(&self, b: &mut crate::settings::Bounds) {
        b.int("calendar.horizon_days", self.horizon_days, 1, 90);
    }
}

/// `[backfill]`: past events and daily bars.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackfillConfig {
    /// How many calendar days of daily bars before the as-of date are kept (default 1,500, about 4 years: 12+ quarters).
    pub lookback_days: u32,
    /// How many calendar days ahead of the as-of date the backfill looks for reporters (default 7).
    pub horizon_days: u32,
}

impl Default for BackfillConfig {
    fn default() -> Self {
        Self { lookback_days: 1500, horizon_days: 7 }
    }
}

impl BackfillConfig {
    /// The bounds of its days: 90 to 7,300 back, 0 to 90 ahead.
    pub fn bounds(&self, b: &mut crate::settings::Bounds) {
        b.int("backfill.lookback_days", self.lookback_days, 90, 7300);
        b.int("backfill.horizon_days", self.horizon_days, 0, 90);
    }
}

/// `[scan]`: the pre-earnings scan.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScanConfig {
    /// How many tickers a scan (and a backfill) works on at once (default 8); the rate limiters bound the request rate.
    pub concurrency: usize,
    /// A chain older than this at the scan carries a warning, in minutes (default 15).
    pub max_chain_age_minutes: u32,
}

impl Default for ScanConfig {
    fn default() -> Self {
        Self { concurrency: 8, max_chain_age_minutes: 15 }
    }
}

impl ScanConfig {
    /// The bounds of its count and minutes: 1 to 64 tickers at once, 0 to 1,440 minutes.
    pub fn bounds(&self, b: &mut crate::settings::Bounds) {
        b.int("scan.concurrency", self.concurrency, 1, 64);
        b.int("scan.max_chain_age_minutes", self.max_chain_age_minutes, 0, 1440);
    }
}

/// `[review]`: the structures a scan proposes and the post-crush review at
/// the next open (see `docs/review.md`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReviewConfig {
    /// How many listed strikes beyond each short strike the iron condor's
    /// long wings sit (default 1: the next listed strike).
    pub wing_steps: usize,
    /// A review still waiting for its stock to open (a halt) is retried at
    /// later review slots for this many days after its reaction session
    /// (default 5).
    pub pending_days: u32,
    /// Whether each review run that reviewed something queues the review
    /// alert for the channels of `[alerts]` (default true; `ivcd review`
    /// and `ivcd replay` only with `--notify`).
    pub alert: bool,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        Self { wing_steps: 1, pending_days: 5, alert: true }
    }
}

impl ReviewConfig {
    /// The bounds of its counts: 1 to 20 wing steps, 0 to 30 pending days.
    pub fn bounds(&self, b: &mut crate::settings::Bounds) {
        b.int("review.wing_steps", self.wing_steps, 1, 20);
        b.int("review.pending_days", self.pending_days, 0, 30);
    }
}

/// `[housekeeping]`: the weekly maintenance job.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HousekeepingConfig {
    /// Job runs older than this many days are deleted, except those a stored
    /// scan refers to (default 400).
    pub job_run_retention_days: u32,
}

impl Default for HousekeepingConfig {
    fn default() -> Self {
        Self { job_run_retention_days: 400 }
    }
}

impl HousekeepingConfig {
    /// The bounds of its retention: 7 to 3,650 days.
    pub fn bounds(&self, b: &mut crate::settings::Bounds) {
        b.int("housekeeping.job_run_retention_days", self.job_run_retention_days, 7, 3650);
    }
}

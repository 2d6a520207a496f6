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
    /// How many tickers a scan (and a backfill, a review) works on at once;
    /// 0 (the default) sizes it to the chain provider's window
    /// ([`ScanConfig::in_flight`]). The rate limiters bound the request rate.
    pub concurrency: usize,
    /// The most tickers in flight when `concurrency` is 0 (default 32).
    pub max_concurrency: usize,
    /// A chain older than this at the scan carries a warning, in minutes (default 15).
    pub max_chain_age_minutes: u32,
}

impl Default for ScanConfig {
    fn default() -> Self {
        Self { concurrency: 0, max_concurrency: 32, max_chain_age_minutes: 15 }
    }
}

impl ScanConfig {
    /// How many tickers to keep in flight for a provider that allows
    /// `allowance` requests a window when a ticker needs `per_ticker`
    /// dependent requests: `concurrency` when set, else every ticker one
    /// window's allowance covers at once (`ceil(allowance / per_ticker)`,
    /// so the window is spent in one ticker's critical path), at most
    /// `max_concurrency`. Always at least 1.
    pub fn in_flight(&self, allowance: u32, per_ticker: u32) -> usize {
        if self.concurrency > 0 {
            return self.concurrency;
        }
        let covered = allowance.div_ceil(per_ticker.max(1));
        usize::try_from(covered).unwrap_or(usize::MAX).clamp(1, self.max_concurrency.max(1))
    }

    /// The bounds of its counts and minutes: 0 (sized to the window) to 64
    /// tickers at once, 1 to 64 at most when sized, 0 to 1,440 minutes.
    pub fn bounds(&self, b: &mut crate::settings::Bounds) {
        b.int("scan.concurrency", self.concurrency, 0, 64);
        b.int("scan.max_concurrency", self.max_concurrency, 1, 64);
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

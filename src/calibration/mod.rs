//! `ivcd calibrate`: the tiers and the score judged on recorded past
//! reports. EarningsWatcher's dataset (`providers::files::earnings_watcher`)
//! gives, for 3,393 reports of 210 tickers (2021-2026), the implied move at
//! the last close before each report; ivcd's own bars, calendar, history
//! window, VRP, tiers and score say what the scan would have made of each
//! event, and the bars say what followed.
//!
//! - [`timing`] (pure): each event's BMO/AMC timing from the calendars,
//!   checked against the bars (which session's close-to-close move is the
//!   recorded one), inferred where the calendars are missing or wrong.
//! - [`judge`] (pure): each event as the 15:00 scan before it would have
//!   judged it, without look-ahead, and its outcome at the reaction open and
//!   close, with the approximate results of the three structures.
//! - [`stats`] (pure): hit rates, edges and P&L by tier, score decile, year,
//!   timing and ticker with seeded bootstrap confidence intervals; the
//!   walk-forward choice of thresholds and weights.
//! - [`events`] (pure): from the parsed files to one record per report.
//! - [`report`] (pure): the report; [`plots`] (SVG through plotters),
//!   [`present`] (text).
//! - [`run`]: reads the files, stores the derived rows (reused while the
//!   inputs are unchanged) and assembles the report.
//!
//! The method and its limits are in `docs/calibration.md`. Every output that
//! shows the dataset's figures credits it ([`ATTRIBUTION`]), as its licence
//! (CC BY 4.0) asks.

use std::path::PathBuf;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub mod events;
pub mod judge;
pub mod plots;
pub mod present;
pub mod report;
pub mod run;
pub mod stats;
pub mod thresholds;
pub mod timing;

pub use crate::providers::files::earnings_watcher::ATTRIBUTION;
pub use report::CalibrationReport;
pub use run::{Calibrated, CalibrationError, Settings, calibrate};

/// The `[calibration]` settings. Paths are relative to `data_dir` unless
/// absolute; an empty calendar path leaves that calendar out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CalibrationConfig {
    /// EarningsWatcher's `earnings_implied_moves.csv` (default
    /// `earnings-watcher__earnings-implied-moves/earnings_implied_moves.csv`).
    pub implied_moves_file: PathBuf,
    /// A directory of daily OHLCV CSVs named `<TICKER>.csv`, split-adjusted
    /// (default `Krzysztof-Smykla__Stock-Price-Dashboard/data`, Yahoo).
    pub bars_dir: PathBuf,
    /// The trading-desk earnings calendar with timing (default
    /// `pmak99__trading-desk-public/exports/earnings_calendar.csv`).
    pub trading_desk_calendar: PathBuf,
    /// A directory of the trading bot's `vol_premium` CSV versions (default
    /// `lowQuant__Option-Trading-Bot/vol_premium_versions`).
    pub bot_calendar_dir: PathBuf,
    /// Alpha Vantage `EARNINGS` JSON responses (with `reportTime`).
    pub alpha_vantage_earnings: Vec<PathBuf>,
    /// How far a session's close-to-close move may be from the recorded one
    /// and still match it, fraction (default 0.0015 = 0.15 points: the
    /// file's half rounding step 0.05 plus 0.10 for the bars' float prices).
    pub timing_tolerance: f64,
    /// How much higher than the recorded move an adjusted bars' move may be
    /// when no session matches within `timing_tolerance`, fraction (default
    /// 0.01 = 1 point: a dividend-adjusted close-to-close ratio across an
    /// ex-dividend date is higher than the traded one by about the dividend
    /// yield, up to about 1% a quarter for the highest yielders here).
    pub dividend_tolerance: f64,
    /// The iron condor's wings, beyond each short strike, in implied moves
    /// (default 0.5: short strikes at +/-1 implied move, long wings at +/-1.5).
    pub condor_wing_moves: f64,
    /// Bootstrap resamples per confidence interval (default 1,000).
    pub bootstrap_resamples: usize,
    /// The bootstrap's seed (default 21): the same inputs give the same intervals.
    pub seed: u64,
    /// The walk-forward's last training date (default 2023-12-31): thresholds
    /// and weights are chosen on events reported on or before it and
    /// reported on the events after it.
    pub train_end: NaiveDate,
    /// The fewest training events a tier chosen by the walk-forward may hold (default 30).
    pub min_tier_events: usize,
}

impl Default for CalibrationConfig {
    fn default() -> Self {
        Self {
            implied_moves_file: "earnings-watcher__earnings-implied-moves/earnings_implied_moves.csv".into(),
            bars_dir: "Krzysztof-Smykla__Stock-Price-Dashboard/data".into(),
            trading_desk_calendar: "pmak99__trading-desk-public/exports/earnings_calendar.csv".into(),
            bot_calendar_dir: "lowQuant__Option-Trading-Bot/vol_premium_versions".into(),
            alpha_vantage_earnings: vec![
                "portfoliotree__alphavantage/specification/testdata/examples/fundamental/EARNINGS_d56c999e.json"
                    .into(),
                "OpenBB-finance__OpenBB/openbb_platform/providers/alpha_vantage/tests/record/http/\
                 test_alpha_vantage_fetchers/EARNINGS_AAPL_recorded_2024-06-27.json"
                    .into(),
            ],
            timing_tolerance: 0.0015,
            dividend_tolerance: 0.01,
            condor_wing_moves: 0.5,
            bootstrap_resamples: 1000,
            seed: 21,
            train_end: NaiveDate::from_ymd_opt(2023, 12, 31).unwrap_or_default(),
            min_tier_events: 30,
        }
    }
}

impl CalibrationConfig {
    /// The bounds of its counts (see [`crate::settings::Bounded`]).
    pub fn bounds(&self, b: &mut crate::settings::Bounds) {
        b.int("calibration.bootstrap_resamples", self.bootstrap_resamples, 100, 100_000);
        b.int("calibration.seed", self.seed, 0, u64::from(u32::MAX));
        b.int("calibration.min_tier_events", self.min_tier_events, 5, 10_000);
    }

    /// What is wrong with the settings, one sentence each.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut check = |ok: bool, msg: &str| {
            if !ok {
                problems.push(msg.to_owned());
            }
        };
        check(
            !self.implied_moves_file.as_os_str().is_empty(),
            "calibration.implied_moves_file must name the EarningsWatcher CSV",
        );
        check(
            !self.bars_dir.as_os_str().is_empty(),
            "calibration.bars_dir must name a directory of daily bars",
        );
        check(
            self.timing_tolerance.is_finite() && self.timing_tolerance > 0.0 && self.timing_tolerance <= 0.01,
            "calibration.timing_tolerance must be a fraction above 0 and at most 0.01 (1 point)",
        );
        check(
            self.dividend_tolerance.is_finite() && (0.0..=0.05).contains(&self.dividend_tolerance),
            "calibration.dividend_tolerance must be a fraction from 0 to 0.05",
        );
        check(
            self.condor_wing_moves.is_finite()
                && self.condor_wing_moves > 0.0
                && self.condor_wing_moves <= 5.0,
            "calibration.condor_wing_moves must be above 0 and at most 5 implied moves",
        );
        // bootstrap_resamples, seed and min_tier_events: CalibrationConfig::bounds.
        problems
    }
}

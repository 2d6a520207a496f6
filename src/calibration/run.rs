//! `ivcd calibrate`'s I/O: reads the recorded implied moves, the calendars
//! and the bars from files, stores the derived rows, and reuses them while
//! the inputs are unchanged.
//!
//! Resumable: the stored rows carry a SHA-256 fingerprint of every input
//! (the files' bytes, the settings that shape the rows, the exchange
//! calendar's overrides). A re-run with the same fingerprint reads the rows
//! back instead of parsing the bars and judging again; the statistics are
//! computed from them each run (seeded, so the same figures).
//!
//! The bars are read from `[calibration] bars_dir` with ivcd's OHLCV parser
//! and never written to the `daily_bars` table: they are dividend-adjusted,
//! and the live scan's bars must not be mixed with them.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::CalibrationConfig;
use super::events::{self, Claims, EvaluateParams, EventRecord, Inputs, Status};
use super::judge::{JudgeParams, Judgement};
use super::report::{self, CalibrationReport};
use super::timing::{TimingParams, TimingResolution};
use crate::analysis::AnalysisParams;
use crate::analysis::vrp::Tier;
use crate::calendar::NyseCalendar;
use crate::domain::{DailyBar, EarningsEvent, Ticker};
use crate::providers::ParseError;
use crate::providers::files::earnings_watcher::{self, RecordedImpliedMove};
use crate::providers::files::{ohlcv, trading_desk, vol_premium};
use crate::report::{Calibration, TierRecord};
use crate::store::{CalibrationRow, RecordedImplied, Store, StoreError};

/// Bumped whenever the judgement's definitions change, so stored rows of an
/// older ivcd are recomputed.
const DEFINITIONS_VERSION: &str = "calibration rows v1";

/// Why the calibration could not run. Nothing stored is lost: the rows are
/// replaced in one transaction only once everything was computed.
#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    /// An input file or directory could not be read.
    #[error("calibration.{key} = {path}: {message}")]
    Input {
        /// The setting that names it.
        key: &'static str,
        /// The path tried.
        path: String,
        /// What went wrong and what to do.
        message: String,
    },
    /// A file could not be parsed.
    #[error("{0}")]
    Parse(#[from] ParseError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The plots could not be drawn or written.
    #[error("{0}")]
    Plots(#[from] super::plots::PlotError),
    /// The report could not be written as JSON.
    #[error("the report as JSON: {0}")]
    Json(serde_json::Error),
    /// A stored row could not be read back (the rows are then recomputed).
    #[error("stored calibration row {0}: {1}")]
    Stored(String, String),
}

/// What `calibrate` needs besides the store.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where relative paths of `[calibration]` are resolved (`data_dir`).
    pub data_dir: PathBuf,
    /// `[calibration]`.
    pub config: CalibrationConfig,
    /// `[analysis]`.
    pub analysis: AnalysisParams,
    /// The NYSE calendar (with the exchange's stored overrides).
    pub calendar: NyseCalendar,
    /// The run's instant (stored with the rows).
    pub now: DateTime<Utc>,
}

/// The files read, as bytes, before parsing.
struct Files {
    recorded: (String, String),
    calendars: Vec<(CalendarKind, String, String)>,
    bars: Vec<(Ticker, String, String)>,
}

#[derive(Debug, Clone, Copy)]
enum CalendarKind {
    TradingDesk,
    Bot,
    AlphaVantage,
}

fn resolve(data_dir: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() { path.to_path_buf() } else { data_dir.join(path) }
}

fn read(key: &'static str, path: &Path) -> Result<String, CalibrationError> {
    std::fs::read_to_string(path).map_err(|e| CalibrationError::Input {
        key,
        path: path.display().to_string(),
        message: format!("cannot read it ({e}); set [calibration] {key}, or data_dir, to where the file is"),
    })
}

/// The bars file of `ticker` in `dir`: `<TICKER>.csv`, or with `.`/`/` as `-` (Yahoo's `BRK-B`).
fn bars_file(dir: &Path, ticker: &Ticker) -> Option<PathBuf> {
    let plain = dir.join(format!("{}.csv", ticker.as_str()));
    if plain.is_file() {
        return Some(plain);
    }
    let dashed = dir.join(format!("{}.csv", ticker.as_str().replace(['.', '/'], "-")));
    dashed.is_file().then_some(dashed)
}

fn read_files(settings: &Settings) -> Result<Files, CalibrationError> {
    let c = &settings.config;
    let dir = &settings.data_dir;
    let recorded_path = resolve(dir, &c.implied_moves_file);
    let recorded_text = read("implied_moves_file", &recorded_path)?;
    let mut calendars = Vec::new();
    if !c.trading_desk_calendar.as_os_str().is_empty() {
        let path = resolve(dir, &c.trading_desk_calendar);
        calendars.push((
            CalendarKind::TradingDesk,
            path.display().to_string(),
            read("trading_desk_calendar", &path)?,
        ));
    }
    if !c.bot_calendar_dir.as_os_str().is_empty() {
        let path = resolve(dir, &c.bot_calendar_dir);
        let entries = std::fs::read_dir(&path).map_err(|e| CalibrationError::Input {
            key: "bot_calendar_dir",
            path: path.display().to_string(),
            message: format!(
                "cannot list it ({e}); set [calibration] bot_calendar_dir, or \"\" to leave it out"
            ),
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "csv"))
            .collect();
        files.sort();
        for file in files {
            calendars.push((CalendarKind::Bot, file.display().to_string(), read("bot_calendar_dir", &file)?));
        }
    }
    for file in &c.alpha_vantage_earnings {
        let path = resolve(dir, file);
        calendars.push((
            CalendarKind::AlphaVantage,
            path.display().to_string(),
            read("alpha_vantage_earnings", &path)?,
        ));
    }
    // Only the tickers of the recorded file: the tickers are parsed again
    // below, with every error named.
    let recorded =
        earnings_watcher::parse_earnings_watcher_csv(&recorded_text, &recorded_path.display().to_string())?;
    let mut tickers: Vec<&Ticker> = recorded.iter().map(|r| &r.ticker).collect();
    tickers.sort();
    tickers.dedup();
    let bars_dir = resolve(dir, &c.bars_dir);
    if !bars_dir.is_dir() {
        return Err(CalibrationError::Input {
            key: "bars_dir",
            path: bars_dir.display().to_string(),
            message: "not a directory; set [calibration] bars_dir to a directory of <TICKER>.csv daily bars"
                .into(),
        });
    }
    let mut bars = Vec::new();
    for ticker in tickers {
        if let Some(path) = bars_file(&bars_dir, ticker) {
            bars.push((ticker.clone(), path.display().to_string(), read("bars_dir", &path)?));
        }
    }
    Ok(Files { recorded: (recorded_path.display().to_string(), recorded_text), calendars, bars })
}

/// The SHA-256 of everything the stored rows depend on, hex.
fn fingerprint(files: &Files, settings: &Settings) -> String {
    let mut hash = Sha256::new();
    let mut part = |label: &str, bytes: &[u8]| {
        hash.update((label.len() as u64).to_le_bytes());
        hash.update(label.as_bytes());
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    };
    // A new ivcd may judge differently: its rows are recomputed.
    part("definitions", format!("{DEFINITIONS_VERSION} {}", crate::VERSION.as_str()).as_bytes());
    part("recorded", files.recorded.1.as_bytes());
    for (kind, name, text) in &files.calendars {
        part(&format!("calendar {kind:?} {}", file_name(name)), text.as_bytes());
    }
    for (ticker, _, text) in &files.bars {
        part(&format!("bars {ticker}"), text.as_bytes());
    }
    let c = &settings.config;
    let shaping = format!(
        "timing {} dividend {} wings {}",
        c.timing_tolerance, c.dividend_tolerance, c.condor_wing_moves
    );
    part("settings", shaping.as_bytes());
    part("analysis", serde_json::to_string(&settings.analysis).unwrap_or_default().as_bytes());
    part("overrides", format!("{:?}", settings.calendar.overrides()).as_bytes());
    hex::encode(hash.finalize())
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// Parses the files read.
fn parse(files: &Files) -> Result<Inputs, CalibrationError> {
    let recorded = earnings_watcher::parse_earnings_watcher_csv(&files.recorded.1, &files.recorded.0)?;
    let mut events: Vec<EarningsEvent> = Vec::new();
    for (kind, name, text) in &files.calendars {
        events.extend(match kind {
            CalendarKind::TradingDesk => trading_desk::parse_trading_desk_calendar(text, name)?,
            CalendarKind::Bot => vol_premium::parse_vol_premium_csv(text, name)?,
            CalendarKind::AlphaVantage => {
                crate::providers::alpha_vantage::wire::parse_earnings_json(text, name)?
            }
        });
    }
    let mut bars: HashMap<Ticker, BTreeMap<NaiveDate, DailyBar>> = HashMap::new();
    for (ticker, name, text) in &files.bars {
        let parsed = ohlcv::parse_ohlcv_csv(text, name)?;
        bars.insert(ticker.clone(), parsed.into_iter().map(|b| (b.date, b)).collect());
    }
    Ok(Inputs { recorded, claims: Claims::from_events(&events), bars })
}

/// Reads and parses every input `settings` names (no store): for tests and
/// tools that judge the recorded events themselves.
///
/// # Errors
/// [`CalibrationError::Input`] naming an unreadable file and its setting,
/// [`CalibrationError::Parse`] naming a broken one.
pub fn load_inputs(settings: &Settings) -> Result<Inputs, CalibrationError> {
    parse(&read_files(settings)?)
}

/// The evaluation settings from `settings`.
pub fn evaluate_params(settings: &Settings) -> EvaluateParams<'_> {
    EvaluateParams {
        timing: TimingParams {
            tolerance: settings.config.timing_tolerance,
            dividend_tolerance: settings.config.dividend_tolerance,
            ratio: settings.analysis.timing_check.ratio,
            min_move: settings.analysis.timing_check.min_move,
        },
        judge: JudgeParams {
            analysis: &settings.analysis,
            condor_wing_moves: settings.config.condor_wing_moves,
        },
    }
}

/// What `detail` holds: the timing resolution and the judgement.
#[derive(Serialize, Deserialize)]
struct Detail {
    timing: TimingResolution,
    judgement: Option<Judgement>,
}

fn to_rows(records: &[EventRecord]) -> Vec<CalibrationRow> {
    records
        .iter()
        .map(|r| CalibrationRow {
            ticker: r.ticker.clone(),
            report_date: r.report_date,
            source: earnings_watcher::SOURCE.to_owned(),
            implied_move_pct: r.implied_move_pct.to_string(),
            close_move_pct: r.close_move_pct.to_string(),
            peak_move_pct: r.peak_move_pct.to_string(),
            timing: r.timing.timing,
            timing_basis: r.timing.basis.code().to_owned(),
            status: r.status.code().to_owned(),
            reason: r.reason.clone(),
            detail: serde_json::to_string(&Detail {
                timing: r.timing.clone(),
                judgement: r.judgement.clone(),
            })
            .unwrap_or_default(),
        })
        .collect()
}

fn from_rows(rows: Vec<CalibrationRow>) -> Result<Vec<EventRecord>, CalibrationError> {
    rows.into_iter()
        .map(|row| {
            let name = format!("{} {}", row.ticker, row.report_date);
            let bad = |what: &str| CalibrationError::Stored(name.clone(), what.to_owned());
            let detail: Detail =
                serde_json::from_str(&row.detail).map_err(|e| bad(&format!("detail: {e}")))?;
            let pct = |text: &str| text.parse::<Decimal>().map_err(|_| bad(&format!("percentage {text:?}")));
            Ok(EventRecord {
                implied_move_pct: pct(&row.implied_move_pct)?,
                close_move_pct: pct(&row.close_move_pct)?,
                peak_move_pct: pct(&row.peak_move_pct)?,
                status: Status::from_code(&row.status)
                    .ok_or_else(|| bad(&format!("status {:?}", row.status)))?,
                ticker: row.ticker,
                report_date: row.report_date,
                timing: detail.timing,
                reason: row.reason,
                judgement: detail.judgement,
            })
        })
        .collect()
}

/// The recorded implied moves to store: every event whose timing is decided
/// (its reference session known), judged or not.
fn recorded_implied(
    records: &[EventRecord],
    recorded: &HashMap<(Ticker, NaiveDate), &RecordedImpliedMove>,
    calendar: &NyseCalendar,
) -> Vec<RecordedImplied> {
    let rounding = (earnings_watcher::ROUNDING_PCT / Decimal::ONE_HUNDRED).try_into().unwrap_or(0.001);
    records
        .iter()
        .filter_map(|r| {
            let timing = r.timing.timing?;
            let sessions = crate::analysis::moves::event_sessions(calendar, r.report_date, timing)?;
            let row = recorded.get(&(r.ticker.clone(), r.report_date))?;
            Some(RecordedImplied {
                ticker: r.ticker.clone(),
                report_date: r.report_date,
                timing,
                timing_basis: r.timing.basis.code().to_owned(),
                reference_session: sessions.reference_session,
                reaction_session: sessions.reaction_session,
                source: earnings_watcher::SOURCE.to_owned(),
                rounding,
                implied_move: row.implied_move(),
            })
        })
        .collect()
}

/// Runs the calibration: reads the inputs, reuses or recomputes and stores
/// the derived rows, and builds the report (credited to [`super::ATTRIBUTION`]). Blocking (files and SQLite):
/// call it off the async workers.
///
/// # Errors
/// [`CalibrationError`]: an unreadable or broken input (named, with the
/// setting to change), or the store. Stored rows are replaced only when
/// everything was computed, in one transaction.
pub fn calibrate(store: &Store, settings: &Settings) -> Result<Calibrated, CalibrationError> {
    let files = read_files(settings)?;
    let fingerprint = fingerprint(&files, settings);
    let source = earnings_watcher::SOURCE;
    let stored = store.run_blocking(|db| db.calibration_fingerprint())?;
    let reuse = match stored.as_deref() == Some(fingerprint.as_str()) {
        true => match from_rows(store.run_blocking(|db| db.calibration_rows(source))?) {
            Ok(records) => Some(records),
            Err(e) => {
                tracing::warn!(error = %e, "stored calibration rows unreadable: recomputing them");
                None
            }
        },
        false => None,
    };
    let (records, reused) = if let Some(records) = reuse {
        (records, true)
    } else {
        let inputs = parse(&files)?;
        let records = events::evaluate(&inputs, &settings.calendar, &evaluate_params(settings));
        let by_key: HashMap<(Ticker, NaiveDate), &RecordedImpliedMove> =
            inputs.recorded.iter().map(|r| ((r.ticker.clone(), r.report_date), r)).collect();
        let implied = recorded_implied(&records, &by_key, &settings.calendar);
        let rows = to_rows(&records);
        store
            .run_blocking(|db| db.replace_calibration(source, &rows, &implied, &fingerprint, settings.now))?;
        (records, false)
    };
    let tickers_with_bars = files.bars.len();
    let report = report::build(
        &records,
        &settings.config.implied_moves_file.display().to_string(),
        &settings.config,
        &settings.analysis,
        tickers_with_bars,
        reused,
    );
    if let Some(record) = tier_record(&report, settings.now) {
        store.run_blocking(|db| db.replace_calibration_tiers(&record))?;
    }
    Ok(Calibrated { report, records })
}

/// The tier record the alerts and reports show, from the report's design
/// tiers at the reaction open; `None` when the report has no dates.
fn tier_record(report: &CalibrationReport, now: DateTime<Utc>) -> Option<Calibration> {
    let (first_report, last_report) = report.dates?;
    let tiers = report
        .tiers
        .iter()
        .filter(|g| g.events > 0)
        .filter_map(|g| {
            Some(TierRecord {
                tier: Tier::from_code(&g.label)?,
                events: g.events,
                hit_rate: g.hit_rate.value,
                hit_rate_low: g.hit_rate.low,
                hit_rate_high: g.hit_rate.high,
                mean_edge: g.mean_edge.value,
                straddle_mean: g.short_straddle.mean.value,
                straddle_mean_low: g.short_straddle.mean.low,
                straddle_mean_high: g.short_straddle.mean.high,
                straddle_es5: g.short_straddle.expected_shortfall_5.value,
            })
        })
        // A figure the bootstrap could not give (NaN) is not stored as one.
        .filter(|r: &TierRecord| {
            [
                r.hit_rate,
                r.hit_rate_low,
                r.hit_rate_high,
                r.mean_edge,
                r.straddle_mean,
                r.straddle_mean_low,
                r.straddle_mean_high,
                r.straddle_es5,
            ]
            .iter()
            .all(|x| x.is_finite())
        })
        .collect();
    Some(Calibration {
        source: earnings_watcher::SOURCE.to_owned(),
        attribution: report.attribution.to_owned(),
        thresholds: report.design_tiers,
        first_report,
        last_report,
        calibrated_at: now,
        tiers,
    })
}

/// What [`calibrate`] produced: the report and the records it was built from.
#[derive(Debug, Clone)]
pub struct Calibrated {
    /// The report.
    pub report: CalibrationReport,
    /// One record per recorded report, by ticker and date.
    pub records: Vec<EventRecord>,
}

impl Calibrated {
    /// The judged events (timing decided, outcome measured), by ticker and date.
    pub fn judged(&self) -> Vec<&Judgement> {
        report::sorted_judged(&self.records)
    }
}

/// `ivcd calibrate`: runs [`calibrate`], writes the plots into `plots` when
/// given, and returns what to print: the report as text, or as JSON with
/// `json`. The plots' files are named at the end of the text.
///
/// # Errors
/// As [`calibrate`]; a plot that cannot be drawn or written, naming the file.
pub fn command(
    store: &Store,
    settings: &Settings,
    json: bool,
    plots: Option<&Path>,
) -> Result<String, CalibrationError> {
    let done = calibrate(store, settings)?;
    let written = match plots {
        Some(dir) => {
            super::plots::write_all(dir, &done.judged(), &done.report).map_err(CalibrationError::Plots)?
        }
        None => Vec::new(),
    };
    if json {
        return serde_json::to_string_pretty(&done.report)
            .map(|mut text| {
                text.push('\n');
                text
            })
            .map_err(CalibrationError::Json);
    }
    let mut text = super::present::text(&done.report);
    for path in written {
        text.push_str(&format!("Plot: {}\n", path.display()));
    }
    Ok(text)
}

//! Recorded implied moves and the calibration's derived rows (`ivcd calibrate`).

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::params;

use super::rows::{Fields, row_struct, select_list};
use super::{Db, StoreError, instant_text};
use crate::analysis::vrp::{Tier, TierThresholds};
use crate::domain::{Ticker, Timing};
use crate::report::{Calibration, Candidate, RecordedOutcome, TickerRecord, TierRecord};

/// One recorded implied move for `historical_implied_moves` (method
/// `recorded`): a third party's figure, not computed from quotes here.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedImplied {
    /// The reporting company.
    pub ticker: Ticker,
    /// The report date (ET).
    pub report_date: NaiveDate,
    /// BMO or AMC, as decided.
    pub timing: Timing,
    /// How the timing was decided (a `TimingBasis` code).
    pub timing_basis: String,
    /// The reference session: the figure belongs to its close (ET).
    pub reference_session: NaiveDate,
    /// The reaction session (ET).
    pub reaction_session: NaiveDate,
    /// Where it came from, e.g. `earnings_watcher:earnings_implied_moves.csv`.
    pub source: String,
    /// The source's rounding step, fraction (0.001 = 0.1 point).
    pub rounding: f64,
    /// The implied move, fraction.
    pub implied_move: f64,
}

/// One row of `calibration_events`: a recorded report, its decided timing
/// and its judgement as JSON (`detail`, written and read by the calibration).
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationRow {
    /// The reporting company.
    pub ticker: Ticker,
    /// The report date (ET).
    pub report_date: NaiveDate,
    /// The dataset it comes from.
    pub source: String,
    /// The implied move, percent as printed.
    pub implied_move_pct: String,
    /// The recorded close-to-close move, percent as printed.
    pub close_move_pct: String,
    /// The recorded peak move, percent as printed.
    pub peak_move_pct: String,
    /// BMO or AMC when decided.
    pub timing: Option<Timing>,
    /// How the timing was decided (a `TimingBasis` code).
    pub timing_basis: String,
    /// `judged`, `no_bars` or `ambiguous_timing`.
    pub status: String,
    /// Why the event is not judged, or what it lacks.
    pub reason: Option<String>,
    /// The timing resolution and the judgement, JSON.
    pub detail: String,
}

impl Db<'_> {
    /// The fingerprint of the inputs the stored calibration rows were computed from.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn calibration_fingerprint(&mut self) -> Result<Option<String>, StoreError> {
        use rusqlite::OptionalExtension;
        self.conn
            .query_row("SELECT fingerprint FROM calibration_inputs WHERE id = 1", [], |r| r.get(0))
            .optional()
            .map_err(self.err("read the calibration fingerprint"))
    }

    /// Replaces every calibration row and every recorded implied move of
    /// `source` with `rows` and `implied`, and records `fingerprint`, in one
    /// transaction: all of it is stored or none.
    ///
    /// # Errors
    /// SQLite errors (then nothing changed).
    pub fn replace_calibration(
        &mut self,
        source: &str,
        rows: &[CalibrationRow],
        implied: &[RecordedImplied],
        fingerprint: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let at = instant_text(at);
        self.transaction(|db| {
            db.conn
                .execute("DELETE FROM calibration_events WHERE source = ?1", [source])
                .map_err(db.err("clear calibration rows"))?;
            db.conn
                .execute(
                    "DELETE FROM historical_implied_moves WHERE source = ?1 AND method = 'recorded'",
                    [source],
                )
                .map_err(db.err("clear recorded implied moves"))?;
            {
                let mut stmt = db
                    .conn
                    .prepare_cached(
                        "INSERT INTO calibration_events (ticker, report_date, source, implied_move_pct,
                             close_move_pct, peak_move_pct, timing, timing_basis, status, reason, detail, computed_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                    )
                    .map_err(db.err("prepare calibration rows"))?;
                for row in rows {
                    stmt.execute(params![
                        row.ticker.as_str(),
                        row.report_date.to_string(),
                        row.source,
                        row.implied_move_pct,
                        row.close_move_pct,
                        row.peak_move_pct,
                        row.timing.map(Timing::code),
                        row.timing_basis,
                        row.status,
                        row.reason,
                        row.detail,
                        at,
                    ])
                    .map_err(db.err(format!("store calibration row {} {}", row.ticker, row.report_date)))?;
                }
            }
            {
                let mut stmt = db
                    .conn
                    .prepare_cached(
                        "INSERT OR REPLACE INTO historical_implied_moves (ticker, report_date, timing, chain_date,
                             reaction_session, source, method, rounding, timing_basis, implied_move, fetched_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'recorded', ?7, ?8, ?9, ?10)",
                    )
                    .map_err(db.err("prepare recorded implied moves"))?;
                for row in implied {
                    stmt.execute(params![
                        row.ticker.as_str(),
                        row.report_date.to_string(),
                        row.timing.code(),
                        row.reference_session.to_string(),
                        row.reaction_session.to_string(),
                        row.source,
                        row.rounding,
                        row.timing_basis,
                        row.implied_move,
                        at,
                    ])
                    .map_err(db.err(format!("store recorded implied move {} {}", row.ticker, row.report_date)))?;
                }
            }
            db.conn
                .execute(
                    "INSERT OR REPLACE INTO calibration_inputs (id, fingerprint, rows, computed_at)
                     VALUES (1, ?1, ?2, ?3)",
                    params![fingerprint, rows.len() as i64, at],
                )
                .map_err(db.err("record the calibration fingerprint"))?;
            Ok(())
        })
    }

    /// The stored calibration rows of `source`, by ticker and report date.
    ///
    /// # Errors
    /// SQLite errors or a corrupt stored value.
    pub fn calibration_rows(&mut self, source: &str) -> Result<Vec<CalibrationRow>, StoreError> {
        let rows: Vec<CalibrationEventRow> = {
            let mut stmt = self
                .conn
                .prepare_cached(&format!(
                    "SELECT {} FROM calibration_events WHERE source = ?1 ORDER BY ticker, report_date",
                    select_list(CalibrationEventRow::COLUMNS, "")
                ))
                .map_err(self.err("prepare calibration rows"))?;
            stmt.query_map([source], CalibrationEventRow::read)
                .and_then(|rows| rows.collect())
                .map_err(self.err("read calibration rows"))?
        };
        let f = Fields::new(self, "calibration_events");
        rows.into_iter()
            .map(|row| {
                Ok(CalibrationRow {
                    ticker: f.ticker("ticker", &row.ticker)?,
                    report_date: f.date("report_date", &row.report_date)?,
                    source: source.to_owned(),
                    implied_move_pct: row.implied_move_pct,
                    close_move_pct: row.close_move_pct,
                    peak_move_pct: row.peak_move_pct,
                    timing: f.opt_code("timing", row.timing, Timing::from_code)?,
                    timing_basis: row.timing_basis,
                    status: row.status,
                    reason: row.reason,
                    detail: row.detail,
                })
            })
            .collect()
    }

    /// The recorded implied moves of `ticker` (method `recorded`), oldest first.
    ///
    /// # Errors
    /// SQLite errors or a corrupt stored value.
    pub fn recorded_implied(&mut self, ticker: &Ticker) -> Result<Vec<RecordedImplied>, StoreError> {
        let rows: Vec<RecordedImpliedRow> = {
            let mut stmt = self
                .conn
                .prepare_cached(&format!(
                    "SELECT {} FROM historical_implied_moves WHERE ticker = ?1 AND method = 'recorded'
                     ORDER BY report_date, source",
                    select_list(RecordedImpliedRow::COLUMNS, "")
                ))
                .map_err(self.err("prepare recorded implied moves"))?;
            stmt.query_map([ticker.as_str()], RecordedImpliedRow::read)
                .and_then(|rows| rows.collect())
                .map_err(self.err("read recorded implied moves"))?
        };
        let f = Fields::new(self, "historical_implied_moves");
        rows.into_iter()
            .map(|row| {
                Ok(RecordedImplied {
                    ticker: ticker.clone(),
                    report_date: f.date("report_date", &row.report_date)?,
                    timing: f.code("timing", &row.timing, Timing::from_code)?,
                    timing_basis: row.timing_basis,
                    reference_session: f.date("chain_date", &row.chain_date)?,
                    reaction_session: f.date("reaction_session", &row.reaction_session)?,
                    source: row.source,
                    rounding: row.rounding,
                    implied_move: row.implied_move,
                })
            })
            .collect()
    }
}

impl Db<'_> {
    /// Replaces the tier record of `calibration.source` with `calibration`
    /// (table `calibration_tiers`), in one transaction.
    ///
    /// # Errors
    /// SQLite errors (then nothing changed).
    pub fn replace_calibration_tiers(&mut self, calibration: &Calibration) -> Result<(), StoreError> {
        self.transaction(|db| {
            db.conn
                .execute("DELETE FROM calibration_tiers WHERE source = ?1", [&calibration.source])
                .map_err(db.err("clear the tier record"))?;
            let mut stmt = db
                .conn
                .prepare_cached(
                    "INSERT INTO calibration_tiers (source, attribution, tier, vrp_excellent, vrp_good, vrp_marginal,
                         events, hit_rate, hit_rate_low, hit_rate_high, mean_edge, straddle_mean, straddle_mean_low,
                         straddle_mean_high, straddle_es5, first_report, last_report, calibrated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
                )
                .map_err(db.err("prepare the tier record"))?;
            let t = &calibration.thresholds;
            for r in &calibration.tiers {
                stmt.execute(params![
                    calibration.source,
                    calibration.attribution,
                    r.tier.code(),
                    t.excellent,
                    t.good,
                    t.marginal,
                    i64::try_from(r.events).unwrap_or(i64::MAX),
                    r.hit_rate,
                    r.hit_rate_low,
                    r.hit_rate_high,
                    r.mean_edge,
                    r.straddle_mean,
                    r.straddle_mean_low,
                    r.straddle_mean_high,
                    r.straddle_es5,
                    calibration.first_report.to_string(),
                    calibration.last_report.to_string(),
                    instant_text(calibration.calibrated_at),
                ])
                .map_err(db.err(format!("store the tier record of {}", r.tier.code())))?;
            }
            Ok(())
        })
    }

    /// The last `ivcd calibrate` run (the newest, when several sources were
    /// calibrated) with its tiers best first; `None` when none was run.
    ///
    /// # Errors
    /// SQLite errors or a corrupt stored value.
    pub fn calibration(&mut self) -> Result<Option<Calibration>, StoreError> {
        let rows: Vec<CalibrationTierRow> = {
            let mut stmt = self
                .conn
                .prepare_cached(&format!(
                    "SELECT {} FROM calibration_tiers
                     WHERE source = (SELECT source FROM calibration_tiers ORDER BY calibrated_at DESC, source LIMIT 1)",
                    select_list(CalibrationTierRow::COLUMNS, "")
                ))
                .map_err(self.err("prepare the tier record"))?;
            stmt.query_map([], CalibrationTierRow::read)
                .and_then(|rows| rows.collect())
                .map_err(self.err("read the tier record"))?
        };
        let Some(first) = rows.first() else { return Ok(None) };
        let f = Fields::new(self, "calibration_tiers");
        let mut calibration = Calibration {
            source: first.source.clone(),
            attribution: first.attribution.clone(),
            thresholds: TierThresholds {
                excellent: first.vrp_excellent,
                good: first.vrp_good,
                marginal: first.vrp_marginal,
            },
            first_report: f.date("first_report", &first.first_report)?,
            last_report: f.date("last_report", &first.last_report)?,
            calibrated_at: f.instant("calibrated_at", &first.calibrated_at)?,
            tiers: Vec::with_capacity(rows.len()),
        };
        for row in &rows {
            calibration.tiers.push(TierRecord {
                tier: f.code("tier", &row.tier, Tier::from_code)?,
                events: f.count("events", row.events)?,
                hit_rate: row.hit_rate,
                hit_rate_low: row.hit_rate_low,
                hit_rate_high: row.hit_rate_high,
                mean_edge: row.mean_edge,
                straddle_mean: row.straddle_mean,
                straddle_mean_low: row.straddle_mean_low,
                straddle_mean_high: row.straddle_mean_high,
                straddle_es5: row.straddle_es5,
            });
        }
        calibration.tiers.sort_by_key(|r| r.tier);
        Ok(Some(calibration))
    }

    /// The record of `ticker`'s recorded implied moves (method `recorded`,
    /// from the calibrated `source`) against the gaps the calibration
    /// measured, over reports whose reaction session is before `before`
    /// (every stored one when `None`); `None` when none.
    ///
    /// # Errors
    /// SQLite errors or a corrupt stored value.
    pub fn ticker_record(
        &mut self,
        calibration: &Calibration,
        ticker: &Ticker,
        before: Option<NaiveDate>,
    ) -> Result<Option<TickerRecord>, StoreError> {
        let rows: Vec<RecordedOutcomeRow> = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT h.report_date, h.implied_move, e.gap_move
                     FROM historical_implied_moves h
                     JOIN calibration_events e
                       ON e.ticker = h.ticker AND e.report_date = h.report_date AND e.source = h.source
                     WHERE h.ticker = ?1 AND h.source = ?2 AND h.method = 'recorded' AND e.status = 'judged'
                       AND h.implied_move IS NOT NULL AND e.gap_move IS NOT NULL
                       AND (?3 IS NULL OR h.reaction_session < ?3)
                     ORDER BY h.report_date",
                )
                .map_err(self.err("prepare a ticker's record"))?;
            stmt.query_map(
                params![ticker.as_str(), calibration.source, before.map(|d| d.to_string())],
                RecordedOutcomeRow::read,
            )
            .and_then(|rows| rows.collect())
            .map_err(self.err("read a ticker's record"))?
        };
        let f = Fields::new(self, "historical_implied_moves");
        let outcomes = rows
            .iter()
            .map(|r| {
                Ok(RecordedOutcome {
                    report_date: f.date("report_date", &r.report_date)?,
                    implied_move: r.implied_move,
                    gap_move: r.gap_move,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(TickerRecord::from_outcomes(&calibration.source, &calibration.attribution, &outcomes))
    }

    /// Fills each candidate's tier record and own record from the last
    /// calibration (the own record over reports whose reaction ended before
    /// the candidate's reference session, else its report date) and returns
    /// the calibration.
    ///
    /// # Errors
    /// SQLite errors or a corrupt stored value.
    pub(crate) fn attach_records(
        &mut self,
        candidates: &mut [Candidate],
    ) -> Result<Option<Calibration>, StoreError> {
        let Some(calibration) = self.calibration()? else { return Ok(None) };
        for c in candidates.iter_mut() {
            c.tier_record = calibration.record_of(c.vrp, c.tier).cloned();
            let before = c.reference_session.unwrap_or(c.report_date);
            c.ticker_record = self.ticker_record(&calibration, &c.ticker, Some(before))?;
        }
        Ok(Some(calibration))
    }
}

row_struct! {
    /// One row of `calibration_tiers`.
    struct CalibrationTierRow {
        source: String,
        attribution: String,
        tier: String,
        vrp_excellent: f64,
        vrp_good: f64,
        vrp_marginal: f64,
        events: i64,
        hit_rate: f64,
        hit_rate_low: f64,
        hit_rate_high: f64,
        mean_edge: f64,
        straddle_mean: f64,
        straddle_mean_low: f64,
        straddle_mean_high: f64,
        straddle_es5: f64,
        first_report: String,
        last_report: String,
        calibrated_at: String,
    }
}

row_struct! {
    /// A recorded implied move with the gap the calibration measured.
    struct RecordedOutcomeRow {
        report_date: String,
        implied_move: f64,
        gap_move: f64,
    }
}

row_struct! {
    /// One row of `calibration_events` (its source is asked for).
    struct CalibrationEventRow {
        ticker: String,
        report_date: String,
        implied_move_pct: String,
        close_move_pct: String,
        peak_move_pct: String,
        timing: Option<String>,
        timing_basis: String,
        status: String,
        reason: Option<String>,
        detail: String,
    }
}

row_struct! {
    /// The columns of one recorded row of `historical_implied_moves` that
    /// [`RecordedImplied`] holds (its ticker is asked for).
    struct RecordedImpliedRow {
        report_date: String,
        timing: String,
        timing_basis: String,
        chain_date: String,
        reaction_session: String,
        source: String,
        rounding: f64,
        implied_move: f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{HistoricalImplied, Store};

    fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn chain_row(source: &str, implied: Option<f64>) -> HistoricalImplied {
        HistoricalImplied {
            ticker: Ticker::new("IBM").unwrap(),
            report_date: d("2025-10-22"),
            timing: Timing::Amc,
            chain_date: d("2025-10-22"),
            reaction_session: d("2025-10-23"),
            source: source.into(),
            expiration: None,
            spot: None,
            straddle: None,
            implied_move: implied,
            reason: implied.is_none().then(|| "no end-of-day chain".to_owned()),
            fetched_at: chrono::DateTime::parse_from_rfc3339("2025-10-23T01:00:00Z").unwrap().into(),
        }
    }

    fn recorded() -> RecordedImplied {
        RecordedImplied {
            ticker: Ticker::new("IBM").unwrap(),
            report_date: d("2025-10-22"),
            timing: Timing::Amc,
            timing_basis: "calendar".into(),
            reference_session: d("2025-10-22"),
            reaction_session: d("2025-10-23"),
            source: "earnings_watcher:earnings_implied_moves.csv".into(),
            rounding: 0.001,
            implied_move: 0.071,
        }
    }

    #[test]
    fn recorded_and_chain_figures_of_one_event_stay_apart() {
        let store = Store::open_in_memory().unwrap();
        let at = chrono::DateTime::parse_from_rfc3339("2026-10-07T12:00:00Z").unwrap().into();
        store
            .run_blocking(|db| {
                db.store_historical_implied(&chain_row("alpha_vantage:HISTORICAL_OPTIONS", None))?;
                db.replace_calibration(recorded().source.as_str(), &[], &[recorded()], "f1", at)?;
                // A later chain attempt under another source text still replaces the first.
                db.store_historical_implied(&chain_row("files:HISTORICAL_OPTIONS", Some(0.0654)))
            })
            .unwrap();
        let t = Ticker::new("IBM").unwrap();
        let chain = store.run_blocking(|db| db.historical_implied(&t)).unwrap();
        assert_eq!(chain.len(), 1, "the backtest sees one chain row and no recorded one: {chain:?}");
        assert_eq!(
            (chain[0].source.as_str(), chain[0].implied_move),
            ("files:HISTORICAL_OPTIONS", Some(0.0654))
        );
        assert_eq!(store.run_blocking(|db| db.recorded_implied(&t)).unwrap(), vec![recorded()]);
        assert_eq!(store.run_blocking(|db| db.calibration_fingerprint()).unwrap().as_deref(), Some("f1"));
        // Replacing the calibration leaves the chain row alone.
        store
            .run_blocking(|db| db.replace_calibration(recorded().source.as_str(), &[], &[], "f2", at))
            .unwrap();
        assert!(store.run_blocking(|db| db.recorded_implied(&t)).unwrap().is_empty());
        assert_eq!(store.run_blocking(|db| db.historical_implied(&t)).unwrap().len(), 1);
    }
}

//! Historical earnings moves.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::rows::{Fields, row_struct, select_list};
use super::{Db, StoreError, instant_text};
use crate::analysis::moves::{EventSessions, HistoricalMove, MOVE_DEFINITION};
use crate::domain::{Ticker, Timing};

impl Db<'_> {
    /// The inputs `ticker`'s stored moves were computed from (see
    /// [`crate::jobs::backfill`]), if recorded.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn move_inputs(&mut self, ticker: &Ticker) -> Result<Option<String>, StoreError> {
        use rusqlite::OptionalExtension;
        self.conn
            .query_row("SELECT inputs FROM move_inputs WHERE ticker = ?1", [ticker.as_str()], |r| r.get(0))
            .optional()
            .map_err(self.err("read move inputs"))
    }

    /// Records the inputs `ticker`'s moves were just computed from.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn record_move_inputs(
        &mut self,
        ticker: &Ticker,
        inputs: &str,
        computed_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO move_inputs (ticker, inputs, computed_at) VALUES (?1, ?2, ?3)",
                params![ticker.as_str(), inputs, instant_text(computed_at)],
            )
            .map_err(self.err("record move inputs"))?;
        Ok(())
    }

    /// Stores (or recomputes) the measured moves of `ticker`.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn upsert_moves(
        &mut self,
        ticker: &Ticker,
        moves: &[HistoricalMove],
        computed_at: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let at = instant_text(computed_at);
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT OR REPLACE INTO historical_moves (ticker, report_date, timing, reference_session, reaction_session,
                     reference_close, reaction_open, reaction_high, reaction_low, reaction_close,
                     gap_move, close_to_close_move, definition, computed_at,
                     other_session_gap_move, timing_suspect)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            )
            .map_err(self.err("prepare upsert_moves"))?;
        for m in moves {
            stmt.execute(params![
                ticker.as_str(),
                m.report_date.to_string(),
                m.timing.code(),
                m.sessions.reference_session.to_string(),
                m.sessions.reaction_session.to_string(),
                m.reference_close.to_string(),
                m.reaction_open.to_string(),
                m.reaction_high.to_string(),
                m.reaction_low.to_string(),
                m.reaction_close.to_string(),
                m.gap_move,
                m.close_to_close_move,
                MOVE_DEFINITION,
                at,
                m.other_session_gap_move,
                m.timing_suspect,
            ])
            .map_err(self.err(format!("store move {ticker} {}", m.report_date)))?;
        }
        Ok(moves.len())
    }

    /// Deletes stored moves of `ticker` whose event is no longer stored with a
    /// usable timing (a corrected calendar). Returns how many were removed.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn prune_orphan_moves(&mut self, ticker: &Ticker) -> Result<usize, StoreError> {
        self.conn
            .execute(
                "DELETE FROM historical_moves WHERE ticker = ?1 AND NOT EXISTS (
                     SELECT 1 FROM earnings_events e WHERE e.ticker = historical_moves.ticker
                     AND e.report_date = historical_moves.report_date AND e.timing = historical_moves.timing)",
                [ticker.as_str()],
            )
            .map_err(self.err("prune moves"))
    }

    /// All stored moves of `ticker`, oldest first.
    ///
    /// # Errors
    /// SQLite errors or a corrupt stored value.
    pub fn moves_for_ticker(&mut self, ticker: &Ticker) -> Result<Vec<HistoricalMove>, StoreError> {
        let rows: Vec<HistoricalMoveRow> = {
            let mut stmt = self
                .conn
                .prepare_cached(&format!(
                    "SELECT {} FROM historical_moves WHERE ticker = ?1 ORDER BY report_date",
                    select_list(HistoricalMoveRow::COLUMNS, "")
                ))
                .map_err(self.err("prepare moves"))?;
            stmt.query_map([ticker.as_str()], HistoricalMoveRow::read)
                .and_then(|rows| rows.collect())
                .map_err(self.err("read moves"))?
        };
        let f = Fields::new(self, "historical_moves");
        rows.into_iter()
            .map(|row| {
                Ok(HistoricalMove {
                    report_date: f.date("report_date", &row.report_date)?,
                    timing: f.code("timing", &row.timing, Timing::from_code)?,
                    sessions: EventSessions {
                        reference_session: f.date("reference_session", &row.reference_session)?,
                        reaction_session: f.date("reaction_session", &row.reaction_session)?,
                    },
                    reference_close: f.decimal("reference_close", &row.reference_close)?,
                    reaction_open: f.decimal("reaction_open", &row.reaction_open)?,
                    reaction_high: f.decimal("reaction_high", &row.reaction_high)?,
                    reaction_low: f.decimal("reaction_low", &row.reaction_low)?,
                    reaction_close: f.decimal("reaction_close", &row.reaction_close)?,
                    gap_move: row.gap_move,
                    close_to_close_move: row.close_to_close_move,
                    other_session_gap_move: row.other_session_gap_move,
                    timing_suspect: row.timing_suspect,
                })
            })
            .collect()
    }
}

row_struct! {
    /// One row of `historical_moves` (its ticker and computation time aside).
    struct HistoricalMoveRow {
        report_date: String,
        timing: String,
        reference_session: String,
        reaction_session: String,
        reference_close: String,
        reaction_open: String,
        reaction_high: String,
        reaction_low: String,
        reaction_close: String,
        gap_move: f64,
        close_to_close_move: f64,
        other_session_gap_move: Option<f64>,
        timing_suspect: bool,
    }
}

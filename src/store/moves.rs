//! Historical earnings moves.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{Db, StoreError, instant_text, parse_date, parse_decimal};
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
        type Row = (String, String, String, String, [String; 5], f64, f64, Option<f64>, bool);
        let rows: Vec<Row> = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT report_date, timing, reference_session, reaction_session,
                            reference_close, reaction_open, reaction_high, reaction_low, reaction_close,
                            gap_move, close_to_close_move, other_session_gap_move, timing_suspect
                     FROM historical_moves WHERE ticker = ?1 ORDER BY report_date",
                )
                .map_err(self.err("prepare moves"))?;
            stmt.query_map([ticker.as_str()], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    [r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?],
                    r.get(9)?,
                    r.get(10)?,
                    r.get(11)?,
                    r.get(12)?,
                ))
            })
            .and_then(|rows| rows.collect())
            .map_err(self.err("read moves"))?
        };
        let t = "historical_moves";
        rows.into_iter()
            .map(|(report, timing, reference, reaction, prices, gap, c2c, other_gap, suspect)| {
                Ok(HistoricalMove {
                    report_date: parse_date(self, t, "report_date", &report)?,
                    timing: Timing::from_code(&timing).ok_or_else(|| self.corrupt(t, "timing", &timing))?,
                    sessions: EventSessions {
                        reference_session: parse_date(self, t, "reference_session", &reference)?,
                        reaction_session: parse_date(self, t, "reaction_session", &reaction)?,
                    },
                    reference_close: parse_decimal(self, t, "reference_close", &prices[0])?,
                    reaction_open: parse_decimal(self, t, "reaction_open", &prices[1])?,
                    reaction_high: parse_decimal(self, t, "reaction_high", &prices[2])?,
                    reaction_low: parse_decimal(self, t, "reaction_low", &prices[3])?,
                    reaction_close: parse_decimal(self, t, "reaction_close", &prices[4])?,
                    gap_move: gap,
                    close_to_close_move: c2c,
                    other_session_gap_move: other_gap,
                    timing_suspect: suspect,
                })
            })
            .collect()
    }
}

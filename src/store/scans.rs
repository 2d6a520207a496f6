//! Scans, their candidates and the chain snapshots they used.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{OptionalExtension, params};
use rust_decimal::Decimal;

use super::rows::{Fields, row_struct, select_list};
use super::{Db, StoreError, instant_text, opt_text};
use crate::analysis::implied::{SpotSource, StraddleMethod};
use crate::analysis::structures::{Leg, Side, Structure, StructureKind};
use crate::analysis::vrp::Tier;
use crate::domain::{ChainSnapshot, OptionRight, Ticker};
use crate::report::{Candidate, ScanReport};

/// The header of a scan being stored.
#[derive(Debug, Clone)]
pub struct NewScan {
    /// The slot (the scheduled instant) the scan is for; one stored scan per slot.
    pub slot: DateTime<Utc>,
    /// The as-of instant.
    pub as_of: DateTime<Utc>,
    /// The session whose AMC reporters were scanned.
    pub session_date: NaiveDate,
    /// The next session (BMO reporters).
    pub next_session: NaiveDate,
    /// When the scan started (wall clock or simulated).
    pub started_at: DateTime<Utc>,
    /// When it finished.
    pub finished_at: DateTime<Utc>,
    /// The job run that produced it.
    pub job_run_id: Option<i64>,
    /// The requests sent to each HTTP provider while the scan ran (retries
    /// included); `None` when its data came from recorded files.
    pub requests: Option<BTreeMap<String, u64>>,
}

/// One stored option quote at a straddle's strike.
#[derive(Debug, Clone, PartialEq)]
pub struct LegQuote {
    /// The strike, USD.
    pub strike: Decimal,
    /// Call or put.
    pub right: OptionRight,
    /// Bid, USD per share.
    pub bid: Option<Decimal>,
    /// Ask, USD per share.
    pub ask: Option<Decimal>,
    /// Open interest, contracts.
    pub open_interest: Option<u64>,
    /// The day's volume, contracts.
    pub volume: Option<u64>,
}

row_struct! {
    /// A structure's leg with its structure's columns (`structures` joined
    /// with `structure_legs`).
    struct StructureLegRow {
        id: i64,
        ticker: String,
        kind: String,
        expiration: String,
        contract_size: i64,
        side: String,
        option_right: String,
        strike: String,
        entry_bid: String,
        entry_ask: String,
        entry_iv: Option<f64>,
    }
}

row_struct! {
    /// The liquidity columns of one row of `option_quotes`.
    struct OptionQuoteRow {
        strike: String,
        option_right: String,
        bid: Option<String>,
        ask: Option<String>,
        open_interest: Option<i64>,
        volume: Option<i64>,
    }
}

row_struct! {
    /// The header columns of one row of `scans`.
    struct ScanRow {
        slot: String,
        as_of: String,
        session_date: String,
        next_session: String,
        requests_by_provider: Option<String>,
    }
}

impl Db<'_> {
    /// Stores a chain snapshot with all its contracts; returns its id.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn insert_chain_snapshot(
        &mut self,
        snapshot: &ChainSnapshot,
        stored_at: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let u = snapshot.underlying.as_ref();
        self.conn
            .prepare_cached(
                "INSERT INTO chain_snapshots (ticker, as_of, source, underlying_bid, underlying_ask, underlying_last, stored_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    snapshot.ticker.as_str(),
                    instant_text(snapshot.as_of),
                    snapshot.source,
                    u.and_then(|u| opt_text(&u.bid)),
                    u.and_then(|u| opt_text(&u.ask)),
                    u.and_then(|u| opt_text(&u.last)),
                    instant_text(stored_at),
                ])
            })
            .map_err(|e| self.err(format!("store chain snapshot {}", snapshot.ticker))(e))?;
        let id = self.conn.last_insert_rowid();
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT INTO option_quotes (snapshot_id, expiration, strike, option_right, symbol, bid, ask, last,
                     volume, open_interest, iv, delta, contract_size)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )
            .map_err(self.err("prepare option_quotes"))?;
        for c in &snapshot.contracts {
            stmt.execute(params![
                id,
                c.expiration.to_string(),
                c.strike.to_string(),
                c.right.code(),
                c.symbol,
                opt_text(&c.bid),
                opt_text(&c.ask),
                opt_text(&c.last),
                c.volume.map(|v| v as i64),
                c.open_interest.map(|v| v as i64),
                c.iv,
                c.delta,
                c.contract_size,
            ])
            .map_err(|e| self.err(format!("store option quote {}", c.symbol.as_deref().unwrap_or("?")))(e))?;
        }
        Ok(id)
    }

    /// Stores a scan and its candidates, replacing any scan stored for the
    /// same slot (with its candidates and the chain snapshots they used), so
    /// re-running a slot leaves one set of candidates. Each candidate's
    /// snapshot (if any) is stored first and its id recorded. Call inside
    /// [`Db::transaction`]. Returns the scan's id and the channels whose
    /// delivery of the replaced scan's alert was still pending (now
    /// superseded: the new scan's alert must go to them).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn replace_scan(
        &mut self,
        scan: &NewScan,
        candidates: &[(Candidate, Option<&ChainSnapshot>)],
    ) -> Result<(i64, Vec<String>), StoreError> {
        let slot = instant_text(scan.slot);
        // The replaced scan's snapshots: collected first, deleted after the
        // candidates that reference them (which go with their scan).
        let replaced: Vec<i64> = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT c.chain_snapshot_id FROM candidates c JOIN scans s ON s.id = c.scan_id
                     WHERE s.slot = ?1 AND c.chain_snapshot_id IS NOT NULL",
                )
                .map_err(self.err("prepare replaced snapshots"))?;
            stmt.query_map([&slot], |r| r.get(0))
                .and_then(|rows| rows.collect())
                .map_err(self.err("find replaced snapshots"))?
        };
        let replaced_scan: Option<i64> = self
            .conn
            .query_row("SELECT id FROM scans WHERE slot = ?1", [&slot], |r| r.get(0))
            .map(Some)
            .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })
            .map_err(self.err("find the replaced scan"))?;
        let orphaned = match replaced_scan {
            Some(id) => self.supersede_scan_alerts(id, scan.finished_at)?,
            None => Vec::new(),
        };
        self.conn
            .execute("DELETE FROM scans WHERE slot = ?1", [&slot])
            .map_err(self.err("delete replaced scan"))?;
        for id in replaced {
            self.conn
                .execute("DELETE FROM chain_snapshots WHERE id = ?1", [id])
                .map_err(self.err("delete replaced snapshot"))?;
        }
        let n_ranked = candidates.iter().filter(|(c, _)| c.rank.is_some()).count();
        self.conn
            .execute(
                "INSERT INTO scans (slot, as_of, session_date, next_session, started_at, finished_at, n_candidates, n_ranked,
                     job_run_id, requests, requests_by_provider)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    slot,
                    instant_text(scan.as_of),
                    scan.session_date.to_string(),
                    scan.next_session.to_string(),
                    instant_text(scan.started_at),
                    instant_text(scan.finished_at),
                    candidates.len() as i64,
                    n_ranked as i64,
                    scan.job_run_id,
                    scan.requests.as_ref().map(|r| r.values().sum::<u64>() as i64),
                    scan.requests.as_ref().and_then(|r| serde_json::to_string(r).ok()),
                ],
            )
            .map_err(self.err("store scan"))?;
        let scan_id = self.conn.last_insert_rowid();
        for (candidate, snapshot) in candidates {
            let snapshot_id = match snapshot {
                Some(s) => Some(self.insert_chain_snapshot(s, scan.finished_at)?),
                None => None,
            };
            self.insert_candidate(scan_id, candidate, snapshot_id)?;
        }
        Ok((scan_id, orphaned))
    }

    fn insert_candidate(
        &mut self,
        scan_id: i64,
        c: &Candidate,
        snapshot_id: Option<i64>,
    ) -> Result<(), StoreError> {
        let past = serde_json::to_string(&c.past_moves).unwrap_or_else(|_| "[]".into());
        let warnings = serde_json::to_string(&c.warnings).unwrap_or_else(|_| "[]".into());
        // Plain structs with string keys: serialising cannot fail.
        let analysis = c.analysis.as_ref().and_then(|a| serde_json::to_string(a).ok());
        self.conn
            .prepare_cached(
                "INSERT INTO candidates (scan_id, rank, ticker, report_date, timing, reference_session, reaction_session,
                     expiration, spot, spot_source, straddle, straddle_method, lower_strike, lower_straddle, upper_strike,
                     upper_straddle, implied_move, historical_mean_move, historical_median_move, mad, relative_mad,
                     max_move, tail_risk_ratio, n_events, past_moves, vrp, tier, edge_score, chain_snapshot_id,
                     chain_as_of, chain_age_seconds, reason, warnings, analysis)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
                         ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    scan_id,
                    c.rank,
                    c.ticker.as_str(),
                    c.report_date.to_string(),
                    c.timing.code(),
                    opt_text(&c.reference_session),
                    opt_text(&c.reaction_session),
                    opt_text(&c.expiration),
                    opt_text(&c.spot),
                    c.spot_source.map(SpotSource::code),
                    opt_text(&c.straddle),
                    c.straddle_method.map(StraddleMethod::code),
                    opt_text(&c.lower_strike),
                    opt_text(&c.lower_straddle),
                    opt_text(&c.upper_strike),
                    opt_text(&c.upper_straddle),
                    c.implied_move,
                    c.historical_mean_move,
                    c.historical_median_move,
                    c.mad,
                    c.relative_mad,
                    c.max_move,
                    c.tail_risk_ratio,
                    c.n_events as i64,
                    past,
                    c.vrp,
                    c.tier.map(Tier::code),
                    c.edge_score,
                    snapshot_id,
                    c.chain_as_of.map(instant_text),
                    c.chain_age_seconds,
                    c.reason,
                    warnings,
                    analysis,
                ])
            })
            .map_err(|e| self.err(format!("store candidate {}", c.ticker))(e))?;
        for structure in &c.structures {
            self.insert_structure(scan_id, &c.ticker, structure)?;
        }
        Ok(())
    }

    fn insert_structure(&mut self, scan_id: i64, ticker: &Ticker, s: &Structure) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO structures (scan_id, ticker, kind, expiration, contract_size, entry_natural, entry_mid, wing_width)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    scan_id,
                    ticker.as_str(),
                    s.kind.code(),
                    s.expiration.to_string(),
                    s.contract_size,
                    s.entry_natural().to_string(),
                    s.entry_mid().to_string(),
                    opt_text(&s.wing_width()),
                ])
            })
            .map_err(|e| self.err(format!("store {} {}", ticker, s.kind.label()))(e))?;
        let id = self.conn.last_insert_rowid();
        for (i, l) in s.legs.iter().enumerate() {
            self.conn
                .prepare_cached(
                    "INSERT INTO structure_legs (structure_id, leg, side, option_right, strike, entry_bid, entry_ask, entry_iv)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .and_then(|mut stmt| {
                    stmt.execute(params![
                        id,
                        i as i64,
                        l.side.code(),
                        l.right.code(),
                        l.strike.to_string(),
                        l.entry_bid.to_string(),
                        l.entry_ask.to_string(),
                        l.entry_iv,
                    ])
                })
                .map_err(|e| self.err(format!("store a leg of {} {}", ticker, s.kind.label()))(e))?;
        }
        Ok(())
    }

    /// The structures stored with scan `scan_id`, by ticker, each with its
    /// legs in order.
    ///
    /// # Errors
    /// SQLite errors or a corrupt stored value.
    pub fn scan_structures(
        &mut self,
        scan_id: i64,
    ) -> Result<std::collections::HashMap<String, Vec<Structure>>, StoreError> {
        self.structures_of(scan_id, None)
    }

    /// [`Db::scan_structures`], only `ticker`'s when given.
    fn structures_of(
        &mut self,
        scan_id: i64,
        ticker: Option<&Ticker>,
    ) -> Result<std::collections::HashMap<String, Vec<Structure>>, StoreError> {
        let rows: Vec<StructureLegRow> = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT s.id, s.ticker, s.kind, s.expiration, s.contract_size, l.side, l.option_right, l.strike,
                            l.entry_bid, l.entry_ask, l.entry_iv
                     FROM structures s JOIN structure_legs l ON l.structure_id = s.id
                     WHERE s.scan_id = ?1 AND (?2 IS NULL OR s.ticker = ?2) ORDER BY s.ticker, s.id, l.leg",
                )
                .map_err(self.err("prepare structures"))?;
            stmt.query_map(params![scan_id, ticker.map(Ticker::as_str)], StructureLegRow::read)
                .and_then(|rows| rows.collect())
                .map_err(self.err("read structures"))?
        };
        let (structures, legs) = (Fields::new(self, "structures"), Fields::new(self, "structure_legs"));
        let mut out: std::collections::HashMap<String, Vec<Structure>> = std::collections::HashMap::new();
        let mut last_id = None;
        for row in rows {
            let leg = Leg {
                side: legs.code("side", &row.side, Side::from_code)?,
                right: legs.code("option_right", &row.option_right, OptionRight::from_code)?,
                strike: legs.decimal("strike", &row.strike)?,
                entry_bid: legs.decimal("entry_bid", &row.entry_bid)?,
                entry_ask: legs.decimal("entry_ask", &row.entry_ask)?,
                entry_iv: row.entry_iv,
            };
            let list = out.entry(row.ticker).or_default();
            if last_id != Some(row.id) {
                last_id = Some(row.id);
                list.push(Structure {
                    kind: structures.code("kind", &row.kind, StructureKind::from_code)?,
                    expiration: structures.date("expiration", &row.expiration)?,
                    contract_size: structures.count("contract_size", row.contract_size)?,
                    legs: Vec::new(),
                });
            }
            if let Some(s) = list.last_mut() {
                s.legs.push(leg);
            }
        }
        Ok(out)
    }

    /// The quotes of the straddle's legs in a stored chain snapshot: the
    /// calls and puts at `strikes` for `expiration`, by strike then right.
    ///
    /// # Errors
    /// SQLite errors or a corrupt stored value.
    pub fn straddle_legs(
        &mut self,
        snapshot_id: i64,
        expiration: NaiveDate,
        strikes: &[Decimal],
    ) -> Result<Vec<LegQuote>, StoreError> {
        let rows: Vec<OptionQuoteRow> = {
            let mut stmt = self
                .conn
                .prepare_cached(&format!(
                    "SELECT {} FROM option_quotes WHERE snapshot_id = ?1 AND expiration = ?2",
                    select_list(OptionQuoteRow::COLUMNS, "")
                ))
                .map_err(self.err("prepare straddle legs"))?;
            stmt.query_map(params![snapshot_id, expiration.to_string()], OptionQuoteRow::read)
                .and_then(|rows| rows.collect())
                .map_err(self.err("read straddle legs"))?
        };
        let f = Fields::new(self, "option_quotes");
        let mut legs = Vec::new();
        for row in rows {
            let strike = f.decimal("strike", &row.strike)?;
            if !strikes.contains(&strike) {
                continue;
            }
            legs.push(LegQuote {
                strike,
                right: f.code("option_right", &row.option_right, OptionRight::from_code)?,
                bid: f.opt_decimal("bid", row.bid)?,
                ask: f.opt_decimal("ask", row.ask)?,
                open_interest: row.open_interest.and_then(|v| u64::try_from(v).ok()),
                volume: row.volume.and_then(|v| u64::try_from(v).ok()),
            });
        }
        legs.sort_by(|a, b| a.strike.cmp(&b.strike).then_with(|| a.right.cmp(&b.right)));
        Ok(legs)
    }

    /// The most recent scan (by as-of instant), if any.
    ///
    /// # Errors
    /// SQLite errors or a corrupt stored value.
    pub fn latest_scan(&mut self) -> Result<Option<ScanReport>, StoreError> {
        let id: Option<i64> = self
            .conn
            .query_row("SELECT id FROM scans ORDER BY as_of DESC, id DESC LIMIT 1", [], |r| r.get(0))
            .map(Some)
            .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })
            .map_err(self.err("find latest scan"))?;
        id.map(|id| self.scan_report(id)).transpose()
    }

    /// The id of the scan stored for `slot` (the instant it ran as of), if
    /// any: the one a new scan of that slot replaces.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn scan_at_slot(&mut self, slot: DateTime<Utc>) -> Result<Option<i64>, StoreError> {
        self.conn
            .query_row("SELECT id FROM scans WHERE slot = ?1", [instant_text(slot)], |r| r.get(0))
            .map(Some)
            .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })
            .map_err(self.err("find the scan of a slot"))
    }

    /// A stored scan with its candidates in rank order.
    ///
    /// # Errors
    /// SQLite errors or a corrupt stored value.
    pub fn scan_report(&mut self, scan_id: i64) -> Result<ScanReport, StoreError> {
        let header = self
            .conn
            .query_row(
                &format!("SELECT {} FROM scans WHERE id = ?1", select_list(ScanRow::COLUMNS, "")),
                [scan_id],
                ScanRow::read,
            )
            .map_err(self.err(format!("read scan {scan_id}")))?;
        let mut candidates = self.candidates(scan_id, None)?;
        let mut structures = self.scan_structures(scan_id)?;
        for c in &mut candidates {
            c.structures = structures.remove(c.ticker.as_str()).unwrap_or_default();
        }
        let calibration = self.attach_records(&mut candidates)?;
        let f = Fields::new(self, "scans");
        Ok(ScanReport {
            scan_id,
            slot: f.instant("slot", &header.slot)?,
            as_of: f.instant("as_of", &header.as_of)?,
            session_date: f.date("session_date", &header.session_date)?,
            next_session: f.date("next_session", &header.next_session)?,
            candidates,
            requests: header.requests_by_provider.map(|t| f.json("requests_by_provider", &t)).transpose()?,
            calibration,
        })
    }

    /// The newest stored candidate of `ticker` with the slot of its scan, if
    /// any scan covered it.
    ///
    /// # Errors
    /// SQLite errors or a corrupt stored value.
    pub fn latest_candidate(
        &mut self,
        ticker: &Ticker,
    ) -> Result<Option<(DateTime<Utc>, Candidate)>, StoreError> {
        let found: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT s.id, s.slot FROM candidates c JOIN scans s ON s.id = c.scan_id
                 WHERE c.ticker = ?1 ORDER BY s.as_of DESC, s.id DESC LIMIT 1",
                [ticker.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(self.err("find the latest candidate"))?;
        let Some((scan_id, slot)) = found else { return Ok(None) };
        let slot = Fields::new(self, "scans").instant("slot", &slot)?;
        let mut candidates = self.candidates(scan_id, Some(ticker))?;
        let mut structures = self.structures_of(scan_id, Some(ticker))?;
        self.attach_records(&mut candidates)?;
        Ok(candidates.pop().map(|mut c| {
            c.structures = structures.remove(c.ticker.as_str()).unwrap_or_default();
            (slot, c)
        }))
    }
}

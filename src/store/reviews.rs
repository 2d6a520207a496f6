//! Post-crush reviews and the structures they value.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::params;
use rust_decimal::Decimal;

use super::rows::{Fields, row_struct, select_list};
use super::{Db, StoreError, instant_text, opt_text};
use crate::analysis::structures::{ExitBasis, Leg, PnL, Structure, StructureKind};
use crate::analysis::vrp::Tier;
use crate::domain::{ChainSnapshot, Ticker, Timing};
use crate::review::{PriceSource, Review, ReviewStatus, StructureOutcome};

/// A scanned event whose review is due: the candidate of the latest scan
/// that covered it, with the structures that scan proposed.
#[derive(Debug, Clone, PartialEq)]
pub struct DueReview {
    /// The reporting company.
    pub ticker: Ticker,
    /// The report date (ET).
    pub report_date: NaiveDate,
    /// BMO or AMC.
    pub timing: Timing,
    /// The scan.
    pub scan_id: i64,
    /// When the scan ran (UTC).
    pub scan_as_of: DateTime<Utc>,
    /// The reference session (ET).
    pub reference_session: NaiveDate,
    /// The reaction session (ET).
    pub reaction_session: NaiveDate,
    /// The event's expiration, when the scan had a chain.
    pub expiration: Option<NaiveDate>,
    /// The tier at the scan.
    pub tier: Option<Tier>,
    /// The VRP at the scan.
    pub vrp: Option<f64>,
    /// The implied move at the scan, fraction.
    pub implied_move: Option<f64>,
    /// The spot at the scan, USD.
    pub spot: Option<Decimal>,
    /// The structures the scan proposed.
    pub structures: Vec<Structure>,
    /// Whether an earlier review run found the stock not yet open.
    pub pending: bool,
}

impl Db<'_> {
    /// The events whose reaction session is within `from..=to` and that have
    /// no finished review, each from the latest scan that covered it.
    ///
    /// # Errors
    /// SQLite errors or a corrupt stored value.
    pub fn reviews_due(&mut self, from: NaiveDate, to: NaiveDate) -> Result<Vec<DueReview>, StoreError> {
        let rows: Vec<DueRow> = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT c.scan_id, s.as_of AS scan_as_of, c.ticker, c.report_date, c.timing, c.reference_session,
                            c.reaction_session, c.expiration, c.tier, c.vrp, c.implied_move, c.spot,
                            EXISTS (SELECT 1 FROM reviews r WHERE r.ticker = c.ticker AND r.report_date = c.report_date)
                                AS pending
                     FROM candidates c JOIN scans s ON s.id = c.scan_id
                     WHERE c.reaction_session BETWEEN ?1 AND ?2 AND c.timing IN ('bmo', 'amc')
                       AND c.reference_session IS NOT NULL
                       AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.ticker = c.ticker
                                       AND r.report_date = c.report_date AND r.status = 'reviewed')
                     ORDER BY c.ticker, c.report_date, s.as_of DESC, s.id DESC",
                )
                .map_err(self.err("prepare due reviews"))?;
            stmt.query_map(params![from.to_string(), to.to_string()], DueRow::read)
                .and_then(|rows| rows.collect())
                .map_err(self.err("read due reviews"))?
        };
        let mut due: Vec<DueReview> = Vec::new();
        let mut structures: HashMap<i64, HashMap<String, Vec<Structure>>> = HashMap::new();
        for row in rows {
            let f = Fields::new(self, "candidates");
            let report_date = f.date("report_date", &row.report_date)?;
            if due.last().is_some_and(|d| d.ticker.as_str() == row.ticker && d.report_date == report_date) {
                continue; // an older scan of the same event
            }
            if let std::collections::hash_map::Entry::Vacant(e) = structures.entry(row.scan_id) {
                e.insert(self.scan_structures(row.scan_id)?);
            }
            let of_ticker =
                structures.get_mut(&row.scan_id).and_then(|m| m.remove(&row.ticker)).unwrap_or_default();
            due.push(row.due(self, report_date, of_ticker)?);
        }
        Ok(due)
    }

    /// Stores one event's review, replacing an earlier one of the same
    /// event (a pending `pending` review), with its exit chain snapshot
    /// when there is one. Call inside [`Db::transaction`]. Returns the
    /// review's id.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn store_review(
        &mut self,
        review: &Review,
        exit: Option<&ChainSnapshot>,
        stored_at: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let (ticker, date) = (review.ticker.as_str(), review.report_date.to_string());
        let old_snapshot: Option<i64> = self
            .conn
            .query_row(
                "SELECT exit_snapshot_id FROM reviews WHERE ticker = ?1 AND report_date = ?2",
                params![ticker, date],
                |r| r.get(0),
            )
            .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })
            .map_err(self.err(format!("find the earlier review of {ticker}")))?;
        self.conn
            .execute("DELETE FROM reviews WHERE ticker = ?1 AND report_date = ?2", params![ticker, date])
            .map_err(self.err(format!("replace the review of {ticker}")))?;
        if let Some(id) = old_snapshot {
            self.conn
                .execute("DELETE FROM chain_snapshots WHERE id = ?1", [id])
                .map_err(self.err("delete the replaced exit snapshot"))?;
        }
        let exit_snapshot_id = exit.map(|s| self.insert_chain_snapshot(s, stored_at)).transpose()?;
        let r = review;
        let warnings = serde_json::to_string(&r.warnings).unwrap_or_else(|_| "[]".into());
        self.conn
            .execute(
                &format!(
                    "INSERT INTO reviews ({}) VALUES (NULL, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,
                     ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31)",
                    select_list(ReviewRow::COLUMNS, "")
                ),
                params![
                    ticker,
                    date,
                    r.timing.code(),
                    r.scan_id,
                    instant_text(r.scan_as_of),
                    instant_text(r.slot),
                    instant_text(r.reviewed_at),
                    r.status.code(),
                    r.reference_session.to_string(),
                    r.reaction_session.to_string(),
                    opt_text(&r.expiration),
                    r.tier.map(Tier::code),
                    r.vrp,
                    r.implied_move,
                    opt_text(&r.spot_at_scan),
                    opt_text(&r.reference_close),
                    r.reference_source.map(PriceSource::code),
                    opt_text(&r.open_price),
                    r.open_source.map(PriceSource::code),
                    opt_text(&r.open_bid),
                    opt_text(&r.open_ask),
                    r.realized_move,
                    r.move_ratio,
                    r.outside.map(i64::from),
                    r.iv_entry,
                    r.iv_exit,
                    r.iv_crush,
                    exit_snapshot_id,
                    r.exit_as_of.map(instant_text),
                    r.reason,
                    warnings,
                ],
            )
            .map_err(self.err(format!("store the review of {ticker}")))?;
        let id = self.conn.last_insert_rowid();
        for s in &r.structures {
            let legs = serde_json::to_string(&s.legs).unwrap_or_else(|_| "[]".into());
            self.conn
                .execute(
                    "INSERT INTO review_structures (review_id, kind, legs, contract_size, basis, exit_note,
                         entry_natural, entry_mid, exit_natural, exit_mid, pnl_natural, pnl_mid,
                         pnl_natural_contract, pnl_mid_contract, max_loss_natural, max_loss_mid,
                         return_on_risk_natural, return_on_risk_mid, capped_natural, capped_mid)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
                    params![
                        id,
                        s.kind.code(),
                        legs,
                        s.contract_size,
                        s.basis.code(),
                        s.exit_note,
                        s.natural.credit.to_string(),
                        s.mid.credit.to_string(),
                        s.natural.debit.to_string(),
                        s.mid.debit.to_string(),
                        s.natural.per_share.to_string(),
                        s.mid.per_share.to_string(),
                        s.natural.per_contract.to_string(),
                        s.mid.per_contract.to_string(),
                        opt_text(&s.natural.max_loss),
                        opt_text(&s.mid.max_loss),
                        s.natural.return_on_risk,
                        s.mid.return_on_risk,
                        i64::from(s.natural.capped),
                        i64::from(s.mid.capped),
                    ],
                )
                .map_err(self.err(format!("store the {} of {ticker}", s.kind.label())))?;
        }
        Ok(id)
    }

    /// The latest review slot that stored a review, if any.
    ///
    /// # Errors
    /// SQLite errors or a corrupt stored value.
    pub fn latest_review_slot(&mut self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let slot: Option<String> = self
            .conn
            .query_row("SELECT max(slot) FROM reviews", [], |r| r.get(0))
            .map_err(self.err("find the latest review slot"))?;
        Fields::new(self, "reviews").opt_instant("slot", slot)
    }

    /// Stored reviews, by ticker then reaction session: those whose reaction
    /// session is on or after `since` (all when `None`), or only those
    /// written by review slot `slot`.
    ///
    /// # Errors
    /// SQLite errors or a corrupt stored value.
    pub fn reviews(
        &mut self,
        since: Option<NaiveDate>,
        slot: Option<DateTime<Utc>>,
    ) -> Result<Vec<Review>, StoreError> {
        const WHERE: &str = "(?1 IS NULL OR reaction_session >= ?1) AND (?2 IS NULL OR slot = ?2)";
        let filter = params![since.map(|d| d.to_string()), slot.map(instant_text)];
        let rows: Vec<ReviewRow> = {
            let mut stmt = self
                .conn
                .prepare_cached(&format!(
                    "SELECT {} FROM reviews WHERE {WHERE} ORDER BY ticker, reaction_session",
                    select_list(ReviewRow::COLUMNS, "")
                ))
                .map_err(self.err("prepare reviews"))?;
            stmt.query_map(filter, ReviewRow::read)
                .and_then(|rows| rows.collect())
                .map_err(self.err("read reviews"))?
        };
        // The structures of every selected review in one query, by review id.
        let structure_rows: Vec<ReviewStructureRow> = {
            let mut stmt = self
                .conn
                .prepare_cached(&format!(
                    "SELECT {} FROM review_structures WHERE review_id IN (SELECT id FROM reviews WHERE {WHERE})",
                    select_list(ReviewStructureRow::COLUMNS, "")
                ))
                .map_err(self.err("prepare review structures"))?;
            stmt.query_map(filter, ReviewStructureRow::read)
                .and_then(|rows| rows.collect())
                .map_err(self.err("read review structures"))?
        };
        let mut structures: HashMap<i64, Vec<StructureOutcome>> = HashMap::new();
        for row in structure_rows {
            structures.entry(row.review_id).or_default().push(row.outcome(self)?);
        }
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let id = row.id;
            let mut review = row.review(self)?;
            review.structures = structures.remove(&id).unwrap_or_default();
            review.structures.sort_by_key(|s| s.kind);
            out.push(review);
        }
        Ok(out)
    }
}

row_struct! {
    /// An event due for review: its candidate with the scan's instant
    /// (`candidates` joined with `scans`), and whether a review of it is
    /// already pending.
    struct DueRow {
        scan_id: i64,
        scan_as_of: String,
        ticker: String,
        report_date: String,
        timing: String,
        reference_session: String,
        reaction_session: String,
        expiration: Option<String>,
        tier: Option<String>,
        vrp: Option<f64>,
        implied_move: Option<f64>,
        spot: Option<String>,
        pending: i64,
    }
}

impl DueRow {
    fn due(
        self,
        db: &Db<'_>,
        report_date: NaiveDate,
        structures: Vec<Structure>,
    ) -> Result<DueReview, StoreError> {
        let f = Fields::new(db, "candidates");
        Ok(DueReview {
            ticker: f.ticker("ticker", &self.ticker)?,
            report_date,
            timing: f.code("timing", &self.timing, Timing::from_code)?,
            scan_id: self.scan_id,
            scan_as_of: Fields::new(db, "scans").instant("as_of", &self.scan_as_of)?,
            reference_session: f.date("reference_session", &self.reference_session)?,
            reaction_session: f.date("reaction_session", &self.reaction_session)?,
            expiration: f.opt_date("expiration", self.expiration)?,
            tier: f.opt_code("tier", self.tier, Tier::from_code)?,
            vrp: self.vrp,
            implied_move: self.implied_move,
            spot: f.opt_decimal("spot", self.spot)?,
            structures,
            pending: self.pending != 0,
        })
    }
}

row_struct! {
    /// One row of `reviews`, as stored.
    struct ReviewRow {
        id: i64,
        ticker: String,
        report_date: String,
        timing: String,
        scan_id: Option<i64>,
        scan_as_of: String,
        slot: String,
        reviewed_at: String,
        status: String,
        reference_session: String,
        reaction_session: String,
        expiration: Option<String>,
        tier: Option<String>,
        vrp: Option<f64>,
        implied_move: Option<f64>,
        spot_at_scan: Option<String>,
        reference_close: Option<String>,
        reference_source: Option<String>,
        open_price: Option<String>,
        open_source: Option<String>,
        open_bid: Option<String>,
        open_ask: Option<String>,
        realized_move: Option<f64>,
        move_ratio: Option<f64>,
        outside: Option<i64>,
        iv_entry: Option<f64>,
        iv_exit: Option<f64>,
        iv_crush: Option<f64>,
        exit_snapshot_id: Option<i64>,
        exit_as_of: Option<String>,
        reason: Option<String>,
        warnings: String,
    }
}

impl ReviewRow {
    /// The review, without its structures (read separately).
    fn review(self, db: &Db<'_>) -> Result<Review, StoreError> {
        let f = Fields::new(db, "reviews");
        Ok(Review {
            ticker: f.ticker("ticker", &self.ticker)?,
            report_date: f.date("report_date", &self.report_date)?,
            timing: f.code("timing", &self.timing, Timing::from_code)?,
            scan_id: self.scan_id,
            scan_as_of: f.instant("scan_as_of", &self.scan_as_of)?,
            slot: f.instant("slot", &self.slot)?,
            reviewed_at: f.instant("reviewed_at", &self.reviewed_at)?,
            status: f.code("status", &self.status, ReviewStatus::from_code)?,
            reference_session: f.date("reference_session", &self.reference_session)?,
            reaction_session: f.date("reaction_session", &self.reaction_session)?,
            expiration: f.opt_date("expiration", self.expiration)?,
            tier: f.opt_code("tier", self.tier, Tier::from_code)?,
            vrp: self.vrp,
            implied_move: self.implied_move,
            spot_at_scan: f.opt_decimal("spot_at_scan", self.spot_at_scan)?,
            reference_close: f.opt_decimal("reference_close", self.reference_close)?,
            reference_source: f.opt_code(
                "reference_source",
                self.reference_source,
                PriceSource::from_code,
            )?,
            open_price: f.opt_decimal("open_price", self.open_price)?,
            open_source: f.opt_code("open_source", self.open_source, PriceSource::from_code)?,
            open_bid: f.opt_decimal("open_bid", self.open_bid)?,
            open_ask: f.opt_decimal("open_ask", self.open_ask)?,
            realized_move: self.realized_move,
            move_ratio: self.move_ratio,
            outside: self.outside.map(|v| v != 0),
            iv_entry: self.iv_entry,
            iv_exit: self.iv_exit,
            iv_crush: self.iv_crush,
            exit_snapshot_id: self.exit_snapshot_id,
            exit_as_of: f.opt_instant("exit_as_of", self.exit_as_of)?,
            reason: self.reason,
            warnings: f.json("warnings", &self.warnings)?,
            structures: Vec::new(),
        })
    }
}

row_struct! {
    /// One row of `review_structures`, as stored.
    struct ReviewStructureRow {
        review_id: i64,
        kind: String,
        legs: String,
        contract_size: i64,
        basis: String,
        exit_note: Option<String>,
        entry_natural: String,
        entry_mid: String,
        exit_natural: String,
        exit_mid: String,
        pnl_natural: String,
        pnl_mid: String,
        pnl_natural_contract: String,
        pnl_mid_contract: String,
        max_loss_natural: Option<String>,
        max_loss_mid: Option<String>,
        return_on_risk_natural: Option<f64>,
        return_on_risk_mid: Option<f64>,
        capped_natural: Option<i64>,
        capped_mid: Option<i64>,
    }
}

impl ReviewStructureRow {
    fn outcome(self, db: &Db<'_>) -> Result<StructureOutcome, StoreError> {
        let f = Fields::new(db, "review_structures");
        Ok(StructureOutcome {
            kind: f.code("kind", &self.kind, StructureKind::from_code)?,
            legs: f.json::<Vec<Leg>>("legs", &self.legs)?,
            contract_size: f.count("contract_size", self.contract_size)?,
            basis: f.code("basis", &self.basis, ExitBasis::from_code)?,
            exit_note: self.exit_note,
            natural: PnL {
                credit: f.decimal("entry_natural", &self.entry_natural)?,
                debit: f.decimal("exit_natural", &self.exit_natural)?,
                per_share: f.decimal("pnl_natural", &self.pnl_natural)?,
                per_contract: f.decimal("pnl_natural_contract", &self.pnl_natural_contract)?,
                max_loss: f.opt_decimal("max_loss_natural", self.max_loss_natural)?,
                return_on_risk: self.return_on_risk_natural,
                capped: self.capped_natural.is_some_and(|v| v != 0),
            },
            mid: PnL {
                credit: f.decimal("entry_mid", &self.entry_mid)?,
                debit: f.decimal("exit_mid", &self.exit_mid)?,
                per_share: f.decimal("pnl_mid", &self.pnl_mid)?,
                per_contract: f.decimal("pnl_mid_contract", &self.pnl_mid_contract)?,
                max_loss: f.opt_decimal("max_loss_mid", self.max_loss_mid)?,
                return_on_risk: self.return_on_risk_mid,
                capped: self.capped_mid.is_some_and(|v| v != 0),
            },
        })
    }
}

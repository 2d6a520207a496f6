//! Post-crush reviews and the structures they value.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::params;
use rusqlite::types::Value;
use rust_decimal::Decimal;

use super::{Cells, Db, StoreError, instant_text, opt_text, parse_date, parse_instant};
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

const REVIEW_COLUMNS: &str = "id, ticker, report_date, timing, scan_id, scan_as_of, slot, reviewed_at, status,
    reference_session, reaction_session, expiration, tier, vrp, implied_move, spot_at_scan, reference_close,
    reference_source, open_price, open_source, open_bid, open_ask, realized_move, move_ratio, outside, iv_entry,
    iv_exit, iv_crush, exit_snapshot_id, exit_as_of, reason, warnings";

impl Db<'_> {
    /// The events whose reaction session is within `from..=to` and that have
    /// no finished review, each from the latest scan that covered it.
    ///
    /// # Errors
    /// SQLite errors or a corrupt stored value.
    pub fn reviews_due(&mut self, from: NaiveDate, to: NaiveDate) -> Result<Vec<DueReview>, StoreError> {
        const T: &str = "candidates";
        type Row = (
            i64,
            String,
            String,
            String,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<f64>,
            Option<f64>,
            Option<String>,
            i64,
        );
        let rows: Vec<Row> = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT c.scan_id, s.as_of, c.ticker, c.report_date, c.timing, c.reference_session,
                            c.reaction_session, c.expiration, c.tier, c.vrp, c.implied_move, c.spot,
                            EXISTS (SELECT 1 FROM reviews r WHERE r.ticker = c.ticker AND r.report_date = c.report_date)
                     FROM candidates c JOIN scans s ON s.id = c.scan_id
                     WHERE c.reaction_session BETWEEN ?1 AND ?2 AND c.timing IN ('bmo', 'amc')
                       AND c.reference_session IS NOT NULL
                       AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.ticker = c.ticker
                                       AND r.report_date = c.report_date AND r.status = 'reviewed')
                     ORDER BY c.ticker, c.report_date, s.as_of DESC, s.id DESC",
                )
                .map_err(self.err("prepare due reviews"))?;
            stmt.query_map(params![from.to_string(), to.to_string()], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                    r.get(10)?,
                    r.get(11)?,
                    r.get(12)?,
                ))
            })
            .and_then(|rows| rows.collect())
            .map_err(self.err("read due reviews"))?
        };
        let mut due: Vec<DueReview> = Vec::new();
        let mut structures: HashMap<i64, HashMap<String, Vec<Structure>>> = HashMap::new();
        for (
            scan_id,
            as_of,
            ticker,
            report_date,
            timing,
            reference,
            reaction,
            expiration,
            tier,
            vrp,
            implied,
            spot,
            pending,
        ) in rows
        {
            let report_date = parse_date(self, T, "report_date", &report_date)?;
            if due.last().is_some_and(|d| d.ticker.as_str() == ticker && d.report_date == report_date) {
                continue; // an older scan of the same event
            }
            if let std::collections::hash_map::Entry::Vacant(e) = structures.entry(scan_id) {
                e.insert(self.scan_structures(scan_id)?);
            }
            let of_ticker = structures.get_mut(&scan_id).and_then(|m| m.remove(&ticker)).unwrap_or_default();
            due.push(DueReview {
                ticker: Ticker::new(&ticker).map_err(|_| self.corrupt(T, "ticker", &ticker))?,
                report_date,
                timing: Timing::from_code(&timing).ok_or_else(|| self.corrupt(T, "timing", &timing))?,
                scan_id,
                scan_as_of: parse_instant(self, "scans", "as_of", &as_of)?,
                reference_session: parse_date(self, T, "reference_session", &reference)?,
                reaction_session: parse_date(self, T, "reaction_session", &reaction)?,
                expiration: expiration.map(|e| parse_date(self, T, "expiration", &e)).transpose()?,
                tier: tier
                    .map(|t| Tier::from_code(&t).ok_or_else(|| self.corrupt(T, "tier", &t)))
                    .transpose()?,
                vrp,
                implied_move: implied,
                spot: spot.map(|s| super::parse_decimal(self, T, "spot", &s)).transpose()?,
                structures: of_ticker,
                pending: pending != 0,
            });
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
                    REVIEW_COLUMNS
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
        slot.map(|s| parse_instant(self, "reviews", "slot", &s)).transpose()
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
        let rows: Vec<Vec<Value>> = {
            let mut stmt = self
                .conn
                .prepare_cached(&format!(
                    "SELECT {REVIEW_COLUMNS} FROM reviews WHERE {WHERE} ORDER BY ticker, reaction_session"
                ))
                .map_err(self.err("prepare reviews"))?;
            stmt.query_map(filter, |r| (0..32).map(|i| r.get::<_, Value>(i)).collect())
                .and_then(|rows| rows.collect())
                .map_err(self.err("read reviews"))?
        };
        // The structures of every selected review in one query, by review id.
        let structure_rows: Vec<Vec<Value>> = {
            let mut stmt = self
                .conn
                .prepare_cached(&format!(
                    "SELECT review_id, kind, legs, contract_size, basis, exit_note, entry_natural, entry_mid,
                            exit_natural, exit_mid, pnl_natural, pnl_mid, pnl_natural_contract, pnl_mid_contract,
                            max_loss_natural, max_loss_mid, return_on_risk_natural, return_on_risk_mid,
                            capped_natural, capped_mid
                     FROM review_structures WHERE review_id IN (SELECT id FROM reviews WHERE {WHERE})"
                ))
                .map_err(self.err("prepare review structures"))?;
            stmt.query_map(filter, |r| (0..20).map(|i| r.get::<_, Value>(i)).collect())
                .and_then(|rows| rows.collect())
                .map_err(self.err("read review structures"))?
        };
        let mut structures: HashMap<i64, Vec<StructureOutcome>> = HashMap::new();
        for row in &structure_rows {
            let c = Cells::new(self, "review_structures", row);
            let id = c.int(0).ok_or_else(|| c.corrupt("review_id", ""))?;
            structures.entry(id).or_default().push(structure_outcome(&c)?);
        }
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let c = Cells::new(self, "reviews", row);
            let id = c.int(0).ok_or_else(|| c.corrupt("id", ""))?;
            let mut review = review_from_row(&c)?;
            review.structures = structures.remove(&id).unwrap_or_default();
            review.structures.sort_by_key(|s| s.kind);
            out.push(review);
        }
        Ok(out)
    }
}

fn review_from_row(c: &Cells<'_, '_, '_>) -> Result<Review, StoreError> {
    let ticker = c.need(1, "ticker")?;
    let need_date = |i, col| c.date(i, col)?.ok_or_else(|| c.corrupt(col, ""));
    let need_instant = |i, col| c.instant(i, col)?.ok_or_else(|| c.corrupt(col, ""));
    Ok(Review {
        ticker: Ticker::new(&ticker).map_err(|_| c.corrupt("ticker", &ticker))?,
        report_date: need_date(2, "report_date")?,
        timing: c.code(3, "timing", Timing::from_code)?.ok_or_else(|| c.corrupt("timing", ""))?,
        scan_id: c.int(4),
        scan_as_of: need_instant(5, "scan_as_of")?,
        slot: need_instant(6, "slot")?,
        reviewed_at: need_instant(7, "reviewed_at")?,
        status: c.code(8, "status", ReviewStatus::from_code)?.ok_or_else(|| c.corrupt("status", ""))?,
        reference_session: need_date(9, "reference_session")?,
        reaction_session: need_date(10, "reaction_session")?,
        expiration: c.date(11, "expiration")?,
        tier: c.code(12, "tier", Tier::from_code)?,
        vrp: c.real(13),
        implied_move: c.real(14),
        spot_at_scan: c.decimal(15, "spot_at_scan")?,
        reference_close: c.decimal(16, "reference_close")?,
        reference_source: c.code(17, "reference_source", PriceSource::from_code)?,
        open_price: c.decimal(18, "open_price")?,
        open_source: c.code(19, "open_source", PriceSource::from_code)?,
        open_bid: c.decimal(20, "open_bid")?,
        open_ask: c.decimal(21, "open_ask")?,
        realized_move: c.real(22),
        move_ratio: c.real(23),
        outside: c.int(24).map(|v| v != 0),
        iv_entry: c.real(25),
        iv_exit: c.real(26),
        iv_crush: c.real(27),
        exit_snapshot_id: c.int(28),
        exit_as_of: c.instant(29, "exit_as_of")?,
        reason: c.text(30),
        warnings: c.json(31, "warnings")?,
        structures: Vec::new(),
    })
}

/// A `review_structures` row (after its `review_id` in column 0).
fn structure_outcome(c: &Cells<'_, '_, '_>) -> Result<StructureOutcome, StoreError> {
    let money = |i, col| c.decimal(i, col)?.ok_or_else(|| c.corrupt(col, ""));
    let size = c.int(3).and_then(|v| u32::try_from(v).ok()).ok_or_else(|| c.corrupt("contract_size", ""))?;
    let pnl = |[credit, debit, share, contract, loss]: [(usize, &'static str); 5],
               ror,
               capped|
     -> Result<PnL, StoreError> {
        Ok(PnL {
            credit: money(credit.0, credit.1)?,
            debit: money(debit.0, debit.1)?,
            per_share: money(share.0, share.1)?,
            per_contract: money(contract.0, contract.1)?,
            max_loss: c.decimal(loss.0, loss.1)?,
            return_on_risk: c.real(ror),
            capped: c.int(capped).is_some_and(|v| v != 0),
        })
    };
    Ok(StructureOutcome {
        kind: c.code(1, "kind", StructureKind::from_code)?.ok_or_else(|| c.corrupt("kind", ""))?,
        legs: c.json::<Vec<Leg>>(2, "legs")?,
        contract_size: size,
        basis: c.code(4, "basis", ExitBasis::from_code)?.ok_or_else(|| c.corrupt("basis", ""))?,
        exit_note: c.text(5),
        natural: pnl(
            [
                (6, "entry_natural"),
                (8, "exit_natural"),
                (10, "pnl_natural"),
                (12, "pnl_natural_contract"),
                (14, "max_loss_natural"),
            ],
            16,
            18,
        )?,
        mid: pnl(
            [
                (7, "entry_mid"),
                (9, "exit_mid"),
                (11, "pnl_mid"),
                (13, "pnl_mid_contract"),
                (15, "max_loss_mid"),
            ],
            17,
            19,
        )?,
    })
}

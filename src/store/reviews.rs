//! Post-crush reviews and the structures they value.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::params;
use rusqlite::types::Value;
use rust_decimal::Decimal;

use super::{Db, StoreError, instant_text, parse_date, parse_instant};
use crate::analysis::structures::{ExitBasis, Leg, PnL, Structure, StructureKind};
use crate::analysis::vrp::Tier;
use crate::domain::{ChainSnapshot, Ticker, Timing};
use crate::review::{Review, ReviewStatus, StructureOutcome};

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

fn opt_text<T: ToString>(v: &Option<T>) -> Option<String> {
    v.as_ref().map(ToString::to_string)
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
                timing: Timing::parse_vendor(&timing).ok_or_else(|| self.corrupt(T, "timing", &timing))?,
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
                    r.reference_source,
                    opt_text(&r.open_price),
                    r.open_source,
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
        let rows: Vec<Vec<Value>> = {
            let mut stmt = self
                .conn
                .prepare_cached(&format!(
                    "SELECT {REVIEW_COLUMNS} FROM reviews
                     WHERE (?1 IS NULL OR reaction_session >= ?1) AND (?2 IS NULL OR slot = ?2)
                     ORDER BY ticker, reaction_session"
                ))
                .map_err(self.err("prepare reviews"))?;
            stmt.query_map(params![since.map(|d| d.to_string()), slot.map(instant_text)], |r| {
                (0..32).map(|i| r.get::<_, Value>(i)).collect()
            })
            .and_then(|rows| rows.collect())
            .map_err(self.err("read reviews"))?
        };
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let id = match row[0] {
                Value::Integer(id) => id,
                _ => return Err(self.corrupt("reviews", "id", "")),
            };
            let mut review = self.review_from_row(&row)?;
            review.structures = self.review_structures(id)?;
            out.push(review);
        }
        Ok(out)
    }

    fn review_from_row(&self, row: &[Value]) -> Result<Review, StoreError> {
        const T: &str = "reviews";
        let text = |i: usize| match &row[i] {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        };
        let real = |i: usize| match row[i] {
            Value::Real(x) => Some(x),
            Value::Integer(x) => Some(x as f64),
            _ => None,
        };
        let int = |i: usize| match row[i] {
            Value::Integer(x) => Some(x),
            _ => None,
        };
        let need = |i: usize, col: &'static str| text(i).ok_or_else(|| self.corrupt(T, col, ""));
        let date = |i: usize, col: &'static str| -> Result<Option<NaiveDate>, StoreError> {
            text(i).map(|s| parse_date(self, T, col, &s)).transpose()
        };
        let dec = |i: usize, col: &'static str| -> Result<Option<Decimal>, StoreError> {
            text(i).map(|s| Decimal::from_str(&s).map_err(|_| self.corrupt(T, col, &s))).transpose()
        };
        let instant = |i: usize, col: &'static str| -> Result<DateTime<Utc>, StoreError> {
            parse_instant(self, T, col, &need(i, col)?)
        };
        let ticker = need(1, "ticker")?;
        let timing = need(3, "timing")?;
        let status = need(8, "status")?;
        let warnings = need(31, "warnings")?;
        Ok(Review {
            ticker: Ticker::new(&ticker).map_err(|_| self.corrupt(T, "ticker", &ticker))?,
            report_date: parse_date(self, T, "report_date", &need(2, "report_date")?)?,
            timing: Timing::parse_vendor(&timing).ok_or_else(|| self.corrupt(T, "timing", &timing))?,
            scan_id: int(4),
            scan_as_of: instant(5, "scan_as_of")?,
            slot: instant(6, "slot")?,
            reviewed_at: instant(7, "reviewed_at")?,
            status: ReviewStatus::from_code(&status).ok_or_else(|| self.corrupt(T, "status", &status))?,
            reference_session: parse_date(self, T, "reference_session", &need(9, "reference_session")?)?,
            reaction_session: parse_date(self, T, "reaction_session", &need(10, "reaction_session")?)?,
            expiration: date(11, "expiration")?,
            tier: text(12)
                .map(|t| Tier::from_code(&t).ok_or_else(|| self.corrupt(T, "tier", &t)))
                .transpose()?,
            vrp: real(13),
            implied_move: real(14),
            spot_at_scan: dec(15, "spot_at_scan")?,
            reference_close: dec(16, "reference_close")?,
            reference_source: text(17),
            open_price: dec(18, "open_price")?,
            open_source: text(19),
            open_bid: dec(20, "open_bid")?,
            open_ask: dec(21, "open_ask")?,
            realized_move: real(22),
            move_ratio: real(23),
            outside: int(24).map(|v| v != 0),
            iv_entry: real(25),
            iv_exit: real(26),
            iv_crush: real(27),
            exit_snapshot_id: int(28),
            exit_as_of: text(29).map(|s| parse_instant(self, T, "exit_as_of", &s)).transpose()?,
            reason: text(30),
            warnings: serde_json::from_str(&warnings).map_err(|_| self.corrupt(T, "warnings", &warnings))?,
            structures: Vec::new(),
        })
    }

    fn review_structures(&mut self, review_id: i64) -> Result<Vec<StructureOutcome>, StoreError> {
        const T: &str = "review_structures";
        let rows: Vec<Vec<Value>> = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT kind, legs, contract_size, basis, exit_note, entry_natural, entry_mid, exit_natural,
                            exit_mid, pnl_natural, pnl_mid, pnl_natural_contract, pnl_mid_contract,
                            max_loss_natural, max_loss_mid, return_on_risk_natural, return_on_risk_mid,
                            capped_natural, capped_mid
                     FROM review_structures WHERE review_id = ?1",
                )
                .map_err(self.err("prepare review structures"))?;
            stmt.query_map([review_id], |r| (0..19).map(|i| r.get::<_, Value>(i)).collect())
                .and_then(|rows| rows.collect())
                .map_err(self.err("read review structures"))?
        };
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let text = |i: usize| match &row[i] {
                Value::Text(s) => Some(s.clone()),
                _ => None,
            };
            let real = |i: usize| match row[i] {
                Value::Real(x) => Some(x),
                Value::Integer(x) => Some(x as f64),
                _ => None,
            };
            let int = |i: usize| match row[i] {
                Value::Integer(x) => Some(x),
                _ => None,
            };
            let dec = |i: usize, col: &'static str| -> Result<Decimal, StoreError> {
                let s = text(i).unwrap_or_default();
                Decimal::from_str(&s).map_err(|_| self.corrupt(T, col, &s))
            };
            let opt_dec = |i: usize, col: &'static str| -> Result<Option<Decimal>, StoreError> {
                text(i).map(|s| Decimal::from_str(&s).map_err(|_| self.corrupt(T, col, &s))).transpose()
            };
            let kind = text(0).unwrap_or_default();
            let legs = text(1).unwrap_or_default();
            let basis = text(3).unwrap_or_default();
            let size = int(2)
                .and_then(|v| u32::try_from(v).ok())
                .ok_or_else(|| self.corrupt(T, "contract_size", ""))?;
            let pnl = |credit, debit, per_share, per_contract, max_loss, ror, capped: Option<i64>| PnL {
                credit,
                debit,
                per_share,
                per_contract,
                max_loss,
                return_on_risk: ror,
                capped: capped.is_some_and(|c| c != 0),
            };
            out.push(StructureOutcome {
                kind: StructureKind::from_code(&kind).ok_or_else(|| self.corrupt(T, "kind", &kind))?,
                legs: serde_json::from_str::<Vec<Leg>>(&legs).map_err(|_| self.corrupt(T, "legs", &legs))?,
                contract_size: size,
                basis: ExitBasis::from_code(&basis).ok_or_else(|| self.corrupt(T, "basis", &basis))?,
                exit_note: text(4),
                natural: pnl(
                    dec(5, "entry_natural")?,
                    dec(7, "exit_natural")?,
                    dec(9, "pnl_natural")?,
                    dec(11, "pnl_natural_contract")?,
                    opt_dec(13, "max_loss_natural")?,
                    real(15),
                    int(17),
                ),
                mid: pnl(
                    dec(6, "entry_mid")?,
                    dec(8, "exit_mid")?,
                    dec(10, "pnl_mid")?,
                    dec(12, "pnl_mid_contract")?,
                    opt_dec(14, "max_loss_mid")?,
                    real(16),
                    int(18),
                ),
            });
        }
        out.sort_by_key(|s| s.kind);
        Ok(out)
    }
}

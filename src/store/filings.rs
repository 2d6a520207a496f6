//! SEC filings of earnings releases (`sec_filings`) and the timing audit of
//! past events (`timing_audits`, read through the `timing_audit` view).

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::params;
use serde::Serialize;

use super::rows::{Fields, row_struct, select_list};
use super::{Db, StoreError, instant_text, opt_text};
use crate::analysis::filing_timing::{Cik, Filing, FilingTiming, TimingRule};
use crate::analysis::timing_audit::{Agreement, EventAudit, FilingEvidence};
use crate::domain::{Ticker, Timing};

/// One row of the `timing_audit` view (docs/schema.md).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimingAuditRow {
    /// The stock.
    pub ticker: Ticker,
    /// The calendar's report date (ET).
    pub report_date: NaiveDate,
    /// The calendar's timing.
    pub calendar_timing: Timing,
    /// The filing's timing (`unknown` without a filing).
    pub filing_timing: Timing,
    /// The gaps' timing (`unknown` without bars).
    pub gap_timing: Timing,
    /// The calendar against every known witness.
    pub verdict: Agreement,
    /// The matched filing's accession number.
    pub filing_accession: Option<String>,
    /// `None` when the filing is on the calendar's date; else its date
    /// minus the calendar's, days (the calendar's date is in doubt).
    pub filing_days_away: Option<i64>,
    /// The rule that decided the filing's timing.
    pub filing_rule: Option<TimingRule>,
    /// When EDGAR accepted the filing (UTC).
    pub filing_accepted_at: Option<DateTime<Utc>>,
    /// The gap if BMO, percent.
    pub bmo_gap_move_pct: Option<f64>,
    /// The gap if AMC, percent.
    pub amc_gap_move_pct: Option<f64>,
    /// The (date, timing) the filing settles, when it does.
    pub settled: Option<(NaiveDate, Timing)>,
    /// One line for people.
    pub detail: String,
}

impl Db<'_> {
    /// Stores `ticker`'s Item 2.02 filings with their timings (replacing the
    /// stored row of the same accession).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn upsert_sec_filings(
        &mut self,
        ticker: &Ticker,
        cik: Cik,
        filings: &[FilingEvidence],
        source: &str,
        fetched_at: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let fetched = instant_text(fetched_at);
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT OR REPLACE INTO sec_filings (accession, ticker, cik, form, items, filing_date, period,
                     accepted_at, report_date, timing, rule, source, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )
            .map_err(self.err("prepare upsert_sec_filings"))?;
        for f in filings {
            stmt.execute(params![
                f.filing.accession,
                ticker.as_str(),
                cik.to_string(),
                f.filing.form,
                f.filing.items.join(","),
                f.filing.filing_date.to_string(),
                opt_text(&f.filing.period),
                instant_text(f.filing.accepted_at),
                f.timing.report_date.to_string(),
                f.timing.timing.code(),
                f.timing.rule.code(),
                source,
                fetched,
            ])
            .map_err(self.err(format!("store SEC filing {ticker} {}", f.filing.accession)))?;
        }
        Ok(filings.len())
    }

    /// `ticker`'s stored Item 2.02 filings, oldest accepted first.
    ///
    /// # Errors
    /// SQLite errors or a corrupt stored value.
    pub fn sec_filings_for_ticker(&mut self, ticker: &Ticker) -> Result<Vec<FilingEvidence>, StoreError> {
        let rows: Vec<SecFilingRow> = {
            let mut stmt = self
                .conn
                .prepare_cached(&format!(
                    "SELECT {} FROM sec_filings WHERE ticker = ?1 ORDER BY accepted_at, accession",
                    select_list(SecFilingRow::COLUMNS, "")
                ))
                .map_err(self.err("prepare sec_filings"))?;
            stmt.query_map([ticker.as_str()], SecFilingRow::read)
                .and_then(|rows| rows.collect())
                .map_err(self.err("read sec_filings"))?
        };
        let f = Fields::new(self, "sec_filings");
        rows.into_iter()
            .map(|row| {
                let filing = Filing {
                    accession: row.accession,
                    form: row.form,
                    items: row.items.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
                    filing_date: f.date("filing_date", &row.filing_date)?,
                    period: f.opt_date("period", row.period)?,
                    accepted_at: f.instant("accepted_at", &row.accepted_at)?,
                };
                let timing = FilingTiming {
                    report_date: f.date("report_date", &row.report_date)?,
                    timing: f.code("timing", &row.timing, Timing::from_code)?,
                    rule: f.code("rule", &row.rule, TimingRule::from_code)?,
                };
                Ok(FilingEvidence { filing, timing })
            })
            .collect()
    }

    /// Replaces `ticker`'s stored audit with `audits`.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn replace_timing_audit(
        &mut self,
        ticker: &Ticker,
        audits: &[EventAudit],
        computed_at: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        self.conn
            .execute("DELETE FROM timing_audits WHERE ticker = ?1", [ticker.as_str()])
            .map_err(self.err("delete timing audit"))?;
        let at = instant_text(computed_at);
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT INTO timing_audits (ticker, report_date, calendar_timing, calendar_source,
                     filing_accession, filing_timing, filing_rule, gap_timing, bmo_gap_move, amc_gap_move,
                     calendar_vs_filing, calendar_vs_gap, filing_vs_gap, verdict, settled_date, settled_timing,
                     detail, computed_at, filing_days_away)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
            )
            .map_err(self.err("prepare timing audit"))?;
        for a in audits {
            stmt.execute(params![
                ticker.as_str(),
                a.report_date.to_string(),
                a.calendar_timing.code(),
                a.calendar_source,
                a.filing.as_ref().map(|f| f.filing.accession.clone()),
                a.filing_timing().code(),
                a.filing.as_ref().map(|f| f.timing.rule.code()),
                a.gap_timing().code(),
                a.gap.map(|g| g.bmo_gap_move),
                a.gap.map(|g| g.amc_gap_move),
                a.calendar_vs_filing.code(),
                a.calendar_vs_gap.code(),
                a.filing_vs_gap.code(),
                a.verdict.code(),
                a.settled.map(|(d, _)| d.to_string()),
                a.settled.map(|(_, t)| t.code()),
                a.detail(),
                at,
                a.filing_days_away,
            ])
            .map_err(self.err(format!("store timing audit {ticker} {}", a.report_date)))?;
        }
        Ok(audits.len())
    }

    /// The `timing_audit` view: every ticker's (or one ticker's) audited
    /// events as the calendar stores them now, by ticker then newest first.
    ///
    /// # Errors
    /// SQLite errors or a corrupt stored value.
    pub fn timing_audit(&mut self, ticker: Option<&Ticker>) -> Result<Vec<TimingAuditRow>, StoreError> {
        let rows: Vec<TimingAuditViewRow> = {
            let mut stmt = self
                .conn
                .prepare_cached(&format!(
                    "SELECT {} FROM timing_audit WHERE ?1 IS NULL OR ticker = ?1",
                    select_list(TimingAuditViewRow::COLUMNS, "")
                ))
                .map_err(self.err("prepare timing_audit"))?;
            stmt.query_map([ticker.map(Ticker::as_str)], TimingAuditViewRow::read)
                .and_then(|rows| rows.collect())
                .map_err(self.err("read timing_audit"))?
        };
        let f = Fields::new(self, "timing_audit");
        rows.into_iter()
            .map(|row| {
                let settled = match (
                    f.opt_date("settled_date", row.settled_date)?,
                    f.opt_code("settled_timing", row.settled_timing, Timing::from_code)?,
                ) {
                    (Some(d), Some(t)) => Some((d, t)),
                    _ => None,
                };
                Ok(TimingAuditRow {
                    ticker: f.ticker("ticker", &row.ticker)?,
                    report_date: f.date("report_date", &row.report_date)?,
                    calendar_timing: f.code("calendar_timing", &row.calendar_timing, Timing::from_code)?,
                    filing_timing: f.code("filing_timing", &row.filing_timing, Timing::from_code)?,
                    gap_timing: f.code("gap_timing", &row.gap_timing, Timing::from_code)?,
                    verdict: f.code("verdict", &row.verdict, Agreement::from_code)?,
                    filing_accession: row.filing_accession,
                    filing_rule: f.opt_code("filing_rule", row.filing_rule, TimingRule::from_code)?,
                    filing_accepted_at: f.opt_instant("filing_accepted_at", row.filing_accepted_at)?,
                    bmo_gap_move_pct: row.bmo_gap_move_pct,
                    amc_gap_move_pct: row.amc_gap_move_pct,
                    settled,
                    detail: row.detail,
                    filing_days_away: row.filing_days_away,
                })
            })
            .collect()
    }
}

row_struct! {
    /// One row of `sec_filings` (its ticker is asked for).
    struct SecFilingRow {
        accession: String,
        form: String,
        items: String,
        filing_date: String,
        period: Option<String>,
        accepted_at: String,
        report_date: String,
        timing: String,
        rule: String,
    }
}

row_struct! {
    /// One row of the `timing_audit` view.
    struct TimingAuditViewRow {
        ticker: String,
        report_date: String,
        calendar_timing: String,
        filing_timing: String,
        gap_timing: String,
        verdict: String,
        filing_accession: Option<String>,
        filing_rule: Option<String>,
        filing_accepted_at: Option<String>,
        bmo_gap_move_pct: Option<f64>,
        amc_gap_move_pct: Option<f64>,
        settled_date: Option<String>,
        settled_timing: Option<String>,
        detail: String,
        filing_days_away: Option<i64>,
    }
}

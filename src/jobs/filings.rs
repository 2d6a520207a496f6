//! SEC filings and the timing audit over the store: fetch each ticker's
//! Item 2.02 8-Ks and store them with the timing they imply
//! ([`fetch_filings`]), then audit every stored past event against its
//! filing and its price gaps and store the result ([`audit_timing`], read
//! back through the `timing_audit` view).
//!
//! Not yet called by the daemon's jobs or the CLI (issue 23's later
//! phase): callers compose an [`SecFilings`] (live, recorded or cached) and
//! pass it in.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::JobError;
use crate::analysis::filing_timing::filing_timing;
use crate::analysis::moves::TimingCheck;
use crate::analysis::timing_audit::{self, AuditCounts, EventAudit, FilingEvidence, HistoryChange};
use crate::calendar::NyseCalendar;
use crate::domain::Ticker;
use crate::providers::sec::SecFilings;
use crate::store::Store;

/// What [`fetch_filings`] did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FilingsCounts {
    /// Tickers asked for.
    pub tickers: usize,
    /// Item 2.02 filings stored.
    pub filings: usize,
    /// Of those, filings whose timing is known (BMO or AMC).
    pub settled: usize,
    /// Tickers that failed, with the reason.
    pub failures: Vec<(String, String)>,
}

/// Fetches and stores the Item 2.02 8-Ks of `tickers` filed on or after
/// `since`, each with its timing and rule. A provider failure for one
/// ticker is recorded in the counts and the others go on.
///
/// # Errors
/// Store failures.
pub async fn fetch_filings(
    sec: &dyn SecFilings,
    store: &Store,
    calendar: &NyseCalendar,
    tickers: &[Ticker],
    since: NaiveDate,
    as_of: DateTime<Utc>,
) -> Result<FilingsCounts, JobError> {
    let mut counts = FilingsCounts { tickers: tickers.len(), ..FilingsCounts::default() };
    for ticker in tickers {
        let issuer = match sec.earnings_filings(ticker, since).await {
            Ok(issuer) => issuer,
            Err(e) => {
                tracing::warn!(ticker = %ticker, error = %e, "SEC filings not fetched");
                counts.failures.push((ticker.to_string(), e.to_string()));
                continue;
            }
        };
        let evidence: Vec<FilingEvidence> = issuer
            .filings
            .into_iter()
            .map(|filing| FilingEvidence { timing: filing_timing(&filing, calendar), filing })
            .collect();
        counts.filings += evidence.len();
        counts.settled += evidence.iter().filter(|f| f.timing.is_known()).count();
        let (t, cik, source) = (ticker.clone(), issuer.cik, issuer.source);
        store
            .run(move |db| db.transaction(|db| db.upsert_sec_filings(&t, cik, &evidence, &source, as_of)))
            .await?;
    }
    Ok(counts)
}

/// One ticker's audit and what the filings do to its history window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TickerAudit {
    /// The stock.
    pub ticker: Ticker,
    /// Its past events, oldest first.
    pub events: Vec<EventAudit>,
    /// The window a scan after `last_session` would use, with the calendar's
    /// timings and with the filings'.
    pub history: HistoryChange,
}

/// Audits the stored past events of `tickers` (reported on or before
/// `last_session`) against their stored filings and bars, stores each
/// ticker's audit (replacing the previous one) and returns them with the
/// totals.
///
/// # Errors
/// Store failures.
pub async fn audit_timing(
    store: &Store,
    calendar: &NyseCalendar,
    check: &TimingCheck,
    window_events: usize,
    tickers: &[Ticker],
    last_session: NaiveDate,
    as_of: DateTime<Utc>,
) -> Result<(Vec<TickerAudit>, AuditCounts), JobError> {
    let mut out = Vec::with_capacity(tickers.len());
    let mut counts = AuditCounts::default();
    for ticker in tickers {
        let (t, calendar, check) = (ticker.clone(), calendar.clone(), check.clone());
        let audited = store
            .run(move |db| {
                let events = db.events_for_ticker(&t)?;
                let filings = db.sec_filings_for_ticker(&t)?;
                let bars = db.bars(&t, NaiveDate::MIN, last_session)?;
                let audits =
                    timing_audit::audit_events(&events, &filings, &bars, &calendar, &check, last_session);
                let before = last_session.succ_opt().unwrap_or(last_session);
                let history = timing_audit::history_change(
                    &events,
                    &audits,
                    &bars,
                    &calendar,
                    &check,
                    window_events,
                    before,
                );
                db.transaction(|db| db.replace_timing_audit(&t, &audits, as_of))?;
                Ok(TickerAudit { ticker: t, events: audits, history })
            })
            .await?;
        counts.add(&audited.events);
        out.push(audited);
    }
    Ok((out, counts))
}

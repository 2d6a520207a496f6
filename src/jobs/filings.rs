//! SEC filings and the timing audit over the store: fetch each ticker's
//! Item 2.02 8-Ks and store them with the timing they imply
//! ([`fetch_filings`]), then audit every stored past event against its
//! filing and its price gaps and store the result ([`audit_timing`], read
//! back through the `timing_audit` view).
//!
//! The backfill (nightly, and `ivcd backfill` by hand) calls them through
//! [`before_backfill`] and [`after_backfill`] when `[sec]` is configured
//! ([`super::Providers::sec`]); without it they are skipped with one INFO line.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::{JobContext, JobError};
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

/// What the SEC part of a backfill did (`BackfillCounts::sec`, stored with
/// the job run).
#[derive(Debug, Clone, Default, Serialize)]
pub struct SecCounts {
    /// The filings fetched before the backfill.
    pub filings: FilingsCounts,
    /// The audit after it (`None` when it could not run: the store failed,
    /// or a shutdown came first).
    pub audit: Option<AuditCounts>,
}

/// The log line when `[sec]` is not configured.
pub const SEC_NOT_CONFIGURED: &str = "SEC filings and the timing audit skipped: [sec] user_agent is not set \
     (the SEC asks for a name and a contact e-mail address, e.g. \"Jane Doe jane@example.com\"; \
     docs/timing-audit.md)";

/// The first part of the SEC work of a backfill of `tickers` as of `as_of`:
/// their Item 2.02 8-Ks filed since `backfill.lookback_days` before, stored
/// before the backfill measures the moves (which then use the filings'
/// timings, `[sec] history_uses_filing_timing`). `None` when `[sec]` is
/// not configured (logged once at INFO). Never fails: a ticker's provider
/// failure is counted in [`FilingsCounts::failures`], a store failure or a
/// shutdown is logged and leaves the counts as far as they got.
pub async fn before_backfill(
    ctx: &JobContext,
    as_of: DateTime<Utc>,
    tickers: &[Ticker],
) -> Option<SecCounts> {
    let Some(sec) = ctx.providers.sec.as_deref() else {
        tracing::info!("{SEC_NOT_CONFIGURED}");
        return None;
    };
    let since = crate::time::et_date(as_of) - chrono::Days::new(u64::from(ctx.config.backfill.lookback_days));
    let fetched = tokio::select! {
        biased;
        () = ctx.cancel.cancelled() => {
            tracing::warn!("SEC filings not fetched: shutting down");
            return Some(SecCounts::default());
        }
        fetched = fetch_filings(sec, &ctx.store, &ctx.calendar, tickers, since, as_of) => fetched,
    };
    match fetched {
        Ok(filings) => {
            tracing::info!(
                tickers = filings.tickers,
                filings = filings.filings,
                settled = filings.settled,
                failures = filings.failures.len(),
                "SEC filings fetched"
            );
            Some(SecCounts { filings, audit: None })
        }
        Err(e) => {
            tracing::warn!(error = %e, "SEC filings not stored; the backfill goes on without them");
            Some(SecCounts {
                filings: FilingsCounts {
                    tickers: tickers.len(),
                    failures: vec![("*".to_owned(), e.to_string())],
                    ..FilingsCounts::default()
                },
                audit: None,
            })
        }
    }
}

/// The second part: the timing audit of `tickers`' past events (through
/// the last completed session before `as_of`) once the backfill stored
/// their bars, into `timing_audits`. Does nothing when `sec` is `None`
/// (not configured). Never fails: a store failure is logged and leaves
/// [`SecCounts::audit`] `None`.
pub async fn after_backfill(
    ctx: &JobContext,
    as_of: DateTime<Utc>,
    tickers: &[Ticker],
    sec: Option<SecCounts>,
) -> Option<SecCounts> {
    let mut sec = sec?;
    if ctx.cancel.is_cancelled() {
        return Some(sec);
    }
    let last_session = ctx.calendar.last_completed_session(as_of);
    let check = &ctx.config.analysis.timing_check;
    let window = ctx.config.analysis.window_events;
    match audit_timing(&ctx.store, &ctx.calendar, check, window, tickers, last_session, as_of).await {
        Ok((_, counts)) => {
            let of = |a| counts.verdict.get(&a).copied().unwrap_or(0);
            tracing::info!(
                events = counts.events,
                agree = of(timing_audit::Agreement::Agree),
                disagree = of(timing_audit::Agreement::Disagree),
                unknown = of(timing_audit::Agreement::Unknown),
                "timing audit stored"
            );
            sec.audit = Some(counts);
        }
        Err(e) => tracing::warn!(error = %e, "timing audit not stored"),
    }
    Some(sec)
}

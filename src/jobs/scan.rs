//! `scan`: for every ticker that reports after the as-of session's close
//! (AMC) or before the next session's open (BMO), fetch the chain, compute the
//! implied move, compare it with the stored historical moves, rank, and
//! persist everything in one transaction.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use futures::StreamExt;

use super::{JobContext, JobError};
use crate::analysis::candidate::{self, CandidateInputs, CandidateParams, ChainInput, NoChain, SpotInput};
use crate::analysis::full;
use crate::analysis::implied;
use crate::analysis::market_view::MarketView;
use crate::analysis::moves::{self, EventSessions, HistoricalMove};
use crate::domain::{ChainSnapshot, EarningsEvent, Ticker, Timing, UnderlyingQuote};
use crate::providers::ProviderError;
use crate::report::{Candidate, ScanReport};
use crate::store::NewScan;
use crate::time::et_date;

/// The events a scan as of `session` covers: AMC reports on `session` and BMO
/// reports on `next_session`, from `events` (any dates).
pub fn scan_events(
    events: &[EarningsEvent],
    session: NaiveDate,
    next_session: NaiveDate,
) -> Vec<EarningsEvent> {
    events
        .iter()
        .filter(|e| {
            (e.timing == Timing::Amc && e.report_date == session)
                || (e.timing == Timing::Bmo && e.report_date == next_session)
        })
        .cloned()
        .collect()
}

/// Runs the scan for `slot` as of `as_of` and returns the stored report
/// (read back from the database, so it is exactly what was persisted).
///
/// Re-running a slot replaces its earlier scan. `job_run_id` links the scan
/// to its `job_runs` row when run as a recorded job.
///
/// # Errors
/// [`JobError::NotASession`] when the as-of date is not a session;
/// [`JobError::Store`] when persisting fails (nothing of the scan is kept).
/// Provider failures are per-candidate reasons, never errors of the scan.
pub async fn scan(
    ctx: &JobContext,
    slot: DateTime<Utc>,
    as_of: DateTime<Utc>,
    job_run_id: Option<i64>,
) -> Result<ScanReport, JobError> {
    let started_at = ctx.clock.now();
    let session = et_date(as_of);
    if !ctx.calendar.is_session(session) {
        return Err(JobError::NotASession { date: session, job: "scan" });
    }
    let next_session = ctx.calendar.next_session(session);
    let stored = ctx.store.run(move |db| db.events_between(session, next_session)).await?;
    let events = scan_events(&stored, session, next_session);
    tracing::info!(%session, %next_session, candidates = events.len(), "scan started");

    let tickers: Vec<Ticker> = events.iter().map(|e| e.ticker.clone()).collect();
    let total = events.len();
    let health = &ctx.providers.health;
    let sent_before = crate::providers::http::requests_by_provider(health);
    // Every ticker's stored moves and bars in one read, while the quotes are asked for.
    let stored = read_history(ctx, tickers.clone(), session);
    let (fetched, stored) = tokio::select! {
        biased;
        () = ctx.cancel.cancelled() => return Err(JobError::Interrupted { done: 0, total }),
        both = async {
            let quotes = async {
                if tickers.is_empty() { Ok(Vec::new()) } else { ctx.providers.quotes.quotes(&tickers).await }
            };
            tokio::join!(quotes, stored)
        } => both,
    };
    let quotes: HashMap<Ticker, UnderlyingQuote> = match fetched {
        Ok(quotes) => quotes.into_iter().map(|q| (q.ticker.clone(), q)).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "underlying quotes unavailable; using the chains' own quotes where they have one");
            HashMap::new()
        }
    };

    let (quotes, stored) = (&quotes, &stored);
    let mut analyses = futures::stream::iter(events)
        .map(|event| async move {
            let quote = quotes.get(&event.ticker);
            analyse_event(ctx, &event, as_of, quote, stored.get(&event.ticker)).await
        })
        .buffer_unordered(in_flight(&ctx.config));
    let mut analysed: Vec<Scanned> = Vec::with_capacity(total);
    loop {
        // A shutdown drops the tickers in flight (they have stored nothing)
        // and stores nothing of this scan: a partial ranking would mislead.
        let next = tokio::select! {
            biased;
            () = ctx.cancel.cancelled() => return Err(JobError::Interrupted { done: analysed.len(), total }),
            next = analyses.next() => next,
        };
        match next {
            Some(one) => analysed.push(one),
            None => break,
        }
    }
    drop(analyses);
    // The requests this scan sent: the providers' counters moved only by it
    // (one run of a job at a time; the daemon's slots do not overlap a scan).
    let requests = (!health.is_empty()).then(|| {
        crate::providers::http::requests_by_provider(health)
            .into_iter()
            .map(|(provider, n)| {
                let before = sent_before.get(&provider).copied().unwrap_or(0);
                (provider, n.saturating_sub(before))
            })
            .collect::<std::collections::BTreeMap<_, _>>()
    });

    crate::report::rank(&mut analysed);

    let header = NewScan {
        slot,
        as_of,
        session_date: session,
        next_session,
        started_at,
        finished_at: ctx.clock.now(),
        job_run_id,
        requests,
    };
    let alerts = &ctx.config.alerts;
    let has_setup = analysed.iter().any(|s| s.candidate.makes_the_cut(alerts.min_tier));
    let channels: Vec<String> = if ctx.queue_alerts && (has_setup || alerts.send_empty) {
        alerts.channel_names().into_iter().map(str::to_owned).collect()
    } else {
        Vec::new()
    };
    let report = ctx
        .store
        .run(move |db| {
            let rows: Vec<(Candidate, Option<&ChainSnapshot>)> =
                analysed.iter().map(|s| (s.candidate.clone(), s.snapshot.as_ref())).collect();
            // The scan and its alert's outbox rows commit together, or neither does.
            let scan_id = db.transaction(|db| {
                let (id, orphaned) = db.replace_scan(&header, &rows)?;
                // A re-run of a slot whose alert was still queued carries it
                // over to the same channels, so the slot's report is never lost.
                let mut channels = channels.clone();
                for c in orphaned {
                    if !channels.contains(&c) {
                        channels.push(c);
                    }
                }
                db.enqueue_scan_alert(id, header.slot, &channels, header.finished_at)?;
                Ok(id)
            })?;
            db.scan_report(scan_id)
        })
        .await?;
    tracing::info!(
        scan_id = report.scan_id,
        ranked = report.candidates.iter().filter(|c| c.rank.is_some()).count(),
        "scan stored"
    );
    Ok(report)
}

/// A candidate of this scan with the chain it was analysed from (stored with it).
struct Scanned {
    candidate: Candidate,
    snapshot: Option<ChainSnapshot>,
}

impl AsRef<Candidate> for Scanned {
    fn as_ref(&self) -> &Candidate {
        &self.candidate
    }
}

impl AsMut<Candidate> for Scanned {
    fn as_mut(&mut self) -> &mut Candidate {
        &mut self.candidate
    }
}

/// The dependent requests of one ticker: its expirations, its event's
/// chain, and with `analysis.term.fetch_term_expirations` the two term
/// structure chains. (A candidate whose chain prices no event premium at
/// its expiration asks up to `analysis.market_view.later_expirations` more;
/// most do not, so the sizing counts the common case.)
pub fn requests_per_ticker(config: &crate::config::Config) -> u32 {
    if config.analysis.term.fetch_term_expirations { 4 } else { 2 }
}

/// How many tickers a scan keeps in flight: `scan.concurrency`, or when 0,
/// as many as one window of the chain provider (Tradier) covers, so the
/// window's allowance is spent within one ticker's critical path
/// ([`crate::config::ScanConfig::in_flight`]; docs/performance.md).
pub fn in_flight(config: &crate::config::Config) -> usize {
    config.scan.in_flight(config.tradier.requests_per_minute, requests_per_ticker(config))
}

/// A ticker's stored historical moves and its daily bars of the 90 days
/// before the scan's session.
type Stored = (Vec<HistoricalMove>, Vec<crate::domain::DailyBar>);

/// Every ticker's [`Stored`] history, read in one store call (one blocking
/// task for the whole scan, not one a ticker). A store failure is logged and
/// leaves every ticker without history, as the analysis then says.
async fn read_history(ctx: &JobContext, tickers: Vec<Ticker>, session: NaiveDate) -> HashMap<Ticker, Stored> {
    // Bars before today's session: today's bar is not complete at the scan.
    let bars_from = session - chrono::Days::new(90);
    let bars_to = ctx.calendar.previous_session(session);
    let read = ctx
        .store
        .run(move |db| {
            let mut out = HashMap::with_capacity(tickers.len());
            for t in tickers {
                let moves = db.moves_for_ticker(&t)?;
                let bars = db.bars(&t, bars_from, bars_to)?.into_values().collect();
                out.insert(t, (moves, bars));
            }
            Ok(out)
        })
        .await;
    read.unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot read stored moves and bars");
        HashMap::new()
    })
}

/// Everything about one event: its stored moves and bars (read for the
/// whole scan by [`read_history`]) and its chain, then
/// [`candidate::candidate`] computes every figure (with a reason instead of
/// figures where an input is missing). Never fails: provider errors become
/// reasons.
///
/// When the market view finds no event premium at the event's expiration
/// (`[analysis.market_view]`), the `later_expirations` after the next one
/// are fetched and the candidate computed again, so the warning can say
/// where the chain puts the premium. Only such candidates pay those
/// requests.
async fn analyse_event(
    ctx: &JobContext,
    event: &EarningsEvent,
    as_of: DateTime<Utc>,
    quote: Option<&UnderlyingQuote>,
    stored: Option<&Stored>,
) -> Scanned {
    let ticker = &event.ticker;
    let (moves, bars): (&[HistoricalMove], &[crate::domain::DailyBar]) = match stored {
        Some((moves, bars)) => (moves, bars),
        None => (&[], &[]),
    };

    let mut fetch_warnings = Vec::new();
    let mut fetched = match moves::event_sessions(&ctx.calendar, event.report_date, event.timing) {
        Some(s) => fetch_chain(ctx, ticker, s, as_of, &mut fetch_warnings).await,
        None => Err(NoChain::UnknownSessions(event.timing)),
    };
    let config = &ctx.config;
    let judge = |fetched: &Result<FetchedChain, NoChain>, fetch_warnings: &[String]| {
        let chain = match fetched {
            Ok(f) => ChainInput::Snapshot { expiration: f.expiration, snapshot: &f.snapshot },
            Err(why) => ChainInput::Missing(why),
        };
        candidate::candidate(
            &CandidateInputs {
                ticker,
                report_date: event.report_date,
                timing: event.timing,
                as_of,
                chain,
                spot: SpotInput::ChainElseQuote(quote.and_then(UnderlyingQuote::spot)),
                moves,
                bars,
                fetch_warnings,
            },
            &ctx.calendar,
            &CandidateParams {
                analysis: &config.analysis,
                wing_steps: config.review.wing_steps,
                max_chain_age_minutes: config.scan.max_chain_age_minutes,
            },
        )
    };
    let mut analysis = judge(&fetched, &fetch_warnings);
    let no_premium = analysis
        .analysis
        .as_ref()
        .and_then(|a| a.market_view.as_ref())
        .is_some_and(MarketView::no_event_premium);
    if no_premium
        && let Ok(f) = &mut fetched
        && fetch_later(ctx, ticker, f, as_of, &mut fetch_warnings).await
    {
        analysis = judge(&fetched, &fetch_warnings);
    }
    if let Some(reason) = analysis.verdict.reason() {
        tracing::info!(ticker = %ticker, reason, "no figures");
    }
    Scanned { candidate: Candidate::new(event, analysis), snapshot: fetched.ok().map(|f| f.snapshot) }
}

/// The event's expiration, its chain (with the term structure's), and the
/// listed expirations they were chosen from.
struct FetchedChain {
    expiration: NaiveDate,
    snapshot: ChainSnapshot,
    expirations: Vec<NaiveDate>,
}

/// Adds the chains of `extra` expirations that `snapshot` lacks; the
/// snapshot's `as_of` becomes the oldest of the chains' (so its age is never
/// understated). A failure is a warning. Whether any chain was added.
async fn add_chains(
    ctx: &JobContext,
    ticker: &Ticker,
    snapshot: &mut ChainSnapshot,
    extra: Vec<NaiveDate>,
    as_of: DateTime<Utc>,
    warnings: &mut Vec<String>,
) -> bool {
    let have: std::collections::BTreeSet<NaiveDate> = snapshot.expirations().into_iter().collect();
    let mut added = false;
    for extra in extra {
        if have.contains(&extra) {
            continue; // a recorded chain may hold every expiration already
        }
        match ctx.providers.chains.chain(ticker, extra, as_of).await {
            Ok(more) => {
                snapshot.as_of = snapshot.as_of.min(more.as_of);
                snapshot.contracts.extend(more.contracts.into_iter().filter(|c| c.expiration == extra));
                added = true;
            }
            Err(e) => warnings.push(format!("term structure: no chain for {extra}: {e}")),
        }
    }
    added
}

/// The event's expiration and its chain, or why there is none.
///
/// With `analysis.term.fetch_term_expirations` the chains of the next
/// expiration and of the first at or beyond the slope's far end are fetched
/// too ([`add_chains`]): a failure there is a warning, never a reason, since
/// the implied move needs only the event's.
async fn fetch_chain(
    ctx: &JobContext,
    ticker: &Ticker,
    sessions: EventSessions,
    as_of: DateTime<Utc>,
    warnings: &mut Vec<String>,
) -> Result<FetchedChain, NoChain> {
    let chains = &ctx.providers.chains;
    let expirations = chains.expirations(ticker, as_of).await.map_err(|e| no_chain(ticker, &e))?;
    let expiration = implied::event_expiration(&expirations, sessions.reaction_session)
        .ok_or(NoChain::NoExpiration(sessions.reaction_session))?;
    let mut snapshot = chains.chain(ticker, expiration, as_of).await.map_err(|e| no_chain(ticker, &e))?;
    if snapshot.contracts.iter().all(|c| c.expiration != expiration) {
        return Err(NoChain::NoContracts(expiration));
    }
    let term = &ctx.config.analysis.term;
    if term.fetch_term_expirations {
        let extra = full::term_expirations(&expirations, expiration, et_date(as_of), term.slope_days, 0);
        add_chains(ctx, ticker, &mut snapshot, extra, as_of, warnings).await;
    }
    Ok(FetchedChain { expiration, snapshot, expirations })
}

/// The market view's later expirations (`[analysis.market_view]
/// later_expirations` after the next one) added to `fetched`; whether any
/// chain was added.
async fn fetch_later(
    ctx: &JobContext,
    ticker: &Ticker,
    fetched: &mut FetchedChain,
    as_of: DateTime<Utc>,
    warnings: &mut Vec<String>,
) -> bool {
    let config = &ctx.config.analysis;
    if !config.term.fetch_term_expirations || config.market_view.later_expirations == 0 {
        return false;
    }
    let extra = full::term_expirations(
        &fetched.expirations,
        fetched.expiration,
        et_date(as_of),
        config.term.slope_days,
        config.market_view.later_expirations,
    );
    add_chains(ctx, ticker, &mut fetched.snapshot, extra, as_of, warnings).await
}

/// Why a provider's failure leaves the event without a chain.
fn no_chain(ticker: &Ticker, e: &ProviderError) -> NoChain {
    match e {
        ProviderError::NoData { .. } => NoChain::NoData,
        other => {
            tracing::warn!(ticker = %ticker, error = %other, "chain request failed");
            NoChain::Provider(other.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_takes_amc_today_and_bmo_next_session() {
        let d = |m, day| NaiveDate::from_ymd_opt(2023, m, day).unwrap();
        let ev = |t: &str, date, timing| EarningsEvent {
            ticker: Ticker::new(t).unwrap(),
            report_date: date,
            timing,
            source: "test".into(),
        };
        let events = vec![
            ev("AAA", d(7, 18), Timing::Amc),
            ev("BBB", d(7, 18), Timing::Bmo),
            ev("CVNA", d(7, 19), Timing::Bmo),
            ev("DDD", d(7, 19), Timing::Amc),
            ev("EEE", d(7, 18), Timing::Unknown),
        ];
        let picked: Vec<_> =
            scan_events(&events, d(7, 18), d(7, 19)).into_iter().map(|e| e.ticker.to_string()).collect();
        assert_eq!(picked, ["AAA", "CVNA"]);
    }
}

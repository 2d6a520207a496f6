//! `scan`: for every ticker that reports after the as-of session's close
//! (AMC) or before the next session's open (BMO), fetch the chain, compute the
//! implied move, compare it with the stored historical moves, rank, and
//! persist everything in one transaction.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use futures::StreamExt;

use super::{JobContext, JobError, et_date};
use crate::analysis::full;
use crate::analysis::implied::{self, ImpliedMove};
use crate::analysis::liquidity::LiquidityVerdict;
use crate::analysis::moves::{self, EventSessions, HistoricalMove};
use crate::analysis::structures;
use crate::analysis::{self as core, HistoryWindow};
use crate::domain::{ChainSnapshot, EarningsEvent, Ticker, Timing, UnderlyingQuote};
use crate::providers::ProviderError;
use crate::report::{Candidate, PastMove, ScanReport};
use crate::store::NewScan;

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
/// [`JobError::NotApplicable`] when the as-of date is not a session;
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
        return Err(JobError::NotApplicable(format!("{session} is not an NYSE session; nothing to scan")));
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
    let mut analysed: Vec<(Candidate, Option<ChainSnapshot>)> = Vec::with_capacity(total);
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

    analysed.sort_by_key(|(c, _)| core::rank_key(tradeable(c), c.score(), c.edge_score, c.ticker.as_str()));
    let mut rank = 0;
    for (c, _) in &mut analysed {
        if tradeable(c) {
            rank += 1;
            c.rank = Some(rank);
        }
    }

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
    let has_setup = analysed.iter().any(|(c, _)| crate::alert::makes_the_cut(c, alerts.min_tier));
    let channels: Vec<String> = if ctx.queue_alerts && (has_setup || alerts.send_empty) {
        alerts.channel_names().into_iter().map(str::to_owned).collect()
    } else {
        Vec::new()
    };
    let report = ctx
        .store
        .run(move |db| {
            let rows: Vec<(Candidate, Option<&ChainSnapshot>)> =
                analysed.iter().map(|(c, s)| (c.clone(), s.as_ref())).collect();
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

/// The dependent requests of one ticker: its expirations, its event's
/// chain, and with `analysis.term.fetch_term_expirations` the two term
/// structure chains.
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

/// Whether a candidate gets a rank: it has figures (a tier) and its
/// straddle's liquidity is not rejected (domain.md §6).
fn tradeable(c: &Candidate) -> bool {
    c.tier.is_some() && c.liquidity() != Some(LiquidityVerdict::Reject)
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

/// Everything about one event, with a reason instead of figures where an
/// input is missing. Never fails: provider errors become reasons.
async fn analyse_event(
    ctx: &JobContext,
    event: &EarningsEvent,
    as_of: DateTime<Utc>,
    quote: Option<&UnderlyingQuote>,
    stored: Option<&Stored>,
) -> (Candidate, Option<ChainSnapshot>) {
    let ticker = &event.ticker;
    let sessions = moves::event_sessions(&ctx.calendar, event.report_date, event.timing);
    let params = &ctx.config.analysis;
    let (window, check) = (params.window_events, &params.timing_check);
    let (history, bars) = match stored {
        Some((all, bars)) => (HistoryWindow::select(all, event.report_date, window, check), bars.as_slice()),
        None => (HistoryWindow { moves: Vec::new(), stats: None, excluded: Vec::new() }, &[][..]),
    };

    let mut warnings = Vec::new();
    let fetched = match sessions {
        Some(s) => fetch_chain(ctx, ticker, s, as_of, &mut warnings).await,
        None => Err(format!("timing {} does not tell the reaction session", event.timing)),
    };
    let (expiration, snapshot, implied, spot_source) = match fetched {
        Err(reason) => (None, None, Err(reason), None),
        Ok((expiration, snapshot)) => {
            let (spot, source) = match snapshot.underlying.as_ref().and_then(UnderlyingQuote::spot) {
                Some(spot) => (Some(spot), "chain"),
                None => (quote.and_then(UnderlyingQuote::spot), "quote"),
            };
            let implied = match spot {
                None => Err("no usable spot price (no underlying quote)".to_owned()),
                // The event's expiration alone: the snapshot may hold the term structure's too.
                Some(spot) => {
                    implied::implied_move(&snapshot.expiration(expiration), spot).map_err(|e| e.to_string())
                }
            };
            (Some(expiration), Some(snapshot), implied, spot.map(|_| source.to_owned()))
        }
    };

    let chain_age_seconds = snapshot.as_ref().map(|s| (as_of - s.as_of).num_seconds());
    if let Some(age) = chain_age_seconds {
        let limit = i64::from(ctx.config.scan.max_chain_age_minutes) * 60;
        if age > limit {
            warnings.push(format!("chain is {} old at the scan", human_age(age)));
        }
    }

    let verdict = core::judge(
        implied.as_ref().map(|m| (m.implied_move, m.warnings.as_slice())).map_err(Clone::clone),
        &history,
        &ctx.config.analysis,
    );
    warnings.extend(verdict.warnings.iter().cloned());
    if let Some(reason) = &verdict.reason {
        tracing::info!(ticker = %ticker, reason, "no figures");
    }
    let implied_ok: Option<&ImpliedMove> = implied.as_ref().ok();
    let structures = match (implied_ok, &snapshot, expiration) {
        (Some(m), Some(snapshot), Some(expiration)) => {
            let proposals = structures::propose(
                &snapshot.expiration(expiration),
                m.spot,
                m.implied_move,
                ctx.config.review.wing_steps,
            );
            warnings.extend(proposals.notes);
            proposals.structures
        }
        _ => Vec::new(),
    };
    let stats = history.stats.as_ref().filter(|_| history.moves.len() >= ctx.config.analysis.min_events);
    if !history.excluded.is_empty() {
        let dates: Vec<String> = history.excluded.iter().map(ToString::to_string).collect();
        warnings.push(format!(
            "left out of the historical moves, timing suspect: {} (see ivcd moves {ticker})",
            dates.join(", ")
        ));
    }
    let analysis = match (&snapshot, expiration, implied_ok) {
        (Some(snapshot), Some(expiration), Some(m)) => Some(full::analyse(
            &full::AnalysisInputs {
                snapshot,
                expiration,
                spot: m.spot,
                implied_move: Some(m.implied_move),
                atm_strike: m.atm_strike(),
                history: &history,
                bars,
            },
            &ctx.calendar,
            params,
        )),
        _ => None,
    };
    if let Some(l) = analysis.as_ref().and_then(|a| a.liquidity.as_ref())
        && l.verdict == LiquidityVerdict::Reject
        && verdict.tier.is_some()
    {
        warnings.push(format!("not ranked: liquidity rejected ({})", l.reasons.join("; ")));
    }
    let candidate = Candidate {
        rank: None,
        ticker: ticker.clone(),
        report_date: event.report_date,
        timing: event.timing,
        reference_session: sessions.map(|s| s.reference_session),
        reaction_session: sessions.map(|s| s.reaction_session),
        expiration,
        spot: implied_ok.map(|m| m.spot),
        spot_source: implied_ok.and(spot_source),
        straddle: implied_ok.map(|m| m.straddle),
        straddle_method: implied_ok.map(|m| method_code(m.method).to_owned()),
        lower_strike: implied_ok.and_then(|m| m.lower.as_ref()).map(|s| s.strike),
        lower_straddle: implied_ok.and_then(|m| m.lower.as_ref()).map(|s| s.price()),
        upper_strike: implied_ok.and_then(|m| m.upper.as_ref()).map(|s| s.strike),
        upper_straddle: implied_ok.and_then(|m| m.upper.as_ref()).map(|s| s.price()),
        implied_move: implied_ok.map(|m| m.implied_move),
        historical_mean_move: stats.map(|s| s.mean),
        historical_median_move: stats.map(|s| s.median),
        mad: stats.map(|s| s.mad),
        relative_mad: stats.map(|s| s.relative_mad),
        max_move: stats.map(|s| s.max),
        tail_risk_ratio: stats.map(|s| s.tail_risk_ratio),
        n_events: history.moves.len(),
        past_moves: history
            .moves
            .iter()
            .map(|m| PastMove {
                report_date: m.report_date,
                reaction_session: m.sessions.reaction_session,
                gap_move: m.gap_move,
            })
            .collect(),
        vrp: verdict.vrp,
        tier: verdict.tier,
        edge_score: verdict.edge_score,
        chain_snapshot_id: None,
        chain_as_of: snapshot.as_ref().map(|s| s.as_of),
        chain_age_seconds,
        reason: verdict.reason,
        warnings,
        structures,
        analysis,
    };
    (candidate, snapshot)
}

/// The event's expiration and its chain, or the reason there is none.
///
/// With `analysis.term.fetch_term_expirations` the chains of the next
/// expiration and of the first at or beyond the slope's far end are fetched
/// too and their contracts added to the snapshot, whose `as_of` becomes the
/// oldest of the chains' (so its age is never understated). A failure there
/// is a warning, never a reason: the implied move needs only the event's.
async fn fetch_chain(
    ctx: &JobContext,
    ticker: &Ticker,
    sessions: EventSessions,
    as_of: DateTime<Utc>,
    warnings: &mut Vec<String>,
) -> Result<(NaiveDate, ChainSnapshot), String> {
    let chains = &ctx.providers.chains;
    let expirations = chains.expirations(ticker, as_of).await.map_err(|e| chain_reason(ticker, &e))?;
    let expiration = implied::event_expiration(&expirations, sessions.reaction_session).ok_or_else(|| {
        format!("no expiration on or after the reaction session {}", sessions.reaction_session)
    })?;
    let mut snapshot = chains.chain(ticker, expiration, as_of).await.map_err(|e| chain_reason(ticker, &e))?;
    if snapshot.contracts.iter().all(|c| c.expiration != expiration) {
        return Err(format!("the chain has no contracts expiring {expiration}"));
    }
    let term = &ctx.config.analysis.term;
    if term.fetch_term_expirations {
        let have: std::collections::BTreeSet<NaiveDate> = snapshot.expirations().into_iter().collect();
        for extra in full::term_expirations(&expirations, expiration, et_date(as_of), term.slope_days) {
            if have.contains(&extra) {
                continue; // a recorded chain may hold every expiration already
            }
            match chains.chain(ticker, extra, as_of).await {
                Ok(more) => {
                    snapshot.as_of = snapshot.as_of.min(more.as_of);
                    snapshot.contracts.extend(more.contracts.into_iter().filter(|c| c.expiration == extra));
                }
                Err(e) => warnings.push(format!("term structure: no chain for {extra}: {e}")),
            }
        }
    }
    Ok((expiration, snapshot))
}

fn chain_reason(ticker: &Ticker, e: &ProviderError) -> String {
    match e {
        ProviderError::NoData { .. } => "no chain".to_owned(),
        other => {
            tracing::warn!(ticker = %ticker, error = %other, "chain request failed");
            format!("no chain: {other}")
        }
    }
}

fn method_code(m: implied::StraddleMethod) -> &'static str {
    match m {
        implied::StraddleMethod::AtStrike => "at_strike",
        implied::StraddleMethod::Interpolated => "interpolated",
        implied::StraddleMethod::NearestFallback => "nearest_fallback",
    }
}

/// `7h 09m`, `3m`, `2d 4h`: an age in seconds for people.
pub fn human_age(seconds: i64) -> String {
    let m = seconds.max(0) / 60;
    let (d, h, m) = (m / 1440, (m / 60) % 24, m % 60);
    match (d, h) {
        (0, 0) => format!("{m}m"),
        (0, _) => format!("{h}h {m:02}m"),
        _ => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_naturally() {
        assert_eq!(human_age(7 * 3600 + 9 * 60), "7h 09m");
        assert_eq!(human_age(180), "3m");
        assert_eq!(human_age(2 * 86400 + 4 * 3600), "2d 4h");
    }

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

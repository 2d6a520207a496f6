//! `backtest`: for the past events of some tickers, the implied move at the
//! close before each event from an end-of-day chain (Alpha Vantage
//! `HISTORICAL_OPTIONS` for the reference session), stored in
//! `historical_implied_moves`, then judged against the gap that followed,
//! by the VRP tier the event would have had (`analysis::backtest`).
//!
//! Needs the events, bars and moves a backfill stores (`ivcd backfill`).
//! A stored implied move is reused; a stored reason is retried, because the
//! vendor may have the chain now. A failure for one event or ticker is that
//! event's reason and never stops the others.

use chrono::{DateTime, NaiveDate, Utc};

use super::{JobContext, JobError};
use crate::analysis::backtest::{BacktestEvent, summarise};
use crate::analysis::{self as core, HistoryWindow, implied, moves};
use crate::domain::{Ticker, Timing};
use crate::report::BacktestReport;
use crate::store::HistoricalImplied;
use crate::time::et_date;

/// Runs the backtest as of `as_of` over the stored past events of `tickers`.
///
/// # Errors
/// [`JobError::Store`] when the store fails; [`JobError::Interrupted`] on
/// shutdown (what was fetched so far is kept). Provider failures are
/// per-event reasons.
pub async fn backtest(
    ctx: &JobContext,
    as_of: DateTime<Utc>,
    tickers: &[Ticker],
    since: Option<NaiveDate>,
) -> Result<BacktestReport, JobError> {
    let today = et_date(as_of);
    // The last session whose open is behind us: a reaction session must have opened.
    let last_session = ctx.calendar.session_on_or_before(today);
    let params = &ctx.config.analysis;
    let mut report = BacktestReport {
        tickers: tickers.to_vec(),
        since,
        events: Vec::new(),
        tiers: Vec::new(),
        chains_requested: 0,
        reused: 0,
    };
    for (done, ticker) in tickers.iter().enumerate() {
        if ctx.cancel.is_cancelled() {
            return Err(JobError::Interrupted { done, total: tickers.len() });
        }
        let t = ticker.clone();
        let (events, all_moves, bars, stored) = ctx
            .store
            .run(move |db| {
                Ok((
                    db.events_for_ticker(&t)?,
                    db.moves_for_ticker(&t)?,
                    db.bars(&t, NaiveDate::MIN, last_session)?,
                    db.historical_implied(&t)?,
                ))
            })
            .await?;
        if events.is_empty() {
            tracing::warn!(ticker = %ticker, "no stored events; run `ivcd backfill {ticker}` first");
        }
        for event in events.iter().filter(|e| matches!(e.timing, Timing::Bmo | Timing::Amc)) {
            if since.is_some_and(|s| event.report_date < s) {
                continue;
            }
            let Some(sessions) = moves::event_sessions(&ctx.calendar, event.report_date, event.timing) else {
                continue;
            };
            if sessions.reaction_session > last_session {
                continue;
            }
            if ctx.cancel.is_cancelled() {
                return Err(JobError::Interrupted { done, total: tickers.len() });
            }
            let chain_date = sessions.reference_session;
            let reuse = stored.iter().find(|s| {
                s.report_date == event.report_date && s.timing == event.timing && s.implied_move.is_some()
            });
            let row = match reuse {
                Some(row) => {
                    report.reused += 1;
                    row.clone()
                }
                None => {
                    let mut row = HistoricalImplied {
                        ticker: ticker.clone(),
                        report_date: event.report_date,
                        timing: event.timing,
                        chain_date,
                        reaction_session: sessions.reaction_session,
                        source: String::new(),
                        expiration: None,
                        spot: None,
                        straddle: None,
                        implied_move: None,
                        reason: None,
                        fetched_at: ctx.clock.now(),
                    };
                    match bars.get(&chain_date) {
                        None => {
                            row.reason = Some(format!("no daily bar for the reference session {chain_date}"))
                        }
                        Some(bar) => {
                            row.spot = Some(bar.close);
                            report.chains_requested += 1;
                            match ctx.providers.end_of_day_chains.end_of_day_chain(ticker, chain_date).await {
                                Err(e) => {
                                    tracing::info!(ticker = %ticker, %chain_date, error = %e, "no end-of-day chain");
                                    row.reason = Some(format!("no end-of-day chain for {chain_date}: {e}"));
                                }
                                Ok(chain) => {
                                    row.source.clone_from(&chain.source);
                                    match implied::event_expiration(
                                        &chain.expirations(),
                                        sessions.reaction_session,
                                    ) {
                                        None => {
                                            row.reason = Some(format!(
                                                "the {chain_date} chain has no expiration on or after {}",
                                                sessions.reaction_session
                                            ));
                                        }
                                        Some(expiration) => {
                                            row.expiration = Some(expiration);
                                            match implied::implied_move(
                                                &chain.expiration(expiration),
                                                bar.close,
                                            ) {
                                                Ok(m) => {
                                                    row.straddle = Some(m.straddle);
                                                    row.implied_move = Some(m.implied_move);
                                                }
                                                Err(e) => row.reason = Some(e.to_string()),
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    if row.source.is_empty() {
                        row.source = "alpha_vantage:HISTORICAL_OPTIONS".to_owned();
                    }
                    let stored_row = row.clone();
                    ctx.store.run(move |db| db.store_historical_implied(&stored_row)).await?;
                    row
                }
            };
            report.events.push(judge(row, &all_moves, params));
        }
    }
    report.tiers = summarise(&report.events);
    Ok(report)
}

/// The VRP and tier the event would have had at that close, and its gap.
fn judge(
    row: HistoricalImplied,
    all_moves: &[moves::HistoricalMove],
    params: &core::AnalysisParams,
) -> BacktestEvent {
    let history =
        HistoryWindow::select(all_moves, row.report_date, params.window_events, &params.timing_check);
    let own = all_moves.iter().find(|m| m.report_date == row.report_date && m.timing == row.timing);
    let realized_gap = own.map(|m| m.gap_move);
    let implied = match (row.implied_move, &row.reason) {
        (Some(m), _) => Ok((m, &[][..])),
        (None, reason) => Err(reason.clone().unwrap_or_else(|| "no implied move".to_owned())),
    };
    let verdict = core::judge(implied, &history, params);
    let mut reason = verdict.reason.clone();
    if realized_gap.is_none() {
        let missing = "the event's own gap is not measured (missing bars?)".to_owned();
        reason = Some(reason.map_or(missing.clone(), |r| format!("{r}; {missing}")));
    }
    let stats = history.stats.as_ref().filter(|_| history.moves.len() >= params.min_events);
    BacktestEvent {
        ticker: row.ticker,
        report_date: row.report_date,
        timing: row.timing,
        chain_date: row.chain_date,
        reaction_session: row.reaction_session,
        expiration: row.expiration,
        spot: row.spot,
        straddle: row.straddle,
        implied_move: row.implied_move,
        historical_mean_move: stats.map(|s| s.mean),
        n_events: history.moves.len(),
        vrp: verdict.vrp,
        tier: verdict.tier,
        realized_gap,
        beyond_implied: row.implied_move.zip(realized_gap).map(|(m, g)| g.abs() > m),
        reason,
    }
}

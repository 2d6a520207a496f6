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
use rust_decimal::Decimal;

use super::{JobContext, JobError};
use crate::analysis::backtest::{BacktestEvent, summarise};
use crate::analysis::candidate::{
    self, CandidateAnalysis, CandidateInputs, CandidateParams, ChainInput, NoChain, SpotInput, StoredImplied,
};
use crate::analysis::{implied, moves};
use crate::domain::{ChainSnapshot, DailyBar, Ticker, Timing};
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
            let reuse = stored.iter().find_map(|s| {
                let same = s.report_date == event.report_date && s.timing == event.timing;
                s.implied_move.filter(|_| same).map(|m| (s, m))
            });
            // The chain at the close of the reference session: a stored
            // implied move, or the end-of-day chain fetched now.
            let reference_close = bars.get(&chain_date).map(|b| b.close);
            let implied = match reuse {
                Some((row, implied_move)) => Implied::Reused(row, implied_move),
                None => {
                    if reference_close.is_some() {
                        report.chains_requested += 1;
                    }
                    Implied::Fetched(end_of_day_chain(ctx, ticker, sessions, reference_close).await)
                }
            };
            let (chain, spot) = match &implied {
                Implied::Reused(row, implied_move) => (
                    ChainInput::Stored(StoredImplied {
                        implied_move: *implied_move,
                        expiration: row.expiration,
                        spot: row.spot,
                        straddle: row.straddle,
                    }),
                    None,
                ),
                Implied::Fetched(Ok(fetched)) => (
                    ChainInput::Snapshot { expiration: fetched.expiration, snapshot: &fetched.chain },
                    Some(fetched.reference_close),
                ),
                Implied::Fetched(Err((why, _))) => (ChainInput::Missing(why), None),
            };
            let closed = ctx.calendar.session(chain_date).map_or(as_of, |s| s.close.with_timezone(&Utc));
            let known_bars: Vec<DailyBar> = bars.range(..=chain_date).map(|(_, b)| b.clone()).collect();
            let judged = candidate::candidate(
                &CandidateInputs {
                    ticker,
                    report_date: event.report_date,
                    timing: event.timing,
                    as_of: closed,
                    chain,
                    // An end-of-day chain is valued at the reference close; without a
                    // chain no spot is read.
                    spot: spot.map_or(SpotInput::ChainElseQuote(None), SpotInput::ReferenceClose),
                    moves: &all_moves,
                    bars: &known_bars,
                    fetch_warnings: &[],
                },
                &ctx.calendar,
                &CandidateParams {
                    analysis: params,
                    wing_steps: ctx.config.review.wing_steps,
                    max_chain_age_minutes: ctx.config.scan.max_chain_age_minutes,
                },
            );
            let row = match reuse {
                Some((row, _)) => {
                    report.reused += 1;
                    row.clone()
                }
                None => {
                    let row = HistoricalImplied {
                        ticker: ticker.clone(),
                        report_date: event.report_date,
                        timing: event.timing,
                        chain_date,
                        reaction_session: sessions.reaction_session,
                        source: match &implied {
                            Implied::Fetched(Ok(fetched)) => Some(fetched.chain.source.clone()),
                            Implied::Fetched(Err((_, source))) => source.clone(),
                            Implied::Reused(..) => None,
                        }
                        .filter(|s| !s.is_empty())
                        .unwrap_or_else(|| "alpha_vantage:HISTORICAL_OPTIONS".to_owned()),
                        expiration: judged.expiration,
                        spot: reference_close,
                        straddle: judged.straddle_price,
                        implied_move: judged.implied_move,
                        reason: judged.no_implied.as_ref().map(ToString::to_string),
                        fetched_at: ctx.clock.now(),
                    };
                    let stored_row = row.clone();
                    ctx.store.run(move |db| db.store_historical_implied(&stored_row)).await?;
                    row
                }
            };
            report.events.push(backtest_event(row, &judged, &all_moves));
        }
    }
    report.tiers = summarise(&report.events);
    Ok(report)
}

/// Where an event's implied move comes from.
enum Implied<'r> {
    /// A stored row's implied move (reused, never fetched again).
    Reused(&'r HistoricalImplied, f64),
    /// The end-of-day chain fetched now, or why there is none (with the
    /// chain's source when one came).
    Fetched(Result<Box<EndOfDay>, (NoChain, Option<String>)>),
}

/// An end-of-day chain of the reference session with what values it.
struct EndOfDay {
    /// The event's expiration (the first on or after the reaction session).
    expiration: NaiveDate,
    /// The chain.
    chain: ChainSnapshot,
    /// The reference session's close, USD: the chain's spot.
    reference_close: Decimal,
}

/// The end-of-day chain of the event's reference session and its
/// expiration. Asked for only when the reference session's bar, whose close
/// values the chain, exists.
async fn end_of_day_chain(
    ctx: &JobContext,
    ticker: &Ticker,
    sessions: moves::EventSessions,
    reference_close: Option<Decimal>,
) -> Result<Box<EndOfDay>, (NoChain, Option<String>)> {
    let date = sessions.reference_session;
    let Some(reference_close) = reference_close else {
        return Err((NoChain::NoReferenceBar(date), None));
    };
    let chain = ctx.providers.end_of_day_chains.end_of_day_chain(ticker, date).await.map_err(|e| {
        tracing::info!(ticker = %ticker, chain_date = %date, error = %e, "no end-of-day chain");
        (NoChain::NoEndOfDayChain { date, message: e.to_string() }, None)
    })?;
    match implied::event_expiration(&chain.expirations(), sessions.reaction_session) {
        Some(expiration) => Ok(Box::new(EndOfDay { expiration, chain, reference_close })),
        None => Err((
            NoChain::NoEndOfDayExpiration { date, reaction_session: sessions.reaction_session },
            Some(chain.source),
        )),
    }
}

/// The event as the backtest reports it: the stored row, the VRP and tier
/// it would have had at that close, and the gap that followed.
fn backtest_event(
    row: HistoricalImplied,
    judged: &CandidateAnalysis,
    all_moves: &[moves::HistoricalMove],
) -> BacktestEvent {
    let own = all_moves.iter().find(|m| m.report_date == row.report_date && m.timing == row.timing);
    let realized_gap = own.map(|m| m.gap_move);
    let mut reason = judged.verdict.reason().map(str::to_owned);
    if realized_gap.is_none() {
        let missing = "the event's own gap is not measured (missing bars?)".to_owned();
        reason = Some(reason.map_or(missing.clone(), |r| format!("{r}; {missing}")));
    }
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
        historical_mean_move: judged.stats.as_ref().map(|s| s.mean),
        n_events: judged.history.moves.len(),
        vrp: judged.verdict.vrp(),
        tier: judged.verdict.tier(),
        realized_gap,
        beyond_implied: row.implied_move.zip(realized_gap).map(|(m, g)| g.abs() > m),
        reason,
    }
}

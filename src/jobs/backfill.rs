//! `backfill`: past report dates, daily bars, and the historical moves
//! computed from them, for the tickers that report soon (or those named).
//!
//! Incremental: a date range of bars already requested is never requested
//! again (`bar_fetches`), a ticker's past earnings are re-read at most once a
//! week, and only bars of completed sessions are asked for, so a replay never
//! sees the future. A ticker's moves are recomputed only when what they are
//! computed from changed (`move_inputs`): its report dates and timings, its
//! fetched bar ranges, the last completed session, the timing check, the
//! exchange's calendar overrides.

use std::collections::BTreeSet;

use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};
use futures::StreamExt;
use serde::Serialize;

use super::{JobContext, JobError};
use crate::analysis::moves::{self, HistoricalMove};
use crate::domain::{Ticker, Timing};
use crate::time::et_date;

/// How often a ticker's past earnings are re-read from the history provider.
const HISTORY_REFRESH: TimeDelta = crate::time::days(7);

/// What a backfill did, in total and per failing ticker.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BackfillCounts {
    /// Tickers processed.
    pub tickers: usize,
    /// Past events read from the history provider.
    pub history_events: usize,
    /// Bar requests sent (ranges not fetched before).
    pub bar_requests: usize,
    /// Bars stored.
    pub bars: usize,
    /// Moves measured (recomputed from stored bars).
    pub moves: usize,
    /// Tickers whose moves were not recomputed: nothing they are computed from changed.
    pub moves_unchanged: usize,
    /// Past events with a timing whose bars are missing.
    pub moves_missing_bars: usize,
    /// Tickers that failed, with the reason.
    pub failures: Vec<(String, String)>,
    /// The SEC filings and the timing audit (`None`: `[sec]` not configured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sec: Option<super::filings::SecCounts>,
}

/// Which tickers a backfill covers: the ones named, else every ticker with a
/// stored report from the as-of date through `backfill.horizon_days` ahead.
///
/// # Errors
/// Store errors.
pub async fn tickers_to_backfill(ctx: &JobContext, as_of: DateTime<Utc>) -> Result<Vec<Ticker>, JobError> {
    let from = et_date(as_of);
    let to = from + Days::new(u64::from(ctx.config.backfill.horizon_days));
    let events = ctx.store.run(move |db| db.events_between(from, to)).await?;
    let set: BTreeSet<Ticker> = events.into_iter().map(|e| e.ticker).collect();
    Ok(set.into_iter().collect())
}

/// Backfills `tickers` as of `as_of`. `progress` is told after each ticker,
/// with the count done and the total.
///
/// # Errors
/// Only store failures that hit every ticker are raised; a provider failure
/// is recorded for its ticker in [`BackfillCounts::failures`].
pub async fn backfill(
    ctx: &JobContext,
    as_of: DateTime<Utc>,
    tickers: &[Ticker],
    progress: &(dyn Fn(&Ticker, usize, usize) + Sync),
) -> Result<BackfillCounts, JobError> {
    let mut counts = BackfillCounts { tickers: tickers.len(), ..BackfillCounts::default() };
    // A ticker's bars and past reports: about two requests.
    let concurrency = ctx.config.scan.in_flight(ctx.config.tradier.requests_per_minute, 2);
    let mut results = futures::stream::iter(tickers.iter().cloned())
        .map(|ticker| async move {
            let result = backfill_ticker(ctx, as_of, &ticker).await;
            (ticker, result)
        })
        .buffer_unordered(concurrency);
    let mut done = 0;
    loop {
        // A shutdown drops the tickers in flight; every write already made
        // was its own transaction, so what they stored is whole.
        let next = tokio::select! {
            biased;
            () = ctx.cancel.cancelled() => {
                return Err(JobError::Interrupted { done, total: tickers.len() });
            }
            next = results.next() => next,
        };
        let Some((ticker, result)) = next else { break };
        done += 1;
        progress(&ticker, done, tickers.len());
        match result {
            Ok(c) => {
                counts.history_events += c.history_events;
                counts.bar_requests += c.bar_requests;
                counts.bars += c.bars;
                counts.moves += c.moves;
                counts.moves_unchanged += c.moves_unchanged;
                counts.moves_missing_bars += c.moves_missing_bars;
            }
            Err(e) => {
                tracing::debug!(ticker = %ticker, error = %e, "backfill failed for ticker");
                counts.failures.push((ticker.to_string(), e.to_string()));
            }
        }
    }
    counts.failures.sort();
    tracing::info!(
        tickers = counts.tickers,
        bars = counts.bars,
        moves = counts.moves,
        failures = counts.failures.len(),
        "backfill finished"
    );
    for (error, tickers) in same_error(&counts.failures) {
        tracing::warn!(failed = tickers.len(), tickers = %tickers.join(", "), %error, "backfill failed for tickers");
    }
    Ok(counts)
}

/// `text` with every occurrence of `word` that stands as a word (no letter,
/// digit, `.` or `-` on either side: `K` in `of K (none`, not in `OK`)
/// replaced by `by`.
fn as_word_replaced(text: &str, word: &str, by: &str) -> String {
    if word.is_empty() {
        return text.to_owned();
    }
    let part_of_word = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-';
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    for (at, _) in text.match_indices(word) {
        let end = at + word.len();
        let before = text.get(..at).and_then(|t| t.chars().next_back());
        let after = text.get(end..).and_then(|t| t.chars().next());
        if at >= rest && !before.is_some_and(part_of_word) && !after.is_some_and(part_of_word) {
            out.push_str(text.get(rest..at).unwrap_or_default());
            out.push_str(by);
            rest = end;
        }
    }
    out.push_str(text.get(rest..).unwrap_or_default());
    out
}

/// `failures` (ticker, error) grouped by the error with its ticker written
/// `TICKER`, so that one cause on many tickers is one log line: in the order
/// of each group's first ticker.
fn same_error(failures: &[(String, String)]) -> Vec<(String, Vec<&str>)> {
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for (ticker, error) in failures {
        let general = as_word_replaced(error, ticker, "TICKER");
        match groups.iter_mut().find(|(e, _)| *e == general) {
            Some((_, tickers)) => tickers.push(ticker),
            None => groups.push((general, vec![ticker])),
        }
    }
    groups
}

async fn backfill_ticker(
    ctx: &JobContext,
    as_of: DateTime<Utc>,
    ticker: &Ticker,
) -> Result<BackfillCounts, JobError> {
    let mut counts = BackfillCounts::default();
    let today = et_date(as_of);

    // 1. Past report dates, at most once a week per source.
    if let Some(history) = &ctx.providers.history {
        let source = ctx.providers.history_source.clone();
        let t = ticker.clone();
        let s = source.clone();
        let last = ctx.store.run(move |db| db.history_fetched_at(&t, &s)).await?;
        if last.is_none_or(|at| as_of - at >= HISTORY_REFRESH || at > as_of) {
            let events: Vec<_> =
                history.past_earnings(ticker).await?.into_iter().filter(|e| e.report_date <= today).collect();
            counts.history_events = events.len();
            let t = ticker.clone();
            ctx.store
                .run(move |db| {
                    db.transaction(|db| {
                        db.upsert_events(&events, as_of)?;
                        db.record_history_fetch(&t, &source, events.len(), as_of)
                    })
                })
                .await?;
        }
    }

    // 2. Bars of completed sessions within the lookback, minus ranges fetched before.
    let last_session = ctx.calendar.last_completed_session(as_of);
    let first = today - Days::new(u64::from(ctx.config.backfill.lookback_days));
    let t = ticker.clone();
    let fetched = ctx.store.run(move |db| db.bar_fetches(&t)).await?;
    for (from, to) in missing_ranges(first, last_session, &fetched) {
        let bars = ctx.providers.bars.daily_bars(ticker, from, to).await?;
        counts.bar_requests += 1;
        counts.bars += bars.len();
        let (t, source) = (ticker.clone(), ctx.providers.bars_source.clone());
        ctx.store
            .run(move |db| {
                db.transaction(|db| {
                    db.upsert_bars(&t, &bars, &source, as_of)?;
                    db.record_bar_fetch(&t, &source, from, to, bars.len(), as_of)
                })
            })
            .await?;
    }

    // 3. Moves of every stored past event whose reaction session has
    // completed, unless nothing they are computed from changed.
    let t = ticker.clone();
    let calendar = ctx.calendar.clone();
    let check = ctx.config.analysis.timing_check.clone();
    let filing_timing = ctx.config.sec.history_uses_filing_timing;
    let recomputed = ctx
        .store
        .run(move |db| {
            let mut events = db.events_for_ticker(&t)?;
            if filing_timing {
                // Where the ticker's SEC filing settles an event's timing, the
                // move is measured with it (issue 23; docs/timing-audit.md).
                let filings = db.sec_filings_for_ticker(&t)?;
                events = crate::analysis::timing_audit::settled_events(&events, &filings, &calendar);
            }
            let fetches = db.bar_fetches(&t)?;
            let inputs = move_inputs(&events, &fetches, last_session, &check, &calendar);
            if db.move_inputs(&t)?.as_deref() == Some(inputs.as_str()) {
                return Ok(None);
            }
            let bars = db.bars(&t, NaiveDate::MIN, last_session)?;
            let mut measured: Vec<HistoricalMove> = Vec::new();
            let mut missing = 0;
            for e in events.iter().filter(|e| matches!(e.timing, Timing::Bmo | Timing::Amc)) {
                let Some(sessions) = moves::event_sessions(&calendar, e.report_date, e.timing) else {
                    continue;
                };
                if sessions.reaction_session > last_session {
                    continue;
                }
                match moves::measure_move(&calendar, e.report_date, e.timing, &bars, &check) {
                    Ok(m) => measured.push(m),
                    Err(gap) => {
                        tracing::debug!(ticker = %t, report_date = %e.report_date, reason = %gap, "no move");
                        missing += 1;
                    }
                }
            }
            db.transaction(|db| {
                db.prune_orphan_moves(&t)?;
                db.upsert_moves(&t, &measured, as_of)?;
                db.record_move_inputs(&t, &inputs, as_of)
            })?;
            Ok(Some((measured.len(), missing)))
        })
        .await?;
    match recomputed {
        Some((measured, missing)) => {
            counts.moves = measured;
            counts.moves_missing_bars = missing;
        }
        None => counts.moves_unchanged = 1,
    }
    Ok(counts)
}

/// What a ticker's moves are computed from, as text compared with the
/// stored `move_inputs`: its events (date and timing), the bar ranges
/// fetched (stored bars change only through a new fetch), the last
/// completed session, the timing check and the calendar's overrides.
fn move_inputs(
    events: &[crate::domain::EarningsEvent],
    fetches: &[(NaiveDate, NaiveDate)],
    last_session: NaiveDate,
    check: &moves::TimingCheck,
    calendar: &crate::calendar::NyseCalendar,
) -> String {
    let events: Vec<String> = events.iter().map(|e| format!("{} {}", e.report_date, e.timing)).collect();
    let fetches: Vec<String> = fetches.iter().map(|(a, b)| format!("{a}..{b}")).collect();
    format!(
        "v1; events: {}; bars fetched: {}; last session: {last_session}; timing check: {}; overrides: {:?}",
        events.join(", "),
        fetches.join(", "),
        serde_json::to_string(check).unwrap_or_default(),
        calendar.overrides(),
    )
}

/// The parts of `first..=last` not covered by any of `fetched` (inclusive
/// ranges), as inclusive ranges in ascending order.
pub fn missing_ranges(
    first: NaiveDate,
    last: NaiveDate,
    fetched: &[(NaiveDate, NaiveDate)],
) -> Vec<(NaiveDate, NaiveDate)> {
    let mut covered: Vec<(NaiveDate, NaiveDate)> = fetched.to_vec();
    covered.sort();
    let mut out = Vec::new();
    let mut cursor = first;
    for (a, b) in covered {
        if cursor > last {
            break;
        }
        if b < cursor {
            continue;
        }
        if a > cursor {
            out.push((cursor, (a - Days::new(1)).min(last)));
        }
        cursor = cursor.max(b + Days::new(1));
    }
    if cursor <= last {
        out.push((cursor, last));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_cause_on_many_tickers_is_one_group() {
        let failures: Vec<(String, String)> = [
            ("K", "files: no data for daily bars of K (none recorded)"),
            ("OK", "files: no data for daily bars of OK (none recorded)"),
            ("BRK.B", "HTTP 401 for BRK.B: check the token"),
        ]
        .iter()
        .map(|(t, e)| ((*t).to_owned(), (*e).to_owned()))
        .collect();
        let groups = super::same_error(&failures);
        assert_eq!(
            groups,
            [
                ("files: no data for daily bars of TICKER (none recorded)".to_owned(), vec!["K", "OK"]),
                ("HTTP 401 for TICKER: check the token".to_owned(), vec!["BRK.B"]),
            ]
        );
        assert_eq!(super::as_word_replaced("OK, K: K (K-1)", "K", "T"), "OK, T: T (K-1)");
    }

    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2023, m, day).unwrap()
    }

    #[test]
    fn missing_ranges_skip_what_was_fetched() {
        assert_eq!(missing_ranges(d(1, 1), d(1, 31), &[]), vec![(d(1, 1), d(1, 31))]);
        assert_eq!(missing_ranges(d(1, 1), d(1, 31), &[(d(1, 1), d(1, 31))]), vec![]);
        assert_eq!(missing_ranges(d(1, 1), d(2, 10), &[(d(1, 1), d(1, 31))]), vec![(d(2, 1), d(2, 10))]);
        assert_eq!(
            missing_ranges(d(1, 1), d(1, 31), &[(d(1, 10), d(1, 12)), (d(1, 11), d(1, 20))]),
            vec![(d(1, 1), d(1, 9)), (d(1, 21), d(1, 31))]
        );
        assert_eq!(missing_ranges(d(1, 5), d(1, 6), &[(d(1, 7), d(1, 9))]), vec![(d(1, 5), d(1, 6))]);
    }
}

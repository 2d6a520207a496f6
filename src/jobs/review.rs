//! `review`: the post-crush review at the open of each event's reaction
//! session (`../shared/docs/domain.md` §7).
//!
//! For every scanned event whose reaction session is today (and any still
//! waiting from earlier sessions): the opening price against the reference
//! close (the realized gap move, set against the implied move), the IV crush
//! at the straddle's strike, and each proposed structure's exit value and
//! P&L at natural prices and at mids. Exit quotes count only when they were
//! taken during the reaction session; otherwise the structures are valued at
//! intrinsic value from the open and labelled (a bound for short options
//! only). A stock without an opening price yet is stored `pending` and
//! retried at the next review slot. Everything is stored in one transaction
//! with the review alert.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use futures::StreamExt;

use super::{JobContext, JobError};
use crate::analysis::valuation::{self, ExitInput, NoExitChain, ScannedEvent, ValuationInputs};
use crate::calendar::Session;
use crate::domain::{ChainSnapshot, DailyBar, Ticker, UnderlyingQuote};
use crate::review::{Review, ReviewRun, ReviewStatus};
use crate::store::DueReview;
use crate::time::et_date;

/// Reviews the events due at `as_of` for review slot `slot` and returns the
/// reviews this run wrote, read back from the database.
///
/// # Errors
/// [`JobError::BeforeOpen`] before the open of a session,
/// [`JobError::NotASession`] on a day without one; [`JobError::Store`]
/// when storing fails (nothing of the run
/// is kept). Provider failures are per-event reasons, never errors of the run.
pub async fn review(
    ctx: &JobContext,
    slot: DateTime<Utc>,
    as_of: DateTime<Utc>,
) -> Result<ReviewRun, JobError> {
    let today = et_date(as_of);
    let Some(session) = ctx.calendar.session(today) else {
        return Err(JobError::NotASession { date: today, job: "review" });
    };
    if as_of < session.open.with_timezone(&Utc) {
        return Err(JobError::BeforeOpen { date: today, opens: session.open.format("%H:%M %Z").to_string() });
    }
    let oldest = today - crate::time::days(u64::from(ctx.config.review.pending_days));
    let due = ctx.store.run(move |db| db.reviews_due(oldest, today)).await?;
    tracing::info!(%today, due = due.len(), "review started");
    if due.is_empty() {
        return Ok(ReviewRun { slot, reviews: Vec::new() });
    }

    let today_tickers: Vec<Ticker> =
        due.iter().filter(|d| d.reaction_session == today).map(|d| d.ticker.clone()).collect();
    let quotes: HashMap<Ticker, UnderlyingQuote> = if today_tickers.is_empty() {
        HashMap::new()
    } else {
        match ctx.providers.quotes.quotes(&today_tickers).await {
            Ok(q) => q.into_iter().map(|q| (q.ticker.clone(), q)).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "underlying quotes unavailable; opening prices from daily bars");
                HashMap::new()
            }
        }
    };
    let (quotes, session) = (&quotes, &session);
    let total = due.len();
    let mut runs = futures::stream::iter(due)
        .map(|d| async move {
            let quote = quotes.get(&d.ticker).filter(|_| d.reaction_session == today);
            let (review, exit) = review_event(ctx, &d, quote, session, slot, as_of).await;
            // Worth an alert: a finished review, or an event found waiting for the first time.
            let news = review.status == ReviewStatus::Reviewed || !d.pending;
            (review, exit, news)
        })
        // An event's exit chain and opening bars: about two requests.
        .buffer_unordered(ctx.config.scan.in_flight(ctx.config.tradier.requests_per_minute, 2));
    let mut done: Vec<(Review, Option<ChainSnapshot>, bool)> = Vec::with_capacity(total);
    loop {
        let next = tokio::select! {
            biased;
            () = ctx.cancel.cancelled() => return Err(JobError::Interrupted { done: done.len(), total }),
            next = runs.next() => next,
        };
        match next {
            Some(one) => done.push(one),
            None => break,
        }
    }
    drop(runs);

    // A retry that finds the same events still waiting sends nothing new.
    let news = done.iter().any(|(_, _, news)| *news);
    let channels: Vec<String> = if ctx.queue_alerts && ctx.config.review.alert && news {
        ctx.config.alerts.channel_names().into_iter().map(str::to_owned).collect()
    } else {
        Vec::new()
    };
    let now = ctx.clock.now();
    let reviews = ctx
        .store
        .run(move |db| {
            db.transaction(|db| {
                for (review, exit, _) in &done {
                    db.store_review(review, exit.as_ref(), now)?;
                }
                db.enqueue_review_alert(slot, &channels, now)?;
                Ok(())
            })?;
            db.reviews(None, Some(slot))
        })
        .await?;
    let waiting: Vec<&str> =
        reviews.iter().filter(|r| r.status == ReviewStatus::Pending).map(|r| r.ticker.as_str()).collect();
    tracing::info!(
        reviewed = reviews.iter().filter(|r| r.status == ReviewStatus::Reviewed).count(),
        pending = waiting.len(),
        "review stored"
    );
    // One line for every event still waiting, not one per event: each
    // review's own reason is stored (`ivcd report`, the reviews table).
    if !waiting.is_empty() {
        tracing::warn!(
            waiting = waiting.len(),
            tickers = %waiting.join(", "),
            "reviews still waiting for an opening price (each one's reason is in the reviews table)"
        );
    }
    Ok(ReviewRun { slot, reviews })
}

/// One event's review: fetches the bars and, when the event has structures
/// and an opening price, the exit chain; [`valuation::value`] computes the
/// figures. Never fails: a missing input is a reason.
async fn review_event(
    ctx: &JobContext,
    due: &DueReview,
    quote: Option<&UnderlyingQuote>,
    today: &Session,
    slot: DateTime<Utc>,
    as_of: DateTime<Utc>,
) -> (Review, Option<ChainSnapshot>) {
    let ticker = &due.ticker;
    let event = ScannedEvent {
        reference_session: due.reference_session,
        reaction_session: due.reaction_session,
        expiration: due.expiration,
        implied_move: due.implied_move,
        structures: &due.structures,
    };
    let mut bar_warnings = Vec::new();
    let bars = bars_around(ctx, due, &mut bar_warnings).await;
    // The exit chain, when the structures can be valued from quotes of today's open.
    let wanted = valuation::opening(&event, today, quote, &bars)
        .map(|_| valuation::exit_expiration(&event, today))
        .unwrap_or(Ok(None));
    let fetched = match wanted {
        Ok(Some(expiration)) => Some(exit_chain(ctx, ticker, expiration, as_of).await),
        Ok(None) => None,
        Err(why) => Some(Err(why)),
    };
    let exit = match &fetched {
        None => ExitInput::NotNeeded,
        Some(Ok(snapshot)) => ExitInput::Fetched(snapshot),
        Some(Err(why)) => ExitInput::Missing(why),
    };
    let v = valuation::value(&ValuationInputs {
        event,
        today,
        quote,
        bars: &bars,
        bar_warnings: &bar_warnings,
        exit,
    });
    if v.opening.is_none() {
        // One WARN line for all of them at the end of the run; the reason is stored.
        tracing::debug!(ticker = %ticker, reaction_session = %due.reaction_session, reason = v.reason.as_deref().unwrap_or(""), "no opening price yet");
    }
    // The exit chain is stored with the review only when its quotes were used.
    let exit = fetched.and_then(Result::ok).filter(|_| v.exit_as_of.is_some());
    let review = Review {
        ticker: ticker.clone(),
        report_date: due.report_date,
        timing: due.timing,
        scan_id: Some(due.scan_id),
        scan_as_of: due.scan_as_of,
        slot,
        reviewed_at: as_of,
        status: if v.opening.is_some() { ReviewStatus::Reviewed } else { ReviewStatus::Pending },
        reference_session: due.reference_session,
        reaction_session: due.reaction_session,
        expiration: due.expiration,
        tier: due.tier,
        vrp: due.vrp,
        implied_move: due.implied_move,
        spot_at_scan: due.spot,
        reference_close: v.reference.map(|r| r.0),
        reference_source: v.reference.map(|r| r.1),
        open_price: v.opening.map(|o| o.price),
        open_source: v.opening.map(|o| o.source),
        open_bid: v.opening.and_then(|o| o.bid),
        open_ask: v.opening.and_then(|o| o.ask),
        realized_move: v.realized_move,
        move_ratio: v.move_ratio,
        outside: v.outside,
        iv_entry: v.iv_entry,
        iv_exit: v.iv_exit,
        iv_crush: v.iv_crush,
        exit_snapshot_id: None,
        exit_as_of: v.exit_as_of,
        reason: v.reason,
        warnings: v.warnings,
        structures: v.structures,
    };
    (review, exit)
}

/// The stored bars of the reference and reaction sessions, fetched from
/// the bars provider when either is missing. Fetched bars are used, never
/// stored: today's bar is not complete until the close.
async fn bars_around(
    ctx: &JobContext,
    due: &DueReview,
    warnings: &mut Vec<String>,
) -> BTreeMap<NaiveDate, DailyBar> {
    let (ticker, from, to) = (due.ticker.clone(), due.reference_session, due.reaction_session);
    let t = ticker.clone();
    let mut bars = match ctx.store.run(move |db| db.bars(&t, from, to)).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(ticker = %ticker, error = %e, "cannot read stored bars");
            BTreeMap::new()
        }
    };
    if !(bars.contains_key(&from) && bars.contains_key(&to)) {
        match ctx.providers.bars.daily_bars(&ticker, from, to).await {
            Ok(fetched) => {
                for b in fetched {
                    bars.entry(b.date).or_insert(b);
                }
            }
            Err(e) => {
                // Stored with the review as a warning; the run's one WARN line counts it.
                tracing::debug!(ticker = %ticker, error = %e, "daily bars unavailable for the review");
                warnings.push(format!("daily bars unavailable: {e}"));
            }
        }
    }
    bars
}

/// The chain of the event's `expiration` taken now (whether it was taken
/// during today's session is [`valuation::value`]'s to judge).
async fn exit_chain(
    ctx: &JobContext,
    ticker: &Ticker,
    expiration: NaiveDate,
    as_of: DateTime<Utc>,
) -> Result<ChainSnapshot, NoExitChain> {
    ctx.providers.chains.chain(ticker, expiration, as_of).await.map_err(|e| {
        tracing::warn!(ticker = %ticker, error = %e, "exit chain unavailable");
        NoExitChain::Provider(e.to_string())
    })
}

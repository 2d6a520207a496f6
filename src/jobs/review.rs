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
use rust_decimal::Decimal;

use super::{JobContext, JobError, et, et_date};
use crate::analysis::structures::{self, ExitBasis, ExitValue, Structure, StructureKind};
use crate::calendar::Session;
use crate::domain::{ChainSnapshot, DailyBar, Ticker, UnderlyingQuote};
use crate::review::{Review, ReviewRun, ReviewStatus, StructureOutcome};
use crate::store::DueReview;

/// Reviews the events due at `as_of` for review slot `slot` and returns the
/// reviews this run wrote, read back from the database.
///
/// # Errors
/// [`JobError::NotApplicable`] before the open of a session (or on a day
/// without one); [`JobError::Store`] when storing fails (nothing of the run
/// is kept). Provider failures are per-event reasons, never errors of the run.
pub async fn review(
    ctx: &JobContext,
    slot: DateTime<Utc>,
    as_of: DateTime<Utc>,
) -> Result<ReviewRun, JobError> {
    let today = et_date(as_of);
    let Some(session) = ctx.calendar.session(today) else {
        return Err(JobError::NotApplicable(format!("{today} is not an NYSE session; nothing to review")));
    };
    if as_of < session.open.with_timezone(&Utc) {
        return Err(JobError::NotApplicable(format!(
            "the session of {today} opens at {}; a review needs the open",
            session.open.format("%H:%M %Z")
        )));
    }
    let oldest = today - crate::clock::days(u64::from(ctx.config.review.pending_days));
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
    tracing::info!(
        reviewed = reviews.iter().filter(|r| r.status == ReviewStatus::Reviewed).count(),
        pending = reviews.iter().filter(|r| r.status == ReviewStatus::Pending).count(),
        "review stored"
    );
    Ok(ReviewRun { slot, reviews })
}

/// The opening price and where it came from.
struct Opening {
    price: Decimal,
    source: &'static str,
    bid: Option<Decimal>,
    ask: Option<Decimal>,
}

/// One event's review. Never fails: a missing input is a reason.
async fn review_event(
    ctx: &JobContext,
    due: &DueReview,
    quote: Option<&UnderlyingQuote>,
    today: &Session,
    slot: DateTime<Utc>,
    as_of: DateTime<Utc>,
) -> (Review, Option<ChainSnapshot>) {
    let ticker = &due.ticker;
    let mut warnings = Vec::new();
    let mut review = Review {
        ticker: ticker.clone(),
        report_date: due.report_date,
        timing: due.timing,
        scan_id: Some(due.scan_id),
        scan_as_of: due.scan_as_of,
        slot,
        reviewed_at: as_of,
        status: ReviewStatus::Pending,
        reference_session: due.reference_session,
        reaction_session: due.reaction_session,
        expiration: due.expiration,
        tier: due.tier,
        vrp: due.vrp,
        implied_move: due.implied_move,
        spot_at_scan: due.spot,
        reference_close: None,
        reference_source: None,
        open_price: None,
        open_source: None,
        open_bid: None,
        open_ask: None,
        realized_move: None,
        move_ratio: None,
        outside: None,
        iv_entry: None,
        iv_exit: None,
        iv_crush: None,
        exit_snapshot_id: None,
        exit_as_of: None,
        reason: None,
        warnings: Vec::new(),
        structures: Vec::new(),
    };

    let bars = bars_around(ctx, due, &mut warnings).await;
    let reaction_is_today = due.reaction_session == today.date;
    // A quote's `open` counts only when the quote was taken during today's
    // session: before the bell a vendor may still show the previous open.
    let opened_today = |q: &UnderlyingQuote| q.as_of.is_some_and(|t| t >= today.open.with_timezone(&Utc));
    let opening = quote
        .filter(|q| opened_today(q))
        .and_then(|q| q.open.map(|open| (q, open)))
        .map(|(q, price)| Opening { price, source: "quote", bid: q.bid, ask: q.ask })
        .or_else(|| {
            bars.get(&due.reaction_session).map(|b| Opening {
                price: b.open,
                source: "daily_bar",
                bid: quote.and_then(|q| q.bid),
                ask: quote.and_then(|q| q.ask),
            })
        });
    let reference = bars.get(&due.reference_session).map(|b| (b.close, "daily_bar")).or_else(|| {
        quote
            .filter(|q| opened_today(q))
            .and_then(|q| q.prev_close)
            .filter(|_| reaction_is_today)
            .map(|c| (c, "quote"))
    });
    review.reference_close = reference.map(|r| r.0);
    review.reference_source = reference.map(|r| r.1.to_owned());

    let Some(opening) = opening else {
        let why = match quote {
            Some(_) => "the quote has no opening price: halted or a delayed open".to_owned(),
            None if warnings.is_empty() => format!("no quote and no daily bar of {}", due.reaction_session),
            None => format!("no quote, and {}", warnings.join("; ")),
        };
        review.reason = Some(format!(
            "no opening price for {} yet ({why}); retried at the next review slot",
            due.reaction_session
        ));
        tracing::warn!(ticker = %ticker, reaction_session = %due.reaction_session, why, "no opening price yet");
        review.warnings = warnings;
        return (review, None);
    };
    review.status = ReviewStatus::Reviewed;
    review.open_price = Some(opening.price);
    review.open_source = Some(opening.source.to_owned());
    review.open_bid = opening.bid;
    review.open_ask = opening.ask;
    match reference {
        Some((close, _)) => {
            review.realized_move = structures::realized_move(opening.price, close);
            if let (Some(realized), Some(implied)) =
                (review.realized_move, due.implied_move.filter(|m| *m > 0.0))
            {
                review.move_ratio = Some(realized.abs() / implied);
                review.outside = Some(realized.abs() > implied);
            }
        }
        None => warnings.push(format!("no close of the reference session {}", due.reference_session)),
    }

    // The exit chain: only quotes taken during the reaction session count.
    let (exit, exit_reason) = if due.structures.is_empty() {
        (None, None)
    } else if !reaction_is_today {
        (
            None,
            Some(format!(
                "reviewed after its reaction session {}: no quotes of that open",
                due.reaction_session
            )),
        )
    } else {
        exit_chain(ctx, due, today, as_of).await
    };
    if let Some(snapshot) = &exit {
        review.exit_as_of = Some(snapshot.as_of);
    }
    let mut intrinsic_notes = Vec::new();
    for s in &due.structures {
        // Only the structure's own expiration's quotes value its legs.
        let quoted =
            exit.as_ref().map(|snapshot| structures::exit_with_quotes(s, &snapshot.expiration(s.expiration)));
        let (value, note) = match quoted {
            Some(Ok(v)) => (v, None),
            Some(Err(e)) => {
                intrinsic_notes.push(format!("{}: {e}", s.kind.label()));
                (structures::exit_at_intrinsic(s, opening.price), Some(e))
            }
            None => (structures::exit_at_intrinsic(s, opening.price), exit_reason.clone()),
        };
        review.structures.push(outcome(s, value, note));
    }
    if let Some(straddle) = due.structures.iter().find(|s| s.kind == StructureKind::ShortStraddle) {
        review.iv_entry = entry_iv(straddle);
        if let (Some(strike), Some(snapshot)) = (straddle.straddle_strike(), &exit) {
            review.iv_exit = structures::atm_iv(&snapshot.expiration(straddle.expiration), strike);
        }
        if let (Some(entry), Some(exit)) = (review.iv_entry, review.iv_exit) {
            review.iv_crush = structures::iv_crush(entry, exit);
        }
    }
    let intrinsic = review.structures.iter().any(|s| s.basis != ExitBasis::Quotes);
    review.reason = match (exit_reason, intrinsic) {
        (Some(r), true) => Some(format!("{r}; structures valued at intrinsic value from the open")),
        (None, true) => {
            Some(format!("valued at intrinsic value from the open: {}", intrinsic_notes.join("; ")))
        }
        _ => None,
    };
    review.warnings = warnings;
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
                tracing::warn!(ticker = %ticker, error = %e, "daily bars unavailable for the review");
                warnings.push(format!("daily bars unavailable: {e}"));
            }
        }
    }
    bars
}

/// The chain of the event's expiration taken now, if it was taken during
/// today's session; else why not.
async fn exit_chain(
    ctx: &JobContext,
    due: &DueReview,
    today: &Session,
    as_of: DateTime<Utc>,
) -> (Option<ChainSnapshot>, Option<String>) {
    let Some(expiration) = due.expiration else {
        return (None, Some("the scan had no expiration".into()));
    };
    match ctx.providers.chains.chain(&due.ticker, expiration, as_of).await {
        Ok(s) => {
            let (open, close) = (today.open.with_timezone(&Utc), today.close.with_timezone(&Utc));
            if s.as_of >= open && s.as_of <= close {
                (Some(s), None)
            } else {
                let when = et(s.as_of).format("%a %Y-%m-%d %H:%M %Z");
                (
                    None,
                    Some(format!("no chain taken at the open of {} (the latest is from {when})", today.date)),
                )
            }
        }
        Err(e) => {
            tracing::warn!(ticker = %due.ticker, error = %e, "exit chain unavailable");
            (None, Some(format!("no exit chain: {e}")))
        }
    }
}

fn entry_iv(straddle: &Structure) -> Option<f64> {
    let ivs: Vec<f64> = straddle.legs.iter().filter_map(|l| l.entry_iv).collect();
    (ivs.len() == 2).then(|| (ivs[0] + ivs[1]) / 2.0)
}

fn outcome(s: &Structure, exit: ExitValue, note: Option<String>) -> StructureOutcome {
    StructureOutcome {
        kind: s.kind,
        legs: s.legs.clone(),
        contract_size: s.contract_size,
        basis: exit.basis,
        exit_note: note.filter(|_| exit.basis != ExitBasis::Quotes),
        natural: structures::pnl(s, s.entry_natural(), exit.natural),
        mid: structures::pnl(s, s.entry_mid(), exit.mid),
    }
}

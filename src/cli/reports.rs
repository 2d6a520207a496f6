//! The commands that read what is stored: `ivcd report` (the scoreboard),
//! `ivcd moves TICKER` and `ivcd calibrate`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use chrono::NaiveDate;

use super::compose::{stored_calendar, writer_lock};
use super::out::{say, say_part};
use crate::clock::Clock;
use crate::config::Config;
use crate::domain::Ticker;
use crate::present;
use crate::store::Store;

/// `ivcd report`: the scoreboard of every stored review.
pub(super) async fn report(config: &Config, since: Option<NaiveDate>, json: bool) -> Result<ExitCode> {
    let store = Store::open_read_only(&config.database)?;
    let (reviews, calibration) =
        store.run(move |db| Ok((db.reviews(since, None)?, db.calibration()?))).await?;
    let card = crate::review::ReportCard::new(reviews, since).with_calibration(calibration);
    if json {
        say!("{}", serde_json::to_string_pretty(&card)?);
    } else {
        say_part!("{}", present::report_card(&card));
    }
    Ok(ExitCode::SUCCESS)
}

/// `ivcd moves TICKER`: the stored moves, the window a scan today would
/// use, realized volatility and the latest scan's analysis.
pub(super) async fn moves(
    config: &Config,
    clock: &dyn Clock,
    ticker: Ticker,
    json: bool,
) -> Result<ExitCode> {
    let store = Store::open_existing(&config.database)?;
    let t = ticker.clone();
    let today = crate::time::et_date(clock.now());
    let from = today - chrono::Days::new(90);
    let (moves, bars, latest, calibration, own) = store
        .run(move |db| {
            let calibration = db.calibration()?;
            // Reports whose reaction session is over by today (ET).
            let own = match &calibration {
                Some(c) => db.ticker_record(c, &t, today.succ_opt())?,
                None => None,
            };
            Ok((
                db.moves_for_ticker(&t)?,
                db.bars(&t, from, today)?,
                db.latest_candidate(&t)?,
                calibration,
                own,
            ))
        })
        .await?;
    let bars: Vec<_> = bars.into_values().collect();
    let latest = latest.map(|(slot, candidate)| crate::report::LatestCandidate { slot, candidate });
    let mut report = crate::report::MovesReport::new(ticker, moves, &bars, latest, today, &config.analysis);
    report.ticker_record = own;
    report.calibration = calibration;
    report.timing_audit = Some(timing_audit(config, &store, clock, &report.ticker).await?);
    if json {
        say!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        say_part!("{}", present::moves_report(&report));
        if let Some(audit) = &report.timing_audit {
            say_part!("{}", present::timing_audit(&report.ticker, audit));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The timing audit of `ticker`'s stored past events, against its stored
/// SEC filings and bars, as of the last completed session.
async fn timing_audit(
    config: &Config,
    store: &Store,
    clock: &dyn Clock,
    ticker: &Ticker,
) -> Result<crate::analysis::timing_audit::TickerTimingAudit> {
    let calendar = stored_calendar(config).await;
    let last_session = calendar.last_completed_session(clock.now());
    let t = ticker.clone();
    let (events, filings, bars) = store
        .run(move |db| {
            Ok((
                db.events_for_ticker(&t)?,
                db.sec_filings_for_ticker(&t)?,
                db.bars(&t, NaiveDate::MIN, last_session)?,
            ))
        })
        .await?;
    Ok(crate::analysis::timing_audit::ticker_timing_audit(
        &events,
        &filings,
        &bars,
        &calendar,
        &config.analysis.timing_check,
        config.analysis.window_events,
        last_session,
        config.sec.history_uses_filing_timing,
    ))
}

/// `ivcd calibrate`: the recorded implied moves judged as the scan would
/// have (docs/calibration.md); `--plots DIR` also writes the SVGs.
pub(super) async fn calibrate(
    config: &Config,
    clock: &dyn Clock,
    json: bool,
    plots: Option<PathBuf>,
) -> Result<ExitCode> {
    let _lock = writer_lock(config, "ivcd calibrate")?;
    let settings = crate::calibration::Settings {
        data_dir: config.data_dir.clone(),
        config: config.calibration.clone(),
        analysis: config.analysis.clone(),
        calendar: stored_calendar(config).await,
        now: clock.now(),
    };
    let store = Store::open(&config.database)?;
    let out = tokio::task::spawn_blocking(move || {
        crate::calibration::run::command(&store, &settings, json, plots.as_deref())
    })
    .await??;
    say_part!("{out}");
    Ok(ExitCode::SUCCESS)
}

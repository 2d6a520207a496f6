//! Composition of the live providers, and what commands share: the
//! database's writer lock and the stored exchange calendar.

use std::sync::Arc;

use anyhow::{Context, Result};

use crate::calendar::NyseCalendar;
use crate::clock::Clock;
use crate::config::Config;
use crate::jobs::{JobContext, Providers};
use crate::providers::alpha_vantage::client::AlphaVantageClient;
use crate::providers::sec::SecFilings;
use crate::providers::sec::cache::CachedSec;
use crate::providers::sec::client::SecClient;
use crate::providers::tradier::client::TradierClient;
use crate::providers::unconfigured::Unconfigured;
use crate::store::Store;

/// The database's writer lock for a command that writes, held until it
/// returns (see [`crate::store::DatabaseLock`]).
///
/// # Errors
/// [`crate::store::StoreError::Locked`] (exit 75) when the daemon or
/// another command holds it.
pub(super) fn writer_lock(config: &Config, command: &str) -> Result<crate::store::DatabaseLock> {
    config.prepare_default_database_dir().with_context(|| {
        format!("cannot create the directory of the database {}", config.database.display())
    })?;
    Ok(crate::store::DatabaseLock::acquire(&config.database, command)?)
}

/// The calendar `ivcd calendar` lists: the rules, plus the exchange's
/// overrides when the configured database exists (read-only; never created).
pub(super) async fn stored_calendar(config: &Config) -> NyseCalendar {
    if !config.database.exists() {
        return NyseCalendar::new();
    }
    match Store::open_read_only(&config.database) {
        Ok(store) => crate::daemon::calendar_from_store(&store).await.unwrap_or_default(),
        Err(_) => NyseCalendar::new(),
    }
}

/// Composes the live providers from the configuration: Alpha Vantage for the
/// earnings calendar and history, Tradier for quotes, chains and bars
/// (Alpha Vantage bars when Tradier is not configured).
///
/// # Errors
/// When a configured client cannot be built, or the database cannot be opened.
pub fn live_context(config: &Config, clock: Arc<dyn Clock>) -> Result<JobContext> {
    compose_live(config, clock).map(|c| c.context)
}

/// As [`live_context`], also handing out the Tradier client (the daemon
/// reads the exchange's calendar from it).
///
/// # Errors
/// As [`live_context`].
pub fn compose_live(config: &Config, clock: Arc<dyn Clock>) -> Result<crate::daemon::Composed> {
    let tradier = if config.tradier.token.is_set() {
        Some(Arc::new(TradierClient::new(&config.tradier, clock.clone()).map_err(anyhow::Error::msg)?))
    } else {
        None
    };
    let alpha = if config.alpha_vantage.api_key.is_set() {
        Some(Arc::new(
            AlphaVantageClient::new(&config.alpha_vantage, clock.clone()).map_err(anyhow::Error::msg)?,
        ))
    } else {
        None
    };
    let store = Store::open(&config.database)?;
    let sec = sec_filings(config, &store, clock.clone())?;
    let missing_av = Arc::new(Unconfigured { setting: "alpha_vantage.api_key" });
    let missing_tradier = Arc::new(Unconfigured { setting: "tradier.token" });
    let providers = Providers {
        calendar: alpha.clone().map_or_else(|| missing_av.clone() as _, |a| a as _),
        calendar_source: crate::providers::alpha_vantage::wire::SOURCE_EARNINGS_CALENDAR.to_owned(),
        history: alpha.clone().map(|a| a as _),
        history_source: "alpha_vantage:EARNINGS".to_owned(),
        bars: match (&tradier, &alpha) {
            (Some(t), _) => t.clone() as _,
            (None, Some(a)) => a.clone() as _,
            (None, None) => missing_tradier.clone() as _,
        },
        bars_source: if tradier.is_some() { "tradier:history" } else { "alpha_vantage:TIME_SERIES_DAILY" }
            .to_owned(),
        quotes: tradier.clone().map_or_else(|| missing_tradier.clone() as _, |t| t as _),
        chains: match &tradier {
            Some(t) => Arc::new(crate::providers::cache::CachedChains::new(
                t.clone(),
                "tradier",
                store.clone(),
                clock.clone(),
                config.cache.clone(),
            )),
            None => missing_tradier as _,
        },
        end_of_day_chains: alpha.clone().map_or_else(|| missing_av.clone() as _, |a| a as _),
        health: tradier
            .iter()
            .map(|t| t.health())
            .chain(alpha.iter().map(|a| a.health()))
            .chain(sec.iter().map(|(s, _)| s.health()))
            .collect(),
        sec: sec.map(|(_, cached)| cached),
    };
    let context = JobContext {
        store,
        providers,
        calendar: NyseCalendar::new(),
        config: Arc::new(config.clone()),
        clock,
        cancel: tokio_util::sync::CancellationToken::new(),
        queue_alerts: true,
    };
    let outbox =
        crate::alert::outbox::Outbox::new(context.store.clone(), &config.alerts, context.clock.clone())
            .map_err(anyhow::Error::msg)?;
    Ok(crate::daemon::Composed { context, tradier, outbox: Arc::new(outbox) })
}

/// The daemon's providers for `ivcd run --scenario FILE`: the scenario's
/// recorded files under `data_dir` (read once, here), the configured
/// database and alert channels; and the scenario's first step's instant,
/// where the rehearsal's clock starts unless `--simulate-from` says.
///
/// # Errors
/// When the scenario or one of its recorded files cannot be read.
pub(super) fn compose_recorded(
    config: &Config,
    scenario_file: &std::path::Path,
) -> Result<(chrono::DateTime<chrono::Utc>, Box<crate::daemon::Compose>)> {
    let scenario = crate::replay::Scenario::load(scenario_file)?;
    let start =
        scenario.steps.first().map(|s| s.at.with_timezone(&chrono::Utc)).with_context(|| {
            format!("scenario {} has no step to start the clock at", scenario_file.display())
        })?;
    let inputs = Arc::new(crate::replay::LoadedInputs::load(&scenario, &config.data_dir)?);
    let compose = move |config: &Config, clock: Arc<dyn Clock>| -> Result<crate::daemon::Composed> {
        let mut context = inputs.context(Store::open(&config.database)?, config, clock.clone());
        context.queue_alerts = true;
        let outbox = crate::alert::outbox::Outbox::new(context.store.clone(), &config.alerts, clock)
            .map_err(anyhow::Error::msg)?;
        Ok(crate::daemon::Composed { context, tradier: None, outbox: Arc::new(outbox) })
    };
    Ok((start, Box::new(compose)))
}

/// The SEC client (for its health record) and the provider the jobs use.
type SecProviders = (Arc<SecClient>, Arc<dyn SecFilings>);

/// The SEC EDGAR client behind the response cache, when `[sec] user_agent`
/// is set; `None` otherwise (the backfill then skips the SEC, saying so).
///
/// # Errors
/// When the client cannot be built (a User-Agent that is not a header).
fn sec_filings(config: &Config, store: &Store, clock: Arc<dyn Clock>) -> Result<Option<SecProviders>> {
    if !config.sec.is_configured() {
        return Ok(None);
    }
    let client = Arc::new(SecClient::new(&config.sec, clock.clone()).map_err(anyhow::Error::msg)?);
    let cached = CachedSec::new(client.clone(), store.clone(), clock, config.sec.cache_hours);
    Ok(Some((client, Arc::new(cached))))
}

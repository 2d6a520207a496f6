//! A response cache in front of a provider's option chains, kept in SQLite
//! (table `response_cache`), so a restart mid-scan does not ask again for
//! what it already has.
//!
//! Time to live by kind (`[cache]`): a chain 30 s (quotes move), the
//! expirations until the end of the ET day they were fetched (the listed
//! expirations change overnight), at most `expirations_ttl_hours`. Daily
//! bars need no cache here: the backfill stores them with the ranges fetched
//! and never asks twice for a completed session.
//!
//! Entries are the parsed answers as JSON. A cache the store cannot read or
//! write is skipped with a warning: the provider is asked instead.
//!
//! The scan asks the cache before every request, so the cache answers what
//! it does not hold without the database: it reads the requests it holds
//! once, then keeps that list itself (this process is the database's one
//! writer). New answers are written [`FLUSH_AT`] at a time, in one
//! transaction, and what is left when the cache is dropped; until then they
//! are answered from memory. A crash loses at most those not yet written,
//! which are then asked of the provider again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{OptionChains, ProviderError};
use crate::clock::Clock;
use crate::domain::{ChainSnapshot, Ticker};
use crate::store::{CacheEntry, Store};

/// New answers are written to the database this many at a time.
pub const FLUSH_AT: usize = 32;

/// `[cache]`: how long provider answers are reused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// Keep answers at all (default true).
    pub enabled: bool,
    /// Seconds a chain is reused (default 30).
    pub chain_ttl_seconds: u64,
    /// Hours the expirations are reused at most; never past the end of the
    /// ET day they were fetched (default 24).
    pub expirations_ttl_hours: u64,
}

impl CacheConfig {
    /// The bounds of its durations: a chain 1 s to an hour, the expirations
    /// 1 to 24 hours.
    pub fn bounds(&self, b: &mut crate::settings::Bounds) {
        b.int("cache.chain_ttl_seconds", self.chain_ttl_seconds, 1, 3600);
        b.int("cache.expirations_ttl_hours", self.expirations_ttl_hours, 1, 24);
    }
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self { enabled: true, chain_ttl_seconds: 30, expirations_ttl_hours: 24 }
    }
}

/// [`OptionChains`] with a response cache in front.
pub struct CachedChains {
    inner: Arc<dyn OptionChains>,
    provider: &'static str,
    store: Store,
    clock: Arc<dyn Clock>,
    config: CacheConfig,
    /// What the cache holds: request to expiry, read from the database at
    /// the first ask; `None` before (or when it could not be read).
    held: Mutex<Option<HashMap<String, DateTime<Utc>>>>,
    /// Answers not yet written, oldest first.
    pending: Mutex<Vec<CacheEntry>>,
}

impl CachedChains {
    /// A cache named `provider` in `store` in front of `inner`.
    pub fn new(
        inner: Arc<dyn OptionChains>,
        provider: &'static str,
        store: Store,
        clock: Arc<dyn Clock>,
        config: CacheConfig,
    ) -> Self {
        Self {
            inner,
            provider,
            store,
            clock,
            config,
            held: Mutex::new(None),
            pending: Mutex::new(Vec::new()),
        }
    }

    fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        m.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the database may hold `request` unexpired at `now`: the
    /// held list says, once read.
    async fn may_hold(&self, request: &str, now: DateTime<Utc>) -> bool {
        if let Some(held) = Self::lock(&self.held).as_ref() {
            return held.get(request).is_some_and(|expires| *expires > now);
        }
        let provider = self.provider;
        match self.store.run(move |db| db.cached_requests(provider, now)).await {
            Ok(rows) => {
                let mut held = Self::lock(&self.held);
                let list = held.get_or_insert_with(HashMap::new);
                // Answers kept meanwhile stay listed.
                for (request, expires) in rows {
                    list.entry(request).or_insert(expires);
                }
                list.get(request).is_some_and(|expires| *expires > now)
            }
            // Unknown: ask the database each time.
            Err(_) => true,
        }
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, request: &str) -> Option<T> {
        if !self.config.enabled {
            return None;
        }
        let now = self.clock.now();
        let unwritten = Self::lock(&self.pending)
            .iter()
            .rev()
            .find(|e| e.request == request && e.expires_at > now)
            .map(|e| e.body.clone());
        if let Some(body) = unwritten {
            return serde_json::from_str(&body).ok();
        }
        if !self.may_hold(request, now).await {
            return None;
        }
        let (provider, key) = (self.provider, request.to_owned());
        match self.store.run(move |db| db.cached_response(provider, &key, now)).await {
            Ok(Some(body)) => serde_json::from_str(&body).ok(),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, request, "response cache unreadable; asking the provider");
                None
            }
        }
    }

    async fn put<T: Serialize>(
        &self,
        request: &str,
        kind: &'static str,
        value: &T,
        expires_at: DateTime<Utc>,
    ) {
        if !self.config.enabled {
            return;
        }
        let Ok(body) = serde_json::to_string(value) else { return };
        let now = self.clock.now();
        let flush = {
            let mut pending = Self::lock(&self.pending);
            pending.push(CacheEntry { request: request.to_owned(), kind, body, fetched_at: now, expires_at });
            pending.len() >= FLUSH_AT
        };
        if let Some(held) = Self::lock(&self.held).as_mut() {
            if flush {
                held.retain(|_, expires| *expires > now);
            }
            held.insert(request.to_owned(), expires_at);
        }
        if !flush {
            return;
        }
        let batch = std::mem::take(&mut *Self::lock(&self.pending));
        let provider = self.provider;
        if let Err(e) = self.store.run(move |db| db.cache_responses(provider, &batch, now)).await {
            tracing::warn!(error = %e, "response cache not written");
        }
    }
}

impl Drop for CachedChains {
    /// Writes the answers not yet written (a short transaction).
    fn drop(&mut self) {
        let batch = std::mem::take(&mut *Self::lock(&self.pending));
        if batch.is_empty() {
            return;
        }
        let provider = self.provider;
        let now = self.clock.now();
        if let Err(e) = self.store.run_blocking(|db| db.cache_responses(provider, &batch, now)) {
            tracing::warn!(error = %e, "response cache not written");
        }
    }
}

/// The end of the ET calendar day of `at`, as UTC.
fn end_of_et_day(at: DateTime<Utc>) -> DateTime<Utc> {
    let day = crate::time::et_date(at);
    let next = day.succ_opt().unwrap_or(day);
    crate::time::et_instant(next, chrono::NaiveTime::MIN)
}

#[async_trait]
impl OptionChains for CachedChains {
    async fn expirations(
        &self,
        ticker: &Ticker,
        as_of: DateTime<Utc>,
    ) -> Result<Vec<NaiveDate>, ProviderError> {
        let request = format!("expirations {ticker} {}", crate::time::et_date(as_of));
        if let Some(hit) = self.get::<Vec<NaiveDate>>(&request).await {
            tracing::debug!(ticker = %ticker, "expirations from the response cache");
            return Ok(hit);
        }
        let fresh = self.inner.expirations(ticker, as_of).await?;
        let now = self.clock.now();
        let hours = crate::time::hours(self.config.expirations_ttl_hours);
        self.put(&request, "expirations", &fresh, end_of_et_day(now).min(now + hours)).await;
        Ok(fresh)
    }

    async fn chain(
        &self,
        ticker: &Ticker,
        expiration: NaiveDate,
        as_of: DateTime<Utc>,
    ) -> Result<ChainSnapshot, ProviderError> {
        let request = format!("chain {ticker} {expiration}");
        if let Some(hit) = self.get::<ChainSnapshot>(&request).await {
            // A chain is reused only within its time to live after it was taken.
            let ttl = crate::time::seconds(self.config.chain_ttl_seconds);
            if hit.as_of <= as_of && as_of - hit.as_of <= ttl {
                tracing::debug!(ticker = %ticker, %expiration, "chain from the response cache");
                return Ok(hit);
            }
        }
        let fresh = self.inner.chain(ticker, expiration, as_of).await?;
        let ttl = crate::time::seconds(self.config.chain_ttl_seconds);
        self.put(&request, "chain", &fresh, self.clock.now() + ttl).await;
        Ok(fresh)
    }
}

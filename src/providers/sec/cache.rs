//! The response cache (table `response_cache`, see
//! [`crate::providers::cache`]) in front of a [`SecFilings`]: an issuer's
//! filings are reused for `sec.cache_hours`, so a backfill re-run or a
//! restart does not ask the SEC again. A cache the store cannot read or
//! write is skipped with a warning: the SEC is asked instead.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDate;

use super::{IssuerFilings, PROVIDER, SecFilings};
use crate::clock::Clock;
use crate::domain::Ticker;
use crate::providers::ProviderError;
use crate::store::Store;

/// [`SecFilings`] with the response cache in front.
pub struct CachedSec {
    inner: Arc<dyn SecFilings>,
    store: Store,
    clock: Arc<dyn Clock>,
    ttl: chrono::Duration,
}

impl CachedSec {
    /// A cache in `store` in front of `inner`, reusing answers for `hours`.
    pub fn new(inner: Arc<dyn SecFilings>, store: Store, clock: Arc<dyn Clock>, hours: u64) -> Self {
        let ttl = crate::time::hours(hours.min(24 * 365));
        Self { inner, store, clock, ttl }
    }
}

#[async_trait]
impl SecFilings for CachedSec {
    async fn earnings_filings(
        &self,
        ticker: &Ticker,
        since: NaiveDate,
    ) -> Result<IssuerFilings, ProviderError> {
        let request = format!("earnings_filings {ticker} since {since}");
        let (key, now) = (request.clone(), self.clock.now());
        match self.store.run(move |db| db.cached_response(PROVIDER, &key, now)).await {
            Ok(Some(body)) => match serde_json::from_str::<IssuerFilings>(&body) {
                Ok(hit) => {
                    tracing::debug!(ticker = %ticker, "SEC filings from the response cache");
                    return Ok(hit);
                }
                Err(e) => {
                    tracing::warn!(error = %e, request, "cached SEC filings unreadable; asking the SEC")
                }
            },
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, request, "response cache unreadable; asking the SEC"),
        }
        let fresh = self.inner.earnings_filings(ticker, since).await?;
        if let Ok(body) = serde_json::to_string(&fresh) {
            let (key, now) = (request.clone(), self.clock.now());
            let expires = now + self.ttl;
            if let Err(e) = self
                .store
                .run(move |db| db.cache_response(PROVIDER, &key, "sec_filings", &body, now, expires))
                .await
            {
                tracing::warn!(error = %e, request, "response cache not written");
            }
        }
        Ok(fresh)
    }
}

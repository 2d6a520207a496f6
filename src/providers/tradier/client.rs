//! The Tradier market-data client: quotes (many symbols per request), option
//! expirations, chains with greeks, daily history, market calendar and clock.
//!
//! Authentication is `Authorization: Bearer <token>`. The rate limiter sits
//! inside [`HttpClient`], so no caller can bypass it: Tradier's fixed window
//! per token, synchronised from the `X-Ratelimit-*` headers of every answer
//! ([`crate::providers::limiter`]).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue};

use super::config::{TradierBodyLimits, TradierConfig, TradierEndpoint};
use super::wire::{self, MarketClock, MarketDay};
use crate::clock::Clock;
use crate::domain::{ChainSnapshot, DailyBar, Ticker, UnderlyingQuote};
use crate::providers::ClientSetupError;
use crate::providers::http::HttpClient;
use crate::providers::limiter::WindowLimit;
use crate::providers::resilience::Resilience;
use crate::providers::{DailyBars, OptionChains, ProviderError, Quotes};

/// Symbols per quotes request (keeps the URL well under common 8 KiB limits).
pub const QUOTE_BATCH: usize = 100;

/// The Tradier client.
#[derive(Debug, Clone)]
pub struct TradierClient {
    http: HttpClient,
    clock: Arc<dyn Clock>,
    limits: TradierBodyLimits,
}

impl TradierClient {
    /// A client from the `[tradier]` configuration. `clock` stamps chain snapshots.
    ///
    /// # Errors
    /// [`ClientSetupError`] when no token is configured or the HTTP client cannot be built.
    pub fn new(config: &TradierConfig, clock: Arc<dyn Clock>) -> Result<Self, ClientSetupError> {
        let token = config.token.expose().ok_or(ClientSetupError::NotSet("tradier.token"))?;
        let mut headers = HeaderMap::new();
        let mut auth = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| ClientSetupError::BadHeader("tradier.token"))?;
        auth.set_sensitive(true);
        headers.insert(AUTHORIZATION, auth);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let http = HttpClient::new(
            "tradier",
            &config.base_url,
            config.requests_per_minute,
            Duration::from_secs(config.timeout_seconds),
            headers,
            clock.clone(),
            Resilience { retry: config.retry.clone(), breaker: config.breaker.clone() },
        )?
        .with_limit(WindowLimit {
            allowance: config.requests_per_minute,
            window: Duration::from_secs(config.window_seconds),
            long: None,
            vendor_headers: true,
            guard: Duration::from_millis(config.window_guard_ms),
            // Spent as fast as the requests come (the window count bounds it).
            spaced: false,
        });
        Ok(Self { http, clock, limits: config.max_body_kib.clone() })
    }

    /// The rate limit the client keeps.
    pub fn limit(&self) -> WindowLimit {
        self.http.limit()
    }

    /// Requests sent so far.
    pub fn requests_sent(&self) -> u64 {
        self.http.requests_sent()
    }

    /// The client's health record, for `ivcd status`.
    pub fn health(&self) -> crate::providers::http::ProviderHealth {
        self.http.health()
    }

    /// The exchange's calendar of one month (`/v1/markets/calendar`).
    ///
    /// # Errors
    /// [`ProviderError`] for transport, status or parse failures.
    pub async fn market_calendar(&self, year: i32, month: u32) -> Result<Vec<MarketDay>, ProviderError> {
        let shown = format!("tradier /v1/markets/calendar {year}-{month:02}");
        let (y, m) = (year.to_string(), format!("{month:02}"));
        let body = self
            .http
            .get_text(
                "/v1/markets/calendar",
                &[("year", &y), ("month", &m)],
                &shown,
                self.limits.of(TradierEndpoint::Calendar),
            )
            .await?;
        Ok(wire::parse_market_calendar(&body, &shown)?)
    }

    /// The market clock (`/v1/markets/clock`).
    ///
    /// # Errors
    /// [`ProviderError`] for transport, status or parse failures.
    pub async fn market_clock(&self) -> Result<MarketClock, ProviderError> {
        let shown = "tradier /v1/markets/clock";
        let body = self
            .http
            .get_text("/v1/markets/clock", &[], shown, self.limits.of(TradierEndpoint::Clock))
            .await?;
        Ok(wire::parse_clock(&body, shown)?)
    }
}

#[async_trait]
impl Quotes for TradierClient {
    async fn quotes(&self, tickers: &[Ticker]) -> Result<Vec<UnderlyingQuote>, ProviderError> {
        let mut out = Vec::with_capacity(tickers.len());
        for batch in tickers.chunks(QUOTE_BATCH) {
            let symbols = batch.iter().map(Ticker::as_str).collect::<Vec<_>>().join(",");
            let shown = format!("tradier /v1/markets/quotes ({} symbols)", batch.len());
            let body = self
                .http
                .get_text(
                    "/v1/markets/quotes",
                    &[("symbols", &symbols), ("greeks", "false")],
                    &shown,
                    self.limits.of(TradierEndpoint::Quotes),
                )
                .await?;
            out.extend(wire::parse_quotes(&body, &shown)?);
        }
        Ok(out)
    }
}

#[async_trait]
impl OptionChains for TradierClient {
    async fn expirations(
        &self,
        ticker: &Ticker,
        _as_of: DateTime<Utc>,
    ) -> Result<Vec<NaiveDate>, ProviderError> {
        let shown = format!("tradier /v1/markets/options/expirations {ticker}");
        let body = self
            .http
            .get_text(
                "/v1/markets/options/expirations",
                &[("symbol", ticker.as_str()), ("includeAllRoots", "true")],
                &shown,
                self.limits.of(TradierEndpoint::Expirations),
            )
            .await?;
        Ok(wire::parse_expirations(&body, &shown)?)
    }

    async fn chain(
        &self,
        ticker: &Ticker,
        expiration: NaiveDate,
        _as_of: DateTime<Utc>,
    ) -> Result<ChainSnapshot, ProviderError> {
        let shown = format!("tradier /v1/markets/options/chains {ticker} {expiration}");
        let exp = expiration.to_string();
        let body = self
            .http
            .get_text(
                "/v1/markets/options/chains",
                &[("symbol", ticker.as_str()), ("expiration", &exp), ("greeks", "true")],
                &shown,
                self.limits.of(TradierEndpoint::Chains),
            )
            .await?;
        // Tradier's quotes are live: the snapshot is as of the moment it arrived.
        Ok(wire::parse_chain(&body, &shown, ticker, self.clock.now())?)
    }
}

#[async_trait]
impl DailyBars for TradierClient {
    async fn daily_bars(
        &self,
        ticker: &Ticker,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailyBar>, ProviderError> {
        let shown = format!("tradier /v1/markets/history {ticker} {from}..{to}");
        let (start, end) = (from.to_string(), to.to_string());
        let body = self
            .http
            .get_text(
                "/v1/markets/history",
                &[("symbol", ticker.as_str()), ("interval", "daily"), ("start", &start), ("end", &end)],
                &shown,
                self.limits.of(TradierEndpoint::History),
            )
            .await?;
        Ok(wire::parse_history(&body, &shown)?)
    }
}

//! The Alpha Vantage client: EARNINGS_CALENDAR, EARNINGS, TIME_SERIES_DAILY
//! and HISTORICAL_OPTIONS.
//!
//! The API key travels as the `apikey` query parameter; it is never part of
//! the request descriptions used in errors and logs. Alpha Vantage answers a
//! throttle with HTTP 200 and a JSON `Note`/`Information` body: that is a
//! [`ProviderError::RateLimited`], never data.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::NaiveDate;
use reqwest::header::HeaderMap;

use super::config::{AlphaVantageBodyLimits, AlphaVantageConfig};
use super::wire::{self, AvNotice};
use crate::clock::Clock;
use crate::domain::{ChainSnapshot, DailyBar, EarningsEvent, Ticker};
use crate::providers::http::HttpClient;
use crate::providers::limiter::{LongQuota, WindowLimit};
use crate::providers::resilience::Resilience;
use crate::providers::{BodyLimit, ClientSetupError};
use crate::providers::{DailyBars, EarningsCalendar, EarningsHistory, EndOfDayChains, ProviderError};

const PROVIDER: &str = "alpha_vantage";

/// The Alpha Vantage client.
#[derive(Debug, Clone)]
pub struct AlphaVantageClient {
    http: HttpClient,
    api_key: String,
    limits: AlphaVantageBodyLimits,
}

impl AlphaVantageClient {
    /// A client from the `[alpha_vantage]` configuration.
    ///
    /// # Errors
    /// [`ClientSetupError`] when no API key is configured or the HTTP client cannot be built.
    pub fn new(config: &AlphaVantageConfig, clock: Arc<dyn Clock>) -> Result<Self, ClientSetupError> {
        let api_key =
            config.api_key.expose().ok_or(ClientSetupError::NotSet("alpha_vantage.api_key"))?.to_owned();
        let http = HttpClient::new(
            PROVIDER,
            &config.base_url,
            config.requests_per_minute,
            Duration::from_secs(config.timeout_seconds),
            HeaderMap::new(),
            clock,
            Resilience { retry: config.retry.clone(), breaker: config.breaker.clone() },
        )?
        .with_limit(WindowLimit {
            allowance: config.requests_per_minute,
            window: Duration::from_secs(60),
            // A sliding 24 hours: safe whichever day boundary the vendor keeps.
            long: (config.requests_per_day > 0).then_some(LongQuota {
                allowance: config.requests_per_day,
                window: Duration::from_secs(86_400),
                setting: "alpha_vantage.requests_per_day",
            }),
            vendor_headers: false,
            guard: Duration::ZERO,
            // Spent as fast as the requests come (the window count bounds it).
            spaced: false,
        });
        Ok(Self { http, api_key, limits: config.max_body_kib.clone() })
    }

    /// Requests sent so far.
    pub fn requests_sent(&self) -> u64 {
        self.http.requests_sent()
    }

    /// The client's health record, for `ivcd status`.
    pub fn health(&self) -> crate::providers::http::ProviderHealth {
        self.http.health()
    }

    /// GETs `/query` with `params` plus the key, and turns a notice body into an error.
    async fn query(
        &self,
        params: &[(&str, &str)],
        shown: &str,
        limit: BodyLimit,
    ) -> Result<String, ProviderError> {
        let mut query: Vec<(&str, &str)> = params.to_vec();
        query.push(("apikey", &self.api_key));
        self.http
            .get_checked("/query", &query, shown, limit, |body| match wire::classify_json_notice(body) {
                None => Ok(()),
                Some(AvNotice::Throttled(message)) => Err(ProviderError::RateLimited {
                    provider: PROVIDER,
                    request: shown.to_owned(),
                    message: message.into(),
                    retry_after: None,
                }),
                Some(notice @ (AvNotice::Information(_) | AvNotice::Error(_))) => {
                    Err(ProviderError::Status {
                        provider: PROVIDER,
                        request: shown.to_owned(),
                        status: 200,
                        body: notice.to_string().into(),
                    })
                }
            })
            .await
    }

    /// The end-of-day chain of `ticker` on `date` (HISTORICAL_OPTIONS, CSV).
    ///
    /// # Errors
    /// [`ProviderError`] for transport, notice or parse failures.
    pub async fn historical_options(
        &self,
        ticker: &Ticker,
        date: NaiveDate,
    ) -> Result<ChainSnapshot, ProviderError> {
        let shown = format!("alpha_vantage HISTORICAL_OPTIONS {ticker} {date}");
        let d = date.to_string();
        let body = self
            .query(
                &[
                    ("function", "HISTORICAL_OPTIONS"),
                    ("symbol", ticker.as_str()),
                    ("date", &d),
                    ("datatype", "csv"),
                ],
                &shown,
                BodyLimit {
                    setting: "alpha_vantage.max_body_kib.historical_options",
                    kib: self.limits.historical_options,
                },
            )
            .await?;
        Ok(wire::parse_historical_options_csv(&body, &shown, ticker)?)
    }
}

#[async_trait]
impl EndOfDayChains for AlphaVantageClient {
    async fn end_of_day_chain(
        &self,
        ticker: &Ticker,
        date: NaiveDate,
    ) -> Result<ChainSnapshot, ProviderError> {
        self.historical_options(ticker, date).await
    }
}

#[async_trait]
impl EarningsCalendar for AlphaVantageClient {
    /// Reads the 3-month calendar and keeps the window asked for. Rows with
    /// symbols that are not tickers are logged and left out.
    async fn earnings_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<EarningsEvent>, ProviderError> {
        let shown = "alpha_vantage EARNINGS_CALENDAR 3month";
        let limit = BodyLimit {
            setting: "alpha_vantage.max_body_kib.earnings_calendar",
            kib: self.limits.earnings_calendar,
        };
        let body =
            self.query(&[("function", "EARNINGS_CALENDAR"), ("horizon", "3month")], shown, limit).await?;
        let rows = wire::parse_earnings_calendar_csv(&body, shown)?;
        if !rows.skipped.is_empty() {
            tracing::warn!(skipped = rows.skipped.len(), first = ?rows.skipped.first(), "calendar rows left out");
        }
        Ok(rows.events.into_iter().filter(|e| (from..=to).contains(&e.report_date)).collect())
    }
}

#[async_trait]
impl EarningsHistory for AlphaVantageClient {
    async fn past_earnings(&self, ticker: &Ticker) -> Result<Vec<EarningsEvent>, ProviderError> {
        let shown = format!("alpha_vantage EARNINGS {ticker}");
        let limit = BodyLimit { setting: "alpha_vantage.max_body_kib.earnings", kib: self.limits.earnings };
        let body =
            self.query(&[("function", "EARNINGS"), ("symbol", ticker.as_str())], &shown, limit).await?;
        let events = wire::parse_earnings_json(&body, &shown)?;
        // EARNINGS answers for the symbol asked; keep only that ticker's rows.
        Ok(events.into_iter().filter(|e| &e.ticker == ticker).collect())
    }
}

#[async_trait]
impl DailyBars for AlphaVantageClient {
    async fn daily_bars(
        &self,
        ticker: &Ticker,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailyBar>, ProviderError> {
        let shown = format!("alpha_vantage TIME_SERIES_DAILY {ticker}");
        let body = self
            .query(
                &[
                    ("function", "TIME_SERIES_DAILY"),
                    ("symbol", ticker.as_str()),
                    ("outputsize", "full"),
                    ("datatype", "csv"),
                ],
                &shown,
                BodyLimit {
                    setting: "alpha_vantage.max_body_kib.time_series_daily",
                    kib: self.limits.time_series_daily,
                },
            )
            .await?;
        let bars = wire::parse_daily_csv(&body, &shown)?;
        Ok(bars.into_iter().filter(|b| (from..=to).contains(&b.date)).collect())
    }
}

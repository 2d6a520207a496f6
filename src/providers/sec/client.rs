//! The live SEC EDGAR client: the company tickers file (ticker to CIK) and
//! each issuer's submissions file, with its older pages when the newest
//! does not reach back far enough.
//!
//! The SEC's fair-access rules ("Accessing EDGAR Data"): a User-Agent naming
//! the requester with a contact address, and at most 10 requests a second.
//! The rate limiter, retries and circuit breaker sit inside
//! [`HttpClient`], so no caller can bypass them. One limiter covers both
//! hosts (`data.sec.gov` and `www.sec.gov`): the SEC counts them together.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::NaiveDate;
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue, USER_AGENT};

use super::wire::{self, CompanyTickers};
use super::{IssuerFilings, PROVIDER, SecConfig, SecFilings, issuer_filings, pages_to_read};
use crate::analysis::filing_timing::Cik;
use crate::clock::Clock;
use crate::domain::Ticker;
use crate::providers::http::HttpClient;
use crate::providers::limiter::WindowLimit;
use crate::providers::resilience::Resilience;
use crate::providers::{ClientSetupError, ProviderError};

/// The SEC client.
#[derive(Debug)]
pub struct SecClient {
    http: HttpClient,
    /// `sec.max_body_kib`: the largest answer read.
    limit: crate::providers::BodyLimit,
    tickers_url: String,
    tickers_file: Option<std::path::PathBuf>,
    max_older_pages: usize,
    /// The company tickers map, read once per client.
    tickers: tokio::sync::OnceCell<Arc<BTreeMap<Ticker, Cik>>>,
}

impl SecClient {
    /// A client from the `[sec]` configuration.
    ///
    /// # Errors
    /// [`ClientSetupError`] when `sec.user_agent` is not set or not a valid
    /// header, or the HTTP client cannot be built.
    pub fn new(config: &SecConfig, clock: Arc<dyn Clock>) -> Result<Self, ClientSetupError> {
        if !config.is_configured() {
            return Err(ClientSetupError::NoUserAgent);
        }
        let mut headers = HeaderMap::new();
        let agent = HeaderValue::from_str(config.user_agent.trim())
            .map_err(|_| ClientSetupError::BadHeader("sec.user_agent"))?;
        headers.insert(USER_AGENT, agent);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let http = HttpClient::new(
            PROVIDER,
            &config.base_url,
            config.requests_per_second.saturating_mul(60),
            Duration::from_secs(config.timeout_seconds),
            headers,
            clock,
            Resilience { retry: config.retry.clone(), breaker: config.breaker.clone() },
        )?
        // The SEC states a steady rate: spaced evenly, and never more in a second.
        .with_limit(WindowLimit::per_window(config.requests_per_second, Duration::from_secs(1)).spaced());
        Ok(Self {
            http,
            limit: config.body_limit(),
            tickers_url: config.tickers_url.clone(),
            tickers_file: config.tickers_file.clone(),
            max_older_pages: usize::try_from(config.max_older_pages).unwrap_or(usize::MAX),
            tickers: tokio::sync::OnceCell::new(),
        })
    }

    /// Requests sent so far.
    pub fn requests_sent(&self) -> u64 {
        self.http.requests_sent()
    }

    /// The client's health record, for `ivcd status`.
    pub fn health(&self) -> crate::providers::http::ProviderHealth {
        self.http.health()
    }

    /// A 403 from the SEC is its fair-access block, not a credential.
    fn explain(e: ProviderError) -> ProviderError {
        match e {
            ProviderError::Unauthorized { provider, request, status } => ProviderError::Status {
                provider,
                request,
                status,
                body:
                    "the SEC refused the request: check that sec.user_agent names you with a contact e-mail \
                       address, and that nothing else on this address sends more than 10 requests a second \
                       (the SEC then blocks it for 10 minutes)"
                        .into(),
            },
            other => other,
        }
    }

    async fn get(&self, path: &str, shown: &str) -> Result<String, ProviderError> {
        self.http.get_text(path, &[], shown, self.limit).await.map_err(Self::explain)
    }

    /// The ticker to CIK map: `sec.tickers_file` when set, else the SEC's
    /// company tickers file; read once per client.
    ///
    /// # Errors
    /// [`ProviderError`] for the file or the request.
    pub async fn company_tickers(&self) -> Result<Arc<BTreeMap<Ticker, Cik>>, ProviderError> {
        self.tickers
            .get_or_try_init(|| async {
                let parsed: CompanyTickers = match &self.tickers_file {
                    Some(path) => {
                        let shown = path.display().to_string();
                        let text = tokio::fs::read_to_string(path)
                            .await
                            .map_err(|source| ProviderError::Io { path: shown.clone(), source })?;
                        wire::parse_company_tickers(&text, &shown)?
                    }
                    None => {
                        let shown = format!("sec {}", self.tickers_url);
                        let body = self.get(&self.tickers_url, &shown).await?;
                        wire::parse_company_tickers(&body, &shown)?
                    }
                };
                if parsed.skipped > 0 {
                    tracing::debug!(
                        skipped = parsed.skipped,
                        "company tickers: entries without a valid ticker"
                    );
                }
                Ok(Arc::new(parsed.by_ticker))
            })
            .await
            .cloned()
    }

    /// The CIK of `ticker`.
    ///
    /// # Errors
    /// [`ProviderError::NoData`] when the tickers file does not list it.
    pub async fn cik(&self, ticker: &Ticker) -> Result<Cik, ProviderError> {
        self.company_tickers().await?.get(ticker).copied().ok_or_else(|| ProviderError::NoData {
            provider: PROVIDER,
            what: format!("{ticker} in the SEC's company tickers file"),
        })
    }

    /// An issuer's submissions file.
    ///
    /// # Errors
    /// [`ProviderError`] for the request or the body.
    pub async fn submissions(&self, cik: Cik) -> Result<wire::Submissions, ProviderError> {
        let path = format!("/submissions/CIK{cik}.json");
        let shown = format!("sec {path}");
        let body = self.get(&path, &shown).await?;
        Ok(wire::parse_submissions(&body, &shown)?)
    }

    /// One older page of an issuer's filings (a name from `filings.files`).
    ///
    /// # Errors
    /// [`ProviderError`] for the request or the body; a name that is not an
    /// EDGAR page name is refused without a request.
    pub async fn submissions_page(
        &self,
        name: &str,
    ) -> Result<Vec<crate::analysis::filing_timing::Filing>, ProviderError> {
        if !wire::OlderPage::valid_name(name) {
            return Err(ProviderError::NoData { provider: PROVIDER, what: format!("page {name:?}") });
        }
        let path = format!("/submissions/{name}");
        let shown = format!("sec {path}");
        let body = self.get(&path, &shown).await?;
        Ok(wire::parse_submissions_page(&body, &shown)?)
    }
}

#[async_trait]
impl SecFilings for SecClient {
    async fn earnings_filings(
        &self,
        ticker: &Ticker,
        since: NaiveDate,
    ) -> Result<IssuerFilings, ProviderError> {
        let cik = self.cik(ticker).await?;
        let submissions = self.submissions(cik).await?;
        let mut pages = Vec::new();
        for page in pages_to_read(&submissions, since, self.max_older_pages) {
            // The newest page stands on its own: a page that fails is
            // skipped, and `covers_from` says how far back the answer reaches.
            match self.submissions_page(&page.name).await {
                Ok(filings) => pages.push(filings),
                Err(e) => {
                    tracing::warn!(ticker = %ticker, page = page.name, error = %e, "older SEC page skipped")
                }
            }
        }
        Ok(issuer_filings(submissions, pages, since, format!("{PROVIDER}:data.sec.gov")))
    }
}

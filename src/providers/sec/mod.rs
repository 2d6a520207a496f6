//! SEC EDGAR: each issuer's Item 2.02 8-Ks (the earnings releases) with
//! their acceptance instants, for the timing audit
//! ([`crate::analysis::timing_audit`]).
//!
//! - `wire.rs`: parsers of the submissions file, its older pages and the
//!   company tickers file;
//! - `client.rs`: the live client (`data.sec.gov`, a User-Agent with a contact
//!   address, at most 10 requests a second through [`super::http::HttpClient`],
//!   whose retries and breaker apply);
//! - `files.rs`: the same over recorded submissions files;
//! - `cache.rs`: the response cache in front of either;
//! - `config.rs`: `[sec]`.
//!
//! Ticker to CIK: the live client reads the SEC's company tickers file (or
//! a local copy, `sec.tickers_file`). No recorded copy of that file exists
//! in `../shared/data`, so the recorded provider maps each ticker from the
//! `tickers` and `cik` the submissions files carry themselves.

use async_trait::async_trait;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::analysis::filing_timing::{Cik, Filing};
use crate::domain::Ticker;
use crate::providers::ProviderError;

pub mod cache;
pub mod client;
pub mod config;
pub mod files;
pub mod wire;

pub use config::SecConfig;

/// The provider name in errors, health and the response cache.
pub const PROVIDER: &str = "sec";

/// An issuer's earnings-release filings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerFilings {
    /// The issuer.
    pub cik: Cik,
    /// Its name on EDGAR.
    pub name: String,
    /// The tickers EDGAR lists for it.
    pub tickers: Vec<String>,
    /// Its 8-K and 8-K/A filings listing Item 2.02 filed on or after the
    /// date asked for, newest first.
    pub filings: Vec<Filing>,
    /// The oldest filing date (ET) the listing read covers, any form: older
    /// Item 2.02 filings may exist when this is after the date asked for.
    pub covers_from: Option<NaiveDate>,
    /// Where the answer came from (`sec:data.sec.gov` or the file).
    pub source: String,
}

/// An issuer's Item 2.02 8-Ks from EDGAR.
#[async_trait]
pub trait SecFilings: Send + Sync {
    /// The Item 2.02 8-Ks (and 8-K/As) of the issuer of `ticker` filed on
    /// or after `since` (ET), newest first.
    ///
    /// # Errors
    /// [`ProviderError::NoData`] when no issuer has that ticker; transport,
    /// status and parse errors as for every provider.
    async fn earnings_filings(
        &self,
        ticker: &Ticker,
        since: NaiveDate,
    ) -> Result<IssuerFilings, ProviderError>;
}

/// Assembles [`IssuerFilings`] from a submissions file and the older pages
/// read with it: the Item 2.02 8-Ks filed on or after `since`, newest first,
/// each accession once.
pub fn issuer_filings(
    submissions: wire::Submissions,
    pages: Vec<Vec<Filing>>,
    since: NaiveDate,
    source: String,
) -> IssuerFilings {
    let all: Vec<Filing> = submissions.filings.into_iter().chain(pages.into_iter().flatten()).collect();
    let covers_from = all.iter().map(|f| f.filing_date).min();
    let mut filings: Vec<Filing> =
        all.into_iter().filter(|f| f.is_item_202() && f.filing_date >= since).collect();
    filings.sort_by(|a, b| (b.accepted_at, &b.accession).cmp(&(a.accepted_at, &a.accession)));
    filings.dedup_by(|a, b| a.accession == b.accession);
    IssuerFilings {
        cik: submissions.cik,
        name: submissions.name,
        tickers: submissions.tickers,
        filings,
        covers_from,
        source,
    }
}

/// The older pages worth reading for filings since `since`: those whose
/// newest filing is on or after it, when the newest page's oldest filing
/// is after it, at most `max` of them (newest first).
pub fn pages_to_read(submissions: &wire::Submissions, since: NaiveDate, max: usize) -> Vec<wire::OlderPage> {
    let oldest = submissions.filings.iter().map(|f| f.filing_date).min();
    if oldest.is_some_and(|o| o <= since) {
        return Vec::new();
    }
    let mut pages: Vec<wire::OlderPage> =
        submissions.older_pages.iter().filter(|p| p.filing_to >= since).cloned().collect();
    pages.sort_by_key(|p| std::cmp::Reverse(p.filing_to));
    pages.truncate(max);
    pages
}

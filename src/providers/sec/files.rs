//! [`SecFilings`] over recorded submissions files (`CIK##########.json`) in
//! one or more directories, read in place and parsed by the live parsers.
//!
//! Ticker to CIK comes from the files themselves: each carries the issuer's
//! `cik` and `tickers`. No recorded copy of the SEC's company tickers file
//! exists in `../shared/data`; a ticker no file lists is
//! [`ProviderError::NoData`]. When two directories hold the same issuer, the
//! first listed wins. Older pages named by `filings.files` are read when
//! they are in the same directory (the recorded AAPL and MSFT files of
//! `krymer15__edgar-app` name pages that were not recorded: the answer's
//! `covers_from` then says how far back it reaches).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use chrono::NaiveDate;
use serde::Deserialize;

use super::wire::{self, CikWire};
use super::{IssuerFilings, PROVIDER, SecFilings, issuer_filings, pages_to_read};
use crate::domain::Ticker;
use crate::providers::{ParseError, ProviderError};
use crate::redact::Redacted;

/// Recorded submissions files.
#[derive(Debug)]
pub struct RecordedSec {
    dirs: Vec<PathBuf>,
    max_older_pages: usize,
    /// The index, or why it could not be built (kept: every later call says the same).
    index: std::sync::OnceLock<Result<BTreeMap<Ticker, PathBuf>, Redacted>>,
}

/// The head of a submissions file: who it is about.
#[derive(Deserialize)]
struct Head {
    cik: CikWire,
    #[serde(default)]
    tickers: Vec<Option<String>>,
}

fn io(path: &Path, source: std::io::Error) -> ProviderError {
    ProviderError::Io { path: path.display().to_string(), source }
}

/// The index could not be built (the message names the file).
fn index_error(message: &Redacted) -> ProviderError {
    ProviderError::Parse(ParseError::new("recorded SEC submissions files", message.as_str()))
}

impl RecordedSec {
    /// A provider over the `CIK*.json` files of `dirs` (first wins), reading
    /// at most `max_older_pages` older pages per issuer.
    pub fn new(dirs: Vec<PathBuf>, max_older_pages: usize) -> Self {
        Self { dirs, max_older_pages, index: std::sync::OnceLock::new() }
    }

    /// Ticker to file, from every file's `tickers` (first directory wins).
    fn build_index(&self) -> Result<BTreeMap<Ticker, PathBuf>, ProviderError> {
        let mut index = BTreeMap::new();
        for dir in &self.dirs {
            let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
                .map_err(|e| io(dir, e))?
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|p| {
                    p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                        n.starts_with("CIK") && n.ends_with(".json") && !n.contains("-submissions-")
                    })
                })
                .collect();
            files.sort();
            for path in files {
                let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
                let shown = path.display().to_string();
                let head: Head = serde_json::from_str(&text)
                    .map_err(|e| ParseError::new(shown.as_str(), format!("submissions head: {e}")))?;
                head.cik.cik("cik").map_err(|m| ParseError::new(shown.as_str(), m.to_string()))?;
                for ticker in head.tickers.into_iter().flatten().filter_map(|t| Ticker::new(&t).ok()) {
                    index.entry(ticker).or_insert_with(|| path.clone());
                }
            }
        }
        Ok(index)
    }

    /// The submissions file of `ticker`, if a recorded file lists it.
    ///
    /// # Errors
    /// [`ProviderError::Io`] or [`ProviderError::Parse`] naming a file that
    /// cannot be read while building the index (the first call builds it).
    pub fn file_of(&self, ticker: &Ticker) -> Result<Option<PathBuf>, ProviderError> {
        let index = self.index.get_or_init(|| self.build_index().map_err(|e| Redacted::from(e.to_string())));
        match index {
            Ok(index) => Ok(index.get(ticker).cloned()),
            Err(message) => Err(index_error(message)),
        }
    }

    /// Every ticker the recorded files list.
    ///
    /// # Errors
    /// As [`RecordedSec::file_of`].
    pub fn tickers(&self) -> Result<Vec<Ticker>, ProviderError> {
        let index = self.index.get_or_init(|| self.build_index().map_err(|e| Redacted::from(e.to_string())));
        match index {
            Ok(index) => Ok(index.keys().cloned().collect()),
            Err(message) => Err(index_error(message)),
        }
    }
}

#[async_trait]
impl SecFilings for RecordedSec {
    async fn earnings_filings(
        &self,
        ticker: &Ticker,
        since: NaiveDate,
    ) -> Result<IssuerFilings, ProviderError> {
        let path = self.file_of(ticker)?.ok_or_else(|| ProviderError::NoData {
            provider: PROVIDER,
            what: format!("{ticker}: no recorded submissions file lists it"),
        })?;
        let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
        let shown = path.display().to_string();
        let submissions = wire::parse_submissions(&text, &shown)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut pages = Vec::new();
        for page in pages_to_read(&submissions, since, self.max_older_pages) {
            let page_path = dir.join(&page.name);
            if !page_path.is_file() {
                continue;
            }
            let text = std::fs::read_to_string(&page_path).map_err(|e| io(&page_path, e))?;
            pages.push(wire::parse_submissions_page(&text, &page_path.display().to_string())?);
        }
        Ok(issuer_filings(submissions, pages, since, format!("file:{shown}")))
    }
}

//! Parsers of SEC EDGAR JSON: the submissions file of an issuer
//! (`data.sec.gov/submissions/CIK##########.json`), its older pages
//! (`CIK##########-submissions-001.json`, ...) and the company tickers file
//! (`www.sec.gov/files/company_tickers.json`).
//!
//! The submissions file is columnar: `filings.recent` holds one array per
//! field (`accessionNumber`, `filingDate`, `reportDate`,
//! `acceptanceDateTime`, `form`, `items`, ...), all of the same length, the
//! newest 1,000 or more filings; `filings.files` names the older pages,
//! each holding the same arrays at its top level. Only the fields ivcd uses
//! are read; any other is ignored, whitespace and key order do not matter
//! (so the re-serialised files of `annanyashah9__accounting-redflag-screen`,
//! older pages merged into `filings.recent`, read like the SEC's own).
//!
//! Parsers are pure functions of the body text: they never panic, and every
//! error names the input and the field (and row) at fault.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use crate::analysis::filing_timing::{Cik, Filing};
use crate::domain::Ticker;
use crate::providers::ParseError;

/// An issuer's submissions file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submissions {
    /// The issuer.
    pub cik: Cik,
    /// Its name on EDGAR.
    pub name: String,
    /// The tickers EDGAR lists for it (any text; a class share may be `ORCL-PD`).
    pub tickers: Vec<String>,
    /// Every filing of `filings.recent`, in the file's order (newest first).
    pub filings: Vec<Filing>,
    /// The older pages `filings.files` names (not fetched).
    pub older_pages: Vec<OlderPage>,
}

/// One older page of an issuer's filings, as `filings.files` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OlderPage {
    /// The file name, `CIK##########-submissions-###.json`.
    pub name: String,
    /// How many filings it holds.
    pub filing_count: u64,
    /// Its oldest filing date (ET).
    pub filing_from: NaiveDate,
    /// Its newest filing date (ET).
    pub filing_to: NaiveDate,
}

impl OlderPage {
    /// Whether `name` is an EDGAR page file name (`CIK` + 10 digits +
    /// `-submissions-` + 3 digits + `.json`), so it is safe in a URL or path.
    pub fn valid_name(name: &str) -> bool {
        let Some(rest) = name.strip_prefix("CIK") else { return false };
        let Some((digits, rest)) = rest.split_once("-submissions-") else { return false };
        let Some(number) = rest.strip_suffix(".json") else { return false };
        digits.len() == 10
            && digits.bytes().all(|b| b.is_ascii_digit())
            && number.len() == 3
            && number.bytes().all(|b| b.is_ascii_digit())
    }
}

/// A CIK written as a number or as digits in a string.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum CikWire {
    Number(u64),
    Text(String),
}

impl CikWire {
    pub(crate) fn cik(&self, field: &str) -> Result<Cik, FieldIssue> {
        match self {
            CikWire::Number(n) => Cik::new(*n),
            CikWire::Text(t) => Cik::parse(t),
        }
        .map_err(|error| FieldIssue::Cik { field: field.to_owned(), error })
    }
}

/// What is wrong with a field of an SEC file (the text of the
/// [`ParseError`] it becomes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FieldIssue {
    #[error("{field}: {error}")]
    Cik { field: String, error: crate::analysis::filing_timing::InvalidCik },
    #[error("{field}: {text:?} is not YYYY-MM-DD")]
    Date { field: String, text: String },
    #[error("{field}: {text:?} is not an RFC 3339 instant")]
    Instant { field: String, text: String },
    #[error("{0}: empty")]
    Empty(String),
    #[error("{prefix}.{field} has {len} entries but {prefix}.form has {n}")]
    Lengths { prefix: String, field: &'static str, len: usize, n: usize },
    #[error("filings.files[{index}].name: {name:?} is not an EDGAR page name")]
    PageName { index: usize, name: String },
}

#[derive(Deserialize)]
struct SubmissionsBody {
    cik: CikWire,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    tickers: Vec<Option<String>>,
    filings: FilingsBody,
}

#[derive(Deserialize)]
struct FilingsBody {
    recent: Columns,
    #[serde(default)]
    files: Vec<PageRef>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageRef {
    name: String,
    filing_count: u64,
    filing_from: String,
    filing_to: String,
}

/// The arrays of a filings listing (`filings.recent` or an older page).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Columns {
    accession_number: Vec<String>,
    filing_date: Vec<String>,
    report_date: Vec<String>,
    acceptance_date_time: Vec<String>,
    form: Vec<String>,
    items: Vec<String>,
}

/// Rejects what is plainly not JSON, with a useful message.
fn json_text<'a>(body: &'a str, input: &str) -> Result<&'a str, ParseError> {
    let body = body.strip_prefix('\u{feff}').unwrap_or(body);
    let trimmed = body.trim_start();
    if trimmed.is_empty() {
        return Err(ParseError::new(input, "empty body"));
    }
    if !trimmed.starts_with('{') {
        let start: String = trimmed.chars().take(80).collect();
        return Err(ParseError::new(
            input,
            format!("not a JSON object (an HTML page such as the SEC's rate-limit notice?): {start:?}"),
        ));
    }
    Ok(body)
}

fn date(text: &str, field: &str) -> Result<NaiveDate, FieldIssue> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| FieldIssue::Date { field: field.to_owned(), text: text.to_owned() })
}

impl Columns {
    /// The filings, one per row; `prefix` names the arrays in errors.
    fn filings(self, prefix: &str) -> Result<Vec<Filing>, FieldIssue> {
        let n = self.form.len();
        for (field, len) in [
            ("accessionNumber", self.accession_number.len()),
            ("filingDate", self.filing_date.len()),
            ("reportDate", self.report_date.len()),
            ("acceptanceDateTime", self.acceptance_date_time.len()),
            ("items", self.items.len()),
        ] {
            if len != n {
                return Err(FieldIssue::Lengths { prefix: prefix.to_owned(), field, len, n });
            }
        }
        let rows = self
            .accession_number
            .into_iter()
            .zip(self.filing_date)
            .zip(self.report_date)
            .zip(self.acceptance_date_time)
            .zip(self.form)
            .zip(self.items);
        rows.enumerate()
            .map(|(i, (((((accession, filing_date), report_date), accepted), form), items))| {
                let at = |field: &str| format!("{prefix}.{field}[{i}]");
                let filing_date = date(&filing_date, &at("filingDate"))?;
                let period = if report_date.trim().is_empty() {
                    None
                } else {
                    Some(date(&report_date, &at("reportDate"))?)
                };
                let accepted_at = DateTime::parse_from_rfc3339(&accepted)
                    .map_err(|_| FieldIssue::Instant {
                        field: at("acceptanceDateTime"),
                        text: accepted.clone(),
                    })?
                    .with_timezone(&Utc);
                if accession.trim().is_empty() {
                    return Err(FieldIssue::Empty(at("accessionNumber")));
                }
                // Only 8-K items are item numbers; other forms put other text there.
                let items = if form.starts_with("8-K") {
                    items.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
                } else {
                    Vec::new()
                };
                Ok(Filing { accession, form, items, filing_date, period, accepted_at })
            })
            .collect()
    }
}

/// Parses an issuer's submissions file (`data.sec.gov/submissions/CIK##########.json`).
///
/// # Errors
/// A [`ParseError`] naming `input`: not JSON, a missing `cik` or
/// `filings.recent` field or array, arrays of different lengths, or (naming
/// the array and row) a date that is not `YYYY-MM-DD` or an acceptance that
/// is not RFC 3339.
pub fn parse_submissions(body: &str, input: &str) -> Result<Submissions, ParseError> {
    let err = |message: String| ParseError::new(input, message);
    let issue = |why: FieldIssue| ParseError::new(input, why.to_string());
    let wire: SubmissionsBody =
        serde_json::from_str(json_text(body, input)?).map_err(|e| err(e.to_string()))?;
    let cik = wire.cik.cik("cik").map_err(issue)?;
    let filings = wire.filings.recent.filings("filings.recent").map_err(issue)?;
    let older_pages = wire
        .filings
        .files
        .into_iter()
        .enumerate()
        .map(|(i, page)| {
            if !OlderPage::valid_name(&page.name) {
                return Err(FieldIssue::PageName { index: i, name: page.name });
            }
            Ok(OlderPage {
                filing_from: date(&page.filing_from, &format!("filings.files[{i}].filingFrom"))?,
                filing_to: date(&page.filing_to, &format!("filings.files[{i}].filingTo"))?,
                name: page.name,
                filing_count: page.filing_count,
            })
        })
        .collect::<Result<_, _>>()
        .map_err(issue)?;
    Ok(Submissions {
        cik,
        name: wire.name.unwrap_or_default(),
        tickers: wire.tickers.into_iter().flatten().collect(),
        filings,
        older_pages,
    })
}

/// Parses an older page of an issuer's filings (the same arrays as
/// `filings.recent`, at the top level).
///
/// # Errors
/// As [`parse_submissions`], for the page's arrays.
pub fn parse_submissions_page(body: &str, input: &str) -> Result<Vec<Filing>, ParseError> {
    let err = |message: String| ParseError::new(input, message);
    let wire: Columns = serde_json::from_str(json_text(body, input)?).map_err(|e| err(e.to_string()))?;
    wire.filings("page").map_err(|why| err(why.to_string()))
}

/// The ticker to CIK map of the SEC's company tickers file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompanyTickers {
    /// Each ticker's CIK (the first entry wins when a ticker repeats).
    pub by_ticker: BTreeMap<Ticker, Cik>,
    /// Entries whose ticker is not a valid [`Ticker`] (left out).
    pub skipped: usize,
}

#[derive(Deserialize)]
struct TickerEntry {
    cik_str: CikWire,
    ticker: String,
}

/// Parses the SEC's company tickers file: an object of numbered entries,
/// `{"0": {"cik_str": 320193, "ticker": "AAPL", "title": "Apple Inc."}, ...}`.
///
/// Entries are taken in the order of their numeric keys (the SEC's order);
/// an entry whose ticker is not a valid [`Ticker`] is counted in `skipped`.
///
/// # Errors
/// A [`ParseError`] naming `input`: not JSON, not an object of entries, an
/// entry without `cik_str` or `ticker`, or (naming the entry) an invalid CIK.
pub fn parse_company_tickers(body: &str, input: &str) -> Result<CompanyTickers, ParseError> {
    let err = |message: String| ParseError::new(input, message);
    let wire: BTreeMap<String, TickerEntry> =
        serde_json::from_str(json_text(body, input)?).map_err(|e| err(e.to_string()))?;
    let mut entries: Vec<(u64, String, TickerEntry)> =
        wire.into_iter().map(|(key, entry)| (key.parse::<u64>().unwrap_or(u64::MAX), key, entry)).collect();
    entries.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let mut out = CompanyTickers::default();
    for (_, key, entry) in entries {
        let cik =
            entry.cik_str.cik(&format!("entry {key:?}: cik_str")).map_err(|why| err(why.to_string()))?;
        match Ticker::new(&entry.ticker) {
            Ok(ticker) => {
                out.by_ticker.entry(ticker).or_insert(cik);
            }
            Err(_) => out.skipped += 1,
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_names_are_checked() {
        assert!(OlderPage::valid_name("CIK0000320193-submissions-001.json"));
        for bad in ["../etc/passwd", "CIK320193-submissions-001.json", "CIK0000320193-submissions-1.json", ""]
        {
            assert!(!OlderPage::valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn not_json_is_named() {
        let e = parse_submissions("<html>Request Rate Threshold Exceeded</html>", "sec CIK0000320193")
            .unwrap_err();
        assert!(e.to_string().contains("not a JSON object"), "{e}");
        assert!(e.to_string().contains("sec CIK0000320193"), "{e}");
        assert!(parse_company_tickers("", "tickers").unwrap_err().to_string().contains("empty body"));
    }
}

//! `[sec]`: the SEC EDGAR provider of earnings-release filings.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::providers::resilience::{BreakerConfig, RetryConfig};
use crate::settings::Bounds;

/// The SEC's published limit, requests per second from one address
/// ("Accessing EDGAR Data", sec.gov/os/accessing-edgar-data).
pub const SEC_MAX_REQUESTS_PER_SECOND: u32 = 10;

/// `[sec]`: SEC EDGAR submissions (8-K Item 2.02 acceptance times) for the
/// timing audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecConfig {
    /// The User-Agent sent to the SEC: a name and a contact e-mail address,
    /// e.g. `"Jane Doe jane@example.com"` (the SEC refuses requests without
    /// one). Empty (the default): the SEC is not asked.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub user_agent: String,
    /// Base URL of the submissions API (default `https://data.sec.gov`).
    pub base_url: String,
    /// The company tickers file, ticker to CIK (default
    /// `https://www.sec.gov/files/company_tickers.json`).
    pub tickers_url: String,
    /// A local copy of the company tickers file, read instead of `tickers_url` (default unset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tickers_file: Option<PathBuf>,
    /// Requests per second, at most the SEC's 10 (default 10).
    pub requests_per_second: u32,
    /// Per-request timeout in seconds (default 30).
    pub timeout_seconds: u64,
    /// Hours an issuer's filings are reused from the response cache (default 12).
    pub cache_hours: u64,
    /// How many older pages of an issuer's submissions are fetched at most
    /// when the newest page does not reach back to the backfill's lookback (default 4).
    pub max_older_pages: u32,
    /// The largest answer read, KiB (default 4096: the largest recorded
    /// submissions file, CIK0000078003.json with its older pages merged in,
    /// is 1,064,002 bytes; the SEC's own first page is about 170 KB).
    pub max_body_kib: u64,
    /// Where a filing settles the timing of a past event, the history window
    /// measures the event with the filing's timing instead of the calendar's (default true).
    pub history_uses_filing_timing: bool,
    /// Retries of transient failures (`[..retry]`).
    pub retry: RetryConfig,
    /// The circuit breaker (`[..breaker]`).
    pub breaker: BreakerConfig,
}

impl Default for SecConfig {
    fn default() -> Self {
        Self {
            user_agent: String::new(),
            base_url: "https://data.sec.gov".into(),
            tickers_url: "https://www.sec.gov/files/company_tickers.json".into(),
            tickers_file: None,
            requests_per_second: SEC_MAX_REQUESTS_PER_SECOND,
            timeout_seconds: 30,
            cache_hours: 12,
            max_older_pages: 4,
            max_body_kib: 4096,
            history_uses_filing_timing: true,
            retry: RetryConfig::default(),
            breaker: BreakerConfig::default(),
        }
    }
}

/// Whether `text` holds something shaped like an e-mail address
/// (`local@domain.tld`, no spaces).
fn has_contact_address(text: &str) -> bool {
    text.split_whitespace().any(|word| {
        let word = word.trim_matches(|c: char| matches!(c, '<' | '>' | '(' | ')' | ',' | ';'));
        word.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.split('.').filter(|p| !p.is_empty()).count() >= 2
                && !domain.contains('@')
        })
    })
}

impl SecConfig {
    /// The body limit of every SEC answer.
    pub fn body_limit(&self) -> crate::providers::BodyLimit {
        crate::providers::BodyLimit { setting: "sec.max_body_kib", kib: self.max_body_kib }
    }

    /// Whether the SEC may be asked (a User-Agent is set).
    pub fn is_configured(&self) -> bool {
        !self.user_agent.trim().is_empty()
    }

    /// The bounds of this section's counts, durations and sizes: 1 to 10
    /// requests a second (the SEC's limit), 1 to 300 s, 1 to 720 hours, 0
    /// to 20 older pages, 1 KiB to 256 MiB, the retries and breaker.
    pub fn bounds(&self, b: &mut Bounds) {
        b.int("sec.requests_per_second", self.requests_per_second, 1, 10);
        b.int("sec.timeout_seconds", self.timeout_seconds, 1, 300);
        b.int("sec.cache_hours", self.cache_hours, 1, 720);
        b.int("sec.max_older_pages", self.max_older_pages, 0, 20);
        b.int("sec.max_body_kib", self.max_body_kib, 1, 262_144);
        self.retry.bounds(
            b,
            ["sec.retry.max_attempts", "sec.retry.initial_delay_ms", "sec.retry.max_delay_seconds"],
        );
        self.breaker.bounds(b, ["sec.breaker.failures", "sec.breaker.cool_down_seconds"]);
    }

    /// The problems of this section, one message per problem, each naming the key.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let ua = self.user_agent.trim();
        if !ua.is_empty() {
            if ua.len() > 200 || !ua.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                problems.push(
                    "sec.user_agent must be at most 200 printable ASCII characters (it is sent as a header)"
                        .to_owned(),
                );
            }
            if !has_contact_address(ua) {
                problems.push(format!(
                    "sec.user_agent = {ua:?} has no contact e-mail address: the SEC asks for a name and an \
                     address, e.g. \"Jane Doe jane@example.com\""
                ));
            }
        }
        for (key, url) in [("sec.base_url", &self.base_url), ("sec.tickers_url", &self.tickers_url)] {
            if reqwest::Url::parse(url).map(|u| !matches!(u.scheme(), "http" | "https")).unwrap_or(true) {
                problems.push(format!("{key} = {url:?} is not an http(s) URL"));
            }
        }
        // The counts, durations and sizes: SecConfig::bounds.
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_agent_needs_a_contact_address() {
        let ok = |ua: &str| SecConfig { user_agent: ua.into(), ..SecConfig::default() }.problems();
        assert!(ok("").is_empty(), "unset: the SEC is not asked");
        assert!(ok("Jane Doe jane@example.com").is_empty());
        assert!(ok("ivcd (ops@desk.example.org)").is_empty());
        for bad in ["ivcd", "Jane Doe jane@example", "jane@", "@example.com x"] {
            let p = ok(bad);
            assert!(p.iter().any(|p| p.contains("contact e-mail")), "{bad}: {p:?}");
        }
        assert!(ok("Jane \u{e9} jane@example.com").iter().any(|p| p.contains("printable ASCII")));
    }

    #[test]
    fn the_rate_is_bounded_by_the_secs_limit() {
        // The section's own checks and its bounds, as Config::validate reports them.
        let with = |requests_per_second| {
            let sec = SecConfig { requests_per_second, ..SecConfig::default() };
            let mut bounds = Bounds::default();
            sec.bounds(&mut bounds);
            let mut problems = sec.problems();
            problems.extend(bounds.0.iter().filter_map(crate::settings::Bounded::problem));
            problems
        };
        for rate in [0, 11] {
            let problems = with(rate);
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(problems[0].contains("sec.requests_per_second"), "{problems:?}");
        }
        assert!(with(10).is_empty());
        assert!(SecConfig::default().problems().is_empty());
    }
}

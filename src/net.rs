//! What every HTTP client in ivcd shares (the providers' [`HttpClient`] and
//! the alert channels): reading a response body within a size limit, and the
//! one parser of `Retry-After`.
//!
//! A body is never read whole into memory on trust: a data answer is read up
//! to its endpoint's limit (configured per endpoint, `[tradier.max_body_kib]`
//! and `[alpha_vantage.max_body_kib]`) and refused beyond it; an error
//! answer, of which only an excerpt is ever shown, is read up to
//! [`ERROR_BODY_LIMIT`] and the rest dropped. `reqwest::Response::text`,
//! `bytes` and `json` are disallowed in `clippy.toml` for that reason.
//!
//! [`HttpClient`]: crate::providers::http::HttpClient

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// The longest wait a `Retry-After` header can ask for: one day. A longer
/// (or absurd, `1e20`) value is cut to it; every caller caps it further
/// (a provider at its `retry.max_delay_seconds`, an alert by giving up
/// after `alerts.give_up_after_hours`).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// How much of an error answer's body is read, bytes (64 KiB): errors show
/// at most its first 200 characters.
pub const ERROR_BODY_LIMIT: u64 = 64 * 1024;

/// Why a body was not read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The body is larger than the limit: it was left unread (or read only
    /// up to the limit), so the process never holds more than the limit.
    #[error("the answer is larger than {limit} bytes")]
    TooLarge {
        /// The limit, bytes.
        limit: u64,
    },
    /// The connection failed while the body was read.
    #[error(transparent)]
    Transport(reqwest::Error),
}

/// Reads `response`'s body, at most `limit` bytes. An announced length
/// (`Content-Length`) above the limit is refused before a byte is read;
/// otherwise the body is read chunk by chunk and refused as soon as it
/// passes the limit.
///
/// # Errors
/// [`BodyError::TooLarge`], or [`BodyError::Transport`] when the connection fails.
pub async fn read_limited(mut response: reqwest::Response, limit: u64) -> Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|announced| announced > limit) {
        return Err(BodyError::TooLarge { limit });
    }
    let expected = response.content_length().unwrap_or(0).min(limit);
    let mut body = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        let len = u64::try_from(body.len().saturating_add(chunk.len())).unwrap_or(u64::MAX);
        if len > limit {
            return Err(BodyError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The start of `response`'s body as text (invalid UTF-8 replaced), with
/// every secret redacted ([`crate::redact`]): at most [`ERROR_BODY_LIMIT`]
/// bytes are read and the rest is dropped. For error answers, whose body is
/// only ever shown as an excerpt; a connection that fails mid-body gives
/// what arrived.
pub async fn read_error_body(mut response: reqwest::Response) -> crate::redact::Redacted {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = usize::try_from(ERROR_BODY_LIMIT).unwrap_or(usize::MAX).saturating_sub(body.len());
        body.extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
        if body.len() >= usize::try_from(ERROR_BODY_LIMIT).unwrap_or(usize::MAX) {
            break;
        }
    }
    crate::redact::Redacted::new(&String::from_utf8_lossy(&body))
}

/// The wait a response's `Retry-After` header asks for, at most
/// [`MAX_RETRY_AFTER`] (see [`parse_retry_after`]); `None` without a valid header.
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    parse_retry_after(headers.get(RETRY_AFTER)?.to_str().ok()?, now)
}

/// Parses a `Retry-After` value (RFC 9110 §10.2.3): delay-seconds (digits
/// only, any number of them) or an HTTP-date (IMF-fixdate, or the obsolete
/// RFC 850 and asctime forms, through the `httpdate` crate), measured from
/// `now`. The wait is at most [`MAX_RETRY_AFTER`]; a date in the past is no
/// wait. Anything else (`1e20`, `-5`, `soon`) is `None`: the caller's own
/// backoff applies.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // More digits than a u64 holds is still "a very long wait".
        let seconds = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let since_epoch = at.duration_since(std::time::UNIX_EPOCH).ok()?;
    let at = DateTime::<Utc>::from_timestamp(i64::try_from(since_epoch.as_secs()).ok()?, 0)?;
    Some((at - now).to_std().unwrap_or(Duration::ZERO).min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z").unwrap().with_timezone(&Utc)
    }

    #[test]
    fn retry_after_reads_seconds_and_every_http_date_form() {
        assert_eq!(parse_retry_after("120", now()), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 0 ", now()), Some(Duration::ZERO));
        // RFC 9110's three date forms, one minute after `now`.
        for date in
            ["Wed, 21 Oct 2015 07:29:00 GMT", "Wednesday, 21-Oct-15 07:29:00 GMT", "Wed Oct 21 07:29:00 2015"]
        {
            assert_eq!(parse_retry_after(date, now()), Some(Duration::from_secs(60)), "{date}");
        }
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now()), Some(Duration::ZERO), "past");
    }

    #[test]
    fn retry_after_is_bounded_and_never_panics() {
        for huge in ["86401", "18446744073709551615", "99999999999999999999999999999999"] {
            assert_eq!(parse_retry_after(huge, now()), Some(MAX_RETRY_AFTER), "{huge}");
        }
        assert_eq!(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now()), Some(MAX_RETRY_AFTER));
        for junk in ["1e20", "-5", "1.5", "inf", "NaN", "", "soon", "Wed, 32 Oct 2015 07:29:00 GMT"] {
            assert_eq!(parse_retry_after(junk, now()), None, "{junk}");
        }
    }
}

//! The provider response cache (table `response_cache`).

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Db, StoreError, instant_text};

impl Db<'_> {
    /// The cached body of `request` from `provider`, if one has not expired at `now`.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn cached_response(
        &mut self,
        provider: &str,
        request: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        // Cached statements: a scan reads and writes the cache per request.
        self.conn
            .prepare_cached(
                "SELECT body FROM response_cache WHERE provider = ?1 AND request = ?2 AND expires_at > ?3",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![provider, request, instant_text(now)], |r| r.get(0)).optional()
            })
            .map_err(self.err("read the response cache"))
    }

    /// Keeps `body` for `request` until `expires_at`, replacing an older entry,
    /// and drops every expired entry.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn cache_response(
        &mut self,
        provider: &str,
        request: &str,
        kind: &str,
        body: &str,
        fetched_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO response_cache (provider, request, kind, body, fetched_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![provider, request, kind, body, instant_text(fetched_at), instant_text(expires_at)])
            })
            .map_err(self.err("write the response cache"))?;
        self.conn
            .prepare_cached("DELETE FROM response_cache WHERE expires_at <= ?1")
            .and_then(|mut stmt| stmt.execute([instant_text(fetched_at)]))
            .map_err(self.err("prune the response cache"))?;
        Ok(())
    }

    /// Every unexpired request cached from `provider` at `now`, with when it
    /// expires (UTC): what a cache in front of a provider knows it holds.
    ///
    /// # Errors
    /// SQLite errors, or an expiry that is not an instant.
    pub fn cached_requests(
        &mut self,
        provider: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
        let rows: Vec<(String, String)> = self
            .conn
            .prepare_cached(
                "SELECT request, expires_at FROM response_cache WHERE provider = ?1 AND expires_at > ?2",
            )
            .and_then(|mut stmt| {
                stmt.query_map(params![provider, instant_text(now)], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            })
            .map_err(self.err("read the response cache"))?;
        rows.into_iter()
            .map(|(request, expires)| {
                Ok((request, super::rows::parse_instant(self, "response_cache", "expires_at", &expires)?))
            })
            .collect()
    }

    /// [`Db::cache_response`] for each of `entries` (request, kind, body,
    /// fetched at, expires at), in one transaction, then drops every entry
    /// expired at `now`.
    ///
    /// # Errors
    /// SQLite errors; nothing is written then.
    pub fn cache_responses(
        &mut self,
        provider: &str,
        entries: &[CacheEntry],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.transaction(|db| {
            for e in entries {
                db.conn
                    .prepare_cached(
                        "INSERT OR REPLACE INTO response_cache (provider, request, kind, body, fetched_at, expires_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )
                    .and_then(|mut stmt| {
                        stmt.execute(params![
                            provider,
                            e.request,
                            e.kind,
                            e.body,
                            instant_text(e.fetched_at),
                            instant_text(e.expires_at)
                        ])
                    })
                    .map_err(db.err("write the response cache"))?;
            }
            db.conn
                .prepare_cached("DELETE FROM response_cache WHERE expires_at <= ?1")
                .and_then(|mut stmt| stmt.execute([instant_text(now)]))
                .map_err(db.err("prune the response cache"))?;
            Ok(())
        })
    }
}

/// One answer to keep in the response cache ([`Db::cache_responses`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheEntry {
    /// The request, as the cache names it (`chain CVNA 2023-07-21`; no credentials).
    pub request: String,
    /// `chain`, `expirations` or `sec_filings`.
    pub kind: &'static str,
    /// The parsed answer as JSON.
    pub body: String,
    /// When it was fetched (UTC).
    pub fetched_at: DateTime<Utc>,
    /// When it expires (UTC).
    pub expires_at: DateTime<Utc>,
}

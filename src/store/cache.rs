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
}

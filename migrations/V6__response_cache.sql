-- Provider answers kept for a while (docs/reliability.md, "Response cache"),
-- so a restart mid-scan does not ask again for what it already has. The body
-- is the parsed answer as JSON (never a format that can execute code).
--   SELECT provider, kind, request, fetched_at, expires_at FROM response_cache;
CREATE TABLE response_cache (
    provider    TEXT NOT NULL,
    request     TEXT NOT NULL,   -- e.g. 'chain CVNA 2023-07-21' (no credentials)
    kind        TEXT NOT NULL CHECK (kind IN ('chain', 'expirations')),
    body        TEXT NOT NULL,   -- JSON
    fetched_at  TEXT NOT NULL,   -- UTC
    expires_at  TEXT NOT NULL,   -- UTC
    PRIMARY KEY (provider, request)
) STRICT;
CREATE INDEX response_cache_expiry ON response_cache (expires_at);

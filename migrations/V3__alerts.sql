-- ivcd schema, version 3: the alerts outbox.
--
-- A report (today: a scan's ranked setups) is written to `alerts` in the
-- same transaction as the scan it reports, with one `alert_deliveries` row
-- per channel configured at that moment. The delivery worker sends the
-- pending rows and marks them; rows survive restarts. The report itself is
-- rendered from the stored scan at send time, never kept twice.

CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('scan', 'review')),
    -- 'scan/<slot RFC 3339 UTC>': which report this is.
    report_key  TEXT NOT NULL,
    -- The scan reported; NULL once that scan was replaced by a re-run of its slot.
    scan_id     INTEGER REFERENCES scans (id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL
) STRICT;
CREATE INDEX alerts_by_scan ON alerts (scan_id);

-- One row per alert and channel. `state`:
--   pending     due at next_attempt_at;
--   sending     an attempt is in flight (left so by a crash: sent again on start);
--   sent        the channel accepted it (delivered_at);
--   failed      a permanent refusal, or still failing after alerts.give_up_after_hours;
--   superseded  its scan was replaced by a re-run of the same slot before it was sent.
CREATE TABLE alert_deliveries (
    alert_id         INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    channel          TEXT NOT NULL,
    -- '<report_key>/<alert id>/<channel>': sent as the Idempotency-Key header
    -- and in the email's Message-ID, so a receiver can drop a repeat.
    idempotency_key  TEXT NOT NULL UNIQUE,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'superseded')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    last_attempt_at  TEXT,
    last_error       TEXT,
    delivered_at     TEXT,
    finished_at      TEXT,
    PRIMARY KEY (alert_id, channel)
) STRICT;
CREATE INDEX alert_deliveries_by_state ON alert_deliveries (state, next_attempt_at);

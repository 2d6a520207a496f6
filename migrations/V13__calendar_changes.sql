-- Issue 23, item 5: every calendar refresh's version of each upcoming
-- event, the date and timing changes between two refreshes, and their
-- alerts (docs/timing-audit.md#date-changes). Version 13: version 12 is
-- another branch's (calibration).

-- Each refresh's listing, one row per event it listed. `status`: whether
-- the vendor calls the date confirmed or estimated; Alpha Vantage says
-- neither, so 'unknown'.
--   SELECT refreshed_at, report_date, timing FROM calendar_versions WHERE ticker = 'AAPL' ORDER BY refreshed_at;
CREATE TABLE calendar_versions (
    ticker        TEXT NOT NULL,
    report_date   TEXT NOT NULL,
    timing        TEXT NOT NULL CHECK (timing IN ('bmo', 'amc', 'dmh', 'unknown')),
    status        TEXT NOT NULL CHECK (status IN ('confirmed', 'estimated', 'unknown')),
    source        TEXT NOT NULL,
    refreshed_at  TEXT NOT NULL,
    PRIMARY KEY (source, refreshed_at, ticker, report_date)
) STRICT;
CREATE INDEX calendar_versions_by_ticker ON calendar_versions (ticker, refreshed_at);

-- The outbox carries date-change alerts too: the kind check of V3 is
-- widened. SQLite cannot alter a CHECK, so `alerts` is rebuilt, and with it
-- `alert_deliveries`, whose foreign key would otherwise cascade the drop.
CREATE TABLE alerts_v13 (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('scan', 'review', 'date_change')),
    report_key  TEXT NOT NULL,
    scan_id     INTEGER REFERENCES scans (id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL
) STRICT;
INSERT INTO alerts_v13 (id, kind, report_key, scan_id, created_at)
    SELECT id, kind, report_key, scan_id, created_at FROM alerts;
CREATE TABLE alert_deliveries_v13 (
    alert_id         INTEGER NOT NULL REFERENCES alerts_v13 (id) ON DELETE CASCADE,
    channel          TEXT NOT NULL,
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
INSERT INTO alert_deliveries_v13 (alert_id, channel, idempotency_key, state, attempts, next_attempt_at,
                                  last_attempt_at, last_error, delivered_at, finished_at)
    SELECT alert_id, channel, idempotency_key, state, attempts, next_attempt_at,
           last_attempt_at, last_error, delivered_at, finished_at FROM alert_deliveries;
DROP TABLE alert_deliveries;
DROP TABLE alerts;
ALTER TABLE alerts_v13 RENAME TO alerts;
ALTER TABLE alert_deliveries_v13 RENAME TO alert_deliveries;
CREATE INDEX alerts_by_scan ON alerts (scan_id);
CREATE INDEX alert_deliveries_by_state ON alert_deliveries (state, next_attempt_at);

-- A stored upcoming event whose date or timing a later refresh of the same
-- source changed. `alert_reason`: why it was alerted ('alerted_setup': a
-- scan whose alert was queued listed the event; 'crosses_expiration': the
-- new reaction session is after the expiration a scan chose for it), NULL
-- when it was not; `alert_id` the queued alert.
--   SELECT ticker, old_report_date, old_timing, new_report_date, new_timing, alert_reason FROM calendar_changes;
CREATE TABLE calendar_changes (
    id               INTEGER PRIMARY KEY,
    ticker           TEXT NOT NULL,
    source           TEXT NOT NULL,
    old_report_date  TEXT NOT NULL,
    old_timing       TEXT NOT NULL CHECK (old_timing IN ('bmo', 'amc', 'dmh', 'unknown')),
    new_report_date  TEXT NOT NULL,
    new_timing       TEXT NOT NULL CHECK (new_timing IN ('bmo', 'amc', 'dmh', 'unknown')),
    detected_at      TEXT NOT NULL,
    alert_reason     TEXT CHECK (alert_reason IN ('alerted_setup', 'crosses_expiration')),
    alert_id         INTEGER REFERENCES alerts (id) ON DELETE SET NULL
) STRICT;
CREATE INDEX calendar_changes_by_ticker ON calendar_changes (ticker, detected_at);

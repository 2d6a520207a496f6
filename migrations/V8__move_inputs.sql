-- What each ticker's stored historical moves were computed from: its past
-- report dates and timings, the bar ranges fetched, the last completed
-- session, the timing-check parameters and the exchange's calendar
-- overrides, as text. A backfill whose inputs for a ticker are unchanged
-- recomputes nothing for it (issue 8: an incremental re-run does no work).
CREATE TABLE move_inputs (
    ticker      TEXT PRIMARY KEY,
    inputs      TEXT NOT NULL,
    computed_at TEXT NOT NULL
) STRICT;

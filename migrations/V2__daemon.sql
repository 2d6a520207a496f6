-- ivcd schema, version 2: what the daemon needs beyond the scan pipeline.

-- Days on which the exchange's own calendar (Tradier /v1/markets/calendar)
-- disagrees with ivcd's rule-based NYSE calendar. The exchange's answer wins
-- for that day; `ivcd status` lists these rows. Times are ET wall-clock
-- `HH:MM`; NULL open and close mean closed all day.
CREATE TABLE calendar_overrides (
    date        TEXT PRIMARY KEY,
    open        TEXT,
    close       TEXT,
    rule_open   TEXT,
    rule_close  TEXT,
    source      TEXT NOT NULL,
    fetched_at  TEXT NOT NULL,
    CHECK ((open IS NULL) = (close IS NULL)),
    CHECK ((rule_open IS NULL) = (rule_close IS NULL))
) STRICT;

-- The daemon looks up the runs of a slot, and the runs left 'running' by a crash.
CREATE INDEX job_runs_by_outcome ON job_runs (outcome);

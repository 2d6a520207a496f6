-- Issue 21: recorded implied moves (EarningsWatcher's dataset) beside the
-- ones ivcd computes from end-of-day chains, and the calibration's derived
-- rows.
--
-- historical_implied_moves gains the method (computed from a chain's
-- quotes, or recorded by a third party as a percentage), the source's
-- rounding and how the event's timing was decided. One row per (ticker,
-- report date, source): a chain-computed and a recorded figure of the same
-- event are two rows that say which is which, never one overwriting the
-- other. SQLite cannot change a primary key in place: the table is rebuilt.
CREATE TABLE historical_implied_moves_v10 (
    ticker           TEXT NOT NULL,
    report_date      TEXT NOT NULL,
    timing           TEXT NOT NULL CHECK (timing IN ('bmo', 'amc')),
    chain_date       TEXT NOT NULL,   -- the reference session: its close is the one the figure belongs to (ET)
    reaction_session TEXT NOT NULL,
    source           TEXT NOT NULL,
    method           TEXT NOT NULL DEFAULT 'chain' CHECK (method IN ('chain', 'recorded')),
    rounding         REAL,            -- the source's rounding step, fraction (0.001 = 0.1 point); NULL: exact from quotes
    timing_basis     TEXT NOT NULL DEFAULT 'event', -- 'event' (the stored event's) or how calibrate decided it
    expiration       TEXT,
    spot             TEXT,            -- the reference close, USD
    straddle         TEXT,            -- USD per share, from the chain's bid/ask mids
    implied_move     REAL,            -- straddle / spot, fraction
    reason           TEXT,
    fetched_at       TEXT NOT NULL,   -- UTC
    PRIMARY KEY (ticker, report_date, source),
    CHECK ((implied_move IS NULL) <> (reason IS NULL)),
    CHECK ((method = 'recorded') = (rounding IS NOT NULL))
) STRICT;

INSERT INTO historical_implied_moves_v10 (ticker, report_date, timing, chain_date, reaction_session, source,
    expiration, spot, straddle, implied_move, reason, fetched_at)
SELECT ticker, report_date, timing, chain_date, reaction_session, source,
       expiration, spot, straddle, implied_move, reason, fetched_at
FROM historical_implied_moves;

DROP TABLE historical_implied_moves;
ALTER TABLE historical_implied_moves_v10 RENAME TO historical_implied_moves;
-- Still one chain-computed row per event: the backtest's INSERT OR REPLACE
-- replaces an earlier attempt whatever its source text.
CREATE UNIQUE INDEX historical_implied_moves_one_chain
    ON historical_implied_moves (ticker, report_date) WHERE method = 'chain';

-- One row per report of the recorded dataset (`ivcd calibrate`): its
-- figures as printed, the timing decided for it, and the judgement as the
-- scan would have made it (JSON). Derived rows, replaced whole when any
-- input changes (calibration_inputs).
CREATE TABLE calibration_events (
    ticker           TEXT NOT NULL,
    report_date      TEXT NOT NULL,
    source           TEXT NOT NULL,
    implied_move_pct TEXT NOT NULL,   -- percent as the source printed it
    close_move_pct   TEXT NOT NULL,
    peak_move_pct    TEXT NOT NULL,
    timing           TEXT CHECK (timing IN ('bmo', 'amc')),
    timing_basis     TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('judged', 'no_bars', 'ambiguous_timing')),
    reason           TEXT,
    detail           TEXT NOT NULL,   -- JSON: {"timing": ..., "judgement": ...}
    vrp              REAL GENERATED ALWAYS AS (json_extract(detail, '$.judgement.vrp')) VIRTUAL,
    tier             TEXT GENERATED ALWAYS AS (json_extract(detail, '$.judgement.tier')) VIRTUAL,
    gap_move         REAL GENERATED ALWAYS AS (json_extract(detail, '$.judgement.outcome.gap_move')) VIRTUAL,
    computed_at      TEXT NOT NULL,   -- UTC
    PRIMARY KEY (ticker, report_date, source)
) STRICT;

-- What the stored calibration rows were computed from (a SHA-256 of the
-- files and settings): a re-run with the same inputs reuses them.
CREATE TABLE calibration_inputs (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    fingerprint TEXT NOT NULL,
    rows        INTEGER NOT NULL,
    computed_at TEXT NOT NULL
) STRICT;

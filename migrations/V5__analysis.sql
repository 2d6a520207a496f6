-- The full analysis (docs/analysis.md): calendar sanity of past events, every
-- figure of a candidate's analysis with its explained score, and the implied
-- moves backfilled from end-of-day chains for `ivcd backtest`.

-- Calendar sanity: the gap at the session the other timing would imply
-- (BMO <-> AMC), and whether that gap is so much larger that the stated timing
-- is suspect. Suspect events are left out of the means unless configured.
ALTER TABLE historical_moves ADD COLUMN other_session_gap_move REAL;
ALTER TABLE historical_moves ADD COLUMN timing_suspect INTEGER NOT NULL DEFAULT 0
    CHECK (timing_suspect IN (0, 1));

-- The whole analysis of a candidate as JSON (docs/json.md, "Analysis"): term
-- structure, event move, skew, liquidity, consistency, probability bounds and
-- the score with its components. NULL for scans stored before this migration.
-- The columns after it are read out of it, so they can never disagree.
ALTER TABLE candidates ADD COLUMN analysis TEXT;
ALTER TABLE candidates ADD COLUMN score REAL
    GENERATED ALWAYS AS (json_extract(analysis, '$.score.total')) VIRTUAL;
ALTER TABLE candidates ADD COLUMN liquidity TEXT
    GENERATED ALWAYS AS (json_extract(analysis, '$.liquidity.verdict')) VIRTUAL;
ALTER TABLE candidates ADD COLUMN event_move REAL
    GENERATED ALWAYS AS (json_extract(analysis, '$.term.event.event_move')) VIRTUAL;
ALTER TABLE candidates ADD COLUMN term_slope REAL
    GENERATED ALWAYS AS (json_extract(analysis, '$.term.slope.per_day')) VIRTUAL;
ALTER TABLE candidates ADD COLUMN skew_shape TEXT
    GENERATED ALWAYS AS (json_extract(analysis, '$.skew.shape')) VIRTUAL;

-- One row per score component of every candidate, for reading with sqlite3:
--   SELECT * FROM candidate_score_components WHERE ticker = 'CVNA';
CREATE VIEW candidate_score_components AS
SELECT c.scan_id,
       c.ticker,
       c.rank,
       round(c.score, 1)                                       AS score,
       json_extract(j.value, '$.name')                         AS component,
       round(json_extract(j.value, '$.value'), 3)              AS value,
       json_extract(j.value, '$.weight')                       AS weight,
       round(json_extract(j.value, '$.points'), 1)             AS points,
       json_extract(j.value, '$.explanation')                  AS explanation
FROM candidates c, json_each(c.analysis, '$.score.components') j
WHERE c.analysis IS NOT NULL;

DROP VIEW latest_scan_ranked;
-- The latest scan's candidates in rank order (unanalysable and rejected ones
-- last), with moves in percent for reading.
CREATE VIEW latest_scan_ranked AS
SELECT s.slot,
       c.rank,
       c.ticker,
       c.timing,
       c.report_date,
       c.reaction_session,
       c.expiration,
       c.spot,
       c.straddle,
       round(c.implied_move * 100, 2)         AS implied_move_pct,
       round(c.historical_mean_move * 100, 2) AS historical_mean_move_pct,
       c.n_events,
       round(c.vrp, 3)                        AS vrp,
       c.tier,
       round(c.edge_score, 3)                 AS edge_score,
       round(c.score, 1)                      AS score,
       c.liquidity,
       round(c.event_move * 100, 2)           AS event_move_pct,
       round(c.term_slope, 5)                 AS term_slope,
       c.skew_shape,
       c.reason
FROM candidates c
JOIN scans s ON s.id = c.scan_id
WHERE s.id = (SELECT id FROM scans ORDER BY as_of DESC, id DESC LIMIT 1)
ORDER BY c.rank IS NULL, c.rank, c.ticker;

DROP VIEW ticker_moves;
-- A ticker's past moves, newest first, in percent; `timing_suspect` marks an
-- event whose larger gap is at the other session than its timing implies.
CREATE VIEW ticker_moves AS
SELECT ticker,
       report_date,
       timing,
       reference_session,
       reaction_session,
       reference_close,
       reaction_open,
       reaction_close,
       round(gap_move * 100, 2)               AS gap_move_pct,
       round(close_to_close_move * 100, 2)    AS close_to_close_move_pct,
       round(other_session_gap_move * 100, 2) AS other_session_gap_move_pct,
       timing_suspect
FROM historical_moves
ORDER BY ticker, report_date DESC;

-- Implied moves at the close before past events, from end-of-day chains
-- (Alpha Vantage HISTORICAL_OPTIONS), for `ivcd backtest`. A row without an
-- implied move says why in `reason`; nothing is estimated in its place.
CREATE TABLE historical_implied_moves (
    ticker          TEXT NOT NULL,
    report_date     TEXT NOT NULL,
    timing          TEXT NOT NULL CHECK (timing IN ('bmo', 'amc')),
    chain_date      TEXT NOT NULL,   -- the reference session whose end-of-day chain was read (ET)
    reaction_session TEXT NOT NULL,
    source          TEXT NOT NULL,
    expiration      TEXT,
    spot            TEXT,            -- the reference close, USD
    straddle        TEXT,            -- USD per share, from the chain's bid/ask mids
    implied_move    REAL,            -- straddle / spot, fraction
    reason          TEXT,
    fetched_at      TEXT NOT NULL,   -- UTC
    PRIMARY KEY (ticker, report_date),
    CHECK ((implied_move IS NULL) <> (reason IS NULL))
) STRICT;

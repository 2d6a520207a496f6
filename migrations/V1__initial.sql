-- ivcd schema, version 1. Never edit once shipped: add a new V<n>__name.sql.
--
-- Conventions: dates are 'YYYY-MM-DD' (America/New_York market dates);
-- instants are RFC 3339 in UTC ('2023-07-18T19:00:00Z'); money is decimal
-- TEXT exactly as the source gave it (USD per share); moves and implied
-- volatilities are REAL fractions (0.1296 = 12.96%). Tables are STRICT.

-- Earnings reports, upcoming and past. One row per (ticker, report date).
CREATE TABLE earnings_events (
    ticker       TEXT NOT NULL,
    report_date  TEXT NOT NULL,
    timing       TEXT NOT NULL CHECK (timing IN ('bmo', 'amc', 'dmh', 'unknown')),
    source       TEXT NOT NULL,
    fetched_at   TEXT NOT NULL,
    PRIMARY KEY (ticker, report_date)
) STRICT;
CREATE INDEX earnings_events_by_date ON earnings_events (report_date);

-- Daily OHLCV bars of underlyings.
CREATE TABLE daily_bars (
    ticker      TEXT NOT NULL,
    date        TEXT NOT NULL,
    open        TEXT NOT NULL,
    high        TEXT NOT NULL,
    low         TEXT NOT NULL,
    close       TEXT NOT NULL,
    volume      INTEGER,
    source      TEXT NOT NULL,
    fetched_at  TEXT NOT NULL,
    PRIMARY KEY (ticker, date)
) STRICT;

-- Which date ranges of bars were requested from which source, so a backfill
-- never fetches the same range twice (even when the source had no bars in it).
CREATE TABLE bar_fetches (
    ticker      TEXT NOT NULL,
    source      TEXT NOT NULL,
    first_date  TEXT NOT NULL,
    last_date   TEXT NOT NULL,
    fetched_at  TEXT NOT NULL,
    n_bars      INTEGER NOT NULL
) STRICT;
CREATE INDEX bar_fetches_by_ticker ON bar_fetches (ticker);

-- Which tickers' past earnings were read from which source, and when.
CREATE TABLE history_fetches (
    ticker      TEXT NOT NULL,
    source      TEXT NOT NULL,
    fetched_at  TEXT NOT NULL,
    n_events    INTEGER NOT NULL,
    PRIMARY KEY (ticker, source)
) STRICT;

-- One measured move per past event (see `definition`).
CREATE TABLE historical_moves (
    ticker               TEXT NOT NULL,
    report_date          TEXT NOT NULL,
    timing               TEXT NOT NULL CHECK (timing IN ('bmo', 'amc')),
    reference_session    TEXT NOT NULL,
    reaction_session     TEXT NOT NULL,
    reference_close      TEXT NOT NULL,
    reaction_open        TEXT NOT NULL,
    reaction_high        TEXT NOT NULL,
    reaction_low         TEXT NOT NULL,
    reaction_close       TEXT NOT NULL,
    gap_move             REAL NOT NULL,
    close_to_close_move  REAL NOT NULL,
    definition           TEXT NOT NULL,
    computed_at          TEXT NOT NULL,
    PRIMARY KEY (ticker, report_date)
) STRICT;

-- Option chain snapshots: the underlying quote and every contract as the
-- source gave them. Tradier serves no quotes for expired options, so these
-- are the only record of what a straddle cost.
CREATE TABLE chain_snapshots (
    id               INTEGER PRIMARY KEY,
    ticker           TEXT NOT NULL,
    as_of            TEXT NOT NULL,
    source           TEXT NOT NULL,
    underlying_bid   TEXT,
    underlying_ask   TEXT,
    underlying_last  TEXT,
    stored_at        TEXT NOT NULL
) STRICT;
CREATE INDEX chain_snapshots_by_ticker ON chain_snapshots (ticker, as_of);

CREATE TABLE option_quotes (
    snapshot_id    INTEGER NOT NULL REFERENCES chain_snapshots (id) ON DELETE CASCADE,
    expiration     TEXT NOT NULL,
    strike         TEXT NOT NULL,
    option_right   TEXT NOT NULL CHECK (option_right IN ('call', 'put')),
    symbol         TEXT,
    bid            TEXT,
    ask            TEXT,
    last           TEXT,
    volume         INTEGER,
    open_interest  INTEGER,
    iv             REAL,
    delta          REAL,
    contract_size  INTEGER
) STRICT;
CREATE INDEX option_quotes_by_snapshot ON option_quotes (snapshot_id, expiration);

-- Job runs: one row per run of a job for a scheduled slot.
CREATE TABLE job_runs (
    id           INTEGER PRIMARY KEY,
    job          TEXT NOT NULL,
    slot         TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    outcome      TEXT NOT NULL CHECK (outcome IN ('running', 'ok', 'failed', 'interrupted', 'skipped')),
    error        TEXT,
    counts       TEXT
) STRICT;
CREATE INDEX job_runs_by_job ON job_runs (job, slot);

-- Scans: one per slot (a re-run of the same slot replaces it).
CREATE TABLE scans (
    id              INTEGER PRIMARY KEY,
    slot            TEXT NOT NULL UNIQUE,
    as_of           TEXT NOT NULL,
    session_date    TEXT NOT NULL,
    next_session    TEXT NOT NULL,
    started_at      TEXT NOT NULL,
    finished_at     TEXT NOT NULL,
    n_candidates    INTEGER NOT NULL,
    n_ranked        INTEGER NOT NULL,
    job_run_id      INTEGER REFERENCES job_runs (id)
) STRICT;

-- Every candidate of a scan with every input and output of its analysis.
-- A candidate that could not be analysed has a reason and NULL figures.
CREATE TABLE candidates (
    scan_id                 INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    rank                    INTEGER,
    ticker                  TEXT NOT NULL,
    report_date             TEXT NOT NULL,
    timing                  TEXT NOT NULL,
    reference_session       TEXT,
    reaction_session        TEXT,
    expiration              TEXT,
    spot                    TEXT,
    spot_source             TEXT,
    straddle                TEXT,
    straddle_method         TEXT,
    lower_strike            TEXT,
    lower_straddle          TEXT,
    upper_strike            TEXT,
    upper_straddle          TEXT,
    implied_move            REAL,
    historical_mean_move    REAL,
    historical_median_move  REAL,
    mad                     REAL,
    relative_mad            REAL,
    max_move                REAL,
    tail_risk_ratio         REAL,
    n_events                INTEGER NOT NULL,
    past_moves              TEXT NOT NULL,
    vrp                     REAL,
    tier                    TEXT CHECK (tier IN ('excellent', 'good', 'marginal', 'skip')),
    edge_score              REAL,
    chain_snapshot_id       INTEGER REFERENCES chain_snapshots (id),
    chain_as_of             TEXT,
    chain_age_seconds       INTEGER,
    reason                  TEXT,
    warnings                TEXT NOT NULL,
    PRIMARY KEY (scan_id, ticker)
) STRICT;

-- The latest scan's candidates in rank order (unanalysable ones last), with
-- moves in percent for reading.
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
       c.reason
FROM candidates c
JOIN scans s ON s.id = c.scan_id
WHERE s.id = (SELECT id FROM scans ORDER BY as_of DESC, id DESC LIMIT 1)
ORDER BY c.rank IS NULL, c.rank, c.ticker;

-- A ticker's past moves, newest first, in percent:
--   SELECT * FROM ticker_moves WHERE ticker = 'CVNA';
CREATE VIEW ticker_moves AS
SELECT ticker,
       report_date,
       timing,
       reference_session,
       reaction_session,
       reference_close,
       reaction_open,
       reaction_close,
       round(gap_move * 100, 2)            AS gap_move_pct,
       round(close_to_close_move * 100, 2) AS close_to_close_move_pct
FROM historical_moves
ORDER BY ticker, report_date DESC;

-- ivcd schema, version 4: the structures a scan proposes and the post-crush
-- review at the open of each event's reaction session.
--
-- Money is decimal TEXT in USD (per share unless the column says contract);
-- moves, ratios and IVs are REAL fractions; dates ET; instants UTC RFC 3339.

-- The structures proposed at the scan, one contract per leg, with the legs'
-- quotes at the scan. They go with their scan (a re-run replaces them).
CREATE TABLE structures (
    id             INTEGER PRIMARY KEY,
    scan_id        INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    ticker         TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('short_straddle', 'short_strangle', 'iron_condor')),
    expiration     TEXT NOT NULL,
    contract_size  INTEGER NOT NULL,
    -- Entry credit, USD per share: natural (short bids - long asks) and mid.
    entry_natural  TEXT NOT NULL,
    entry_mid      TEXT NOT NULL,
    -- The iron condor's wider wing, USD per share (NULL for the others).
    wing_width     TEXT,
    UNIQUE (scan_id, ticker, kind)
) STRICT;

CREATE TABLE structure_legs (
    structure_id  INTEGER NOT NULL REFERENCES structures (id) ON DELETE CASCADE,
    leg           INTEGER NOT NULL,
    side          TEXT NOT NULL CHECK (side IN ('short', 'long')),
    option_right  TEXT NOT NULL CHECK (option_right IN ('call', 'put')),
    strike        TEXT NOT NULL,
    entry_bid     TEXT NOT NULL,
    entry_ask     TEXT NOT NULL,
    entry_iv      REAL,
    PRIMARY KEY (structure_id, leg)
) STRICT;

-- One review per event (ticker, report date), written by the review slot
-- of its reaction session. `status`:
--   reviewed    the stock opened; the figures below are filled in;
--   pending     no opening price yet (a halt, a delayed open, or no price
--               data): `reason` says which; retried at the next review slot
--               for review.pending_days.
-- The scan's figures (tier, VRP, implied move) are copied so a review
-- outlives its scan.
CREATE TABLE reviews (
    id                 INTEGER PRIMARY KEY,
    ticker             TEXT NOT NULL,
    report_date        TEXT NOT NULL,
    timing             TEXT NOT NULL CHECK (timing IN ('bmo', 'amc')),
    scan_id            INTEGER REFERENCES scans (id) ON DELETE SET NULL,
    scan_as_of         TEXT NOT NULL,
    -- The review slot that wrote this row (its alert's report_key is 'review/<slot>').
    slot               TEXT NOT NULL,
    reviewed_at        TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('reviewed', 'pending')),
    reference_session  TEXT NOT NULL,
    reaction_session   TEXT NOT NULL,
    expiration         TEXT,
    tier               TEXT CHECK (tier IN ('excellent', 'good', 'marginal', 'skip')),
    vrp                REAL,
    implied_move       REAL,
    spot_at_scan       TEXT,
    reference_close    TEXT,
    reference_source   TEXT,
    open_price         TEXT,
    -- 'quote' (the provider's quote of the reaction session) or 'daily_bar'.
    open_source        TEXT,
    open_bid           TEXT,
    open_ask           TEXT,
    realized_move      REAL,
    -- |realized_move| / implied_move, and 1 when it is above 1.
    move_ratio         REAL,
    outside            INTEGER CHECK (outside IN (0, 1)),
    iv_entry           REAL,
    iv_exit            REAL,
    iv_crush           REAL,
    exit_snapshot_id   INTEGER REFERENCES chain_snapshots (id) ON DELETE SET NULL,
    exit_as_of         TEXT,
    -- Why the review is not (fully) quote-based: not opened, no exit chain.
    reason             TEXT,
    warnings           TEXT NOT NULL,
    UNIQUE (ticker, report_date)
) STRICT;
CREATE INDEX reviews_by_session ON reviews (reaction_session);

-- Each proposed structure's outcome at the review. `basis`:
--   quotes              exit valued from quotes taken in the reaction session;
--   bound               at intrinsic value from the open, short options only:
--                       the real P&L is at most the figure;
--   intrinsic_estimate  at intrinsic value with long legs: an estimate.
CREATE TABLE review_structures (
    review_id               INTEGER NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    kind                    TEXT NOT NULL CHECK (kind IN ('short_straddle', 'short_strangle', 'iron_condor')),
    -- The legs as JSON: [{"side","right","strike","entry_bid","entry_ask","entry_iv"}].
    legs                    TEXT NOT NULL,
    contract_size           INTEGER NOT NULL,
    basis                   TEXT NOT NULL CHECK (basis IN ('quotes', 'bound', 'intrinsic_estimate')),
    exit_note               TEXT,
    entry_natural           TEXT NOT NULL,
    entry_mid               TEXT NOT NULL,
    exit_natural            TEXT NOT NULL,
    exit_mid                TEXT NOT NULL,
    pnl_natural             TEXT NOT NULL,
    pnl_mid                 TEXT NOT NULL,
    pnl_natural_contract    TEXT NOT NULL,
    pnl_mid_contract        TEXT NOT NULL,
    max_loss_natural        TEXT,
    max_loss_mid            TEXT,
    return_on_risk_natural  REAL,
    return_on_risk_mid      REAL,
    capped_natural          INTEGER NOT NULL CHECK (capped_natural IN (0, 1)),
    capped_mid              INTEGER NOT NULL CHECK (capped_mid IN (0, 1)),
    PRIMARY KEY (review_id, kind)
) STRICT;

-- Every reviewed structure with its event, moves in percent, P&L per contract:
--   SELECT * FROM review_outcomes WHERE ticker = 'CVNA';
CREATE VIEW review_outcomes AS
SELECT r.ticker,
       r.report_date,
       r.timing,
       r.reaction_session,
       r.tier,
       round(r.implied_move * 100, 2)   AS implied_move_pct,
       round(r.realized_move * 100, 2)  AS realized_move_pct,
       round(r.move_ratio, 2)           AS move_ratio,
       s.kind                           AS structure,
       s.basis,
       s.entry_natural,
       s.exit_natural,
       s.pnl_natural_contract,
       s.pnl_mid_contract,
       s.max_loss_natural
FROM reviews r
JOIN review_structures s ON s.review_id = r.id
WHERE r.status = 'reviewed'
ORDER BY r.reaction_session, r.ticker, s.kind;

-- Issue 21, item 6: the tier record of the last `ivcd calibrate` run, read
-- by the scan's alert, `--json`, `ivcd moves` and `ivcd report` beside the
-- live figures. One row per (source, tier), replaced whole by each run;
-- no row: no calibration has been run (ivcd then says so, never a figure).
--   SELECT tier, events, round(hit_rate * 100, 1) AS inside_pct, calibrated_at FROM calibration_tiers;
CREATE TABLE calibration_tiers (
    source              TEXT NOT NULL,   -- e.g. 'earnings_watcher:earnings_implied_moves.csv'
    attribution         TEXT NOT NULL,   -- the credit the source's licence asks for, shown with every figure
    tier                TEXT NOT NULL CHECK (tier IN ('excellent', 'good', 'marginal', 'skip')),
    vrp_excellent       REAL NOT NULL,   -- the tier thresholds the run used ([analysis.tiers])
    vrp_good            REAL NOT NULL,
    vrp_marginal        REAL NOT NULL,
    events              INTEGER NOT NULL CHECK (events > 0),
    hit_rate            REAL NOT NULL,   -- share with |gap| < implied move, 0..1
    hit_rate_low        REAL NOT NULL,   -- its bootstrap 95% interval
    hit_rate_high       REAL NOT NULL,
    mean_edge           REAL NOT NULL,   -- implied move - |gap|, fraction of the reference close
    straddle_mean       REAL NOT NULL,   -- short straddle P&L (upper bound), fraction of the reference close
    straddle_mean_low   REAL NOT NULL,
    straddle_mean_high  REAL NOT NULL,
    straddle_es5        REAL NOT NULL,   -- mean of the worst 5% of the same
    first_report        TEXT NOT NULL,   -- the run's report dates (ET)
    last_report         TEXT NOT NULL,
    calibrated_at       TEXT NOT NULL,   -- the run (UTC)
    PRIMARY KEY (source, tier)
) STRICT;

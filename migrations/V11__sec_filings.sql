-- Issue 23: the companies' own SEC filings as a witness of earnings timing,
-- and the timing audit of past events (docs/timing-audit.md).

-- Every 8-K (or 8-K/A) listing Item 2.02 of a ticker's issuer, as EDGAR
-- lists it, with the timing it implies and the rule that decided
-- (src/analysis/filing_timing.rs).
--   SELECT ticker, report_date, timing, rule, accepted_at FROM sec_filings WHERE ticker = 'PEP';
CREATE TABLE sec_filings (
    accession    TEXT NOT NULL,   -- e.g. '0000077476-24-000008'
    ticker       TEXT NOT NULL,
    cik          TEXT NOT NULL,   -- 10 digits
    form         TEXT NOT NULL,   -- '8-K' or '8-K/A'
    items        TEXT NOT NULL,   -- as EDGAR lists them, e.g. '2.02,9.01'
    filing_date  TEXT NOT NULL,   -- EDGAR's filing date (ET)
    period       TEXT,            -- EDGAR's reportDate (the event's date), when given
    accepted_at  TEXT NOT NULL,   -- acceptanceDateTime, UTC
    report_date  TEXT NOT NULL,   -- the report date the timing belongs to (ET)
    timing       TEXT NOT NULL CHECK (timing IN ('bmo', 'amc', 'unknown')),
    rule         TEXT NOT NULL,   -- e.g. 'before_open', 'evening_dated_next_day', 'during_market_hours'
    source       TEXT NOT NULL,
    fetched_at   TEXT NOT NULL,
    PRIMARY KEY (ticker, accession)
) STRICT;
CREATE INDEX sec_filings_by_date ON sec_filings (ticker, report_date);

-- The timing audit of each past event: the calendar's timing against the
-- filing's and the price gaps' (src/analysis/timing_audit.rs), as of the
-- last audit. Agreement means the same reference and reaction sessions.
CREATE TABLE timing_audits (
    ticker              TEXT NOT NULL,
    report_date         TEXT NOT NULL,
    calendar_timing     TEXT NOT NULL CHECK (calendar_timing IN ('bmo', 'amc', 'dmh', 'unknown')),
    calendar_source     TEXT NOT NULL,
    filing_accession    TEXT,
    filing_days_away    INTEGER,         -- NULL: on the calendar's date; else the filing's date minus it
    filing_timing       TEXT NOT NULL CHECK (filing_timing IN ('bmo', 'amc', 'unknown')),
    filing_rule         TEXT,
    gap_timing          TEXT NOT NULL CHECK (gap_timing IN ('bmo', 'amc', 'unknown')),
    bmo_gap_move        REAL,
    amc_gap_move        REAL,
    calendar_vs_filing  TEXT NOT NULL CHECK (calendar_vs_filing IN ('agree', 'disagree', 'unknown')),
    calendar_vs_gap     TEXT NOT NULL CHECK (calendar_vs_gap IN ('agree', 'disagree', 'unknown')),
    filing_vs_gap       TEXT NOT NULL CHECK (filing_vs_gap IN ('agree', 'disagree', 'unknown')),
    verdict             TEXT NOT NULL CHECK (verdict IN ('agree', 'disagree', 'unknown')),
    settled_date        TEXT,
    settled_timing      TEXT CHECK (settled_timing IN ('bmo', 'amc')),
    detail              TEXT NOT NULL,
    computed_at         TEXT NOT NULL,
    PRIMARY KEY (ticker, report_date)
) STRICT;

-- The audit of the events as the calendar stores them now (a row audited
-- under a timing the calendar has since changed is left out), with the
-- filing's acceptance in ET and the gaps in percent:
--   SELECT * FROM timing_audit WHERE verdict = 'disagree';
CREATE VIEW timing_audit AS
SELECT a.ticker,
       a.report_date,
       a.calendar_timing,
       a.filing_timing,
       a.gap_timing,
       a.verdict,
       a.calendar_vs_filing,
       a.calendar_vs_gap,
       a.filing_vs_gap,
       a.filing_accession,
       a.filing_days_away,
       a.filing_rule,
       f.accepted_at                       AS filing_accepted_at,
       round(a.bmo_gap_move * 100, 2)      AS bmo_gap_move_pct,
       round(a.amc_gap_move * 100, 2)      AS amc_gap_move_pct,
       a.settled_date,
       a.settled_timing,
       a.detail,
       a.computed_at
FROM timing_audits a
JOIN earnings_events e
  ON e.ticker = a.ticker AND e.report_date = a.report_date AND e.timing = a.calendar_timing
LEFT JOIN sec_filings f
  ON f.ticker = a.ticker AND f.accession = a.filing_accession
ORDER BY a.ticker, a.report_date DESC;

-- The response cache keeps an issuer's SEC filings too: the kind check of
-- V6 is widened (SQLite cannot alter a CHECK, so the table is rebuilt).
CREATE TABLE response_cache_v11 (
    provider    TEXT NOT NULL,
    request     TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('chain', 'expirations', 'sec_filings')),
    body        TEXT NOT NULL,
    fetched_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    PRIMARY KEY (provider, request)
) STRICT;
INSERT INTO response_cache_v11 SELECT provider, request, kind, body, fetched_at, expires_at FROM response_cache;
DROP TABLE response_cache;
ALTER TABLE response_cache_v11 RENAME TO response_cache;
CREATE INDEX response_cache_expiry ON response_cache (expires_at);

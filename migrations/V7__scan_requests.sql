-- The provider requests a scan sent (issue 8: the request budget is what
-- sets a scan's time). NULL for a scan served from recorded files.
-- `requests` is the total; `requests_by_provider` a JSON object such as
-- {"tradier": 51, "alpha_vantage": 0}.
ALTER TABLE scans ADD COLUMN requests INTEGER CHECK (requests IS NULL OR requests >= 0);
ALTER TABLE scans ADD COLUMN requests_by_provider TEXT
    CHECK (requests_by_provider IS NULL OR json_valid(requests_by_provider));

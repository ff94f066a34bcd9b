-- scudo schema: what lets interactive commands read a few rows instead of recomputing.
-- data_version counts the changes to customers, orders and everything derived from them (every
-- upkeep of the derived tables, every change of values or rates, every erasure bumps it, in the
-- same transaction). A score run records the version it scored, so a Customer 360 on the run's
-- date can read the customer's RFM from the run instead of ranking every buyer again.
-- dashboard_cache holds the dashboard's results for one date and one set of settings and query
-- files (`key`); every change that could alter them deletes the rows in the same transaction, and
-- the writing commands (ingest, score, demo) fill it again.
CREATE TABLE IF NOT EXISTS data_version (version BIGINT NOT NULL, changed_at TIMESTAMP NOT NULL);
INSERT INTO data_version SELECT 1, now()::TIMESTAMP WHERE NOT EXISTS (SELECT 1 FROM data_version);
ALTER TABLE score_runs ADD COLUMN IF NOT EXISTS data_version BIGINT;
CREATE TABLE IF NOT EXISTS dashboard_cache (
    key          VARCHAR NOT NULL,
    as_of        DATE NOT NULL,
    built_at     TIMESTAMP NOT NULL,
    payload      VARCHAR NOT NULL
);

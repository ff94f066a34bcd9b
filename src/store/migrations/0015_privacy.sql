-- Issue 16: people erased on request (`scudo privacy erase`). Only one-way hashes of their
-- identifiers are kept (SHA-256 of a per-workspace salt, the kind and the normalised value), so
-- that importing an old export again does not bring them back; nothing here says who they were.
-- Distinct from any marketing-unsubscribe list: these people are gone from every table.
CREATE TABLE IF NOT EXISTS erased_identities (
    hash        VARCHAR PRIMARY KEY,      -- hex SHA-256 of salt, kind and value
    kind        VARCHAR NOT NULL,         -- source_key (source and its key), email or phone
    erasure_id  BIGINT NOT NULL,
    erased_at   TIMESTAMP NOT NULL        -- UTC
);

CREATE TABLE IF NOT EXISTS privacy_erasures (
    erasure_id  BIGINT PRIMARY KEY,
    erased_at   TIMESTAMP NOT NULL,       -- UTC
    rows_removed BIGINT NOT NULL          -- every row deleted, all tables together
);

INSERT OR IGNORE INTO scudo_meta
    SELECT 'erasure_salt', md5(gen_random_uuid()::VARCHAR) || md5(gen_random_uuid()::VARCHAR);

-- How many rows of each import were left out as belonging to erased people.
ALTER TABLE import_log ADD COLUMN IF NOT EXISTS rows_suppressed BIGINT DEFAULT 0;

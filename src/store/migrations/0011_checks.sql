-- Issue 10: data checks. Every `scudo check` run is recorded with each check's result (the check
-- history the dashboard and digests read); with --store-failures the failing rows are kept too.
CREATE SEQUENCE IF NOT EXISTS check_run_seq START 1;

CREATE TABLE IF NOT EXISTS check_runs (
    run_id       BIGINT PRIMARY KEY,
    started_at   TIMESTAMP NOT NULL,      -- UTC
    as_of        DATE NOT NULL,
    status       VARCHAR NOT NULL,        -- pass, warn, error or broken: the worst result
    checks       BIGINT NOT NULL,
    passed       BIGINT NOT NULL,
    warned       BIGINT NOT NULL,
    failed       BIGINT NOT NULL,
    broken       BIGINT NOT NULL,
    skipped      BIGINT NOT NULL,
    duration_ms  BIGINT NOT NULL,
    selection    VARCHAR                  -- --select / --exclude as given, NULL: every check
);

CREATE TABLE IF NOT EXISTS check_results (
    run_id       BIGINT NOT NULL,
    name         VARCHAR NOT NULL,
    status       VARCHAR NOT NULL,        -- pass, warn, error, broken or skipped
    severity     VARCHAR NOT NULL,        -- warn or error: the most a failure of it can be
    failing      BIGINT,                  -- failing rows; NULL when it could not run
    denominator  BIGINT,                  -- for thresholds in percent
    threshold    VARCHAR,                 -- the threshold that was crossed, as written
    message      VARCHAR,
    duration_ms  BIGINT NOT NULL,
    columns      VARCHAR[],               -- of the failing rows
    stored_rows  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, name)
);

CREATE TABLE IF NOT EXISTS check_failures (
    run_id  BIGINT NOT NULL,
    name    VARCHAR NOT NULL,
    row_no  BIGINT NOT NULL,
    cells   VARCHAR[] NOT NULL,           -- the row's values as text, in the order of `columns`
    PRIMARY KEY (run_id, name, row_no)
);

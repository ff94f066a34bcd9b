-- Issue 14: automations. Each run of an automation is recorded (outcome, counts, duration,
-- errors); the outbox learns which automation, customer and period a message belongs to, so that
-- each (automation, customer, period) is sent once and per-customer frequency caps can be counted
-- across every campaign; the suppression list holds who must never get marketing email.
CREATE SEQUENCE IF NOT EXISTS automation_run_seq START 1;

CREATE TABLE IF NOT EXISTS automation_runs (
    run_id       BIGINT PRIMARY KEY,
    automation   VARCHAR NOT NULL,
    action       VARCHAR NOT NULL,
    trigger      VARCHAR NOT NULL,        -- schedule, catch-up, resume, manual, after-ingest, after-score, when
    period       VARCHAR NOT NULL,        -- the cron occurrence the run belongs to (RFC 3339, local)
    period_at    TIMESTAMP NOT NULL,      -- the same instant in UTC
    as_of        DATE NOT NULL,
    status       VARCHAR NOT NULL,        -- running, ok, partial, withheld, skipped, failed, interrupted
    audience     BIGINT,                  -- rows the audience query returned
    recorded     BIGINT,                  -- messages recorded in the outbox by this run
    sent         BIGINT,                  -- messages the server accepted during this run
    skipped      BIGINT,                  -- audience rows not sent to (suppressed, capped, sent already, …)
    failed       BIGINT,
    detail       VARCHAR,                 -- JSON: skip reasons, plugin result, withheld reason
    error        VARCHAR,
    started_at   TIMESTAMP NOT NULL,      -- UTC
    finished_at  TIMESTAMP,               -- UTC; NULL while running (or when the process died)
    duration_ms  BIGINT
);

-- One row per message that belongs to an automation (campaigns, notices, webhooks), keyed like
-- the outbox row it describes. A side table rather than new outbox columns, so the digest's
-- outbox (migration 13) stays as it was.
CREATE TABLE IF NOT EXISTS outbox_automation (
    key          VARCHAR PRIMARY KEY,     -- outbox.key
    automation   VARCHAR NOT NULL,
    customer_id  VARCHAR,                 -- NULL for owner notices and webhooks
    period       VARCHAR NOT NULL,
    period_at    TIMESTAMP NOT NULL,      -- UTC: frequency caps count sends by their period
    run_id       BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS suppressions (
    email        VARCHAR PRIMARY KEY,     -- lower-cased
    reason       VARCHAR NOT NULL,        -- unsubscribed, link, bounce, complaint
    source       VARCHAR NOT NULL,        -- cli, unsubscribe link, smtp
    created_at   TIMESTAMP NOT NULL
);

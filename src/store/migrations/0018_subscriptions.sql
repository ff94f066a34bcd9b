-- Issue 16: subscriptions from Stripe's subscriptions export, for `scudo mrr` (docs/mrr.md).
-- One row per subscription as the latest export states it (the export is a snapshot of current
-- state: a newer export of the same subscription replaces the row). Amounts in major units of
-- `currency`, timestamps UTC.
CREATE TABLE IF NOT EXISTS subscriptions (
    subscription_id        VARCHAR PRIMARY KEY,   -- source || ':' || source_subscription_id
    source                 VARCHAR NOT NULL,
    source_subscription_id VARCHAR NOT NULL,
    customer_id            VARCHAR NOT NULL,
    status                 VARCHAR NOT NULL,      -- as exported, lower case: active, trialing, canceled, ...
    plan                   VARCHAR,
    product                VARCHAR,
    currency               VARCHAR,
    unit_amount            DECIMAL(18,2) NOT NULL, -- price of one unit for one interval, before discounts
    quantity               BIGINT NOT NULL,
    billing_interval       VARCHAR NOT NULL,      -- day, week, month, year
    interval_count         INTEGER NOT NULL,
    created_at             TIMESTAMP,
    started_at             TIMESTAMP NOT NULL,
    trial_start            TIMESTAMP,
    trial_end              TIMESTAMP,
    current_period_start   TIMESTAMP,
    current_period_end     TIMESTAMP,
    canceled_at            TIMESTAMP,
    ended_at               TIMESTAMP,
    cancel_at_period_end   BOOLEAN,
    cancellation_reason    VARCHAR,
    coupon                 VARCHAR,
    import_id              BIGINT
);
CREATE INDEX IF NOT EXISTS subscriptions_customer ON subscriptions (customer_id);

ALTER TABLE import_log ADD COLUMN IF NOT EXISTS subscriptions_inserted BIGINT DEFAULT 0;
ALTER TABLE import_log ADD COLUMN IF NOT EXISTS subscriptions_updated BIGINT DEFAULT 0;
ALTER TABLE import_log ADD COLUMN IF NOT EXISTS subscriptions_unchanged BIGINT DEFAULT 0;

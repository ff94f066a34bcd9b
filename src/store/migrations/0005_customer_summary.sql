-- scudo schema version 5: per-customer purchase totals, kept current by every import (store/summary.sql),
-- so that analytics on the current date read one row per customer instead of aggregating every order.
-- (Filled by migration 8, once all its columns exist.)

CREATE TABLE order_currencies (
    currency  VARCHAR,
    orders    BIGINT NOT NULL
);

CREATE TABLE customer_summary (
    customer_id       VARCHAR NOT NULL,
    name              VARCHAR,
    email             VARCHAR,
    phone             VARCHAR,
    created_at        TIMESTAMP,
    orders            BIGINT NOT NULL,          -- purchases: completed, partially refunded or refunded
    revenue           DECIMAL(18,2) NOT NULL,   -- their net revenue in revenue_currency (orders without a currency count)
    revenue_currency  VARCHAR,                  -- the currency most orders are in, when the summary was built
    first_order_at    TIMESTAMP,
    last_order_at     TIMESTAMP,
    segment_ids       VARCHAR[] NOT NULL,       -- the segments the customer is a member of (segment_members)
    -- The two filters every query applies, never NULL so that DuckDB's min/max per row group can
    -- answer them without reading the rows: created_at, and last_order_at, each or -infinity.
    known_since       TIMESTAMP NOT NULL,
    purchases_until   TIMESTAMP NOT NULL
);

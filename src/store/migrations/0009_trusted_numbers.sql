-- scudo schema version 9: numbers an owner can trust.
--  * Orders keep, beside the amount in their own currency, their local time in the shop's time
--    zone and their value in the reporting currency with the rate used (NULL when no rate is
--    known: such orders are left out of every money figure and count, and every view says so).
--    Both are derived (store/values.rs, store/calendar.rs); scudo_meta records the time zone and
--    currency they were computed for, so a changed setting recomputes them.
--  * An order described by more than one kind of export (a Stripe payment and its invoice) keeps
--    each kind's version in order_versions; the order is merged from them field by field, so the
--    result does not depend on the order the files were imported in.
--  * Two customers that turn out to be one (a source id and an email of two records meet) are
--    merged, and customer_merges remembers it.
-- DuckDB cannot alter a table that an index depends on: the index is dropped and made again.
DROP INDEX IF EXISTS orders_by_customer;
ALTER TABLE orders ADD COLUMN kinds VARCHAR[];
ALTER TABLE orders ADD COLUMN converted_currency VARCHAR;
ALTER TABLE orders ADD COLUMN converted_total DECIMAL(18,2);
ALTER TABLE orders ADD COLUMN converted_refunded DECIMAL(18,2);
ALTER TABLE orders ADD COLUMN local_at TIMESTAMP;
ALTER TABLE orders ADD COLUMN value DECIMAL(18,2);
ALTER TABLE orders ADD COLUMN value_rate DOUBLE;
UPDATE orders SET kinds = [l.kind] FROM import_log l WHERE l.import_id = orders.import_id;
UPDATE orders SET local_at = ordered_at;
CREATE INDEX orders_by_customer ON orders (customer_id);

CREATE TABLE order_versions (
    order_id            VARCHAR NOT NULL,
    kind                VARCHAR NOT NULL,
    source              VARCHAR NOT NULL,
    source_order_id     VARCHAR NOT NULL,
    order_number        VARCHAR,
    customer_id         VARCHAR NOT NULL,
    ordered_at          TIMESTAMP NOT NULL,
    utc_offset_minutes  SMALLINT,
    currency            VARCHAR,
    subtotal            DECIMAL(18,2),
    discount_total      DECIMAL(18,2),
    shipping_total      DECIMAL(18,2),
    tax_total           DECIMAL(18,2),
    total               DECIMAL(18,2) NOT NULL,
    refunded_total      DECIMAL(18,2) NOT NULL,
    net_total           DECIMAL(18,2) NOT NULL,
    status              VARCHAR NOT NULL,
    financial_status    VARCHAR,
    channel             VARCHAR,
    payment_method      VARCHAR,
    discount_codes      VARCHAR,
    tax_included        BOOLEAN,
    converted_currency  VARCHAR,
    converted_total     DECIMAL(18,2),
    converted_refunded  DECIMAL(18,2),
    import_id           BIGINT NOT NULL,
    PRIMARY KEY (order_id, kind)
);

-- 1 `currency` = `rate` `base` on `day` (the European Central Bank's file gives 1 EUR = x CUR and
-- is stored as 1 CUR = 1/x EUR).
CREATE TABLE exchange_rates (
    day        DATE NOT NULL,
    currency   VARCHAR NOT NULL,
    base       VARCHAR NOT NULL,
    rate       DOUBLE NOT NULL,
    file_name  VARCHAR,
    PRIMARY KEY (day, currency, base)
);

-- The shop's offset from UTC from each instant on (one row per transition of its time zone).
CREATE TABLE tz_offsets (
    utc_from        TIMESTAMP NOT NULL,
    offset_minutes  INTEGER NOT NULL
);
INSERT INTO tz_offsets VALUES ('-infinity'::TIMESTAMP, 0);

-- Per currency, how many orders have no value in the reporting currency (store/summary.sql).
ALTER TABLE order_currencies ADD COLUMN unvalued BIGINT;

CREATE TABLE customer_merges (
    merged_id  VARCHAR NOT NULL,
    into_id    VARCHAR NOT NULL,
    import_id  BIGINT NOT NULL,
    reason     VARCHAR
);

-- scudo schema version 1: the canonical customer model.
-- Money is DECIMAL(18,2); timestamps are TIMESTAMP in UTC; identifiers are text.

CREATE TABLE scudo_meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

CREATE SEQUENCE import_id_seq START 1;

CREATE TABLE import_log (
    import_id            BIGINT PRIMARY KEY,
    file_path            VARCHAR NOT NULL,
    file_name            VARCHAR NOT NULL,
    sha256               VARCHAR NOT NULL,
    kind                 VARCHAR NOT NULL,
    source               VARCHAR NOT NULL,
    started_at           TIMESTAMP NOT NULL,
    finished_at          TIMESTAMP NOT NULL,
    rows_read            BIGINT NOT NULL,
    customers_inserted   BIGINT NOT NULL,
    customers_updated    BIGINT NOT NULL,
    customers_unchanged  BIGINT NOT NULL,
    orders_inserted      BIGINT NOT NULL,
    orders_updated       BIGINT NOT NULL,
    orders_unchanged     BIGINT NOT NULL,
    rows_rejected        BIGINT NOT NULL,
    rejects_path         VARCHAR
);

CREATE TABLE customers (
    customer_id            VARCHAR PRIMARY KEY,
    email                  VARCHAR,
    phone                  VARCHAR,
    first_name             VARCHAR,
    last_name              VARCHAR,
    name                   VARCHAR,
    company                VARCHAR,
    city                   VARCHAR,
    region                 VARCHAR,
    country                VARCHAR,
    created_at             TIMESTAMP,
    accepts_marketing      BOOLEAN,
    tags                   VARCHAR[] NOT NULL DEFAULT [],
    reported_total_spent   DECIMAL(18,2),
    reported_orders_count  BIGINT,
    lifecycle              VARCHAR
);

CREATE TABLE customer_sources (
    source              VARCHAR NOT NULL,
    source_key          VARCHAR NOT NULL,
    customer_id         VARCHAR NOT NULL,
    source_customer_id  VARCHAR,
    email               VARCHAR,
    phone               VARCHAR,
    import_id           BIGINT NOT NULL,
    PRIMARY KEY (source, source_key)
);

CREATE TABLE orders (
    order_id            VARCHAR PRIMARY KEY,
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
    status              VARCHAR NOT NULL CHECK (status IN ('completed', 'pending', 'cancelled', 'refunded', 'partially_refunded', 'failed')),
    financial_status    VARCHAR,
    channel             VARCHAR,
    payment_method      VARCHAR,
    discount_codes      VARCHAR,
    tax_included        BOOLEAN,
    import_id           BIGINT NOT NULL
);

CREATE TABLE order_items (
    order_id    VARCHAR NOT NULL,
    line_no     INTEGER NOT NULL,
    sku         VARCHAR,
    name        VARCHAR,
    vendor      VARCHAR,
    category    VARCHAR,
    quantity    BIGINT NOT NULL,
    unit_price  DECIMAL(18,2) NOT NULL,
    discount    DECIMAL(18,2) NOT NULL,
    line_total  DECIMAL(18,2) NOT NULL,
    is_tip      BOOLEAN NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

CREATE TABLE segments (
    segment_id   VARCHAR PRIMARY KEY,
    name         VARCHAR NOT NULL,
    description  VARCHAR,
    kind         VARCHAR NOT NULL
);

CREATE TABLE segment_members (
    segment_id   VARCHAR NOT NULL,
    customer_id  VARCHAR NOT NULL,
    PRIMARY KEY (segment_id, customer_id)
);

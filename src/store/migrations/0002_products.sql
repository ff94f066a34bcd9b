-- scudo schema version 2: products, so line items get categories from a products export.

CREATE TABLE products (
    sku        VARCHAR PRIMARY KEY,
    title      VARCHAR,
    category   VARCHAR,
    vendor     VARCHAR,
    import_id  BIGINT NOT NULL
);

ALTER TABLE import_log ADD COLUMN products_upserted BIGINT DEFAULT 0;

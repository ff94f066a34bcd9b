-- Issue 16: the tags each kind of export last stated for a customer (a Shopify customers export
-- lists every customer's current tags). A newer export of that kind that no longer lists a tag
-- removes it; tags other exports gave stay. Before this table, tags only accumulated.
CREATE TABLE IF NOT EXISTS customer_stated_tags (
    customer_id  VARCHAR NOT NULL,
    kind         VARCHAR NOT NULL,      -- the kind of export, e.g. shopify-customers
    tags         VARCHAR[] NOT NULL,
    import_id    BIGINT NOT NULL,
    PRIMARY KEY (customer_id, kind)
);

-- Issue 10: order numbers that two orders of one source share, found by each import among the
-- orders it writes, so that the orders_unique_numbers check reads a handful of candidates instead
-- of grouping every order (6 s at ten million orders). The check re-verifies each against orders,
-- so an entry that a later import resolved does no harm.
CREATE TABLE IF NOT EXISTS order_number_clashes (
    source        VARCHAR NOT NULL,
    order_number  VARCHAR NOT NULL,
    PRIMARY KEY (source, order_number)
);

INSERT INTO order_number_clashes
    SELECT source, order_number FROM orders WHERE order_number IS NOT NULL GROUP BY ALL HAVING count(*) > 1;

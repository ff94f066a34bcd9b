-- description: Every order belongs to a customer scudo knows; an order whose customer is missing is left out of every per-customer figure.
-- severity: error
-- owner: data
-- columns:
--   order_id, order_number, customer_id, ordered_at
-- The customer ids alone are compared first; the rest is read only for the orders found.
WITH bad AS (
    SELECT o.rowid AS r FROM orders o
    WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.customer_id = o.customer_id)
)
SELECT o.order_id, o.order_number, o.customer_id, o.ordered_at
FROM bad JOIN orders o ON o.rowid = bad.r
ORDER BY o.order_id

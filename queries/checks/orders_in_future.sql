-- description: No order is dated in the future (later than now, with an hour's grace for clocks): a wrong date or time zone in the export would make the customer look active.
-- severity: error
-- owner: data
-- params: now TIMESTAMP
-- columns:
--   order_id, order_number, customer_id
--   ordered_at    in UTC
SELECT order_id, order_number, customer_id, ordered_at
FROM orders
WHERE ordered_at > CAST($now AS TIMESTAMP) + INTERVAL 1 HOUR
ORDER BY ordered_at DESC, order_id

-- name: customers.orders
-- description: One customer's orders, newest first, with their items' categories.
-- params: customer_id TEXT, as_of DATE
-- columns:
--   order_number, ordered_at (the shop's local time), status, channel, currency, total, net_total (in the
--   order's currency), value (net in the reporting currency; NULL without a known rate), discount_codes,
--   items, categories
WITH
-- The customer's orders and their items are read by key first (MATERIALIZED keeps the other
-- conditions out of the scans, which would otherwise read the whole table instead of the index).
mine AS MATERIALIZED (
    SELECT * FROM orders WHERE customer_id = $customer_id
),
mine_items AS MATERIALIZED (
    SELECT * FROM order_items WHERE order_id IN (SELECT order_id FROM mine)
)
SELECT
    COALESCE(o.order_number, o.source_order_id) AS order_number,
    o.local_at AS ordered_at, o.status, o.channel, o.currency, o.total, o.net_total, o.value, o.discount_codes,
    count(i.line_no) AS items,
    string_agg(DISTINCT i.category, ', ' ORDER BY i.category) AS categories
FROM mine o
LEFT JOIN mine_items i ON i.order_id = o.order_id AND NOT i.is_tip
WHERE o.local_at < CAST($as_of AS DATE) + INTERVAL 1 DAY
GROUP BY ALL
ORDER BY o.local_at DESC;

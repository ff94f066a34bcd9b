-- name: base.customer_facts
-- description: One row per customer known on a date: purchases, revenue, first and last order.
-- params: as_of DATE, currency TEXT
-- columns:
--   orders                   purchases up to as_of (completed, partially refunded or refunded)
--   revenue                  net revenue (total − refunds) of those purchases in the reporting currency
--   first_order_at           first purchase (UTC)
--   last_order_at            latest purchase (UTC)
--   days_since_last_order    whole days from the latest purchase to as_of
--   days_since_first_order   whole days from the first purchase to as_of
--   typical_gap_days         average days between purchases (NULL with fewer than two)
-- A table macro: other queries read it as `FROM customer_facts($as_of, $currency)`.
CREATE OR REPLACE TEMP MACRO customer_facts(as_of, currency) AS TABLE
WITH purchases AS (
    SELECT customer_id, ordered_at, net_total, currency AS order_currency
    FROM orders
    WHERE status IN ('completed', 'partially_refunded', 'refunded')
      AND ordered_at < CAST(as_of AS DATE) + INTERVAL 1 DAY
)
SELECT
    c.customer_id,
    c.name,
    c.email,
    c.created_at,
    count(p.customer_id) AS orders,
    COALESCE(sum(p.net_total) FILTER (WHERE COALESCE(p.order_currency, currency) = currency), 0)::DECIMAL(18,2) AS revenue,
    min(p.ordered_at) AS first_order_at,
    max(p.ordered_at) AS last_order_at,
    date_diff('day', max(p.ordered_at)::DATE, CAST(as_of AS DATE)) AS days_since_last_order,
    date_diff('day', min(p.ordered_at)::DATE, CAST(as_of AS DATE)) AS days_since_first_order,
    CASE WHEN count(p.customer_id) > 1
         THEN round(date_diff('day', min(p.ordered_at)::DATE, max(p.ordered_at)::DATE) / (count(p.customer_id) - 1))::INTEGER
    END AS typical_gap_days
FROM customers c
LEFT JOIN purchases p ON p.customer_id = c.customer_id
WHERE c.created_at IS NULL OR c.created_at < CAST(as_of AS DATE) + INTERVAL 1 DAY
GROUP BY c.customer_id, c.name, c.email, c.created_at;

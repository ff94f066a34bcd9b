-- name: base.customer_facts
-- description: One row per customer known on a date: purchases, revenue, first and last order.
-- params: as_of DATE, currency TEXT
-- columns:
--   orders                   purchases up to the end of as_of (completed, partially refunded or refunded)
--                            that have a value in the reporting currency (orders.value)
--   revenue                  net revenue (total − refunds) of those purchases in the reporting currency
--   first_order_at           first purchase, the shop's local time (orders.local_at)
--   last_order_at            latest purchase, the shop's local time
--   days_since_last_order    whole days from the latest purchase to as_of, in the shop's calendar
--   days_since_first_order   whole days from the first purchase to as_of
--   typical_gap_days         average days between purchases (NULL with fewer than two)
--   segment_ids              the segments the customer belongs to (as segment_members says)
-- A table macro: other queries read it as `FROM customer_facts($as_of, $currency)`.
-- Orders with no known exchange rate (orders.value NULL) are not purchases here: they are left out
-- of counts and money alike (base.unconverted counts them, and every view says so).
-- customer_summary holds every customer's all-time totals (rebuilt by each import). A customer whose
-- latest purchase is before the end of as_of has exactly those totals; only the others (purchases
-- after as_of, or totals in another currency than asked) are recomputed from orders. On the current
-- date nobody is, and this reads one row per customer.
CREATE OR REPLACE TEMP MACRO customer_facts(as_of, currency) AS TABLE
WITH current AS (
    SELECT s.customer_id, s.name, s.email, s.created_at, s.orders, s.revenue, s.first_order_at, s.last_order_at, s.segment_ids
    FROM customer_summary s
    WHERE s.known_since < CAST(as_of AS DATE) + INTERVAL 1 DAY
      AND s.purchases_until < CAST(as_of AS DATE) + INTERVAL 1 DAY
      AND (s.revenue_currency IS NULL OR s.revenue_currency = currency)
),
-- The customers to recompute; on the current date none. Joined to orders as the small side of an
-- inner join, so that an empty list costs nothing whatever plan the query around it gets.
redo AS (
    SELECT s.customer_id, s.name, s.email, s.created_at, s.segment_ids
    FROM customer_summary s
    WHERE s.known_since < CAST(as_of AS DATE) + INTERVAL 1 DAY
      AND (s.purchases_until >= CAST(as_of AS DATE) + INTERVAL 1 DAY OR s.revenue_currency <> currency)
),
redone AS (
    SELECT o.customer_id,
        count(*) AS orders,
        sum(o.value) AS revenue,
        min(o.local_at) AS first_order_at,
        max(o.local_at) AS last_order_at
    FROM orders o
    JOIN redo r ON r.customer_id = o.customer_id
    WHERE o.status IN ('completed', 'partially_refunded', 'refunded') AND o.value IS NOT NULL
      AND o.local_at < CAST(as_of AS DATE) + INTERVAL 1 DAY
    GROUP BY o.customer_id
),
recomputed AS (
    SELECT r.customer_id, r.name, r.email, r.created_at,
        COALESCE(d.orders, 0) AS orders, COALESCE(d.revenue, 0) AS revenue, d.first_order_at, d.last_order_at,
        r.segment_ids
    FROM redo r
    LEFT JOIN redone d ON d.customer_id = r.customer_id
),
facts AS (
    SELECT * FROM current
    UNION ALL
    SELECT * FROM recomputed
)
SELECT
    customer_id,
    name,
    email,
    created_at,
    orders::BIGINT AS orders,
    revenue::DECIMAL(18,2) AS revenue,
    first_order_at,
    last_order_at,
    date_diff('day', last_order_at::DATE, CAST(as_of AS DATE)) AS days_since_last_order,
    date_diff('day', first_order_at::DATE, CAST(as_of AS DATE)) AS days_since_first_order,
    CASE WHEN orders > 1
         THEN round(date_diff('day', first_order_at::DATE, last_order_at::DATE) / (orders - 1))::INTEGER
    END AS typical_gap_days,
    segment_ids
FROM facts;

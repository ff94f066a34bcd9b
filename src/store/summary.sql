-- Rebuilds the derived tables from customers, orders and segment_members; run inside every import's
-- transaction (and by migration 8), so they always match the rows they summarise. Anything else that
-- writes those tables must run it too.
DELETE FROM order_currencies;
INSERT INTO order_currencies
    SELECT currency, count(*) FROM orders GROUP BY currency;
DELETE FROM customer_summary;
INSERT INTO customer_summary
WITH main AS (
    SELECT currency FROM order_currencies WHERE currency IS NOT NULL ORDER BY orders DESC, currency LIMIT 1
),
totals AS (
    SELECT o.customer_id,
        count(*) AS orders,
        sum(o.net_total) FILTER (WHERE o.currency IS NULL OR o.currency = (SELECT currency FROM main)) AS revenue,
        min(o.ordered_at) AS first_order_at,
        max(o.ordered_at) AS last_order_at
    FROM orders o
    WHERE o.status IN ('completed', 'partially_refunded', 'refunded')
    GROUP BY o.customer_id
),
model_days AS (
    SELECT o.customer_id, CAST(o.ordered_at AS DATE) AS day, sum(o.net_total) AS value
    FROM orders o
    WHERE o.status IN ('completed', 'partially_refunded')
    GROUP BY o.customer_id, day
),
model AS (
    SELECT customer_id, count(*) AS days, min(day) AS first_day, max(day) AS last_day,
           sum(value) AS total, arg_min(value, day) AS first_value
    FROM model_days
    GROUP BY customer_id
),
memberships AS (
    SELECT customer_id, list(segment_id ORDER BY segment_id) AS segment_ids
    FROM segment_members
    GROUP BY customer_id
)
SELECT c.customer_id, c.name, c.email, c.phone, c.created_at,
    COALESCE(t.orders, 0), COALESCE(t.revenue, 0), (SELECT currency FROM main),
    t.first_order_at, t.last_order_at, COALESCE(m.segment_ids, []),
    COALESCE(c.created_at, '-infinity'::TIMESTAMP), COALESCE(t.last_order_at, '-infinity'::TIMESTAMP),
    COALESCE(md.days, 0), md.first_day, md.last_day, md.total, md.first_value
FROM customers c
LEFT JOIN totals t ON t.customer_id = c.customer_id
LEFT JOIN memberships m ON m.customer_id = c.customer_id
LEFT JOIN model md ON md.customer_id = c.customer_id;

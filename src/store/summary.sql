-- Rebuilds the derived tables from customers, orders and segment_members; run inside every import's
-- transaction (and whenever the time zone, the reporting currency or the exchange rates change), so
-- they always match the rows they summarise. Anything else that writes those tables must run it too.
-- As written it rebuilds every customer's row; upkeep.rs turns each `/*scope:X*/ TRUE` into
-- `X.customer_id IN (SELECT customer_id FROM _touched)` to refresh only the customers an import touched,
-- and, when they are few, each `/*narrow*/ T` into the temp table of their rows of T (keys.rs).
-- Purchases are counted and valued in the reporting currency (orders.value): an order without a
-- known rate (value NULL) is left out of both. Dates are the shop's local time (orders.local_at).
DELETE FROM order_currencies;
INSERT INTO order_currencies
    SELECT currency, count(*), count(*) FILTER (WHERE value IS NULL) FROM orders GROUP BY currency;
DELETE FROM customer_summary WHERE /*scope:customer_summary*/ TRUE;
INSERT INTO customer_summary
WITH main AS (
    SELECT value AS currency FROM scudo_meta WHERE key = 'values_currency'
),
totals AS (
    SELECT o.customer_id,
        count(*) AS orders,
        sum(o.value) AS revenue,
        min(o.local_at) AS first_order_at,
        max(o.local_at) AS last_order_at
    FROM /*narrow*/ orders o
    WHERE /*scope:o*/ TRUE AND o.status IN ('completed', 'partially_refunded', 'refunded') AND o.value IS NOT NULL
    GROUP BY o.customer_id
),
model_days AS (
    SELECT o.customer_id, CAST(o.local_at AS DATE) AS day, sum(o.value) AS value
    FROM /*narrow*/ orders o
    WHERE /*scope:o*/ TRUE AND o.status IN ('completed', 'partially_refunded') AND o.value IS NOT NULL
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
    WHERE /*scope:segment_members*/ TRUE
    GROUP BY customer_id
),
-- A customer's creation time in the shop's time zone.
created AS (
    SELECT c.customer_id, c.created_at + to_minutes(z.offset_minutes) AS created_local
    FROM /*narrow*/ customers c ASOF JOIN tz_offsets z ON c.created_at >= z.utc_from
    WHERE /*scope:c*/ TRUE
)
SELECT c.customer_id, c.name, c.email, c.phone, cr.created_local,
    COALESCE(t.orders, 0), COALESCE(t.revenue, 0), (SELECT currency FROM main),
    t.first_order_at, t.last_order_at, COALESCE(m.segment_ids, []),
    COALESCE(cr.created_local, '-infinity'::TIMESTAMP), COALESCE(t.last_order_at, '-infinity'::TIMESTAMP),
    COALESCE(md.days, 0), md.first_day, md.last_day, md.total, md.first_value
FROM /*narrow*/ customers c
LEFT JOIN created cr ON cr.customer_id = c.customer_id
LEFT JOIN totals t ON t.customer_id = c.customer_id
LEFT JOIN memberships m ON m.customer_id = c.customer_id
LEFT JOIN model md ON md.customer_id = c.customer_id
WHERE /*scope:c*/ TRUE;

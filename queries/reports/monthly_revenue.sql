-- name: reports.monthly_revenue
-- description: Revenue and purchases per calendar month for the `months` months ending with the as-of date's month, empty months included; optionally only the members of one segment.
-- params: as_of DATE, currency TEXT, months INTEGER, segment TEXT
-- columns:
--   month       its first day
--   label       e.g. `Oct 2024`
--   revenue, orders, buyers   purchases inside it up to as_of (reporting currency)
-- segment: a segment id or name; empty: every customer.
WITH months AS (
    SELECT date_trunc('month', CAST($as_of AS DATE)) - INTERVAL (CAST(i AS INTEGER)) MONTH AS month
    FROM range(0, CAST($months AS INTEGER)) t(i)
),
members AS (
    SELECT DISTINCT f.customer_id
    FROM customer_facts($as_of, $currency) f, unnest(f.segment_ids) AS u(segment_id)
    JOIN segments s ON s.segment_id = u.segment_id
    WHERE $segment <> '' AND (s.segment_id = $segment OR lower(s.name) = lower($segment))
),
p AS (
    SELECT date_trunc('month', CAST(o.local_at AS DATE)) AS month, o.value, o.customer_id
    FROM orders o
    WHERE o.status IN ('completed', 'partially_refunded', 'refunded') AND o.value IS NOT NULL
      AND o.local_at >= (SELECT min(month) FROM months)
      AND o.local_at < CAST($as_of AS DATE) + INTERVAL 1 DAY
      AND ($segment = '' OR o.customer_id IN (SELECT customer_id FROM members))
)
SELECT
    CAST(m.month AS DATE) AS month,
    strftime(m.month, '%b %Y') AS label,
    COALESCE(sum(p.value), 0)::DECIMAL(18,2) AS revenue,
    count(p.value) AS orders,
    count(DISTINCT p.customer_id) AS buyers
FROM months m
LEFT JOIN p ON p.month = m.month
GROUP BY m.month
ORDER BY m.month;

-- name: reports.segment_movers
-- description: The segments whose revenue changed most between the period ending on a date and the period of the same length before it.
-- params: as_of DATE, currency TEXT, period_days INTEGER, limit INTEGER
-- columns:
--   segment_id, segment
--   revenue, revenue_previous   purchases of the segment's members in each period (reporting currency)
--   change                      revenue - revenue_previous
WITH members AS (
    SELECT f.customer_id, u.segment_id
    FROM customer_facts($as_of, $currency) f, unnest(f.segment_ids) AS u(segment_id)
),
p AS (
    SELECT o.customer_id, o.value,
           o.local_at >= CAST($as_of AS DATE) - CAST($period_days AS INTEGER) + 1 AS current
    FROM orders o
    WHERE o.status IN ('completed', 'partially_refunded', 'refunded') AND o.value IS NOT NULL
      AND o.local_at >= CAST($as_of AS DATE) - 2 * CAST($period_days AS INTEGER) + 1
      AND o.local_at < CAST($as_of AS DATE) + INTERVAL 1 DAY
),
per AS (
    SELECT m.segment_id,
           COALESCE(sum(p.value) FILTER (WHERE p.current), 0) AS revenue,
           COALESCE(sum(p.value) FILTER (WHERE NOT p.current), 0) AS revenue_previous
    FROM p JOIN members m ON m.customer_id = p.customer_id
    GROUP BY m.segment_id
)
SELECT
    s.segment_id,
    s.name AS segment,
    per.revenue::DECIMAL(18,2) AS revenue,
    per.revenue_previous::DECIMAL(18,2) AS revenue_previous,
    (per.revenue - per.revenue_previous)::DECIMAL(18,2) AS change
FROM per JOIN segments s ON s.segment_id = per.segment_id
WHERE per.revenue <> per.revenue_previous
ORDER BY abs(per.revenue - per.revenue_previous) DESC, s.name
LIMIT CAST($limit AS INTEGER);

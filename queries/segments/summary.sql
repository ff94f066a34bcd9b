-- name: segments.summary
-- description: Every segment with its customers and their lifetime revenue on a date, largest revenue first.
-- params: as_of DATE, currency TEXT
-- columns:
--   segment_id   `tag:NAME` for segments from imported tags
--   segment      the segment's name
--   kind         tag, rule or list
--   customers    members known on as_of
--   revenue      their lifetime net revenue
WITH members AS (
    SELECT unnest(f.segment_ids) AS segment_id, f.revenue
    FROM customer_facts($as_of, $currency) f
),
per_segment AS (
    SELECT segment_id, count(*) AS customers, sum(revenue) AS revenue
    FROM members
    GROUP BY segment_id
)
SELECT
    s.segment_id,
    s.name AS segment,
    s.kind,
    COALESCE(p.customers, 0) AS customers,
    COALESCE(p.revenue, 0)::DECIMAL(18,2) AS revenue
FROM segments s
LEFT JOIN per_segment p ON p.segment_id = s.segment_id
ORDER BY revenue DESC, s.name;

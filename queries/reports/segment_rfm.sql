-- name: reports.segment_rfm
-- description: The RFM groups of one segment's members (by id or name) on a date: customers and revenue per group.
-- params: segment TEXT, as_of DATE, currency TEXT
-- columns:
--   rfm_group   Champions, Loyal, … (base.rfm_groups), or Prospects for members with no purchase
--   customers, revenue
WITH seg AS (
    SELECT segment_id FROM segments WHERE segment_id = $segment OR lower(name) = lower($segment)
),
members AS (
    SELECT f.customer_id, f.revenue
    FROM customer_facts($as_of, $currency) f, unnest(f.segment_ids) AS u(segment_id)
    WHERE u.segment_id IN (SELECT segment_id FROM seg)
)
SELECT
    CASE WHEN r.rfm IS NULL THEN 'Prospects' ELSE rfm_group(r.recency_score, r.frequency_score, r.monetary_score) END AS rfm_group,
    count(*) AS customers,
    COALESCE(sum(m.revenue), 0)::DECIMAL(18,2) AS revenue
FROM members m
LEFT JOIN rfm_scores($as_of, $currency) r ON r.customer_id = m.customer_id
GROUP BY ALL
ORDER BY revenue DESC, rfm_group;

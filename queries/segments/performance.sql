-- name: segments.performance
-- description: Every segment's customers, revenue, average order value, purchase frequency and at-risk share on a date.
-- params: as_of DATE, currency TEXT, at_risk_days INTEGER, dormant_days INTEGER, lost_days INTEGER, new_days INTEGER, vip_min_revenue INTEGER, at_risk_gap_factor DOUBLE
-- columns:
--   segment_id, segment, kind
--   customers             members known on as_of
--   revenue               their lifetime net revenue
--   average_order_value   revenue per purchase
--   orders_per_customer   purchases per member
--   at_risk_pct           % of members in the At-Risk stage
WITH members AS (
    SELECT unnest(f.segment_ids) AS segment_id, f.revenue, f.orders, f.stage
    FROM customer_stages($as_of, $currency, $at_risk_days, $dormant_days, $lost_days, $new_days, $vip_min_revenue, at_risk_gap_factor := $at_risk_gap_factor) f
),
per_segment AS (
    SELECT segment_id,
        count(*) AS customers,
        sum(revenue) AS revenue,
        sum(orders) AS orders,
        count(*) FILTER (WHERE stage = 'At-Risk') AS at_risk
    FROM members
    GROUP BY segment_id
)
SELECT
    s.segment_id,
    s.name AS segment,
    s.kind,
    COALESCE(p.customers, 0) AS customers,
    COALESCE(p.revenue, 0)::DECIMAL(18,2) AS revenue,
    COALESCE(round(CAST(p.revenue AS DOUBLE) / NULLIF(p.orders, 0), 2), 0)::DECIMAL(18,2) AS average_order_value,
    COALESCE(round(p.orders / NULLIF(p.customers, 0), 2), 0)::DOUBLE AS orders_per_customer,
    COALESCE(round(100 * CAST(p.at_risk AS DOUBLE) / NULLIF(p.customers, 0), 1), 0)::DOUBLE AS at_risk_pct
FROM segments s
LEFT JOIN per_segment p ON p.segment_id = s.segment_id
ORDER BY revenue DESC, s.name;

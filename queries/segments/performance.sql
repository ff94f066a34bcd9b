-- name: segments.performance
-- description: Every segment's customers, revenue, average order value, purchase frequency and at-risk share on a date.
-- params: as_of DATE, currency TEXT, at_risk_days INTEGER, dormant_days INTEGER, lost_days INTEGER, new_days INTEGER, vip_min_revenue INTEGER
-- columns:
--   segment_id, segment, kind
--   customers             members known on as_of
--   revenue               their lifetime net revenue
--   average_order_value   revenue per purchase
--   orders_per_customer   purchases per member
--   at_risk_pct           % of members in the At-Risk stage
SELECT
    s.segment_id,
    s.name AS segment,
    s.kind,
    count(f.customer_id) AS customers,
    COALESCE(sum(f.revenue), 0)::DECIMAL(18,2) AS revenue,
    COALESCE(round(sum(f.revenue) / NULLIF(sum(f.orders), 0), 2), 0)::DECIMAL(18,2) AS average_order_value,
    COALESCE(round(sum(f.orders) / NULLIF(count(f.customer_id), 0), 2), 0)::DOUBLE AS orders_per_customer,
    COALESCE(round(100.0 * count(f.customer_id) FILTER (WHERE f.stage = 'At-Risk') / NULLIF(count(f.customer_id), 0), 1), 0)::DOUBLE AS at_risk_pct
FROM segments s
LEFT JOIN segment_members m ON m.segment_id = s.segment_id
LEFT JOIN customer_stages($as_of, $currency, $at_risk_days, $dormant_days, $lost_days, $new_days, $vip_min_revenue) f
       ON f.customer_id = m.customer_id
GROUP BY s.segment_id, s.name, s.kind
ORDER BY revenue DESC, s.name;

-- name: segments.members
-- description: The customers of one segment (by id or name) on a date, largest revenue first.
-- params: segment TEXT, as_of DATE, currency TEXT, at_risk_days INTEGER, dormant_days INTEGER, lost_days INTEGER, new_days INTEGER, vip_min_revenue INTEGER, at_risk_gap_factor DOUBLE
-- columns:
--   customer_id, name, email, stage, orders, revenue, last_order_at, days_since_last_order
SELECT f.customer_id, f.name, f.email, f.stage, f.orders, f.revenue, f.last_order_at, f.days_since_last_order
FROM segments s
JOIN segment_members m ON m.segment_id = s.segment_id
JOIN customer_stages($as_of, $currency, $at_risk_days, $dormant_days, $lost_days, $new_days, $vip_min_revenue, at_risk_gap_factor := $at_risk_gap_factor) f
  ON f.customer_id = m.customer_id
WHERE s.segment_id = $segment OR lower(s.name) = lower($segment)
ORDER BY f.revenue DESC, f.customer_id;

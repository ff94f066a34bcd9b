-- name: campaigns.win_back
-- description: Dormant customers with an email address, for the win-back email: how long they have been away and what they bought most.
-- params: as_of DATE, currency TEXT, at_risk_days INTEGER, dormant_days INTEGER, lost_days INTEGER, new_days INTEGER, vip_min_revenue INTEGER, at_risk_gap_factor DOUBLE
-- columns:
--   customer_id, name, first_name, email, days_since_last_order, orders, revenue
--   offer         what the email offers them
SELECT c.customer_id, c.name, coalesce(c.first_name, split_part(c.name, ' ', 1)) AS first_name, c.email,
       st.days_since_last_order, st.orders, st.revenue,
       CASE WHEN st.orders >= 3 THEN '20% off to welcome you back' ELSE '10% off your next order' END AS offer
FROM customer_stages($as_of, $currency, $at_risk_days, $dormant_days, $lost_days, $new_days, $vip_min_revenue, at_risk_gap_factor := $at_risk_gap_factor) st
JOIN customers c USING (customer_id)
WHERE st.stage = 'Dormant' AND c.email IS NOT NULL
ORDER BY st.revenue DESC, c.customer_id;

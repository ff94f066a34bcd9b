-- name: customers.360
-- description: The Customer 360 row of one customer (see customers.profile for the columns).
-- params: customer_id TEXT, as_of DATE, currency TEXT, at_risk_days INTEGER, dormant_days INTEGER, lost_days INTEGER, new_days INTEGER, vip_min_revenue INTEGER, at_risk_gap_factor DOUBLE
SELECT * FROM customer_profile($customer_id, $as_of, $currency, $at_risk_days, $dormant_days, $lost_days, $new_days, $vip_min_revenue, at_risk_gap_factor := $at_risk_gap_factor);

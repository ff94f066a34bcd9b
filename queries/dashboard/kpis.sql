-- name: dashboard.kpis
-- description: The dashboard's KPI cards on a date.
-- params: as_of DATE, currency TEXT, at_risk_days INTEGER, dormant_days INTEGER, lost_days INTEGER, new_days INTEGER, vip_min_revenue INTEGER, at_risk_gap_factor DOUBLE
-- columns:
--   customers  customers known on as_of (buyers and prospects)
--   active     customers with a purchase in the last dormant_days days
--   at_risk    customers in the At-Risk stage
--   revenue    net revenue of all purchases up to as_of, reporting currency
--   orders     purchases up to as_of
SELECT
    count(*) AS customers,
    count(*) FILTER (WHERE stage IN ('VIP', 'Active', 'New', 'At-Risk')) AS active,
    count(*) FILTER (WHERE stage = 'At-Risk') AS at_risk,
    COALESCE(sum(revenue), 0)::DECIMAL(18,2) AS revenue,
    COALESCE(sum(orders), 0)::BIGINT AS orders
FROM customer_stages($as_of, $currency, $at_risk_days, $dormant_days, $lost_days, $new_days, $vip_min_revenue, at_risk_gap_factor := $at_risk_gap_factor);

-- name: base.period_kpis
-- description: The headline KPIs of one period [start_date, end_date], for kpi.summary.
-- params: start_date DATE, end_date DATE, currency TEXT, at_risk_days INTEGER, dormant_days INTEGER, lost_days INTEGER, new_days INTEGER, vip_min_revenue INTEGER, at_risk_gap_factor DOUBLE
-- columns:
--   customers, active, new, at_risk, dormant   customers at the end of the period (new: first purchase inside it)
--   revenue, orders, average_order_value      purchases inside the period (reporting currency; orders without a rate left out)
--   repeat_purchase_rate                      % of buyers (to the end of the period) with two or more purchases
CREATE OR REPLACE TEMP MACRO period_kpis(start_date, end_date, currency, at_risk_days, dormant_days, lost_days, new_days, vip_min_revenue, at_risk_gap_factor := 1.2) AS TABLE
WITH s AS (
    SELECT * FROM customer_stages(end_date, currency, at_risk_days, dormant_days, lost_days, new_days, vip_min_revenue, at_risk_gap_factor := at_risk_gap_factor)
),
-- Purchases in the period, by the shop's calendar (local_at), valued in the reporting currency; an
-- order without a known rate is in neither the count nor the revenue, so the average stays honest.
p AS (
    SELECT o.value
    FROM orders o
    WHERE o.status IN ('completed', 'partially_refunded', 'refunded') AND o.value IS NOT NULL
      AND o.local_at >= CAST(start_date AS DATE)
      AND o.local_at < CAST(end_date AS DATE) + INTERVAL 1 DAY
),
pk AS (
    SELECT count(*) AS orders, COALESCE(sum(value), 0)::DECIMAL(18,2) AS revenue
    FROM p
)
SELECT
    count(*) AS customers,
    count(*) FILTER (WHERE stage IN ('VIP', 'Active', 'New', 'At-Risk')) AS active,
    count(*) FILTER (WHERE first_order_at >= CAST(start_date AS DATE) AND first_order_at < CAST(end_date AS DATE) + INTERVAL 1 DAY) AS new,
    count(*) FILTER (WHERE stage = 'At-Risk') AS at_risk,
    count(*) FILTER (WHERE stage = 'Dormant') AS dormant,
    any_value(pk.revenue) AS revenue,
    any_value(pk.orders) AS orders,
    CASE WHEN any_value(pk.orders) > 0 THEN round(CAST(any_value(pk.revenue) AS DOUBLE) / any_value(pk.orders), 2) ELSE 0 END::DECIMAL(18,2) AS average_order_value,
    round(100 * CAST(count(*) FILTER (WHERE s.orders >= 2) AS DOUBLE) / greatest(count(*) FILTER (WHERE s.orders >= 1), 1), 1) AS repeat_purchase_rate
FROM s, pk;

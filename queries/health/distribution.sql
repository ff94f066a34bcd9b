-- name: health.distribution
-- description: Customers and revenue per lifecycle stage on a date; every stage is listed, empty ones with zeros.
-- params: as_of DATE, currency TEXT, at_risk_days INTEGER, dormant_days INTEGER, lost_days INTEGER, new_days INTEGER, vip_min_revenue INTEGER, at_risk_gap_factor DOUBLE
-- columns:
--   stage            lifecycle stage (see health.stages)
--   customers        customers in the stage
--   revenue          their lifetime net revenue
--   average_revenue  revenue per customer in the stage
WITH stages(stage, stage_order) AS (
    VALUES ('VIP', 1), ('Active', 2), ('New', 3), ('At-Risk', 4), ('Dormant', 5), ('Lost', 6), ('Prospect', 7)
),
s AS (
    SELECT stage, count(*) AS customers, sum(revenue) AS revenue
    FROM customer_stages($as_of, $currency, $at_risk_days, $dormant_days, $lost_days, $new_days, $vip_min_revenue, at_risk_gap_factor := $at_risk_gap_factor)
    GROUP BY stage
)
SELECT
    stages.stage,
    COALESCE(s.customers, 0) AS customers,
    COALESCE(s.revenue, 0)::DECIMAL(18,2) AS revenue,
    CASE WHEN s.customers > 0 THEN round(CAST(s.revenue AS DOUBLE) / s.customers, 2) ELSE 0 END::DECIMAL(18,2) AS average_revenue
FROM stages LEFT JOIN s USING (stage)
ORDER BY stages.stage_order;

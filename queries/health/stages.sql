-- name: health.stages
-- description: The lifecycle stage of every customer on a date. The rules are here; the thresholds are [health] in scudo.toml.
-- params: as_of DATE, currency TEXT, at_risk_days INTEGER, dormant_days INTEGER, lost_days INTEGER, new_days INTEGER, vip_min_revenue INTEGER, at_risk_gap_factor DOUBLE
-- columns:
--   stage        Prospect, Lost, Dormant, At-Risk, VIP, New or Active (first rule that holds)
--   stage_order  1 (VIP) … 7 (Prospect), for sorting
--   overdue_days days since the last order beyond the customer's usual gap (At-Risk repeat buyers only)
--   (and every column of base.customer_facts)
-- At-Risk means overdue for the next order: a repeat buyer silent for at least at_risk_gap_factor
-- times their own usual gap between orders (typical_gap_days); a one-time buyer, who has no rhythm
-- yet, once silent for at_risk_days. Dormant and Lost are flat day counts.
-- A table macro: other queries read it as `FROM customer_stages($as_of, $currency, $at_risk_days, ...,
-- at_risk_gap_factor := $at_risk_gap_factor)`; without the last argument the factor is 1.2.
CREATE OR REPLACE TEMP MACRO customer_stages(as_of, currency, at_risk_days, dormant_days, lost_days, new_days, vip_min_revenue, at_risk_gap_factor := 1.2) AS TABLE
WITH staged AS (
    SELECT f.*,
        CASE
            WHEN f.orders = 0 THEN 'Prospect'
            WHEN f.days_since_last_order >= lost_days THEN 'Lost'
            WHEN f.days_since_last_order >= dormant_days THEN 'Dormant'
            WHEN f.typical_gap_days IS NOT NULL AND f.days_since_last_order >= at_risk_gap_factor * greatest(f.typical_gap_days, 1) THEN 'At-Risk'
            WHEN f.typical_gap_days IS NULL AND f.days_since_last_order >= at_risk_days THEN 'At-Risk'
            WHEN f.revenue >= vip_min_revenue THEN 'VIP'
            WHEN f.days_since_first_order < new_days THEN 'New'
            ELSE 'Active'
        END AS stage
    FROM customer_facts(as_of, currency) f
)
SELECT *,
    CASE stage WHEN 'VIP' THEN 1 WHEN 'Active' THEN 2 WHEN 'New' THEN 3 WHEN 'At-Risk' THEN 4
               WHEN 'Dormant' THEN 5 WHEN 'Lost' THEN 6 ELSE 7 END AS stage_order,
    CASE WHEN stage = 'At-Risk' AND typical_gap_days IS NOT NULL THEN days_since_last_order - typical_gap_days END AS overdue_days
FROM staged;

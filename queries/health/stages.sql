-- name: health.stages
-- description: The lifecycle stage of every customer on a date. The rules are here; the thresholds are [health] in scudo.toml.
-- params: as_of DATE, currency TEXT, at_risk_days INTEGER, dormant_days INTEGER, lost_days INTEGER, new_days INTEGER, vip_min_revenue INTEGER
-- columns:
--   stage        Prospect, Lost, Dormant, At-Risk, VIP, New or Active (first rule that holds)
--   stage_order  1 (VIP) … 7 (Prospect), for sorting
--   (and every column of base.customer_facts)
-- A table macro: other queries read it as `FROM customer_stages($as_of, $currency, $at_risk_days, ...)`.
CREATE OR REPLACE TEMP MACRO customer_stages(as_of, currency, at_risk_days, dormant_days, lost_days, new_days, vip_min_revenue) AS TABLE
WITH staged AS (
    SELECT f.*,
        CASE
            WHEN f.orders = 0 THEN 'Prospect'
            WHEN f.days_since_last_order >= lost_days THEN 'Lost'
            WHEN f.days_since_last_order >= dormant_days THEN 'Dormant'
            WHEN f.days_since_last_order >= at_risk_days THEN 'At-Risk'
            WHEN f.revenue >= vip_min_revenue THEN 'VIP'
            WHEN f.days_since_first_order < new_days THEN 'New'
            ELSE 'Active'
        END AS stage
    FROM customer_facts(as_of, currency) f
)
SELECT *,
    CASE stage WHEN 'VIP' THEN 1 WHEN 'Active' THEN 2 WHEN 'New' THEN 3 WHEN 'At-Risk' THEN 4
               WHEN 'Dormant' THEN 5 WHEN 'Lost' THEN 6 ELSE 7 END AS stage_order
FROM staged;

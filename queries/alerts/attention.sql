-- name: alerts.attention
-- description: Customers who need attention on a date, each with the reason: at risk (overdue for their next order by their own rhythm) or long inactive.
-- params: as_of DATE, currency TEXT, at_risk_days INTEGER, dormant_days INTEGER, lost_days INTEGER, new_days INTEGER, vip_min_revenue INTEGER, at_risk_gap_factor DOUBLE
-- columns:
--   customer_id, name, stage
--   reason                  why this customer is listed, in words
--   days_since_last_order   days since the latest purchase
--   typical_gap_days        their usual days between purchases (NULL for one-time buyers)
--   revenue, orders         lifetime net revenue and purchases
--   churn_probability, churn_band   from the latest scoring run on or before as_of (empty when never scored)
WITH run AS (
    SELECT run_id FROM score_runs WHERE as_of <= CAST($as_of AS DATE) ORDER BY as_of DESC, run_id DESC LIMIT 1
),
scores AS (SELECT c.customer_id, c.churn_probability, c.churn_band FROM customer_scores c JOIN run USING (run_id))
SELECT
    customer_id,
    name,
    stage,
    CASE
        WHEN stage = 'At-Risk' AND typical_gap_days IS NOT NULL
            THEN 'at risk: no order for ' || days_since_last_order || ' days (usually every ' || typical_gap_days || ' days: ' || overdue_days || ' days overdue)'
        WHEN stage = 'At-Risk'
            THEN 'at risk: no order for ' || days_since_last_order || ' days'
        ELSE 'inactive ' || days_since_last_order || ' days'
    END AS reason,
    days_since_last_order,
    typical_gap_days,
    revenue,
    orders,
    round(s.churn_probability, 3) AS churn_probability,
    s.churn_band
FROM customer_stages($as_of, $currency, $at_risk_days, $dormant_days, $lost_days, $new_days, $vip_min_revenue, at_risk_gap_factor := $at_risk_gap_factor)
LEFT JOIN scores s USING (customer_id)
WHERE stage IN ('At-Risk', 'Dormant')
ORDER BY stage_order, revenue DESC, customer_id;

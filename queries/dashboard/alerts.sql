-- name: dashboard.alerts
-- description: The dashboard's alert list on a date: the ten customers most worth a call (At-Risk first, then Dormant, by revenue). `scudo alerts` lists them all.
-- params: as_of DATE, currency TEXT, at_risk_days INTEGER, dormant_days INTEGER, lost_days INTEGER, new_days INTEGER, vip_min_revenue INTEGER, at_risk_gap_factor DOUBLE
-- columns:
--   (the columns of alerts.attention)
-- The ten are chosen first and only they get a name and a reason: at a million customers that is
-- the difference between formatting ten rows and three hundred thousand.
WITH run AS (
    SELECT run_id FROM score_runs WHERE as_of <= CAST($as_of AS DATE) ORDER BY as_of DESC, run_id DESC LIMIT 1
),
top AS (
    SELECT customer_id, stage, stage_order, days_since_last_order, typical_gap_days, overdue_days, revenue, orders
    FROM customer_stages($as_of, $currency, $at_risk_days, $dormant_days, $lost_days, $new_days, $vip_min_revenue, at_risk_gap_factor := $at_risk_gap_factor)
    WHERE stage IN ('At-Risk', 'Dormant')
    ORDER BY stage_order, revenue DESC, customer_id
    LIMIT 10
)
SELECT
    t.customer_id,
    c.name,
    t.stage,
    CASE
        WHEN t.stage = 'At-Risk' AND t.typical_gap_days IS NOT NULL
            THEN 'at risk: no order for ' || t.days_since_last_order || ' days (usually every ' || t.typical_gap_days || ' days: ' || t.overdue_days || ' days overdue)'
        WHEN t.stage = 'At-Risk'
            THEN 'at risk: no order for ' || t.days_since_last_order || ' days'
        ELSE 'inactive ' || t.days_since_last_order || ' days'
    END AS reason,
    t.days_since_last_order,
    t.typical_gap_days,
    t.revenue,
    t.orders,
    round(s.churn_probability, 3) AS churn_probability,
    s.churn_band
FROM top t
JOIN customers c ON c.customer_id = t.customer_id
LEFT JOIN (SELECT customer_id, churn_probability, churn_band FROM customer_scores JOIN run USING (run_id)) s
    ON s.customer_id = t.customer_id
ORDER BY t.stage_order, t.revenue DESC, t.customer_id;

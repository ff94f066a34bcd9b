-- name: alerts.attention
-- description: Customers who need attention on a date, each with the reason: at risk (overdue for their next order by their own rhythm) or long inactive.
-- params: as_of DATE, currency TEXT, at_risk_days INTEGER, dormant_days INTEGER, lost_days INTEGER, new_days INTEGER, vip_min_revenue INTEGER, at_risk_gap_factor DOUBLE
-- columns:
--   customer_id, name, stage
--   reason                  why this customer is listed, in words
--   days_since_last_order   days since the latest purchase
--   typical_gap_days        their usual days between purchases (NULL for one-time buyers)
--   revenue, orders         lifetime net revenue and purchases
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
    orders
FROM customer_stages($as_of, $currency, $at_risk_days, $dormant_days, $lost_days, $new_days, $vip_min_revenue, at_risk_gap_factor := $at_risk_gap_factor)
WHERE stage IN ('At-Risk', 'Dormant')
ORDER BY stage_order, revenue DESC, customer_id;

-- name: reports.at_risk
-- description: At-Risk customers on a date, largest revenue first, each with the reason and a suggested action; `limit` of them (0: all).
-- params: as_of DATE, currency TEXT, at_risk_days INTEGER, dormant_days INTEGER, lost_days INTEGER, new_days INTEGER, vip_min_revenue INTEGER, at_risk_gap_factor DOUBLE, limit INTEGER
-- columns:
--   customer_id, name, email
--   reason                  why they are At-Risk, in words
--   action                  what to do about it (edit the rules here)
--   days_since_last_order, typical_gap_days, overdue_days
--   revenue, orders         lifetime net revenue and purchases
SELECT
    customer_id,
    name,
    email,
    CASE
        WHEN typical_gap_days IS NOT NULL
            THEN 'no order for ' || days_since_last_order || ' days (usually every ' || typical_gap_days || ' days: ' || overdue_days || ' days overdue)'
        ELSE 'no order for ' || days_since_last_order || ' days after a first purchase'
    END AS reason,
    CASE
        WHEN revenue >= $vip_min_revenue / 2 THEN 'call or write personally this week; offer early access or a thank-you gift'
        WHEN orders >= 5 THEN 'send a win-back offer on their usual category within 3 days'
        WHEN orders >= 2 THEN 'send a reminder with new arrivals; a small discount if no reply in a week'
        ELSE 'send a second-purchase offer'
    END AS action,
    days_since_last_order,
    typical_gap_days,
    overdue_days,
    revenue,
    orders
FROM customer_stages($as_of, $currency, $at_risk_days, $dormant_days, $lost_days, $new_days, $vip_min_revenue, at_risk_gap_factor := $at_risk_gap_factor)
WHERE stage = 'At-Risk'
ORDER BY revenue DESC, customer_id
LIMIT CASE WHEN CAST($limit AS INTEGER) = 0 THEN NULL ELSE CAST($limit AS INTEGER) END;

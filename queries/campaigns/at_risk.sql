-- name: campaigns.at_risk
-- description: Who gets the at-risk retention offer: At-Risk customers with an email address, each with why they are at risk (the churn reasons of the latest scoring run, else their silence) and the offer their next best action calls for.
-- params: as_of DATE, currency TEXT, at_risk_days INTEGER, dormant_days INTEGER, lost_days INTEGER, new_days INTEGER, vip_min_revenue INTEGER, at_risk_gap_factor DOUBLE
-- columns:
--   customer_id, name, first_name, email
--   reason        why they are at risk, in words
--   action        the next best action (as `scudo customer` shows it)
--   offer         what the email offers them
--   days_since_last_order, typical_gap_days, orders, revenue, discount_pct, churn_probability
WITH st AS (
    SELECT * FROM customer_stages($as_of, $currency, $at_risk_days, $dormant_days, $lost_days, $new_days, $vip_min_revenue, at_risk_gap_factor := $at_risk_gap_factor)
    WHERE stage = 'At-Risk'
),
disc AS (
    SELECT o.customer_id, round(100.0 * count(*) FILTER (WHERE o.discount_total > 0) / count(*))::INTEGER AS discount_pct
    FROM orders o JOIN st USING (customer_id)
    WHERE o.status IN ('completed', 'partially_refunded', 'refunded') AND o.value IS NOT NULL
      AND o.local_at < CAST($as_of AS DATE) + INTERVAL 1 DAY
    GROUP BY o.customer_id
),
latest AS (
    SELECT s.customer_id, s.churn_probability, s.churn_reasons,
           row_number() OVER (PARTITION BY s.customer_id ORDER BY r.as_of DESC, r.run_id DESC) AS n
    FROM customer_scores s JOIN score_runs r ON r.run_id = s.run_id JOIN st USING (customer_id)
    WHERE r.as_of <= CAST($as_of AS DATE)
)
SELECT
    c.customer_id,
    c.name,
    coalesce(c.first_name, split_part(c.name, ' ', 1)) AS first_name,
    c.email,
    coalesce(
        nullif(l.churn_reasons, ''),
        'no order for ' || st.days_since_last_order || ' days' || coalesce(' (usually every ' || st.typical_gap_days || ' days)', '')
    ) AS reason,
    CASE WHEN coalesce(d.discount_pct, 0) >= 50 THEN 'Send a retention offer with a discount'
         ELSE 'Check in personally: ask how the last order went' END AS action,
    CASE WHEN st.revenue >= $vip_min_revenue / 2 THEN 'a personal thank-you gift with your next order'
         WHEN coalesce(d.discount_pct, 0) >= 50 THEN '15% off your next order'
         ELSE 'free shipping on your next order' END AS offer,
    st.days_since_last_order,
    st.typical_gap_days,
    st.orders,
    st.revenue,
    coalesce(d.discount_pct, 0) AS discount_pct,
    l.churn_probability
FROM st
JOIN customers c USING (customer_id)
LEFT JOIN disc d USING (customer_id)
LEFT JOIN latest l ON l.customer_id = st.customer_id AND l.n = 1
WHERE c.email IS NOT NULL
ORDER BY st.revenue DESC, c.customer_id;

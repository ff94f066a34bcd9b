-- name: customers.actions
-- description: Next best actions for one customer, as rules over the Customer 360; edit the rules here.
-- params: customer_id TEXT, as_of DATE, currency TEXT, at_risk_days INTEGER, dormant_days INTEGER, lost_days INTEGER, new_days INTEGER, vip_min_revenue INTEGER
-- columns:
--   priority      1 first
--   action        what to do
--   reason        why, from the customer's own numbers
--   within_days   how soon (NULL: no deadline)
WITH p AS (
    SELECT * FROM customer_profile($customer_id, $as_of, $currency, $at_risk_days, $dormant_days, $lost_days, $new_days, $vip_min_revenue)
),
rules(priority, action, reason, within_days) AS (
    SELECT 1, 'Send a retention offer with a discount',
           'at risk: no order for ' || days_since_last_order || ' days' ||
           COALESCE(' (usually every ' || typical_gap_days || ')', '') || ', and ' || discount_pct || '% of orders used a discount', 3
    FROM p WHERE stage = 'At-Risk' AND discount_pct >= 50
    UNION ALL
    SELECT 1, 'Check in personally: ask how the last order went',
           'at risk: no order for ' || days_since_last_order || ' days' || COALESCE(' (usually every ' || typical_gap_days || ')', ''), 7
    FROM p WHERE stage = 'At-Risk' AND COALESCE(discount_pct, 0) < 50
    UNION ALL
    SELECT 1, 'VIP escalation: thank them personally and offer early access',
           'lifetime revenue ' || revenue || ' over ' || orders || ' orders', 14
    FROM p WHERE stage = 'VIP'
    UNION ALL
    SELECT 1, 'Win-back campaign', 'inactive ' || days_since_last_order || ' days after ' || orders || ' orders', 7
    FROM p WHERE stage = 'Dormant'
    UNION ALL
    SELECT 3, 'Last-chance win-back offer, then stop paid marketing', 'no order for ' || days_since_last_order || ' days', 30
    FROM p WHERE stage = 'Lost'
    UNION ALL
    SELECT 1, 'Onboarding follow-up: nudge a second purchase', 'first purchase ' || days_since_first_order || ' days ago', 14
    FROM p WHERE stage = 'New'
    UNION ALL
    SELECT 2, 'Cross-sell from their favourite category: ' || top_category, top_category_pct || '% of what they bought is ' || top_category, 30
    FROM p WHERE stage IN ('Active', 'VIP') AND top_category IS NOT NULL
    UNION ALL
    SELECT 4, 'Lead with price and value: bundles, loyalty points, member prices', discount_pct || '% of their orders used a discount', NULL
    FROM p WHERE discount_pct >= 50
)
SELECT priority, action, reason, within_days FROM rules ORDER BY priority, action;

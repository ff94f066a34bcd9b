-- name: customers.actions
-- description: Next best actions for one customer, as rules over the Customer 360; edit the rules here.
-- params: customer_id TEXT, as_of DATE, currency TEXT, at_risk_days INTEGER, dormant_days INTEGER, lost_days INTEGER, new_days INTEGER, vip_min_revenue INTEGER, at_risk_gap_factor DOUBLE
-- columns:
--   priority      1 first
--   action        what to do
--   reason        why, from the customer's own numbers
--   within_days   how soon (NULL: no deadline)
-- Each rule is one CASE: when its condition holds it yields the action, otherwise NULL. The profile
-- is read once (a UNION of one SELECT per rule would compute it once per rule).
WITH p AS (
    SELECT * FROM customer_profile($customer_id, $as_of, $currency, $at_risk_days, $dormant_days, $lost_days, $new_days, $vip_min_revenue, at_risk_gap_factor := $at_risk_gap_factor)
),
candidates AS (
    SELECT unnest([
        CASE WHEN stage = 'At-Risk' AND discount_pct >= 50 THEN {
            'priority': 1, 'action': 'Send a retention offer with a discount',
            'reason': 'at risk: no order for ' || days_since_last_order || ' days' ||
                      COALESCE(' (usually every ' || typical_gap_days || ')', '') || ', and ' || discount_pct || '% of orders used a discount',
            'within_days': 3} END,
        CASE WHEN stage = 'At-Risk' AND COALESCE(discount_pct, 0) < 50 THEN {
            'priority': 1, 'action': 'Check in personally: ask how the last order went',
            'reason': 'at risk: no order for ' || days_since_last_order || ' days' || COALESCE(' (usually every ' || typical_gap_days || ')', ''),
            'within_days': 7} END,
        CASE WHEN stage = 'VIP' THEN {
            'priority': 1, 'action': 'VIP escalation: thank them personally and offer early access',
            'reason': 'lifetime revenue ' || revenue || ' over ' || orders || ' orders',
            'within_days': 14} END,
        CASE WHEN stage = 'Dormant' THEN {
            'priority': 1, 'action': 'Win-back campaign',
            'reason': 'inactive ' || days_since_last_order || ' days after ' || orders || ' orders',
            'within_days': 7} END,
        CASE WHEN stage = 'Lost' THEN {
            'priority': 3, 'action': 'Last-chance win-back offer, then stop paid marketing',
            'reason': 'no order for ' || days_since_last_order || ' days',
            'within_days': 30} END,
        CASE WHEN stage = 'New' THEN {
            'priority': 1, 'action': 'Onboarding follow-up: nudge a second purchase',
            'reason': 'first purchase ' || days_since_first_order || ' days ago',
            'within_days': 14} END,
        CASE WHEN stage IN ('Active', 'VIP') AND top_category IS NOT NULL THEN {
            'priority': 2, 'action': 'Cross-sell from their favourite category: ' || top_category,
            'reason': top_category_pct || '% of what they bought is ' || top_category,
            'within_days': 30} END,
        CASE WHEN discount_pct >= 50 THEN {
            'priority': 4, 'action': 'Lead with price and value: bundles, loyalty points, member prices',
            'reason': discount_pct || '% of their orders used a discount',
            'within_days': NULL::INTEGER} END
    ]) AS r
    FROM p
)
SELECT r.priority::INTEGER AS priority, r.action AS action, r.reason AS reason, r.within_days::INTEGER AS within_days
FROM candidates
WHERE r IS NOT NULL
ORDER BY priority, action;

-- name: campaigns.onboarding
-- description: New customers due for an onboarding email: day 1, 7 and 30 after their first order, while they have ordered only once (a second order stops the sequence). `dedup` makes each step go once per customer, whatever the period.
-- params: as_of DATE, currency TEXT, at_risk_days INTEGER, dormant_days INTEGER, lost_days INTEGER, new_days INTEGER, vip_min_revenue INTEGER, at_risk_gap_factor DOUBLE
-- columns:
--   customer_id, name, first_name, email
--   step          1, 7 or 30: the day of the sequence
--   dedup         `day-N`: the outbox key uses it instead of the period
--   days_since_first_order
-- A step is due from its day for 3 days, so a scheduler that was down on the day still sends it once.
WITH st AS (
    SELECT * FROM customer_stages($as_of, $currency, $at_risk_days, $dormant_days, $lost_days, $new_days, $vip_min_revenue, at_risk_gap_factor := $at_risk_gap_factor)
    WHERE orders = 1
),
steps(step) AS (VALUES (1), (7), (30))
SELECT c.customer_id, c.name, coalesce(c.first_name, split_part(c.name, ' ', 1)) AS first_name, c.email,
       s.step, 'day-' || s.step AS dedup, st.days_since_first_order
FROM st JOIN customers c USING (customer_id) JOIN steps s
  ON st.days_since_first_order >= s.step AND st.days_since_first_order < s.step + 3
WHERE c.email IS NOT NULL
ORDER BY s.step, c.customer_id;

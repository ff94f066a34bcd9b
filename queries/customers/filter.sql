-- name: customers.filter
-- description: Customers filtered by lifecycle stage, segment, RFM group and churn band (any filter left empty matches all), largest revenue first, one page at a time.
-- params: stage TEXT, segment TEXT, rfm_group TEXT, churn_band TEXT, limit INTEGER, offset INTEGER, as_of DATE, currency TEXT, at_risk_days INTEGER, dormant_days INTEGER, lost_days INTEGER, new_days INTEGER, vip_min_revenue INTEGER, at_risk_gap_factor DOUBLE
-- columns:
--   customer_id, name, email, stage, orders, revenue, last_order_at
--   rfm_group, churn_probability, churn_band   from the latest scoring run on or before as_of
--   total    how many customers match in all
WITH run AS (
    SELECT run_id FROM score_runs WHERE as_of <= CAST($as_of AS DATE) ORDER BY as_of DESC, run_id DESC LIMIT 1
),
scores AS (SELECT c.customer_id, c.rfm_group, c.churn_probability, c.churn_band FROM customer_scores c JOIN run USING (run_id))
SELECT f.customer_id, f.name, f.email, f.stage, f.orders, f.revenue, f.last_order_at,
       s.rfm_group, round(s.churn_probability, 3) AS churn_probability, s.churn_band,
       count(*) OVER () AS total
FROM customer_stages($as_of, $currency, $at_risk_days, $dormant_days, $lost_days, $new_days, $vip_min_revenue, at_risk_gap_factor := $at_risk_gap_factor) f
LEFT JOIN scores s USING (customer_id)
WHERE (COALESCE($stage, '') = '' OR lower(f.stage) = lower($stage))
  AND (COALESCE($segment, '') = '' OR list_contains(f.segment_ids, $segment))
  AND (COALESCE($rfm_group, '') = '' OR lower(s.rfm_group) = lower($rfm_group))
  AND (COALESCE($churn_band, '') = '' OR lower(s.churn_band) = lower($churn_band))
ORDER BY f.revenue DESC, f.customer_id
LIMIT $limit OFFSET $offset;

-- name: live.snapshot
-- description: One row per customer for the live events of `scudo serve`: stage, churn risk (latest scoring run) and segments now; the server compares two snapshots after each commit.
-- params: as_of DATE, currency TEXT, at_risk_days INTEGER, dormant_days INTEGER, lost_days INTEGER, new_days INTEGER, vip_min_revenue INTEGER, at_risk_gap_factor DOUBLE
-- columns:
--   customer_id, name, stage, revenue
--   churn_probability  from the latest scoring run on or before as_of (NULL before the first `scudo score`)
--   segments           the segment ids, sorted, comma-separated
WITH run AS (
    SELECT run_id FROM score_runs WHERE as_of <= CAST($as_of AS DATE) ORDER BY as_of DESC, run_id DESC LIMIT 1
)
SELECT f.customer_id, f.name, f.stage, f.revenue, s.churn_probability,
       array_to_string(list_sort(f.segment_ids), ',') AS segments
FROM customer_stages($as_of, $currency, $at_risk_days, $dormant_days, $lost_days, $new_days, $vip_min_revenue, at_risk_gap_factor := $at_risk_gap_factor) f
LEFT JOIN (SELECT c.customer_id, c.churn_probability FROM customer_scores c JOIN run USING (run_id)) s USING (customer_id);

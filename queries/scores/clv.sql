-- name: scores.clv
-- description: Customers by forecast customer lifetime value from the latest scoring run on or before a date, highest first.
-- params: as_of DATE, limit INTEGER
-- columns:
--   customer_id, name, clv, clv_trend, expected_purchases, p_alive, churn_band, stage, rfm_group, scored_as_of, score_method
--   scored_as_of and score_method (`model` or `rule-based`) describe the run the scores come from
WITH run AS (
    SELECT run_id, as_of, models FROM score_runs WHERE as_of <= CAST($as_of AS DATE) ORDER BY as_of DESC, run_id DESC LIMIT 1
)
SELECT s.customer_id, c.name, s.clv, s.clv_trend, round(s.expected_purchases, 2) AS expected_purchases,
       round(s.p_alive, 3) AS p_alive, s.churn_band, s.stage, s.rfm_group, r.as_of AS scored_as_of,
       CASE WHEN r.models LIKE '%rule-based%' THEN 'rule-based' ELSE 'model' END AS score_method
FROM customer_scores s JOIN run r ON r.run_id = s.run_id JOIN customers c ON c.customer_id = s.customer_id
WHERE s.clv IS NOT NULL
ORDER BY s.clv DESC, s.customer_id
LIMIT $limit;

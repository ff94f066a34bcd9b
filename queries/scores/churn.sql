-- name: scores.churn
-- description: Customers by churn risk from the latest scoring run on or before a date, highest first.
-- params: as_of DATE, limit INTEGER
-- columns:
--   customer_id, name, churn_probability, churn_band, churn_method, churn_reasons, stage, clv, scored_as_of, score_method
--   scored_as_of and score_method (`model` or `rule-based`) describe the run the scores come from
WITH run AS (
    SELECT run_id, as_of, models FROM score_runs WHERE as_of <= CAST($as_of AS DATE) ORDER BY as_of DESC, run_id DESC LIMIT 1
)
SELECT s.customer_id, c.name, round(s.churn_probability, 3) AS churn_probability, s.churn_band, s.churn_method,
       s.churn_reasons, s.stage, s.clv, r.as_of AS scored_as_of,
       CASE WHEN r.models LIKE '%rule-based%' THEN 'rule-based' ELSE 'model' END AS score_method
FROM customer_scores s JOIN run r ON r.run_id = s.run_id JOIN customers c ON c.customer_id = s.customer_id
WHERE s.churn_probability IS NOT NULL
ORDER BY s.churn_probability DESC, s.clv DESC NULLS LAST, s.customer_id
LIMIT $limit;

-- name: scores.latest_run
-- description: The latest `scudo score` run on or before a date: when it scored, how, and how old it is on that date.
-- params: as_of DATE
-- columns:
--   run_id, scored_as_of (the run's as-of date), created_at, customers
--   score_method   `model` (BG/NBD and Gamma-Gamma) or `rule-based` (too little history to fit: no CLV)
--   score_age_days days from the run's as-of date to as_of
--   models, parameters (JSON: the fit, repeat buyers, why the models were not used, where the data ended)
SELECT run_id, as_of AS scored_as_of, created_at, customers,
       CASE WHEN models LIKE '%rule-based%' THEN 'rule-based' ELSE 'model' END AS score_method,
       date_diff('day', as_of, CAST($as_of AS DATE)) AS score_age_days,
       models, parameters
FROM score_runs
WHERE as_of <= CAST($as_of AS DATE)
ORDER BY as_of DESC, run_id DESC
LIMIT 1;

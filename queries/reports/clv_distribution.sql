-- name: reports.clv_distribution
-- description: How forecast customer lifetime value and churn risk are spread, from the latest `scudo score` run on or before a date: customers and CLV per band.
-- params: as_of DATE, currency TEXT
-- columns:
--   band         a CLV range in the reporting currency, e.g. `100–250`
--   lower        its lower bound
--   customers    customers scored in the band
--   clv          their summed CLV
--   high_churn   of them, customers whose churn band is high
WITH run AS (
    SELECT max(run_id) AS run_id FROM score_runs WHERE as_of <= CAST($as_of AS DATE)
),
bands AS (
    SELECT * FROM (VALUES (0, 50), (50, 100), (100, 250), (250, 500), (500, 1000), (1000, 2500), (2500, 5000), (5000, NULL))
        AS b(lower, upper)
),
s AS (
    SELECT c.clv, c.churn_band
    FROM customer_scores c JOIN run ON c.run_id = run.run_id
    WHERE c.clv IS NOT NULL
)
SELECT
    CASE WHEN b.upper IS NULL THEN b.lower || '+' ELSE b.lower || '–' || b.upper END AS band,
    b.lower,
    count(s.clv) AS customers,
    COALESCE(sum(s.clv), 0)::DECIMAL(18,2) AS clv,
    count(*) FILTER (WHERE s.churn_band = 'high') AS high_churn
FROM bands b
LEFT JOIN s ON s.clv >= b.lower AND (b.upper IS NULL OR s.clv < b.upper)
GROUP BY ALL
ORDER BY b.lower;

-- name: cohorts.monthly
-- description: Monthly acquisition cohorts: retention and cumulative revenue per customer by months since the first purchase.
-- params: as_of DATE, currency TEXT
-- columns:
--   cohort                            month of the first purchase (YYYY-MM)
--   cohort_size                       customers whose first purchase was in that month
--   months_since_first                0 = the first month
--   active_customers                  cohort members with a purchase in that month
--   retention_pct                     active_customers / cohort_size, %
--   cumulative_revenue_per_customer   net revenue to the end of that month / cohort_size
WITH p AS (
    SELECT customer_id, ordered_at, CASE WHEN COALESCE(currency, $currency) = $currency THEN net_total ELSE 0 END AS net
    FROM orders
    WHERE status IN ('completed', 'partially_refunded', 'refunded')
      AND ordered_at < CAST($as_of AS DATE) + INTERVAL 1 DAY
),
firsts AS (
    SELECT customer_id, date_trunc('month', min(ordered_at)) AS cohort FROM p GROUP BY customer_id
),
sizes AS (
    SELECT cohort, count(*) AS cohort_size FROM firsts GROUP BY cohort
),
grid AS (
    SELECT f.cohort, date_diff('month', f.cohort, date_trunc('month', p.ordered_at)) AS k,
           count(DISTINCT p.customer_id) AS active_customers, sum(p.net) AS revenue
    FROM p JOIN firsts f ON f.customer_id = p.customer_id
    GROUP BY f.cohort, k
)
SELECT
    strftime(g.cohort, '%Y-%m') AS cohort,
    s.cohort_size,
    g.k AS months_since_first,
    g.active_customers,
    round(100.0 * g.active_customers / s.cohort_size, 1) AS retention_pct,
    round(sum(g.revenue) OVER (PARTITION BY g.cohort ORDER BY g.k) / s.cohort_size, 2)::DECIMAL(18,2) AS cumulative_revenue_per_customer
FROM grid g JOIN sizes s ON s.cohort = g.cohort
ORDER BY g.cohort, g.k;

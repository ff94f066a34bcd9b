-- name: models.holdout
-- description: Repeat purchase days each customer made in a holdout period (split, until], for customers who had bought by the split.
-- params: split DATE, until DATE
-- columns:
--   customer_id
--   actual   purchase days in the holdout period
WITH first AS (
    SELECT customer_id, min(CAST(local_at AS DATE)) AS first_day
    FROM orders
    WHERE status IN ('completed', 'partially_refunded') AND value IS NOT NULL
    GROUP BY customer_id
)
SELECT f.customer_id,
       count(DISTINCT CAST(o.local_at AS DATE)) FILTER (
           WHERE o.status IN ('completed', 'partially_refunded') AND o.value IS NOT NULL
             AND o.local_at >= CAST($split AS DATE) + INTERVAL 1 DAY
             AND o.local_at < CAST($until AS DATE) + INTERVAL 1 DAY)::DOUBLE AS actual
FROM first f
LEFT JOIN orders o ON o.customer_id = f.customer_id
WHERE f.first_day <= CAST($split AS DATE)
GROUP BY f.customer_id
ORDER BY f.customer_id;

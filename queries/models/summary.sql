-- name: models.summary
-- description: The models' sufficient statistics per customer at a calibration end: repeat purchase days, recency, age and average repeat value.
-- params: until DATE, unit_days DOUBLE
-- columns:
--   customer_id
--   x          repeat purchase days: days with a purchase, after the first (same-day orders are one transaction)
--   t_x        time from the first to the last purchase, in units of unit_days
--   T          time from the first purchase to the end of `until`, in the same units
--   m          average value of the repeat purchase days (NULL without repeats)
-- Purchases are completed and partially refunded orders, valued net of refunds in the reporting
-- currency, on the shop's calendar days; a fully refunded order was returned and is not a purchase
-- for the models, and an order without a known exchange rate is left out.
-- customer_summary holds these statistics over all purchase days (rebuilt by each import): a
-- customer whose last purchase day is on or before `until` has exactly them; only the others are
-- recomputed from orders. On the current date that is nobody.
WITH current AS (
    SELECT customer_id, model_days - 1 AS x, model_first_day AS first_day, model_last_day AS last_day,
           model_total AS total, model_first_value AS first_value
    FROM customer_summary
    WHERE model_days > 0 AND model_last_day <= CAST($until AS DATE)
),
redo AS (
    SELECT customer_id FROM customer_summary WHERE model_last_day > CAST($until AS DATE)
),
tx AS (
    SELECT o.customer_id, CAST(o.local_at AS DATE) AS day, sum(o.value) AS value
    FROM orders o
    JOIN redo r ON r.customer_id = o.customer_id
    WHERE o.status IN ('completed', 'partially_refunded') AND o.value IS NOT NULL
      AND o.local_at < CAST($until AS DATE) + INTERVAL 1 DAY
    GROUP BY o.customer_id, day
),
s AS (
    SELECT * FROM current
    UNION ALL
    SELECT customer_id, count(*) - 1 AS x, min(day) AS first_day, max(day) AS last_day,
           sum(value) AS total, arg_min(value, day) AS first_value
    FROM tx GROUP BY customer_id
)
SELECT
    customer_id,
    x::DOUBLE AS x,
    date_diff('day', first_day, last_day) / CAST($unit_days AS DOUBLE) AS t_x,
    date_diff('day', first_day, CAST($until AS DATE)) / CAST($unit_days AS DOUBLE) AS "T",
    CASE WHEN x > 0 THEN CAST(total - first_value AS DOUBLE) / x END AS m
FROM s
ORDER BY customer_id;

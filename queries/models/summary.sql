-- name: models.summary
-- description: The models' sufficient statistics per customer at a calibration end: repeat purchase days, recency, age and average repeat value.
-- params: until DATE, unit_days DOUBLE
-- columns:
--   customer_id
--   x          repeat purchase days: days with a purchase, after the first (same-day orders are one transaction)
--   t_x        time from the first to the last purchase, in units of unit_days
--   T          time from the first purchase to the end of `until`, in the same units
--   m          average value of the repeat purchase days (NULL without repeats)
-- Purchases are completed and partially refunded orders, valued net of refunds; a fully refunded
-- order was returned and is not a purchase for the models.
WITH tx AS (
    SELECT customer_id, CAST(ordered_at AS DATE) AS day, sum(net_total) AS value
    FROM orders
    WHERE status IN ('completed', 'partially_refunded')
      AND ordered_at < CAST($until AS DATE) + INTERVAL 1 DAY
    GROUP BY customer_id, day
),
s AS (
    SELECT customer_id, count(*) - 1 AS x, min(day) AS first_day, max(day) AS last_day,
           sum(value) AS total, arg_min(value, day) AS first_value
    FROM tx GROUP BY customer_id
)
SELECT
    customer_id,
    x::DOUBLE AS x,
    date_diff('day', first_day, last_day) / CAST($unit_days AS DOUBLE) AS t_x,
    date_diff('day', first_day, CAST($until AS DATE)) / CAST($unit_days AS DOUBLE) AS "T",
    CASE WHEN x > 0 THEN ((total - first_value) / x)::DOUBLE END AS m
FROM s
ORDER BY customer_id;

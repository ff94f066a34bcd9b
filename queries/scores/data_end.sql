-- name: scores.data_end
-- description: Where the purchase data ends on a date: the models' default calibration end, and what "far past the data" is measured against.
-- params: as_of DATE
-- columns:
--   last_purchase       the last day with a purchase on or before as_of (NULL without purchases)
--   longest_quiet_days  the most days between two consecutive purchase days up to then (0 with one purchase day)
-- Purchases as the models count them (queries/models/summary.sql): completed and partially refunded
-- orders with a value in the reporting currency, on the shop's calendar days.
WITH days AS (
    SELECT DISTINCT CAST(local_at AS DATE) AS day
    FROM orders
    WHERE status IN ('completed', 'partially_refunded') AND value IS NOT NULL
      AND local_at < CAST($as_of AS DATE) + INTERVAL 1 DAY
),
gaps AS (
    SELECT day, date_diff('day', lag(day) OVER (ORDER BY day), day) AS gap FROM days
)
SELECT max(day) AS last_purchase, COALESCE(max(gap), 0)::BIGINT AS longest_quiet_days
FROM gaps;

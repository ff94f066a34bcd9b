-- name: models.features
-- description: What churn reasons and the CLV trend are read from, per buyer on a date.
-- params: as_of DATE, currency TEXT
-- columns:
--   customer_id, orders, days_since_last_order, typical_gap_days
--   frequency_ratio   purchases per day in the recent half of the customer's history ÷ the earlier half
--   spend_ratio       average order value of the recent half ÷ the earlier half
--   spend_rate_ratio  net spend per day of the recent half ÷ the earlier half (the CLV trend)
--   discount_share    share of purchases with a discount
WITH p AS (
    SELECT customer_id, local_at AS ordered_at, value AS net_total, discount_total
    FROM orders
    WHERE status IN ('completed', 'partially_refunded', 'refunded') AND value IS NOT NULL
      AND local_at < CAST($as_of AS DATE) + INTERVAL 1 DAY
),
-- A buyer's first purchase is the same whatever the date (it precedes as_of for everyone in p):
-- customer_summary has it, and a million rows are cheaper to read than ten million to aggregate.
span AS (
    SELECT customer_id, first_order_at AS first_at,
           first_order_at + (CAST($as_of AS DATE) + INTERVAL 1 DAY - first_order_at) / 2 AS mid
    FROM customer_summary
    WHERE first_order_at < CAST($as_of AS DATE) + INTERVAL 1 DAY
),
-- The recent half is what the earlier half leaves (every purchase is before mid or not): two
-- fewer filtered aggregates over ten million orders, about a fifth of this query's CPU at 1M.
-- late_spend is NULL with no recent purchase, as a sum over none is. (Columns listed: Spark
-- has no SELECT * EXCLUDE.)
sums AS (
    SELECT p.customer_id,
           count(*) AS orders,
           count(*) FILTER (WHERE p.ordered_at < s.mid) AS early_orders,
           sum(p.net_total) FILTER (WHERE p.ordered_at < s.mid) AS early_spend,
           sum(p.net_total) AS spend,
           count(*) FILTER (WHERE p.discount_total > 0) AS discounted,
           max(p.ordered_at) AS last_at, min(p.ordered_at) AS first_at
    FROM p JOIN span s ON s.customer_id = p.customer_id
    GROUP BY p.customer_id
),
halves AS (
    SELECT customer_id, orders, early_orders, early_spend, discounted, last_at, first_at,
           orders - early_orders AS late_orders,
           CASE WHEN orders > early_orders THEN spend - COALESCE(early_spend, 0) END AS late_spend
    FROM sums
)
SELECT
    customer_id,
    orders,
    date_diff('day', CAST(last_at AS DATE), CAST($as_of AS DATE)) AS days_since_last_order,
    CASE WHEN orders > 1 THEN round(date_diff('day', CAST(first_at AS DATE), CAST(last_at AS DATE)) / (orders - 1))::BIGINT END AS typical_gap_days,
    CASE WHEN orders >= 4 AND early_orders > 0 THEN late_orders / early_orders END::DOUBLE AS frequency_ratio,
    CASE WHEN early_orders > 0 AND late_orders > 0 AND orders >= 4 AND early_spend > 0
         THEN (CAST(late_spend AS DOUBLE) / late_orders) / (CAST(early_spend AS DOUBLE) / early_orders) END::DOUBLE AS spend_ratio,
    CASE WHEN orders >= 2 AND COALESCE(early_spend, 0) > 0 THEN CAST(COALESCE(late_spend, 0) AS DOUBLE) / early_spend END::DOUBLE AS spend_rate_ratio,
    (discounted / orders)::DOUBLE AS discount_share
FROM halves
ORDER BY customer_id;

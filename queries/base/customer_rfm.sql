-- name: base.customer_rfm
-- description: One customer's RFM scores on a date, equal to their row of base.rfm_scores, computed from counts instead of ranking every buyer.
-- params: customer_id TEXT, as_of DATE, currency TEXT
-- columns:
--   customer_id, recency_score, frequency_score, monetary_score, rfm   as in base.rfm
--   rfm_group   the named group of base.rfm_groups
-- A table macro: read it as `FROM customer_rfm($customer_id, $as_of, $currency)`.
-- percent_rank() is (number of buyers ranked strictly before − 0) / (buyers − 1); counting them
-- gives the same double, so the same scores, for one customer at the cost of one pass over the facts.
CREATE OR REPLACE TEMP MACRO customer_rfm(id, as_of, currency) AS TABLE
WITH buyers AS (
    SELECT customer_id, days_since_last_order, orders, revenue
    FROM customer_facts(as_of, currency)
    WHERE orders > 0
),
me AS (
    SELECT * FROM buyers WHERE customer_id = id
),
counts AS (
    SELECT
        count(*) AS n,
        count(*) FILTER (WHERE b.days_since_last_order > me.days_since_last_order) AS r_before,
        count(*) FILTER (WHERE b.orders < me.orders) AS f_before,
        count(*) FILTER (WHERE b.revenue < me.revenue) AS m_before
    FROM buyers b, me
),
scored AS (
    SELECT me.customer_id,
        least(5, 1 + floor(5 * CASE WHEN c.n > 1 THEN c.r_before::DOUBLE / (c.n - 1)::DOUBLE ELSE 0 END))::INTEGER AS recency_score,
        least(5, 1 + floor(5 * CASE WHEN c.n > 1 THEN c.f_before::DOUBLE / (c.n - 1)::DOUBLE ELSE 0 END))::INTEGER AS frequency_score,
        least(5, 1 + floor(5 * CASE WHEN c.n > 1 THEN c.m_before::DOUBLE / (c.n - 1)::DOUBLE ELSE 0 END))::INTEGER AS monetary_score
    FROM me, counts c
)
SELECT customer_id, recency_score, frequency_score, monetary_score,
       recency_score::VARCHAR || frequency_score::VARCHAR || monetary_score::VARCHAR AS rfm,
       rfm_group(recency_score, frequency_score, monetary_score) AS rfm_group
FROM scored;

-- name: base.rfm
-- description: Recency, frequency and monetary scores (1–5, 5 best) of every buyer on a date.
-- params: as_of DATE, currency TEXT
-- columns:
--   recency_score, frequency_score, monetary_score   1–5 by percentile among buyers; equal values get equal scores
--   rfm                                              the three digits, e.g. 545
-- Ties: a score is 1 + floor(5 × percent_rank), so customers with the same value always share a
-- score and a shop with fewer than five buyers still gets scores spread over 1–5.
-- A table macro: read it as `FROM rfm_scores($as_of, $currency)`.
CREATE OR REPLACE TEMP MACRO rfm_scores(as_of, currency) AS TABLE
WITH buyers AS (
    SELECT * FROM customer_facts(as_of, currency) WHERE orders > 0
),
ranked AS (
    SELECT customer_id, days_since_last_order, orders, revenue,
        least(5, 1 + floor(5 * percent_rank() OVER (ORDER BY days_since_last_order DESC)))::INTEGER AS recency_score,
        least(5, 1 + floor(5 * percent_rank() OVER (ORDER BY orders)))::INTEGER AS frequency_score,
        least(5, 1 + floor(5 * percent_rank() OVER (ORDER BY revenue)))::INTEGER AS monetary_score
    FROM buyers
)
SELECT customer_id, recency_score, frequency_score, monetary_score,
       recency_score::VARCHAR || frequency_score::VARCHAR || monetary_score::VARCHAR AS rfm
FROM ranked;

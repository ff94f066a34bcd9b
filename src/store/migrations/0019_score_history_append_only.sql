-- scudo schema: the score history without its primary key. Each `scudo score` takes a run id from
-- score_run_seq once and appends its customers' rows in one transaction, so (run_id, customer_id)
-- is unique by construction (the scoring checks its snapshot for repeated customers before it
-- commits); the key's index cost 2.7 s per run at a million customers and served no reader: they
-- filter by run (rows are appended in run order, so DuckDB's per-row-group min/max skip the other
-- runs) or by customer, which the two-column key could not look up. DuckDB cannot drop a key
-- constraint, so the table is rebuilt with the same columns in the same order.

CREATE TABLE customer_scores_appended (
    run_id             BIGINT NOT NULL,
    customer_id        VARCHAR NOT NULL,
    stage              VARCHAR,
    segments           VARCHAR[],
    recency_score      INTEGER,
    frequency_score    INTEGER,
    monetary_score     INTEGER,
    rfm                VARCHAR,
    rfm_group          VARCHAR,
    churn_probability  DOUBLE,
    churn_band         VARCHAR,
    churn_method       VARCHAR,
    churn_reasons      VARCHAR,
    clv                DECIMAL(18,2),
    clv_trend          VARCHAR,
    next_action        VARCHAR,
    p_alive            DOUBLE,
    expected_purchases DOUBLE,
    next_order_date    DATE
);
INSERT INTO customer_scores_appended SELECT * FROM customer_scores ORDER BY run_id, customer_id;
DROP TABLE customer_scores;
ALTER TABLE customer_scores_appended RENAME TO customer_scores;

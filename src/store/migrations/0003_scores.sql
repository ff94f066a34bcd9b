-- scudo schema version 3: score history. Each `scudo score` run stores every customer's scores
-- with its as-of date, so changes over time can be queried (risk rising, segment migrations).

CREATE SEQUENCE score_run_seq START 1;

CREATE TABLE score_runs (
    run_id      BIGINT PRIMARY KEY,
    as_of       DATE NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    customers   BIGINT NOT NULL,
    models      VARCHAR
);

CREATE TABLE customer_scores (
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
    PRIMARY KEY (run_id, customer_id)
);

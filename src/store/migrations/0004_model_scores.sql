-- scudo schema version 4: model outputs in the score history.

ALTER TABLE customer_scores ADD COLUMN p_alive DOUBLE;
ALTER TABLE customer_scores ADD COLUMN expected_purchases DOUBLE;
ALTER TABLE customer_scores ADD COLUMN next_order_date DATE;
ALTER TABLE score_runs ADD COLUMN parameters VARCHAR;

-- scudo schema version 8: the models' per-customer statistics over all purchase days, kept in
-- customer_summary by every import (store/summary.sql), so that fitting and scoring on the
-- current date read one row per customer (queries/models/summary.sql). Filled here for the
-- summary created by version 5.
ALTER TABLE customer_summary ADD COLUMN model_days BIGINT;          -- days with a purchase (completed or partially refunded)
ALTER TABLE customer_summary ADD COLUMN model_first_day DATE;
ALTER TABLE customer_summary ADD COLUMN model_last_day DATE;
ALTER TABLE customer_summary ADD COLUMN model_total DECIMAL(18,2);  -- net value of those days
ALTER TABLE customer_summary ADD COLUMN model_first_value DECIMAL(18,2);  -- net value of the first day

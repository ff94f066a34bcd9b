-- name: base.unconverted
-- description: Purchases up to a date that are left out of every money figure and count because no exchange rate into the reporting currency is known for their currency and day.
-- params: as_of DATE
-- columns:
--   orders       how many purchases are left out
--   currencies   their currencies, e.g. [GBP, INR]
-- `scudo rates import FILE` brings the rates; every view prints this as a note when orders > 0.
SELECT count(*) AS orders, list_sort(list(DISTINCT currency)) AS currencies
FROM orders
WHERE status IN ('completed', 'partially_refunded', 'refunded') AND value IS NULL
  AND local_at < CAST($as_of AS DATE) + INTERVAL 1 DAY;

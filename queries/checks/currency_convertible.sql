-- description: Every purchase is in the reporting currency or has an exchange rate into it; the ones that have none are left out of every money figure and count (import rates with `scudo rates import`).
-- severity: error
-- warn_if: > 0
-- error_if: > 1%
-- denominator: orders
-- owner: data
-- columns:
--   currency      the purchases' currency
--   orders        purchases with no rate into the reporting currency
--   first_day, last_day  the days they fall on (shop time)
SELECT currency, count(*) AS orders, min(local_at)::DATE AS first_day, max(local_at)::DATE AS last_day
FROM orders
WHERE value IS NULL AND status IN ('completed', 'partially_refunded', 'refunded')
GROUP BY currency
ORDER BY orders DESC, currency

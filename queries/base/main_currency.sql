-- name: base.main_currency
-- description: The currency most orders are in: the reporting currency when scudo.toml says currency = "auto".
-- columns:
--   currency   ISO code, e.g. USD
-- order_currencies counts orders per currency; every import rebuilds it.
SELECT currency
FROM order_currencies
WHERE currency IS NOT NULL
ORDER BY orders DESC, currency
LIMIT 1;

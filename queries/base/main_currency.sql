-- name: base.main_currency
-- description: The currency most orders are in: the reporting currency when scudo.toml says currency = "auto".
-- columns:
--   currency   ISO code, e.g. USD
SELECT currency
FROM orders
WHERE currency IS NOT NULL
GROUP BY currency
ORDER BY count(*) DESC, currency
LIMIT 1;

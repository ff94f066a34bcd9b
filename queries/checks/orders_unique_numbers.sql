-- description: Each order number (Shopify's "#1001", a Stripe invoice number, a CSV's order number) belongs to one order per source; two orders with the same number are usually one order exported twice under two ids, and its revenue would count twice.
-- severity: error
-- owner: data
-- columns:
--   source        where the orders came from
--   order_number  the number they share
--   orders        how many orders carry it
--   order_ids     their ids in scudo (source:id)
SELECT source, order_number, count(*) AS orders, list(order_id ORDER BY order_id) AS order_ids
FROM orders
WHERE order_number IS NOT NULL
  -- Payments, deals and opportunities carry a description or a name there, not a number.
  AND list_has_any(coalesce(kinds, []), ['shopify-orders', 'stripe-invoices', 'csv'])
GROUP BY source, order_number
HAVING count(*) > 1
ORDER BY orders DESC, source, order_number

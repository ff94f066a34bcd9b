-- description: Each order number (Shopify's "#1001", a Stripe invoice number, a CSV's order number) belongs to one order per source; two orders with the same number are usually one order exported twice under two ids, and its revenue would count twice.
-- severity: error
-- owner: data
-- columns:
--   source        where the orders came from
--   order_number  the number they share
--   orders        how many orders carry it
--   order_ids     their ids in scudo (source:id)

-- Every import notes the numbers its orders share with another order (order_number_clashes);
-- grouping all orders here instead takes seconds at ten million orders.
SELECT o.source, o.order_number, count(*) AS orders, list_sort(list(o.order_id)) AS order_ids
FROM orders o
SEMI JOIN order_number_clashes c ON c.source = o.source AND c.order_number = o.order_number
GROUP BY o.source, o.order_number
-- Payments, deals and opportunities carry a description or a name there, not a number
-- (tested after the join: on every order it would cost a second).
HAVING count(*) FILTER (WHERE list_has_any(coalesce(o.kinds, []), ['shopify-orders', 'stripe-invoices', 'csv'])) > 1
ORDER BY orders DESC, o.source, o.order_number

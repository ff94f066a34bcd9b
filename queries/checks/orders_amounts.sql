-- description: Order amounts add up: no negative total or refund, no refund larger than the order, and net = total - refunded.
-- severity: error
-- owner: data
-- columns:
--   order_id, order_number, total, refunded_total, net_total
--   problem       what does not add up
SELECT order_id, order_number, total, refunded_total, net_total,
    CASE
        WHEN total < 0 THEN 'negative total'
        WHEN refunded_total < 0 THEN 'negative refund'
        WHEN refunded_total > total THEN 'refund larger than the order'
        ELSE 'net is not total - refunded'
    END AS problem
FROM orders
WHERE total < 0 OR refunded_total < 0 OR refunded_total > total OR net_total <> total - refunded_total
ORDER BY order_id

-- description: Order amounts add up: no negative total or refund, no refund larger than the order, and net = total - refunded.
-- severity: error
-- owner: data
-- columns:
--   order_id, order_number, total, refunded_total, net_total
--   problem       what does not add up
-- The amounts alone are scanned first; ids and numbers (long text) are read only for the rows found.
WITH bad AS (
    SELECT rowid AS r FROM orders
    WHERE total < 0 OR refunded_total < 0 OR refunded_total > total OR net_total <> total - refunded_total
)
SELECT o.order_id, o.order_number, o.total, o.refunded_total, o.net_total,
    CASE
        WHEN o.total < 0 THEN 'negative total'
        WHEN o.refunded_total < 0 THEN 'negative refund'
        WHEN o.refunded_total > o.total THEN 'refund larger than the order'
        ELSE 'net is not total - refunded'
    END AS problem
FROM bad JOIN orders o ON o.rowid = bad.r
ORDER BY o.order_id

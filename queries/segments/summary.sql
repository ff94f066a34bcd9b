-- name: segments.summary
-- description: Every segment with its customers and their lifetime revenue on a date, largest revenue first.
-- params: as_of DATE, currency TEXT
-- columns:
--   segment_id   `tag:NAME` for segments from imported tags
--   segment      the segment's name
--   kind         tag, rule or list
--   customers    members known on as_of
--   revenue      their lifetime net revenue
SELECT
    s.segment_id,
    s.name AS segment,
    s.kind,
    count(f.customer_id) AS customers,
    COALESCE(sum(f.revenue), 0)::DECIMAL(18,2) AS revenue
FROM segments s
LEFT JOIN segment_members m ON m.segment_id = s.segment_id
LEFT JOIN customer_facts($as_of, $currency) f ON f.customer_id = m.customer_id
GROUP BY s.segment_id, s.name, s.kind
ORDER BY revenue DESC, s.name;

-- name: customers.search
-- description: Customers whose id, email, name, company, a word of their name or company, or phone number starts with the text; exact matches first. Reads the sorted search index: milliseconds at any size. When it finds nobody, scudo runs customers.search_more.
-- params: q TEXT, limit INTEGER
-- columns:
--   customer_id, name, email, company
--   score   100 exact id or email · 95 exact name · 90 prefix of name, email or id · 80 prefix of a word, the company or the phone number
WITH needle AS (
    SELECT lower(trim($q)) AS q,
           regexp_replace($q, '[^0-9]', '', 'g') AS digits,
           regexp_full_match(trim($q), '[+0-9 ().-]+') AS phone_like
),
hits AS (
    SELECT s.customer_id, s.name,
        CASE
            WHEN s.term = n.q AND s.field IN ('id', 'email') THEN 100
            WHEN s.term = n.q AND s.field = 'name' THEN 95
            WHEN s.field IN ('id', 'email', 'name') THEN 90
            ELSE 80
        END AS score
    FROM customer_search s, needle n
    WHERE n.q <> '' AND s.term >= n.q AND s.term < n.q || chr(1114111) AND s.field <> 'phone'
    UNION ALL
    SELECT s.customer_id, s.name, 80 AS score
    FROM customer_search s, needle n
    WHERE n.phone_like AND length(n.digits) >= 4
      AND s.term >= n.digits AND s.term < n.digits || chr(1114111) AND s.field = 'phone'
),
best AS (
    SELECT customer_id, any_value(name) AS name, max(score) AS score
    FROM hits
    GROUP BY customer_id
),
top AS (
    SELECT * FROM best ORDER BY score DESC, name, customer_id LIMIT $limit
)
SELECT t.customer_id, t.name, c.email, c.company, t.score
FROM top t
JOIN customers c ON c.customer_id = t.customer_id
ORDER BY t.score DESC, t.name, t.customer_id;

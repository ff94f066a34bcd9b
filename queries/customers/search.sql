-- name: customers.search
-- description: Customers matching a name, email, phone or id: exact, then prefix, then contained, then fuzzy; best match first.
-- params: q TEXT, limit INTEGER
-- columns:
--   customer_id, name, email, company
--   score   100 exact id or email · 95 exact name · 90 prefix · 80 word prefix · 70 contained · below: fuzzy (Jaro-Winkler)
WITH needle AS (
    SELECT lower(trim($q)) AS q
),
scored AS (
    SELECT c.customer_id, c.name, c.email, c.company,
        CASE
            WHEN lower(c.customer_id) = n.q OR lower(c.email) = n.q THEN 100
            WHEN lower(c.name) = n.q THEN 95
            WHEN starts_with(lower(c.name), n.q) OR starts_with(lower(c.email), n.q) THEN 90
            WHEN contains(' ' || lower(c.name), ' ' || n.q) OR contains(lower(c.company), n.q) THEN 80
            WHEN contains(lower(c.name), n.q) OR contains(lower(c.email), n.q) OR contains(lower(c.customer_id), n.q)
                 OR (length(n.q) >= 4 AND contains(regexp_replace(COALESCE(c.phone, ''), '[^0-9]', '', 'g'), regexp_replace(n.q, '[^0-9]', '', 'g')) AND regexp_replace(n.q, '[^0-9]', '', 'g') <> '') THEN 70
            ELSE round(65 * greatest(
                    jaro_winkler_similarity(lower(COALESCE(c.name, '')), n.q),
                    jaro_winkler_similarity(lower(split_part(COALESCE(c.email, ''), '@', 1)), n.q),
                    COALESCE(list_max(list_transform(string_split(lower(COALESCE(c.name, '')), ' '),
                                                     lambda w: jaro_winkler_similarity(w, n.q))), 0)), 1)
        END AS score
    FROM customers c, needle n
    WHERE n.q <> ''
)
SELECT customer_id, name, email, company, score
FROM scored
WHERE score >= 55
ORDER BY score DESC, name, customer_id
LIMIT $limit;

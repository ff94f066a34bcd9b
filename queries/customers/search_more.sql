-- name: customers.search_more
-- description: Customers whose id, email, name, company or phone number contains the text (70), or whose name words resemble every word of it (a typo; Jaro-Winkler, scores below 65). Reads every customer, so scudo runs it only when customers.search finds nobody.
-- params: q TEXT, limit INTEGER
-- columns:
--   customer_id, name, email, company
--   score   70 contained · below 65: as close as the words are (65 × similarity)
WITH needle AS (
    SELECT lower(trim($q)) AS q,
           regexp_replace($q, '[^0-9]', '', 'g') AS digits,
           regexp_full_match(trim($q), '[+0-9 ().-]+') AS phone_like
),
contained AS (
    SELECT s.customer_id, s.name, 70.0 AS score
    FROM customer_search s, needle n
    WHERE length(n.q) >= 2 AND s.field IN ('id', 'email', 'name', 'company') AND contains(s.term, n.q)
    UNION ALL
    SELECT s.customer_id, s.name, 70.0
    FROM customer_search s, needle n
    WHERE n.phone_like AND length(n.digits) >= 4 AND s.field = 'phone' AND contains(s.term, n.digits)
),
-- Typos: each word of the text against the vocabulary of name and company words.
query_words AS (
    SELECT DISTINCT unnest(string_split(n.q, ' ')) AS qw FROM needle n
),
query_word_count AS (
    SELECT count(*) AS n FROM query_words WHERE qw <> ''
),
similar_words AS (
    SELECT q.qw, w.word, jaro_winkler_similarity(w.word, q.qw) AS sim
    FROM query_words q, search_words w
    WHERE q.qw <> '' AND jaro_winkler_similarity(w.word, q.qw) >= 0.8
),
per_word AS (
    SELECT s.customer_id, any_value(s.name) AS name, m.qw, max(m.sim) AS sim
    FROM customer_search s
    JOIN similar_words m ON s.term = m.word
    WHERE s.field IN ('word', 'name', 'company')
    GROUP BY s.customer_id, m.qw
),
fuzzy AS (
    SELECT p.customer_id, any_value(p.name) AS name, round(65 * avg(p.sim), 1) AS score
    FROM per_word p
    GROUP BY p.customer_id
    HAVING count(*) = (SELECT n FROM query_word_count)
),
best AS (
    SELECT customer_id, any_value(name) AS name, max(score) AS score
    FROM (SELECT * FROM contained UNION ALL SELECT * FROM fuzzy)
    GROUP BY customer_id
    HAVING max(score) >= 55
),
top AS (
    SELECT * FROM best ORDER BY score DESC, name, customer_id LIMIT $limit
)
SELECT t.customer_id, t.name, c.email, c.company, t.score
FROM top t
JOIN customers c ON c.customer_id = t.customer_id
ORDER BY t.score DESC, t.name, t.customer_id;

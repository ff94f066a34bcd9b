-- Rebuilds the customer search index from customers; run inside every import's transaction (and by
-- migration 7). Inserted in term order, so DuckDB's per-row-group min/max make prefix lookups cheap.
DELETE FROM customer_search;
INSERT INTO customer_search
SELECT term, field, customer_id, name
FROM (
    SELECT lower(customer_id) AS term, 'id' AS field, customer_id, name FROM customers
    UNION ALL
    SELECT lower(email), 'email', customer_id, name FROM customers WHERE email IS NOT NULL
    UNION ALL
    SELECT lower(trim(name)), 'name', customer_id, name FROM customers WHERE name IS NOT NULL
    UNION ALL
    SELECT lower(trim(company)), 'company', customer_id, name FROM customers WHERE company IS NOT NULL
    UNION ALL
    SELECT DISTINCT w, 'word', customer_id, name
    FROM (
        SELECT unnest(string_split(lower(name), ' ')) AS w, customer_id, name FROM customers WHERE contains(trim(name), ' ')
        UNION ALL
        SELECT unnest(string_split(lower(company), ' ')), customer_id, name FROM customers WHERE contains(trim(company), ' ')
    )
    UNION ALL
    SELECT regexp_replace(phone, '[^0-9]', '', 'g'), 'phone', customer_id, name FROM customers WHERE phone IS NOT NULL
)
WHERE term <> ''
ORDER BY term, field, customer_id;
DELETE FROM search_words;
INSERT INTO search_words
SELECT DISTINCT term FROM customer_search WHERE field IN ('word', 'name', 'company') AND NOT contains(term, ' ');

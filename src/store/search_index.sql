-- Rebuilds the customer search index from customers; run inside every import's transaction (and by
-- migration 7). Inserted in term order, so DuckDB's per-row-group min/max make prefix lookups cheap.
-- As written it indexes every customer; upkeep.rs scopes each `/*scope:X*/ TRUE` to the customers
-- an import touched (then search_words.sql's rebuild is replaced by upkeep.rs's incremental one).
DELETE FROM customer_search WHERE /*scope:customer_search*/ TRUE;
INSERT INTO customer_search
WITH scoped AS (SELECT * FROM customers WHERE /*scope:customers*/ TRUE)
SELECT term, field, customer_id, name
FROM (
    SELECT lower(customer_id) AS term, 'id' AS field, customer_id, name FROM scoped
    UNION ALL
    SELECT lower(email), 'email', customer_id, name FROM scoped WHERE email IS NOT NULL
    UNION ALL
    SELECT lower(trim(name)), 'name', customer_id, name FROM scoped WHERE name IS NOT NULL
    UNION ALL
    SELECT lower(trim(company)), 'company', customer_id, name FROM scoped WHERE company IS NOT NULL
    UNION ALL
    SELECT DISTINCT w, 'word', customer_id, name
    FROM (
        SELECT unnest(string_split(lower(name), ' ')) AS w, customer_id, name FROM scoped WHERE contains(trim(name), ' ')
        UNION ALL
        SELECT unnest(string_split(lower(company), ' ')), customer_id, name FROM scoped WHERE contains(trim(company), ' ')
    )
    UNION ALL
    SELECT regexp_replace(phone, '[^0-9]', '', 'g'), 'phone', customer_id, name FROM scoped WHERE phone IS NOT NULL
)
WHERE term <> ''
ORDER BY term, field, customer_id;

-- description: No two customer records share an email address (compared lower-cased; imports trim every value): the same person split in two halves their history and doubles their count.
-- severity: warn
-- warn_if: > 0
-- owner: data
-- columns:
--   email         the address, normalised
--   customers     how many records carry it
--   customer_ids  their ids
-- Addresses are found first; the records carrying them are gathered only for those.
WITH dup AS (
    SELECT lower(email) AS email FROM customers WHERE email IS NOT NULL AND email <> '' GROUP BY 1 HAVING count(*) > 1
)
SELECT d.email, count(*) AS customers, list_sort(list(c.customer_id)) AS customer_ids
FROM dup d JOIN customers c ON lower(c.email) = d.email
GROUP BY d.email
ORDER BY customers DESC, d.email

-- description: No two customer records share an email address (compared lower-cased and trimmed): the same person split in two halves their history and doubles their count.
-- severity: warn
-- warn_if: > 0
-- owner: data
-- columns:
--   email         the address, normalised
--   customers     how many records carry it
--   customer_ids  their ids
SELECT lower(trim(email)) AS email, count(*) AS customers, list(customer_id ORDER BY customer_id) AS customer_ids
FROM customers
WHERE email IS NOT NULL AND trim(email) <> ''
GROUP BY 1
HAVING count(*) > 1
ORDER BY customers DESC, email

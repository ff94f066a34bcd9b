-- scudo schema version 7: a sorted search index over every customer's id, email, name, company,
-- the words of name and company, and phone digits, kept by every import (store/search_index.sql).
-- Sorted by term, a prefix search reads the one or two row groups whose min/max hold the prefix.

CREATE TABLE customer_search (
    term         VARCHAR NOT NULL,   -- lowercased (phone: digits only)
    field        VARCHAR NOT NULL,   -- id, email, name, company, word or phone
    customer_id  VARCHAR NOT NULL,
    name         VARCHAR             -- the customer's name, to rank matches without a join
);

CREATE TABLE search_words (
    word VARCHAR NOT NULL            -- every distinct word of names and companies, for typo matching
);

-- Rebuilds the words typo matching compares against, from the search index (search_index.sql).
DELETE FROM search_words;
INSERT INTO search_words
SELECT DISTINCT term FROM customer_search WHERE field IN ('word', 'name', 'company') AND NOT contains(term, ' ');

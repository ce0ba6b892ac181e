-- PostgreSQL only: the phone keys' part of the search document made
-- without the text-search parser.
--
-- Why (measured on the demo's 200,000 customers, BENCHMARKS.md): the
-- documents are most of what a bulk load spends on PostgreSQL, and the
-- phone keys (a hundred characters a customer on average, store/phone.go)
-- were half of a document's cost: to_tsvector's parser classifies every
-- token of them, 3.4 s per 200,000 customers. When they hold only digits
-- and the punctuation numbers are written with (the test below, as in
-- 0024), that punctuation becomes spaces and what is left is runs of ASCII
-- digits, which the parser and the 'simple' dictionary return as they are:
-- array_to_tsvector of the runs makes the same lexemes, with no positions
-- (no query reads them, store/roster.go), in 1.0 s. Checked on the
-- demo's million customers: no document's lexemes differ.
--
-- Existing documents keep their positions: the lexemes, all that a search
-- or the words (0024) read, are the same, so nothing is rebuilt.
CREATE OR REPLACE FUNCTION customers_search_doc(first_name text, last_name text, name_keys text, email text, phone_keys text) RETURNS tsvector
LANGUAGE sql STABLE AS $$
    SELECT to_tsvector('simple', lower(regexp_replace(
        (unaccent(first_name || ' ' || last_name || ' ' || name_keys || ' ' || email
            || CASE WHEN phone_keys COLLATE "C" ~ '^[-0-9 +()./]*$' THEN '' ELSE ' ' || phone_keys END)) COLLATE "und-x-icu",
        '[^[:alnum:]]+', ' ', 'g')))
    || CASE WHEN phone_keys COLLATE "C" ~ '^[-0-9 +()./]*$'
        THEN array_to_tsvector(array_remove(string_to_array(regexp_replace(phone_keys COLLATE "C", '[-+()./]+', ' ', 'g'), ' '), ''))
        ELSE '' END
$$;

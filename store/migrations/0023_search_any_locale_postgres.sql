-- PostgreSQL only: the search document no longer depends on the database's
-- locale. regexp_replace's [[:alnum:]] and to_tsvector's lower-casing
-- follow the database's LC_CTYPE, and in a database made with the C locale
-- (initdb --no-locale, a common default in containers) they know no letter
-- beyond ASCII: 佐藤, Σωκράτης or Łukasz lost their words and were never
-- found. The document is now split and lower-cased under ICU's root
-- collation ("und-x-icu"), the same in every database of a PostgreSQL built
-- with ICU (as Debian's package is), at the same cost (measured in psql on
-- 100,000 rows: 11 µs a customer, either way). The search query is
-- lower-cased the same way (the dialect in engine.go). SQLite's FTS5
-- tokenizer (unicode61) never looked at a locale.
CREATE OR REPLACE FUNCTION customers_search_doc(first_name text, last_name text, name_keys text, email text, phone_keys text) RETURNS tsvector
LANGUAGE sql STABLE AS $$
    SELECT to_tsvector('simple', lower(regexp_replace(
        (unaccent(first_name || ' ' || last_name || ' ' || name_keys || ' ' || email || ' ' || phone_keys)) COLLATE "und-x-icu",
        '[^[:alnum:]]+', ' ', 'g')))
$$;

-- Documents made under a locale that knows every letter are what the new
-- function makes; only a database whose LC_CTYPE does not (C, POSIX, a
-- non-UTF-8 one) has documents to make again.
DO $$
BEGIN
    IF (SELECT datctype FROM pg_database WHERE datname = current_database()) !~* 'utf-?8' THEN
        UPDATE customers_search s
        SET doc = customers_search_doc(c.first_name, c.last_name, c.name_keys, c.email, c.phone_keys)
        FROM customers c WHERE c.id = s.id;
    END IF;
END $$;

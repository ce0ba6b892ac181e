-- PostgreSQL only: the search's words under a b-tree, so that the
-- customers whose words begin with what was typed come in id order, the
-- order search results are paged in (RosterPage), without gathering and
-- sorting every match first.
--
-- Why (measured at 1,000,000 customers, BENCHMARKS.md): the GIN index over
-- the search documents returns a prefix's matches as an unordered bitmap,
-- and every one of them was then read from the heap for its id and sorted,
-- about 0.8 µs a match: "ng" (12,730 matches) took 9 ms after the bounded
-- walk of the primary key (pgSearchWindow) had failed to fill a page, and
-- typed names missed the 10 ms target at p95. A b-tree on (word, id) reads
-- a prefix's matches from the index alone, with no heap visit, as FTS5's
-- doclists are read on SQLite.
--
-- Only a document's maximal words are kept: those that are no prefix of
-- another word of the same document. A prefix matches a word only if it
-- matches a maximal word that word begins, so nothing is lost, and the
-- phone numbers' keys (0207, 02076, 02076787252: every grouping's prefix,
-- store/phone.go) take one row instead of several: 8.0 million rows for
-- the demo's million customers instead of 20 million. The document itself
-- (customers_search.doc) still decides what matches: the words only find
-- the candidates, in order, and an exact phone number or a second word is
-- tested against the document.
--
-- Which candidates to read first is decided per query, by how many words
-- begin with the prefix as the planner estimates them
-- (customers_search_estimate, below; store/roster.go): a prefix a small
-- part of the roster shares is answered from the words directly, a broad
-- one by walking the primary key first (pgSearchWindow), which fills a
-- page in its first rows where the words would have to be sorted by the
-- hundred thousand.
--
-- The GIN index goes: nothing reads it any more.

-- The document itself, the same words made for less: the phone keys (a
-- hundred characters a customer on average: the number as written, then
-- digits, store/phone.go) no longer go through unaccent, ICU's character
-- classes and lower-casing when they hold only digits and the punctuation
-- numbers are written with, which becomes spaces ("+44 (0)20 7946-0958":
-- the parser would read "+44" and "-0958" as signed numbers). Any other
-- character sends them the whole way, as before. The same words (checked
-- on the demo's million: none differs), positions aside, which no query
-- reads; 3.7 s instead of 7.3 s per 200,000 customers, measured in psql,
-- where a customer's whole load into PostgreSQL is about 30 s.
CREATE OR REPLACE FUNCTION customers_search_doc(first_name text, last_name text, name_keys text, email text, phone_keys text) RETURNS tsvector
LANGUAGE sql STABLE AS $$
    SELECT to_tsvector('simple', lower(regexp_replace(
        (unaccent(first_name || ' ' || last_name || ' ' || name_keys || ' ' || email
            || CASE WHEN phone_keys COLLATE "C" ~ '^[-0-9 +()./]*$' THEN '' ELSE ' ' || phone_keys END)) COLLATE "und-x-icu",
        '[^[:alnum:]]+', ' ', 'g')))
    || CASE WHEN phone_keys COLLATE "C" ~ '^[-0-9 +()./]*$'
        THEN to_tsvector('simple', regexp_replace(phone_keys COLLATE "C", '[-+()./]+', ' ', 'g')) ELSE '' END
$$;

-- The maximal words of a document. A tsvector keeps its lexemes sorted
-- bytewise, so a word that begins another is followed directly by one
-- that begins with it: each word is paired with the next (unnest of the
-- array and the array less its first word; 10 µs a document where a
-- window function took 15).
CREATE FUNCTION customers_search_words(doc tsvector) RETURNS SETOF text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT w FROM (SELECT tsvector_to_array(doc) AS a) s, unnest(s.a, s.a[2:]) AS u(w, next)
    WHERE next IS NULL OR NOT starts_with(next, w)
$$;

-- Bytewise order ("C"), whatever the database's collation: the search's
-- range of words beginning with a prefix (store/engine.go) is then one
-- contiguous run of the index.
CREATE TABLE customers_search_words (
    word text COLLATE "C" NOT NULL,
    id bigint NOT NULL
);
INSERT INTO customers_search_words (word, id)
SELECT w, s.id FROM customers_search s, customers_search_words(s.doc) AS w;
ALTER TABLE customers_search_words ADD PRIMARY KEY (word, id);
-- A finer histogram than the default: the estimate below tells a prefix
-- of 10,000 words from one of 50,000 (measured on the demo's million:
-- within a factor of 1.5 either way, most within 30 %).
ALTER TABLE customers_search_words ALTER COLUMN word SET STATISTICS 1000;
ANALYZE customers_search_words;

-- The word a query's candidates begin with: its longest word (the
-- rarest, as a rule), made by the function that makes the documents, so
-- split, unaccented and lower-cased as the words it is compared with.
-- Every match has a word that begins with it, so a maximal word that does.
-- No word at all: '', every word, slow but right.
CREATE FUNCTION customers_search_prefix(query text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce((SELECT w FROM unnest(tsvector_to_array(customers_search_doc(query, '', '', '', ''))) AS w
        ORDER BY length(w) DESC, w LIMIT 1), '')
$$;

-- How many words begin with a query's prefix, as the planner estimates
-- them from the statistics: no index is read, 0.3 ms at any size.
CREATE FUNCTION customers_search_estimate(query text) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    pre text := customers_search_prefix(query);
    plan json;
BEGIN
    EXECUTE format('EXPLAIN (FORMAT JSON) SELECT 1 FROM customers_search_words WHERE word >= %L AND word < %L',
        pre, pre || U&'\+10FFFF') INTO plan;
    RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::bigint;
END $$;

-- Kept by statement triggers on the documents, set-wise: whatever writes a
-- document (the customers' row triggers, the bulk-load door's stand-in,
-- the search keys' rebuild, migrate-data) keeps the words without knowing
-- of them. No foreign key: the triggers delete a document's words with it.
CREATE FUNCTION customers_search_words_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO customers_search_words (word, id)
    SELECT w, n.id FROM new_docs n, customers_search_words(n.doc) AS w;
    RETURN NULL;
END $$;
CREATE TRIGGER customers_search_words_insert AFTER INSERT ON customers_search
REFERENCING NEW TABLE AS new_docs FOR EACH STATEMENT EXECUTE FUNCTION customers_search_words_insert();

CREATE FUNCTION customers_search_words_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM customers_search_words x
    USING old_docs o JOIN new_docs n ON n.id = o.id, customers_search_words(o.doc) AS w
    WHERE n.doc <> o.doc AND x.word = w AND x.id = o.id;
    INSERT INTO customers_search_words (word, id)
    SELECT w, n.id FROM old_docs o JOIN new_docs n ON n.id = o.id, customers_search_words(n.doc) AS w
    WHERE n.doc <> o.doc;
    RETURN NULL;
END $$;
CREATE TRIGGER customers_search_words_update AFTER UPDATE ON customers_search
REFERENCING OLD TABLE AS old_docs NEW TABLE AS new_docs FOR EACH STATEMENT EXECUTE FUNCTION customers_search_words_update();

CREATE FUNCTION customers_search_words_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM customers_search_words x
    USING old_docs o, customers_search_words(o.doc) AS w
    WHERE x.word = w AND x.id = o.id;
    RETURN NULL;
END $$;
CREATE TRIGGER customers_search_words_delete AFTER DELETE ON customers_search
REFERENCING OLD TABLE AS old_docs FOR EACH STATEMENT EXECUTE FUNCTION customers_search_words_delete();

DROP INDEX customers_search_doc;

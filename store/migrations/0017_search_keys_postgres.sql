-- Search as staff type it (issue 14): PostgreSQL's twin of
-- 0017_search_keys_sqlite.sql, which says what the columns hold.
--
-- The search document gains the joined forms of the names (name_keys), so
-- "dsouza" finds D'Souza here as in SQLite's index; the update trigger fires
-- when they change. Every existing customer's keys are rebuilt by the
-- migration's Go step (rebuildSearchKeys), which writes their documents anew.
ALTER TABLE orgs ADD COLUMN country TEXT COLLATE "C" NOT NULL DEFAULT '';

ALTER TABLE customers ADD COLUMN name_keys TEXT COLLATE "C" NOT NULL DEFAULT '';

DROP TRIGGER customers_search_insert ON customers;
DROP TRIGGER customers_search_update ON customers;
DROP FUNCTION customers_search();
DROP FUNCTION customers_search_doc(text, text, text, text);

CREATE FUNCTION customers_search_doc(first_name text, last_name text, name_keys text, email text, phone_keys text) RETURNS tsvector
LANGUAGE sql STABLE AS $$
    SELECT to_tsvector('simple', regexp_replace(
        (unaccent(first_name || ' ' || last_name || ' ' || name_keys || ' ' || email || ' ' || phone_keys)) COLLATE "default",
        '[^[:alnum:]]+', ' ', 'g'))
$$;

CREATE FUNCTION customers_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO customers_search (id, doc)
    VALUES (NEW.id, customers_search_doc(NEW.first_name, NEW.last_name, NEW.name_keys, NEW.email, NEW.phone_keys))
    ON CONFLICT (id) DO UPDATE SET doc = excluded.doc;
    RETURN NULL;
END $$;

CREATE TRIGGER customers_search_insert AFTER INSERT ON customers
FOR EACH ROW EXECUTE FUNCTION customers_search();
CREATE TRIGGER customers_search_update AFTER UPDATE OF first_name, last_name, name_keys, email, phone_keys ON customers
FOR EACH ROW EXECUTE FUNCTION customers_search();

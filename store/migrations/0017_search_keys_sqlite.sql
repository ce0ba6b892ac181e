-- Search as staff type it (issue 14).
--
--   orgs.country          the organization's country, an ISO 3166 code ('' when
--                         not set): phone numbers written without a +code are
--                         read with its numbering plan (store.PhoneKeys)
--   customers.name_keys   the words of a name that punctuation splits, joined
--                         (D'Souza → dsouza; store.NameKeys), indexed with the
--                         name so that "dsouza" finds D'Souza
--
-- Both keys of every existing customer are rebuilt by this migration's Go
-- step (rebuildSearchKeys): phone_keys now also holds each number's
-- international and national forms and their first digits.
ALTER TABLE orgs ADD COLUMN country TEXT NOT NULL DEFAULT '';

ALTER TABLE customers ADD COLUMN name_keys TEXT NOT NULL DEFAULT '';

DROP TRIGGER customers_fts_insert;
DROP TRIGGER customers_fts_update;

CREATE TRIGGER customers_fts_insert AFTER INSERT ON customers BEGIN
    INSERT INTO customers_fts (rowid, name, email, phone) VALUES (
        new.id,
        new.first_name || ' ' || new.last_name || ' ' || new.name_keys,
        new.email,
        new.phone_keys);
END;

CREATE TRIGGER customers_fts_update AFTER UPDATE OF first_name, last_name, name_keys, email, phone_keys ON customers BEGIN
    DELETE FROM customers_fts WHERE rowid = old.id;
    INSERT INTO customers_fts (rowid, name, email, phone) VALUES (
        new.id,
        new.first_name || ' ' || new.last_name || ' ' || new.name_keys,
        new.email,
        new.phone_keys);
END;

-- Search over name, email and phone. A contentless FTS5 index (the text lives in
-- customers) kept in sync by triggers; unicode61 splits emails at '.' and '@'
-- and folds diacritics, so "jose", "doe" and "example" each find
-- jose.doe@example.com. The phone is indexed through phone_keys (written by
-- the store: the number as written plus its digit runs) so "0142", "5550142"
-- and "15550142" all find +1 555-0142. prefix='1 2' makes one- and two-letter
-- prefix queries (the first keystrokes) index lookups instead of scans.
CREATE VIRTUAL TABLE customers_fts USING fts5 (
    name, email, phone,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2'
);

CREATE TRIGGER customers_fts_insert AFTER INSERT ON customers BEGIN
    INSERT INTO customers_fts (rowid, name, email, phone) VALUES (
        new.id,
        new.first_name || ' ' || new.last_name,
        new.email,
        new.phone_keys);
END;

CREATE TRIGGER customers_fts_update AFTER UPDATE OF first_name, last_name, email, phone_keys ON customers BEGIN
    DELETE FROM customers_fts WHERE rowid = old.id;
    INSERT INTO customers_fts (rowid, name, email, phone) VALUES (
        new.id,
        new.first_name || ' ' || new.last_name,
        new.email,
        new.phone_keys);
END;

CREATE TRIGGER customers_fts_delete AFTER DELETE ON customers BEGIN
    DELETE FROM customers_fts WHERE rowid = old.id;
END;

-- Index customers that existed before this migration.
INSERT INTO customers_fts (rowid, name, email, phone)
SELECT id, first_name || ' ' || last_name, email,
       phone_keys
FROM customers;

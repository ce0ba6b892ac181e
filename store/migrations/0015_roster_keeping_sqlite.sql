-- Keeping the roster (issue 14): archived customers counted, and invites
-- staff withdraw.

-- Archived customers per organization, kept by triggers as roster_counts
-- (migration 0004) keeps the live ones, so the roster's "Archived" filter
-- shows its count with one row read at any roster size, however many
-- customers a studio has archived over the years.
CREATE TABLE archived_counts (
    org_id INTEGER PRIMARY KEY,
    n      INTEGER NOT NULL
) STRICT;

INSERT INTO archived_counts (org_id, n)
SELECT org_id, count(*) FROM customers WHERE archived = 1 GROUP BY org_id;

CREATE TRIGGER customers_archived_insert AFTER INSERT ON customers WHEN new.archived = 1 BEGIN
    INSERT INTO archived_counts (org_id, n) VALUES (new.org_id, 1)
    ON CONFLICT (org_id) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER customers_archived_delete AFTER DELETE ON customers WHEN old.archived = 1 BEGIN
    UPDATE archived_counts SET n = n - 1 WHERE org_id = old.org_id;
END;

CREATE TRIGGER customers_archived_update AFTER UPDATE OF archived, org_id ON customers
WHEN old.archived IS NOT new.archived OR old.org_id IS NOT new.org_id BEGIN
    UPDATE archived_counts SET n = n - 1 WHERE old.archived = 1 AND org_id = old.org_id;
    INSERT INTO archived_counts (org_id, n) SELECT new.org_id, 1 WHERE new.archived = 1
    ON CONFLICT (org_id) DO UPDATE SET n = n + 1;
END;

-- invites.revoke_reason gains 'withdrawn': staff withdrew an outstanding
-- invite from the customer's profile, and its link's page says so and whom
-- to ask. SQLite cannot alter a CHECK constraint, so the table is rebuilt;
-- that is done in Go (store/migrate_0015.go), after this file, because the
-- rebuild must keep whatever earlier migrations added to invites (columns,
-- indexes, triggers), and which those are depends on the migrations a
-- database has applied, not on this file.

-- Live customers per stored state, kept by triggers, so the roster header's
-- counts do not scan a million index entries. Only the invited/expired split
-- of 'pending' depends on the clock; RosterCounts counts that part with a range
-- of customers_expiry.
CREATE TABLE roster_counts (
    org_id INTEGER NOT NULL,
    state  TEXT NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (org_id, state)
) STRICT, WITHOUT ROWID;

INSERT INTO roster_counts (org_id, state, n)
SELECT org_id, state, count(*) FROM customers WHERE archived = 0 GROUP BY org_id, state;

CREATE TRIGGER customers_count_insert AFTER INSERT ON customers WHEN new.archived = 0 BEGIN
    INSERT INTO roster_counts (org_id, state, n) VALUES (new.org_id, new.state, 1)
    ON CONFLICT (org_id, state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER customers_count_delete AFTER DELETE ON customers WHEN old.archived = 0 BEGIN
    UPDATE roster_counts SET n = n - 1 WHERE org_id = old.org_id AND state = old.state;
END;

CREATE TRIGGER customers_count_update AFTER UPDATE OF state, archived, org_id ON customers
WHEN old.state IS NOT new.state OR old.archived IS NOT new.archived OR old.org_id IS NOT new.org_id BEGIN
    UPDATE roster_counts SET n = n - 1 WHERE old.archived = 0 AND org_id = old.org_id AND state = old.state;
    INSERT INTO roster_counts (org_id, state, n) SELECT new.org_id, new.state, 1 WHERE new.archived = 0
    ON CONFLICT (org_id, state) DO UPDATE SET n = n + 1;
END;

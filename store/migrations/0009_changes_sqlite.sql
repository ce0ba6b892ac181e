-- Live screens (issue 12): a log of what changed, which every process on
-- this database reads to redraw what it shows (see store/changes.go).
--
-- Written by triggers, not by the store's methods: a writer added later, a
-- fix by hand in the sqlite3 shell or another frontdesk version all land
-- here without anyone remembering to. The alternatives were weighed:
--   - PRAGMA data_version alone says that something was committed, not
--     what: every screen of every session would re-read on a web sign-in,
--     a worker's lease or a rate-limit row.
--   - A call in each store method is one more thing each new writer must
--     not forget; the session-ending triggers of 0005 were made triggers
--     for the same reason.
--   - sqlite3_update_hook sees only this connection's writes, not another
--     process's.
--
-- A row says which organization, which customer (0: the organization as a
-- whole, or any of its customers) and what kind of thing changed:
--   customer  the customer row (name, email, status, claim, archive) and,
--             through it, the custom values written with it
--   invite    a link issued, used, revoked or cut short
--   outbox    a message queued, sent, retried, failed or bounced
--   staff     a staff member or one of their SSH keys added, changed or
--             removed (sessions re-check their access at once)
--   org       the organization's settings
--
-- seq is the rowid: one more than the largest, so committed rows are
-- numbered without gaps (a rolled-back insert gives its number back), and a
-- reader that finds the next row missing knows it was pruned before it read
-- it and redraws everything (store: ChangeAll).
CREATE TABLE changes (
    seq         INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL,
    customer_id INTEGER NOT NULL DEFAULT 0,
    kind        TEXT NOT NULL CHECK (kind IN ('customer', 'invite', 'outbox', 'staff', 'org'))
) STRICT;

-- Pruned as it grows: a row is useless once every reader has read past it,
-- and readers poll several times a second, so keeping the last 10,000 to
-- 11,000 (a few hundred kilobytes) leaves any live reader far behind only
-- when one transaction writes thousands of changes, after which it
-- redraws everything anyway. Every thousandth row deletes a thousand old
-- ones; the newest row is never deleted, so seq never goes back.
CREATE TRIGGER changes_prune AFTER INSERT ON changes WHEN new.seq % 1000 = 0 BEGIN
    DELETE FROM changes WHERE seq <= new.seq - 10000;
END;

-- Customers. A write of the customer's own data is a change even when the
-- values are the same: custom values are written with it (UpdateProfile),
-- and a profile saved twice within a second keeps its updated_at. The
-- derived status columns are rewritten by refreshState after every delivery
-- result, so for them only a real difference counts. The password columns
-- are no change anyone sees: a rehash at sign-in must not redraw every
-- session. Every other column must be in one of the two lists
-- (TestChangeTriggersCoverColumns).
CREATE TRIGGER customers_change_insert AFTER INSERT ON customers BEGIN
    INSERT INTO changes (org_id, customer_id, kind) VALUES (new.org_id, new.id, 'customer');
END;

CREATE TRIGGER customers_change_edit AFTER UPDATE OF org_id, first_name, last_name, sort_name, email, phone, phone_keys,
    created_at, updated_at, claimed_at, archived ON customers BEGIN
    INSERT INTO changes (org_id, customer_id, kind) SELECT old.org_id, old.id, 'customer' WHERE old.org_id IS NOT new.org_id;
    INSERT INTO changes (org_id, customer_id, kind) VALUES (new.org_id, new.id, 'customer');
END;

CREATE TRIGGER customers_change_state AFTER UPDATE OF state, invite_sent_at, invite_expires_at ON customers
WHEN old.state IS NOT new.state OR old.invite_sent_at IS NOT new.invite_sent_at OR old.invite_expires_at IS NOT new.invite_expires_at BEGIN
    INSERT INTO changes (org_id, customer_id, kind) VALUES (new.org_id, new.id, 'customer');
END;

CREATE TRIGGER customers_change_delete AFTER DELETE ON customers BEGIN
    INSERT INTO changes (org_id, customer_id, kind) VALUES (old.org_id, old.id, 'customer');
END;

-- Invites and outbox messages. Neither has a DELETE trigger: their rows go
-- only with their customer's (a cascade, or the demo's refill), which is a
-- change of its own, and a trigger would cost the refill SQLite's fast
-- delete of a whole table.
CREATE TRIGGER invites_change_insert AFTER INSERT ON invites BEGIN
    INSERT INTO changes (org_id, customer_id, kind) VALUES (new.org_id, new.customer_id, 'invite');
END;

CREATE TRIGGER invites_change_update AFTER UPDATE ON invites BEGIN
    INSERT INTO changes (org_id, customer_id, kind) VALUES (new.org_id, new.customer_id, 'invite');
END;

-- An outbox row changes for staff when its delivery does; the worker's lease,
-- the Message-ID it records before sending and the bodies cleared once sent
-- are its bookkeeping, written for every message, and no change.
CREATE TRIGGER outbox_change_insert AFTER INSERT ON outbox BEGIN
    INSERT INTO changes (org_id, customer_id, kind) VALUES (new.org_id, coalesce(new.customer_id, 0), 'outbox');
END;

CREATE TRIGGER outbox_change_update AFTER UPDATE OF org_id, customer_id, kind, to_addr, subject, status, attempts,
    next_attempt_at, last_error, sent_at, reply, retry_from ON outbox BEGIN
    INSERT INTO changes (org_id, customer_id, kind) VALUES (new.org_id, coalesce(new.customer_id, 0), 'outbox');
END;

-- Staff and their keys: who may use an open session.
CREATE TRIGGER staff_change_insert AFTER INSERT ON staff BEGIN
    INSERT INTO changes (org_id, kind) VALUES (new.org_id, 'staff');
END;

CREATE TRIGGER staff_change_update AFTER UPDATE ON staff BEGIN
    INSERT INTO changes (org_id, kind) SELECT old.org_id, 'staff' WHERE old.org_id IS NOT new.org_id;
    INSERT INTO changes (org_id, kind) VALUES (new.org_id, 'staff');
END;

CREATE TRIGGER staff_change_delete AFTER DELETE ON staff BEGIN
    INSERT INTO changes (org_id, kind) VALUES (old.org_id, 'staff');
END;

CREATE TRIGGER staff_keys_change_insert AFTER INSERT ON staff_keys BEGIN
    INSERT INTO changes (org_id, kind) SELECT org_id, 'staff' FROM staff WHERE id = new.staff_id;
END;

CREATE TRIGGER staff_keys_change_update AFTER UPDATE ON staff_keys BEGIN
    INSERT INTO changes (org_id, kind) SELECT org_id, 'staff' FROM staff WHERE id IN (old.staff_id, new.staff_id);
END;

CREATE TRIGGER staff_keys_change_delete AFTER DELETE ON staff_keys BEGIN
    INSERT INTO changes (org_id, kind) SELECT org_id, 'staff' FROM staff WHERE id = old.staff_id;
END;

-- Organizations: settings the screens show (name, time zone) or act on
-- (notifications, link lifetime).
CREATE TRIGGER orgs_change_insert AFTER INSERT ON orgs BEGIN
    INSERT INTO changes (org_id, kind) VALUES (new.id, 'org');
END;

CREATE TRIGGER orgs_change_update AFTER UPDATE ON orgs BEGIN
    INSERT INTO changes (org_id, kind) VALUES (new.id, 'org');
END;

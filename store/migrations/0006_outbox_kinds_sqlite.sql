-- Outbox: more kinds of message, a bounced status, and the customer each
-- message is about.
--
--   kind        + 'email_change' (the notices sent when a claimed customer's
--                 sign-in address changes), 'reminder' (a later feature)
--   status      + 'bounced' (a later feature: a bounce reported after the
--                 server accepted the message)
--   customer_id   whom the message is about; filled here from the invite
--                 that points at the message, and by every enqueue from now
--                 on. NULL once the customer is deleted: the message stays as
--                 the record of what was sent.
--
-- SQLite cannot alter a CHECK constraint, so the table is rebuilt. The order
-- differs from the create-copy-drop-rename of SQLite's "Making Other Kinds Of
-- Table Schema Changes" on purpose. That procedure runs with foreign keys OFF,
-- which a migration cannot do: it runs inside a transaction, where PRAGMA
-- foreign_keys is a no-op. With them on and defer_foreign_keys, DROP TABLE
-- outbox counts every invite whose outbox_id loses its row as a deferred
-- violation, and renaming a copy to "outbox" does not take the count back,
-- so COMMIT fails on any database with invites. Inserting parent rows does
-- take it back. So: keep the rows aside, drop, create the table under its own
-- name (invites' REFERENCES outbox then resolve to it) and insert the rows
-- into it, which settles the count row by row.
PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE outbox_0006 AS
SELECT o.*, (SELECT i.customer_id FROM invites i WHERE i.outbox_id = o.id ORDER BY i.id DESC LIMIT 1) AS customer_id
FROM outbox o;

DROP TABLE outbox;

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES orgs (id),
    kind            TEXT NOT NULL CHECK (kind IN ('invite', 'reset', 'email_change', 'reminder')),
    to_addr         TEXT NOT NULL,
    from_name       TEXT NOT NULL DEFAULT '',
    reply_to        TEXT NOT NULL DEFAULT '',
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL DEFAULT '',
    body_html       TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed', 'bounced')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT NOT NULL DEFAULT '',
    lease_until     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    message_id      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    reply           TEXT NOT NULL DEFAULT '',
    retry_from      INTEGER,
    customer_id     INTEGER REFERENCES customers (id) ON DELETE SET NULL
) STRICT;

INSERT INTO outbox (id, org_id, kind, to_addr, from_name, reply_to, subject, body_text, body_html, status, attempts, next_attempt_at,
                    lease_owner, lease_until, last_error, message_id, created_at, sent_at, reply, retry_from, customer_id)
SELECT id, org_id, kind, to_addr, from_name, reply_to, subject, body_text, body_html, status, attempts, next_attempt_at,
       lease_owner, lease_until, last_error, message_id, created_at, sent_at, reply, retry_from, customer_id
FROM outbox_0006 ORDER BY id;

DROP TABLE outbox_0006;

CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
-- An organization's messages, newest first (`frontdesk outbox list`).
CREATE INDEX outbox_org ON outbox (org_id, id);
-- Deleting a customer sets their messages' customer_id to NULL; without an
-- index that is a scan of the whole outbox per customer.
CREATE INDEX outbox_customer ON outbox (customer_id);

-- Link activity and the claim funnel (issue 12): when a link was first
-- opened, how far each customer got towards claiming their account, and the
-- outbox's messages that need staff's attention.

-- opened_at: when the link of an invite or reset link was first opened in a
-- browser (GET /claim/{token}, GET /reset/{token}), written once. Staff can
-- then answer "the link doesn't work" with "opened Tue 10:02, password not
-- set yet". Opening never uses a link, and a mail scanner that checks links
-- opens it too: it says the link reached a mailbox, not that a person read it.
ALTER TABLE invites ADD COLUMN opened_at INTEGER;

-- funnel: how far the customer got towards claiming their account. It only
-- moves forward, in the transaction of the change it records (Tx.CreateInvite,
-- Tx.OpenInvite, Tx.ClaimAccount):
--   0  never sent a claim invite
--   1  invited: sent at least one claim invite
--   2  opened: opened one of their claim links
--   3  claimed
-- Stored, rather than derived from invites at read time, so the roster
-- header's funnel is a read of funnel_counts below, not a scan of a million
-- customers' invites.
ALTER TABLE customers ADD COLUMN funnel INTEGER NOT NULL DEFAULT 0 CHECK (funnel BETWEEN 0 AND 3);

-- Customers from before this migration: nobody has opened a link yet as far
-- as the database knows.
UPDATE customers SET funnel = CASE WHEN claimed_at IS NOT NULL THEN 3 ELSE 1 END
WHERE claimed_at IS NOT NULL
   OR EXISTS (SELECT 1 FROM invites i WHERE i.customer_id = customers.id AND i.purpose = 'claim');

-- Live customers per funnel stage, kept by triggers as roster_counts is.
CREATE TABLE funnel_counts (
    org_id INTEGER NOT NULL,
    stage  INTEGER NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (org_id, stage)
) STRICT, WITHOUT ROWID;

INSERT INTO funnel_counts (org_id, stage, n)
SELECT org_id, funnel, count(*) FROM customers WHERE archived = 0 AND funnel > 0 GROUP BY org_id, funnel;

CREATE TRIGGER customers_funnel_insert AFTER INSERT ON customers WHEN new.archived = 0 AND new.funnel > 0 BEGIN
    INSERT INTO funnel_counts (org_id, stage, n) VALUES (new.org_id, new.funnel, 1)
    ON CONFLICT (org_id, stage) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER customers_funnel_delete AFTER DELETE ON customers WHEN old.archived = 0 AND old.funnel > 0 BEGIN
    UPDATE funnel_counts SET n = n - 1 WHERE org_id = old.org_id AND stage = old.funnel;
END;

CREATE TRIGGER customers_funnel_update AFTER UPDATE OF funnel, archived, org_id ON customers
WHEN old.funnel IS NOT new.funnel OR old.archived IS NOT new.archived OR old.org_id IS NOT new.org_id BEGIN
    UPDATE funnel_counts SET n = n - 1 WHERE old.archived = 0 AND old.funnel > 0 AND org_id = old.org_id AND stage = old.funnel;
    INSERT INTO funnel_counts (org_id, stage, n) SELECT new.org_id, new.funnel, 1 WHERE new.archived = 0 AND new.funnel > 0
    ON CONFLICT (org_id, stage) DO UPDATE SET n = n + 1;
END;

-- The outbox screen's "needs attention" view: an organization's messages
-- that failed, bounced or are being retried, newest first, without walking
-- past every message that went out fine. A query uses it only when its WHERE
-- has this condition word for word (store.outboxAttention).
CREATE INDEX outbox_attention ON outbox (org_id, id)
WHERE status IN ('failed', 'bounced') OR (status = 'queued' AND attempts > 0);

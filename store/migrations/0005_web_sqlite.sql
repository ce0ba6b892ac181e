-- Customers' web (issue 6): sign-in sessions and the index behind the
-- per-address limit on password-reset emails.

-- A session is known by the SHA-256 of its random id; the id itself lives
-- only in the customer's cookie, so a copy of the database signs nobody in.
-- org_id is stored with the customer so every read stays org-scoped.
-- expires_at is the absolute end; last_seen_at drives the idle expiry.
CREATE TABLE sessions (
    id_hash      BLOB PRIMARY KEY CHECK (length(id_hash) = 32),
    org_id       INTEGER NOT NULL REFERENCES orgs (id),
    customer_id  INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX sessions_customer ON sessions (customer_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Every path that changes a password (reset, a future staff action, a manual
-- edit) or archives a customer signs them out everywhere. A trigger rather
-- than a call in each writer, so no new writer can forget it.
CREATE TRIGGER sessions_revoke_password AFTER UPDATE OF password_hash ON customers
WHEN old.password_hash IS NOT new.password_hash BEGIN
    DELETE FROM sessions WHERE customer_id = new.id;
END;

CREATE TRIGGER sessions_revoke_archived AFTER UPDATE OF archived ON customers
WHEN new.archived = 1 BEGIN
    DELETE FROM sessions WHERE customer_id = new.id;
END;

-- Reset emails sent to one mailbox (across organizations) in the last hour:
-- the per-address limit of claim.RequestReset reads this instead of scanning
-- every invite.
CREATE INDEX invites_reset_email ON invites (lower(email), created_at) WHERE purpose = 'reset';

-- Sign-in without an organization (see claim.Service.SignIn) finds claimed
-- accounts by email across organizations; customers_email leads with org_id.
CREATE INDEX customers_email_any ON customers (lower(email)) WHERE email <> '';

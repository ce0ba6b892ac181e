-- Claiming at the desk (issue 12): one-time codes in invite emails, links
-- shown at the desk, and the throttle on codes typed on the claim page.

-- The one-time code an invite email carries beside the link. Only a MAC of
-- it is kept, keyed with a key derived from the outbox key file (see
-- store/code.go): a hash of an 8-character code could be reversed from a
-- copy of the database in minutes. code_key names the outbox key; both are
-- empty/NULL for invites without a code (reset links, links shown at the
-- desk, invites sent before this migration).
ALTER TABLE invites ADD COLUMN code_key TEXT NOT NULL DEFAULT '';
ALTER TABLE invites ADD COLUMN code_mac BLOB CHECK (code_mac IS NULL OR length(code_mac) = 32);

-- How the link reached the customer: emailed, or shown at the front desk as
-- a QR code (no email, no outbox message).
ALTER TABLE invites ADD COLUMN channel TEXT NOT NULL DEFAULT 'email' CHECK (channel IN ('email', 'desk'));

-- A code is typed with the address it was sent to: the claim page finds the
-- candidates by address.
CREATE INDEX invites_code_email ON invites (lower(email), id) WHERE code_mac IS NOT NULL;

-- Wrong codes per (email typed, client address), as signin_failures counts
-- wrong passwords (migration 0007), so every server process on this
-- database sees the same counts and a restart forgets nothing.
CREATE TABLE code_failures (
    email    TEXT NOT NULL,
    client   TEXT NOT NULL,
    failures INTEGER NOT NULL CHECK (failures > 0),
    last_at  INTEGER NOT NULL,
    PRIMARY KEY (email, client)
) STRICT, WITHOUT ROWID;
CREATE INDEX code_failures_stale ON code_failures (last_at);

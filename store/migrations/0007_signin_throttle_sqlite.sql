-- Sign-in throttle and password rehashing (hardening items 5 and 9).

-- Failed sign-ins per (email typed, client address), the state of
-- claim.Service.SignIn's throttle. In the database rather than in memory so
-- that every server process on this database counts the same failures and a
-- restart forgets nothing. email is as typed (trimmed, lower-cased), whether
-- or not an account has it, so the throttle says nothing about who has one.
-- client is the client's address, an IPv6 client's /64. failures counts the
-- failures in a row from that client for that email; last_at is the latest.
-- One upsert per failure; a success deletes its row; a completed password
-- reset deletes every row of the email.
CREATE TABLE signin_failures (
    email    TEXT NOT NULL,
    client   TEXT NOT NULL,
    failures INTEGER NOT NULL CHECK (failures > 0),
    last_at  INTEGER NOT NULL,
    PRIMARY KEY (email, client)
) STRICT, WITHOUT ROWID;
CREATE INDEX signin_failures_stale ON signin_failures (last_at);

-- A stored hash made with older argon2id parameters is replaced at the next
-- successful sign-in (claim.Service.SignIn). That is the same password, so
-- it must not sign the customer out, which migration 0005's trigger does for
-- any change of password_hash. A rehash says so by counting itself here;
-- every other change of the hash (a reset, a future staff action, a manual
-- edit) still signs out everywhere, so a writer that forgets this column
-- errs on the safe side.
ALTER TABLE customers ADD COLUMN password_rehashes INTEGER NOT NULL DEFAULT 0;

DROP TRIGGER sessions_revoke_password;
CREATE TRIGGER sessions_revoke_password AFTER UPDATE OF password_hash ON customers
WHEN old.password_hash IS NOT new.password_hash AND old.password_rehashes IS new.password_rehashes BEGIN
    DELETE FROM sessions WHERE customer_id = new.id;
END;

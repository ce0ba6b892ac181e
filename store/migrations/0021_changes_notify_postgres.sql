-- PostgreSQL only: the change log notifies its listeners when a change
-- commits (NOTIFY is delivered at commit, and never for a transaction that
-- rolls back), so every node's change detector (changes_postgres.go:
-- LISTEN frontdesk_changes on a connection of its own) reads the log at
-- once instead of polling it. The payload is empty: a listener reads the
-- log past the last row it read, so one notification per transaction is
-- all it needs, and PostgreSQL folds identical notifications of one
-- transaction into one however many rows it logs. SQLite needs nothing
-- here: its detector asks PRAGMA data_version, which every commit moves.
--
-- changes_next is the function of 0019's baseline, with the notification
-- added; a new trigger would be a name SQLite's schema lacks.
CREATE OR REPLACE FUNCTION changes_next() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7382085259403488087);
    NEW.seq := coalesce((SELECT max(seq) FROM changes), 0) + 1;
    PERFORM pg_notify('frontdesk_changes', '');
    RETURN NEW;
END $$;

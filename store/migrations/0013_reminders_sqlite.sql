-- Reminders (org set --remind-after): one reminder for an invite that is not
-- claimed after a while, sent by `frontdesk serve`.
--
--   orgs.remind_after_seconds  how long after an invite its reminder goes;
--                              0 (the default) sends none
--   invites.reminder_of        set on the claim link a reminder carried: the
--                              invite it reminded of. The reminder's link
--                              replaces that invite's (which is revoked as
--                              superseded) and keeps its expiry; a link with
--                              reminder_of set is never reminded again, and
--                              the unique index lets no invite have two
--                              reminders, whatever processes race.
ALTER TABLE orgs ADD COLUMN remind_after_seconds INTEGER NOT NULL DEFAULT 0 CHECK (remind_after_seconds >= 0);

ALTER TABLE invites ADD COLUMN reminder_of INTEGER REFERENCES invites (id) ON DELETE CASCADE;

CREATE UNIQUE INDEX invites_reminder_of ON invites (reminder_of) WHERE reminder_of IS NOT NULL;

-- The reminder step's search: an organization's live, unreminded claim
-- links by expiry (expired ones are past the range it reads, however many
-- accumulate).
CREATE INDEX invites_remind ON invites (org_id, expires_at)
    WHERE purpose = 'claim' AND used_at IS NULL AND revoked_at IS NULL AND reminder_of IS NULL;

-- When each staff SSH key last opened a session (`frontdesk staff key list`):
-- an owner looking for a lost laptop's key, or for keys nobody uses any
-- more, needs to know which ones are in use. Written once per SSH session
-- start (tui/sshd); NULL until the key is first used.
ALTER TABLE staff_keys ADD COLUMN last_used_at INTEGER;

-- A key's use is no change to who may use a session, and it is written at
-- every session start: were it a staff change, each login would make every
-- open session of the organization check its access again. So the change
-- trigger of 0009, which fired on any column, now lists the columns that
-- are a change (TestChangeTriggersCoverColumns keeps the list whole).
DROP TRIGGER staff_keys_change_update;
CREATE TRIGGER staff_keys_change_update AFTER UPDATE OF staff_id, public_key, fingerprint, created_at ON staff_keys BEGIN
    INSERT INTO changes (org_id, kind) SELECT org_id, 'staff' FROM staff WHERE id IN (old.staff_id, new.staff_id);
END;

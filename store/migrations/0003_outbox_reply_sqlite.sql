-- Outbox delivery details (mailer worker).
--
-- reply: the server's answer to a delivered message ("250 2.0.0 OK: queued as
-- 4F2A"), kept apart from last_error so that a sent message does not read as
-- an error and staff can quote the queue id to a mail provider.
ALTER TABLE outbox ADD COLUMN reply TEXT NOT NULL DEFAULT '';

-- retry_from: start of the current delivery window. Temporary failures are
-- retried for a day counted from here (NULL: from created_at); `outbox retry`
-- moves it to now, so a retried message gets a fresh day instead of failing
-- on its first hiccup.
ALTER TABLE outbox ADD COLUMN retry_from INTEGER;

-- Every delivery result refreshes the state of the customer whose invite the
-- message carries, found by outbox_id; without this index that is a scan of
-- all invites per message sent.
CREATE INDEX invites_outbox ON invites (outbox_id) WHERE outbox_id IS NOT NULL;

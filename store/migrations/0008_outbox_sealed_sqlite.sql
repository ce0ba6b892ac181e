-- Outbox bodies at rest (see store/seal.go): from here on every body is
-- stored sealed with the outbox key file, and a message that carried a link
-- keeps its body only while it may still be sent.
--
-- Messages that carried a link and are done with (sent, or failed for good)
-- lose their bodies, and the link of a failed one stops working now: it was
-- never delivered, and `outbox retry` issues a fresh one. (The bodies still
-- queued are sealed by this migration's Go step, sealPlainBodies, which then
-- has the file compacted so no plain copy stays in its free space.)
UPDATE invites SET expires_at = unixepoch()
WHERE used_at IS NULL AND revoked_at IS NULL AND expires_at > unixepoch()
  AND outbox_id IN (SELECT id FROM outbox WHERE status = 'failed');

UPDATE outbox SET body_text = '', body_html = ''
WHERE status <> 'queued' AND (body_text <> '' OR body_html <> '')
  AND id IN (SELECT outbox_id FROM invites WHERE outbox_id IS NOT NULL);

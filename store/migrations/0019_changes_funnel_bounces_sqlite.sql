-- Columns added since the change log (0009) whose writes staff see: a
-- customer's funnel stage (0010: the roster header's claim funnel, "opened"
-- on a profile) and a bounce reported after delivery (0011: the outbox
-- screen, the invite history). Their change triggers list them too. The
-- funnel moves with the state (an invite sets both in one statement), so it
-- joins the state's trigger, which records one change for the two.

DROP TRIGGER customers_change_state;
CREATE TRIGGER customers_change_state AFTER UPDATE OF state, invite_sent_at, invite_expires_at, funnel ON customers
WHEN old.state IS NOT new.state OR old.invite_sent_at IS NOT new.invite_sent_at OR old.invite_expires_at IS NOT new.invite_expires_at
    OR old.funnel IS NOT new.funnel BEGIN
    INSERT INTO changes (org_id, customer_id, kind) VALUES (new.org_id, new.id, 'customer');
END;

DROP TRIGGER outbox_change_update;
CREATE TRIGGER outbox_change_update AFTER UPDATE OF org_id, customer_id, kind, to_addr, subject, status, attempts,
    next_attempt_at, last_error, sent_at, reply, retry_from, bounced_at, bounce_provider ON outbox BEGIN
    INSERT INTO changes (org_id, customer_id, kind) VALUES (new.org_id, coalesce(new.customer_id, 0), 'outbox');
END;

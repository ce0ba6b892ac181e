package claim

import (
	"context"
	"fmt"

	"frontdesk/store"
)

// Retried is what RetryMessage did.
type Retried struct {
	// OutboxID is the message to deliver now: the one retried, or the one
	// carrying the fresh link.
	OutboxID int64
	// Reissued: the message had failed carrying a link, which stopped
	// working when it failed (store.DB.MarkFailed); a fresh link of the same
	// purpose went out in OutboxID instead, to the customer's address as it
	// is now.
	Reissued bool
	Purpose  store.Purpose // of the fresh link
	Customer *store.Customer
	Invite   *store.Invite // the fresh link
}

// RetryMessage sends outbox message id of actor's organization again
// (`frontdesk outbox retry`), in one audited transaction:
//   - a failed message that carried a claim or reset link, or one that
//     bounced after delivery, is not resent (its link was withdrawn when it
//     failed or bounced): a fresh link is issued as a resend would, to the
//     customer's current address, so fixing a mistyped email and retrying
//     does what staff mean;
//   - any other message (one still queued, or a failed one without a link)
//     is queued again as it is, due now (store.DB.RetryMessage).
//
// Delivery is the worker's job; the caller may ask it to deliver
// Retried.OutboxID at once.
func (s *Service) RetryMessage(ctx context.Context, actor *store.Staff, id int64) (*Retried, error) {
	var r *Retried
	err := s.DB.Tx(ctx, func(tx *store.Tx) error {
		actor, err := s.authorize(ctx, tx, actor, "retry the message")
		if err != nil {
			return err
		}
		m, err := tx.OutboxMessage(ctx, actor.OrgID, id)
		if err != nil {
			return err
		}
		if m.Status == store.OutboxFailed || m.Status == store.OutboxBounced {
			inv, err := tx.OutboxInvite(ctx, actor.OrgID, id)
			if err == nil {
				r, err = s.reissue(ctx, tx, actor, m, inv)
				return err
			}
			if store.ErrorCode(err) != store.ENOTFOUND {
				return err
			}
		}
		if err := tx.RetryMessage(ctx, actor.OrgID, id); err != nil {
			return err
		}
		r = &Retried{OutboxID: id}
		return tx.Audit(ctx, actor.OrgID, store.StaffActor(actor), "outbox.retry", 0, fmt.Sprintf("message %d queued again", id))
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// reissue replaces failed or bounced message m, which carried inv, by a
// fresh link.
func (s *Service) reissue(ctx context.Context, tx *store.Tx, actor *store.Staff, m *store.OutboxMessage, inv *store.Invite) (*Retried, error) {
	switch {
	case !inv.UsedAt.IsZero():
		return nil, store.Errorf(store.EINVALID, "message %d carried a link that was already used; nothing to resend", m.ID)
	case inv.Purpose == store.PurposeReset && inv.RevokeReason == store.RevokePasswordChanged:
		return nil, store.Errorf(store.EINVALID, "message %d carried a password-reset link, and the password has been changed since; nothing to resend", m.ID)
	}
	actor, org, c, err := s.load(ctx, tx, actor, inv.CustomerID, "retry the message")
	if err != nil {
		return nil, err
	}
	// Retrying an old failure must not cancel a link sent since (a resend,
	// or this same retry run twice).
	all, err := tx.Invites(ctx, org.ID, c.ID)
	if err != nil {
		return nil, err
	}
	for _, later := range all {
		if later.Purpose == inv.Purpose && later.ID > inv.ID {
			return nil, store.Errorf(store.EINVALID, "a newer link was sent to %s since message %d (message %d); retry or resend that one instead", c.Name(), m.ID, later.OutboxID)
		}
	}
	r := &Retried{Reissued: true, Purpose: inv.Purpose, Customer: c}
	if inv.Purpose == store.PurposeClaim {
		sent, err := s.invite(ctx, tx, actor, org, c, store.ChannelEmail)
		if err != nil {
			return nil, err
		}
		r.OutboxID, r.Invite = sent.OutboxID, sent.Invite
	} else {
		if r := CanReset(actor, org, c); r != nil {
			return nil, r
		}
		sent, err := s.issueReset(ctx, tx, org, c, actor, "")
		if err != nil {
			return nil, err
		}
		r.OutboxID, r.Invite = sent.OutboxID, sent.Invite
	}
	detail := fmt.Sprintf("message %d had %s (%s); its link was withdrawn and a fresh one went to %s in message %d", m.ID, m.Status, m.LastError, c.Email, r.OutboxID)
	if err := tx.Audit(ctx, org.ID, store.StaffActor(actor), "outbox.retry", c.ID, detail); err != nil {
		return nil, err
	}
	return r, nil
}

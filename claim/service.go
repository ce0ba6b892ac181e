// Package claim holds the rules of inviting customers to claim their online
// account: who may invite whom, issuing and revoking links, redeeming them, and
// the password policy. The TUI, the CLI and the customers' web all go through
// it, so they refuse the same things with the same words.
package claim

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"frontdesk/mailer"
	"frontdesk/store"
)

// Service applies the invite rules to the store.
type Service struct {
	DB *store.DB
	// BaseURL is where the customers' web is reached ("https://desk.example").
	BaseURL string
	// InviteTTL, when set, overrides every organization's invite lifetime
	// (--invite-ttl).
	InviteTTL time.Duration
}

// Sent is the outcome of a successful invite.
type Sent struct {
	Invite     *store.Invite
	Customer   *store.Customer
	OutboxID   int64
	Superseded int // earlier links that stopped working

	token string // only for tests: the link's secret is otherwise only in the email
}

// ttl is the invite lifetime for org.
func (s *Service) ttl(org *store.Org) time.Duration {
	if s.InviteTTL > 0 {
		return s.InviteTTL
	}
	if org.InviteTTL > 0 {
		return org.InviteTTL
	}
	return store.DefaultInviteTTL
}

// ExpiryFor is when an invite sent now would expire: what the confirmation
// shows before anything is sent.
func (s *Service) ExpiryFor(org *store.Org) time.Time {
	return s.DB.Now().Add(s.ttl(org)).Truncate(time.Second)
}

// ClaimURL is the link a token is sent as.
func (s *Service) ClaimURL(token string) string {
	return strings.TrimRight(s.BaseURL, "/") + "/claim/" + token
}

// ResetURL is the link a password-reset token is sent as.
func (s *Service) ResetURL(token string) string {
	return strings.TrimRight(s.BaseURL, "/") + "/reset/" + token
}

// reader is what the rules read: the database's reader pool (*store.DB), or
// inside a write the transaction (*store.Tx), so the checks made under the
// write lock see what the write will change.
type reader interface {
	Org(ctx context.Context, id int64) (*store.Org, error)
	OrgBySlug(ctx context.Context, slug string) (*store.Org, error)
	Customer(ctx context.Context, orgID, id int64) (*store.Customer, error)
	LinkByTokenHash(ctx context.Context, hash []byte) (*store.Invite, *store.Org, *store.Customer, error)
}

var _, _ reader = (*store.DB)(nil), (*store.Tx)(nil)

// Check is CanInvite for a customer id, reading fresh data.
func (s *Service) Check(ctx context.Context, actor *store.Staff, customerID int64) (*store.Customer, error) {
	org, c, err := s.load(ctx, s.DB, actor, customerID)
	if err != nil {
		return nil, err
	}
	if r := CanInvite(actor, org, c); r != nil {
		return c, r
	}
	return c, nil
}

func (s *Service) load(ctx context.Context, q reader, actor *store.Staff, customerID int64) (*store.Org, *store.Customer, error) {
	if actor == nil {
		return nil, nil, &Refusal{ReasonForbidden, "Your role cannot manage customers; ask an owner or admin to send the invite."}
	}
	org, err := q.Org(ctx, actor.OrgID)
	if err != nil {
		return nil, nil, err
	}
	// Scoped to the actor's organization: another organization's customer
	// is "not found", never "forbidden", so ids reveal nothing.
	c, err := q.Customer(ctx, actor.OrgID, customerID)
	if err != nil {
		return nil, nil, err
	}
	return org, c, nil
}

// Invite sends customerID an invite to claim their account, on behalf of
// actor. Everything is one write transaction: the earlier unused links are
// revoked (superseded), the new invite, its email in the outbox and the audit
// row are written together. Delivery is the outbox worker's job; the caller
// may ask it to deliver Sent.OutboxID at once.
func (s *Service) Invite(ctx context.Context, actor *store.Staff, customerID int64) (*Sent, error) {
	var sent *Sent
	err := s.DB.Tx(ctx, func(tx *store.Tx) error {
		org, c, err := s.load(ctx, tx, actor, customerID)
		if err != nil {
			return err
		}
		sent, err = s.invite(ctx, tx, actor, org, c)
		return err
	})
	if err != nil {
		return nil, err
	}
	return sent, nil
}

// invite does the writes of Invite inside tx, for an already loaded customer.
func (s *Service) invite(ctx context.Context, tx *store.Tx, actor *store.Staff, org *store.Org, c *store.Customer) (*Sent, error) {
	if r := CanInvite(actor, org, c); r != nil {
		return nil, r
	}
	inv := &store.Invite{
		OrgID: org.ID, CustomerID: c.ID, Purpose: store.PurposeClaim, Email: c.Email,
		CreatedBy: actor.ID, CreatedByName: actor.Name,
	}
	token, outboxID, superseded, err := s.issue(ctx, tx, org, inv, s.ttl(org), "invite", s.ClaimURL,
		func(link string, expires time.Time) (string, string, string, error) {
			return mailer.ComposeInvite(mailer.InviteData{
				OrgName: org.Name, CustomerName: c.FirstName, Link: link, WalkthroughURL: org.WalkthroughURL,
				ReplyTo: org.ReplyTo, Expires: expires, Location: org.Location(),
			})
		})
	if err != nil {
		return nil, err
	}
	action, detail := "invite.send", fmt.Sprintf("invite to %s, expires %s", c.Email, inv.ExpiresAt.UTC().Format(time.RFC3339))
	if superseded > 0 {
		action, detail = "invite.resend", detail+fmt.Sprintf("; %d earlier link(s) revoked", superseded)
	}
	if err := tx.Audit(ctx, org.ID, store.StaffActor(actor), action, c.ID, detail); err != nil {
		return nil, err
	}
	return &Sent{Invite: inv, Customer: c, OutboxID: outboxID, Superseded: superseded, token: token}, nil
}

// BulkResult is the outcome of InviteMany for one customer: Sent or Err.
type BulkResult struct {
	CustomerID int64
	Sent       *Sent
	Err        error
}

// bulkBatch is how many invites share one transaction in InviteMany: enough to
// amortize the commit, few enough that other writers (a second TUI) wait only
// milliseconds.
const bulkBatch = 250

// InviteMany invites each customer, reporting per customer. A refusal skips
// that customer only; a database error stops the run (what was committed
// stays committed and is reported). progress, if set, is called after each
// batch.
func (s *Service) InviteMany(ctx context.Context, actor *store.Staff, ids []int64, progress func(done, total int)) ([]BulkResult, error) {
	if actor == nil || !actor.Role.CanManageCustomers() {
		return nil, &Refusal{ReasonForbidden, "Your role cannot manage customers; ask an owner or admin to send the invites."}
	}
	results := make([]BulkResult, 0, len(ids))
	for start := 0; start < len(ids); start += bulkBatch {
		batch := ids[start:min(start+bulkBatch, len(ids))]
		var out []BulkResult
		err := s.DB.Tx(ctx, func(tx *store.Tx) error {
			out = out[:0]
			org, err := tx.Org(ctx, actor.OrgID)
			if err != nil {
				return err
			}
			for _, id := range batch {
				c, err := tx.Customer(ctx, actor.OrgID, id)
				if err == nil {
					var sent *Sent
					if sent, err = s.invite(ctx, tx, actor, org, c); err == nil {
						out = append(out, BulkResult{CustomerID: id, Sent: sent})
						continue
					}
				}
				var refusal *Refusal
				if !errors.As(err, &refusal) && store.ErrorCode(err) == store.EINTERNAL {
					return err
				}
				out = append(out, BulkResult{CustomerID: id, Err: err})
			}
			return nil
		})
		if err != nil {
			return results, err
		}
		results = append(results, out...)
		if progress != nil {
			progress(len(results), len(ids))
		}
	}
	return results, nil
}

// ChangeEmail sets a customer's email on behalf of actor, revoking every
// outstanding link (they went to the old address) and auditing the change,
// in one transaction. It returns how many links were revoked.
func (s *Service) ChangeEmail(ctx context.Context, actor *store.Staff, customerID int64, email string) (int, error) {
	if actor == nil || !actor.Role.CanManageCustomers() {
		return 0, &Refusal{ReasonForbidden, "Your role cannot manage customers; ask an owner or admin to change the email."}
	}
	email = store.NormalizeEmail(email)
	if email != "" {
		if err := store.ValidateEmail(email); err != nil {
			return 0, err
		}
	}
	revoked := 0
	err := s.DB.Tx(ctx, func(tx *store.Tx) error {
		c, err := tx.Customer(ctx, actor.OrgID, customerID)
		if err != nil {
			return err
		}
		if c.Email == email {
			return nil
		}
		if err := tx.SetCustomerEmail(ctx, actor.OrgID, customerID, email); err != nil {
			return err
		}
		for _, p := range []store.Purpose{store.PurposeClaim, store.PurposeReset} {
			n, err := tx.RevokeInvites(ctx, customerID, p, store.RevokeEmailChanged)
			if err != nil {
				return err
			}
			revoked += n
		}
		old := c.Email
		if old == "" {
			old = "(none)"
		}
		return tx.Audit(ctx, actor.OrgID, store.StaffActor(actor), "customer.email", customerID,
			fmt.Sprintf("email %s → %s; %d outstanding link(s) revoked", old, email, revoked))
	})
	return revoked, err
}

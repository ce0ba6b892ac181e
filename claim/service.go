// Package claim holds the rules of inviting customers to claim their online
// account, as a service the TUI, the CLI and the customers' web all call, so
// they refuse the same things with the same words: who may invite whom
// (CanInvite, typed Refusals), Send (the one way invites and reset links go
// out: issued, first delivery attempt within a window, typed Outcomes), the
// wording of all of it (Words), email changes and their notices, redeeming
// links (Redeem), the password policy, customer sign-in and its throttle,
// and sessions.
package claim

import (
	"context"
	"fmt"
	"net/url"
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
	// Mail makes Send's first delivery attempt; nil leaves every link to
	// the outbox worker.
	Mail Deliverer
	// Resolver answers CheckAddress's question whether a domain receives
	// email; nil checks for typos only. DNSTimeout bounds its lookups
	// (DefaultDNSTimeout when 0).
	Resolver   Resolver
	DNSTimeout time.Duration
	// Metrics hears links issued and redeemed, sign-ins failed and
	// throttles met; nil: nobody.
	Metrics Metrics
}

// Sent is the outcome of a link sent: an invite, or a reset link staff
// sent (SendReset).
type Sent struct {
	Invite     *store.Invite // Purpose says which
	Customer   *store.Customer
	OutboxID   int64
	Superseded int // earlier links of the same purpose that stopped working

	token string // only for tests: the link's secret is otherwise only in the email
	code  string // the same for the one-time code
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

// CodeURL is the claim page where a one-time code is typed.
func (s *Service) CodeURL() string {
	return strings.TrimRight(s.BaseURL, "/") + "/claim"
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
	StaffByID(ctx context.Context, id int64) (*store.Staff, error)
	RecentResets(ctx context.Context, customerID int64, email string, since time.Time) (int, error)
	LinkByTokenHash(ctx context.Context, hash []byte) (*store.Invite, *store.Org, *store.Customer, error)
	LinkByCode(ctx context.Context, email, code string) (*store.Invite, *store.Org, *store.Customer, error)
}

var _, _ reader = (*store.DB)(nil), (*store.Tx)(nil)

// Check is CanInvite for a customer id, reading fresh data (the actor's
// row too, so a removed member hears it at i, before the confirmation).
func (s *Service) Check(ctx context.Context, actor *store.Staff, customerID int64) (*store.Customer, error) {
	actor, org, c, err := s.load(ctx, s.DB, actor, customerID, "send the invite")
	if err != nil {
		return nil, err
	}
	if r := CanInvite(actor, org, c); r != nil {
		return c, r
	}
	return c, nil
}

// load authorizes actor for what (see authorize) and reads the
// organization and the customer, all through q: inside a write's
// transaction, the actor it returns is the one to act as.
func (s *Service) load(ctx context.Context, q reader, actor *store.Staff, customerID int64, what string) (*store.Staff, *store.Org, *store.Customer, error) {
	actor, err := s.authorize(ctx, q, actor, what)
	if err != nil {
		return nil, nil, nil, err
	}
	org, err := q.Org(ctx, actor.OrgID)
	if err != nil {
		return nil, nil, nil, err
	}
	// Scoped to the actor's organization: another organization's customer
	// is "not found", never "forbidden", so ids reveal nothing.
	c, err := q.Customer(ctx, actor.OrgID, customerID)
	if err != nil {
		return nil, nil, nil, err
	}
	return actor, org, c, nil
}

// invite writes an invite for an already loaded customer inside tx: the
// earlier unused links are revoked (superseded), the new invite, its email
// in the outbox and the audit row are written together. The email carries
// the link and a one-time code (code.go) for mail apps that break links.
// Through channel ChannelDesk no email is written: the link is for the
// screen at the front desk (ShowAtDesk), where the customer is standing.
func (s *Service) invite(ctx context.Context, tx *store.Tx, actor *store.Staff, org *store.Org, c *store.Customer, channel store.Channel) (*Sent, error) {
	if r := CanInvite(actor, org, c); r != nil {
		return nil, r
	}
	return s.writeInvite(ctx, tx, org, c, channel, actor, nil)
}

// writeInvite is invite once the rules have been applied: sent by staff
// member actor, or (actor nil) asked for by the customer through r, the
// page of a dead link (renew.go), in which case the invite has no staff
// creator and the customer is the audit row's actor.
func (s *Service) writeInvite(ctx context.Context, tx *store.Tx, org *store.Org, c *store.Customer, channel store.Channel, actor *store.Staff, r *renewal) (*Sent, error) {
	inv := &store.Invite{
		OrgID: org.ID, CustomerID: c.ID, Purpose: store.PurposeClaim, Email: c.Email, Channel: channel,
	}
	if actor != nil {
		inv.CreatedBy, inv.CreatedByName = actor.ID, actor.Name
	}
	var compose composer
	if channel != store.ChannelDesk {
		// Nobody reads a code off the desk's screen: the link is in the
		// QR code, and a code would only be one more secret on show.
		inv.Code = newCode()
		compose = func(link string, expires time.Time) (string, string, string, error) {
			return mailer.ComposeInvite(mailer.InviteData{
				OrgName: org.Name, CustomerName: c.FirstName, Link: link, WalkthroughURL: org.WalkthroughURL,
				ReplyTo: org.ReplyTo, Expires: expires, Location: org.Location(),
				Code: FormatCode(inv.Code), CodeURL: s.CodeURL(), SignInURL: s.SignInURL(org.Slug), Brand: s.brand(org),
			})
		}
	}
	token, outboxID, superseded, err := s.issue(ctx, tx, org, inv, s.ttl(org), store.MessageInvite, s.ClaimURL, compose)
	if err != nil {
		return nil, err
	}
	// Like the token, the code leaves only in the email.
	code := inv.Code
	inv.Code = ""
	expires := inv.ExpiresAt.UTC().Format(time.RFC3339)
	action, detail := "invite.send", fmt.Sprintf("invite to %s, expires %s", c.Email, expires)
	if r != nil {
		action, detail = "invite.renew", fmt.Sprintf("new link asked for by the customer from the page of %s (from %s); invite to %s, the address on file, expires %s",
			r.what(), r.addr, c.Email, expires)
	} else if channel == store.ChannelDesk {
		action, detail = "invite.desk", fmt.Sprintf("claim link for %s shown at the desk as a QR code, expires %s; no email sent (the customer is at the desk)", c.Email, expires)
	} else if superseded > 0 {
		action = "invite.resend"
	}
	if superseded > 0 {
		detail += fmt.Sprintf("; %d earlier link(s) revoked", superseded)
	}
	who := store.CustomerActor(c)
	if actor != nil {
		who = store.StaffActor(actor)
	}
	if err := tx.Audit(ctx, org.ID, who, action, c.ID, detail); err != nil {
		return nil, err
	}
	return &Sent{Invite: inv, Customer: c, OutboxID: outboxID, Superseded: superseded, token: token, code: code}, nil
}

// EmailChange is what ChangeEmail did.
type EmailChange struct {
	Customer *store.Customer // as it was before the change
	Email    string          // the new address; "" when it was removed
	// Claimed: the customer has claimed their account, so the address is
	// the one they sign in with, and the notices were queued.
	Claimed bool
	Invites int // claim links to the old address that stopped working
	Resets  int // password-reset links that stopped working
	// Notices are the outbox ids of the notices to the old and the new
	// address (claimed customers only), for delivering them at once.
	Notices []int64
}

// Revoked is how many links of either kind stopped working.
func (e *EmailChange) Revoked() int { return e.Invites + e.Resets }

// ChangeEmail sets a customer's email on behalf of actor, revoking every
// outstanding link (they went to the old address) and auditing the change,
// in one transaction. For a customer who has claimed their account the
// address is their sign-in, and changing it is how a front desk could be
// used to take the account over (the new address then asks for a reset
// link); so the same transaction queues a notice to the old address (the
// change, the new address masked, whom to contact) and one to the new (it
// now signs in, where), each audited. A claimed customer's address cannot
// be removed: they would be locked out with no address to reset from.
// An unchanged address changes nothing: nothing revoked, no notices.
func (s *Service) ChangeEmail(ctx context.Context, actor *store.Staff, customerID int64, email string) (*EmailChange, error) {
	const what = "change the email"
	var ch *EmailChange
	err := s.DB.Tx(ctx, func(tx *store.Tx) error {
		actor, org, c, err := s.load(ctx, tx, actor, customerID, what)
		if err != nil {
			return err
		}
		ch, err = s.changeEmail(ctx, tx, actor, org, c, email)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ch, nil
}

// changeEmail is ChangeEmail inside tx, for a customer loaded (and actor
// authorized) in it: the one way a customer's email changes at the desk,
// alone (the email editor) or with the rest of their details
// (UpdateCustomer).
func (s *Service) changeEmail(ctx context.Context, tx *store.Tx, actor *store.Staff, org *store.Org, c *store.Customer, email string) (*EmailChange, error) {
	customerID := c.ID
	email = store.NormalizeEmail(email)
	if email != "" {
		if err := store.ValidateEmail(email); err != nil {
			return nil, err
		}
	}
	ch := &EmailChange{Customer: c, Email: email, Claimed: !c.ClaimedAt.IsZero()}
	if c.Email == email {
		return ch, nil
	}
	if ch.Claimed && email == "" {
		return nil, store.Errorf(store.EINVALID, "%s signs in with this address, so it cannot be removed; type their new address instead.", c.Name())
	}
	if err := tx.SetCustomerEmail(ctx, actor.OrgID, customerID, email); err != nil {
		return nil, err
	}
	var err error
	if ch.Invites, err = tx.RevokeInvites(ctx, customerID, store.PurposeClaim, store.RevokeEmailChanged); err != nil {
		return nil, err
	}
	if ch.Resets, err = tx.RevokeInvites(ctx, customerID, store.PurposeReset, store.RevokeEmailChanged); err != nil {
		return nil, err
	}
	old := c.Email
	if old == "" {
		old = "(none)"
	}
	err = tx.Audit(ctx, actor.OrgID, store.StaffActor(actor), "customer.email", customerID,
		fmt.Sprintf("email %s → %s; %d outstanding link(s) revoked", old, email, ch.Revoked()))
	if err != nil || !ch.Claimed {
		return ch, err
	}
	ch.Notices, err = s.noticeEmailChange(ctx, tx, actor, org, c, email)
	return ch, err
}

// noticeEmailChange queues, inside the change's transaction, the notices
// of a claimed customer's new sign-in address: to the old address (when
// there was one) and to the new, each with its audit row. They go out
// whatever the organization's notifications setting: that setting is about
// invitations, and this is the customer's own account's security.
func (s *Service) noticeEmailChange(ctx context.Context, tx *store.Tx, actor *store.Staff, org *store.Org, c *store.Customer, email string) ([]int64, error) {
	d := mailer.EmailChangeData{
		OrgName: org.Name, CustomerName: c.FirstName, NewEmail: email, ChangedAt: s.DB.Now(),
		SignInURL: s.SignInURL(org.Slug), ReplyTo: org.ReplyTo, Location: org.Location(), Brand: s.brand(org),
	}
	type notice struct {
		to, which string
		compose   func(mailer.EmailChangeData) (string, string, string, error)
	}
	notices := []notice{{email, "new", mailer.ComposeEmailChangeNew}}
	if c.Email != "" {
		notices = append([]notice{{c.Email, "old", mailer.ComposeEmailChangeOld}}, notices...)
	}
	var ids []int64
	for _, n := range notices {
		subject, text, html, err := n.compose(d)
		if err != nil {
			return nil, err
		}
		msg := &store.OutboxMessage{OrgID: org.ID, CustomerID: c.ID, Kind: store.MessageEmailChange, To: n.to,
			FromName: org.Name, ReplyTo: org.ReplyTo, Subject: subject, Text: text, HTML: html}
		if err := tx.EnqueueMessage(ctx, msg); err != nil {
			return nil, err
		}
		if err := tx.Audit(ctx, org.ID, store.StaffActor(actor), "customer.email_notice", c.ID,
			fmt.Sprintf("notice of the changed sign-in address queued to the %s address %s (outbox %d)", n.which, n.to, msg.ID)); err != nil {
			return nil, err
		}
		ids = append(ids, msg.ID)
	}
	return ids, nil
}

// SignInURL is the customers' sign-in page for an organization.
func (s *Service) SignInURL(orgSlug string) string {
	return strings.TrimRight(s.BaseURL, "/") + "/login?org=" + url.QueryEscape(orgSlug)
}

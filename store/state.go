package store

import (
	"database/sql"
	"strings"
	"time"
)

// The state of a customer's account and of their invites, decided here and
// nowhere else: the roster's statuses, the filters, the counts, the profile's
// invite history, the confirmations' warnings and the customers' link pages
// all read these functions.

// State is what the customers.state column holds: the part of the roster
// status that does not depend on the clock, kept current by the store in
// the transaction of every change it depends on (see Tx.refreshState), so
// the roster filters and counts by status through an index.
type State string

const (
	StateNone    State = "none"     // not invited, or no invite that still counts
	StateNoEmail State = "no_email" // no address to invite
	StatePending State = "pending"  // the latest invite is out: invited or expired, by the clock
	StateFailed  State = "failed"   // the latest invite's email could not be delivered
	StateClaimed State = "claimed"  // the customer set a password
)

// lit is the state as an SQL literal, for the queries that compare or set
// the column (constants of this file, never user text).
func (s State) lit() string { return "'" + string(s) + "'" }

// initialState is the state of a customer who has never been invited.
func initialState(email string) State {
	if email == "" {
		return StateNoEmail
	}
	return StateNone
}

// Status is a customer's account status as staff see it in the roster.
type Status string

const (
	StatusClaimed    Status = "claimed"
	StatusInvited    Status = "invited"
	StatusExpired    Status = "expired"
	StatusFailed     Status = "failed"
	StatusNotInvited Status = "not_invited"
	StatusNoEmail    Status = "no_email"
)

// Statuses in the order the roster's filters cycle through them.
var Statuses = []Status{StatusNotInvited, StatusInvited, StatusExpired, StatusFailed, StatusClaimed, StatusNoEmail}

// Label is the status as DESIGN §4 words it.
func (s Status) Label() string {
	switch s {
	case StatusClaimed:
		return "Claimed"
	case StatusInvited:
		return "Invited"
	case StatusExpired:
		return "Invite expired"
	case StatusFailed:
		return "Delivery failed"
	case StatusNotInvited:
		return "Not invited"
	case StatusNoEmail:
		return "No email"
	}
	return string(s)
}

// Word is the status as the command line writes it: the word --status
// takes and `customers list --json` prints ("not-invited", "no-email").
func (s Status) Word() string { return strings.ReplaceAll(string(s), "_", "-") }

// ParseStatus accepts a status in any of the forms people type: "not-invited",
// "not_invited", "Not invited".
func ParseStatus(s string) (Status, error) {
	k := strings.NewReplacer("-", "_", " ", "_").Replace(strings.ToLower(strings.TrimSpace(s)))
	if k == "invite_expired" {
		k = "expired"
	}
	if k == "delivery_failed" {
		k = "failed"
	}
	for _, st := range Statuses {
		if string(st) == k {
			return st, nil
		}
	}
	return "", Errorf(EINVALID, "unknown status %q; use one of not-invited, invited, expired, failed, claimed, no-email", s)
}

// statusOf is the one derivation of the roster status: the stored state and,
// for a pending invite, the clock.
func statusOf(state State, expiresAt sql.NullInt64, now time.Time) Status {
	switch state {
	case StateClaimed:
		return StatusClaimed
	case StateNoEmail:
		return StatusNoEmail
	case StateFailed:
		return StatusFailed
	case StatePending:
		if expiresAt.Valid && expiresAt.Int64 > now.Unix() {
			return StatusInvited
		}
		return StatusExpired
	}
	return StatusNotInvited
}

// statusWhere is the SQL condition (on alias c) selecting one status, with
// its arguments: statusOf turned around.
func statusWhere(s Status, now time.Time) (string, []any) {
	switch s {
	case StatusClaimed:
		return `c.state = ` + StateClaimed.lit(), nil
	case StatusNoEmail:
		return `c.state = ` + StateNoEmail.lit(), nil
	case StatusFailed:
		return `c.state = ` + StateFailed.lit(), nil
	case StatusInvited:
		return `c.state = ` + StatePending.lit() + ` AND c.invite_expires_at > ?`, []any{now.Unix()}
	case StatusExpired:
		return `c.state = ` + StatePending.lit() + ` AND c.invite_expires_at <= ?`, []any{now.Unix()}
	}
	return `c.state = ` + StateNone.lit(), nil
}

// RevokeReason says why an invite stopped working before it was used.
type RevokeReason string

const (
	RevokeSuperseded      RevokeReason = "superseded"       // a newer invite (or reset link) was sent
	RevokeEmailChanged    RevokeReason = "email_changed"    // the customer's address changed
	RevokeClaimed         RevokeReason = "claimed"          // the account was claimed with another link
	RevokePasswordChanged RevokeReason = "password_changed" // a reset link outlived a password change
	RevokeArchived        RevokeReason = "archived"         // the customer was archived
	RevokeWithdrawn       RevokeReason = "withdrawn"        // staff withdrew the invite (migration 0015)
)

// Words is the reason as staff read it ("revoked: a newer invite was sent").
func (r RevokeReason) Words() string {
	switch r {
	case RevokeSuperseded:
		return "a newer invite was sent"
	case RevokeEmailChanged:
		return "the email was changed"
	case RevokeClaimed:
		return "the account was claimed"
	case RevokePasswordChanged:
		return "the password was changed"
	case RevokeArchived:
		return "the customer was archived"
	case RevokeWithdrawn:
		return "withdrawn by staff"
	}
	return "the invite was withdrawn"
}

// InviteState is what became of one invite (or reset link).
type InviteState string

const (
	InviteLive     InviteState = "live"      // usable now, until ExpiresAt
	InviteExpired  InviteState = "expired"   // ran out unused
	InviteFailed   InviteState = "failed"    // its email could not be delivered (failed or bounced), so nobody holds the link
	InviteUsed     InviteState = "used"      // the password was set with it
	InviteRevoked  InviteState = "revoked"   // withdrawn; RevokeReason says why
	InviteOldEmail InviteState = "old_email" // sent to an address the customer no longer has
)

// Delivery is what became of an outbox message: the email that carried a
// link, or any other. The outbox screen, the profile's invite history and
// `frontdesk outbox list` all read it from here.
type Delivery string

const (
	DeliveryNone     Delivery = ""         // no message on record (an invite from before the outbox kept them)
	DeliveryQueued   Delivery = "queued"   // waiting for its first attempt
	DeliveryRetrying Delivery = "retrying" // an attempt failed for now; the worker tries again (NextAttemptAt)
	DeliverySent     Delivery = "sent"     // the mail server accepted it
	DeliveryFailed   Delivery = "failed"   // refused for good, or out of retries
	DeliveryBounced  Delivery = "bounced"  // accepted, then reported undeliverable by the provider
)

// deliveryOf is the one derivation of a message's delivery from its stored
// status and how many attempts it has had.
func deliveryOf(status string, attempts int) Delivery {
	switch status {
	case OutboxQueued:
		if attempts > 0 {
			return DeliveryRetrying
		}
		return DeliveryQueued
	case OutboxSent:
		return DeliverySent
	case OutboxFailed:
		return DeliveryFailed
	case OutboxBounced:
		return DeliveryBounced
	}
	return DeliveryNone
}

// Delivery is what became of the message.
func (m *OutboxMessage) Delivery() Delivery { return deliveryOf(m.Status, m.Attempts) }

// Delivery is what became of the email that carried the link.
func (inv *Invite) Delivery() Delivery { return deliveryOf(inv.DeliveryStatus, inv.Attempts) }

// Undelivered is whether the email never reached the mailbox: refused, out
// of retries, or bounced after the server took it. Nobody holds its link.
func (d Delivery) Undelivered() bool { return d == DeliveryFailed || d == DeliveryBounced }

// Label is the delivery as staff read it in a table.
func (d Delivery) Label() string {
	switch d {
	case DeliveryQueued:
		return "Queued"
	case DeliveryRetrying:
		return "Retrying"
	case DeliverySent:
		return "Sent"
	case DeliveryFailed:
		return "Failed"
	case DeliveryBounced:
		return "Bounced"
	}
	return "No record"
}

// State decides what became of the invite, for customer c (the invite's
// customer, as stored now) at now, and for a revoked one why. The order
// matters: a used link stays used whatever happened later; a link whose
// email never arrived is "failed" whatever was done to it after (nobody ever
// held it); a link revoked after it had expired counts as expired (it was
// dead before anyone withdrew it). A link is revoked by implication, with no
// revocation stored, when its customer claimed through another link or was
// archived.
func (inv *Invite) State(c *Customer, now time.Time) (InviteState, RevokeReason) {
	switch {
	case !inv.UsedAt.IsZero():
		return InviteUsed, ""
	case inv.Delivery().Undelivered():
		return InviteFailed, ""
	case !inv.RevokedAt.IsZero() && !inv.RevokedAt.Before(inv.ExpiresAt):
		return InviteExpired, ""
	case !inv.RevokedAt.IsZero():
		return InviteRevoked, inv.RevokeReason
	case !inv.ExpiresAt.After(now):
		return InviteExpired, ""
	case inv.Purpose == PurposeClaim && c != nil && !c.ClaimedAt.IsZero():
		return InviteRevoked, RevokeClaimed
	case c != nil && c.Archived:
		return InviteRevoked, RevokeArchived
	case c != nil && !strings.EqualFold(inv.Email, c.Email):
		return InviteOldEmail, RevokeEmailChanged
	}
	return InviteLive, ""
}

// AwaitingPassword is whether the link was opened and still works but no
// password was set with it: the customer (or a mail scanner checking the
// link) got as far as the page and stopped. Staff hear "opened Tue 10:02,
// password not set yet".
func (inv *Invite) AwaitingPassword(c *Customer, now time.Time) bool {
	state, _ := inv.State(c, now)
	return state == InviteLive && !inv.OpenedAt.IsZero()
}

// HasLiveInvite reports whether the customer has an invite whose link works
// now: the one a new invite or an email change would cancel. A link whose
// email could not be delivered does not count (nobody holds it).
func (c *Customer) HasLiveInvite() bool { return c.Status == StatusInvited }

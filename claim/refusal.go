package claim

import (
	"fmt"
	"strings"
	"time"

	"frontdesk/store"
)

// Reason says why an invite cannot be sent. The UIs add their own hint (the
// TUI names a key, the CLI a command); Refusal.Error is the shared sentence.
type Reason string

const (
	ReasonForbidden        Reason = "forbidden"         // actor lacks "manage customers"
	ReasonArchived         Reason = "archived"          // customer archived
	ReasonClaimed          Reason = "claimed"           // already claimed
	ReasonNoEmail          Reason = "no_email"          // no email on file
	ReasonInvalidEmail     Reason = "invalid_email"     // email on file is not deliverable
	ReasonNotificationsOff Reason = "notifications_off" // the organization turned email off
	ReasonNotClaimed       Reason = "not_claimed"       // no account yet, so no password to reset
	ReasonRateLimited      Reason = "rate_limited"      // the reset emails' limits were reached
)

// Refusal is a typed "no" with the sentence to show.
type Refusal struct {
	Reason  Reason
	Message string
}

func (r *Refusal) Error() string { return r.Message }

// AccessChanged reports whether the refusal is for a staff member removed
// or demoted while their session was open: the sentence then explains what
// changed and what to do, and a UI shows it whole instead of its short
// "your role cannot" form.
func (r *Refusal) AccessChanged() bool {
	return r.Reason == ReasonForbidden && strings.HasPrefix(r.Message, accessChanged)
}

// Hint is what the person at the keyboard can do about it, for the TUI
// footer and the CLI.
func (r *Refusal) Hint() string {
	switch r.Reason {
	case ReasonForbidden:
		if r.AccessChanged() {
			return "" // the sentence already says whom to ask
		}
		return "ask an owner or admin"
	case ReasonArchived:
		return "restore the customer first"
	case ReasonClaimed:
		return "they can sign in, or reset their password from the sign-in page"
	case ReasonNoEmail, ReasonInvalidEmail:
		return "fix the email first"
	case ReasonNotificationsOff:
		return "an owner can turn them on: frontdesk org set --notifications on"
	case ReasonNotClaimed:
		return "send an invite to claim the account instead"
	case ReasonRateLimited:
		return "ask them to use the latest email, or try again in an hour"
	}
	return ""
}

// Code maps a refusal onto the shared error codes.
func (r *Refusal) Code() string {
	if r.Reason == ReasonForbidden {
		return store.EUNAUTHORIZED
	}
	return store.EINVALID
}

// CanInvite decides whether actor may invite customer c of org now, without
// writing anything; nil means yes. The checks run in the order the UI should
// explain them: permission first, then the customer, then the organization.
func CanInvite(actor *store.Staff, org *store.Org, c *store.Customer) *Refusal {
	name := c.Name()
	switch {
	case actor == nil || !actor.Role.CanManageCustomers():
		return &Refusal{ReasonForbidden, "Your role cannot manage customers; ask an owner or admin to send the invite."}
	case actor.OrgID != c.OrgID || org.ID != c.OrgID:
		// Never reached through the UIs (they only load their own org's
		// customers); kept so a wiring mistake cannot cross organizations.
		return &Refusal{ReasonForbidden, "This customer belongs to another organization."}
	case c.Archived:
		return &Refusal{ReasonArchived, fmt.Sprintf("%s is archived.", name)}
	case !c.ClaimedAt.IsZero():
		return &Refusal{ReasonClaimed, fmt.Sprintf("%s already claimed their account on %s.", name, c.ClaimedAt.In(org.Location()).Format("Mon 2 Jan 2006"))}
	case c.Email == "":
		return &Refusal{ReasonNoEmail, fmt.Sprintf("%s has no email address.", name)}
	}
	if err := store.ValidateEmail(c.Email); err != nil {
		return &Refusal{ReasonInvalidEmail, fmt.Sprintf("%s's email is not valid: %s.", name, store.ErrorMessage(err))}
	}
	if !org.Notifications {
		return &Refusal{ReasonNotificationsOff, fmt.Sprintf("%s has email notifications turned off, so no invites can be sent.", org.Name)}
	}
	return nil
}

// CanReset decides whether actor may send customer c of org a
// password-reset link now, without writing anything; nil means yes. The
// limits on reset emails need the database and are checked by SendReset and
// CheckReset. Unlike invites, resets do not depend on the organization's
// notifications setting: that governs invitations, while a reset is mail
// about an account the customer already has (the sign-in page sends them
// too).
func CanReset(actor *store.Staff, org *store.Org, c *store.Customer) *Refusal {
	name := c.Name()
	switch {
	case actor == nil || !actor.Role.CanManageCustomers():
		return &Refusal{ReasonForbidden, "Your role cannot manage customers; ask an owner or admin to send a password-reset link."}
	case actor.OrgID != c.OrgID || org.ID != c.OrgID:
		return &Refusal{ReasonForbidden, "This customer belongs to another organization."}
	case c.Archived:
		return &Refusal{ReasonArchived, fmt.Sprintf("%s is archived.", name)}
	case c.ClaimedAt.IsZero():
		return &Refusal{ReasonNotClaimed, fmt.Sprintf("%s has not claimed their account yet, so there is no password to reset.", name)}
	case c.Email == "":
		return &Refusal{ReasonNoEmail, fmt.Sprintf("%s has no email address.", name)}
	}
	if err := store.ValidateEmail(c.Email); err != nil {
		return &Refusal{ReasonInvalidEmail, fmt.Sprintf("%s's email is not valid: %s.", name, store.ErrorMessage(err))}
	}
	return nil
}

// ExpiryText words an expiry the way the TUI, the CLI and the email do.
func ExpiryText(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("Mon 2 Jan 15:04 MST")
}

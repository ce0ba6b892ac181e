package claim

import (
	"strings"

	"frontdesk/store"
	"frontdesk/store/format"
)

// Reason says why a link cannot be sent. Words.Hint adds what to do about
// it where it is read (a key in the TUI, a command on the command line).
type Reason string

const (
	ReasonForbidden        Reason = "forbidden"         // actor lacks "manage customers", or lost it
	ReasonGone             Reason = "gone"              // the customer is not on the roster (any more)
	ReasonArchived         Reason = "archived"          // customer archived
	ReasonClaimed          Reason = "claimed"           // already claimed
	ReasonNoEmail          Reason = "no_email"          // no email on file
	ReasonInvalidEmail     Reason = "invalid_email"     // email on file is not deliverable
	ReasonNotificationsOff Reason = "notifications_off" // the organization turned email off
	ReasonNotClaimed       Reason = "not_claimed"       // no account yet, so no password to reset
	ReasonRateLimited      Reason = "rate_limited"      // the reset emails' (or asked-for links') limits were reached
	ReasonWithdrawn        Reason = "withdrawn"         // a customer asked to renew a link staff withdrew
	ReasonHasLink          Reason = "has_link"          // a customer asked to renew a link, and has a working one
	ReasonNoInvite         Reason = "no_invite"         // no outstanding invite to withdraw
)

// Refusal is a typed "no". Message is the whole sentence; when it is about
// a customer it starts with their name (Who) and Why is the rest, so a list
// that names the customer already shows Why without cutting the sentence up.
type Refusal struct {
	Reason  Reason
	Who     string // the customer's name the sentence starts with; "" when it does not
	Why     string // the sentence after Who; the whole sentence when Who is ""
	Message string
}

func (r *Refusal) Error() string { return r.Message }

// refuse is a refusal that is not about one customer.
func refuse(reason Reason, sentence string) *Refusal {
	return &Refusal{Reason: reason, Why: sentence, Message: sentence}
}

// refuseCustomer is a refusal about customer c: why reads after the name
// ("has no email address").
func refuseCustomer(reason Reason, c *store.Customer, why string) *Refusal {
	name := c.Name()
	return &Refusal{Reason: reason, Who: name, Why: why + ".", Message: name + " " + why + "."}
}

// AccessChanged reports whether the refusal is for a staff member removed
// or demoted while their session was open: the sentence then explains what
// changed and what to do, and a UI shows it whole instead of its short
// "your role cannot" form.
func (r *Refusal) AccessChanged() bool {
	return r.Reason == ReasonForbidden && strings.HasPrefix(r.Message, accessChanged)
}

// forbidden is the refusal of an actor whose role cannot manage customers.
func forbidden(what string) *Refusal {
	return refuse(ReasonForbidden, "Your role cannot manage customers; ask an owner or admin to "+what+".")
}

// CanInvite decides whether actor may invite customer c of org now, without
// writing anything; nil means yes. The checks run in the order the UI should
// explain them: permission first, then the customer, then the organization.
func CanInvite(actor *store.Staff, org *store.Org, c *store.Customer) *Refusal {
	switch {
	case actor == nil || !actor.Role.CanManageCustomers():
		return forbidden("send the invite")
	case actor.OrgID != c.OrgID || org.ID != c.OrgID:
		// Never reached through the UIs (they only load their own org's
		// customers); kept so a wiring mistake cannot cross organizations.
		return refuse(ReasonForbidden, "This customer belongs to another organization.")
	}
	return canBeInvited(org, c)
}

// canBeInvited is CanInvite's rules about the customer and the
// organization, whoever asks: staff, or the customer from the page of a
// dead link (CanRenew).
func canBeInvited(org *store.Org, c *store.Customer) *Refusal {
	switch {
	case org.ID != c.OrgID:
		return refuse(ReasonForbidden, "This customer belongs to another organization.")
	case c.Archived:
		return refuseCustomer(ReasonArchived, c, "is archived")
	case !c.ClaimedAt.IsZero():
		return refuseCustomer(ReasonClaimed, c, "already claimed their account on "+format.Date(c.ClaimedAt, org.Location()))
	case c.Email == "":
		return refuseCustomer(ReasonNoEmail, c, "has no email address")
	}
	if err := store.ValidateEmail(c.Email); err != nil {
		return refuseCustomer(ReasonInvalidEmail, c, "has an email that is not valid: "+store.ErrorMessage(err))
	}
	if !org.Notifications {
		return refuse(ReasonNotificationsOff, org.Name+" has email notifications turned off, so no invites can be sent.")
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
	switch {
	case actor == nil || !actor.Role.CanManageCustomers():
		return forbidden("send a password-reset link")
	case actor.OrgID != c.OrgID || org.ID != c.OrgID:
		return refuse(ReasonForbidden, "This customer belongs to another organization.")
	case c.Archived:
		return refuseCustomer(ReasonArchived, c, "is archived")
	case c.ClaimedAt.IsZero():
		return refuseCustomer(ReasonNotClaimed, c, "has not claimed their account yet, so there is no password to reset")
	case c.Email == "":
		return refuseCustomer(ReasonNoEmail, c, "has no email address")
	}
	if err := store.ValidateEmail(c.Email); err != nil {
		return refuseCustomer(ReasonInvalidEmail, c, "has an email that is not valid: "+store.ErrorMessage(err))
	}
	return nil
}

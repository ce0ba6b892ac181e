package claim

import (
	"strconv"
	"strings"
	"time"

	"frontdesk/store"
	"frontdesk/store/format"
)

// The one wording table of the invite flow. The TUI and the command line
// put refusals and outcomes into words only through it, so "Jane has no
// email address" and what to do about it read the same at the desk and in
// a terminal; only the hint differs, naming a key in one and a command in
// the other.

// Place is where the words are read.
type Place int

const (
	AtCommandLine Place = iota
	AtRoster            // the TUI's roster: the profile is one key away
	AtProfile           // the TUI's profile of the customer concerned
	AtOutbox            // the TUI's outbox screen: the customer's keys (e, i, r) act there too
)

// Words puts the invite flow into words for one place.
type Words struct {
	Place Place
	Dash  string         // between a sentence and its hint: " — ", or " - " on an ASCII terminal
	Loc   *time.Location // the organization's time zone
}

// reasonWords are a refusal's short label (a bulk summary groups the
// customers it skips under it) and its hints per place. An empty hint means
// the sentence says it all.
var reasonWords = map[Reason]struct {
	label                string
	cli, roster, profile string
}{
	// A refusal of the actor says whom to ask itself.
	ReasonForbidden: {"not allowed for your role", "", "", ""},
	ReasonGone: {"no longer on the roster",
		"", "", ""},
	ReasonArchived: {"archived",
		"restore them first (frontdesk customers restore)", "press R to restore them first", "press R to restore them first"},
	ReasonClaimed: {"already claimed",
		"they can sign in, or reset their password from the sign-in page",
		"they can sign in, or reset their password from the sign-in page",
		"they can sign in, or press r to send them a password-reset link"},
	ReasonNoEmail: {"no email address",
		"fix the email first", "open the profile (enter) and press e to fix the email", "press e to fix the email"},
	ReasonInvalidEmail: {"email not valid",
		"fix the email first", "open the profile (enter) and press e to fix the email", "press e to fix the email"},
	ReasonNotificationsOff: {"email notifications are off for the organization",
		"an owner can turn them on: frontdesk org set --notifications on",
		"an owner can turn them on: frontdesk org set --notifications on",
		"an owner can turn them on: frontdesk org set --notifications on"},
	ReasonNotClaimed: {"not claimed yet",
		"send an invite to claim the account instead", "press i to invite them to claim it", "press i to invite them to claim it"},
	// Only ever the answer to a customer's own request (the audit log
	// shows it); staff send invites whatever an earlier one became.
	ReasonWithdrawn: {"invite withdrawn by staff", "", "", ""},
	ReasonHasLink:   {"has a working link", "", "", ""},
	ReasonNoInvite:  {"no outstanding invite", "", "", ""},
	ReasonRateLimited: {"reset emails used up for the hour",
		"ask them to use the latest email, or try again in an hour",
		"ask them to use the latest email, or try again in an hour",
		"ask them to use the latest email, or try again in an hour"},
}

// Label is the reason in a few words, for grouping the customers a bulk run
// skips: "12 already claimed: …".
func (r Reason) Label() string {
	if w, ok := reasonWords[r]; ok {
		return w.label
	}
	return string(r)
}

// Hint is what the person at the keyboard can do about r here.
func (w Words) Hint(r *Refusal) string {
	if r.AccessChanged() {
		return "" // the sentence already says what changed and whom to ask
	}
	rw := reasonWords[r.Reason]
	switch w.Place {
	case AtRoster:
		return rw.roster
	case AtOutbox:
		if r.Reason == ReasonArchived {
			// The one key of the profile that the outbox does not have.
			return "open their profile (enter) and press R to restore them first"
		}
		return rw.profile
	case AtProfile:
		return rw.profile
	}
	return rw.cli
}

// Refusal is the refusal's sentence with its hint: "Bo Chen has no email
// address — press e to fix the email."
func (w Words) Refusal(r *Refusal) string {
	return withHint(r.Message, w.Dash, w.Hint(r))
}

// Reason is the refusal without the customer's name, for a line that names
// the customer already: "has no email address — fix the email first."
func (w Words) Reason(r *Refusal) string {
	return withHint(r.Why, w.Dash, w.Hint(r))
}

func withHint(sentence, dash, hint string) string {
	s := strings.TrimSuffix(sentence, ".")
	if hint == "" {
		return s + "."
	}
	return s + dash + hint + "."
}

// What names the email a link goes out in: "Invite", "Password-reset link".
func What(p store.Purpose) string {
	if p == store.PurposeReset {
		return "Password-reset link"
	}
	return "Invite"
}

// Outcome is what became of one customer's link, in one sentence that starts
// with what it was: "Invite sent to jane@example.com — link expires Mon 30
// Nov 2026 at 14:05 GMT.", "Invite to jane@example.com is queued: the mail
// server did not answer within 30s; it will retry at 14:10. The link expires
// …", "Invite to jane@example.com failed: 550 5.1.1 User unknown — check the
// address and send again.", or the refusal with its hint.
func (w Words) Outcome(o *Outcome) string {
	if o.Result == Refused {
		return w.Refusal(o.Refusal)
	}
	inv := o.Sent.Invite
	what, to := What(inv.Purpose), inv.Email
	expires := format.Expiry(inv.ExpiresAt, w.Loc)
	switch o.Result {
	case Delivered:
		t := what + " sent to " + to + w.Dash + "link expires " + expires + "."
		switch {
		case o.Sent.Superseded > 0 && inv.Purpose == store.PurposeReset:
			t += " The earlier reset link no longer works."
		case o.Sent.Superseded > 0:
			t += " The earlier link no longer works."
		}
		return t
	case Failed:
		hint := "check the address and send again"
		switch w.Place {
		case AtProfile, AtOutbox:
			hint = "check the address (e) and send again"
		case AtRoster:
			hint = "open the profile (enter), check the address (e) and send again"
		case AtCommandLine:
			hint = "check the address; `frontdesk outbox retry " + strconv.FormatInt(o.Sent.OutboxID, 10) + "` sends a fresh link"
		}
		return what + " to " + to + " failed: " + strings.TrimSuffix(o.Why, ".") + w.Dash + hint + "."
	}
	t := what + " to " + to + " is queued: " + strings.TrimSuffix(o.Why, ".") + "; it will retry"
	if !o.NextAttempt.IsZero() {
		t += " at " + format.Time(o.NextAttempt, w.Loc)
	}
	return t + ". The link expires " + expires + "."
}

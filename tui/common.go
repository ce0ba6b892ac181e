// Package tui is the staff front desk: Bubble Tea models for the roster,
// profiles, the email editor, invite confirmations and bulk invites. It
// knows nothing of how it is reached (local terminal or SSH): the caller
// hands it a Common (context, styles from the session's renderer, who is at
// the keyboard) and Deps (small interfaces over the store, the invite rules
// and the mail worker).
//
// The parts:
//   - Model (model.go) is one session: a stack of screens with the footer
//     under the top one. Keys go to the top screen, and wait while it is
//     busy; what a screen's commands return is routed back to that screen
//     while it is on the stack; only what concerns every screen (the window
//     size, changedMsg, marksDoneMsg) is broadcast. Changes made elsewhere
//     (liveMsg, from Deps.Live) go to the top screen, the one on view; a
//     screen under it gets what it missed when it is on top again. The
//     optional screen methods Model asks for are named interfaces there.
//   - Screens: the roster (roster.go), a profile (profile.go), the email
//     editor (email.go), the invite confirmation (confirm.go), a bulk invite
//     (bulk.go), the outbox (outbox.go) and the help (help.go); check.go is
//     the invite check the roster, a profile and the outbox start.
//   - window (window.go) is the roster's paged view of the database: the
//     rows around the cursor, their place in the whole result, and the
//     fetching of first, last, next and previous pages. It draws nothing.
//   - marks (marks.go) are the customers marked for a bulk invite, in the
//     order they were marked.
//   - shared (shared.go) lets the sessions of a process share the reads
//     one change causes.
//   - pager (pager.go) scrolls the pre-rendered lines of the profile, help
//     and bulk screens.
//   - KeyMap (keys.go) is DESIGN §4's key map; KeyMap.movement is the one
//     reading of the movement keys, for the window and every pager.
//   - Styles (styles.go) and the text helpers (text.go) draw; customer text
//     is made inert (package inert) before it reaches the terminal.
package tui

import (
	"context"
	"time"

	"frontdesk/claim"
	"frontdesk/mailer"
	"frontdesk/store"
)

// Common is what every screen of one session shares.
type Common struct {
	// Ctx bounds every query and send the session starts; cancel it when
	// the session ends.
	Ctx           context.Context
	Styles        *Styles
	Width, Height int
	Org           *store.Org
	Staff         *store.Staff
	KeyMap        KeyMap
	// StaffChanged, when set, is told (without blocking; give it a buffer
	// of one) that staff or their keys changed, as the change feed says:
	// whoever runs the session (the SSH server, the local TUI) checks its
	// access again at once.
	StaffChanged chan<- struct{}

	nav navigator // the session's Model
}

// CanManage is whether the person at the keyboard may edit emails and send
// invites.
func (c *Common) CanManage() bool { return c.Staff != nil && c.Staff.Role.CanManageCustomers() }

// loc is the organization's time zone: dates are shown as the studio lives
// them, whichever machine or SSH client shows them.
func (c *Common) loc() *time.Location {
	if c.Org == nil {
		return time.UTC
	}
	return c.Org.Location()
}

// Roster reads the roster, scoped to one organization.
type Roster interface {
	RosterPage(ctx context.Context, orgID int64, rq store.RosterQuery) ([]store.RosterRow, error)
	RosterCounts(ctx context.Context, orgID int64) (map[store.Status]int, error)
	// CustomerIDs lists the ids of every live customer a search ("": all)
	// selects whose status is one of statuses (none: any), in id order:
	// what "mark all" marks.
	CustomerIDs(ctx context.Context, orgID int64, search string, statuses ...store.Status) ([]int64, error)
	// RosterMatches counts what a search selects, up to limit.
	RosterMatches(ctx context.Context, orgID int64, rq store.RosterQuery, limit int) (int, error)
	Profile(ctx context.Context, orgID, customerID int64) (*store.Profile, error)
	// CustomersByID returns the customers with the given ids, in that order.
	CustomersByID(ctx context.Context, orgID int64, ids []int64) ([]*store.Customer, error)
	// ClaimFunnel is the header's invited, opened, claimed.
	ClaimFunnel(ctx context.Context, orgID int64) (store.Funnel, error)
	// OutboxPage is a page of the organization's outbox, newest first.
	OutboxPage(ctx context.Context, orgID int64, q store.OutboxQuery) ([]store.OutboxRow, error)
	// RosterRowsByID returns the live customers with the given ids as
	// roster rows, whatever the filter: the row under the cursor that a
	// change took out of the list stays, saying what it is now.
	RosterRowsByID(ctx context.Context, orgID int64, ids []int64) ([]store.RosterRow, error)
	// Org is the organization's settings, read again when they change.
	Org(ctx context.Context, id int64) (*store.Org, error)
	// ArchivedCount is the count on the roster's Archived filter.
	ArchivedCount(ctx context.Context, orgID int64) (int, error)
	// CustomFieldNames are the custom fields the customer form offers.
	CustomFieldNames(ctx context.Context, orgID int64) ([]string, error)
}

// Live is the change feed: the organization's changes, made anywhere (this
// session, another one, the CLI, the customers' web, the mail worker,
// another process on the database). *store.DB is one.
type Live interface {
	Subscribe(orgID int64) (changes <-chan []store.Change, cancel func())
}

// Invites applies the invite rules and sends links; *claim.Service is one.
type Invites interface {
	Check(ctx context.Context, actor *store.Staff, customerID int64) (*store.Customer, error)
	CheckReset(ctx context.Context, actor *store.Staff, customerID int64) (*store.Customer, error)
	// Cautions is what the confirmation must ask before a link goes out
	// again (the last one failed; the third within the hour).
	Cautions(ctx context.Context, actor *store.Staff, customerID int64, purpose store.Purpose) ([]claim.Caution, error)
	// Send issues invites (or, with Purpose reset, password-reset links)
	// and makes the first delivery attempt: the one way links go out.
	Send(ctx context.Context, actor *store.Staff, ids []int64, opt claim.SendOptions) ([]claim.Outcome, error)
	ChangeEmail(ctx context.Context, actor *store.Staff, customerID int64, email string) (*claim.EmailChange, error)
	// ShowAtDesk issues a claim link to show at the desk as a QR code:
	// an invite like a resend, with no email.
	ShowAtDesk(ctx context.Context, actor *store.Staff, customerID int64) (*claim.AtDesk, error)
	// DeliverNow tries the email-change notices at once.
	DeliverNow(ctx context.Context, window time.Duration, ids ...int64) ([]mailer.Outcome, bool, error)
	ExpiryFor(org *store.Org) time.Time
	ResetExpiry() time.Time
	// CheckAddress warns of a likely typo and of a domain that receives
	// no email; it asks DNS, so it runs in a command.
	CheckAddress(ctx context.Context, email string) claim.AddressCheck

	// Keeping the roster: the customer form's add and edit, archiving,
	// restoring, and withdrawing an invite.
	AddCustomer(ctx context.Context, actor *store.Staff, v claim.CustomerValues) (*store.Customer, error)
	UpdateCustomer(ctx context.Context, actor *store.Staff, customerID int64, ch claim.CustomerChange) (*claim.CustomerEdit, error)
	ArchiveCustomer(ctx context.Context, actor *store.Staff, customerID int64) (*claim.Archived, error)
	RestoreCustomer(ctx context.Context, actor *store.Staff, customerID int64) (*claim.Restored, error)
	WithdrawInvite(ctx context.Context, actor *store.Staff, customerID int64) (*claim.Withdrawn, error)
}

// Deps are the parts of the application the TUI talks to.
type Deps struct {
	Roster  Roster  // *store.DB is one
	Invites Invites // *claim.Service is one
	// Live, when set (see WithLive), redraws what a session shows when it
	// changes anywhere, without a key press; nil: screens change on their
	// own writes and on key presses only.
	Live Live
	// Now is the clock that tells a live invite from an expired one in a
	// profile's history; time.Now when nil (tests fix it with the store's).
	Now func() time.Time

	shared *shared // what sessions read because of the same change
}

// WithLive returns deps whose sessions follow the change feed l and share
// what they read because of the same change: a process makes it once and
// gives it to every session, so five hundred sessions showing the first
// page of the roster read it once per change, not five hundred times.
func (d Deps) WithLive(l Live) Deps {
	d.Live = l
	d.shared = newShared(d.Roster)
	return d
}

var (
	_ Invites = (*claim.Service)(nil)
	_ Roster  = (*store.DB)(nil)
	_ Live    = (*store.DB)(nil)
)

// deliverTimeout bounds the first delivery attempt a staff member waits
// for; past it the outbox worker carries on in the background. A variable
// so tests need not wait ten seconds.
var deliverTimeout = 10 * time.Second

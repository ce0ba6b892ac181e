package tui

import (
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"frontdesk/claim"
	"frontdesk/store"
)

// checkMsg answers "may I invite this customer?" (or, for purpose reset,
// "may I send them a password-reset link?") to the screen that asked (the
// roster or a profile: the answer is routed to it).
type checkMsg struct {
	purpose  store.Purpose
	customer *store.Customer
	expiry   time.Time
	cautions []claim.Caution // what the confirmation must ask first
	err      error
	desk     bool // asked for a link to show at the desk (c), not an email
}

// checkInvite asks the invite rules, with fresh data, whether the customer
// can be invited; the answer opens the confirmation or says why not.
func checkInvite(c *Common, deps Deps, id int64) tea.Cmd {
	ctx, staff, org, inv := c.Ctx, c.Staff, c.Org, deps.Invites
	return func() tea.Msg {
		cust, err := inv.Check(ctx, staff, id)
		msg := checkMsg{purpose: store.PurposeClaim, customer: cust, expiry: inv.ExpiryFor(org), err: err}
		if err == nil {
			msg.cautions, msg.err = inv.Cautions(ctx, staff, id, store.PurposeClaim)
		}
		return msg
	}
}

// checkDesk asks the invite rules, with fresh data, whether the customer
// can be given a claim link at the desk (the same rules as an invite); the
// answer opens the QR code's confirmation or says why not.
func checkDesk(c *Common, deps Deps, id int64) tea.Cmd {
	ctx, staff, org, inv := c.Ctx, c.Staff, c.Org, deps.Invites
	return func() tea.Msg {
		cust, err := inv.Check(ctx, staff, id)
		return checkMsg{purpose: store.PurposeClaim, customer: cust, expiry: inv.ExpiryFor(org), err: err, desk: true}
	}
}

// checkReset asks the reset rules, with fresh data, whether staff may send
// the customer a password-reset link; the answer opens the confirmation or
// says why not.
func checkReset(c *Common, deps Deps, id int64) tea.Cmd {
	ctx, staff, inv := c.Ctx, c.Staff, deps.Invites
	return func() tea.Msg {
		cust, err := inv.CheckReset(ctx, staff, id)
		msg := checkMsg{purpose: store.PurposeReset, customer: cust, expiry: inv.ResetExpiry(), err: err}
		if err == nil {
			msg.cautions, msg.err = inv.Cautions(ctx, staff, id, store.PurposeReset)
		}
		return msg
	}
}

// answer acts on a check's answer for the screen at at that asked: a
// refusal becomes the note to show, a yes opens the confirmation over it
// (cmd is the confirmation's first: the check of the address).
func answer(c *Common, deps Deps, msg checkMsg, at where) (note, tea.Cmd) {
	if n, ok := refusalNote(c, msg.err, at, msg.purpose); ok {
		return n, nil
	}
	if msg.desk {
		return note{}, c.nav.push(newQR(c, deps, msg.customer, msg.expiry))
	}
	m := newConfirm(c, deps, msg.customer, msg.purpose, msg.expiry, msg.cautions, at)
	return note{}, c.nav.push(m, m.Init())
}

// refusalNote words a failed check; ok is false when there was no error.
func refusalNote(c *Common, err error, at where, purpose store.Purpose) (note, bool) {
	if err == nil {
		return note{}, false
	}
	if r, ok := err.(*claim.Refusal); ok {
		return note{c.refusalText(r, at), toneWarning}, true
	}
	if purpose == store.PurposeReset {
		return note{"Cannot send a password-reset link: " + say(err), toneError}, true
	}
	return note{"Cannot invite: " + say(err), toneError}, true
}

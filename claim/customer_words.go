package claim

import (
	"strconv"

	"frontdesk/store"
	"frontdesk/store/format"
)

// What became of keeping the roster, in the one wording table's voice: the
// sentence is the same at the desk and on the command line, the hint names
// a key in one and a command in the other (Words.Place).

// cmd is a command line hint about customer c: "frontdesk invite 42".
func cmd(verb string, c *store.Customer) string {
	return "frontdesk " + verb + " " + strconv.FormatInt(c.ID, 10)
}

// Added words a customer just added: "Ann Lee was added." and what comes
// next, inviting them.
func (w Words) Added(c *store.Customer) string {
	t := c.Name() + " was added."
	if w.Place == AtCommandLine {
		t = c.Name() + " was added (id " + strconv.FormatInt(c.ID, 10) + ")."
	}
	switch {
	case c.Email == "" && w.Place == AtCommandLine:
		return t + " They have no email, so they cannot be invited until one is added: " + cmd("customers set", c) + " --email ADDRESS."
	case c.Email == "":
		return t + " They have no email, so they cannot be invited until one is added (e)."
	case w.Place == AtCommandLine:
		return t + " Invite them to claim their account: " + cmd("invite", c) + "."
	}
	return t + " Press i to invite them to claim their account, or c to show a claim code here at the desk."
}

// Archived words an archive: who left the roster, what stopped working,
// and how to bring them back.
func (w Words) Archived(a *Archived) string {
	c := a.Customer
	if a.Already {
		return c.Name() + " is already archived."
	}
	t := c.Name() + " was archived: off the roster"
	switch a.Links {
	case 0:
	case 1:
		t += ", 1 link stopped working"
	default:
		t += ", " + strconv.Itoa(a.Links) + " links stopped working"
	}
	if !c.ClaimedAt.IsZero() {
		t += ", signed out of their account and unable to sign in"
	}
	if w.Place == AtCommandLine {
		return t + w.Dash + cmd("customers restore", c) + " brings them back."
	}
	return t + w.Dash + "press R to restore them."
}

// Restored words a restore: back on the roster with what status, and that
// links from before stay dead.
func (w Words) Restored(r *Restored) string {
	c := r.Customer
	if r.Already {
		return c.Name() + " is on the roster already; there is nothing to restore."
	}
	t := c.Name() + " is back on the roster (" + c.Status.Label() + ")."
	switch {
	case !c.ClaimedAt.IsZero():
		return t + " They can sign in again with their password."
	case c.Email == "":
		return t
	case w.Place == AtCommandLine:
		return t + " Links sent before they were archived stay dead" + w.Dash + cmd("invite", c) + " sends a new invite."
	}
	return t + " Links sent before they were archived stay dead" + w.Dash + "press i to send a new invite."
}

// Withdrawn words a withdrawn invite at the desk: which link stopped
// working, and what its page tells the customer.
func (w Words) Withdrawn(wd *Withdrawn, org *store.Org) string {
	t := "The invite sent to " + wd.Invite.Email + " on " + format.Day(wd.Invite.CreatedAt, w.Loc) +
		" was withdrawn: its link no longer works, and its page tells them to ask " + org.Name + "."
	return t + " Press i to send a new one."
}

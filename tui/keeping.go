package tui

import (
	"errors"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"frontdesk/claim"
	"frontdesk/store"
	"frontdesk/store/format"
	"frontdesk/tui/inert"
)

// Keeping the roster: a on the roster adds a customer; on a profile E
// edits their details, A archives them, R restores them, X withdraws their
// outstanding invite; R on the roster's Archived filter restores the
// selected customer. The rules and words are the invite service's (claim);
// these only ask, run and say.

// failedNote words an action's error: a refusal with its hint (w names
// the keys of the place), or the error. It runs in the action's command,
// so it reads nothing of the session.
func failedNote(w claim.Words, prefix string, err error) note {
	var r *claim.Refusal
	if errors.As(err, &r) {
		return note{prefix + inert.String(w.Refusal(r)), toneWarning}
	}
	return note{prefix + say(err), toneError}
}

// keep handles the profile's keys for keeping the roster; ok is false for
// any other key.
func (p *profileScreen) keep(msg tea.KeyMsg) (cmd tea.Cmd, ok bool) {
	k := p.c.KeyMap
	var what string
	switch {
	case key.Matches(msg, k.Edit):
		what = "change customers' details"
	case key.Matches(msg, k.Archive):
		what = "archive customers"
	case key.Matches(msg, k.Restore):
		what = "restore customers"
	case key.Matches(msg, k.Withdraw):
		what = "withdraw invites"
	default:
		return nil, false
	}
	if !p.c.CanManage() {
		p.note = note{forbiddenText(what, p.c.Styles.Glyphs), toneWarning}
		return nil, true
	}
	if p.p == nil {
		return nil, true
	}
	p.note = note{}
	c := &p.p.Customer
	words := p.c.words(onProfile)
	switch {
	case key.Matches(msg, k.Edit):
		if c.Archived {
			// CanInvite's first objection to an archived customer is the
			// one that matters here too, in the same words.
			if r := claim.CanInvite(p.c.Staff, p.c.Org, c); r != nil && r.Reason == claim.ReasonArchived {
				p.note = note{p.c.refusalText(r, onProfile), toneWarning}
				return nil, true
			}
		}
		f := newCustomerForm(p.c, p.deps, p.p)
		return p.c.nav.push(f, f.Init()), true
	case key.Matches(msg, k.Archive):
		if c.Archived {
			p.note = note{inert.String(words.Archived(&claim.Archived{Customer: c, Already: true})), toneInfo}
			return nil, true
		}
		return p.askArchive(), true
	case key.Matches(msg, k.Restore):
		if !c.Archived {
			p.note = note{inert.String(words.Restored(&claim.Restored{Customer: c, Already: true})), toneInfo}
			return nil, true
		}
		p.note = note{"Restoring" + p.c.Styles.Glyphs.Ellipsis, toneInfo}
		p.checking = true
		return restore(p.c, p.deps, c.ID, onProfile), true
	}
	if r := claim.CanWithdraw(p.c.Staff, p.c.Org, c); r != nil {
		p.note = note{p.c.refusalText(r, onProfile), toneWarning}
		return nil, true
	}
	return p.askWithdraw(), true
}

// askArchive asks before archiving, saying what it does.
func (p *profileScreen) askArchive() tea.Cmd {
	c, loc := &p.p.Customer, p.c.loc()
	name := inert.String(c.Name())
	links := "Any link sent to them stops working."
	if c.HasLiveInvite() {
		links = "The invite sent " + format.Day(c.InviteSentAt, loc) + " stops working."
	}
	fields := [][2]string{
		{"Roster", "They leave the roster; the Archived filter (tab) lists them, and R brings them back with their history."},
		{"Links", links},
	}
	if !c.ClaimedAt.IsZero() {
		fields = append(fields, [2]string{"Account", "They are signed out of their account and cannot sign in until restored."})
	}
	ctx, staff, inv, id, words := p.c.Ctx, p.c.Staff, p.deps.Invites, c.ID, p.c.words(onProfile)
	a := newAsk(p.c, "Archive "+name+"?", "archive", "Not archived.", fields, func() tea.Msg {
		done, err := inv.ArchiveCustomer(ctx, staff, id)
		if err != nil {
			return doneMsg{note: failedNote(words, "Not archived: ", err)}
		}
		return doneMsg{note: note{inert.String(words.Archived(done)), toneSuccess}, changed: true}
	})
	return p.c.nav.push(a)
}

// askWithdraw asks before withdrawing the outstanding invite, naming it.
func (p *profileScreen) askWithdraw() tea.Cmd {
	c, loc := &p.p.Customer, p.c.loc()
	sent := "sent " + format.Day(c.InviteSentAt, loc) + " to " + inert.String(c.Email)
	for i := range p.p.Invites {
		inv := &p.p.Invites[i]
		if st, _ := inv.State(c, p.deps.Now()); st == store.InviteLive && inv.Purpose == store.PurposeClaim {
			sent = "sent " + format.DateTime(inv.CreatedAt, loc) + " to " + inert.String(inv.Email)
			if inv.CreatedByName != "" {
				sent += " by " + inert.String(inv.CreatedByName)
			}
			break
		}
	}
	org := inert.String(p.c.Org.Name)
	fields := [][2]string{
		{"Invite", sent},
		{"Link", "Stops working. Its page will say that " + org + " withdrew the invite and to ask " + org + " for a new one."},
	}
	ctx, staff, inv, id, words, o := p.c.Ctx, p.c.Staff, p.deps.Invites, c.ID, p.c.words(onProfile), p.c.Org
	a := newAsk(p.c, "Withdraw the invite to "+inert.String(c.Name())+"?", "withdraw", "Invite not withdrawn.", fields, func() tea.Msg {
		done, err := inv.WithdrawInvite(ctx, staff, id)
		if err != nil {
			return doneMsg{note: failedNote(words, "Not withdrawn: ", err)}
		}
		return doneMsg{note: note{inert.String(words.Withdrawn(done, o)), toneSuccess}, changed: true}
	})
	return p.c.nav.push(a)
}

// restore brings customer id back to the roster: no question asked, it
// takes nothing away (links from before stay dead).
func restore(c *Common, deps Deps, id int64, at where) tea.Cmd {
	ctx, staff, inv, words := c.Ctx, c.Staff, deps.Invites, c.words(at)
	return func() tea.Msg {
		done, err := inv.RestoreCustomer(ctx, staff, id)
		if err != nil {
			return doneMsg{note: failedNote(words, "Not restored: ", err)}
		}
		return doneMsg{note: note{inert.String(words.Restored(done)), toneSuccess}, changed: !done.Already}
	}
}

// done shows what a restore did and, when it changed something, has every
// screen reload.
func done(c *Common, msg doneMsg) (note, tea.Cmd) {
	if !msg.changed {
		return msg.note, nil
	}
	return msg.note, c.nav.broadcast(changedMsg{})
}

// addCustomer opens the customer form for a new customer.
func addCustomer(c *Common, deps Deps) (note, tea.Cmd) {
	if !c.CanManage() {
		return note{forbiddenText("add customers", c.Styles.Glyphs), toneWarning}, nil
	}
	f := newCustomerForm(c, deps, nil)
	return note{}, c.nav.push(f, f.Init())
}

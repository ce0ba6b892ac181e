package tui

import (
	"context"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"frontdesk/claim"
	"frontdesk/mailer"
	"frontdesk/store"
	"frontdesk/store/format"
	"frontdesk/tui/inert"
)

// emailFreshMsg is the customer read again after a change made elsewhere.
type emailFreshMsg struct {
	p   *store.Profile
	err error
}

type emailSavedMsg struct {
	email  string
	change *claim.EmailChange
	err    error

	// The first delivery attempt of the notices (claimed customers).
	notices  []mailer.Outcome
	derr     error
	timedOut bool
}

// emailScreen edits a customer's email: pre-filled, checked as it is typed,
// saved through the invite service (which audits the change, revokes links
// sent to the old address and, for a claimed customer, notifies both
// addresses).
type emailScreen struct {
	c    *Common
	deps Deps
	cust store.Customer // as the profile showed it
	// claimed: the address is the one the customer signs in with.
	claimed bool
	// liveReset: the profile showed a password-reset link that still works.
	liveReset bool

	input  textinput.Model
	check  note      // live validation
	addr   addrCheck // the typo and DNS warnings
	err    note      // why the last save failed
	saving bool
	w, h   int
}

// newEmailEditor edits the email of the customer of profile p (as a
// profile screen, or the outbox screen, read it).
func newEmailEditor(c *Common, deps Deps, p *store.Profile) *emailScreen {
	e := &emailScreen{c: c, deps: deps, cust: p.Customer, claimed: !p.ClaimedAt.IsZero(), addr: newAddrCheck(c, deps), w: c.Width, h: c.Height}
	for _, inv := range p.Invites {
		if inv.Purpose == store.PurposeReset && inv.UsedAt.IsZero() && inv.RevokedAt.IsZero() && inv.ExpiresAt.After(deps.Now()) {
			e.liveReset = true
		}
	}
	e.input = c.Styles.TextInput()
	e.input.Prompt = "> "
	e.input.CharLimit = 254
	e.input.Placeholder = "name@example.com"
	// A stored address with control characters is shown escaped, so staff
	// see what is wrong with it and type the fix.
	e.input.SetValue(inert.String(e.cust.Email))
	e.input.CursorEnd()
	e.input.Focus()
	e.validate()
	return e
}

// Init checks the address the editor opens with: a stored typo is worth
// the same warning as a typed one.
func (e *emailScreen) Init() tea.Cmd { return e.addr.set(e.value()) }

func (e *emailScreen) busy() bool   { return e.saving }
func (e *emailScreen) Note() note   { return e.err }
func (e *emailScreen) Typing() bool { return true }

// helpKey changes with the suggestion, which the short help names.
func (e *emailScreen) helpKey() string { return e.addr.suggestion() }

func (e *emailScreen) ShortHelp() []key.Binding {
	k := e.c.KeyMap
	keys := []key.Binding{k.Save, with(k.ClearInput, "cancel"), k.ForceQuit}
	if e.addr.suggestion() != "" {
		keys = append([]key.Binding{with(k.Suggest, "use "+inert.String(e.addr.typo.Suggested))}, keys...)
	}
	return keys
}

func (e *emailScreen) FullHelp() [][]key.Binding {
	k := e.c.KeyMap
	return [][]key.Binding{{with(k.Save, "save the new email"), with(k.ClearInput, "cancel, keep the old one"),
		with(k.Suggest, "use the address a typo warning suggests")}}
}

func (e *emailScreen) SetSize(w, h int) {
	e.w, e.h = w, h
	e.input.Width = max(w-labelW-4, 10)
}

func (e *emailScreen) value() string { return store.NormalizeEmail(e.input.Value()) }

func (e *emailScreen) changed() bool { return e.value() != e.cust.Email }

// validate words the address as typed, without touching the database: the
// duplicate check needs the save (another staff member may take the address
// meanwhile anyway).
func (e *emailScreen) validate() {
	v := e.value()
	switch {
	case !e.changed():
		e.check = note{"This is the current address.", toneInfo}
		if err := store.ValidateEmail(v); v != "" && err != nil {
			e.check = note{"Not valid: " + say(err) + ".", toneError}
		}
	case v == "" && e.claimed:
		e.check = note{e.signInOnly(), toneError}
	case v == "":
		e.check = note{"Saving an empty email removes it; they cannot be invited until one is added.", toneWarning}
	default:
		if err := store.ValidateEmail(v); err != nil {
			e.check = note{"Not valid: " + say(err) + ".", toneError}
		} else {
			e.check = note{"Looks valid.", toneSuccess}
		}
	}
}

// signInOnly is why a claimed customer's address cannot be emptied, as the
// invite service says it.
func (e *emailScreen) signInOnly() string {
	return inert.String(e.cust.Name()) + " signs in with this address, so it cannot be removed; type their new address instead."
}

func (e *emailScreen) Update(msg tea.Msg) tea.Cmd {
	k := e.c.KeyMap
	switch msg := msg.(type) {
	case tea.KeyMsg:
		if e.saving {
			return nil
		}
		switch {
		case key.Matches(msg, k.Save):
			return e.save()
		case key.Matches(msg, k.ClearInput):
			return e.c.nav.pop(&note{"Email not changed.", toneInfo}, false)
		case key.Matches(msg, k.Suggest) && e.addr.suggestion() != "":
			return e.suggest()
		}
		return e.edit(msg)
	case addressCheckedMsg:
		return e.addr.answered(msg)
	case emailSavedMsg:
		e.saving = false
		if msg.err != nil {
			e.err = note{"Not saved: " + say(msg.err), toneError}
			return nil
		}
		return e.c.nav.pop(e.saved(msg), true)
	case liveMsg:
		// Another desk (or the customer) changed them while this is open:
		// read them again, so Current is what a save would replace.
		if !e.saving && slices.ContainsFunc(msg.changes, func(c store.Change) bool { return c.ConcernsCustomer(e.cust.ID) }) {
			ctx, org, id, roster := e.c.Ctx, e.c.Org.ID, e.cust.ID, e.deps.Roster
			return func() tea.Msg {
				p, err := roster.Profile(ctx, org, id)
				return emailFreshMsg{p, err}
			}
		}
	case emailFreshMsg:
		if msg.err != nil || e.saving {
			return nil
		}
		if msg.p.Email != e.cust.Email {
			// What was typed stays; staff decide with the new address in view.
			e.err = note{"Changed elsewhere to " + inert.String(msg.p.Email) + " while you were editing; saving replaces that.", toneWarning}
			if msg.p.Email == "" {
				e.err.text = "The email was removed elsewhere while you were editing; saving sets this one."
			}
		}
		e.cust, e.claimed = msg.p.Customer, !msg.p.ClaimedAt.IsZero()
		e.validate()
	}
	return nil
}

// suggest takes the address the typo warning suggests. Only the domain
// changes; staff still save it themselves.
func (e *emailScreen) suggest() tea.Cmd {
	e.input.SetValue(e.addr.suggestion())
	e.input.CursorEnd()
	e.err = note{}
	e.validate()
	return e.addr.set(e.value())
}

// edit types a key into the address and checks it again.
func (e *emailScreen) edit(msg tea.KeyMsg) tea.Cmd {
	var cmd tea.Cmd
	e.input, cmd = e.input.Update(msg)
	e.err = note{}
	e.validate()
	return tea.Batch(cmd, e.addr.set(e.value()))
}

// saved words a saved change of the address (here, or in the customer
// form).
func (e *emailScreen) saved(msg emailSavedMsg) *note {
	if msg.change.Claimed {
		return e.claimedSaved(msg)
	}
	g := e.c.Styles.Glyphs
	text := "Email changed to " + inert.String(msg.email) + "."
	if msg.email == "" {
		text = "Email removed."
	}
	switch {
	case msg.change.Revoked() > 0:
		text += " The outstanding invite was cancelled" + g.Dash + "press i to send one to the new address."
	case msg.email != "":
		text += " Press i to send an invite."
	}
	return &note{text, toneSuccess}
}

// claimedSaved words a claimed customer's changed sign-in address: who
// signs in with what, what became of the notices (sent means the mail
// server took them, as for invites), and a reset link that stopped working.
func (e *emailScreen) claimedSaved(msg emailSavedMsg) *note {
	g := e.c.Styles.Glyphs
	ch := msg.change
	text := "Email changed; " + inert.String(e.cust.Name()) + " signs in with the new address."
	// The notices are in the order ChangeEmail queued them: the old
	// address (when there was one), then the new.
	to := []string{ch.Customer.Email, msg.email}[2-len(ch.Notices):]
	byID := make(map[int64]mailer.Outcome, len(msg.notices))
	for _, o := range msg.notices {
		byID[o.ID] = o
	}
	var queued []string
	tone := toneSuccess
	failed := ""
	for i, id := range ch.Notices {
		switch o := byID[id]; o.Status {
		case store.OutboxSent:
		case store.OutboxFailed:
			failed += " The notice to " + inert.String(to[i]) + " failed: " + strings.TrimSuffix(inert.String(o.Err), ".") + "."
			tone = toneWarning
		default:
			queued = append(queued, inert.String(to[i]))
		}
	}
	switch {
	case len(ch.Notices) == 0: // someone else saved this address first
	case failed == "" && len(queued) == 0 && len(ch.Notices) == 2:
		text += " A notice went to both addresses."
	case failed == "" && len(queued) == 0:
		text += " A notice went to the new address."
	case len(queued) > 0:
		why := "the mail server has not taken it yet"
		if msg.timedOut {
			why = "the mail server did not answer within " + deliverTimeout.String()
		} else if msg.derr != nil {
			why = "delivery could not start: " + inert.String(msg.derr.Error())
		}
		text += " The notice to " + strings.Join(queued, " and ") + " is queued (" + why + "); the outbox keeps trying."
		tone = toneWarning
	}
	text += failed
	if ch.Resets > 0 {
		text += " The outstanding password-reset link was cancelled" + g.Dash + "it went to the old address."
	}
	return &note{text, tone}
}

func (e *emailScreen) save() tea.Cmd {
	v := e.value()
	if !e.changed() {
		return e.c.nav.pop(&note{"Email unchanged.", toneInfo}, false)
	}
	if v == "" && e.claimed {
		e.err = note{"Not saved: " + e.signInOnly(), toneError}
		return nil
	}
	if v != "" {
		if err := store.ValidateEmail(v); err != nil {
			e.err = note{"Not saved: " + say(err) + ".", toneError}
			return nil
		}
	}
	e.saving = true
	e.err = note{"Saving" + e.c.Styles.Glyphs.Ellipsis, toneInfo}
	ctx, staff, id, inv := e.c.Ctx, e.c.Staff, e.cust.ID, e.deps.Invites
	return func() tea.Msg {
		ch, err := inv.ChangeEmail(ctx, staff, id, v)
		if err != nil {
			return emailSavedMsg{email: v, err: err}
		}
		return deliverNotices(ctx, inv, emailSavedMsg{email: v, change: ch})
	}
}

// deliverNotices makes the first delivery attempt of a claimed customer's
// email-change notices, as for an invite: one attempt, time-boxed, so the
// words can say whether the notices went; the worker carries on after.
func deliverNotices(ctx context.Context, inv Invites, msg emailSavedMsg) emailSavedMsg {
	if len(msg.change.Notices) > 0 {
		msg.notices, msg.timedOut, msg.derr = inv.DeliverNow(ctx, deliverTimeout, msg.change.Notices...)
	}
	return msg
}

func (e *emailScreen) View() string {
	s := e.c.Styles
	b := &block{w: e.w, s: s}
	b.line(s.Title.Render("Edit email") + s.Subtle.Render(s.Glyphs.Sep+inert.String(e.cust.Name())))
	b.line("")
	cur := s.Subtle.Render("none")
	if e.cust.Email != "" {
		cur = inert.String(e.cust.Email)
	}
	b.field("Current", cur)
	b.field("New", inputView(&e.input, s))
	b.field("", s.note(e.check))
	if e.check.tone != toneError {
		hint := ""
		if sg := e.addr.suggestion(); sg != "" {
			hint = " Press " + e.c.KeyMap.Suggest.Help().Key + " to use " + inert.String(sg) + "."
		}
		for _, n := range e.addr.notes(hint) {
			b.field("", s.note(n))
		}
	}
	if warn := e.warning(); warn != "" {
		b.line("")
		b.wrapped(s.Warning.Render(warn), 0)
	}
	return fit(joinLines(b.lines), e.w, e.h)
}

// warning is what saving the address will do besides, "" when nothing.
func (e *emailScreen) warning() string {
	switch {
	case e.claimed && e.changed() && e.value() != "":
		warn := "Email will change; " + inert.String(e.cust.Name()) + " will sign in with the new address. A notice will go to both addresses."
		if e.liveReset {
			warn += " The outstanding password-reset link will be cancelled."
		}
		return warn
	case !e.claimed && e.cust.HasLiveInvite() && e.changed():
		sent := ""
		if !e.cust.InviteSentAt.IsZero() {
			sent = " sent " + format.Day(e.cust.InviteSentAt, e.c.loc())
		}
		return "Saving cancels the outstanding invite" + sent + ": its link stops working."
	}
	return ""
}

// inputView draws a text input; ASCII terminals get a visible cursor, since
// reverse video (the input's own cursor) is not there.
func inputView(ti *textinput.Model, s *Styles) string {
	if !s.ASCII || !ti.Focused() {
		return ti.View()
	}
	v := []rune(ti.Value())
	pos := min(ti.Position(), len(v))
	return ti.Prompt + string(v[:pos]) + "|" + string(v[pos:])
}

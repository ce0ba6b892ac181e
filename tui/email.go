package tui

import (
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"frontdesk/store"
	"frontdesk/tui/inert"
)

type emailSavedMsg struct {
	email   string
	revoked int
	err     error
}

// emailScreen edits a customer's email: pre-filled, checked as it is typed,
// saved through the invite service (which audits the change and revokes
// links sent to the old address).
type emailScreen struct {
	c    *Common
	deps Deps
	cust store.Customer // as the profile showed it

	input  textinput.Model
	check  note // live validation
	err    note // why the last save failed
	saving bool
	w, h   int
}

func newEmailEditor(c *Common, deps Deps, p *profileScreen) *emailScreen {
	e := &emailScreen{c: c, deps: deps, cust: p.p.Customer, w: c.Width, h: c.Height}
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

func (e *emailScreen) busy() bool   { return e.saving }
func (e *emailScreen) Note() note   { return e.err }
func (e *emailScreen) Typing() bool { return true }

func (e *emailScreen) ShortHelp() []key.Binding {
	k := e.c.KeyMap
	return []key.Binding{k.Save, with(k.ClearInput, "cancel"), k.ForceQuit}
}

func (e *emailScreen) FullHelp() [][]key.Binding {
	k := e.c.KeyMap
	return [][]key.Binding{{with(k.Save, "save the new email"), with(k.ClearInput, "cancel, keep the old one")}}
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
		}
		var cmd tea.Cmd
		e.input, cmd = e.input.Update(msg)
		e.err = note{}
		e.validate()
		return cmd
	case emailSavedMsg:
		e.saving = false
		if msg.err != nil {
			e.err = note{"Not saved: " + say(msg.err), toneError}
			return nil
		}
		g := e.c.Styles.Glyphs
		text := "Email changed to " + inert.String(msg.email) + "."
		if msg.email == "" {
			text = "Email removed."
		}
		switch {
		case msg.revoked > 0:
			text += " The outstanding invite was cancelled" + g.Dash + "press i to send one to the new address."
		case msg.email != "":
			text += " Press i to send an invite."
		}
		return e.c.nav.pop(&note{text, toneSuccess}, true)
	}
	return nil
}

func (e *emailScreen) save() tea.Cmd {
	v := e.value()
	if !e.changed() {
		return e.c.nav.pop(&note{"Email unchanged.", toneInfo}, false)
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
		n, err := inv.ChangeEmail(ctx, staff, id, v)
		return emailSavedMsg{email: v, revoked: n, err: err}
	}
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
	if e.cust.HasLiveInvite() && e.changed() {
		b.line("")
		sent := ""
		if !e.cust.InviteSentAt.IsZero() {
			sent = " sent " + dayShort(e.cust.InviteSentAt, e.c.loc())
		}
		b.wrapped(s.Warning.Render("Saving cancels the outstanding invite"+sent+": its link stops working."), 0)
	}
	return fit(joinLines(b.lines), e.w, e.h)
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

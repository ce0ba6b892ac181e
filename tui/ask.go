package tui

import (
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
)

// doneMsg is what an action asked for on an askScreen did: the sentence
// for the screen below, and whether customers changed (the screens reload).
type doneMsg struct {
	note    note
	changed bool
}

// askScreen asks before a step that cannot simply be taken back with the
// same key (archiving a customer, withdrawing an invite, marking every
// customer of a search, quitting with marks set): what it is, what it will
// do, then y runs it with a spinner and goes back with the outcome in
// words. q is no answer: it neither quits from a question nor asks again.
type askScreen struct {
	c        *Common
	question string      // "Archive Ann Lee?", made inert by the caller
	details  []string    // paragraphs under the question, safe text
	fields   [][2]string // label and value, drawn like a profile's
	yes      string      // what y does: "archive"
	no       string      // the note on cancel: "Not archived."
	run      func() tea.Msg
	// now, instead of run, is an answer that needs no I/O and changes the
	// screen below (marking) or ends the session (quitting): it runs in
	// Update, so it may change what Update owns, and closes the question
	// itself.
	now func() tea.Cmd

	running bool
	spin    spinner.Model
	w, h    int
}

func newAsk(c *Common, question, yes, no string, fields [][2]string, run func() tea.Msg) *askScreen {
	return &askScreen{c: c, question: question, yes: yes, no: no, fields: fields, run: run, spin: c.Styles.Spinner(), w: c.Width, h: c.Height}
}

func (a *askScreen) busy() bool       { return a.running }
func (a *askScreen) Note() note       { return note{} }
func (a *askScreen) Typing() bool     { return false }
func (a *askScreen) SetSize(w, h int) { a.w, a.h = w, h }
func (a *askScreen) takesQuit()       {}
func (a *askScreen) helpKey() string {
	if a.running {
		return "running"
	}
	return ""
}

func (a *askScreen) ShortHelp() []key.Binding {
	k := a.c.KeyMap
	if a.running {
		return []key.Binding{k.ForceQuit}
	}
	return []key.Binding{with(k.Confirm, a.yes), with(k.Back, "cancel"), k.Help}
}

func (a *askScreen) FullHelp() [][]key.Binding {
	k := a.c.KeyMap
	return [][]key.Binding{{with(k.Confirm, a.yes), with(k.Back, "cancel")}}
}

func (a *askScreen) Update(msg tea.Msg) tea.Cmd {
	k := a.c.KeyMap
	switch msg := msg.(type) {
	case tea.KeyMsg:
		if a.running {
			return nil
		}
		switch {
		case key.Matches(msg, k.Confirm) && a.now != nil:
			return a.now()
		case key.Matches(msg, k.Confirm):
			a.running = true
			return tea.Batch(a.spin.Tick, a.run)
		case key.Matches(msg, k.Back):
			return a.c.nav.pop(&note{a.no, toneInfo}, false)
		}
	case spinner.TickMsg:
		if a.running {
			var cmd tea.Cmd
			a.spin, cmd = a.spin.Update(msg)
			return cmd
		}
	case doneMsg:
		a.running = false
		return a.c.nav.pop(&msg.note, msg.changed)
	}
	return nil
}

func (a *askScreen) View() string {
	s := a.c.Styles
	inner := max(min(a.w-4, 72), 10)
	var lines []string
	add := func(text string) { lines = append(lines, wrap(text, inner)...) }
	add(s.Bold.Render(a.question))
	for _, d := range a.details {
		add("")
		add(d)
	}
	if len(a.fields) > 0 || len(a.details) == 0 {
		add("")
		b := &block{w: inner, s: s}
		for _, f := range a.fields {
			b.field(f[0], f[1])
		}
		lines = append(lines, b.lines...)
	}
	add("")
	if a.running {
		add(a.spin.View() + " " + s.Glyphs.Ellipsis)
	} else {
		k := a.c.KeyMap
		add(s.Key.Render(k.Confirm.Help().Key) + " " + a.yes + s.Glyphs.Sep + s.Key.Render(k.Back.Help().Key) + " cancel")
	}
	box := s.Box.Width(inner + 2).Render(joinLines(lines))
	return fit(s.Renderer.Place(a.w, a.h, 0.5, 0.4, box), a.w, a.h)
}

var _ interface {
	busier
	helpKeyer
} = (*askScreen)(nil)

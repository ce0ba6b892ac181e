package tui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// askScreen asks one yes-or-no question before something large or easy to
// do by mistake: marking every customer of a search, quitting with marks
// set. enter/y does it, esc/n goes back to the screen under it.
type askScreen struct {
	c        *Common
	question string   // safe text: customer text in it is made inert by the asker
	details  []string // safe text, a paragraph each
	yes, no  string   // what the keys do: "mark them", "cancel"
	// onYes runs in Update when the answer is yes; it closes the question
	// (a pop) or ends the session (quit).
	onYes func() tea.Cmd
	// noNote, when set, is left on the screen below when the answer is no.
	noNote *note
	w, h   int
}

func (a *askScreen) Note() note       { return note{} }
func (a *askScreen) Typing() bool     { return false }
func (a *askScreen) takesQuit()       {} // a second q is no answer
func (a *askScreen) SetSize(w, h int) { a.w, a.h = w, h }

func (a *askScreen) ShortHelp() []key.Binding {
	k := a.c.KeyMap
	return []key.Binding{with(k.Confirm, a.yes), with(k.Back, a.no), k.ForceQuit}
}

func (a *askScreen) FullHelp() [][]key.Binding { return [][]key.Binding{a.ShortHelp()} }

func (a *askScreen) Update(msg tea.Msg) tea.Cmd {
	if msg, ok := msg.(tea.KeyMsg); ok {
		k := a.c.KeyMap
		switch {
		case key.Matches(msg, k.Confirm):
			return a.onYes()
		case key.Matches(msg, k.Back):
			return a.c.nav.pop(a.noNote, false)
		}
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
	add("")
	k := a.c.KeyMap
	add(s.Key.Render(k.Confirm.Help().Key) + " " + a.yes + s.Glyphs.Sep + s.Key.Render(k.Back.Help().Key) + " " + a.no)
	box := s.Box.Width(inner + 2).Render(joinLines(lines))
	return fit(s.Renderer.Place(a.w, a.h, 0.5, 0.4, box), a.w, a.h)
}

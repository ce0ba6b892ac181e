package tui

import (
	"context"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"frontdesk/store"
)

// results runs cmd and every command it batches, returning what they
// return, without feeding anything back.
func results(cmd tea.Cmd) []tea.Msg {
	var out []tea.Msg
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		default:
			out = append(out, msg)
		}
	}
	return out
}

// i on a profile asks the invite rules; the answer opens one confirmation,
// over the profile that asked (the roster under it does not act on it), and
// esc goes back to that profile.
func TestCheckAnswersTheScreenThatAsked(t *testing.T) {
	f := newFixture(t, 60)
	m := f.model(f.owner, 80, 24)
	drive(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	drive(t, m, keys("<tab>", "<enter>", "i")...)
	if len(m.stack) != 3 {
		t.Fatalf("stack %T, want the roster, the profile and one confirmation", m.stack)
	}
	if _, ok := m.stack[1].(*profileScreen); !ok {
		t.Fatalf("under the confirmation: %T, want the profile", m.stack[1])
	}
	if c, ok := m.top().(*confirmScreen); !ok || c.from != onProfile {
		t.Fatalf("top: %T, want a confirmation opened from the profile", m.top())
	}
	if m.roster.checking || m.roster.note.text != "" {
		t.Fatalf("the roster took the profile's check: checking %v, note %q", m.roster.checking, m.roster.note.text)
	}
	drive(t, m, keys("<esc>")...)
	if p, ok := m.top().(*profileScreen); !ok || p.note.text != "Invite not sent." {
		t.Fatalf("after esc: %T with %q, want the profile saying the invite was not sent", m.top(), m.top().Note().text)
	}
}

// A profile's answer that arrives after the profile closed finds no one,
// not even another profile open in its place.
func TestAnswerForAClosedScreenIsDropped(t *testing.T) {
	f := newFixture(t, 60)
	rows, err := f.db.RosterPage(context.Background(), f.org.ID, store.RosterQuery{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	a, b := rows[0], rows[1]
	m := f.model(f.owner, 80, 24)
	drive(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	drive(t, m, keys("<enter>")...)
	// A write elsewhere: every screen reloads; A's profile answers late.
	_, cmd := m.Update(changedMsg{})
	var late []tea.Msg
	for _, msg := range results(cmd) {
		if r, ok := msg.(routed); ok && r.to != screen(m.roster) {
			late = append(late, msg)
			continue
		}
		drive(t, m, msg)
	}
	if len(late) != 1 {
		t.Fatalf("held %d answers, want A's profile", len(late))
	}
	drive(t, m, keys("<esc>", "j", "<enter>")...)
	p, ok := m.top().(*profileScreen)
	if !ok || p.id != b.ID {
		t.Fatalf("top: %T, want the profile of %s", m.top(), b.Name())
	}
	// B's profile reloads until its loads are as many as A's: only the
	// address, not a load count, can tell A's answer from B's.
	for p.seq < late[0].(routed).msg.(profileMsg).seq {
		drive(t, m, changedMsg{})
	}
	drive(t, m, late...)
	if v := m.View(); strings.Contains(v, a.Name()) || !strings.Contains(v, b.Name()) {
		t.Fatalf("%s's late profile reached %s's screen:\n%s", a.Name(), b.Name(), v)
	}
}

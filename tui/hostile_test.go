package tui

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"frontdesk/store"
)

// Customer data with terminal control sequences (OSC 52 clipboard write,
// screen clear, C1 CSI, DCS, a bidi override, cursor movement) is printed
// inert on every screen: the raw sequences never reach the terminal, the
// escaped text does.
func TestHostileCustomerDataStaysInert(t *testing.T) {
	for _, profile := range []struct {
		name string
		p    termenv.Profile
	}{{"ascii", termenv.Ascii}, {"truecolor", termenv.TrueColor}} {
		t.Run(profile.name, func(t *testing.T) {
			f := newFixture(t, 60)
			c := &store.Customer{
				OrgID:     f.org.ID,
				FirstName: "\x1b]52;c;ZXZpbA==\x07Eve\x1b[2J",
				LastName:  "\u009b31mMallory\u202e",
				Email:     "eve\x1b[31m@evil.example",
				Phone:     "+44\x1b[1A7700",
				Fields:    []store.Field{{Name: "Notes\x1b[5m", Value: "\x1bP1$r\x1b\\ hi"}},
			}
			if err := f.db.Tx(context.Background(), func(tx *store.Tx) error { return tx.CreateCustomer(context.Background(), c) }); err != nil {
				t.Fatal(err)
			}
			r := lipgloss.NewRenderer(io.Discard)
			r.SetColorProfile(profile.p)
			r.SetHasDarkBackground(true)
			s := startTUI(t, f.modelWith(NewStyles(r), f.owner, 160, 50), 160, 50)
			waitFor(t, s, "Harbor Yoga")
			typeKeys(s, "/", "eve")
			waitFor(t, s, "1-1 of 1")
			typeKeys(s, "<enter>", "i")
			waitFor(t, s, `has an email that is not valid`)
			typeKeys(s, "<enter>")
			waitFor(t, s, "Member since", `\x1b]52;c;ZXZpbA==\x07Eve\x1b[2J \u009b31mMallory\u202e`, `eve\x1b[31m@evil.example`, `+44\x1b[1A7700`, `\x1bP1$r\x1b\ hi`, `Notes\x1b[5m`)
			typeKeys(s, "i")
			waitFor(t, s, `Mallory\u202e has an email that is not valid`)
			typeKeys(s, "e")
			waitFor(t, s, "Edit email", `eve\x1b[31m@evil.example`)
			// The customer form and the archive question show it too.
			typeKeys(s, "<esc>", "E")
			waitFor(t, s, "Edit customer", `\x1b]52;c;ZXZpbA==\x07Eve\x1b[2J`, `+44\x1b[1A7700`, `Notes\x1b[5m`, `\x1bP1$r\x1b\ hi`)
			typeKeys(s, "<esc>", "A")
			waitFor(t, s, `Archive \x1b]52;c;ZXZpbA==\x07Eve\x1b[2J \u009b31mMallory\u202e?`)
			view := finalView(t, s)
			out := s.out.Bytes()
			// The roster's first row, the profile, the footer: escaped.
			for _, inert := range []string{`>  \x1b]52;c;ZXZpbA==\x07Eve\x1b[2J`, `\u009b31mMallory\u202e`, `eve\x1b[31m@evil.example`} {
				if !bytes.Contains(out, []byte(inert)) {
					t.Errorf("%s never shown", inert)
				}
			}
			for _, raw := range []string{"\x1b]52", "\x07", "\u009b", "\u202e", "\x1bP1$r", "Eve\x1b[2J", "eve\x1b[31m", "+44\x1b[1A", "Notes\x1b[5m"} {
				if bytes.Contains(out, []byte(raw)) {
					t.Errorf("raw %q reached the terminal", raw)
				}
				if strings.Contains(view, raw) {
					t.Errorf("raw %q in the final frame", raw)
				}
			}
		})
	}
}

// TestPasteKeyNeverReadsTheServersClipboard: ctrl+v in a text input does
// nothing of its own; a paste comes from the staff member's terminal.
func TestPasteKeyNeverReadsTheServersClipboard(t *testing.T) {
	ti := asciiStyles().TextInput()
	ti.Focus()
	_, cmd := ti.Update(tea.KeyMsg{Type: tea.KeyCtrlV})
	if cmd != nil {
		t.Fatal("ctrl+v in a text input starts a command (the clipboard read)")
	}
	ti, _ = ti.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("jane@example.com"), Paste: true})
	if ti.Value() != "jane@example.com" {
		t.Fatalf("a bracketed paste gave %q", ti.Value())
	}
}

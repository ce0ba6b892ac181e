package tui

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"frontdesk/claim"
	"frontdesk/store"
	"frontdesk/tui/inert"
)

// cell fits customer text into exactly w columns: made inert, cut at a
// grapheme boundary with an ellipsis, padded with spaces. Widths are terminal
// cells, so wide (CJK) and combining characters line up.
func cell(s string, w int, ellipsis string) string {
	if w <= 0 {
		return ""
	}
	s = inert.String(s)
	sw := ansi.StringWidth(s)
	if sw > w {
		s = ansi.Truncate(s, w, ellipsis)
		sw = ansi.StringWidth(s)
	}
	if sw < w {
		s += spaces(w - sw)
	}
	return s
}

func ansiWidth(s string) int { return ansi.StringWidth(s) }

// pad fills already safe (possibly styled) text to w columns, or cuts it.
func pad(s string, w int) string {
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, "")
	}
	return s + spaces(w-sw)
}

// clip cuts already safe (possibly styled) text to at most w columns.
func clip(s string, w int) string {
	if ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, max(w, 0), "")
}

const blanks = "                                                                                                                                "

func spaces(n int) string {
	if n <= 0 {
		return ""
	}
	if n <= len(blanks) {
		return blanks[:n]
	}
	return strings.Repeat(" ", n)
}

func joinLines(lines []string) string { return strings.Join(lines, "\n") }

// fit keeps a drawing within w columns and h lines, for screens whose parts
// do not size themselves to tiny terminals.
func fit(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:max(h, 0)]
	}
	for i, l := range lines {
		lines[i] = clip(l, w)
	}
	return joinLines(lines)
}

// wrap breaks text into lines of at most w columns, at spaces where it can.
func wrap(s string, w int) []string {
	if w < 1 {
		w = 1
	}
	return strings.Split(ansi.Wrap(s, w, ""), "\n")
}

// tone is how a note on the footer or a screen is coloured. The words carry
// the meaning; colour only helps.
type tone int

const (
	toneInfo tone = iota
	toneSuccess
	toneWarning
	toneError
)

// note is a sentence for the person at the keyboard.
type note struct {
	text string
	tone tone
}

func (s *Styles) note(n note) string {
	switch n.tone {
	case toneSuccess:
		return s.Success.Render(n.text)
	case toneWarning:
		return s.Warning.Render(n.text)
	case toneError:
		return s.Error.Render(n.text)
	}
	return s.Info.Render(n.text)
}

// say words an error for the screen. Messages of the store and the invite
// rules quote customer data (a name, an address), so they are made inert
// like everything else from the database.
func say(err error) string {
	var r *claim.Refusal
	switch {
	case errors.As(err, &r):
		return inert.String(r.Message)
	case errors.Is(err, context.DeadlineExceeded):
		return "The database did not answer in time; try again."
	case errors.Is(err, context.Canceled):
		return "Cancelled."
	}
	return inert.String(store.ErrorMessage(err))
}

// where the person pressed i or e, which decides what the hint asks them to
// do next.
type where int

const (
	onRoster where = iota
	onProfile
	onOutbox // the outbox screen: e, i and r act on the selected message's customer
)

// words is the invite flow's wording table (claim.Words) for this session
// and screen: hints name keys, the dash is the terminal's.
func (c *Common) words(at where) claim.Words {
	place := claim.AtProfile
	switch at {
	case onRoster:
		place = claim.AtRoster
	case onOutbox:
		place = claim.AtOutbox
	}
	return claim.Words{Place: place, Dash: c.Styles.Glyphs.Dash, Loc: c.loc()}
}

// refusalText is why a link cannot go out and what to do about it, in the
// words of the key map: "Bo Chen has no email address — press e to fix the
// email."
func (c *Common) refusalText(r *claim.Refusal, at where) string {
	return inert.String(c.words(at).Refusal(r))
}

// spread puts left and right on one line of width w, cutting left first.
func spread(left, right string, w int) string {
	lw, rw := ansiWidth(left), ansiWidth(right)
	if rw >= w {
		return clip(left, w)
	}
	if lw+1+rw > w {
		left = clip(left, w-rw-1)
		lw = ansiWidth(left)
	}
	if right == "" {
		return left
	}
	return left + spaces(w-lw-rw) + right
}

// num writes n with thousands separators: 1,000,000.
func num(n int) string {
	s := strconv.Itoa(n)
	if n < 0 || len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

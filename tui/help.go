package tui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// helpScreen is the full key map (DESIGN §4), over whatever screen was open.
type helpScreen struct {
	c     *Common
	under screen
	pg    pager
	w, h  int
}

func newHelp(c *Common, under screen) *helpScreen {
	h := &helpScreen{c: c, under: under, w: c.Width, h: c.Height}
	h.render()
	return h
}

func (h *helpScreen) Note() note   { return note{} }
func (h *helpScreen) Typing() bool { return false }

func (h *helpScreen) ShortHelp() []key.Binding {
	k := h.c.KeyMap
	return []key.Binding{with(k.Back, "close"), with(k.Arrows, "scroll"), k.Quit}
}

func (h *helpScreen) FullHelp() [][]key.Binding { return [][]key.Binding{h.ShortHelp()} }

func (h *helpScreen) SetSize(w, hh int) {
	h.w, h.h = w, hh
	h.render()
}

func (h *helpScreen) Update(msg tea.Msg) tea.Cmd {
	if msg, ok := msg.(tea.KeyMsg); ok {
		k := h.c.KeyMap
		if key.Matches(msg, k.Back) || key.Matches(msg, k.Help) {
			return h.c.nav.pop(nil, false)
		}
		h.pg.handle(msg, k)
	}
	return nil
}

type helpRow struct{ key, desc string }

func (h *helpScreen) render() {
	k := h.c.KeyMap
	s := h.c.Styles
	up, down := k.Up.Help().Key, k.Down.Help().Key
	sections := []struct {
		title string
		rows  []helpRow
	}{
		{"Roster", []helpRow{
			{"/", "search by name, email or phone; typing filters live"},
			{"enter / esc", "while searching: keep the filter / clear the search"},
			{"tab / shift+tab", "next / previous status filter; the last is Archived"},
			{"enter", "open the profile"},
			// One row for the four marking keys: the help fits 80x40.
			{"space/" + k.MarkAll.Help().Key + "/" + k.ClearMarks.Help().Key + "/I", "mark one / mark all listed / unmark all / invite marked"},
			{"i", "invite the selected customer to claim their account"},
			{"a", "add a customer (a walk-in at the desk)"},
			{"R", "on the Archived filter: restore the selected customer"},
			{"o", "the outbox: what was sent, what failed and the fix"},
		}},
		{"Lists", []helpRow{
			{up + " " + down, "move"},
			{"pgup pgdn", "page up / down; home/g end/G: first / last"},
		}},
		{"Profile", []helpRow{
			{"i", "invite to claim the account (or resend)"},
			{"c", "claim here: a new link as a QR code to scan at the desk"},
			{"e / E", "edit the email / edit name, email, phone and fields"},
			{"r", "send a password-reset link (claimed accounts)"},
			{"X", "withdraw the outstanding invite (its link stops working)"},
			{"A / R", "archive the customer / restore them"},
		}},
		{"Outbox", []helpRow{
			{"enter", "open the customer's profile"},
			{"e", "fix the customer's email"},
			{"i / r", "send a fresh invite / password-reset link"},
			{"tab", "all messages, or only those needing attention"},
		}},
		{"Confirmations and forms", []helpRow{
			{"enter / y", "send / save (in an editor or form only enter saves)"},
			{"tab / shift+tab", "form: next / previous field; tab also takes a typo's fix"},
		}},
		{"Everywhere", []helpRow{
			{"esc / n", "cancel, close, go back (never quits from the roster)"},
			{"?", "this help"},
			{"q / ctrl+c", "quit (q: not while typing; asks with marks; profile: back)"},
		}},
	}
	b := &block{w: h.w, s: s}
	keyW := 17
	for i, sec := range sections {
		if i > 0 {
			b.line("")
		}
		b.line(s.Section.Render(sec.title))
		for _, r := range sec.rows {
			b.wrapped("  "+s.Key.Render(pad(r.key, keyW))+" "+r.desc, keyW+3)
		}
	}
	if !h.c.CanManage() {
		b.line("")
		b.wrapped(s.Warning.Render("Your role can browse, read profiles and the outbox; i, I, c, e, r, a, E, A, R and X need an owner or admin."), 0)
	}
	h.pg.SetHeight(h.h - 1)
	h.pg.SetLines(b.lines)
}

func (h *helpScreen) View() string {
	s := h.c.Styles
	more := ""
	if h.pg.more() {
		more = s.Subtle.Render("more below")
	}
	return fit(spread(s.Title.Render("Keys"), more, h.w)+"\n"+h.pg.View(), h.w, h.h)
}

package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	qrcode "github.com/skip2/go-qrcode"

	"frontdesk/claim"
	"frontdesk/store"
	"frontdesk/store/format"
	"frontdesk/tui/inert"
)

// Claiming at the desk: the customer is standing at the desk, so instead
// of an email the profile's c shows a fresh claim link as a QR code, which
// they scan with their phone to set a password there. The link is an invite
// like a resend (claim.Service.ShowAtDesk): it replaces any earlier one and
// has the usual lifetime. The code is on screen for qrShowFor at most, and
// never after the screen closes: a link on a screen is readable by whoever
// passes the desk, and it opens the account to the first who uses it.

// qrShowFor is how long the code stays on screen.
const qrShowFor = 5 * time.Minute

// deskMsg is what ShowAtDesk did.
type deskMsg struct {
	d   *claim.AtDesk
	err error
}

// qrTickMsg wakes the screen to count the code's time down; the time
// itself is read from Deps.Now.
type qrTickMsg struct{}

// qrTickEvery is how often the countdown is redrawn. A variable so that
// tests driving the model step by step need not wait for it.
var qrTickEvery = time.Second

func qrTick() tea.Cmd {
	return tea.Tick(qrTickEvery, func(time.Time) tea.Msg { return qrTickMsg{} })
}

type qrPhase int

const (
	qrConfirm qrPhase = iota // asking first: a new link replaces the old
	qrIssuing                // ShowAtDesk under way
	qrShown                  // the code is on screen
	qrHidden                 // qrShowFor has passed: the code is gone
)

// qrScreen asks before it makes a link, then shows it as a QR code until
// it closes or qrShowFor has passed.
type qrScreen struct {
	c      *Common
	deps   Deps
	cust   *store.Customer
	expiry time.Time // what the confirmation promises (Invites.ExpiryFor)

	phase qrPhase
	spin  spinner.Model

	// While shown: the link's modules and when they appeared. Nothing else
	// keeps the link; hide drops it.
	modules  [][]bool
	shownAt  time.Time
	issued   *store.Invite
	replaced int

	body []string // the drawing of the code and its words, for w×h
	w, h int
}

func newQR(c *Common, deps Deps, cust *store.Customer, expiry time.Time) *qrScreen {
	return &qrScreen{c: c, deps: deps, cust: cust, expiry: expiry, spin: c.Styles.Spinner(), w: c.Width, h: c.Height}
}

func (m *qrScreen) Note() note      { return note{} }
func (m *qrScreen) Typing() bool    { return false }
func (m *qrScreen) busy() bool      { return m.phase == qrIssuing }
func (m *qrScreen) helpKey() string { return fmt.Sprint(m.phase) }

func (m *qrScreen) SetSize(w, h int) {
	if w == m.w && h == m.h && m.body != nil {
		return
	}
	m.w, m.h = w, h
	m.draw()
}

func (m *qrScreen) ShortHelp() []key.Binding {
	k := m.c.KeyMap
	switch m.phase {
	case qrConfirm:
		return []key.Binding{with(k.Confirm, "show the code"), with(k.Back, "cancel"), k.Help}
	case qrIssuing:
		return []key.Binding{k.ForceQuit}
	}
	return []key.Binding{with(k.Back, "close"), k.Help}
}

func (m *qrScreen) FullHelp() [][]key.Binding {
	k := m.c.KeyMap
	return [][]key.Binding{{with(k.Confirm, "make a new link and show it as a QR code"), with(k.Back, "cancel, or close the code")}}
}

func (m *qrScreen) Update(msg tea.Msg) tea.Cmd {
	k := m.c.KeyMap
	switch msg := msg.(type) {
	case tea.KeyMsg:
		switch m.phase {
		case qrConfirm:
			switch {
			case key.Matches(msg, k.Confirm):
				m.phase = qrIssuing
				return tea.Batch(m.spin.Tick, m.issue())
			case key.Matches(msg, k.Back):
				return m.c.nav.pop(&note{"No claim code shown; nothing changed.", toneInfo}, false)
			}
		case qrShown, qrHidden:
			if key.Matches(msg, k.Back) {
				m.hide()
				return m.c.nav.pop(&note{"Claim code closed. The link works once, until " + format.Expiry(m.issued.ExpiresAt, m.c.loc()) + ".", toneInfo}, false)
			}
		}
	case spinner.TickMsg:
		if m.phase == qrIssuing {
			var cmd tea.Cmd
			m.spin, cmd = m.spin.Update(msg)
			return cmd
		}
	case deskMsg:
		return m.shown(msg)
	case qrTickMsg:
		if m.phase != qrShown {
			return nil
		}
		if m.left() <= 0 {
			m.hide()
			m.phase = qrHidden
			m.draw()
			return nil
		}
		return qrTick()
	}
	return nil
}

// issue makes the link: an invite through the one way invites are made,
// with no email.
func (m *qrScreen) issue() tea.Cmd {
	ctx, staff, id, inv := m.c.Ctx, m.c.Staff, m.cust.ID, m.deps.Invites
	return func() tea.Msg {
		d, err := inv.ShowAtDesk(ctx, staff, id)
		return deskMsg{d: d, err: err}
	}
}

func (m *qrScreen) shown(msg deskMsg) tea.Cmd {
	if msg.err != nil {
		n, _ := refusalNote(m.c, msg.err, onProfile, store.PurposeClaim)
		n.text = "No claim code shown: " + n.text
		return m.c.nav.pop(&n, false)
	}
	mods, err := qrModules(msg.d.URL)
	if err != nil {
		// The link is made and lives its normal life; it cannot be shown.
		return m.c.nav.pop(&note{"The link was made but cannot be drawn as a QR code (" + err.Error() + "); send an invite by email instead (i).", toneError}, true)
	}
	m.modules, m.issued, m.replaced = mods, msg.d.Invite, msg.d.Superseded
	m.shownAt = m.deps.Now()
	m.phase = qrShown
	m.draw()
	// Every screen below shows the new invite (the profile's history, the
	// roster's status) while the code is up.
	return tea.Batch(qrTick(), m.c.nav.broadcast(changedMsg{}))
}

// left is how long the code stays on screen.
func (m *qrScreen) left() time.Duration { return qrShowFor - m.deps.Now().Sub(m.shownAt) }

// hide drops the link: nothing of it stays in the session.
func (m *qrScreen) hide() {
	m.modules = nil
	m.body = nil
}

// qrModules encodes link at error correction level L: a screen has no dirt
// or tear to correct, and the lowest level keeps the symbol smallest, so
// its modules are the largest the terminal can draw. A claim link (~75
// bytes) is version 4 or 5: 33 or 37 modules a side.
func qrModules(link string) ([][]bool, error) {
	q, err := qrcode.New(link, qrcode.Low)
	if err != nil {
		return nil, err
	}
	q.DisableBorder = true // the quiet zone is drawn by drawQR, as wide as fits
	return q.Bitmap(), nil
}

// qrFit is the widest quiet zone, from the standard's 4 modules down to 2
// (which phone scanners still read, the code being drawn on its own light
// ground), with which a code of n modules fits cols×rows; ok false when
// none does. In colour a cell holds two modules, one above the other
// (half blocks; terminal cells are about twice as tall as wide, so the
// modules come out square); in ASCII a module is two '#' or two spaces
// wide and one line tall.
func qrFit(n, cols, rows int, ascii bool) (qz, w, h int, ok bool) {
	for qz = 4; qz >= 2; qz-- {
		side := n + 2*qz
		w, h = side, (side+1)/2
		if ascii {
			w, h = 2*side, side
		}
		if w <= cols && h <= rows {
			return qz, w, h, true
		}
	}
	return 0, w, h, false
}

// drawQR draws the modules with a quiet zone of qz modules. Colour: dark
// modules as the foreground and light ones as the background, both set
// explicitly (black on white), so the code reads the same in a light or a
// dark terminal and whatever its colour scheme. ASCII (no colour, no block
// characters): '#' for the modules of the terminal's text colour, a space
// for the others, so a dark terminal draws the light modules with '#' and
// the code stays dark on light rather than inverted.
func drawQR(s *Styles, mods [][]bool, qz int) []string {
	n := len(mods)
	side := n + 2*qz
	dark := func(x, y int) bool {
		x, y = x-qz, y-qz
		return x >= 0 && y >= 0 && x < n && y < n && mods[y][x]
	}
	var out []string
	var b strings.Builder
	if s.ASCII {
		ink := !s.Renderer.HasDarkBackground() // the modules '#' draws
		for y := range side {
			b.Reset()
			for x := range side {
				if dark(x, y) == ink {
					b.WriteString("##")
				} else {
					b.WriteString("  ")
				}
			}
			out = append(out, b.String())
		}
		return out
	}
	for y := 0; y < side; y += 2 {
		b.Reset()
		for x := range side {
			top, bottom := dark(x, y), y+1 < side && dark(x, y+1)
			switch {
			case top && bottom:
				b.WriteString("█")
			case top:
				b.WriteString("▀")
			case bottom:
				b.WriteString("▄")
			default:
				b.WriteByte(' ')
			}
		}
		out = append(out, s.QR.Render(b.String()))
	}
	return out
}

// draw lays the screen out for w×h; View only adds the title.
func (m *qrScreen) draw() {
	s := m.c.Styles
	switch m.phase {
	case qrHidden:
		m.body = m.words(max(min(m.w, 72), 10), []string{
			s.Bold.Render("The code was hidden after " + minutes(qrShowFor) + "."),
			"",
			"The link still works once, until " + format.Expiry(m.issued.ExpiresAt, m.c.loc()) + ": if " + inert.String(m.cust.FirstName) +
				" opened it, they can finish setting their password.",
			"",
			"To show a code again, close this (esc) and press c on the profile; a new link replaces this one.",
		})
		return
	case qrShown:
	default:
		m.body = nil
		return
	}
	rows := m.h - 1 // under the title
	qz, qw, qh, ok := qrFit(len(m.modules), m.w, rows, s.ASCII)
	if !ok {
		need := fmt.Sprintf("%d×%d", qw, qh+1+2)
		if s.ASCII {
			need = fmt.Sprintf("%dx%d", qw, qh+1+2)
		}
		lines := []string{s.Warning.Render("This window is too small to show the code: it needs " + need + " characters. Make it larger; the code appears at once.")}
		if s.ASCII {
			lines = append(lines, "", "Without colours or block characters (NO_COLOR, TERM=dumb) the code is drawn with # and needs more room than in colour.")
		}
		m.body = m.words(max(m.w, 10), lines)
		return
	}
	code := drawQR(s, m.modules, qz)
	tw := m.w - qw - 2
	if tw < 20 {
		m.body = code
		return
	}
	text := []string{
		s.Bold.Render("Scan with the phone's camera"),
		"to set a password for " + inert.String(m.cust.Email) + ".",
		"",
		"The link works once, until " + format.Expiry(m.issued.ExpiresAt, m.c.loc()) + ".",
	}
	if m.replaced > 0 {
		text = append(text, "The earlier link no longer works.")
	}
	text = append(text, "", "No email was sent.", "", "The code hides after "+minutes(qrShowFor)+", or when you press esc.")
	right := m.words(tw, text)
	m.body = make([]string, len(code))
	for i := range code {
		m.body[i] = code[i]
		if i < len(right) {
			m.body[i] += "  " + right[i]
		}
	}
}

// words wraps paragraphs to width w.
func (m *qrScreen) words(w int, paras []string) []string {
	var out []string
	for _, p := range paras {
		out = append(out, wrap(p, w)...)
	}
	return out
}

func minutes(d time.Duration) string { return fmt.Sprintf("%d minutes", int(d/time.Minute)) }

func (m *qrScreen) View() string {
	s := m.c.Styles
	name := inert.String(m.cust.Name())
	switch m.phase {
	case qrConfirm, qrIssuing:
		return m.confirmView()
	case qrHidden:
		return fit(s.Title.Render("Claim code: "+name)+"\n"+joinLines(m.body), m.w, m.h)
	}
	left := max(m.left(), 0)
	right := s.Subtle.Render(fmt.Sprintf("hides in %d:%02d", int(left/time.Minute), int(left%time.Minute/time.Second)))
	return fit(spread(s.Title.Render("Scan to claim: "+name), right, m.w)+"\n"+joinLines(m.body), m.w, m.h)
}

// confirmView asks first, saying what the new link does to the old one
// and how long the code and the link last.
func (m *qrScreen) confirmView() string {
	s := m.c.Styles
	name := inert.String(m.cust.Name())
	var lines []string
	inner := max(min(m.w-4, 72), 10)
	add := func(text string) { lines = append(lines, wrap(text, inner)...) }
	add(s.Bold.Render("Show " + name + " a claim code to scan here?"))
	add("")
	b := &block{w: inner, s: s}
	b.field("Account", inert.String(m.cust.Email))
	b.field("Link expires", format.Expiry(m.expiry, m.c.loc()))
	replaces := "A new link replaces any earlier one."
	if m.cust.HasLiveInvite() {
		replaces = s.Warning.Render("A new link replaces any earlier one: the invite sent " + format.Day(m.cust.InviteSentAt, m.c.loc()) + " stops working.")
	}
	b.field("Earlier links", replaces)
	b.field("On screen", "The code shows for "+minutes(qrShowFor)+" at most, and goes when you close it; the link works until it expires or is used.")
	b.field("Email", "None is sent: "+inert.String(m.cust.FirstName)+" scans the code here.")
	lines = append(lines, b.lines...)
	add("")
	if m.phase == qrIssuing {
		add(m.spin.View() + " Making the link" + s.Glyphs.Ellipsis)
	} else {
		k := m.c.KeyMap
		add(s.Key.Render(k.Confirm.Help().Key) + " show the code" + s.Glyphs.Sep + s.Key.Render(k.Back.Help().Key) + " cancel")
	}
	box := s.Box.Width(inner + 2).Render(joinLines(lines))
	return fit(s.Renderer.Place(m.w, m.h, 0.5, 0.4, box), m.w, m.h)
}

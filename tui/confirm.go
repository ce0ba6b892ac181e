package tui

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"frontdesk/claim"
	"frontdesk/store"
	"frontdesk/store/format"
	"frontdesk/tui/inert"
)

// sentMsg is what became of the link: claim.Send's outcome, or the error
// that kept it from running.
type sentMsg struct {
	outcome claim.Outcome
	err     error
}

// confirmScreen asks before an invite (or, for purpose reset, a
// password-reset link) goes out, naming the address, the expiry, on a
// resend the link that stops working, and what the invite rules say to ask
// first (claim.Cautions: the last link failed; the third in an hour); then
// sends it with a spinner and goes back with the outcome in words.
type confirmScreen struct {
	c        *Common
	deps     Deps
	from     where
	cust     *store.Customer
	purpose  store.Purpose
	expiry   time.Time
	cautions []claim.Caution

	// addr warns of a typo or a domain without mail before an invite
	// goes; it never holds the send.
	addr addrCheck

	sending bool
	spin    spinner.Model
	w, h    int
	// was is the address shown before a change made elsewhere replaced it
	// (see liveMsg), "" while it has not.
	was string
}

func newConfirm(c *Common, deps Deps, cust *store.Customer, purpose store.Purpose, expiry time.Time, cautions []claim.Caution, from where) *confirmScreen {
	return &confirmScreen{c: c, deps: deps, cust: cust, purpose: purpose, expiry: expiry, cautions: cautions, from: from, addr: newAddrCheck(c, deps),
		spin: c.Styles.Spinner(), w: c.Width, h: c.Height}
}

// Init checks the address an invite goes to. A reset link goes to the
// address the customer signs in with, which has already received mail.
func (m *confirmScreen) Init() tea.Cmd {
	if m.reset() {
		return nil
	}
	return m.addr.set(m.cust.Email)
}

func (m *confirmScreen) reset() bool { return m.purpose == store.PurposeReset }

// what names the email in the outcome: "Invite sent to …".
func (m *confirmScreen) what() string {
	if m.reset() {
		return "Password-reset link"
	}
	return "Invite"
}

func (m *confirmScreen) busy() bool { return m.sending }
func (m *confirmScreen) Note() note { return note{} }

func (m *confirmScreen) Typing() bool     { return false }
func (m *confirmScreen) SetSize(w, h int) { m.w, m.h = w, h }
func (m *confirmScreen) helpKey() string {
	if m.sending {
		return "sending"
	}
	return ""
}

func (m *confirmScreen) ShortHelp() []key.Binding {
	k := m.c.KeyMap
	if m.sending {
		return []key.Binding{k.ForceQuit}
	}
	return []key.Binding{k.Confirm, with(k.Back, "cancel"), k.Help}
}

func (m *confirmScreen) FullHelp() [][]key.Binding {
	k := m.c.KeyMap
	if m.reset() {
		return [][]key.Binding{{with(k.Confirm, "send the password-reset link"), with(k.Back, "cancel")}}
	}
	return [][]key.Binding{{with(k.Confirm, "send the invite"), with(k.Back, "cancel")}}
}

// resend: the customer had an invite before; live says its link still
// works (and will stop). Reset links are not resends: see View.
func (m *confirmScreen) resend() (resend, live bool) {
	if m.reset() {
		return false, false
	}
	return !m.cust.InviteSentAt.IsZero() && m.cust.Status != store.StatusNotInvited, m.cust.HasLiveInvite()
}

func (m *confirmScreen) Update(msg tea.Msg) tea.Cmd {
	k := m.c.KeyMap
	switch msg := msg.(type) {
	case tea.KeyMsg:
		if m.sending {
			return nil
		}
		switch {
		case key.Matches(msg, k.Confirm):
			m.sending = true
			return tea.Batch(m.spin.Tick, m.send())
		case key.Matches(msg, k.Back):
			return m.c.nav.pop(&note{m.what() + " not sent.", toneInfo}, false)
		}
	case spinner.TickMsg:
		if m.sending {
			var cmd tea.Cmd
			m.spin, cmd = m.spin.Update(msg)
			return cmd
		}
	case sentMsg:
		m.sending = false
		n := m.outcome(msg)
		return m.c.nav.pop(&n, true)
	case addressCheckedMsg:
		return m.addr.answered(msg)
	case liveMsg:
		// The customer changed elsewhere (another desk fixed the email,
		// they claimed meanwhile) while this asks: ask the rules again,
		// with fresh data, so what it shows is what a send would do.
		if !m.sending && slices.ContainsFunc(msg.changes, func(c store.Change) bool { return c.ConcernsCustomer(m.cust.ID) }) {
			if m.reset() {
				return checkReset(m.c, m.deps, m.cust.ID)
			}
			return checkInvite(m.c, m.deps, m.cust.ID)
		}
	case checkMsg:
		if m.sending {
			return nil // the send itself checks again
		}
		if n, refused := refusalNote(m.c, msg.err, m.from, msg.purpose); refused {
			n.text = m.what() + " not sent: " + n.text
			return m.c.nav.pop(&n, false)
		}
		changed := msg.customer.Email != m.cust.Email
		if changed && m.was == "" {
			m.was = m.cust.Email
		}
		m.cust, m.expiry, m.cautions = msg.customer, msg.expiry, msg.cautions
		if changed && !m.reset() {
			return m.addr.set(m.cust.Email) // the new address is checked too
		}
	}
	return nil
}

// send issues the link and makes the first delivery attempt, within the
// window the desk waits (deliverTimeout): a slow mail server must not hold
// the desk, and the outbox worker keeps trying after.
func (m *confirmScreen) send() tea.Cmd {
	ctx, staff, id, inv := m.c.Ctx, m.c.Staff, m.cust.ID, m.deps.Invites
	opt := claim.SendOptions{Purpose: m.purpose, Window: deliverTimeout}
	return func() tea.Msg {
		outs, err := inv.Send(ctx, staff, []int64{id}, opt)
		if err != nil {
			return sentMsg{err: err}
		}
		return sentMsg{outcome: outs[0]}
	}
}

// outcome words what happened, from the one wording table: "Invite sent to
// jane@example.com — link expires Mon 30 Nov 2026 at 14:05 GMT.", or queued
// with the reason, or failed with the server's words, or the refusal.
func (m *confirmScreen) outcome(msg sentMsg) note {
	var r *claim.Refusal
	switch {
	case errors.As(msg.err, &r):
		return note{"Not sent: " + m.c.refusalText(r, m.from), toneWarning}
	case msg.err != nil:
		return note{"Not sent: " + say(msg.err), toneError}
	}
	o := &msg.outcome
	text := inert.String(m.c.words(m.from).Outcome(o))
	switch o.Result {
	case claim.Delivered:
		return note{text, toneSuccess}
	case claim.Failed:
		return note{text, toneError}
	case claim.Refused:
		return note{"Not sent: " + text, toneWarning}
	}
	return note{text, toneWarning}
}

func (m *confirmScreen) View() string {
	s := m.c.Styles
	name := inert.String(m.cust.Name())
	resend, live := m.resend()
	var lines []string
	inner := max(min(m.w-4, 72), 10)
	add := func(text string) { lines = append(lines, wrap(text, inner)...) }
	switch {
	case m.reset():
		add(s.Bold.Render("Send " + name + " a password-reset link?"))
	case resend:
		add(s.Bold.Render("Send " + name + " a new invite?"))
	default:
		add(s.Bold.Render("Invite " + name + " to claim their account?"))
	}
	add("")
	b := &block{w: inner, s: s}
	b.field("To", inert.String(m.cust.Email))
	if m.was != "" && m.was != m.cust.Email {
		b.field("", s.Warning.Render("Changed from "+inert.String(m.was)+" while this was open: check it before sending."))
	}
	hint := ""
	if m.addr.suggestion() != "" {
		hint = " To fix it, cancel and edit the email (e on the profile)."
	}
	for _, n := range m.addr.notes(hint) {
		b.field("", s.note(n))
	}
	b.field("Link expires", format.Expiry(m.expiry, m.c.loc()))
	switch {
	case m.reset():
		// Whether a reset link is live is not part of the customer's row;
		// any one is, and stops working.
		b.field("Earlier links", "Any reset link sent before stops working; the password stays until they choose a new one.")
	case live:
		b.field("Resend", s.Warning.Render("The link sent "+format.Day(m.cust.InviteSentAt, m.c.loc())+" stops working."))
	case resend && m.cust.Status == store.StatusFailed:
		b.field("Resend", "The earlier link never reached them and no longer works.")
	case resend:
		b.field("Resend", "The earlier link has already expired.")
	}
	words := m.c.words(m.from)
	for i := range m.cautions {
		ca := &m.cautions[i]
		b.field("Check", s.Warning.Render(inert.String(words.Caution(ca))))
		if ca.Kind == claim.CautionUndelivered && ca.Reply != "" {
			// The server's own words, as they came: staff quote them to
			// the customer or their mail provider. Two lines at most.
			reply := wrap(inert.String(ca.Reply), max(inner-labelW, 10))
			if len(reply) > 2 {
				reply = append(reply[:1], clip(reply[1], max(inner-labelW-len(s.Glyphs.Ellipsis), 1))+s.Glyphs.Ellipsis)
			}
			b.field("Server said", s.Subtle.Render(strings.Join(reply, " ")))
		}
	}
	lines = append(lines, b.lines...)
	add("")
	if m.sending {
		add(m.spin.View() + " Sending to " + inert.String(m.cust.Email) + s.Glyphs.Ellipsis)
	} else {
		k := m.c.KeyMap
		add(s.Key.Render(k.Confirm.Help().Key) + " send" + s.Glyphs.Sep + s.Key.Render(k.Back.Help().Key) + " cancel")
	}
	box := s.Box.Width(inner + 2).Render(joinLines(lines))
	return fit(s.Renderer.Place(m.w, m.h, 0.5, 0.4, box), m.w, m.h)
}

package tui

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"frontdesk/claim"
	"frontdesk/mailer"
	"frontdesk/store"
	"frontdesk/tui/inert"
)

// sentMsg is what became of one invite: queued (or refused), then the first
// delivery attempt.
type sentMsg struct {
	sent     *claim.Sent
	outcome  mailer.Outcome
	err      error // the invite itself
	derr     error // the delivery attempt could not run
	timedOut bool  // the attempt outlasted deliverTimeout
}

// confirmScreen asks before an invite (or, for purpose reset, a
// password-reset link) goes out, naming the address, the expiry and, on a
// resend, the link that stops working; then sends it with a spinner and
// goes back with the outcome in words.
type confirmScreen struct {
	c       *Common
	deps    Deps
	from    where
	cust    *store.Customer
	purpose store.Purpose
	expiry  time.Time

	sending bool
	spin    spinner.Model
	w, h    int
}

func newConfirm(c *Common, deps Deps, cust *store.Customer, purpose store.Purpose, expiry time.Time, from where) *confirmScreen {
	return &confirmScreen{c: c, deps: deps, cust: cust, purpose: purpose, expiry: expiry, from: from, spin: c.Styles.Spinner(), w: c.Width, h: c.Height}
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
	}
	return nil
}

// send queues the invite and makes the first delivery attempt, time-boxed:
// a slow mail server must not hold the desk, and the outbox worker keeps
// trying after.
func (m *confirmScreen) send() tea.Cmd {
	ctx, staff, id, inv, del := m.c.Ctx, m.c.Staff, m.cust.ID, m.deps.Invites, m.deps.Deliverer
	send := inv.Invite
	if m.reset() {
		send = inv.SendReset
	}
	return func() tea.Msg {
		sent, err := send(ctx, staff, id)
		if err != nil {
			return sentMsg{err: err}
		}
		dctx, cancel := context.WithTimeout(ctx, deliverTimeout)
		defer cancel()
		outs, derr := del.Deliver(dctx, sent.OutboxID)
		msg := sentMsg{sent: sent, derr: derr, timedOut: errors.Is(dctx.Err(), context.DeadlineExceeded)}
		if len(outs) > 0 {
			msg.outcome = outs[0]
		}
		return msg
	}
}

// outcome words what happened: "Invite sent to jane@example.com — link
// expires Mon 30 Nov 14:05 GMT", or queued with the server's words, or
// failed with them.
func (m *confirmScreen) outcome(msg sentMsg) note {
	g, what := m.c.Styles.Glyphs, m.what()
	if msg.err != nil {
		var r *claim.Refusal
		if errors.As(msg.err, &r) {
			return note{"Not sent: " + refusalText(r, m.from, g), toneWarning}
		}
		return note{"Not sent: " + say(msg.err), toneError}
	}
	to := inert.String(msg.sent.Invite.Email)
	expires := "The link expires " + claim.ExpiryText(msg.sent.Invite.ExpiresAt, m.c.loc()) + "."
	o := msg.outcome
	switch {
	case msg.derr != nil:
		return note{what + " to " + to + " is queued, but delivery could not start: " + inert.String(msg.derr.Error()) + "; the outbox will retry. " + expires, toneWarning}
	case o.Status == store.OutboxSent:
		t := what + " sent to " + to + g.Dash + "link expires " + claim.ExpiryText(msg.sent.Invite.ExpiresAt, m.c.loc())
		switch {
		case msg.sent.Superseded > 0 && m.reset():
			t += ". The earlier reset link no longer works."
		case msg.sent.Superseded > 0:
			t += ". The earlier link no longer works."
		}
		return note{t, toneSuccess}
	case o.Status == store.OutboxFailed:
		return note{what + " to " + to + " failed: " + strings.TrimSuffix(inert.String(o.Err), ".") + g.Dash + "check the address (e on the profile) and send again.", toneError}
	case msg.timedOut && o.Err == "":
		return note{what + " to " + to + " is queued: the mail server did not answer within " + deliverTimeout.String() + "; it will retry. " + expires, toneWarning}
	}
	// A timed-out attempt lands here too: the transport's words say how
	// long the server was given and what its silence suggests.
	why := inert.String(o.Err)
	if why == "" {
		why = "not sent yet"
	}
	t := what + " to " + to + " is queued: " + strings.TrimSuffix(why, ".") + "; it will retry"
	if !o.NextAttempt.IsZero() {
		t += " at " + o.NextAttempt.In(m.c.loc()).Format("15:04")
	}
	return note{t + ". " + expires, toneWarning}
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
	b.field("Link expires", claim.ExpiryText(m.expiry, m.c.loc()))
	switch {
	case m.reset():
		// Whether a reset link is live is not part of the customer's row;
		// any one is, and stops working.
		b.field("Earlier links", "Any reset link sent before stops working; the password stays until they choose a new one.")
	case live:
		b.field("Resend", s.Warning.Render("The link sent "+dayShort(m.cust.InviteSentAt, m.c.loc())+" stops working."))
	case resend:
		b.field("Resend", "The earlier link has already expired.")
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

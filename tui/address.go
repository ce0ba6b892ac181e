package tui

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"frontdesk/claim"
	"frontdesk/store"
	"frontdesk/tui/inert"
)

// addressCheckedMsg is the invite service's answer about one address's
// domain, for the screen that asked.
type addressCheckedMsg struct {
	domain string // lower-cased: the key of the answer
	check  claim.AddressCheck
}

// addrCheck is a screen's check of the address it shows (the email editor,
// as it is typed; the invite confirmation, for the address the link goes
// to): claim's warnings, never a block. The typo comes from the address
// alone, at once. The DNS answer comes from a command: one lookup at a
// time, and when it answers the next is for whatever the address is by
// then, so typing fast asks about the domain typed rather than each prefix
// of it, and nothing ever waits for DNS. Answers are kept per domain, so
// going back to a domain already asked about shows its answer at once.
type addrCheck struct {
	c       *Common
	deps    Deps
	email   string                        // the address now
	typo    claim.AddressCheck            // SuggestAddress(email) while email is valid
	answers map[string]claim.AddressCheck // by lower-cased domain
	asking  string                        // the domain being looked up, "" when none
}

func newAddrCheck(c *Common, deps Deps) addrCheck { return addrCheck{c: c, deps: deps} }

// set makes email the address checked, returning the lookup to start, if
// one is to start now.
func (a *addrCheck) set(email string) tea.Cmd {
	a.email, a.typo = email, claim.AddressCheck{}
	if email != "" && store.ValidateEmail(email) == nil {
		a.typo = claim.SuggestAddress(email)
	}
	return a.next()
}

// domain is the lower-cased domain of a valid address now, "" otherwise.
func (a *addrCheck) domain() string { return strings.ToLower(a.typo.Domain) }

// suggestion is the address the typo warning suggests, "" when none.
func (a *addrCheck) suggestion() string { return a.typo.Suggestion }

func (a *addrCheck) next() tea.Cmd {
	d := a.domain()
	if a.asking != "" || d == "" {
		return nil
	}
	if _, ok := a.answers[d]; ok {
		return nil
	}
	a.asking = d
	ctx, inv, email := a.c.Ctx, a.deps.Invites, a.email
	return func() tea.Msg { return addressCheckedMsg{domain: d, check: inv.CheckAddress(ctx, email)} }
}

// answered keeps an answer and starts the lookup the address now needs.
func (a *addrCheck) answered(msg addressCheckedMsg) tea.Cmd {
	if a.answers == nil {
		a.answers = map[string]claim.AddressCheck{}
	}
	a.answers[msg.domain] = msg.check
	if a.asking == msg.domain {
		a.asking = ""
	}
	return a.next()
}

// notes are the lines to show under the address: the typo with hint after
// it, then what DNS said (or that it is being asked).
func (a *addrCheck) notes(hint string) []note {
	var out []note
	if w := a.typo.Typo(); w != "" {
		out = append(out, note{inert.String(w) + hint, toneWarning})
	}
	d := a.domain()
	if d == "" {
		return out
	}
	ans, ok := a.answers[d]
	switch {
	case !ok:
		// Asked now, or next once the lookup under way answers.
		out = append(out, note{"Checking " + inert.String(a.typo.Domain) + " for a mail server" + a.c.Styles.Glyphs.Ellipsis, toneInfo})
	case ans.Warning() != "":
		out = append(out, note{inert.String(ans.Warning()), toneWarning})
	case ans.Fine() != "":
		out = append(out, note{inert.String(ans.Fine()), toneInfo})
	}
	return out
}

package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"frontdesk/claim/dnstest"
	"frontdesk/store"
)

// dnsZone is what the in-process DNS server answers: gmail.com and the
// demo's example.com, .net and .org have mail servers, aonly.example only an address,
// silent.example never answers, and nothing else exists.
var dnsZone = map[string]dnstest.Domain{
	"gmail.com":      {MX: []string{"gmail-smtp-in.l.google.com"}},
	"example.com":    {MX: []string{"mx.example.com"}},
	"example.net":    {MX: []string{"mx.example.net"}},
	"example.org":    {MX: []string{"mx.example.org"}},
	"aonly.example":  {A: []string{"192.0.2.10"}},
	"silent.example": {Silent: true},
}

// withDNS makes the fixture's invite service ask an in-process DNS server.
func (f *fixture) withDNS(t *testing.T, timeout time.Duration) *dnstest.Server {
	t.Helper()
	dns := dnstest.Start(t, dnsZone)
	f.svc.Resolver, f.svc.DNSTimeout = dns.Resolver(), timeout
	return dns
}

// oneLine is the view with its line breaks, padding and box borders
// folded, so a warning wrapped over lines reads whole.
func oneLine(v string) string {
	var words []string
	for _, l := range strings.Split(v, "\n") {
		l = strings.TrimSpace(l)
		l = strings.TrimPrefix(l, "| ")
		l = strings.TrimSuffix(l, " |")
		words = append(words, strings.Fields(l)...)
	}
	return strings.Join(words, " ")
}

// The editor warns of a likely typo as it is typed, and of a domain with no
// mail server once DNS has answered; tab takes the suggestion, whose domain
// is checked in turn. Neither warning stops a save.
func TestEmailEditorChecksTheAddress(t *testing.T) {
	f := newFixture(t, 60)
	f.withDNS(t, 2*time.Second)
	m, c := f.openProfile(t, f.owner, store.StatusNotInvited)
	drive(t, m, keys("e")...)
	// The address it opens with is checked too.
	if v := oneLine(m.View()); !strings.Contains(v, c.Email[strings.IndexByte(c.Email, '@')+1:]+" receives email.") {
		t.Fatalf("the editor did not check the current address:\n%s", m.View())
	}

	drive(t, m, keys("<ctrl+u>", "jane.doe@gmial.com")...)
	v := oneLine(m.View())
	for _, want := range []string{
		"gmial.com looks like a typo: did you mean gmail.com? Press tab to use jane.doe@gmail.com.",
		"gmial.com has no mail server (no MX or address record in DNS): email to it cannot arrive.",
		"tab use gmail.com", // the footer's short help
	} {
		if !strings.Contains(v, want) {
			t.Fatalf("editor lacks %q:\n%s", want, m.View())
		}
	}

	drive(t, m, keys("<tab>")...)
	v = oneLine(m.View())
	if !strings.Contains(v, "> jane.doe@gmail.com|") || !strings.Contains(v, "gmail.com receives email.") ||
		strings.Contains(v, "typo") || strings.Contains(v, "tab use") {
		t.Fatalf("after tab:\n%s", m.View())
	}
	// tab with nothing to suggest changes nothing.
	drive(t, m, keys("<tab>")...)
	if !strings.Contains(oneLine(m.View()), "> jane.doe@gmail.com|") {
		t.Fatalf("a second tab:\n%s", m.View())
	}

	// An address-only domain receives mail; one that does not exist does
	// not, and is saved all the same when staff mean it.
	drive(t, m, keys("<ctrl+u>", "jane@aonly.example")...)
	if v := oneLine(m.View()); !strings.Contains(v, "aonly.example receives email.") {
		t.Fatalf("A-only domain:\n%s", m.View())
	}
	drive(t, m, keys("<ctrl+u>", "jane@nowhere.example")...)
	if v := oneLine(m.View()); !strings.Contains(v, "nowhere.example has no mail server") {
		t.Fatalf("NXDOMAIN:\n%s", m.View())
	}
	drive(t, m, keys("<enter>")...)
	if got := m.top().Note().text; got != "Email changed to jane@nowhere.example. Press i to send an invite." {
		t.Fatalf("saving despite the warning: %s", got)
	}
	if got, _ := f.db.Customer(context.Background(), f.org.ID, c.ID); got.Email != "jane@nowhere.example" {
		t.Fatalf("saved %q", got.Email)
	}
}

// The invite confirmation names the same warnings for the address the link
// goes to, and y sends anyway.
func TestConfirmationChecksTheAddress(t *testing.T) {
	f := newFixture(t, 60)
	f.withDNS(t, 2*time.Second)
	ctx := context.Background()
	c := f.customer(t, store.StatusNotInvited)
	if _, err := f.svc.ChangeEmail(ctx, f.owner, c.ID, "jane.doe@gmial.com"); err != nil {
		t.Fatal(err)
	}
	m, _ := f.openProfile(t, f.owner, store.StatusNotInvited)
	drive(t, m, keys("i")...)
	v := oneLine(m.View())
	for _, want := range []string{
		"Invite " + c.Name() + " to claim their account?",
		"gmial.com looks like a typo: did you mean gmail.com? To fix it, cancel and edit the email (e on the profile).",
		"gmial.com has no mail server",
	} {
		if !strings.Contains(v, want) {
			t.Fatalf("confirmation lacks %q:\n%s", want, m.View())
		}
	}
	drive(t, m, keys("y")...)
	if got := m.top().Note().text; !strings.HasPrefix(got, "Invite sent to jane.doe@gmial.com") {
		t.Fatalf("sending despite the warning: %s", got)
	}

	// A good address says so, from the roster too.
	other := f.customer(t, store.StatusNotInvited)
	m = f.model(f.owner, 120, 40)
	drive(t, m, keys("<tab>", "i")...)
	v = oneLine(m.View())
	if !strings.Contains(v, "To "+other.Email) || !strings.Contains(v, other.Email[strings.IndexByte(other.Email, '@')+1:]+" receives email.") || strings.Contains(v, "typo") {
		t.Fatalf("confirmation for %s:\n%s", other.Email, m.View())
	}
}

// A DNS server that never answers does not hold the editor: what is typed
// shows at once while the lookup waits, and when it times out the editor
// says it could not check. Saving never waits for it.
func TestEmailEditorSilentDNS(t *testing.T) {
	f := newFixture(t, 60)
	const timeout = 1500 * time.Millisecond
	f.withDNS(t, timeout)
	c := f.customer(t, store.StatusNotInvited)
	s := startTUI(t, f.model(f.owner, 120, 40), 120, 40)
	waitFor(t, s, "Harbor Yoga")
	typeKeys(s, "<tab>", "<enter>")
	waitFor(t, s, "Member since", c.Name())
	typeKeys(s, "e", "<ctrl+u>", "jo@silent.example")
	waitFor(t, s, "Checking silent.example for a mail server")
	start := time.Now()
	typeKeys(s, "<home>", "x")
	waitFor(t, s, "> x|jo@silent.example")
	if took := time.Since(start); took > timeout/2 {
		t.Errorf("the editor took %s to show a key typed while DNS was silent", took)
	}
	waitFor(t, s, "Could not check whether silent.example receives email: DNS did not answer in time.")
	typeKeys(s, "<enter>")
	waitFor(t, s, "Email changed to xjo@silent.example.")
	if got, _ := f.db.Customer(context.Background(), f.org.ID, c.ID); got.Email != "xjo@silent.example" {
		t.Fatalf("saved %q", got.Email)
	}
}

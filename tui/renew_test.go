package tui

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"frontdesk/claim"
	"frontdesk/store"
)

// A new link the customer asked for from the page of an expired one shows
// in the invite history as theirs, not as staff's or frontdesk's.
func TestProfileShowsCustomersOwnRequest(t *testing.T) {
	f := newFixture(t, 60)
	ctx := context.Background()
	c := f.customer(t, store.StatusNotInvited)
	sent, err := f.svc.Issue(ctx, f.owner, c.ID, store.PurposeClaim)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.worker.Deliver(ctx, sent.OutboxID); err != nil {
		t.Fatal(err)
	}
	// The link as the customer has it: from the email.
	mails := f.mails(t)
	eml := mails[len(mails)-1]
	token := regexp.MustCompile(`/claim/([A-Za-z0-9_-]{43})`).FindStringSubmatch(eml)
	if token == nil {
		t.Fatalf("no link in\n%s", eml)
	}
	later := fixedNow.Add(8 * 24 * time.Hour)
	f.db.Now = func() time.Time { return later }
	res, err := f.svc.RenewLink(ctx, claim.RenewRequest{Token: token[1], Addr: "203.0.113.9"})
	if err != nil || res.Outcome == nil || res.Outcome.Result != claim.Queued {
		t.Fatalf("renewal: %+v, %v", res, err)
	}

	m := f.model(f.owner, 120, 40)
	drive(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	drive(t, m, keys("/", strings.ToLower(c.Name()), "<enter>", "<enter>")...)
	v := oneLine(m.View())
	for _, want := range []string{
		"Tue 1 Dec 2026, 14:05 Invite by the customer to " + c.Email,
		"Mon 23 Nov 2026, 14:05 Invite by " + f.owner.Name + " to " + c.Email,
	} {
		if !strings.Contains(v, want) {
			t.Fatalf("profile lacks %q:\n%s", want, m.View())
		}
	}
}

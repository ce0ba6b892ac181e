package web

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"frontdesk/store"
)

// openedAt is when the customer's latest link of purpose was first opened.
func (f *fixture) openedAt(c *store.Customer, purpose store.Purpose) time.Time {
	f.t.Helper()
	invs, err := f.db.Invites(context.Background(), c.OrgID, c.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, inv := range invs {
		if inv.Purpose == purpose {
			return inv.OpenedAt
		}
	}
	f.t.Fatalf("%s has no %s link", c.Name(), purpose)
	return time.Time{}
}

// The first GET of an emailed link is recorded (staff see "opened …,
// password not set yet"); later ones change nothing, and the link still
// works: opening never uses it.
func TestOpeningALinkIsRecorded(t *testing.T) {
	f := newFixture(t)
	jane := f.customer(f.org, "Jane", "Doe", "jane@example.com")
	token := f.invite(jane)
	if got := f.openedAt(jane, store.PurposeClaim); !got.IsZero() {
		t.Fatalf("opened at %v before anyone opened it", got)
	}
	first := f.db.Now()
	wantStatus(t, f.browser().get("/claim/"+token), http.StatusSeeOther) // a mail scanner, say
	if got := f.openedAt(jane, store.PurposeClaim); !got.Equal(first) {
		t.Fatalf("opened at %v, want %v", got, first)
	}
	f.advance(time.Hour)
	b := f.browser()
	p := b.follow(b.get("/claim/" + token)) // the customer, an hour later
	wantStatus(t, p, http.StatusOK)
	if got := f.openedAt(jane, store.PurposeClaim); !got.Equal(first) {
		t.Errorf("a second opening moved opened_at to %v", got)
	}
	entries, err := f.db.AuditLog(context.Background(), f.org.ID, jane.ID, 20)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Action == "invite.opened" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d audit rows for the openings, want 1", n)
	}
	p = b.post("/claim", url.Values{"username": {"jane@example.com"}, "password": {goodPassword}, "confirm": {goodPassword}})
	wantStatus(t, p, http.StatusSeeOther)

	// A reset link's first opening too.
	f.advance(time.Hour)
	sent, err := f.svc.Issue(context.Background(), f.owner, jane.ID, store.PurposeReset)
	if err != nil {
		t.Fatal(err)
	}
	reset := f.outboxToken(sent.OutboxID)
	wantStatus(t, f.browser().get("/reset/"+reset), http.StatusSeeOther)
	if got := f.openedAt(jane, store.PurposeReset); !got.Equal(f.db.Now()) {
		t.Errorf("reset link opened at %v, want %v", got, f.db.Now())
	}

	// A made-up token records nothing anywhere.
	before, _ := f.db.AuditLog(context.Background(), f.org.ID, 0, 100)
	other := "A"
	if token[0] == 'A' {
		other = "B"
	}
	f.browser().get("/claim/" + other + token[1:])
	if after, _ := f.db.AuditLog(context.Background(), f.org.ID, 0, 100); len(after) != len(before) {
		t.Errorf("an unknown token wrote %d audit rows", len(after)-len(before))
	}
}

package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"frontdesk/store"
)

// A reminder shows in the profile's invite history as what it is: sent by
// frontdesk, its link live until the invite's expiry, the invite's link
// replaced by it.
func TestProfileShowsReminder(t *testing.T) {
	f := newFixture(t, 60)
	ctx := context.Background()
	c := f.customer(t, store.StatusNotInvited)
	sent, err := f.svc.Issue(ctx, f.owner, c.ID, store.PurposeClaim)
	if err != nil {
		t.Fatal(err)
	}
	if outs, err := f.worker.Deliver(ctx, sent.OutboxID); err != nil || outs[0].Status != store.OutboxSent {
		t.Fatalf("delivering the invite: %+v, %v", outs, err)
	}
	f.org.RemindAfter = 72 * time.Hour
	if err := f.db.Tx(ctx, func(tx *store.Tx) error { return tx.UpdateOrg(ctx, f.org) }); err != nil {
		t.Fatal(err)
	}
	later := fixedNow.Add(73 * time.Hour)
	f.db.Now = func() time.Time { return later }
	if _, err := f.svc.SendReminders(ctx); err != nil {
		t.Fatal(err)
	}

	m := f.model(f.owner, 120, 40)
	drive(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	drive(t, m, keys("/", strings.ToLower(c.Name()), "<enter>", "<enter>")...)
	v := oneLine(m.View())
	for _, want := range []string{
		"Thu 26 Nov 2026, 15:05 Reminder by frontdesk to " + c.Email,
		"link live, expires Mon 30 Nov 2026 at 14:05 GMT",
		"Mon 23 Nov 2026, 14:05 Invite by " + f.owner.Name + " to " + c.Email,
		"revoked Thu 26 Nov 2026, 15:05: a newer invite was sent",
	} {
		if !strings.Contains(v, want) {
			t.Fatalf("profile lacks %q:\n%s", want, m.View())
		}
	}
}

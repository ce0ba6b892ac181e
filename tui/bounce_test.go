package tui

import (
	"context"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"frontdesk/store"
	"frontdesk/store/storetest"
)

// An invite a provider reported bounced after delivery shows in the
// profile's history as bounced, with the provider's words.
func TestProfileShowsABouncedInvite(t *testing.T) {
	f := newFixture(t, 60)
	c := f.customer(t, store.StatusInvited)
	var mid string
	storetest.Scan(t, f.db, `SELECT o.message_id FROM invites i JOIN outbox o ON o.id = i.outbox_id WHERE i.customer_id = ? ORDER BY i.id DESC LIMIT 1`, []any{c.ID}, &mid)
	storetest.Write(t, f.db, func(tx *store.Tx) (*store.Bounced, error) {
		return tx.RecordBounce(context.Background(), &store.Bounce{Provider: "Postmark", MessageID: mid, Permanent: true, Reason: "smtp;550 5.1.1 Unknown user"})
	})
	m := f.model(f.admin, 120, 40)
	drive(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	drive(t, m, keys("/", c.Email, "<enter>", "<enter>")...)
	v := m.View()
	if !strings.Contains(v, c.Name()) || !strings.Contains(v, "mail bounced: ") || !strings.Contains(v, "(smtp;550 5.1.1 Unknown user)") || !strings.Contains(v, "link never reached them") {
		t.Fatalf("the profile of %s does not show the bounce:\n%s", c.Name(), v)
	}
}

package tui

import (
	"context"
	"strings"
	"testing"

	"frontdesk/store"
)

// At 80 columns (the least DESIGN §4 draws for) an email of up to 44
// characters is shown whole beside the status, the name giving way first;
// wide terminals show the phone and the last visit rather than empty space.
func TestRosterWidthPriorities(t *testing.T) {
	f := newFixture(t, 60)
	ctx := context.Background()
	email := "maximilian.vandenberghe-okonkwo@fastmail.io" // 43 characters
	c := &store.Customer{OrgID: f.org.ID, FirstName: "Maximilian", LastName: "Vandenberghe-Okonkwo", Email: email, Phone: "+44 7700 900461"}
	if err := f.db.Tx(ctx, func(tx *store.Tx) error { return tx.CreateCustomer(ctx, c) }); err != nil {
		t.Fatal(err)
	}
	row := func(m *Model) string {
		for _, l := range strings.Split(m.View(), "\n") {
			if strings.Contains(l, "Maximilian") {
				return l
			}
		}
		t.Fatalf("no row for the customer:\n%s", m.View())
		return ""
	}
	m := f.model(f.owner, 80, 24)
	drive(t, m, keys("/", "vandenberghe", "<enter>")...)
	if l := row(m); !strings.Contains(l, email) || !strings.Contains(l, "Not invited") {
		t.Errorf("at 80 columns the row cuts the email or drops the status:\n%q", l)
	}
	m = f.model(f.owner, 200, 50)
	drive(t, m, keys("/", "vandenberghe", "<enter>")...)
	if l := row(m); !strings.Contains(l, email) || !strings.Contains(l, "Not invited") || !strings.Contains(l, c.Phone) {
		t.Errorf("at 200 columns the row lacks the email, status or phone:\n%q", l)
	}
	if v := m.View(); !strings.Contains(v, "Phone") || !strings.Contains(v, "Last visit") {
		t.Errorf("at 200 columns no phone or last-visit column:\n%s", v)
	}
}

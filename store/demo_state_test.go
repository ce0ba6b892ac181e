package store_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"frontdesk/store"
	"frontdesk/store/demo"
	"frontdesk/store/storetest"
)

// The demo generator writes the state columns directly for speed; they must
// be exactly what refreshState derives from the invites. (Here rather than in
// store/demo because refreshState is the store's own.)
//
// SQLite only: it checks the bulk door's stand-ins, SQLite's for now.
func TestDemoStateMatchesRefreshState(t *testing.T) {
	t.Parallel()
	db, err := store.Open(filepath.Join(t.TempDir(), "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 11, 23, 14, 5, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	ctx := context.Background()
	org, err := demo.Generate(ctx, db, demo.Options{Customers: 500, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	snapshot := func() string {
		var s string
		storetest.Scan(t, db, `SELECT group_concat(id || ':' || state || ':' || coalesce(invite_sent_at, '-') || ':' || coalesce(invite_expires_at, '-'), ' ')
			FROM (SELECT * FROM customers WHERE org_id = ? ORDER BY id)`, []any{org.ID}, &s)
		return s
	}
	before := snapshot()
	if err := db.Tx(ctx, func(tx *store.Tx) error { return tx.RefreshOrgState(ctx, org.ID) }); err != nil {
		t.Fatal(err)
	}
	if after := snapshot(); after != before {
		b, a := strings.Fields(before), strings.Fields(after)
		for i := range b {
			if i < len(a) && a[i] != b[i] {
				t.Errorf("customer generated as %s, refreshState says %s", b[i], a[i])
			}
		}
	}
}

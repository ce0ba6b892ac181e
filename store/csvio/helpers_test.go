package csvio

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"frontdesk/store"
)

// newDB opens a fresh database file with one organization.
func newDB(tb testing.TB) (*store.DB, *store.Org) {
	tb.Helper()
	db, err := store.Open(filepath.Join(tb.TempDir(), "frontdesk.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	return db, newOrg(tb, db, "Harbor Yoga")
}

func newOrg(tb testing.TB, db *store.DB, name string) *store.Org {
	tb.Helper()
	o := &store.Org{Name: name, Notifications: true}
	if err := db.Tx(context.Background(), func(tx *store.Tx) error { return tx.CreateOrg(context.Background(), o) }); err != nil {
		tb.Fatal(err)
	}
	return o
}

// genCSV is n rows of the four known columns and two custom fields, written
// as Export writes them (the phone behind the quote that keeps a spreadsheet
// from reading "+1 …" as a formula).
func genCSV(n int) []byte { return genCSVRange(0, n) }

// genCSVRange is genCSV's rows from..to-1.
func genCSVRange(from, to int) []byte {
	var b bytes.Buffer
	b.Grow((to - from) * 80)
	b.WriteString("first_name,last_name,email,phone,Membership,Home studio\n")
	levels := []string{"Gold", "Silver", "Bronze", ""}
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "First%d,Last%d,person%d@example.com,'+1 555-%07d,%s,\"Studio %d, Harbor\"\n", i, i, i, i, levels[i%4], i%7)
	}
	return b.Bytes()
}

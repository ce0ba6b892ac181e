package store

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// A session is created only for the customer of that organization, with
// the password hash the caller verified still current.
func TestCreateSessionConditions(t *testing.T) {
	db, now := newStoreForTest(t)
	ctx := context.Background()
	harbor, clinic := mustOrg(t, db, "Harbor Yoga"), mustOrg(t, db, "Seaside Clinic")
	jane := mustCustomer(t, db, harbor, "Jane", "Doe", "jane@example.com")
	if ok, err := inTx(db, func(tx *Tx) (bool, error) { return tx.ClaimAccount(ctx, harbor.ID, jane.ID, "$argon2id$old") }); err != nil || !ok {
		t.Fatal(ok, err)
	}
	id := bytes.Repeat([]byte{1}, 32)
	expires := now.Add(time.Hour)
	for name, try := range map[string]func() error{
		"another organization": func() error {
			_, err := inTx(db, func(tx *Tx) (*Session, error) {
				return tx.CreateSession(ctx, id, clinic.ID, jane.ID, "$argon2id$old", expires)
			})
			return err
		},
		"a replaced password": func() error {
			_, err := inTx(db, func(tx *Tx) (*Session, error) {
				return tx.CreateSession(ctx, id, harbor.ID, jane.ID, "$argon2id$older", expires)
			})
			return err
		},
		"no password": func() error {
			_, err := inTx(db, func(tx *Tx) (*Session, error) { return tx.CreateSession(ctx, id, harbor.ID, jane.ID, "", expires) })
			return err
		},
	} {
		if err := try(); ErrorCode(err) != ENOTFOUND {
			t.Errorf("%s: %v, want ENOTFOUND", name, err)
		}
	}
	if _, err := inTx(db, func(tx *Tx) (*Session, error) {
		return tx.CreateSession(ctx, id, harbor.ID, jane.ID, "$argon2id$old", expires)
	}); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.CountCustomerSessions(ctx, harbor.ID, jane.ID); n != 1 {
		t.Fatalf("%d sessions, want 1", n)
	}
}

// Refilling the demo deletes its customers with foreign keys off, and the
// new customers reuse their ids: a session left behind would sign its
// browser in as whoever gets the id next. Both ways of clearing (the whole
// table, and a window of ids when other organizations have customers) end
// the sessions.
func TestDemoRefillEndsSessions(t *testing.T) {
	for _, others := range []bool{false, true} {
		db, org := demoForTest(t, 40, 1)
		ctx := context.Background()
		if others {
			mustCustomer(t, db, mustOrg(t, db, "Seaside Clinic"), "Cleo", "Other", "cleo@example.com")
		}
		var id int64
		if err := db.read.QueryRowContext(ctx, `SELECT min(id) FROM customers WHERE org_id = ?`, org.ID).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if _, err := db.write.ExecContext(ctx, `INSERT INTO sessions VALUES (?, ?, ?, 0, 0, 0)`, bytes.Repeat([]byte{7}, 32), org.ID, id); err != nil {
			t.Fatal(err)
		}
		if _, err := db.GenerateDemo(ctx, DemoOptions{Customers: 40, Seed: 2}); err != nil {
			t.Fatal(err)
		}
		if n, _ := db.CountCustomerSessions(ctx, org.ID, id); n != 0 {
			t.Errorf("other organizations %v: a session outlived the demo refill", others)
		}
		demoCheckHealthy(t, db)
	}
}

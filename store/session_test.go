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
	bothEngines(t, func(t *testing.T) {
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
	})
}

// A rehash (the same password under new argon2id parameters) keeps every
// session; any other change of the hash still ends them all (migration
// 0007's trigger). The rehash happens only over the hash that was verified.
func TestRehashKeepsSessions(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		db, now := newStoreForTest(t)
		ctx := context.Background()
		org := mustOrg(t, db, "Harbor Yoga")
		jane := mustCustomer(t, db, org, "Jane", "Doe", "jane@example.com")
		if ok, err := inTx(db, func(tx *Tx) (bool, error) { return tx.ClaimAccount(ctx, org.ID, jane.ID, "$argon2id$old") }); err != nil || !ok {
			t.Fatal(ok, err)
		}
		for i := byte(1); i <= 2; i++ { // two devices
			if _, err := inTx(db, func(tx *Tx) (*Session, error) {
				return tx.CreateSession(ctx, bytes.Repeat([]byte{i}, 32), org.ID, jane.ID, "$argon2id$old", now.Add(time.Hour))
			}); err != nil {
				t.Fatal(err)
			}
		}
		if ok, err := inTx(db, func(tx *Tx) (bool, error) {
			return tx.RehashPassword(ctx, org.ID, jane.ID, "$argon2id$stale", "$argon2id$new")
		}); err != nil || ok {
			t.Fatalf("rehash over a hash that is no longer stored: %v, %v", ok, err)
		}
		if ok, err := inTx(db, func(tx *Tx) (bool, error) {
			return tx.RehashPassword(ctx, org.ID, jane.ID, "$argon2id$old", "$argon2id$new")
		}); err != nil || !ok {
			t.Fatalf("rehash: %v, %v", ok, err)
		}
		if got, _ := db.Customer(ctx, org.ID, jane.ID); got.PasswordHash != "$argon2id$new" {
			t.Fatalf("stored hash %q", got.PasswordHash)
		}
		if n, _ := db.CountCustomerSessions(ctx, org.ID, jane.ID); n != 2 {
			t.Fatalf("%d sessions after a rehash, want both", n)
		}
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.SetPassword(ctx, org.ID, jane.ID, "$argon2id$changed") }); err != nil {
			t.Fatal(err)
		}
		if n, _ := db.CountCustomerSessions(ctx, org.ID, jane.ID); n != 0 {
			t.Fatalf("%d sessions after a password change, want 0", n)
		}
	})
}

// The throttle's storage: one row per (email, client), counting failures
// in a row, forgetting a count gone quiet, and the number of clients that
// failed recently.
func TestSignInFailures(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		db, now := newStoreForTest(t)
		ctx := context.Background()
		since := func() time.Time { return now.Add(-time.Hour) }
		forget := func() time.Time { return now.Add(-24 * time.Hour) }
		for range 3 {
			if err := db.Tx(ctx, func(tx *Tx) error { return tx.RecordSignInFailure(ctx, "Jane@Example.com ", "192.0.2.1", forget()) }); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.RecordSignInFailure(ctx, "jane@example.com", "192.0.2.2", forget()) }); err != nil {
			t.Fatal(err)
		}
		f, err := db.SignInFailures(ctx, "JANE@example.com", "192.0.2.1", since())
		if err != nil || f.Failures != 3 || !f.LastAt.Equal(now.Truncate(time.Second)) || f.Clients != 2 {
			t.Fatalf("state = %+v, %v", f, err)
		}
		if f, _ := db.SignInFailures(ctx, "jane@example.com", "192.0.2.9", since()); f.Failures != 0 || !f.LastAt.IsZero() || f.Clients != 2 {
			t.Fatalf("a clean client sees %+v", f)
		}
		*now = now.Add(2 * time.Hour)
		if f, _ := db.SignInFailures(ctx, "jane@example.com", "192.0.2.1", since()); f.Failures != 3 || f.Clients != 0 {
			t.Fatalf("two hours later: %+v", f)
		}
		*now = now.Add(24 * time.Hour)
		db.Tx(ctx, func(tx *Tx) error { return tx.RecordSignInFailure(ctx, "jane@example.com", "192.0.2.1", forget()) })
		if f, _ := db.SignInFailures(ctx, "jane@example.com", "192.0.2.1", since()); f.Failures != 1 {
			t.Fatalf("a count quiet for a day did not start again: %+v", f)
		}
		if n, err := inTx(db, func(tx *Tx) (int, error) { return tx.DeleteStaleSignInFailures(ctx, forget()) }); err != nil || n != 1 {
			t.Fatalf("pruned %d, %v; want the quiet 192.0.2.2", n, err)
		}
		db.Tx(ctx, func(tx *Tx) error { return tx.RecordSignInFailure(ctx, "jane@example.com", "192.0.2.2", forget()) })
		db.Tx(ctx, func(tx *Tx) error { return tx.RecordSignInFailure(ctx, "bob@example.com", "192.0.2.2", forget()) })
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.ClearSignInFailuresFrom(ctx, "JANE@example.com", "192.0.2.1") }); err != nil {
			t.Fatal(err)
		}
		if f, _ := db.SignInFailures(ctx, "jane@example.com", "192.0.2.1", since()); f.Failures != 0 || f.Clients != 1 {
			t.Fatalf("after clearing one client: %+v", f)
		}
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.ClearSignInFailures(ctx, "Jane@example.com") }); err != nil {
			t.Fatal(err)
		}
		if f, _ := db.SignInFailures(ctx, "jane@example.com", "192.0.2.2", since()); f.Failures != 0 || f.Clients != 0 {
			t.Fatalf("after clearing the email: %+v", f)
		}
		if f, _ := db.SignInFailures(ctx, "bob@example.com", "192.0.2.2", since()); f.Failures != 1 {
			t.Fatalf("another email was cleared too: %+v", f)
		}
	})
}

package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func strPtr(s string) *string { return &s }

// Staff's edits keep what is derived from the values right: the search
// index finds the new name and phone and no longer the old, the roster is
// in the order of the new name, and only the values given are written.
func TestUpdateCustomerKeepsSearchAndOrder(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		db, _ := newStoreForTest(t)
		ctx := context.Background()
		o := mustOrg(t, db, "Harbor Yoga")
		ann := mustCustomer(t, db, o, "Ann", "Lee", "al@example.com")
		mustCustomer(t, db, o, "Bo", "Chen", "bo@example.com")
		if _, err := inTx(db, func(tx *Tx) (int64, error) { return tx.DeclareCustomField(ctx, o.ID, "Membership level") }); err != nil {
			t.Fatal(err)
		}
		_, err := inTx(db, func(tx *Tx) (int, error) {
			return 0, tx.UpdateCustomer(ctx, o.ID, ann.ID, CustomerUpdate{FirstName: strPtr(" Zoe "), Phone: strPtr("+44 (0)161 496 8466"),
				Fields: []Field{{Name: "Membership level", Value: "Gold"}}})
		})
		if err != nil {
			t.Fatal(err)
		}
		search := func(q string) []string {
			rows, err := db.RosterPage(ctx, o.ID, RosterQuery{Search: q})
			if err != nil {
				t.Fatal(err)
			}
			return names(rows)
		}
		if got := search("zoe"); strings.Join(got, ",") != "Zoe Lee" {
			t.Errorf("new name: %v", got)
		}
		if got := search("ann"); len(got) != 0 {
			t.Errorf("old name still found: %v", got)
		}
		if got := search("4968466"); strings.Join(got, ",") != "Zoe Lee" {
			t.Errorf("new phone: %v", got)
		}
		if got := search("al@example"); strings.Join(got, ",") != "Zoe Lee" {
			t.Errorf("the email, not given, still found: %v", got)
		}
		rows, err := db.RosterPage(ctx, o.ID, RosterQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(names(rows), ","); got != "Bo Chen,Zoe Lee" {
			t.Errorf("roster order after the rename: %s", got)
		}
		c, err := db.Customer(ctx, o.ID, ann.ID)
		if err != nil || c.LastName != "Lee" || len(c.Fields) != 1 || c.Fields[0].Value != "Gold" {
			t.Errorf("customer after the update: %+v, %v", c, err)
		}

		for _, bad := range []struct {
			u    CustomerUpdate
			want string
		}{
			{CustomerUpdate{FirstName: strPtr(""), LastName: strPtr("")}, "Enter a first or last name."},
			{CustomerUpdate{LastName: strPtr("Lee\x1b[31m")}, "Last name contains a control character (U+001B); remove it"},
			{CustomerUpdate{Fields: []Field{{Name: "Shoe size", Value: "42"}}}, `unknown field "Shoe size"`},
			{CustomerUpdate{Fields: []Field{{Name: "Membership level", Value: strings.Repeat("x", MaxFieldLen+1)}}}, "Membership level is too long"},
		} {
			_, err := inTx(db, func(tx *Tx) (int, error) { return 0, tx.UpdateCustomer(ctx, o.ID, ann.ID, bad.u) })
			if ErrorCode(err) != EINVALID || !strings.HasPrefix(ErrorMessage(err), bad.want) {
				t.Errorf("%+v: %v, want %q", bad.u, err, bad.want)
			}
		}
		if got, _ := db.Customer(ctx, o.ID, ann.ID); got.Name() != "Zoe Lee" || got.Fields[0].Value != "Gold" {
			t.Errorf("a refused update wrote: %+v", got)
		}
		other := mustOrg(t, db, "Other Studio")
		if _, err := inTx(db, func(tx *Tx) (int, error) {
			return 0, tx.UpdateCustomer(ctx, other.ID, ann.ID, CustomerUpdate{FirstName: strPtr("X")})
		}); ErrorCode(err) != ENOTFOUND {
			t.Errorf("another organization's customer: %v", err)
		}
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.ArchiveCustomer(ctx, o.ID, ann.ID) }); err != nil {
			t.Fatal(err)
		}
		if _, err := inTx(db, func(tx *Tx) (int, error) {
			return 0, tx.UpdateCustomer(ctx, o.ID, ann.ID, CustomerUpdate{FirstName: strPtr("X")})
		}); ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), "is archived") {
			t.Errorf("an archived customer: %v", err)
		}
	})
}

// checkArchivedCounts fails unless archived_counts holds what counting the
// archived customers gives.
func checkArchivedCounts(t testing.TB, db *DB) {
	t.Helper()
	rows, err := db.read.QueryContext(context.Background(), `SELECT coalesce(k.org_id, c.org_id), coalesce(k.n, 0), coalesce(c.n, 0)
		FROM archived_counts k FULL JOIN (SELECT org_id, count(*) AS n FROM customers WHERE archived = 1 GROUP BY org_id) c
		ON c.org_id = k.org_id
		WHERE coalesce(k.n, 0) <> coalesce(c.n, 0)`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var diff []string
	for rows.Next() {
		var org, kept, actual int64
		if err := rows.Scan(&org, &kept, &actual); err != nil {
			t.Fatal(err)
		}
		diff = append(diff, fmt.Sprintf("%d: %d kept, %d counted", org, kept, actual))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(diff) > 0 {
		t.Errorf("archived_counts out of step: %s", strings.Join(diff, "; "))
	}
}

// The archived filter pages and searches archived customers only, and the
// count of them is kept by triggers through archiving, restoring, a
// customer deleted and one moved to another organization.
func TestArchivedFilterAndCount(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		db, _ := newStoreForTest(t)
		ctx := context.Background()
		o := mustOrg(t, db, "Harbor Yoga")
		var cs []*Customer
		for _, n := range []string{"Ann", "Bo", "Cy", "Di", "Ed"} {
			cs = append(cs, mustCustomer(t, db, o, n, "Gone", strings.ToLower(n)+"@example.com"))
		}
		owner := mustStaff(t, db, o, "owner@example.com", RoleOwner)
		inv := mustInvite(t, db, cs[0], owner, DefaultInviteTTL)
		count := func() int {
			n, err := db.ArchivedCount(ctx, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if count() != 0 {
			t.Fatalf("archived before archiving: %d", count())
		}
		for _, c := range cs[:4] {
			if err := db.Tx(ctx, func(tx *Tx) error { return tx.ArchiveCustomer(ctx, o.ID, c.ID) }); err != nil {
				t.Fatal(err)
			}
		}
		if count() != 4 {
			t.Errorf("archived: %d, want 4", count())
		}
		checkArchivedCounts(t, db)
		page, err := db.RosterPage(ctx, o.ID, RosterQuery{Archived: true, Limit: 2})
		if err != nil || strings.Join(names(page), ",") != "Ann Gone,Bo Gone" {
			t.Fatalf("first archived page: %v, %v", names(page), err)
		}
		cur := page[1].Cursor()
		page, err = db.RosterPage(ctx, o.ID, RosterQuery{Archived: true, Limit: 2, After: &cur})
		if err != nil || strings.Join(names(page), ",") != "Cy Gone,Di Gone" {
			t.Errorf("second archived page: %v, %v", names(page), err)
		}
		page, _ = db.RosterPage(ctx, o.ID, RosterQuery{Search: "gone"})
		if strings.Join(names(page), ",") != "Ed Gone" {
			t.Errorf("live search: %v", names(page))
		}
		page, _ = db.RosterPage(ctx, o.ID, RosterQuery{Search: "gone", Archived: true, Status: StatusNotInvited})
		if len(page) != 4 {
			t.Errorf("archived search with a status: %v", names(page))
		}
		if n, _ := db.RosterMatches(ctx, o.ID, RosterQuery{Search: "bo", Archived: true}, 100); n != 1 {
			t.Errorf("archived matches for bo: %d", n)
		}

		// Restoring: back on the roster, the invite revoked when archived
		// stays revoked, the status worked out again.
		restored, err := inTx(db, func(tx *Tx) (bool, error) { return tx.RestoreCustomer(ctx, o.ID, cs[0].ID) })
		if err != nil || !restored {
			t.Fatalf("restore: %v, %v", restored, err)
		}
		again, err := inTx(db, func(tx *Tx) (bool, error) { return tx.RestoreCustomer(ctx, o.ID, cs[0].ID) })
		if err != nil || again {
			t.Errorf("restoring a live customer: %v, %v", again, err)
		}
		if _, err := inTx(db, func(tx *Tx) (bool, error) { return tx.RestoreCustomer(ctx, o.ID, 9999) }); ErrorCode(err) != ENOTFOUND {
			t.Errorf("restoring nobody: %v", err)
		}
		c, _ := db.Customer(ctx, o.ID, cs[0].ID)
		if c.Archived || c.Status != StatusNotInvited {
			t.Errorf("restored: archived %v, status %s", c.Archived, c.Status)
		}
		invs, _ := db.Invites(ctx, o.ID, cs[0].ID)
		if len(invs) != 1 || invs[0].ID != inv.ID || invs[0].RevokeReason != RevokeArchived {
			t.Errorf("invite after restoring: %+v", invs)
		}
		if count() != 3 {
			t.Errorf("archived after restoring one: %d", count())
		}
		// Deleted, and moved to another organization: the counts follow.
		other := mustOrg(t, db, "Other Studio")
		if _, err := db.write.ExecContext(ctx, `DELETE FROM customers WHERE id = ?`, cs[1].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.write.ExecContext(ctx, `UPDATE customers SET org_id = ? WHERE id = ?`, other.ID, cs[2].ID); err != nil {
			t.Fatal(err)
		}
		if n, _ := db.ArchivedCount(ctx, other.ID); count() != 1 || n != 1 {
			t.Errorf("archived after a delete and a move: %d here, %d there", count(), n)
		}
		checkArchivedCounts(t, db)
	})
}

// Migration 0015 rebuilds invites so that 'withdrawn' is a reason: every
// row and column stays, and so does every index and trigger on the table,
// including ones this file does not know of (another migration's); the
// archived customers of before are counted.
//
// SQLite only: the rebuild of invites is SQLite's history; PostgreSQL's baseline has the CHECK as it is now.
func TestMigration0015KeepsInvites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := open(path, Options{}, 14)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.write.ExecContext(ctx, `INSERT INTO orgs (id, name, slug, created_at) VALUES (1, 'Old Studio', 'old-studio', 0);
		INSERT INTO staff (id, org_id, email, name, role, created_at) VALUES (1, 1, 'owner@old.example', 'Olga Owner', 'owner', 0);
		INSERT INTO customers (id, org_id, first_name, sort_name, email, created_at, updated_at, archived)
		VALUES (1, 1, 'Ingrid', 'ingrid', 'ingrid@example.com', 0, 0, 0), (2, 1, 'Gus', 'gus', 'gus@example.com', 0, 0, 1);
		INSERT INTO outbox (id, org_id, kind, to_addr, subject, status, next_attempt_at, created_at, customer_id)
		VALUES (7, 1, 'invite', 'ingrid@example.com', 'Claim', 'sent', 0, 10, 1);
		INSERT INTO invites (id, org_id, customer_id, purpose, token_hash, email, created_by, created_at, expires_at, outbox_id, opened_at, revoked_at, revoke_reason, channel, code_key, code_mac)
		VALUES (1, 1, 1, 'claim', randomblob(32), 'ingrid@example.com', 1, 10, 1000, 7, 12, 20, 'superseded', 'email', 'k1', randomblob(32)),
		       (2, 1, 2, 'reset', randomblob(32), 'gus@example.com', NULL, 30, 2000, NULL, NULL, NULL, '', 'email', '', NULL);
		INSERT INTO invites (id, org_id, customer_id, purpose, token_hash, email, created_by, created_at, expires_at, reminder_of, channel)
		VALUES (3, 1, 1, 'claim', randomblob(32), 'ingrid@example.com', NULL, 20, 1000, 1, 'desk');
		CREATE INDEX invites_other_branch ON invites (org_id, created_at) WHERE purpose = 'claim';
		CREATE TABLE seen (invite_id INTEGER);
		CREATE TRIGGER invites_other_trigger AFTER UPDATE ON invites BEGIN INSERT INTO seen VALUES (new.id); END;`); err != nil {
		t.Fatal(err)
	}
	const all = `SELECT * FROM invites ORDER BY id`
	before := dumpTable(t, old.read, all)
	const objects = `SELECT type, name, sql FROM sqlite_schema WHERE tbl_name = 'invites' AND type IN ('index', 'trigger') ORDER BY name`
	objectsBefore := dumpTable(t, old.read, objects)
	if _, err := old.write.ExecContext(ctx, `UPDATE invites SET revoke_reason = 'withdrawn', revoked_at = 40 WHERE id = 3`); err == nil {
		t.Fatal("the old schema took 'withdrawn'")
	}
	old.Close()

	// Up to 0015 only: later migrations may add indexes of their own.
	db, err := open(path, Options{}, 15)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if after := dumpTable(t, db.read, all); after != before {
		t.Errorf("invites changed by the rebuild:\nbefore %s\nafter  %s", before, after)
	}
	if after := dumpTable(t, db.read, objects); after != objectsBefore {
		t.Errorf("indexes and triggers on invites changed:\nbefore %s\nafter  %s", objectsBefore, after)
	}
	if got := dumpTable(t, db.read, `SELECT count(*) FROM seen`); got != "[0]" {
		t.Errorf("the rebuild fired a trigger on invites: %s", got)
	}
	if got := dumpTable(t, db.read, `PRAGMA foreign_key_check`); got != "" {
		t.Errorf("foreign key violations after the rebuild: %s", got)
	}
	if n, _ := db.ArchivedCount(ctx, 1); n != 1 {
		t.Errorf("archived customers of before: %d counted, want 1", n)
	}
	if _, err := db.write.ExecContext(ctx, `UPDATE invites SET revoke_reason = 'withdrawn', revoked_at = 40 WHERE id = 3`); err != nil {
		t.Errorf("'withdrawn' refused after the migration: %v", err)
	}
	if got := dumpTable(t, db.read, `SELECT invite_id FROM seen`); got != "[3]" {
		t.Errorf("the other migration's trigger after the rebuild: %s", got)
	}
	if _, err := db.write.ExecContext(ctx, `UPDATE invites SET revoke_reason = 'bored' WHERE id = 3`); err == nil {
		t.Errorf("an unknown reason accepted after the migration")
	}
	// The step finds the reason already there and leaves the table alone.
	if err := db.Tx(ctx, func(tx *Tx) error { return allowWithdrawn(ctx, db, tx) }); err != nil {
		t.Errorf("running the step again: %v", err)
	}
	db.Close()
	if db, err = Open(path); err != nil {
		t.Fatal(err)
	}
}

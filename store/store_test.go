package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"frontdesk/store/pgtest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// inTx runs one write that returns a value in a transaction of its own.
func inTx[T any](db *DB, fn func(tx *Tx) (T, error)) (T, error) {
	var v T
	err := db.Tx(context.Background(), func(tx *Tx) error {
		var err error
		v, err = fn(tx)
		return err
	})
	return v, err
}

func mustOrg(t testing.TB, db *DB, name string) *Org {
	t.Helper()
	o := &Org{Name: name, Notifications: true}
	if err := db.Tx(context.Background(), func(tx *Tx) error { return tx.CreateOrg(context.Background(), o) }); err != nil {
		t.Fatal(err)
	}
	return o
}

func mustCustomer(t testing.TB, db *DB, org *Org, first, last, email string) *Customer {
	t.Helper()
	c := &Customer{OrgID: org.ID, FirstName: first, LastName: last, Email: email}
	if err := db.Tx(context.Background(), func(tx *Tx) error { return tx.CreateCustomer(context.Background(), c) }); err != nil {
		t.Fatal(err)
	}
	return c
}

func mustStaff(t testing.TB, db *DB, org *Org, email string, role Role) *Staff {
	t.Helper()
	s := &Staff{OrgID: org.ID, Email: email, Name: strings.Split(email, "@")[0], Role: role}
	if err := db.Tx(context.Background(), func(tx *Tx) error { return tx.CreateStaff(context.Background(), s) }); err != nil {
		t.Fatal(err)
	}
	return s
}

// mustInvite records a claim invite (with its outbox message) as the invite
// service will.
func mustInvite(t testing.TB, db *DB, c *Customer, by *Staff, ttl time.Duration) *Invite {
	t.Helper()
	ctx := context.Background()
	inv := &Invite{OrgID: c.OrgID, CustomerID: c.ID, Purpose: PurposeClaim, Email: c.Email, CreatedBy: by.ID, ExpiresAt: db.Now().Add(ttl)}
	h := sha256.Sum256([]byte(fmt.Sprintf("token-%d-%d", c.ID, time.Now().UnixNano())))
	inv.TokenHash = h[:]
	err := db.Tx(ctx, func(tx *Tx) error {
		m := &OutboxMessage{OrgID: c.OrgID, CustomerID: c.ID, Kind: MessageInvite, To: c.Email, Subject: "Claim your account"}
		if err := tx.EnqueueMessage(ctx, m); err != nil {
			return err
		}
		inv.OutboxID = m.ID
		return tx.CreateInvite(ctx, inv)
	})
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func names(rows []RosterRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Name())
	}
	return out
}

// SQLite only: upgrading old SQLite files; PostgreSQL starts at its baseline.
func TestMigrationsUpgradeFromFirstSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := open(path, Options{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Data written by a frontdesk that only knew schema version 1: a
	// customer with a sent invite and a reset link whose emails are in the
	// outbox (invites.outbox_id points at them), and a message no invite
	// points at.
	if _, err := old.write.ExecContext(ctx, `INSERT INTO orgs (id, name, slug, created_at) VALUES (1, 'Old Studio', 'old-studio', 0);
		INSERT INTO staff (id, org_id, email, name, role, created_at) VALUES (1, 1, 'owner@old.example', 'Olga Owner', 'owner', 0);
		INSERT INTO customers (org_id, first_name, last_name, sort_name, email, phone, phone_keys, created_at, updated_at)
		VALUES (1, 'Ingrid', 'Bergström', 'ingrid bergström', 'ingrid@example.com', '0142', '0142 0142', 0, 0);
		INSERT INTO outbox (id, org_id, kind, to_addr, from_name, subject, body_text, status, attempts, next_attempt_at, message_id, created_at, sent_at)
		VALUES (7, 1, 'invite', 'ingrid@example.com', 'Old Studio', 'Claim your Old Studio account', '', 'sent', 1, 10, 'outbox-7.ab@old.example', 10, 12),
		       (8, 1, 'reset', 'ingrid@example.com', 'Old Studio', 'Reset your Old Studio password', 'link', 'queued', 2, 30, '', 20, NULL),
		       (9, 1, 'invite', 'gone@example.com', 'Old Studio', 'Claim your Old Studio account', '', 'failed', 3, 40, '', 25, NULL);
		INSERT INTO invites (org_id, customer_id, purpose, token_hash, email, created_by, created_at, expires_at, outbox_id)
		VALUES (1, 1, 'claim', zeroblob(32), 'ingrid@example.com', 1, 10, 1000, 7),
		       (1, 1, 'reset', randomblob(32), 'ingrid@example.com', NULL, 20, 1000, 8)`); err != nil {
		t.Fatal(err)
	}
	// Bodies are left out: 0008 seals the one still queued (see
	// TestUpgradeSealsPlainBodies).
	outboxBefore := dumpTable(t, old.read, `SELECT id, org_id, kind, to_addr, from_name, reply_to, subject, status,
		attempts, next_attempt_at, lease_owner, lease_until, last_error, message_id, created_at, sent_at FROM outbox ORDER BY id`)
	if v, _ := old.SchemaVersion(ctx); v != 1 {
		t.Fatalf("old database at version %d, want 1", v)
	}
	old.Close()

	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, _ := db.SchemaVersion(ctx); v != latest(SQLite) {
		t.Fatalf("upgraded database at version %d, want %d", v, latest(SQLite))
	}
	rows, err := db.RosterPage(ctx, 1, RosterQuery{Search: "bergstrom"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Email != "ingrid@example.com" {
		t.Fatalf("customer from version 1 not searchable after upgrade: %v", names(rows))
	}
	// The outbox was rebuilt (migration 0006): every row and column kept,
	// each message linked to its customer through its invite, the invites
	// still pointing at their messages.
	if after := dumpTable(t, db.read, `SELECT id, org_id, kind, to_addr, from_name, reply_to, subject, status,
		attempts, next_attempt_at, lease_owner, lease_until, last_error, message_id, created_at, sent_at FROM outbox ORDER BY id`); after != outboxBefore {
		t.Errorf("outbox rows changed by the upgrade:\nbefore %s\nafter  %s", outboxBefore, after)
	}
	if got := dumpTable(t, db.read, `SELECT id, customer_id FROM outbox ORDER BY id`); got != "[7 1] [8 1] [9 <nil>]" {
		t.Errorf("outbox customer_id after upgrade: %s, want 7 and 8 linked to customer 1, 9 to nobody", got)
	}
	if got := dumpTable(t, db.read, `SELECT i.purpose, o.kind, o.id FROM invites i JOIN outbox o ON o.id = i.outbox_id ORDER BY i.id`); got != "[claim invite 7] [reset reset 8]" {
		t.Errorf("invites joined to their messages after upgrade: %s", got)
	}
	if got := dumpTable(t, db.read, `PRAGMA foreign_key_check`); got != "" {
		t.Errorf("foreign key violations after upgrade: %s", got)
	}
	if got := dumpTable(t, db.read, `SELECT name FROM sqlite_schema WHERE tbl_name = 'outbox' AND type = 'index' AND sql IS NOT NULL ORDER BY name`); got != "[outbox_attention] [outbox_customer] [outbox_due] [outbox_message_id] [outbox_org] [outbox_sent] [outbox_to_sent]" {
		t.Errorf("outbox indexes after upgrade: %s", got)
	}
	if got := dumpTable(t, db.read, `EXPLAIN QUERY PLAN SELECT id FROM outbox WHERE org_id = 1 ORDER BY id DESC LIMIT 10`); !strings.Contains(got, "outbox_org") || strings.Contains(got, "TEMP B-TREE") {
		t.Errorf("an organization's outbox, newest first, is not read through outbox_org: %s", got)
	}
	// The customer invited before migration 0010 is in the funnel.
	if f, err := db.ClaimFunnel(ctx, 1); err != nil || f != (Funnel{Invited: 1}) {
		t.Errorf("funnel after upgrade %+v (%v), want the one invited customer", f, err)
	}
	checkFunnel(t, db)
	// The new kinds and statuses are accepted, anything else still refused.
	for _, ok := range []string{`'email_change', 'queued'`, `'reminder', 'queued'`, `'invite', 'bounced'`} {
		if _, err := db.write.ExecContext(ctx, `INSERT INTO outbox (org_id, kind, status, to_addr, subject, next_attempt_at, created_at) VALUES (1, `+ok+`, 'a@example.com', 's', 0, 0)`); err != nil {
			t.Errorf("kind, status %s refused after upgrade: %v", ok, err)
		}
	}
	for _, bad := range []string{`'newsletter', 'queued'`, `'invite', 'lost'`} {
		if _, err := db.write.ExecContext(ctx, `INSERT INTO outbox (org_id, kind, status, to_addr, subject, next_attempt_at, created_at) VALUES (1, `+bad+`, 'a@example.com', 's', 0, 0)`); err == nil {
			t.Errorf("kind, status %s accepted after upgrade", bad)
		}
	}
	// Reopening applies nothing twice.
	db.Close()
	if db, err = Open(path); err != nil {
		t.Fatal(err)
	}
	db.Close()
}

// dumpTable renders a query's rows as "[a b] [c d]", NULL as <nil>, for
// comparing a table before and after a migration.
func dumpTable(t *testing.T, q *sql.DB, query string) string {
	t.Helper()
	rows, err := q.QueryContext(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				vals[i] = string(b)
			}
		}
		out = append(out, fmt.Sprint(vals))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, " ")
}

// TestOutboxRebuildKeepsDeliveryState: migration 0006 rebuilds the outbox;
// a database at version 5 with a message mid-delivery (leased, retried,
// answered) comes out with every value as it was.
//
// SQLite only: migration 0006's rebuild is SQLite's history.
func TestOutboxRebuildKeepsDeliveryState(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v5.db")
	old, err := open(path, Options{}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.write.ExecContext(ctx, `INSERT INTO orgs (id, name, slug, created_at) VALUES (1, 'Old Studio', 'old-studio', 0);
		INSERT INTO customers (id, org_id, first_name, email, created_at, updated_at) VALUES (5, 1, 'Ingrid', 'ingrid@example.com', 0, 0);
		INSERT INTO outbox (id, org_id, kind, to_addr, from_name, reply_to, subject, body_text, body_html, status, attempts, next_attempt_at,
			lease_owner, lease_until, last_error, message_id, created_at, sent_at, reply, retry_from)
		VALUES (3, 1, 'invite', 'ingrid@example.com', 'Old Studio', 'desk@old.example', 'Claim', 'text', '<p>html</p>', 'queued', 2, 500,
			'worker-1', 600, '451 4.3.0 try later', 'outbox-3.cd@old.example', 100, NULL, '', 300),
		       (4, 1, 'invite', 'ingrid@example.com', 'Old Studio', '', 'Claim', '', '', 'sent', 1, 100,
			'', 0, '', 'outbox-4.ef@old.example', 100, 110, '250 2.0.0 OK: queued as 4F2A', NULL);
		INSERT INTO invites (org_id, customer_id, purpose, token_hash, email, created_at, expires_at, outbox_id)
		VALUES (1, 5, 'claim', zeroblob(32), 'ingrid@example.com', 100, 1000, 3)`); err != nil {
		t.Fatal(err)
	}
	const cols = `id, org_id, kind, to_addr, from_name, reply_to, subject, body_text, body_html, status, attempts, next_attempt_at,
		lease_owner, lease_until, last_error, message_id, created_at, sent_at, reply, retry_from`
	before := dumpTable(t, old.read, `SELECT `+cols+` FROM outbox ORDER BY id`)
	old.Close()

	// Up to 0006 only: 0008 seals the queued body, by design.
	db, err := open(path, Options{}, 6)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if after := dumpTable(t, db.read, `SELECT `+cols+` FROM outbox ORDER BY id`); after != before {
		t.Errorf("outbox changed by the rebuild:\nbefore %s\nafter  %s", before, after)
	}
	if got := dumpTable(t, db.read, `SELECT id, customer_id FROM outbox ORDER BY id`); got != "[3 5] [4 <nil>]" {
		t.Errorf("customer_id after the rebuild: %s", got)
	}
	// Deleting a customer leaves their messages (the record of what was
	// sent) and forgets whose they were.
	if _, err := db.write.ExecContext(ctx, `DELETE FROM customers WHERE id = 5`); err != nil {
		t.Fatal(err)
	}
	if got := dumpTable(t, db.read, `SELECT id, customer_id FROM outbox ORDER BY id`); got != "[3 <nil>] [4 <nil>]" {
		t.Errorf("after deleting the customer: %s", got)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		target, dir := testTarget(t)
		db, err := openTarget(target, dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.write.ExecContext(context.Background(), `INSERT INTO schema_migrations VALUES (999, '0999_future.sql', 0)`); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if _, err := openTarget(target, dir, Options{}); ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), "a newer frontdesk has upgraded it") {
			t.Fatalf("opening a database from a newer frontdesk: %v", err)
		}
	})
}

// Several processes starting at once on a new database: one migrates, the
// others wait and find it done (SQLite's write lock; PostgreSQL's
// migration lock), and every migration is recorded once.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		dir := t.TempDir()
		target := filepath.Join(dir, "race.db")
		if engineOf(t) == Postgres {
			target = pgtest.Empty(t)
		}
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				db, err := openTarget(target, dir, Options{})
				if err == nil {
					db.Close()
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		db, err := openTarget(target, dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var rows, versions int
		if err := db.read.QueryRow(`SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&rows, &versions); err != nil {
			t.Fatal(err)
		}
		// Every number the engine's migrations record: SQLite's files,
		// PostgreSQL's baseline with what it folds in and its own files.
		recorded := map[int]bool{}
		for _, m := range migrations[engineOf(t)] {
			recorded[m.version] = true
			for _, v := range m.folds {
				recorded[v] = true
			}
		}
		if want := len(recorded); rows != want || versions != want {
			t.Fatalf("schema_migrations has %d rows of %d versions, want each of the %d migrations once", rows, versions, want)
		}
	})
}

// SQLite only: pragmas are SQLite's.
func TestPragmas(t *testing.T) {
	db, _ := newStoreForTest(t)
	ctx := context.Background()
	for _, q := range []*sql.DB{db.read, db.write} {
		var mode string
		var fk, sync int
		q.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode)
		q.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk)
		q.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync)
		if mode != "wal" || fk != 1 || sync != 1 {
			t.Errorf("journal_mode=%s foreign_keys=%d synchronous=%d, want wal 1 1 (NORMAL)", mode, fk, sync)
		}
	}
	if _, err := db.read.ExecContext(ctx, `DELETE FROM orgs`); err == nil {
		t.Error("the read pool accepted a write")
	}
}

// TestOrgIsolation: nothing of one organization is reachable through another's
// id, on every read path.
func TestOrgIsolation(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		db, _ := newStoreForTest(t)
		ctx := context.Background()
		a, b := mustOrg(t, db, "Harbor Yoga"), mustOrg(t, db, "Summit Gym")
		ca := mustCustomer(t, db, a, "Priya", "Shah", "priya@example.com")
		owner := mustStaff(t, db, a, "owner@harbor.example", RoleOwner)
		mustInvite(t, db, ca, owner, 7*24*time.Hour)
		// The same address may be a customer of both.
		cb := mustCustomer(t, db, b, "Priya", "Shah", "priya@example.com")

		if _, err := db.Customer(ctx, b.ID, ca.ID); ErrorCode(err) != ENOTFOUND {
			t.Errorf("Customer across orgs: %v", err)
		}
		if _, err := db.Profile(ctx, b.ID, ca.ID); ErrorCode(err) != ENOTFOUND {
			t.Errorf("Profile across orgs: %v", err)
		}
		if got, err := db.CustomerByEmail(ctx, b.ID, "priya@example.com"); err != nil || got.ID != cb.ID {
			t.Errorf("CustomerByEmail in b = %v, %v; want b's own customer %d", got, err, cb.ID)
		}
		if invs, _ := db.Invites(ctx, b.ID, ca.ID); len(invs) != 0 {
			t.Errorf("Invites across orgs returned %d", len(invs))
		}
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.SetCustomerEmail(ctx, b.ID, ca.ID, "x@example.com") }); ErrorCode(err) != ENOTFOUND {
			t.Errorf("SetCustomerEmail across orgs: %v", err)
		}
		for _, rq := range []RosterQuery{{}, {Search: "priya"}, {Status: StatusInvited}, {Search: "shah", Status: StatusInvited}} {
			rows, err := db.RosterPage(ctx, b.ID, rq)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				if r.ID == ca.ID {
					t.Errorf("RosterPage(%+v) of b shows a's customer", rq)
				}
			}
		}
		counts, _ := db.RosterCounts(ctx, b.ID)
		if counts[StatusInvited] != 0 || counts[StatusNotInvited] != 1 {
			t.Errorf("b's counts include a's customers: %v", counts)
		}
	})
}

// TestKeysetPagingUnderConcurrentInserts: paging through the roster while
// others add customers shows every existing customer exactly once, in order.
func TestKeysetPagingUnderConcurrentInserts(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		db, _ := newStoreForTest(t)
		ctx := context.Background()
		o := mustOrg(t, db, "Harbor Yoga")
		const n = 600
		err := db.Tx(ctx, func(tx *Tx) error {
			for i := range n {
				// Duplicate sort names on purpose: the id breaks ties.
				c := &Customer{OrgID: o.ID, FirstName: fmt.Sprintf("Name%03d", i/3), LastName: "Same", Email: fmt.Sprintf("c%d@example.com", i)}
				if err := tx.CreateCustomer(ctx, c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		done := make(chan error)
		go func() {
			i := 0
			for {
				select {
				case <-stop:
					done <- nil
					return
				default:
				}
				c := &Customer{OrgID: o.ID, FirstName: fmt.Sprintf("Name%03d", i%200), LastName: "New", Email: fmt.Sprintf("new%d@example.com", i)}
				if err := db.Tx(ctx, func(tx *Tx) error { return tx.CreateCustomer(ctx, c) }); err != nil {
					done <- err
					return
				}
				i++
			}
		}()
		seen := map[int64]bool{}
		var last *RosterRow
		q := RosterQuery{Limit: 37}
		for {
			rows, err := db.RosterPage(ctx, o.ID, q)
			if err != nil {
				t.Fatal(err)
			}
			for i := range rows {
				r := rows[i]
				if seen[r.ID] {
					t.Fatalf("customer %d seen twice", r.ID)
				}
				seen[r.ID] = true
				if last != nil && (r.sortName < last.sortName || (r.sortName == last.sortName && r.ID < last.ID)) {
					t.Fatalf("out of order: %q/%d after %q/%d", r.sortName, r.ID, last.sortName, last.ID)
				}
				last = &r
			}
			if len(rows) < q.Limit {
				break
			}
			c := rows[len(rows)-1].Cursor()
			q.After = &c
		}
		close(stop)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		for id := int64(1); id <= n; id++ {
			if !seen[id] {
				t.Fatalf("customer %d, present before paging started, was never shown", id)
			}
		}
	})
}

func TestPagingBackward(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		db, _ := newStoreForTest(t)
		ctx := context.Background()
		o := mustOrg(t, db, "Harbor Yoga")
		for _, n := range []string{"Ana", "Ben", "Cy", "Dee", "Eve"} {
			mustCustomer(t, db, o, n, "X", strings.ToLower(n)+"@example.com")
		}
		last, _ := db.RosterPage(ctx, o.ID, RosterQuery{Backward: true, Limit: 2})
		if got := strings.Join(names(last), ","); got != "Dee X,Eve X" {
			t.Fatalf("last page = %s", got)
		}
		c := last[0].Cursor()
		prev, _ := db.RosterPage(ctx, o.ID, RosterQuery{Before: &c, Limit: 2})
		if got := strings.Join(names(prev), ","); got != "Ben X,Cy X" {
			t.Fatalf("page before Dee = %s", got)
		}
	})
}

func TestStatusDerivation(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		db, now := newStoreForTest(t)
		ctx := context.Background()
		o := mustOrg(t, db, "Harbor Yoga")
		owner := mustStaff(t, db, o, "owner@harbor.example", RoleOwner)
		status := func(c *Customer) Status {
			t.Helper()
			got, err := db.Customer(ctx, o.ID, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.Status
		}
		c := mustCustomer(t, db, o, "Jane", "Doe", "jane@example.com")
		if s := status(c); s != StatusNotInvited {
			t.Fatalf("new customer: %s", s)
		}
		noEmail := mustCustomer(t, db, o, "Nora", "Nomail", "")
		if s := status(noEmail); s != StatusNoEmail {
			t.Fatalf("customer without email: %s", s)
		}

		inv := mustInvite(t, db, c, owner, 7*24*time.Hour)
		if s := status(c); s != StatusInvited {
			t.Fatalf("after invite: %s", s)
		}
		*now = now.Add(8 * 24 * time.Hour)
		if s := status(c); s != StatusExpired {
			t.Fatalf("8 days later: %s", s)
		}
		if rows, _ := db.RosterPage(ctx, o.ID, RosterQuery{Status: StatusExpired}); len(rows) != 1 || rows[0].ID != c.ID {
			t.Fatalf("expired filter: %v", names(rows))
		}

		// A newer invite whose delivery failed.
		inv2 := mustInvite(t, db, c, owner, 7*24*time.Hour)
		if _, err := db.write.ExecContext(ctx, `UPDATE outbox SET status = 'failed' WHERE id = ?`, inv2.OutboxID); err != nil {
			t.Fatal(err)
		}
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.refreshState(ctx, `id = ?`, c.ID) }); err != nil {
			t.Fatal(err)
		}
		if s := status(c); s != StatusFailed {
			t.Fatalf("after failed delivery: %s", s)
		}
		_ = inv

		// Changing the address kills the outstanding invite even before anyone
		// revokes it.
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.SetCustomerEmail(ctx, o.ID, c.ID, "jane.doe@example.com") }); err != nil {
			t.Fatal(err)
		}
		if s := status(c); s != StatusNotInvited {
			t.Fatalf("after email change: %s", s)
		}
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.SetCustomerEmail(ctx, o.ID, c.ID, "") }); err != nil {
			t.Fatal(err)
		}
		if s := status(c); s != StatusNoEmail {
			t.Fatalf("after clearing email: %s", s)
		}

		counts, err := db.RosterCounts(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if counts[StatusNoEmail] != 2 || len(counts) != 1 {
			t.Fatalf("counts = %v", counts)
		}
	})
}

func TestDuplicateEmailNamesTheOtherCustomer(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		db, _ := newStoreForTest(t)
		ctx := context.Background()
		o := mustOrg(t, db, "Harbor Yoga")
		mustCustomer(t, db, o, "Ann", "Lee", "ann@example.com")
		c := mustCustomer(t, db, o, "Bo", "Chen", "bo@example.com")
		err := db.Tx(ctx, func(tx *Tx) error { return tx.SetCustomerEmail(ctx, o.ID, c.ID, "ANN@example.com") })
		if ErrorCode(err) != ECONFLICT || ErrorMessage(err) != "Another customer, Ann Lee, already uses this email" {
			t.Fatalf("duplicate email: %v", err)
		}
		// Setting a customer's own address again (other case) is not a conflict.
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.SetCustomerEmail(ctx, o.ID, c.ID, "Bo@example.com") }); err != nil {
			t.Fatal(err)
		}
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.SetCustomerEmail(ctx, o.ID, c.ID, "bo@example") }); ErrorCode(err) != EINVALID {
			t.Fatalf("invalid email accepted: %v", err)
		}
	})
}

func TestSearch(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		db, _ := newStoreForTest(t)
		ctx := context.Background()
		o := mustOrg(t, db, "Harbor Yoga")
		c := &Customer{OrgID: o.ID, FirstName: "José", LastName: "Müller-Ortiz", Email: "jose.mueller@example.com", Phone: "+44 (20) 7946-0142"}
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.CreateCustomer(ctx, c) }); err != nil {
			t.Fatal(err)
		}
		mustCustomer(t, db, o, "Jo", "Smith", "jsmith@example.org")
		for q, want := range map[string]int{
			"jose": 1, "JOSÉ": 1, "mul": 1, "ortiz": 1, "jose.mu": 1, "example": 2, "example.org": 1,
			"0142": 1, "79460142": 1, "2079460142": 1, "+44 20": 1, "jo": 2, "jo smi": 1, "zzz": 0,
			// FTS5 syntax typed by a user is just text.
			`"`: 2, `jo*`: 2, `NEAR(jo smith)`: 0, `jo OR zzz`: 0, `-jo`: 2, `:`: 2,
		} {
			rows, err := db.RosterPage(ctx, o.ID, RosterQuery{Search: q})
			if err != nil {
				t.Errorf("search %q: %v", q, err)
				continue
			}
			if len(rows) != want {
				t.Errorf("search %q found %v, want %d", q, names(rows), want)
			}
		}
		// The index follows edits.
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.SetCustomerEmail(ctx, o.ID, c.ID, "pepe@example.net") }); err != nil {
			t.Fatal(err)
		}
		if rows, _ := db.RosterPage(ctx, o.ID, RosterQuery{Search: "mueller"}); len(rows) != 0 {
			t.Errorf("old email still found after change")
		}
		if rows, _ := db.RosterPage(ctx, o.ID, RosterQuery{Search: "pepe"}); len(rows) != 1 {
			t.Errorf("new email not found after change")
		}
	})
}

func TestValidateEmail(t *testing.T) {
	for _, ok := range []string{"jane@example.com", "jane.doe+yoga@mail.example.co.uk", "o'brien@example.ie", "zoë@exämple.de", "a@b.io"} {
		if err := ValidateEmail(ok); err != nil {
			t.Errorf("ValidateEmail(%q) = %v, want ok", ok, err)
		}
	}
	for bad, why := range map[string]string{
		"":                     "empty",
		"maria@gmail":          "no dot",
		"tom@@example.com":     "character that is not allowed",
		"ann.lee@example..com": "empty part",
		"jane doe@example.com": "space",
		"jane@example.c0m":     "top-level",
		".jane@example.com":    "misplaced dot",
		"Jane <j@example.com>": "space",
		"j@-example.com":       "not a valid host",
		"j@example.com\x1b[2J": "control",
		"noatsign.example.com": "no @",
		"j@exa_mple.com":       "contains",
	} {
		err := ValidateEmail(bad)
		if err == nil || ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), why) {
			t.Errorf("ValidateEmail(%q) = %v, want an error mentioning %q", bad, err, why)
		}
	}
}

func TestStaffKeys(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		db, _ := newStoreForTest(t)
		ctx := context.Background()
		o := mustOrg(t, db, "Harbor Yoga")
		owner := mustStaff(t, db, o, "owner@harbor.example", RoleOwner)
		desk := mustStaff(t, db, o, "desk@harbor.example", RoleStaff)
		const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ desk@laptop"
		k, err := inTx(db, func(tx *Tx) (*StaffKey, error) { return tx.AddStaffKey(ctx, desk.ID, "  "+key+"\n") })
		if err != nil {
			t.Fatal(err)
		}
		if k.PublicKey != key || !strings.HasPrefix(k.Fingerprint, "SHA256:") {
			t.Fatalf("key stored as %q %q", k.PublicKey, k.Fingerprint)
		}
		if _, err := inTx(db, func(tx *Tx) (*StaffKey, error) { return tx.AddStaffKey(ctx, owner.ID, key) }); ErrorCode(err) != ECONFLICT {
			t.Fatalf("same key for a second person: %v", err)
		}
		for _, bad := range []string{"not a key", `command="rm -rf /" ` + key, key + "\n" + key} {
			if _, err := inTx(db, func(tx *Tx) (*StaffKey, error) { return tx.AddStaffKey(ctx, owner.ID, bad) }); ErrorCode(err) != EINVALID {
				t.Errorf("AddStaffKey(%q) = %v", bad, err)
			}
		}
		if s, err := db.StaffByFingerprint(ctx, k.Fingerprint); err != nil || s.ID != desk.ID {
			t.Fatalf("StaffByFingerprint = %v, %v", s, err)
		}
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.RemoveStaff(ctx, o.ID, owner.ID) }); ErrorCode(err) != EINVALID {
			t.Fatalf("removing the last owner: %v", err)
		}
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.RemoveStaff(ctx, o.ID, desk.ID) }); err != nil {
			t.Fatal(err)
		}
		if _, err := db.StaffByFingerprint(ctx, k.Fingerprint); ErrorCode(err) != ENOTFOUND {
			t.Fatalf("removed staff's key still signs in: %v", err)
		}
	})
}

// SQLite only: VACUUM INTO a file; on PostgreSQL backup refuses (TestBackupOnPostgresPointsToPgDump).
func TestBackupWhileWriting(t *testing.T) {
	db, _ := newStoreForTest(t)
	ctx := context.Background()
	o := mustOrg(t, db, "Harbor Yoga")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			c := &Customer{OrgID: o.ID, FirstName: "W", LastName: fmt.Sprint(i), Email: fmt.Sprintf("w%d@example.com", i)}
			if err := db.Tx(ctx, func(tx *Tx) error { return tx.CreateCustomer(ctx, c) }); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	dst := filepath.Join(t.TempDir(), "copy.db")
	err := db.Backup(ctx, dst)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Backup(ctx, dst); ErrorCode(err) != EINVALID {
		t.Fatalf("backup over an existing file: %v", err)
	}
	cp, err := sql.Open("sqlite", "file:"+dst+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	var check string
	var fts int
	cp.QueryRow(`PRAGMA integrity_check`).Scan(&check)
	if check != "ok" {
		t.Fatalf("backup integrity_check: %s", check)
	}
	var n int
	cp.QueryRow(`SELECT count(*) FROM customers`).Scan(&n)
	cp.QueryRow(`SELECT count(*) FROM customers_fts WHERE customers_fts MATCH '"w"*'`).Scan(&fts)
	if n != fts {
		t.Fatalf("backup has %d customers but %d in the search index: not one snapshot", n, fts)
	}
}

// TestRosterCountsMatchTheRoster: the trigger-kept counts agree with counting
// the rows, through inserts, invites, expiry, claims, email changes and
// archiving.
func TestRosterCountsMatchTheRoster(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		db, now := newStoreForTest(t)
		ctx := context.Background()
		o := mustOrg(t, db, "Harbor Yoga")
		other := mustOrg(t, db, "Summit Gym")
		owner := mustStaff(t, db, o, "owner@harbor.example", RoleOwner)
		var cs []*Customer
		for i := range 12 {
			email := fmt.Sprintf("c%d@example.com", i)
			if i%5 == 0 {
				email = ""
			}
			cs = append(cs, mustCustomer(t, db, o, "C", fmt.Sprint(i), email))
		}
		mustCustomer(t, db, other, "Other", "Org", "x@example.com")
		check := func(when string) {
			t.Helper()
			got, err := db.RosterCounts(ctx, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := map[Status]int{}
			for _, s := range Statuses {
				rows, err := db.RosterPage(ctx, o.ID, RosterQuery{Status: s, Limit: 1000})
				if err != nil {
					t.Fatal(err)
				}
				if len(rows) > 0 {
					want[s] = len(rows)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%s: counts %v, roster has %v", when, got, want)
			}
		}
		check("after insert")
		for _, c := range cs[1:4] {
			mustInvite(t, db, c, owner, 24*time.Hour)
		}
		check("after invites")
		mustInvite(t, db, cs[6], owner, 72*time.Hour)
		*now = now.Add(48 * time.Hour)
		check("after some expired")
		if ok, err := inTx(db, func(tx *Tx) (bool, error) { return tx.ClaimAccount(ctx, o.ID, cs[6].ID, "$argon2id$x") }); !ok || err != nil {
			t.Fatal(ok, err)
		}
		check("after a claim")
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.SetCustomerEmail(ctx, o.ID, cs[1].ID, "") }); err != nil {
			t.Fatal(err)
		}
		check("after clearing an email")
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.ArchiveCustomer(ctx, o.ID, cs[2].ID) }); err != nil {
			t.Fatal(err)
		}
		check("after archiving")
	})
}

package store

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// logSince is what the change log holds after seq, as "kind:customer" per
// row (customer 0 for the organization), in order.
func logSince(t *testing.T, db *DB, org *Org, seq int64) []string {
	t.Helper()
	rows, err := db.write.Query(`SELECT kind, customer_id FROM changes WHERE seq > ? AND org_id = ? ORDER BY seq`, seq, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var kind string
		var id int64
		if err := rows.Scan(&kind, &id); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s:%d", kind, id))
	}
	return out
}

func logEnd(t *testing.T, db *DB) int64 {
	t.Helper()
	var seq int64
	if err := db.write.QueryRow(`SELECT coalesce(max(seq), 0) FROM changes`).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	return seq
}

// Each write records what staff would see change, and the writes staff
// cannot see (a rehash at sign-in, the worker's leases and Message-IDs, a
// status refresh that finds nothing new) record nothing: those happen all
// day and must not redraw every screen.
func TestChangeLogRecordsWhatChanged(t *testing.T) {
	parallelEngines(t, func(t *testing.T) {
		db, _ := newStoreForTest(t)
		ctx := context.Background()
		org := mustOrg(t, db, "Log Studio")
		admin := mustStaff(t, db, org, "admin@log.example", RoleAdmin)
		ann := mustCustomer(t, db, org, "Ann", "Lee", "ann@example.com")
		claimed := mustCustomer(t, db, org, "Cleo", "Ray", "cleo@example.com")
		if _, err := inTx(db, func(tx *Tx) (bool, error) { return tx.ClaimAccount(ctx, org.ID, claimed.ID, "old-hash") }); err != nil {
			t.Fatal(err)
		}
		var inv *Invite
		var msgs []*OutboxMessage
		for _, c := range []struct {
			name  string
			write func(tx *Tx) error
			want  []string
		}{
			{"a new customer", func(tx *Tx) error {
				return tx.CreateCustomer(ctx, &Customer{OrgID: org.ID, FirstName: "Bo", LastName: "Ng", Email: "bo@example.com"})
			}, []string{"customer:*"}},
			{"a profile saved unchanged", func(tx *Tx) error {
				return tx.UpdateCustomerProfile(ctx, org.ID, ann.ID, ProfileUpdate{FirstName: "Ann", LastName: "Lee"})
			}, []string{fmt.Sprintf("customer:%d", ann.ID)}},
			{"an email change", func(tx *Tx) error { return tx.SetCustomerEmail(ctx, org.ID, ann.ID, "ann.lee@example.com") },
				[]string{fmt.Sprintf("customer:%d", ann.ID)}},
			{"a rehash at sign-in", func(tx *Tx) error {
				_, err := tx.RehashPassword(ctx, org.ID, claimed.ID, "old-hash", "new-hash")
				return err
			}, nil},
			{"an invite", func(tx *Tx) error {
				m := &OutboxMessage{OrgID: org.ID, CustomerID: ann.ID, Kind: "invite", To: "ann.lee@example.com", Subject: "Claim", Text: "link"}
				if err := tx.EnqueueMessage(ctx, m); err != nil {
					return err
				}
				inv = &Invite{OrgID: org.ID, CustomerID: ann.ID, Purpose: PurposeClaim, Email: "ann.lee@example.com", CreatedBy: admin.ID,
					ExpiresAt: db.Now().Add(time.Hour), TokenHash: make([]byte, 32), OutboxID: m.ID}
				return tx.CreateInvite(ctx, inv)
			}, []string{fmt.Sprintf("outbox:%d", ann.ID), fmt.Sprintf("invite:%d", ann.ID), fmt.Sprintf("customer:%d", ann.ID)}},
			{"the worker's lease and Message-ID", func(tx *Tx) error {
				var err error
				if msgs, err = tx.LeaseDue(ctx, "w1", time.Minute, 10); err != nil || len(msgs) != 1 {
					return fmt.Errorf("leased %d: %v", len(msgs), err)
				}
				_, err = tx.AssignMessageIDs(ctx, []int64{msgs[0].ID}, "log.example")
				return err
			}, nil},
			{"the message sent (the status stays Invited)", func(tx *Tx) error {
				_, err := tx.MarkSent(ctx, msgs[0].ID, "w1", "250 OK", "")
				return err
			}, []string{fmt.Sprintf("outbox:%d", ann.ID)}},
			{"the link used", func(tx *Tx) error {
				_, err := tx.UseInvite(ctx, inv.ID)
				return err
			}, []string{fmt.Sprintf("invite:%d", ann.ID)}},
			{"a staff member added", func(tx *Tx) error {
				return tx.CreateStaff(ctx, &Staff{OrgID: org.ID, Email: "desk@log.example", Name: "Desk", Role: RoleStaff})
			}, []string{"staff:0"}},
			{"a key added", func(tx *Tx) error {
				_, err := tx.AddStaffKey(ctx, admin.ID, testKey(t))
				return err
			}, []string{"staff:0"}},
			{"a key opening an SSH session", func(tx *Tx) error {
				_, fp, _ := ParseAuthorizedKey(testKey(t))
				return tx.RecordKeyUse(ctx, fp)
			}, nil},
			{"a role changed", func(tx *Tx) error {
				_, _, err := tx.EditStaff(ctx, org.ID, admin.ID, StaffEdit{Role: RoleStaff})
				return err
			}, []string{"staff:0"}},
			{"a key removed", func(tx *Tx) error {
				keys, err := tx.StaffKeys(ctx, admin.ID)
				if err != nil || len(keys) != 1 {
					return fmt.Errorf("keys %v: %v", keys, err)
				}
				return tx.RemoveStaffKey(ctx, keys[0].ID)
			}, []string{"staff:0"}},
			{"the key added again", func(tx *Tx) error {
				_, err := tx.AddStaffKey(ctx, admin.ID, testKey(t))
				return err
			}, []string{"staff:0"}},
			{"a staff member removed", func(tx *Tx) error { return tx.RemoveStaff(ctx, org.ID, admin.ID) }, []string{"staff:0", "staff:0"}},
			{"the settings", func(tx *Tx) error {
				o := *org
				o.TimeZone = "Europe/London"
				return tx.UpdateOrg(ctx, &o)
			}, []string{"org:0"}},
		} {
			from := logEnd(t, db)
			if err := db.Tx(ctx, c.write); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			got := logSince(t, db, org, from)
			if len(c.want) == 1 && c.want[0] == "customer:*" && len(got) == 1 && strings.HasPrefix(got[0], "customer:") && got[0] != "customer:0" {
				continue
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("%s: the log has %q, want %q", c.name, got, c.want)
			}
		}
	})
}

// testKey is an authorized_keys line of a fresh key.
func testKey(t *testing.T) string {
	t.Helper()
	// A fixed ed25519 public key: the store checks the form, not who holds it.
	return "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test@frontdesk"
}

// A customer column added later must say whether writing it is a change
// staff see: it goes into one of migration 0009's lists (or, with a reason,
// into the ignored ones here). Likewise for the outbox, whose bookkeeping
// columns the worker writes for every message, and for staff keys, whose
// last use every SSH session start writes (0014).
func TestChangeTriggersCoverColumns(t *testing.T) {
	parallelEngines(t, func(t *testing.T) { checkTriggersCoverColumns(t) })
}

func checkTriggersCoverColumns(t *testing.T) {
	db, _ := newStoreForTest(t)
	triggerSQL, columns := `SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = ?`, `SELECT name FROM pragma_table_info(?)`
	if db.Engine() == Postgres {
		triggerSQL = `SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = ?`
		columns = `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?`
	}
	for _, c := range []struct {
		table    string
		triggers []string
		ignored  map[string]string
	}{
		{"customers", []string{"customers_change_edit", "customers_change_state"}, map[string]string{
			"id":                "never changes",
			"password_hash":     "no one sees it; a rehash at every sign-in would redraw every screen",
			"password_rehashes": "written with a rehash only",
			"name_keys":         "derived from the names and written with them; a rebuild of the keys records one change for the organization (rebuildSearchKeys)",
		}},
		{"staff_keys", []string{"staff_keys_change_update"}, map[string]string{
			"id":           "never changes",
			"last_used_at": "written at every SSH session start; no change to who may use a session, shown by `staff key list` only",
		}},
		{"outbox", []string{"outbox_change_update"}, map[string]string{
			"id":          "never changes",
			"lease_owner": "the worker's bookkeeping",
			"lease_until": "the worker's bookkeeping",
			"message_id":  "recorded before the first attempt, shown nowhere",
			"body_text":   "cleared once sent; the status says so",
			"body_html":   "cleared once sent; the status says so",
			"from_name":   "never changes once queued",
			"reply_to":    "never changes once queued",
			"created_at":  "never changes",
		}},
	} {
		var sqls []string
		for _, name := range c.triggers {
			var s string
			if err := db.write.QueryRow(triggerSQL, name).Scan(&s); err != nil {
				t.Fatalf("trigger %s: %v", name, err)
			}
			// The UPDATE OF list, up to ON.
			m := regexp.MustCompile(`(?is)UPDATE OF (.*?) ON `).FindStringSubmatch(s)
			if m == nil {
				t.Fatalf("trigger %s has no UPDATE OF list: %s", name, s)
			}
			sqls = append(sqls, m[1])
		}
		listed := map[string]bool{}
		for _, s := range sqls {
			for _, col := range strings.Split(s, ",") {
				listed[strings.TrimSpace(col)] = true
			}
		}
		rows, err := db.write.Query(columns, c.table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var col string
			rows.Scan(&col)
			_, ign := c.ignored[col]
			switch {
			case listed[col] && ign:
				t.Errorf("%s.%s is both watched by %v and ignored", c.table, col, c.triggers)
			case !listed[col] && !ign:
				t.Errorf("%s.%s is in no change trigger's list (%v): add it to one in a new migration, or say here why writing it is no change staff see", c.table, col, c.triggers)
			}
		}
		rows.Close()
	}
}

// recv waits for the next batch, failing after d.
func recv(t *testing.T, ch <-chan []Change, d time.Duration) []Change {
	t.Helper()
	select {
	case b, ok := <-ch:
		if !ok {
			t.Fatal("the subscription closed")
		}
		return b
	case <-time.After(d):
		t.Fatalf("no change arrived within %s", d)
	}
	return nil
}

// waitChange receives batches until one holds a change matching want, and
// returns everything received; it fails after d.
func waitChange(t *testing.T, ch <-chan []Change, d time.Duration, want func(Change) bool) []Change {
	t.Helper()
	deadline := time.Now().Add(d)
	var all []Change
	for {
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("the change did not arrive within %s; got %+v", d, all)
		}
		b := recv(t, ch, left)
		all = append(all, b...)
		if slices.ContainsFunc(b, want) {
			return all
		}
	}
}

// A change committed through another store.DB on the same file (to SQLite,
// another process: its own connections, its own detector) reaches a
// subscriber of this one within a second.
func TestChangesFromAnotherProcess(t *testing.T) {
	parallelEngines(t, func(t *testing.T) {
		db, _ := newStoreForTest(t)
		ctx := context.Background()
		org := mustOrg(t, db, "Two Process Studio")
		c := mustCustomer(t, db, org, "Ann", "Lee", "ann@example.com")
		ch, cancel := db.Subscribe(org.ID)
		defer cancel()

		other, err := reopenForTest(t, db, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		start := time.Now()
		if err := other.Tx(ctx, func(tx *Tx) error { return tx.SetCustomerEmail(ctx, org.ID, c.ID, "ann.lee@example.com") }); err != nil {
			t.Fatal(err)
		}
		waitChange(t, ch, time.Second, func(ch Change) bool {
			return ch.Kind == ChangeCustomer && ch.CustomerID == c.ID && ch.OrgID == org.ID
		})
		t.Logf("arrived %s after the commit", time.Since(start).Round(time.Millisecond))

		// And this process's own writes, on its writer connection.
		c2 := mustCustomer(t, db, org, "Bo", "Ng", "bo@example.com")
		waitChange(t, ch, time.Second, func(ch Change) bool { return ch.CustomerID == c2.ID })
	})
}

// A subscriber hears only its organization: org B's changes, however many,
// never reach org A's subscriber.
func TestChangesScopedToOrganization(t *testing.T) {
	parallelEngines(t, func(t *testing.T) {
		db, _ := newStoreForTest(t)
		ctx := context.Background()
		a, b := mustOrg(t, db, "Studio A"), mustOrg(t, db, "Studio B")
		chA, cancelA := db.Subscribe(a.ID)
		defer cancelA()
		chB, cancelB := db.Subscribe(b.ID)
		defer cancelB()
		bob := mustCustomer(t, db, b, "Bob", "B", "bob@b.example")
		if err := db.Tx(ctx, func(tx *Tx) error {
			o := *b
			o.Name = "Studio B renamed"
			return tx.UpdateOrg(ctx, &o)
		}); err != nil {
			t.Fatal(err)
		}
		for _, c := range waitChange(t, chB, time.Second, func(c Change) bool { return c.Kind == ChangeOrg }) {
			if c.OrgID != b.ID {
				t.Errorf("org B's subscriber heard %+v", c)
			}
		}
		ann := mustCustomer(t, db, a, "Ann", "A", "ann@a.example")
		got := waitChange(t, chA, time.Second, func(c Change) bool { return c.CustomerID == ann.ID })
		for _, c := range got {
			if c.OrgID != a.ID || c.CustomerID == bob.ID {
				t.Errorf("org A's subscriber heard %+v", c)
			}
		}
	})
}

// A subscriber that does not read holds nobody up: the others get every
// change as it comes, and the slow one finds them all merged into one
// batch when it reads.
func TestChangesCoalesce(t *testing.T) {
	parallelEngines(t, func(t *testing.T) {
		db, _ := newStoreForTest(t)
		ctx := context.Background()
		org := mustOrg(t, db, "Busy Studio")
		slow, cancelSlow := db.Subscribe(org.ID)
		defer cancelSlow()
		fast, cancelFast := db.Subscribe(org.ID)
		defer cancelFast()
		var ids []int64
		for i := range 5 {
			c := mustCustomer(t, db, org, "Cust", fmt.Sprint(i), fmt.Sprintf("c%d@example.com", i))
			ids = append(ids, c.ID)
			// Each its own poll: the fast subscriber has it before the next.
			waitChange(t, fast, time.Second, func(ch Change) bool { return ch.CustomerID == c.ID })
		}
		_ = ctx
		// The fast subscriber may have the last change before the same
		// delivery reaches the slow one (deliver walks a map, under the
		// feed's lock): wait for that delivery to end.
		db.feed.mu.Lock()
		db.feed.mu.Unlock()
		batch := recv(t, slow, time.Second)
		var got []int64
		for _, c := range batch {
			got = append(got, c.CustomerID)
		}
		if !slices.Equal(got, ids) {
			t.Errorf("the slow subscriber's batch has customers %v, want %v", got, ids)
		}
		select {
		case b := <-slow:
			t.Errorf("a second batch waited: %+v", b)
		default:
		}
	})
}

// Merging never grows a backlog past maxBatch: it becomes ChangeAll, as
// does anything merged with ChangeAll; repeats are merged into one.
func TestMergeChanges(t *testing.T) {
	t.Parallel()
	s := &subscription{org: 7, ch: make(chan []Change, 1)}
	s.send([]Change{{Seq: 1, OrgID: 7, CustomerID: 1, Kind: ChangeCustomer}})
	s.send([]Change{{Seq: 2, OrgID: 7, CustomerID: 1, Kind: ChangeCustomer}, {Seq: 3, OrgID: 7, CustomerID: 2, Kind: ChangeInvite}})
	if b := <-s.ch; len(b) != 2 || b[0].Seq != 2 || b[1].CustomerID != 2 {
		t.Errorf("merged %+v, want customer 1 once (seq 2) and customer 2's invite", b)
	}
	for i := range maxBatch + 1 {
		s.send([]Change{{Seq: int64(10 + i), OrgID: 7, CustomerID: int64(i + 1), Kind: ChangeCustomer}})
	}
	if b := <-s.ch; len(b) != 1 || b[0].Kind != ChangeAll || b[0].Seq != int64(10+maxBatch) {
		t.Errorf("a backlog of %d became %+v, want one ChangeAll", maxBatch+1, b)
	}
	s.send([]Change{{Seq: 1, OrgID: 7, Kind: ChangeAll}})
	s.send([]Change{{Seq: 2, OrgID: 7, CustomerID: 3, Kind: ChangeCustomer}})
	if b := <-s.ch; len(b) != 1 || b[0].Kind != ChangeAll {
		t.Errorf("ChangeAll merged into %+v", b)
	}
}

// When the detector cannot follow the log (rows pruned before it read them,
// or a transaction wrote more than is worth listing), every subscriber is
// told that anything may have changed, rather than nothing.
func TestChangesLostTrackSaysAll(t *testing.T) {
	parallelEngines(t, func(t *testing.T) {
		db, _ := newStoreForTest(t)
		org := mustOrg(t, db, "Lost Studio")
		other := mustOrg(t, db, "Quiet Studio")
		ch, cancel := db.Subscribe(org.ID)
		defer cancel()
		chOther, cancelOther := db.Subscribe(other.ID)
		defer cancelOther()
		all := func(c Change) bool { return c.Kind == ChangeAll }

		// A gap: the next row the detector expects is gone.
		tx, err := db.write.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(`INSERT INTO changes (org_id, customer_id, kind) VALUES (?1, 1, 'customer'), (?1, 2, 'customer'), (?1, 3, 'customer')`, org.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(`DELETE FROM changes WHERE seq = (SELECT max(seq) - 2 FROM changes)`); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		waitChange(t, ch, time.Second, all)
		waitChange(t, chOther, time.Second, all)

		// A backlog longer than a poll lists, all of one organization: that
		// organization hears that everything changed, the other nothing.
		if _, err := db.write.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
		INSERT INTO changes (org_id, customer_id, kind) SELECT ?, i, 'customer' FROM n`, org.ID); err != nil {
			t.Fatal(err)
		}
		waitChange(t, ch, time.Second, all)
		marker := mustCustomer(t, db, other, "Quiet", "One", "quiet@example.com")
		for _, c := range waitChange(t, chOther, time.Second, func(c Change) bool { return c.CustomerID == marker.ID }) {
			if c.Kind == ChangeAll || c.OrgID != other.ID {
				t.Errorf("the quiet organization heard %+v of the other's backlog", c)
			}
		}

		// A backlog longer than a poll reads, of which pruning has deleted
		// the start.
		if _, err := db.write.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12000)
		INSERT INTO changes (org_id, customer_id, kind) SELECT ?, i, 'customer' FROM n`, org.ID); err != nil {
			t.Fatal(err)
		}
		waitChange(t, ch, time.Second, all)
		if n := logEnd(t, db); n < 12000 {
			t.Fatalf("log end %d", n)
		}
		var kept int
		db.write.QueryRow(`SELECT count(*) FROM changes`).Scan(&kept)
		if kept > 11000 || kept < 10000 {
			t.Errorf("the log keeps %d rows, want 10,000 to 11,000", kept)
		}
		// And it follows the log again afterwards.
		c := mustCustomer(t, db, org, "Ann", "Lee", "ann@example.com")
		waitChange(t, ch, time.Second, func(ch Change) bool { return ch.CustomerID == c.ID && ch.Kind == ChangeCustomer })
	})
}

// Closing the database closes its subscribers' channels.
func TestChangesCloseEndsSubscriptions(t *testing.T) {
	parallelEngines(t, func(t *testing.T) {
		target, dir := testTarget(t)
		db, err := openTarget(target, dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		ch, cancel := db.Subscribe(1)
		db.Close()
		select {
		case _, ok := <-ch:
			if ok {
				t.Error("a batch after Close")
			}
		case <-time.After(time.Second):
			t.Error("the channel stayed open after Close")
		}
		cancel() // after Close: no panic
		if ch, _ := db.Subscribe(1); ch != nil {
			if _, ok := <-ch; ok {
				t.Error("a subscription after Close is open")
			}
		}
	})
}

// listeners are the backend ids of the change detectors' LISTEN
// connections on db's PostgreSQL database.
func listeners(t *testing.T, db *DB) []int64 {
	t.Helper()
	rows, err := db.read.Query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = ? ORDER BY pid`, pgListenerName)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var pids []int64
	for rows.Next() {
		var pid int64
		if err := rows.Scan(&pid); err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	return pids
}

// On PostgreSQL the detector hears commits on a connection of its own
// (LISTEN; the change log's trigger notifies), so a change made through
// another store.DB, as on another node, arrives within a second. A listener
// connection killed on the server (pg_terminate_backend: a restart, a
// failover, an idle-connection reaper) reconnects by itself, and what was
// committed while it was gone arrives as the changes it was, not lost and
// not as "everything changed".
func TestChangesListenerReconnects(t *testing.T) {
	t.Run(string(Postgres), func(t *testing.T) {
		db, _ := newStoreForTest(t)
		ctx := context.Background()
		org := mustOrg(t, db, "Listening Studio")
		c := mustCustomer(t, db, org, "Ann", "Lee", "ann@example.com")
		other, err := reopenForTest(t, db, Options{}) // another node
		if err != nil {
			t.Fatal(err)
		}
		ch, cancel := db.Subscribe(org.ID)
		defer cancel()
		start := time.Now()
		if err := other.Tx(ctx, func(tx *Tx) error { return tx.SetCustomerEmail(ctx, org.ID, c.ID, "ann.lee@example.com") }); err != nil {
			t.Fatal(err)
		}
		// The first includes opening the listener's connection, which on a
		// loaded machine can take longer than a change may; the 1 s is
		// asserted below, once it listens.
		waitChange(t, ch, 5*time.Second, func(ch Change) bool { return ch.Kind == ChangeCustomer && ch.CustomerID == c.ID })
		t.Logf("heard %s after the other node's commit", time.Since(start).Round(time.Millisecond))
		// The detector reads the log only once it listens, so it does now.
		before := listeners(t, db)
		if len(before) != 1 {
			t.Fatalf("%d change listeners connected to the database, want 1 (only this store.DB subscribes)", len(before))
		}

		for _, pid := range before {
			if _, err := other.write.Exec(`SELECT pg_terminate_backend(?)`, pid); err != nil {
				t.Fatal(err)
			}
		}
		// Committed while the listener is gone (or reconnecting).
		missed := make([]int64, 3)
		for i := range missed {
			missed[i] = mustCustomer(t, other, org, "Bo", fmt.Sprint(i), fmt.Sprintf("bo%d@example.com", i)).ID
		}
		got := map[int64]bool{}
		waitChange(t, ch, 5*time.Second, func(ch Change) bool {
			if ch.Kind == ChangeAll {
				t.Errorf("after reconnecting the detector said everything changed; it should read what it missed")
			}
			got[ch.CustomerID] = true
			return got[missed[0]] && got[missed[1]] && got[missed[2]]
		})
		after := listeners(t, db)
		if len(after) != len(before) || slices.Equal(after, before) {
			t.Errorf("listeners %v after killing %v: want as many, on new connections", after, before)
		}
		// And it hears commits again, at once.
		start = time.Now()
		if err := other.Tx(ctx, func(tx *Tx) error { return tx.SetCustomerEmail(ctx, org.ID, c.ID, "ann@example.org") }); err != nil {
			t.Fatal(err)
		}
		waitChange(t, ch, time.Second, func(ch Change) bool { return ch.Kind == ChangeCustomer && ch.CustomerID == c.ID })
		t.Logf("after the reconnect, heard %s after the commit", time.Since(start).Round(time.Millisecond))
	})
}

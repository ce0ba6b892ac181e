package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Every trigger that a bulk load or clear would otherwise fire (an INSERT
// trigger on a table the door writes, a DELETE trigger on customers) has a
// stand-in written against the SQL it has now, and every stand-in has its
// trigger. A migration that changes one of these triggers fails here (and
// BulkLoad refuses to start) until its stand-in is brought in line.
func TestBulkStandInsMatchTriggers(t *testing.T) {
	parallelEngines(t, testBulkStandInsMatchTriggers)
}

func testBulkStandInsMatchTriggers(t *testing.T) {
	db, _ := newStoreForTest(t)
	if db.pg != nil {
		testPGBulkStandInsMatchTriggers(t, db)
		return
	}
	rows, err := db.read.Query(`SELECT name, tbl_name, sql FROM sqlite_schema WHERE type = 'trigger' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var name, table, ddl string
		if err := rows.Scan(&name, &table, &ddl); err != nil {
			t.Fatal(err)
		}
		flat := strings.Join(strings.Fields(ddl), " ")
		if bulkTriggerEvent(table, flat) == "" {
			continue
		}
		seen[name] = true
		si, ok := bulkStandIns[name]
		switch {
		case !ok:
			t.Errorf("trigger %s on %s has no stand-in: add one to bulkStandIns (store/bulkload.go) that does its work for a range of rows", name, table)
		case si.trigger != flat:
			t.Errorf("trigger %s on %s is now\n\t%s\nbut its stand-in in bulkStandIns was written against\n\t%s\nmake the stand-in do what the trigger now does, then record the new SQL", name, table, flat, si.trigger)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for name := range bulkStandIns {
		if !seen[name] {
			t.Errorf("bulkStandIns stands in for %s, which is no longer a trigger the door stands in for: remove it", name)
		}
	}
}

// testPGBulkStandInsMatchTriggers is TestBulkStandInsMatchTriggers on
// PostgreSQL, against pgBulkStandIns.
func testPGBulkStandInsMatchTriggers(t *testing.T, db *DB) {
	rows, err := db.read.Query(pgBulkTriggerSQL)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var name, table, def string
		var events int
		if err := rows.Scan(&name, &table, &events, &def); err != nil {
			t.Fatal(err)
		}
		if pgBulkTriggerEvent(table, events) == "" {
			continue
		}
		def = strings.TrimSpace(def)
		seen[name] = true
		si, ok := pgBulkStandIns[name]
		switch {
		case !ok:
			t.Errorf("trigger %s on %s has no stand-in: add one to pgBulkStandIns (store/bulkload_postgres.go) that does its work for a range of rows", name, table)
		case si.trigger != def:
			t.Errorf("trigger %s on %s is now\n\t%s\nbut its stand-in in pgBulkStandIns was written against\n\t%s\nmake the stand-in do what the trigger now does, then record the new SQL", name, table, def, si.trigger)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for name := range pgBulkStandIns {
		if !seen[name] {
			t.Errorf("pgBulkStandIns stands in for %s, which is no longer a trigger the door stands in for: remove it", name)
		}
	}
}

// A trigger that drifted from its stand-in stops a load before anything is
// written, and leaves the writer connection as the app needs it.
func TestBulkLoadRefusesChangedTrigger(t *testing.T) {
	parallelEngines(t, testBulkLoadRefusesChangedTrigger)
}

func testBulkLoadRefusesChangedTrigger(t *testing.T) {
	db, _ := newStoreForTest(t)
	ctx := context.Background()
	change := `DROP TRIGGER customers_count_insert;
		CREATE TRIGGER customers_count_insert AFTER INSERT ON customers WHEN new.archived = 0 AND new.state <> 'none' BEGIN
			INSERT INTO roster_counts (org_id, state, n) VALUES (new.org_id, new.state, 1)
			ON CONFLICT (org_id, state) DO UPDATE SET n = n + 1;
		END`
	if db.pg != nil {
		change = `DROP TRIGGER customers_count_insert ON customers;
			CREATE TRIGGER customers_count_insert AFTER INSERT ON customers
			FOR EACH ROW WHEN (NEW.archived = 0 AND NEW.state <> 'none') EXECUTE FUNCTION customers_count_insert()`
	}
	raw, err := db.OpenRaw()
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, change); err != nil {
		t.Fatal(err)
	}
	called := false
	err = db.BulkLoad(ctx, func(l *BulkLoader) error { called = true; return nil })
	if err == nil || !strings.Contains(err.Error(), "customers_count_insert") || called {
		t.Fatalf("BulkLoad with a changed trigger: %v (fn called: %v), want a refusal naming it", err, called)
	}
	if db.pg != nil {
		return
	}
	var fk int
	if err := db.write.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Errorf("writer connection has foreign_keys = %d after the refusal (%v)", fk, err)
	}
}

var bulkCustomerColumns = []string{"id", "org_id", "first_name", "last_name", "sort_name", "email", "phone", "phone_keys",
	"created_at", "updated_at", "claimed_at", "password_hash", "archived", "state", "invite_sent_at", "invite_expires_at", "password_rehashes"}

// bulkCustomerRow is the values of bulkCustomerColumns of a live customer
// with the given name, email (maybe "") and state, added at now.
func bulkCustomerRow(id, orgID int64, first, last, email string, state State, now int64) []any {
	return []any{id, orgID, first, last, "", email, "", "", now, now, nil, "", 0, string(state), nil, nil, 0}
}

// bulkTestTable is a table a test writes through the bulk-load door beside
// the customers: row is the row the customer with id gets.
type bulkTestTable struct {
	name    string
	columns []string
	row     func(id int64) []any
}

// bulkLoadCustomers loads n customers through the bulk-load door in one
// Load: customer gives each one's values of bulkCustomerColumns, and more
// a row of another table for each.
func bulkLoadCustomers(db *DB, n int, customer func(id int64) []any, more ...bulkTestTable) error {
	ctx := context.Background()
	tables := append([]bulkTestTable{{"customers", bulkCustomerColumns, customer}}, more...)
	return db.BulkLoad(ctx, func(l *BulkLoader) error {
		rows := make([]*BulkRows, len(tables))
		for i, tb := range tables {
			var err error
			if rows[i], err = l.Rows(tb.name, tb.columns...); err != nil {
				return err
			}
		}
		return l.Load(ctx, n, func(tx *BulkTx, done, k int) error {
			id, err := tx.FirstID(ctx, "customers")
			if err != nil {
				return err
			}
			// A customer a Write, as a generator hands them over: the door
			// decides when to send them (pgCopyRows).
			for i := range int64(k) {
				for j, tb := range tables {
					rows[j].Reset()
					rows[j].Add(tb.row(id + i)...)
				}
				if err := tx.Write(ctx, rows...); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// The door checks the columns it is asked to write: a name the table does not
// have, or one named twice, is a clear error before anything is written.
func TestBulkLoadChecksColumns(t *testing.T) { parallelEngines(t, testBulkLoadChecksColumns) }

func testBulkLoadChecksColumns(t *testing.T) {
	db, _ := newStoreForTest(t)
	ctx := context.Background()
	for _, c := range []struct {
		columns []string
		want    string
	}{
		{[]string{"org_id", "nickname"}, "customers has no column nickname"},
		{[]string{"org_id", "email", "org_id"}, "customers: column org_id is named twice"},
		{nil, "name the columns of customers"},
	} {
		err := db.BulkLoad(ctx, func(l *BulkLoader) error {
			_, err := l.Rows("customers", c.columns...)
			return err
		})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("columns %q: %v, want an error saying %q", c.columns, err, c.want)
		}
	}
}

// The door checks the rows it is given: a row of the wrong length, or an id
// other than the next free one, is a clear error and the transaction is
// rolled back.
func TestBulkLoadChecksRows(t *testing.T) { parallelEngines(t, testBulkLoadChecksRows) }

func testBulkLoadChecksRows(t *testing.T) {
	db, _ := newStoreForTest(t)
	org := mustOrg(t, db, "Bulk Studio")
	now := db.Now().Unix()
	for _, c := range []struct {
		name, want string
		row        func(id int64) []any
	}{
		{"short row", "a row of 16 values for customers, written as 17 columns", func(id int64) []any {
			return []any{id, org.ID, "Ann", "Lee", "ann lee", "ann@example.com", "", "", now, now, nil, "", 0, "none", nil, nil}
		}},
		{"id not next", "a row has id", func(id int64) []any {
			return []any{id + 5, org.ID, "Ann", "Lee", "ann lee", "ann@example.com", "", "", now, now, nil, "", 0, "none", nil, nil, 0}
		}},
	} {
		err := bulkLoadCustomers(db, 1, c.row)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
		var n int
		db.read.QueryRow(`SELECT count(*) FROM customers`).Scan(&n)
		if n != 0 {
			t.Errorf("%s: %d customers written", c.name, n)
		}
	}
}

// Ids a load numbers from FirstID are the load's: the app's next customer,
// written the ordinary way afterwards (on PostgreSQL, from the identity
// sequence, which rows written with their ids do not move), gets a new
// one, and the load's next transaction starts after it.
func TestBulkLoadIDsAreReserved(t *testing.T) { parallelEngines(t, testBulkLoadIDsAreReserved) }

func testBulkLoadIDsAreReserved(t *testing.T) {
	db, _ := newStoreForTest(t)
	ctx := context.Background()
	org := mustOrg(t, db, "Bulk Studio")
	now := db.Now().Unix()
	var loaded []int64
	load := func() {
		t.Helper()
		err := bulkLoadCustomers(db, 3, func(id int64) []any {
			loaded = append(loaded, id)
			return bulkCustomerRow(id, org.ID, "Ann", fmt.Sprint("Lee ", id), "", StateNoEmail, now)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	load()
	c := mustCustomer(t, db, org, "Bo", "Next", "bo@example.com")
	if slices.Contains(loaded, c.ID) || c.ID <= slices.Max(loaded) {
		t.Errorf("a customer added after the load got id %d; the load wrote %v", c.ID, loaded)
	}
	load()
	if got := loaded[len(loaded)-3]; got <= c.ID {
		t.Errorf("the second load began at id %d, not after the customer added before it (%d)", got, c.ID)
	}
	counts, err := db.RosterCounts(ctx, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n := counts[StatusNoEmail]; n != 6 {
		t.Errorf("%d customers without email counted, want the 6 loaded", n)
	}
}

// Into a PostgreSQL database that holds no customers (and no organization
// but the one loaded), a load sets the foreign keys and indexes of what it
// writes aside until its end and puts them back as they were; a row that
// breaks a key, or a unique index, fails the load and leaves nothing, as
// it does, row by row, into a database that holds other customers.
func TestBulkLoadKeysIntoEmptyPostgres(t *testing.T) {
	t.Run(string(Postgres), func(t *testing.T) {
		db, _ := newStoreForTest(t)
		ctx := context.Background()
		org := mustOrg(t, db, "Bulk Studio")
		now := db.Now().Unix()
		constraints := func() string {
			var s string
			if err := db.queryRow(ctx, `SELECT string_agg(k, E'\n' ORDER BY k) FROM (
				SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) AS k
				FROM pg_constraint WHERE connamespace = current_schema()::regnamespace
				UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema()) c`).Scan(&s); err != nil {
				t.Fatal(err)
			}
			return s
		}
		before := constraints()
		// loadWith writes three customers of org, with the email of each
		// email's, each with a booking of the customer whose id is
		// booker's; load, with emails of their own.
		loadWith := func(email func(id int64) string, booker func(id int64) int64) error {
			return bulkLoadCustomers(db, 3, func(id int64) []any {
				return bulkCustomerRow(id, org.ID, "Ann", fmt.Sprint("Lee ", id), email(id), StateNone, now)
			}, bulkTestTable{"bookings", []string{"customer_id", "kind", "title", "starts_at", "ends_at", "status"}, func(id int64) []any {
				return []any{booker(id), "class", "Yoga", now, now + 3600, "booked"}
			}})
		}
		load := func(booker func(id int64) int64) error {
			return loadWith(func(id int64) string { return fmt.Sprintf("ann.lee%d@example.org", id) }, booker)
		}
		count := func() int { return queryInt(t, db, `SELECT count(*) FROM customers`) }
		dangling := func(id int64) int64 { return id + 1000 }
		sameEmail := func(int64) string { return "ann@example.org" }
		if err := loadWith(sameEmail, func(id int64) int64 { return id }); err == nil || !strings.Contains(err.Error(), "customers_email") {
			t.Errorf("a load of three customers with one email, into an empty database: %v; want it refused for customers_email", err)
		}
		if after := constraints(); after != before {
			t.Errorf("keys and indexes after the refused load:\n%s\nwant:\n%s", after, before)
		}
		if err := load(dangling); err == nil || !strings.Contains(err.Error(), "bookings_customer_id_fkey") {
			t.Errorf("a load with a booking of no customer, into an empty database: %v; want it refused for bookings_customer_id_fkey", err)
		}
		if n := count(); n != 0 {
			t.Errorf("the refused load left %d customers", n)
		}
		if after := constraints(); after != before {
			t.Errorf("keys and indexes after the refused load:\n%s\nwant:\n%s", after, before)
		}
		if err := load(func(id int64) int64 { return id }); err != nil {
			t.Fatal(err)
		}
		if after := constraints(); after != before {
			t.Errorf("keys and indexes after a load into an empty database:\n%s\nwant:\n%s", after, before)
		}
		if n := queryInt(t, db, `SELECT count(*) FROM bookings`); count() != 3 || n != 3 {
			t.Errorf("%d customers and %d bookings loaded, want 3 and 3", count(), n)
		}
		if n, err := db.RosterMatches(ctx, org.ID, RosterQuery{Search: "ann lee"}, 1000); err != nil || n != 3 {
			t.Errorf("%q matches %d (%v) after the load, want 3", "ann lee", n, err)
		}
		// Not empty any more: the keys stay on, and refuse the same row.
		if err := load(dangling); err == nil || !strings.Contains(err.Error(), "bookings_customer_id_fkey") {
			t.Errorf("a load with a booking of no customer, into a database with customers: %v", err)
		}
		if n := count(); n != 3 {
			t.Errorf("the refused load left %d customers, want the 3 before it", n)
		}
	})
}

// queryInt is query's one number.
func queryInt(t *testing.T, db *DB, query string) int {
	t.Helper()
	var n int
	if err := db.queryRow(context.Background(), query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Package storetest gives tests in other packages raw SQL on a store's
// database, on either engine: for states no store method writes (an invalid
// email left by an older version, a role changed by hand) and for checks of
// rows no method reads. SQL is written as in the store, with ? and ?N
// placeholders, and runs on both (store.DB.OpenRaw). It opens connections of
// its own, so it never goes around the store's transactions: a write here
// waits for the store's writer like another process would.
//
// Postgres gives a test a fresh PostgreSQL database; a package that uses it
// calls Main from its TestMain.
package storetest

import (
	"context"
	"database/sql"
	"os"
	"sync"
	"testing"

	"frontdesk/store"
	"frontdesk/store/pgtest"
)

var (
	mu    sync.Mutex
	conns = map[string]*sql.DB{}
)

// Raw returns a connection to db's database, closed when the test ends.
func Raw(t testing.TB, db *store.DB) *sql.DB {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	key := t.Name() + "\x00" + db.Where()
	if c, ok := conns[key]; ok {
		return c
	}
	c, err := db.OpenRaw()
	if err != nil {
		t.Fatal(err)
	}
	conns[key] = c
	t.Cleanup(func() {
		mu.Lock()
		delete(conns, key)
		mu.Unlock()
		c.Close()
	})
	return c
}

// Main runs a package's tests (call it from TestMain:
// os.Exit(storetest.Main(m))) and afterwards drops the PostgreSQL template
// database Postgres made, if it made one.
func Main(m *testing.M) int { return pgtest.Main(m) }

// Postgres returns the connection string of a fresh PostgreSQL database
// with frontdesk's schema, dropped when the test ends, on the server
// FRONTDESK_TEST_POSTGRES names; without that variable the test is skipped
// (failed when FRONTDESK_REQUIRE_POSTGRES=1). Open it with store.OpenWith,
// or give it to frontdesk as --database.
func Postgres(t testing.TB) string {
	t.Helper()
	return pgtest.Database(t, func(dsn string) error {
		db, err := store.OpenWith(dsn, store.Options{Dir: os.TempDir()})
		if err != nil {
			return err
		}
		return db.Close()
	})
}

// Exec runs a statement on db's file and fails the test if it fails.
func Exec(t testing.TB, db *store.DB, query string, args ...any) {
	t.Helper()
	if _, err := Raw(t, db).Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// Scan runs a query that returns one row into dest, failing the test if it
// cannot.
func Scan(t testing.TB, db *store.DB, query string, args []any, dest ...any) {
	t.Helper()
	if err := Raw(t, db).QueryRow(query, args...).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// Int is the one integer a query returns (a count).
func Int(t testing.TB, db *store.DB, query string, args ...any) int {
	t.Helper()
	var n int
	Scan(t, db, query, args, &n)
	return n
}

// Write runs one write that returns a value in a transaction of its own and
// fails the test if it fails.
func Write[T any](t testing.TB, db *store.DB, fn func(tx *store.Tx) (T, error)) T {
	t.Helper()
	var v T
	err := db.Tx(context.Background(), func(tx *store.Tx) error {
		var err error
		v, err = fn(tx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

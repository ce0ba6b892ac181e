// Package storetest gives tests in other packages raw SQL on a store's
// database file: for states no store method writes (an invalid email left by
// an older version, a role changed by hand) and for checks of rows no method
// reads. It opens a connection of its own, so it never goes around the
// store's transactions: a write here waits for the store's writer like
// another process would.
package storetest

import (
	"context"
	"database/sql"
	"sync"
	"testing"

	_ "modernc.org/sqlite" // the driver of the store's files

	"frontdesk/store"
)

var (
	mu    sync.Mutex
	conns = map[string]*sql.DB{}
)

// Raw returns a connection to db's file, closed when the test ends.
func Raw(t testing.TB, db *store.DB) *sql.DB {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	key := t.Name() + "\x00" + db.Path()
	if c, ok := conns[key]; ok {
		return c
	}
	c, err := sql.Open("sqlite", "file:"+db.Path()+"?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	c.SetMaxOpenConns(1)
	conns[key] = c
	t.Cleanup(func() {
		mu.Lock()
		delete(conns, key)
		mu.Unlock()
		c.Close()
	})
	return c
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

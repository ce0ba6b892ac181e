package store

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"frontdesk/store/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// The store's tests of behaviour run on both engines, as subtests named
// sqlite and postgres: the test body is wrapped (bothEngines, or
// parallelEngines for a test that runs in parallel), and newStoreForTest
// and the other openers below open the engine the subtest names. The
// PostgreSQL half skips without FRONTDESK_TEST_POSTGRES (pgtest). Tests of
// SQLite's mechanics (pragmas, files, FTS5, query plans, the bulk door,
// the history of its migrations) stay SQLite-only and say why.

// bothEngines runs body once per engine.
func bothEngines(t *testing.T, body func(t *testing.T)) {
	t.Helper()
	for _, e := range []Engine{SQLite, Postgres} {
		t.Run(string(e), body)
	}
}

// parallelEngines is bothEngines for a test that runs in parallel with
// others: the test and both its halves.
func parallelEngines(t *testing.T, body func(t *testing.T)) {
	t.Helper()
	t.Parallel()
	for _, e := range []Engine{SQLite, Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			body(t)
		})
	}
}

// engineOf is the engine a (sub)test runs on: PostgreSQL inside a subtest
// named postgres, SQLite everywhere else.
func engineOf(t testing.TB) Engine {
	if strings.Contains("/"+t.Name()+"/", "/"+string(Postgres)+"/") {
		return Postgres
	}
	return SQLite
}

// testTarget makes a new database for the test on its engine and returns
// what to open it with (a file path, or a connection string) and its data
// directory (where the outbox key file goes). Nothing is opened yet.
func testTarget(t testing.TB) (target, dir string) {
	t.Helper()
	dir = t.TempDir()
	if engineOf(t) == Postgres {
		return pgtest.Database(t, migrateTemplate), dir
	}
	return filepath.Join(dir, "frontdesk.db"), dir
}

// migrateTemplate brings pgtest's template database to the schema.
func migrateTemplate(dsn string) error {
	db, err := OpenWith(dsn, Options{Dir: os.TempDir()})
	if err != nil {
		return err
	}
	return db.Close()
}

// openTarget opens target (from testTarget) with o, its key file in dir
// unless o names one.
func openTarget(target, dir string, o Options) (*DB, error) {
	if o.Dir == "" {
		o.Dir = dir
	}
	return OpenWith(target, o)
}

// openForTest opens a fresh database on the test's engine, closed when
// the test ends, and returns it with its target and data directory.
func openForTest(t testing.TB) (db *DB, target, dir string) {
	t.Helper()
	target, dir = testTarget(t)
	db, err := openTarget(target, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	testTargets.Store(db, [2]string{target, dir})
	t.Cleanup(func() {
		testTargets.Delete(db)
		db.Close()
	})
	return db, target, dir
}

// testTargets are what opened each DB of openForTest, for reopenForTest.
var testTargets sync.Map

// reopenForTest opens db's database once more, as another process would
// (with o; its key file in the same place unless o says otherwise), closed
// when the test ends.
func reopenForTest(t testing.TB, db *DB, o Options) (*DB, error) {
	t.Helper()
	v, ok := testTargets.Load(db)
	if !ok {
		t.Fatal("reopenForTest: not a database of openForTest")
	}
	td := v.([2]string)
	other, err := openTarget(td[0], td[1], o)
	if err == nil {
		t.Cleanup(func() { other.Close() })
	}
	return other, err
}

// newStoreForTest opens a fresh database on the test's engine with a
// movable clock.
func newStoreForTest(t testing.TB) (*DB, *time.Time) {
	t.Helper()
	db, _, _ := openForTest(t)
	now := time.Date(2026, 11, 23, 14, 5, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	return db, &now
}

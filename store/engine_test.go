package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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

// Every SQLite migration is folded into PostgreSQL's baseline or has a
// PostgreSQL twin under its number. PostgreSQL may have migrations of its
// own under numbers SQLite does not use (what only its engine needs, as
// 0021's notification); TestBothEnginesHaveTheSameSchema keeps them from
// making another schema.
func TestMigrationsForBothEngines(t *testing.T) {
	sqliteVersions := map[int]bool{}
	for _, m := range migrations[SQLite] {
		sqliteVersions[m.version] = true
	}
	covered := map[int]bool{}
	for i, m := range migrations[Postgres] {
		if m.baseline() != (i == 0) {
			t.Fatalf("PostgreSQL's migrations begin with %s: the baseline applies first, and there is one", migrations[Postgres][0].name)
		}
		vs := m.folds
		if !slices.Contains(vs, m.version) {
			vs = append([]int{m.version}, vs...)
		}
		for _, v := range vs {
			if !sqliteVersions[v] && (v != m.version || m.baseline()) {
				t.Errorf("PostgreSQL's %s makes migration %d, which SQLite does not have", m.name, v)
			}
			if covered[v] {
				t.Errorf("PostgreSQL makes migration %d twice (%s)", v, m.name)
			}
			covered[v] = true
		}
	}
	for v := range sqliteVersions {
		if !covered[v] {
			t.Errorf("SQLite migration %d has no PostgreSQL twin: write %04d_NAME_postgres.sql making the same change", v, v)
		}
	}
}

// schemaOf describes db's schema in terms both engines share: each
// table's columns in order, and the names of its indexes (those made by
// CREATE INDEX; a UNIQUE or PRIMARY KEY constraint's are the columns') and
// of its triggers. The search index is each engine's own (see
// searchDialect) and left out.
func schemaOf(t *testing.T, db *DB) map[string]string {
	t.Helper()
	queries := map[string]string{
		"column": `SELECT m.name, p.name FROM sqlite_schema m, pragma_table_info(m.name) p
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE 'customers_fts%' ORDER BY m.name, p.cid`,
		"index":   `SELECT tbl_name, name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL AND tbl_name NOT LIKE 'customers_fts%' ORDER BY tbl_name, name`,
		"trigger": `SELECT tbl_name, name FROM sqlite_schema WHERE type = 'trigger' AND name NOT LIKE 'customers_fts%' AND name NOT LIKE 'customers_search%' ORDER BY tbl_name, name`,
	}
	if db.Engine() == Postgres {
		queries = map[string]string{
			"column": `SELECT table_name, column_name FROM information_schema.columns
				WHERE table_schema = current_schema() AND table_name NOT LIKE 'customers_search%' ORDER BY table_name, ordinal_position`,
			"index": `SELECT t.relname, i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
				WHERE t.relnamespace = current_schema()::regnamespace AND t.relname NOT LIKE 'customers_search%'
				AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY 1, 2`,
			"trigger": `SELECT c.relname, g.tgname FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
				WHERE NOT g.tgisinternal AND c.relnamespace = current_schema()::regnamespace AND g.tgname NOT LIKE 'customers_search%'
				AND g.tgname <> 'changes_next' ORDER BY 1, 2`, // PostgreSQL's numbering of the log under the write lock (the baseline)
		}
	}
	out := map[string]string{}
	var columns []string // "table column", sorted below
	for kind, q := range queries {
		rows, err := db.read.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for rows.Next() {
			var table, name string
			if err := rows.Scan(&table, &name); err != nil {
				t.Fatal(err)
			}
			if kind == "column" {
				columns = append(columns, table+" "+name)
				continue
			}
			key := table + " " + kind + "s"
			if out[key] != "" {
				out[key] += ", "
			}
			out[key] += name
		}
		rows.Close()
	}
	slices.Sort(columns)
	for _, tc := range columns {
		table, name, _ := strings.Cut(tc, " ")
		key := table + " columns"
		if out[key] != "" {
			out[key] += ", "
		}
		out[key] += name
	}
	return out
}

// PostgreSQL's baseline and twins make the schema SQLite's migrations
// make: the same tables with the same columns, the same indexes and
// triggers. Not the columns' order: a twin numbered below the baseline
// (0017) adds its columns after the baseline's on PostgreSQL and before
// 0018's on a new SQLite file, and after them on a SQLite file upgraded
// from 0019, so the order depends on a database's history on either engine.
// Nothing relies on it: the bulk-load door, the demo and the data move name
// every column they write.
func TestBothEnginesHaveTheSameSchema(t *testing.T) {
	var schemas [2]map[string]string
	bothEngines(t, func(t *testing.T) {
		db, _ := newStoreForTest(t)
		if db.Engine() == Postgres {
			schemas[1] = schemaOf(t, db)
		} else {
			schemas[0] = schemaOf(t, db)
		}
	})
	if schemas[0] == nil || schemas[1] == nil {
		return // the PostgreSQL half skipped
	}
	for k, v := range schemas[0] {
		if schemas[1][k] != v {
			t.Errorf("%s: SQLite has %s;\n\tPostgreSQL has %s", k, v, schemas[1][k])
		}
	}
	for k, v := range schemas[1] {
		if _, ok := schemas[0][k]; !ok {
			t.Errorf("%s: PostgreSQL has %s; SQLite has none", k, v)
		}
	}
}

// Options.Existing on PostgreSQL: a database without frontdesk's schema,
// or none at all, is "no database", and nothing is created in it.
func TestOpenExistingOnPostgres(t *testing.T) {
	empty := pgtest.Empty(t)
	dir := t.TempDir()
	if _, err := OpenWith(empty, Options{Dir: dir, Existing: true}); !errors.Is(err, ErrNoDatabase) || ErrorCode(err) != ENOTFOUND {
		t.Fatalf("a database without the schema: %v (code %s), want ErrNoDatabase", err, ErrorCode(err))
	}
	if _, err := OpenWith(pgtest.WithDatabase(empty, "fdtest_none_"+filepath.Base(dir)), Options{Dir: dir, Existing: true}); !errors.Is(err, ErrNoDatabase) {
		t.Fatalf("a database that does not exist: %v, want ErrNoDatabase", err)
	}
	// Opened normally, it gets the schema; Existing then opens it.
	db, err := OpenWith(empty, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = OpenWith(empty, Options{Dir: dir, Existing: true})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if got := dirNames(t, dir); len(got) != 0 {
		t.Fatalf("opening a PostgreSQL database left %v in the data directory", got)
	}
}

// There is no file to copy on PostgreSQL: backup says to use pg_dump and
// writes nothing.
func TestBackupOnPostgresPointsToPgDump(t *testing.T) {
	t.Run(string(Postgres), func(t *testing.T) {
		db, _ := newStoreForTest(t)
		dst := filepath.Join(t.TempDir(), "copy.db")
		if err := db.Backup(context.Background(), dst); ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), "pg_dump") {
			t.Fatalf("backup on PostgreSQL: %v", err)
		}
		if _, err := os.Stat(dst); !os.IsNotExist(err) {
			t.Fatalf("backup wrote %s: %v", dst, err)
		}
	})
}

// The change log's numbering trigger on PostgreSQL takes DB.Tx's write
// lock, so that a write made outside frontdesk is ordered with the rest:
// the baseline must name the same key as pgWriteLock.
func TestChangeLogTakesTheWriteLock(t *testing.T) {
	for _, m := range migrations[Postgres] {
		if m.baseline() && !strings.Contains(m.sql, fmt.Sprintf("pg_advisory_xact_lock(%d)", pgWriteLock)) {
			t.Fatalf("%s's changes_next does not take pg_advisory_xact_lock(%d), DB.Tx's write lock", m.name, pgWriteLock)
		}
	}
}

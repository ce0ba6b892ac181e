package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// Options.Existing opens a database that is there and creates nothing when
// it is not: no directory, no database file, no -wal or -shm, no key file.
//
// SQLite only: files and directories; TestOpenExistingOnPostgres is PostgreSQL's.
func TestOpenExistingCreatesNothing(t *testing.T) {
	root := t.TempDir()
	missingDir := filepath.Join(root, "nowhere", "data")
	_, err := OpenWith(filepath.Join(missingDir, "frontdesk.db"), Options{Existing: true})
	if !errors.Is(err, ErrNoDatabase) || ErrorCode(err) != ENOTFOUND {
		t.Fatalf("missing directory: %v (code %s), want ErrNoDatabase", err, ErrorCode(err))
	}
	if _, err := os.Stat(filepath.Join(root, "nowhere")); !os.IsNotExist(err) {
		t.Fatalf("the directory was created: %v", err)
	}

	empty := filepath.Join(root, "empty")
	os.Mkdir(empty, 0o700)
	if _, err := OpenWith(filepath.Join(empty, "frontdesk.db"), Options{Existing: true}); !errors.Is(err, ErrNoDatabase) {
		t.Fatalf("empty directory: %v", err)
	}
	if got := dirNames(t, empty); len(got) != 0 {
		t.Fatalf("Existing left %v behind", got)
	}
	// The connections themselves cannot create the file either, should it
	// go between the check and the open.
	c, err := sql.Open("sqlite", dsn(filepath.Join(empty, "frontdesk.db"), false, true))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(); err == nil {
		t.Fatal("a must-exist connection opened a missing file")
	}
	c.Close()
	if got := dirNames(t, empty); len(got) != 0 {
		t.Fatalf("a must-exist connection left %v behind", got)
	}
	if _, err := OpenWith(empty, Options{Existing: true}); err == nil || errors.Is(err, ErrNoDatabase) {
		t.Fatalf("a directory as the database: %v", err)
	}

	// A database that is there opens, reads, and gains no key file: only a
	// write makes one.
	path := filepath.Join(root, "live", "frontdesk.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	mustOrg(t, db, "Harbor Yoga")
	db.Close()
	before := dirNames(t, filepath.Dir(path))
	ro, err := OpenWith(path, Options{Existing: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	orgs, err := ro.Orgs(context.Background())
	if err != nil || len(orgs) != 1 || orgs[0].Name != "Harbor Yoga" {
		t.Fatalf("Orgs: %v %v", orgs, err)
	}
	for _, name := range dirNames(t, filepath.Dir(path)) {
		if name == OutboxKeyFile {
			t.Fatalf("opening an existing database made the key file (before: %v)", before)
		}
	}
}

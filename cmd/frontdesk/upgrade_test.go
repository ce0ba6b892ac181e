package main

import (
	"database/sql"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Going back to an older frontdesk after an upgrade (a rollback): the
// database has migrations the binary does not know. Every command, serve
// included, refuses it with words that say what happened and what to do,
// and leaves it as it was.
func TestOlderBinaryRefusesNewerSchema(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "5")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(c.dir, "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	var known int
	if err := db.QueryRow(`SELECT max(version) FROM schema_migrations`).Scan(&known); err != nil {
		t.Fatal(err)
	}
	newer := known + 7
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from_a_newer_frontdesk.sql', 0)`, newer); err != nil {
		t.Fatal(err)
	}
	db.Close()
	customers := c.count("customers")

	for _, args := range [][]string{{"org", "list"}, {"serve", "--ssh-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"}} {
		code, out, errs := c.run(args...)
		if code != 1 || out != "" {
			t.Errorf("%v on a newer database: exit %d, stdout %q; want 1 and nothing", args, code, out)
		}
		for _, want := range []string{"frontdesk.db", strconv.Itoa(newer), strconv.Itoa(known), "newer frontdesk", "restore"} {
			if !strings.Contains(errs, want) {
				t.Errorf("%v: the refusal %q does not say %q", args, errs, want)
			}
		}
	}
	var still int
	if err := c.sqlite().QueryRow(`SELECT max(version) FROM schema_migrations`).Scan(&still); err != nil || still != newer || c.count("customers") != customers {
		t.Errorf("the database changed: version %d (%v), %d customers", still, err, c.count("customers"))
	}
}

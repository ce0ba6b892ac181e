package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"frontdesk/store/storetest"
)

// The whole program on PostgreSQL (--database, here FRONTDESK_DATABASE):
// the CLI sets up an organization and invites a customer, serve shows the
// roster over SSH, and the customer's claim on the web shows there without
// a key press. No database file is made in the data directory; the outbox
// key and the SSH host key are still there.
func TestServeOnPostgres(t *testing.T) {
	dsn := storetest.Postgres(t)
	mail := startMailServer(t)
	c := newCLI(t)
	c.env["FRONTDESK_DATABASE"] = dsn
	c.useSMTP(mail.addr)
	c.ok("org", "add", "--name", "Harbor Yoga")
	c.ok("staff", "add", "--email", "owner@harbor.example", "--name", "Olga Owner", "--role", "owner")
	key := c.withKey("owner@harbor.example")
	c.ok("customers", "add", "--first-name", "Ingrid", "--last-name", "Bergström", "--email", "ingrid@example.com")
	if out := c.ok("invite", "ingrid@example.com"); !strings.Contains(out, "sent to") {
		t.Fatalf("invite: %s", out)
	}
	if _, err := os.Stat(filepath.Join(c.dir, "frontdesk.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a SQLite file in the data directory with --database: %v", err)
	}

	s := c.serve()
	tm := s.login(key, 120, 30)
	tm.wait("Harbor Yoga · Olga Owner (owner)")
	tm.rowSays("Bergström", "Invited")
	if _, err := os.Stat(filepath.Join(c.dir, hostKeyFile)); err != nil {
		t.Fatalf("the SSH host key is not in the data directory: %v", err)
	}

	link := claimLink.FindString(mail.received()[0])
	if link == "" {
		t.Fatalf("no claim link in:\n%s", mail.received()[0])
	}
	claimOnWeb(t, link, s.http, tm.watch)
	tm.rowSays("Bergström", "Claimed")
}

// A connection string may hold a password: what frontdesk says about the
// database names its server and database only. Something that is not a
// connection string is a mistake in the command line.
func TestDatabaseFlagNeverPrintsThePassword(t *testing.T) {
	c := newCLI(t)
	c.env["FRONTDESK_DATABASE"] = "postgres://frontdesk:s3cret-pw@127.0.0.1:1/studios?sslmode=disable&connect_timeout=5"
	code, out, errs := c.run("org", "list")
	if code != 1 || strings.Contains(out+errs, "s3cret-pw") || !strings.Contains(errs, `"studios" on 127.0.0.1:1`) {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	c.env["FRONTDESK_DATABASE"] = "postgres//frontdesk:s3cret-pw@db/studios"
	code, out, errs = c.run("org", "list")
	if code != 2 || strings.Contains(out+errs, "s3cret-pw") || !strings.Contains(errs, "--database takes a PostgreSQL connection string") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
}

// The demo fills PostgreSQL as it fills SQLite (through the bulk-load
// door's COPY): the organization, its staff and customers in every status,
// and a refill replaces them.
func TestDemoOnPostgres(t *testing.T) {
	c := newCLI(t)
	c.env["FRONTDESK_DATABASE"] = storetest.Postgres(t)
	out := c.ok("demo", "--customers", "120")
	if !strings.Contains(out, "has 120 customers") || !strings.Contains(out, `PostgreSQL database "`) {
		t.Fatalf("demo on PostgreSQL said %q", out)
	}
	for _, status := range []string{"claimed", "invited", "not-invited", "no-email"} {
		c.firstWith(status)
	}
	if out := c.ok("staff", "list"); !strings.Contains(out, "owner@harbor-yoga.example") {
		t.Fatalf("staff after the demo:\n%s", out)
	}
	if out := c.ok("demo", "--customers", "40", "--seed", "2"); !strings.Contains(out, "has 40 customers") {
		t.Fatalf("refill on PostgreSQL said %q", out)
	}
	if _, err := os.Stat(filepath.Join(c.dir, "frontdesk.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the demo made a SQLite file with --database: %v", err)
	}
}

package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"frontdesk/store"
	"frontdesk/store/storetest"
)

// A demo database on SQLite moved into PostgreSQL is the same database
// there: the same roster, profiles and outbox; a claim link sent before the
// move still works after it (through claim); and a message still waiting in
// the outbox, sealed, is delivered from PostgreSQL with the same key file.
// A second move into the now non-empty database is refused, saying what is
// there.
func TestMigrateDataToPostgres(t *testing.T) {
	dsn := storetest.Postgres(t)
	mail := startMailServer(t)
	c := newCLI(t)
	c.ok("demo", "--customers", "300")
	c.useSMTP(mail.addr)
	ctx := context.Background()

	_, email := c.firstWith("not-invited")
	c.ok("invite", email)
	link := claimLink.FindString(mail.received()[0])
	if link == "" {
		t.Fatalf("no claim link in:\n%s", mail.received()[0])
	}
	// A second invite issued but not delivered: its body waits in the
	// outbox, sealed.
	waitingID, _ := c.firstWith("not-invited")
	app := &App{Config: Config{DataDir: c.dir, BaseURL: "https://desk.example"}}
	if err := app.Open(); err != nil {
		t.Fatal(err)
	}
	org, err := app.Organization(ctx)
	if err != nil {
		t.Fatal(err)
	}
	owner, err := app.DB.FirstOwner(ctx, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	waiting, err := app.Service().Issue(ctx, owner, waitingID, store.PurposeClaim)
	if err != nil {
		t.Fatal(err)
	}
	before := moveSnapshot(t, app.DB, org.ID)
	app.Close()

	file := filepath.Join(c.dir, "frontdesk.db")
	out := c.ok("migrate-data", "--from", file, "--to", dsn)
	for _, want := range []string{"customers 300,", "outbox ", "invites ", "--outbox-key " + filepath.Join(c.dir, "outbox.key")} {
		if !strings.Contains(out, want) {
			t.Errorf("migrate-data said %q, want it to say %q", out, want)
		}
	}
	if strings.Contains(out, "postgres://") {
		t.Errorf("migrate-data printed the connection string: %q", out)
	}

	moved := &App{Config: Config{DataDir: c.dir, Database: dsn, BaseURL: "https://desk.example"}}
	if err := moved.Open(); err != nil {
		t.Fatal(err)
	}
	defer moved.Close()
	after := moveSnapshot(t, moved.DB, org.ID)
	a, b := strings.Split(after, "\n"), strings.Split(before, "\n")
	if len(a) != len(b) {
		t.Errorf("after the move the organization reads in %d lines, before it in %d", len(a), len(b))
	}
	for i, shown := 0, 0; i < min(len(a), len(b)) && shown < 3; i++ {
		if a[i] != b[i] {
			d := 0
			for d < min(len(a[i]), len(b[i])) && a[i][d] == b[i][d] {
				d++
			}
			d = max(0, d-200)
			t.Errorf("after the move, a line reads\n…%s\nbefore it\n…%s", a[i][d:], b[i][d:])
			shown++
		}
	}

	// The waiting message goes out from PostgreSQL: its body opens with
	// the key file beside the SQLite file, which the move named.
	c.env["FRONTDESK_DATABASE"] = dsn
	c.ok("outbox", "retry", strconv.FormatInt(waiting.OutboxID, 10))
	if got := mail.received(); len(got) != 2 || claimLink.FindString(got[1]) == "" {
		t.Fatalf("after the move the waiting invite was not delivered with its link: %d messages", len(got))
	}

	// The link sent before the move claims the account after it, once.
	token := link[strings.LastIndex(link, "/")+1:]
	cust, err := moved.Service().Redeem(ctx, store.PurposeClaim, token, "a quiet harbour at dawn 42")
	if err != nil {
		t.Fatalf("claiming with a link sent before the move: %v", err)
	}
	if !strings.EqualFold(cust.Email, email) {
		t.Errorf("the link claimed %s, not %s", cust.Email, email)
	}
	if out := c.ok("customers", "list", "--search", email); !strings.Contains(out, "Claimed") {
		t.Errorf("after claiming, the roster on PostgreSQL says:\n%s", out)
	}
	// The search keys came along: a number stored in national form is
	// found in international form, through the documents the move made.
	var id int64
	var phone string
	storetest.Scan(t, moved.DB, `SELECT id, phone FROM customers WHERE org_id = ? AND archived = 0 AND phone LIKE '07%' ORDER BY id LIMIT 1`, []any{org.ID}, &id, &phone)
	intl := "+44 " + strings.TrimPrefix(phone, "0")
	if rows, err := moved.DB.RosterPage(ctx, org.ID, store.RosterQuery{Search: intl, Limit: 100}); err != nil || !slices.ContainsFunc(rows, func(r store.RosterRow) bool { return r.ID == id }) {
		t.Errorf("after the move, search %q does not find the customer with %s: %v", intl, phone, err)
	}
	// New rows take new ids: the sequences were set past the moved ones.
	c.ok("customers", "add", "--first-name", "Nia", "--last-name", "New", "--email", "nia.new@example.com")

	// Moving again into the same database is refused, saying what is there.
	code, out, errs := c.run("migrate-data", "--from", file, "--to", dsn)
	if code != 1 || !strings.Contains(errs, "is not empty") || !strings.Contains(errs, "customers 301") || !strings.Contains(errs, "harbor-yoga") {
		t.Errorf("a second move: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	// Mistakes in the command line.
	for _, args := range [][]string{
		{"migrate-data", "--from", file},
		{"migrate-data", "--from", file, "--to", filepath.Join(c.dir, "other.db")},
		{"migrate-data", "--from", dsn, "--to", dsn},
	} {
		if code, _, errs := c.run(args...); code != 2 {
			t.Errorf("frontdesk %s: exit %d (%s), want 2", strings.Join(args, " "), code, errs)
		}
	}
}

// moveSnapshot is what the organization reads like: its roster, every
// customer's profile, its outbox and roster counts.
func moveSnapshot(t *testing.T, db *store.DB, orgID int64) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	rows, err := db.RosterPage(ctx, orgID, store.RosterQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		fmt.Fprintf(&b, "%+v\n", r)
		p, err := db.Profile(ctx, orgID, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%+v\n", p)
	}
	msgs, err := db.OutboxPage(ctx, orgID, store.OutboxQuery{Limit: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		fmt.Fprintf(&b, "%+v\n", m)
	}
	counts, err := db.RosterCounts(ctx, orgID)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "%v\n", counts)
	return b.String()
}

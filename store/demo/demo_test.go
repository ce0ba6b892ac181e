package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"frontdesk/store"
	"frontdesk/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// The demo's tests run on both engines, as subtests sqlite and postgres
// (the PostgreSQL half skips without FRONTDESK_TEST_POSTGRES): the demo
// only says which rows there are, and the store's bulk-load door writes
// them each engine's way.
func bothEngines(t *testing.T, body func(t *testing.T)) {
	t.Helper()
	t.Parallel()
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			body(t)
		})
	}
}

// onPostgres reports whether the (sub)test runs on PostgreSQL.
func onPostgres(t testing.TB) bool {
	return strings.Contains("/"+t.Name()+"/", "/"+string(store.Postgres)+"/")
}

// sqlFor picks the engine's version of a query that differs.
func sqlFor(db *store.DB, sqlite, postgres string) string {
	if db.Engine() == store.Postgres {
		return postgres
	}
	return sqlite
}

// openForTest opens a fresh database on the test's engine with a fixed
// clock.
func openForTest(t testing.TB) *store.DB {
	t.Helper()
	target := filepath.Join(t.TempDir(), "frontdesk.db")
	if onPostgres(t) {
		target = storetest.Postgres(t)
	}
	db, err := store.OpenWith(target, store.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 11, 23, 14, 5, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	return db
}

// demoForTest generates a demo organization into a fresh database.
func demoForTest(t testing.TB, n int, seed int64) (*store.DB, *store.Org) {
	t.Helper()
	db := openForTest(t)
	org, err := Generate(context.Background(), db, Options{Customers: n, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return db, org
}

func mustOrg(t testing.TB, db *store.DB, name string) *store.Org {
	t.Helper()
	return storetest.Write(t, db, func(tx *store.Tx) (*store.Org, error) {
		o := &store.Org{Name: name, Notifications: true}
		return o, tx.CreateOrg(context.Background(), o)
	})
}

func mustCustomer(t testing.TB, db *store.DB, org *store.Org, first, last, email string) *store.Customer {
	t.Helper()
	return storetest.Write(t, db, func(tx *store.Tx) (*store.Customer, error) {
		c := &store.Customer{OrgID: org.ID, FirstName: first, LastName: last, Email: email}
		return c, tx.CreateCustomer(context.Background(), c)
	})
}

func mustStaff(t testing.TB, db *store.DB, org *store.Org, email string, role store.Role) *store.Staff {
	t.Helper()
	return storetest.Write(t, db, func(tx *store.Tx) (*store.Staff, error) {
		s := &store.Staff{OrgID: org.ID, Email: email, Name: strings.Split(email, "@")[0], Role: role}
		return s, tx.CreateStaff(context.Background(), s)
	})
}

// mustInvite records a claim invite (with its outbox message) as the invite
// service does.
func mustInvite(t testing.TB, db *store.DB, c *store.Customer, by *store.Staff) {
	t.Helper()
	ctx := context.Background()
	h := sha256.Sum256([]byte(fmt.Sprintf("token-%d", c.ID)))
	storetest.Write(t, db, func(tx *store.Tx) (*store.Invite, error) {
		m := &store.OutboxMessage{OrgID: c.OrgID, CustomerID: c.ID, Kind: store.MessageInvite, To: c.Email, Subject: "Claim your account"}
		if err := tx.EnqueueMessage(ctx, m); err != nil {
			return nil, err
		}
		inv := &store.Invite{OrgID: c.OrgID, CustomerID: c.ID, Purpose: store.PurposeClaim, Email: c.Email, CreatedBy: by.ID,
			ExpiresAt: db.Now().Add(store.DefaultInviteTTL), TokenHash: h[:], OutboxID: m.ID}
		return inv, tx.CreateInvite(ctx, inv)
	})
}

// demoDigest hashes everything generated about the organization's customers,
// in generation order.
func demoDigest(t *testing.T, db *store.DB, orgID int64) string {
	t.Helper()
	h := sha256.New()
	for _, q := range []string{
		`SELECT first_name, last_name, email, phone, state, created_at, coalesce(claimed_at, 0), coalesce(invite_expires_at, 0), archived FROM customers WHERE org_id = ?1 ORDER BY id`,
		`SELECT v.customer_id - (SELECT min(id) FROM customers WHERE org_id = ?1), f.name, v.value FROM custom_field_values v JOIN custom_fields f ON f.id = v.field_id WHERE f.org_id = ?1 ORDER BY v.customer_id, f.position`,
		`SELECT b.kind, b.title, b.starts_at, b.status FROM bookings b JOIN customers c ON c.id = b.customer_id WHERE c.org_id = ?1 ORDER BY b.id`,
		`SELECT p.amount_cents, p.description, p.paid_at, p.status FROM payments p JOIN customers c ON c.id = p.customer_id WHERE c.org_id = ?1 ORDER BY p.id`,
		`SELECT s.plan, s.status, s.started_at FROM subscriptions s JOIN customers c ON c.id = s.customer_id WHERE c.org_id = ?1 ORDER BY s.id`,
		`SELECT i.purpose, i.email, i.token_hash, i.created_at, o.status, o.last_error FROM invites i JOIN outbox o ON o.id = i.outbox_id WHERE i.org_id = ?1 ORDER BY i.id`,
	} {
		rows, err := storetest.Raw(t, db).QueryContext(context.Background(), q, orgID)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(h, "%q\n", vals)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestDemoDeterministic(t *testing.T) { bothEngines(t, testDemoDeterministic) }

func testDemoDeterministic(t *testing.T) {
	db1, o1 := demoForTest(t, 300, 7)
	db2, o2 := demoForTest(t, 300, 7)
	db3, o3 := demoForTest(t, 300, 8)
	d1, d2, d3 := demoDigest(t, db1, o1.ID), demoDigest(t, db2, o2.ID), demoDigest(t, db3, o3.ID)
	if d1 != d2 {
		t.Errorf("same seed gave different customers")
	}
	if d1 == d3 {
		t.Errorf("different seeds gave the same customers")
	}
	// A refill with the seed gives the same customers too.
	if _, err := Generate(context.Background(), db3, Options{Customers: 300, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	if demoDigest(t, db3, o3.ID) != d1 {
		t.Errorf("refill with the same seed gave different customers")
	}
}

// demoCheckHealthy fails unless SQLite finds the file sound and every foreign
// key satisfied (PostgreSQL checks its foreign keys as rows arrive, bulk or
// not).
func demoCheckHealthy(t testing.TB, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	if db.Engine() == store.SQLite {
		demoCheckSQLiteFile(t, db)
	}
	// Every message names the customer its invite is for, as EnqueueMessage
	// makes them.
	var unlinked int
	if err := storetest.Raw(t, db).QueryRowContext(ctx, `SELECT count(*) FROM outbox o LEFT JOIN invites i ON i.outbox_id = o.id
		WHERE o.customer_id IS NULL OR o.customer_id IS DISTINCT FROM i.customer_id`).Scan(&unlinked); err != nil || unlinked != 0 {
		t.Errorf("%d outbox messages without their invite's customer (%v)", unlinked, err)
	}
}

// demoCheckSQLiteFile fails unless SQLite finds the file sound and every
// foreign key satisfied: the door writes with foreign keys off there.
func demoCheckSQLiteFile(t testing.TB, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	var ok string
	if err := storetest.Raw(t, db).QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Errorf("integrity_check: %q %v", ok, err)
	}
	rows, err := storetest.Raw(t, db).QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fk int
		rows.Scan(&table, &rowid, &parent, &fk)
		t.Errorf("foreign key violation: %s row %v → %s", table, rowid, parent)
	}
}

func TestDemoRoster(t *testing.T) { bothEngines(t, testDemoRoster) }

func testDemoRoster(t *testing.T) {
	db, org := demoForTest(t, 500, 1)
	ctx := context.Background()

	if org.Name != "Harbor Yoga" || org.Slug != "harbor-yoga" || org.TimeZone != "Europe/London" || org.WalkthroughURL == "" || org.PaymentsURL == "" {
		t.Errorf("org = %+v", org)
	}
	staff, err := db.StaffList(ctx, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range staff {
		got = append(got, s.Name+" "+s.Email+" "+string(s.Role))
	}
	if want := "Maya Harbor owner@harbor-yoga.example owner|Sam Rivera admin@harbor-yoga.example admin|Jo Front desk@harbor-yoga.example staff"; strings.Join(got, "|") != want {
		t.Errorf("staff = %q", got)
	}

	counts, err := db.RosterCounts(ctx, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, s := range store.Statuses {
		if counts[s] == 0 {
			t.Errorf("no customer is %s (counts %v)", s.Label(), counts)
		}
		total += counts[s]
	}
	if total < 490 || total > 500 {
		t.Errorf("%d live customers, want 500 less a few archived", total)
	}
	if n := counts[store.StatusNoEmail]; n < 15 || n > 40 {
		t.Errorf("%d customers without email, want about 5%% of 500", n)
	}
	if n := counts[store.StatusClaimed]; n < 90 || n > 160 {
		t.Errorf("%d claimed, want about 25%% of 500", n)
	}

	rows, err := storetest.Raw(t, db).QueryContext(ctx, `SELECT first_name || ' ' || last_name, email FROM customers WHERE org_id = ?`, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	var nonASCII, wide, bad, mixedCase int
	seen := map[string]bool{}
	for rows.Next() {
		var name, email string
		if err := rows.Scan(&name, &email); err != nil {
			t.Fatal(err)
		}
		if utf8.RuneCountInString(name) != len(name) {
			nonASCII++
		}
		for _, r := range name {
			if r >= 0x3000 {
				wide++
				break
			}
		}
		if email == "" {
			continue
		}
		if seen[strings.ToLower(email)] {
			t.Errorf("email %s used twice", email)
		}
		seen[strings.ToLower(email)] = true
		if store.ValidateEmail(email) != nil {
			bad++
		} else if !strings.HasSuffix(email, ".example") && !strings.Contains(email, "@example.") {
			t.Errorf("%s is not at a reserved domain: demo mail could reach a real person", email)
		}
		if email != strings.ToLower(email) {
			mixedCase++
		}
	}
	rows.Close()
	if nonASCII < 25 || wide == 0 {
		t.Errorf("%d non-ASCII names, %d in a wide script; want a varied roster", nonASCII, wide)
	}
	if bad == 0 || bad > 10 {
		t.Errorf("%d invalid emails, want a few", bad)
	}

	// The history covers what the profile and account pages show.
	for _, c := range []struct {
		q    string
		want int
	}{
		{`SELECT count(DISTINCT kind || (starts_at > ?2)) FROM bookings WHERE customer_id IN (SELECT id FROM customers WHERE org_id = ?1)`, 6},
		{`SELECT count(DISTINCT status) FROM bookings WHERE customer_id IN (SELECT id FROM customers WHERE org_id = ?1) AND ?2 > 0`, 4},
		{`SELECT CASE WHEN count(DISTINCT status) >= 3 THEN 1 ELSE 0 END FROM payments WHERE customer_id IN (SELECT id FROM customers WHERE org_id = ?1) AND currency = 'GBP' AND ?2 > 0`, 1},
		{`SELECT count(DISTINCT status) FROM subscriptions WHERE customer_id IN (SELECT id FROM customers WHERE org_id = ?1) AND ?2 > 0`, 4},
		{`SELECT count(DISTINCT interval) FROM subscriptions WHERE customer_id IN (SELECT id FROM customers WHERE org_id = ?1) AND ?2 > 0`, 3},
		{`SELECT count(DISTINCT f.name) FROM custom_field_values v JOIN custom_fields f ON f.id = v.field_id WHERE f.org_id = ?1 AND ?2 > 0`, 3},
		{`SELECT count(DISTINCT revoke_reason) FROM invites WHERE org_id = ?1 AND ?2 > 0`, 3},
		{`SELECT count(*) FROM outbox WHERE org_id = ?1 AND (body_text <> '' OR body_html <> '') AND ?2 > 0`, 0},
		{`SELECT CASE WHEN count(*) > 0 THEN 1 ELSE 0 END FROM outbox WHERE org_id = ?1 AND status = 'failed' AND last_error LIKE '550 5.1.1 <%@%>: Recipient address rejected%' AND ?2 > 0`, 1},
		{`SELECT count(*) FROM customers WHERE org_id = ?1 AND state = 'claimed' AND (password_hash <> '!demo' OR claimed_at IS NULL OR claimed_at > ?2)`, 0},
		{`SELECT count(*) FROM invites i JOIN staff s ON s.id = i.created_by WHERE i.org_id = ?1 AND i.purpose = 'claim' AND s.role = 'staff' AND ?2 > 0`, 0},
		{`SELECT count(*) FROM invites WHERE org_id = ?1 AND purpose = 'claim' AND created_by IS NULL AND ?2 > 0`, 0},
		{`SELECT count(*) FROM customers WHERE org_id = ?1 AND (created_at > ?2 OR claimed_at < created_at OR invite_sent_at < created_at)`, 0},
		{`SELECT count(*) FROM invites i JOIN customers c ON c.id = i.customer_id WHERE i.org_id = ?1 AND (i.created_at > ?2 OR i.created_at < c.created_at OR i.used_at > i.expires_at)`, 0},
		{`SELECT count(*) FROM audit WHERE org_id = ?1 AND action = 'demo.generate' AND ?2 > 0`, 1},
		// Each invite's message went to its address, when it was made, and
		// is named as the worker names messages.
		{`SELECT count(*) FROM invites i JOIN outbox o ON o.id = i.outbox_id WHERE i.org_id = ?1 AND ?2 > 0
			AND (o.to_addr <> i.email OR o.created_at <> i.created_at OR o.kind <> CASE i.purpose WHEN 'claim' THEN 'invite' ELSE 'reset' END
				OR o.message_id NOT LIKE 'outbox-' || o.id || '.%@harbor-yoga.example' OR (o.status = 'sent') <> (o.reply LIKE '250 %'))`, 0},
		{`SELECT count(*) FROM outbox o WHERE org_id = ?1 AND ?2 > 0 AND (SELECT count(*) FROM invites i WHERE i.outbox_id = o.id) <> 1`, 0},
	} {
		var n int
		if err := storetest.Raw(t, db).QueryRowContext(ctx, c.q, org.ID, db.Now().Unix()).Scan(&n); err != nil {
			t.Fatalf("%s: %v", c.q, err)
		}
		if n != c.want {
			t.Errorf("%s = %d, want %d", c.q, n, c.want)
		}
	}
	demoCheckHealthy(t, db)
}

func TestDemoSearchAndProfile(t *testing.T) { bothEngines(t, testDemoSearchAndProfile) }

func testDemoSearchAndProfile(t *testing.T) {
	db, org := demoForTest(t, 500, 1)
	ctx := context.Background()

	var id int64
	var first, last, email, phone string
	err := storetest.Raw(t, db).QueryRowContext(ctx, `SELECT id, first_name, last_name, email, phone FROM customers
		WHERE org_id = ? AND state = 'claimed' AND archived = 0 AND phone LIKE '07%' AND last_name <> '' ORDER BY id LIMIT 1`, org.ID).Scan(&id, &first, &last, &email, &phone)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{first + " " + last, email, phone, strings.ReplaceAll(phone, " ", "")} {
		rows, err := db.RosterPage(ctx, org.ID, store.RosterQuery{Search: s, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range rows {
			found = found || r.ID == id
		}
		if !found {
			t.Errorf("search %q does not find %s %s", s, first, last)
		}
	}
	// Wide characters are searchable too.
	var wide string
	if err := storetest.Raw(t, db).QueryRowContext(ctx, `SELECT first_name FROM customers WHERE org_id = ? AND last_name = '' AND archived = 0 LIMIT 1`, org.ID).Scan(&wide); err != nil {
		t.Fatal(err)
	}
	if rows, err := db.RosterPage(ctx, org.ID, store.RosterQuery{Search: wide}); err != nil || len(rows) == 0 {
		t.Errorf("search %q: %d rows, %v", wide, len(rows), err)
	}

	p, err := db.Profile(ctx, org.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Past)+len(p.Upcoming) == 0 || len(p.Payments) == 0 || p.Status != store.StatusClaimed || p.ClaimedAt.IsZero() {
		t.Errorf("claimed customer's profile: %d past, %d upcoming bookings, %d payments, status %s", len(p.Past), len(p.Upcoming), len(p.Payments), p.Status)
	}
	if len(p.Invites) == 0 || p.Invites[len(p.Invites)-1].UsedAt.IsZero() || p.Invites[len(p.Invites)-1].CreatedByName == "" {
		t.Errorf("claimed customer's invites: %+v", p.Invites)
	}
	for _, b := range p.Upcoming {
		if !b.StartsAt.After(db.Now()) {
			t.Errorf("upcoming booking %s starts %s, before now", b.Title, b.StartsAt)
		}
	}

	// An invited customer's profile shows the live invite.
	if err := storetest.Raw(t, db).QueryRowContext(ctx, `SELECT id FROM customers WHERE org_id = ? AND state = 'pending' AND invite_expires_at > ? LIMIT 1`, org.ID, db.Now().Unix()).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if p, err = db.Profile(ctx, org.ID, id); err != nil {
		t.Fatal(err)
	}
	if inv := p.Invites[0]; p.Status != store.StatusInvited || inv.DeliveryStatus != store.OutboxSent || inv.SentAt.IsZero() || !inv.ExpiresAt.Equal(p.InviteExpiresAt) {
		t.Errorf("invited customer: status %s, invite %+v", p.Status, inv)
	}
}

// The bulk-load door indexes customers for search and counts them itself,
// with the insert triggers dropped for the duration; the result must be what
// the triggers would have written, and the triggers and the index's settings
// must be back. (That the stand-ins are still written against the schema's
// triggers is TestBulkStandInsMatchTriggers, in store.)
func TestDemoSearchIndexMatchesTrigger(t *testing.T) {
	bothEngines(t, testDemoSearchIndexMatchesTrigger)
}

func testDemoSearchIndexMatchesTrigger(t *testing.T) {
	db, org := demoForTest(t, 500, 5)
	ctx := context.Background()
	// What every search finds now, then again after the update trigger has
	// re-indexed every customer the ordinary way.
	var terms []string
	rows, err := storetest.Raw(t, db).QueryContext(ctx, `SELECT first_name, last_name, email, phone FROM customers WHERE org_id = ? ORDER BY id LIMIT 60`, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var f, l, e, p string
		rows.Scan(&f, &l, &e, &p)
		terms = append(terms, f, l, e, p, strings.Split(e+"@", "@")[0])
	}
	rows.Close()
	terms = append(terms, "a", "jo", "example", "07", "+44", "王", "müller", "obrien")
	results := func() map[string]string {
		out := map[string]string{}
		for _, term := range terms {
			var ids []string
			rows, err := db.RosterPage(ctx, org.ID, store.RosterQuery{Search: term, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				ids = append(ids, fmt.Sprint(r.ID))
			}
			out[term] = strings.Join(ids, ",")
		}
		return out
	}
	before := results()
	if _, err := storetest.Raw(t, db).ExecContext(ctx, `UPDATE customers SET first_name = first_name WHERE org_id = ?`, org.ID); err != nil {
		t.Fatal(err)
	}
	after := results()
	for _, term := range terms {
		if before[term] != after[term] {
			t.Errorf("search %q: generated index finds %s, trigger-built index %s", term, before[term], after[term])
		}
	}
	if db.Engine() == store.SQLite {
		var v sql.NullInt64
		if err := storetest.Raw(t, db).QueryRowContext(ctx, `SELECT v FROM customers_fts_config WHERE k = 'automerge'`).Scan(&v); err != nil && err != sql.ErrNoRows {
			t.Fatal(err)
		}
		if v.Valid && v.Int64 != 4 {
			t.Errorf("automerge left at %d", v.Int64)
		}
	}
	demoCheckCounts(t, db)
	// And the triggers are back: a new customer is searchable and counted.
	c := mustCustomer(t, db, org, "Quentin", "Zyzzyva", "q.zyzzyva@example.com")
	if rows, _ := db.RosterPage(ctx, org.ID, store.RosterQuery{Search: "zyzzyva"}); len(rows) != 1 || rows[0].ID != c.ID {
		t.Errorf("customer added after Generate is not searchable: %v", rows)
	}
	demoCheckCounts(t, db)
}

// The generator computes the search keys of its rows itself (the bulk-load
// door writes the columns it is given); they must be what the store's own
// writes compute. Changing the organization's country and back makes the
// store rebuild every customer's keys its way: nothing may differ from what
// was generated, and the demo's numbers are found in their other forms.
func TestDemoSearchKeysMatchTheStore(t *testing.T) { bothEngines(t, testDemoSearchKeysMatchTheStore) }

func testDemoSearchKeysMatchTheStore(t *testing.T) {
	db, org := demoForTest(t, 400, 3)
	ctx := context.Background()
	if org.Country != "GB" {
		t.Fatalf("demo organization's country is %q, want GB (its numbers are British)", org.Country)
	}
	keys := func() string {
		var s string
		storetest.Scan(t, db, sqlFor(db,
			`SELECT group_concat(id || ':' || name_keys || '|' || phone_keys, char(10)) FROM (SELECT * FROM customers WHERE org_id = ? ORDER BY id)`,
			`SELECT string_agg(id || ':' || name_keys || '|' || phone_keys, chr(10) ORDER BY id) FROM customers WHERE org_id = ?`), []any{org.ID}, &s)
		return s
	}
	generated := keys()
	for _, country := range []string{"IE", "GB"} {
		o := *org
		o.Country = country
		storetest.Write(t, db, func(tx *store.Tx) (int, error) { return 0, tx.UpdateOrg(ctx, &o) })
	}
	if rebuilt := keys(); rebuilt != generated {
		t.Errorf("the store rebuilds other search keys than the generator wrote:\n%s", firstDiff(generated, rebuilt))
	}
	var id int64
	var phone string
	storetest.Scan(t, db, `SELECT id, phone FROM customers WHERE org_id = ? AND archived = 0 AND phone LIKE '07%' ORDER BY id LIMIT 1`, []any{org.ID}, &id, &phone)
	intl := "+44 " + strings.TrimPrefix(phone, "0")
	rows, err := db.RosterPage(ctx, org.ID, store.RosterQuery{Search: intl, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 || rows[0].ID != id {
		t.Errorf("search %q does not find the customer with %s: %v", intl, phone, rows)
	}
	// The rebuild puts back what it set aside: the update trigger (an
	// edit is searchable) and the index's merge setting.
	storetest.Write(t, db, func(tx *store.Tx) (int, error) {
		return 0, tx.UpdateCustomerProfile(ctx, org.ID, id, store.ProfileUpdate{FirstName: "Quentin", LastName: "Zyzzyva", Phone: phone})
	})
	if rows, _ := db.RosterPage(ctx, org.ID, store.RosterQuery{Search: "zyzzyva"}); len(rows) != 1 || rows[0].ID != id {
		t.Errorf("an edit after the rebuild is not searchable: %v", rows)
	}
	if db.Engine() != store.SQLite {
		return
	}
	var v sql.NullInt64
	if err := storetest.Raw(t, db).QueryRowContext(ctx, `SELECT v FROM customers_fts_config WHERE k = 'automerge'`).Scan(&v); err != nil && err != sql.ErrNoRows {
		t.Fatal(err)
	}
	if v.Valid && v.Int64 != 4 {
		t.Errorf("automerge left at %d", v.Int64)
	}
}

// firstDiff shows the first line where two texts differ.
func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return "generated " + la[i] + "\nstore     " + lb[i]
		}
	}
	return fmt.Sprintf("%d lines against %d", len(la), len(lb))
}

// demoCheckCounts fails unless roster_counts holds what counting the
// customers gives.
func demoCheckCounts(t testing.TB, db *store.DB) {
	t.Helper()
	var diff string
	err := storetest.Raw(t, db).QueryRowContext(context.Background(), `SELECT coalesce(string_agg(org_id || '/' || state || ': ' || kept || ' kept, ' || actual || ' counted', '; '), '')
		FROM (SELECT coalesce(k.org_id, c.org_id) AS org_id, coalesce(k.state, c.state) AS state, coalesce(k.n, 0) AS kept, coalesce(c.n, 0) AS actual
			FROM roster_counts k FULL JOIN (SELECT org_id, state, count(*) AS n FROM customers WHERE archived = 0 GROUP BY 1, 2) c
			ON c.org_id = k.org_id AND c.state = k.state) d
		WHERE kept <> actual`).Scan(&diff)
	if err != nil {
		t.Fatal(err)
	}
	if diff != "" {
		t.Errorf("roster_counts out of step: %s", diff)
	}
	// The funnel: every customer's stage is what their rows say (claimed;
	// else opened a claim link; else sent one; else nothing), and
	// funnel_counts holds what counting the stages gives.
	err = storetest.Raw(t, db).QueryRowContext(context.Background(), `SELECT coalesce(string_agg(id || ': stored ' || funnel || ', derived ' || derived, '; '), '')
		FROM (SELECT c.id, c.funnel, CASE
				WHEN c.claimed_at IS NOT NULL THEN 3
				WHEN EXISTS (SELECT 1 FROM invites i WHERE i.customer_id = c.id AND i.purpose = 'claim' AND i.opened_at IS NOT NULL) THEN 2
				WHEN EXISTS (SELECT 1 FROM invites i WHERE i.customer_id = c.id AND i.purpose = 'claim') THEN 1
				ELSE 0 END AS derived
			FROM customers c) d
		WHERE funnel <> derived`).Scan(&diff)
	if err != nil {
		t.Fatal(err)
	}
	if diff != "" {
		t.Errorf("customers.funnel out of step with their invites: %s", diff)
	}
	err = storetest.Raw(t, db).QueryRowContext(context.Background(), `SELECT coalesce(string_agg(org_id || '/' || stage || ': ' || kept || ' kept, ' || actual || ' counted', '; '), '')
		FROM (SELECT coalesce(k.org_id, c.org_id) AS org_id, coalesce(k.stage, c.stage) AS stage, coalesce(k.n, 0) AS kept, coalesce(c.n, 0) AS actual
			FROM funnel_counts k FULL JOIN (SELECT org_id, funnel AS stage, count(*) AS n FROM customers WHERE archived = 0 AND funnel > 0 GROUP BY 1, 2) c
			ON c.org_id = k.org_id AND c.stage = k.stage) d
		WHERE kept <> actual`).Scan(&diff)
	if err != nil {
		t.Fatal(err)
	}
	if diff != "" {
		t.Errorf("funnel_counts out of step: %s", diff)
	}
	// Archived customers (migration 0015), counted through the bulk-load
	// door's stand-ins as through the triggers.
	err = storetest.Raw(t, db).QueryRowContext(context.Background(), `SELECT coalesce(string_agg(org_id || ': ' || kept || ' kept, ' || actual || ' counted', '; '), '')
		FROM (SELECT coalesce(k.org_id, c.org_id) AS org_id, coalesce(k.n, 0) AS kept, coalesce(c.n, 0) AS actual
			FROM archived_counts k FULL JOIN (SELECT org_id, count(*) AS n FROM customers WHERE archived = 1 GROUP BY 1) c
			ON c.org_id = k.org_id) d
		WHERE kept <> actual`).Scan(&diff)
	if err != nil {
		t.Fatal(err)
	}
	if diff != "" {
		t.Errorf("archived_counts out of step: %s", diff)
	}
}

// With a trigger on customers that the bulk-load door has no stand-in for,
// the generator refuses before writing anything, rather than load a roster
// the trigger never saw or quietly take many times as long.
func TestDemoRefusesUnknownTrigger(t *testing.T) { bothEngines(t, testDemoRefusesUnknownTrigger) }

func testDemoRefusesUnknownTrigger(t *testing.T) {
	db := openForTest(t)
	ctx := context.Background()
	storetest.Exec(t, db, sqlFor(db, `CREATE TABLE demo_seen (id INTEGER PRIMARY KEY);
		CREATE TRIGGER demo_seen_insert AFTER INSERT ON customers BEGIN INSERT INTO demo_seen (id) VALUES (new.id); END`,
		`CREATE TABLE demo_seen (id BIGINT PRIMARY KEY);
		CREATE FUNCTION demo_seen() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO demo_seen (id) VALUES (NEW.id); RETURN NULL; END $$;
		CREATE TRIGGER demo_seen_insert AFTER INSERT ON customers FOR EACH ROW EXECUTE FUNCTION demo_seen()`))
	_, err := Generate(ctx, db, Options{Customers: 200, Seed: 9})
	if err == nil || !strings.Contains(err.Error(), "demo_seen_insert") {
		t.Fatalf("Generate with an unknown trigger: %v, want an error naming the trigger", err)
	}
	for _, q := range []string{
		`SELECT count(*) FROM orgs`,
		`SELECT count(*) FROM customers`,
		`SELECT count(*) FROM demo_seen`,
		sqlFor(db, `SELECT count(*) = 0 FROM sqlite_schema WHERE name = 'demo_seen_insert'`,
			`SELECT count(*) FROM pg_trigger WHERE tgname = 'demo_seen_insert' AND tgenabled <> 'O'`),
	} {
		if n := storetest.Int(t, db, q); n != 0 {
			t.Errorf("%s = %d after the refusal, want 0", q, n)
		}
	}
	// The writer connection went back to the app with foreign keys on.
	// (PostgreSQL's are never off.)
	c := &store.Customer{FirstName: "No", LastName: "Org", OrgID: 999}
	if err := db.Tx(ctx, func(tx *store.Tx) error { return tx.CreateCustomer(ctx, c) }); err == nil {
		t.Errorf("a customer of no organization was written after the refusal: foreign keys are off")
	}
}

func TestDemoRefill(t *testing.T) { bothEngines(t, testDemoRefill) }

func testDemoRefill(t *testing.T) {
	db := openForTest(t)
	ctx := context.Background()

	// Another organization's people must survive the refill untouched.
	other := mustOrg(t, db, "Other Studio")
	owner := mustStaff(t, db, other, "boss@other.example", store.RoleOwner)
	keep := mustCustomer(t, db, other, "Kim", "Keep", "kim@other.example")
	mustInvite(t, db, keep, owner)

	first, err := Generate(ctx, db, Options{Customers: 300, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var progress []int
	second, err := Generate(ctx, db, Options{Customers: 200, Seed: 2, Progress: func(done, total int) {
		if total != 200 {
			t.Errorf("progress total %d", total)
		}
		progress = append(progress, done)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if second.ID != first.ID {
		t.Errorf("refill made a new organization")
	}
	if len(progress) == 0 || progress[len(progress)-1] != 200 {
		t.Errorf("progress calls %v", progress)
	}
	for _, c := range []struct {
		q    string
		want int
	}{
		{`SELECT count(*) FROM staff WHERE org_id = ?1`, 3},
		{`SELECT count(*) FROM customers WHERE org_id = ?1`, 200},
		{`SELECT count(*) FROM outbox WHERE org_id = ?1 AND id NOT IN (SELECT outbox_id FROM invites WHERE org_id = ?1)`, 0},
		{`SELECT count(*) FROM audit WHERE org_id = ?1 AND action = 'demo.generate'`, 2},
		{`SELECT count(*) FROM audit WHERE org_id = ?1 AND customer_id IS NULL AND action <> 'demo.generate'`, 0},
		{`SELECT count(*) FROM custom_fields WHERE org_id = ?1`, 3},
		{`SELECT count(*) FROM customers WHERE org_id = ?2 AND id = ?3 AND state = 'pending'`, 1},
		{`SELECT count(*) FROM invites WHERE org_id = ?2`, 1},
		{`SELECT count(*) FROM outbox WHERE org_id = ?2`, 1},
	} {
		var n int
		// Every query takes all three ids: PostgreSQL refuses an argument
		// its statement does not use.
		q := c.q + ` AND ?1 + ?2 + ?3 > 0`
		if err := storetest.Raw(t, db).QueryRowContext(ctx, q, first.ID, other.ID, keep.ID).Scan(&n); err != nil {
			t.Fatalf("%s: %v", c.q, err)
		}
		if n != c.want {
			t.Errorf("%s = %d, want %d", c.q, n, c.want)
		}
	}
	// Nothing is left of the first roster: children are covered by the
	// foreign key check, the search index by this.
	var fts, customers int
	storetest.Raw(t, db).QueryRowContext(ctx, sqlFor(db, `SELECT count(*) FROM customers_fts`, `SELECT count(*) FROM customers_search`)).Scan(&fts)
	storetest.Raw(t, db).QueryRowContext(ctx, `SELECT count(*) FROM customers`).Scan(&customers)
	if fts != customers {
		t.Errorf("search index has %d rows for %d customers", fts, customers)
	}
	demoCheckCounts(t, db)
	// Foreign keys are back on for the app.
	if db.Engine() == store.SQLite {
		var fk int
		if err := storetest.Raw(t, db).QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
			t.Errorf("foreign_keys = %d after Generate (%v)", fk, err)
		}
	}
	// On the writer connection too, which the generator ran without them.
	orphan := &store.Customer{OrgID: other.ID + 1000, FirstName: "No", LastName: "Org"}
	if err := db.Tx(ctx, func(tx *store.Tx) error { return tx.CreateCustomer(ctx, orphan) }); err == nil {
		t.Errorf("a customer of no organization was written after Generate: the writer has foreign keys off")
	}
	demoCheckHealthy(t, db)
}

// A refill when the demo organization has the only customers empties the
// tables wholesale; the search index, the counts and the triggers must come
// out as a row-by-row delete would leave them.
func TestDemoRefillOnlyOrganization(t *testing.T) { bothEngines(t, testDemoRefillOnlyOrganization) }

func testDemoRefillOnlyOrganization(t *testing.T) {
	db := openForTest(t)
	ctx := context.Background()
	schema := func() string {
		var s string
		if err := storetest.Raw(t, db).QueryRowContext(ctx, sqlFor(db,
			`SELECT group_concat(name || ':' || sql, '|') FROM (SELECT name, sql FROM sqlite_schema ORDER BY name)`,
			`SELECT string_agg(tgname || ':' || CAST(tgenabled AS text) || ':' || pg_get_triggerdef(oid), '|' ORDER BY tgname) FROM pg_trigger WHERE NOT tgisinternal`)).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := schema()
	org, err := Generate(ctx, db, Options{Customers: 400, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	// An address with a number is this roster's alone.
	var oldEmail string
	storetest.Raw(t, db).QueryRowContext(ctx, sqlFor(db, `SELECT email FROM customers WHERE email GLOB '*[0-9]@example.com' AND archived = 0 ORDER BY id LIMIT 1`,
		`SELECT email FROM customers WHERE email ~ '[0-9]@example\.com$' AND archived = 0 ORDER BY id LIMIT 1`)).Scan(&oldEmail)
	if oldEmail == "" {
		t.Fatal("no numbered address at example.com")
	}
	if _, err := Generate(ctx, db, Options{Customers: 300, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	if after := schema(); after != before {
		t.Errorf("schema changed by Generate:\n%s\n%s", before, after)
	}
	var n, fts, outbox, invites int
	storetest.Raw(t, db).QueryRowContext(ctx, sqlFor(db, `SELECT count(*), (SELECT count(*) FROM customers_fts), (SELECT count(*) FROM outbox), (SELECT count(*) FROM invites) FROM customers`,
		`SELECT count(*), (SELECT count(*) FROM customers_search), (SELECT count(*) FROM outbox), (SELECT count(*) FROM invites) FROM customers`)).Scan(&n, &fts, &outbox, &invites)
	if n != 300 || fts != 300 || outbox != invites {
		t.Errorf("%d customers, %d indexed, %d messages for %d invites", n, fts, outbox, invites)
	}
	// Nothing of the old roster is left in the index: every indexed row is a
	// customer, and searching the old roster's address finds only customers
	// who have it.
	var stale int
	storetest.Raw(t, db).QueryRowContext(ctx, sqlFor(db, `SELECT count(*) FROM customers_fts f LEFT JOIN customers c ON c.id = f.rowid WHERE c.id IS NULL`,
		`SELECT count(*) FROM customers_search f LEFT JOIN customers c ON c.id = f.id WHERE c.id IS NULL`)).Scan(&stale)
	if stale != 0 {
		t.Errorf("%d index rows without a customer", stale)
	}
	rows, err := db.RosterPage(ctx, org.ID, store.RosterQuery{Search: oldEmail, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if !strings.EqualFold(r.Email, oldEmail) {
			t.Errorf("search %q finds %s <%s>", oldEmail, r.Name(), r.Email)
		}
	}
	demoCheckCounts(t, db)
	demoCheckHealthy(t, db)
}

// Refilling the demo deletes its customers with foreign keys off, and the
// new customers reuse their ids: a session left behind would sign its
// browser in as whoever gets the id next. Both ways of clearing (the whole
// table, and a window of ids when other organizations have customers) end
// the sessions.
func TestDemoRefillEndsSessions(t *testing.T) { bothEngines(t, testDemoRefillEndsSessions) }

func testDemoRefillEndsSessions(t *testing.T) {
	for _, others := range []bool{false, true} {
		db, org := demoForTest(t, 40, 1)
		ctx := context.Background()
		if others {
			mustCustomer(t, db, mustOrg(t, db, "Seaside Clinic"), "Cleo", "Other", "cleo@example.com")
		}
		var id int64
		if err := storetest.Raw(t, db).QueryRowContext(ctx, `SELECT min(id) FROM customers WHERE org_id = ?`, org.ID).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if _, err := storetest.Raw(t, db).ExecContext(ctx, `INSERT INTO sessions VALUES (?, ?, ?, 0, 0, 0)`, bytes.Repeat([]byte{7}, 32), org.ID, id); err != nil {
			t.Fatal(err)
		}
		if _, err := Generate(ctx, db, Options{Customers: 40, Seed: 2}); err != nil {
			t.Fatal(err)
		}
		if n, _ := db.CountCustomerSessions(ctx, org.ID, id); n != 0 {
			t.Errorf("other organizations %v: a session outlived the demo refill", others)
		}
		demoCheckHealthy(t, db)
	}
}

func TestDemoBadEmailsAreInvalid(t *testing.T) {
	t.Parallel()
	g := &gen{}
	g.r = rand.New(rand.NewPCG(1, 2))
	for range 100 {
		g.seq++
		if e := g.badEmail("ann", "lee"); store.ValidateEmail(e) == nil {
			t.Errorf("%s passes store.ValidateEmail", e)
		}
	}
	for name, want := range map[string]string{"José": "jose", "Øyvind": "oyvind", "O'Brien": "obrien", "Smith-Jones": "smith-jones", "Łukasz": "lukasz", "de la Cruz": "delacruz", "Nguyễn": "nguyen", "Þórsson": "thorsson"} {
		if got := fold(name); got != want {
			t.Errorf("fold(%q) = %q, want %q", name, got, want)
		}
	}
}

// BenchmarkGenerateDemo measures a fresh generation. The million-customer
// case takes most of a minute and a gigabyte of disk, so it runs only with
// FRONTDESK_BENCH_1M=1.
func BenchmarkGenerateDemo(b *testing.B) {
	sizes := []struct {
		name string
		n    int
	}{{"10k", 10_000}}
	if os.Getenv("FRONTDESK_BENCH_1M") == "1" {
		sizes = append(sizes, struct {
			name string
			n    int
		}{"1M", 1_000_000})
	}
	for _, s := range sizes {
		b.Run(s.name, func(b *testing.B) {
			var size int64
			for range b.N {
				b.StopTimer()
				db := openForTest(b)
				// Cancellable, like the CLI's (signal) context.
				ctx, cancel := context.WithCancel(context.Background())
				b.StartTimer()
				if _, err := Generate(ctx, db, Options{Customers: s.n, Seed: 1}); err != nil {
					b.Fatal(err)
				}
				cancel()
				b.StopTimer()
				if fi, err := os.Stat(db.Path()); err == nil {
					size = fi.Size()
				}
				db.Close()
				os.Remove(db.Path())
				b.StartTimer()
			}
			b.ReportMetric(float64(s.n*b.N)/b.Elapsed().Seconds(), "customers/s")
			b.ReportMetric(float64(size)/(1<<20), "MiB")
		})
	}
}

// A load records its customers, invites and messages in the change log as
// one organization-wide change each per transaction (what the log's
// triggers would have said row by row), a refill the same for the
// customers it deletes; a subscriber hears of it; and the log's triggers
// are back afterwards.
func TestDemoRecordsOrganizationWideChanges(t *testing.T) {
	bothEngines(t, testDemoRecordsOrganizationWideChanges)
}

func testDemoRecordsOrganizationWideChanges(t *testing.T) {
	db := openForTest(t)
	ctx := context.Background()
	org, err := Generate(ctx, db, Options{Customers: 300, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	ch, cancel := db.Subscribe(org.ID)
	defer cancel()
	log := func() string {
		var s string
		storetest.Scan(t, db, `SELECT coalesce(string_agg(kind || ':' || customer_id || 'x' || n, ' '), '') FROM (
			SELECT kind, customer_id, count(*) AS n FROM changes WHERE org_id = ? AND kind IN ('customer', 'invite', 'outbox') GROUP BY kind, customer_id ORDER BY kind, customer_id) d`,
			[]any{org.ID}, &s)
		return s
	}
	if got, want := log(), "customer:0x1 invite:0x1 outbox:0x1"; got != want {
		t.Errorf("after a load the log holds %q, want %q", got, want)
	}
	storetest.Exec(t, db, `DELETE FROM changes`)
	if _, err := Generate(ctx, db, Options{Customers: 300, Seed: 4}); err != nil {
		t.Fatal(err)
	}
	if got, want := log(), "customer:0x2 invite:0x1 outbox:0x1"; got != want {
		t.Errorf("after a refill the log holds %q, want %q (one for the customers deleted, one for those loaded)", got, want)
	}
	deadline := time.After(5 * time.Second)
	for heard := false; !heard; {
		select {
		case b := <-ch:
			for _, c := range b {
				heard = heard || (c.OrgID == org.ID && c.CustomerID == 0 && c.ConcernsRoster())
			}
		case <-deadline:
			t.Fatal("a subscriber did not hear of the refill")
		}
	}
	c := mustCustomer(t, db, org, "Quentin", "Zyzzyva", "q.zyzzyva@example.com")
	if n := storetest.Int(t, db, `SELECT count(*) FROM changes WHERE customer_id = ? AND kind = 'customer'`, c.ID); n != 1 {
		t.Errorf("a customer added after Generate logged %d changes, want 1: the trigger is not back", n)
	}
}

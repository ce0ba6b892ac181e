package mailer

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"frontdesk/store"
	"frontdesk/store/storetest"
)

// fixture is a real database file with one organization, a movable clock and
// a way to queue invites the way the claim service does (customer, invite and
// outbox row in one transaction).
type fixture struct {
	db    *store.DB
	path  string // the SQLite file, or a PostgreSQL connection string
	dir   string // the data directory: the outbox key file
	org   *store.Org
	staff *store.Staff

	mu       sync.Mutex
	now      time.Time
	seq      int
	customer map[int64]int64 // outbox id → customer id
	invite   map[int64]int64 // outbox id → invite id
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	return newFixtureAt(t, filepath.Join(dir, "frontdesk.db"), dir)
}

// newFixtureAt is newFixture on the database target (a file, or a
// PostgreSQL database: storetest.Postgres) with its key file in dir.
func newFixtureAt(t testing.TB, target, dir string) *fixture {
	t.Helper()
	f := &fixture{
		path:     target,
		dir:      dir,
		now:      time.Date(2026, 11, 23, 14, 5, 0, 0, time.UTC),
		customer: map[int64]int64{},
		invite:   map[int64]int64{},
	}
	f.db = f.open(t)
	ctx := context.Background()
	f.org = &store.Org{Name: "Harbor Yoga", TimeZone: "Europe/London", ReplyTo: "desk@harbor.example", Notifications: true,
		WalkthroughURL: "https://videos.example/harbor-tour"}
	if err := f.db.Tx(ctx, func(tx *store.Tx) error { return tx.CreateOrg(ctx, f.org) }); err != nil {
		t.Fatal(err)
	}
	f.staff = &store.Staff{OrgID: f.org.ID, Email: "owner@harbor.example", Name: "Olivia Owner", Role: store.RoleOwner}
	if err := f.db.Tx(ctx, func(tx *store.Tx) error { return tx.CreateStaff(ctx, f.staff) }); err != nil {
		t.Fatal(err)
	}
	return f
}

// open opens (another handle on) the database, as a second process would,
// on the fixture's clock.
func (f *fixture) open(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.OpenWith(f.path, store.Options{Dir: f.dir})
	if err != nil {
		t.Fatal(err)
	}
	db.Now = f.Now
	t.Cleanup(func() { db.Close() })
	return db
}

func (f *fixture) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func (f *fixture) setNow(t time.Time) {
	f.mu.Lock()
	f.now = t
	f.mu.Unlock()
}

// queue invites n new customers and returns their outbox messages.
func (f *fixture) queue(t testing.TB, n int) []*store.OutboxMessage {
	t.Helper()
	ctx := context.Background()
	var out []*store.OutboxMessage
	err := f.db.Tx(ctx, func(tx *store.Tx) error {
		for range n {
			f.mu.Lock()
			f.seq++
			seq := f.seq
			f.mu.Unlock()
			c := &store.Customer{OrgID: f.org.ID, FirstName: "Jane", LastName: fmt.Sprintf("Doe%d", seq), Email: fmt.Sprintf("jane%d@example.com", seq)}
			if err := tx.CreateCustomer(ctx, c); err != nil {
				return err
			}
			raw := make([]byte, 32)
			rand.Read(raw)
			token := base64.RawURLEncoding.EncodeToString(raw)
			expires := f.Now().Add(f.org.InviteTTL)
			subject, text, html, err := ComposeInvite(InviteData{OrgName: f.org.Name, CustomerName: c.FirstName, Link: "http://localhost:8080/claim/" + token,
				WalkthroughURL: f.org.WalkthroughURL, ReplyTo: f.org.ReplyTo, Expires: expires, Location: f.org.Location()})
			if err != nil {
				return err
			}
			m := &store.OutboxMessage{OrgID: f.org.ID, CustomerID: c.ID, Kind: store.MessageInvite, To: c.Email, FromName: f.org.Name, ReplyTo: f.org.ReplyTo, Subject: subject, Text: text, HTML: html}
			if err := tx.EnqueueMessage(ctx, m); err != nil {
				return err
			}
			h := sha256.Sum256([]byte(token))
			inv := &store.Invite{OrgID: f.org.ID, CustomerID: c.ID, Purpose: store.PurposeClaim, TokenHash: h[:], Email: c.Email,
				CreatedBy: f.staff.ID, ExpiresAt: expires, OutboxID: m.ID}
			if err := tx.CreateInvite(ctx, inv); err != nil {
				return err
			}
			f.mu.Lock()
			f.customer[m.ID], f.invite[m.ID] = c.ID, inv.ID
			f.mu.Unlock()
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// msg reads a message back (without bodies).
func (f *fixture) msg(t testing.TB, id int64) *store.OutboxMessage {
	t.Helper()
	m, err := f.db.OutboxMessage(context.Background(), f.org.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// hasBody says whether the token-bearing bodies are still stored.
func (f *fixture) hasBody(t testing.TB, id int64) bool {
	t.Helper()
	var n int
	if err := storetest.Raw(t, f.db).QueryRowContext(context.Background(), `SELECT length(body_text) + length(body_html) FROM outbox WHERE id = ?`, id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// status is the roster status of the customer the message invites.
func (f *fixture) status(t testing.TB, outboxID int64) store.Status {
	t.Helper()
	f.mu.Lock()
	cid := f.customer[outboxID]
	f.mu.Unlock()
	c, err := f.db.Customer(context.Background(), f.org.ID, cid)
	if err != nil {
		t.Fatal(err)
	}
	return c.Status
}

func (f *fixture) worker(tr Transport) *Worker {
	return &Worker{DB: f.db, Transport: tr, Logger: quietLogger()}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func ids(msgs []*store.OutboxMessage) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}

// drain runs w until a batch finds nothing to do.
func drain(t testing.TB, w *Worker) Result {
	t.Helper()
	var total Result
	for {
		r, err := w.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if r.Leased == 0 {
			return total
		}
		total.Leased += r.Leased
		total.Sent += r.Sent
		total.Retry += r.Retry
		total.Failed += r.Failed
		total.Skipped += r.Skipped
	}
}

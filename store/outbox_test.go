package store

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// Helpers of their own (prefixed ob) so these tests do not depend on
// store_test.go's.

type obEnv struct {
	db    *DB
	path  string // what opens it: testTarget's target
	dir   string // its data directory, with the outbox key file
	now   *time.Time
	org   *Org
	staff *Staff
	n     int
}

func newObEnv(t *testing.T) *obEnv {
	t.Helper()
	db, path, dir := openForTest(t)
	now := time.Date(2026, 11, 23, 14, 5, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	e := &obEnv{db: db, path: path, dir: dir, now: &now}
	ctx := context.Background()
	e.org = &Org{Name: "Harbor Yoga", TimeZone: "Europe/London", Notifications: true}
	if err := db.Tx(ctx, func(tx *Tx) error { return tx.CreateOrg(ctx, e.org) }); err != nil {
		t.Fatal(err)
	}
	e.staff = &Staff{OrgID: e.org.ID, Email: "owner@harbor.example", Name: "Owner", Role: RoleOwner}
	if err := db.Tx(ctx, func(tx *Tx) error { return tx.CreateStaff(ctx, e.staff) }); err != nil {
		t.Fatal(err)
	}
	return e
}

// invite queues an invite email for a new customer of org as the claim
// service does, returning the message and the customer.
func (e *obEnv) invite(t *testing.T, org *Org) (*OutboxMessage, *Customer) {
	t.Helper()
	ctx := context.Background()
	e.n++
	c := &Customer{OrgID: org.ID, FirstName: "Cust", LastName: fmt.Sprint(e.n), Email: fmt.Sprintf("c%d@example.com", e.n)}
	m := &OutboxMessage{OrgID: org.ID, Kind: MessageInvite, To: c.Email, FromName: org.Name, Subject: "Claim your account",
		Text: "link: http://x/claim/secret", HTML: "<a href=\"http://x/claim/secret\">claim</a>"}
	err := e.db.Tx(ctx, func(tx *Tx) error {
		if err := tx.CreateCustomer(ctx, c); err != nil {
			return err
		}
		m.CustomerID = c.ID
		if err := tx.EnqueueMessage(ctx, m); err != nil {
			return err
		}
		h := sha256.Sum256([]byte(fmt.Sprintf("token-%d", e.n)))
		return tx.CreateInvite(ctx, &Invite{OrgID: org.ID, CustomerID: c.ID, Purpose: PurposeClaim, TokenHash: h[:], Email: c.Email,
			CreatedBy: e.staff.ID, ExpiresAt: e.db.Now().Add(7 * 24 * time.Hour), OutboxID: m.ID})
	})
	if err != nil {
		t.Fatal(err)
	}
	return m, c
}

// customer adds a customer of the organization with nothing sent to them.
func (e *obEnv) customer(t *testing.T) *Customer {
	t.Helper()
	e.n++
	c := &Customer{OrgID: e.org.ID, FirstName: "Cust", LastName: fmt.Sprint(e.n), Email: fmt.Sprintf("c%d@example.com", e.n)}
	if err := e.db.Tx(context.Background(), func(tx *Tx) error { return tx.CreateCustomer(context.Background(), c) }); err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *obEnv) lease(t *testing.T, owner string, limit int) []*OutboxMessage {
	t.Helper()
	var got []*OutboxMessage
	err := e.db.Tx(context.Background(), func(tx *Tx) error {
		var err error
		got, err = tx.LeaseDue(context.Background(), owner, 2*time.Minute, limit)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (e *obEnv) mark(t *testing.T, fn func(ctx context.Context, tx *Tx) (bool, error)) bool {
	t.Helper()
	var ok bool
	err := e.db.Tx(context.Background(), func(tx *Tx) error {
		var err error
		ok, err = fn(context.Background(), tx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func (e *obEnv) get(t *testing.T, id int64) *OutboxMessage {
	t.Helper()
	m, err := e.db.OutboxMessage(context.Background(), e.org.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (e *obEnv) statusOf(t *testing.T, c *Customer) Status {
	t.Helper()
	got, err := e.db.Customer(context.Background(), c.OrgID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got.Status
}

func msgIDs(ms []*OutboxMessage) []int64 {
	var out []int64
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func TestLeaseDueTakesEachMessageOnce(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		e := newObEnv(t)
		var all []int64
		for range 10 {
			m, _ := e.invite(t, e.org)
			all = append(all, m.ID)
		}
		a := e.lease(t, "a", 6)
		b := e.lease(t, "b", 6)
		if fmt.Sprint(msgIDs(a)) != fmt.Sprint(all[:6]) || fmt.Sprint(msgIDs(b)) != fmt.Sprint(all[6:]) {
			t.Fatalf("a leased %v, b leased %v; want %v split 6/4 in queue order", msgIDs(a), msgIDs(b), all)
		}
		if a[0].Text == "" || a[0].HTML == "" || a[0].LeaseOwner != "a" || !a[0].LeaseUntil.Equal(e.db.Now().Add(2*time.Minute)) {
			t.Errorf("leased message %+v: want bodies, owner a and lease until now+2m", a[0])
		}
		if c := e.lease(t, "c", 10); len(c) != 0 {
			t.Fatalf("c leased %v while a and b hold everything", msgIDs(c))
		}
		// A message not yet due is not leased even when free.
		e.mark(t, func(ctx context.Context, tx *Tx) (bool, error) {
			return tx.MarkRetry(ctx, a[0].ID, "a", "451 try later", e.db.Now().Add(time.Hour))
		})
		*e.now = e.now.Add(2 * time.Minute)
		c := e.lease(t, "c", 20)
		if len(c) != 9 {
			t.Fatalf("after the leases ran out c leased %v, want the 9 that are due", msgIDs(c))
		}
		for _, m := range c {
			if m.ID == a[0].ID {
				t.Error("leased a message due in an hour")
			}
		}
	})
}

func TestLeaseDueAcrossProcesses(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		e := newObEnv(t)
		const n = 60
		for range n {
			e.invite(t, e.org)
		}
		var mu sync.Mutex
		seen := map[int64]string{}
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for p := range 4 {
			db, err := openTarget(e.path, e.dir, Options{}) // a handle of its own: another process
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			db.Now = e.db.Now
			owner := fmt.Sprintf("p%d", p)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					var got []*OutboxMessage
					err := db.Tx(context.Background(), func(tx *Tx) error {
						var err error
						got, err = tx.LeaseDue(context.Background(), owner, time.Minute, 3)
						return err
					})
					if err != nil {
						errs <- err
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, m := range got {
						if prev, ok := seen[m.ID]; ok {
							errs <- fmt.Errorf("message %d leased by %s and %s", m.ID, prev, owner)
						}
						seen[m.ID] = owner
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if len(seen) != n {
			t.Errorf("%d of %d messages leased", len(seen), n)
		}
	})
}

func TestMarkNeedsTheLease(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		e := newObEnv(t)
		m, c := e.invite(t, e.org)
		e.lease(t, "a", 1)
		if e.mark(t, func(ctx context.Context, tx *Tx) (bool, error) {
			return tx.MarkSent(ctx, m.ID, "b", "250 ok", "")
		}) {
			t.Fatal("a worker without the lease recorded a result")
		}
		if !e.mark(t, func(ctx context.Context, tx *Tx) (bool, error) {
			return tx.MarkSent(ctx, m.ID, "a", "250 2.0.0 OK: queued as 4F2A", "outbox-1.x@studio.example")
		}) {
			t.Fatal("the lease holder could not record")
		}
		got := e.get(t, m.ID)
		if got.Status != OutboxSent || got.Reply != "250 2.0.0 OK: queued as 4F2A" || got.MessageID != "outbox-1.x@studio.example" ||
			got.Attempts != 1 || !got.SentAt.Equal(e.db.Now()) || got.LeaseOwner != "" || !got.LeaseUntil.IsZero() {
			t.Errorf("after MarkSent: %+v", got)
		}
		var bodies string
		e.db.read.QueryRowContext(context.Background(), `SELECT body_text || body_html FROM outbox WHERE id = ?`, m.ID).Scan(&bodies)
		if bodies != "" {
			t.Errorf("the token-bearing body is still stored: %q", bodies)
		}
		if st := e.statusOf(t, c); st != StatusInvited {
			t.Errorf("customer status %s", st)
		}
		if e.mark(t, func(ctx context.Context, tx *Tx) (bool, error) {
			return tx.MarkFailed(ctx, m.ID, "a", "late")
		}) {
			t.Error("a second result was recorded for a sent message")
		}
	})
}

func TestFailureAndRetryRefreshTheCustomer(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		e := newObEnv(t)
		ctx := context.Background()
		m, c := e.invite(t, e.org)
		e.lease(t, "a/1", 1)
		e.mark(t, func(ctx context.Context, tx *Tx) (bool, error) {
			return tx.MarkRetry(ctx, m.ID, "a/1", "451 4.3.0 later", e.db.Now().Add(10*time.Second))
		})
		got := e.get(t, m.ID)
		if got.Status != OutboxQueued || got.Attempts != 1 || got.LastError != "451 4.3.0 later" || !got.NextAttemptAt.Equal(e.db.Now().Add(10*time.Second)) || got.LeaseOwner != "" {
			t.Fatalf("after MarkRetry: %+v", got)
		}
		// Staff retry the waiting message: it is due now, as it was.
		*e.now = e.now.Add(5 * time.Second)
		if err := e.db.Tx(ctx, func(tx *Tx) error { return tx.RetryMessage(ctx, e.org.ID, m.ID) }); err != nil {
			t.Fatal(err)
		}
		got = e.get(t, m.ID)
		if got.Status != OutboxQueued || got.Attempts != 0 || !got.NextAttemptAt.Equal(e.db.Now()) || !got.RetryFrom.Equal(e.db.Now()) || got.LastError != "" {
			t.Errorf("after RetryMessage: %+v; want queued, due now, attempts reset, a fresh retry window", got)
		}
		if st := e.statusOf(t, c); st != StatusInvited {
			t.Errorf("customer status after retry: %s", st)
		}
		if leased := e.lease(t, "a/2", 1); len(leased) != 1 || leased[0].Text != "link: http://x/claim/secret" {
			t.Fatalf("leased after retry: %+v", leased)
		}
		e.mark(t, func(ctx context.Context, tx *Tx) (bool, error) {
			return tx.MarkFailed(ctx, m.ID, "a/2", "550 5.1.1 User unknown")
		})
		if st := e.statusOf(t, c); st != StatusFailed {
			t.Fatalf("customer status after a failed delivery: %s", st)
		}
		// The link was never delivered: its body is gone and it no longer works.
		var bodies string
		var expires int64
		e.db.read.QueryRowContext(ctx, `SELECT body_text || body_html FROM outbox WHERE id = ?`, m.ID).Scan(&bodies)
		e.db.read.QueryRowContext(ctx, `SELECT expires_at FROM invites WHERE outbox_id = ?`, m.ID).Scan(&expires)
		if bodies != "" || expires != e.db.Now().Unix() {
			t.Errorf("after a permanent failure: body %q, link expires %s; want no body and the link ended now", bodies, time.Unix(expires, 0))
		}
		if err := e.db.Tx(ctx, func(tx *Tx) error { return tx.RetryMessage(ctx, e.org.ID, m.ID) }); ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), "send a new invite") {
			t.Errorf("retrying the failed invite as it was: %v; want a refusal (claim issues a fresh link)", err)
		}
	})
}

func TestRetryMessageRefusals(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		e := newObEnv(t)
		ctx := context.Background()
		other := &Org{Name: "Other Studio", Notifications: true}
		if err := e.db.Tx(ctx, func(tx *Tx) error { return tx.CreateOrg(ctx, other) }); err != nil {
			t.Fatal(err)
		}
		sent, _ := e.invite(t, e.org)
		leased, _ := e.invite(t, e.org)
		revoked, revokedCust := e.invite(t, e.org)
		foreign, _ := e.invite(t, other)

		e.lease(t, "w", 1)
		e.mark(t, func(ctx context.Context, tx *Tx) (bool, error) {
			return tx.MarkSent(ctx, sent.ID, "w", "250 ok", "")
		})
		e.lease(t, "w2", 1)
		if _, err := inTx(e.db, func(tx *Tx) (int, error) {
			return tx.RevokeInvites(ctx, revokedCust.ID, PurposeClaim, RevokeSuperseded)
		}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			id        int64
			code, msg string
		}{
			{sent.ID, EINVALID, fmt.Sprintf("message %d was already sent on Mon 23 Nov 2026 at 14:05 GMT (the server answered 250 ok)", sent.ID)},
			{leased.ID, ECONFLICT, "being delivered right now"},
			{revoked.ID, EINVALID, "a newer invite was sent"},
			{foreign.ID, ENOTFOUND, "not found"},
			{9999, ENOTFOUND, "not found"},
		} {
			err := e.db.Tx(ctx, func(tx *Tx) error { return tx.RetryMessage(ctx, e.org.ID, tc.id) })
			if ErrorCode(err) != tc.code || !strings.Contains(ErrorMessage(err), tc.msg) {
				t.Errorf("RetryMessage(%d) = %v (%s), want %s mentioning %q", tc.id, err, ErrorCode(err), tc.code, tc.msg)
			}
		}
	})
}

func TestOutboxMessagesListsNewestFirstWithoutBodies(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		e := newObEnv(t)
		ctx := context.Background()
		other := &Org{Name: "Other Studio", Notifications: true}
		if err := e.db.Tx(ctx, func(tx *Tx) error { return tx.CreateOrg(ctx, other) }); err != nil {
			t.Fatal(err)
		}
		a, _ := e.invite(t, e.org)
		e.invite(t, other)
		b, _ := e.invite(t, e.org)
		list, err := e.db.OutboxMessages(ctx, e.org.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(msgIDs(list)) != fmt.Sprint([]int64{b.ID, a.ID}) {
			t.Fatalf("listed %v, want %v", msgIDs(list), []int64{b.ID, a.ID})
		}
		for _, m := range list {
			if m.Text != "" || m.HTML != "" {
				t.Error("the list carries message bodies (live tokens)")
			}
			if m.Status != OutboxQueued || m.To == "" || m.Subject == "" || m.CreatedAt.IsZero() || m.NextAttemptAt.IsZero() {
				t.Errorf("listed message lacks metadata: %+v", m)
			}
		}
		if _, err := e.db.OutboxMessage(ctx, other.ID, a.ID); ErrorCode(err) != ENOTFOUND {
			t.Errorf("another organization's message: %v", err)
		}

		// Paged by the last id of each page, the pages hold every message of
		// the organization once, and none of another's.
		c, _ := e.invite(t, e.org)
		var paged []int64
		for before := int64(0); ; {
			page, err := e.db.OutboxPage(ctx, e.org.ID, OutboxQuery{Before: before, Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page {
				paged = append(paged, r.ID)
			}
			if len(page) < 2 {
				break
			}
			before = page[len(page)-1].ID
		}
		if fmt.Sprint(paged) != fmt.Sprint([]int64{c.ID, b.ID, a.ID}) {
			t.Errorf("paged %v, want %v", paged, []int64{c.ID, b.ID, a.ID})
		}
	})
}

func TestLeaseIDsExtendAndRelease(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		e := newObEnv(t)
		ctx := context.Background()
		m1, _ := e.invite(t, e.org)
		m2, _ := e.invite(t, e.org)
		m3, _ := e.invite(t, e.org)
		// m2 is not due for an hour, m3 is held by someone else: LeaseIDs takes
		// m1 and m2.
		e.db.write.ExecContext(ctx, `UPDATE outbox SET next_attempt_at = ? WHERE id = ?`, e.db.Now().Add(time.Hour).Unix(), m2.ID)
		e.db.write.ExecContext(ctx, `UPDATE outbox SET lease_owner = 'x', lease_until = ? WHERE id = ?`, e.db.Now().Add(time.Minute).Unix(), m3.ID)
		var got []*OutboxMessage
		e.db.Tx(ctx, func(tx *Tx) error {
			var err error
			got, err = tx.LeaseIDs(ctx, "me", time.Minute, []int64{m1.ID, m2.ID, m3.ID, 999})
			return err
		})
		if fmt.Sprint(msgIDs(got)) != fmt.Sprint([]int64{m1.ID, m2.ID}) {
			t.Fatalf("LeaseIDs took %v", msgIDs(got))
		}
		*e.now = e.now.Add(50 * time.Second)
		var held []int64
		e.db.Tx(ctx, func(tx *Tx) error {
			var err error
			held, err = tx.ExtendLeases(ctx, "me", time.Minute, []int64{m1.ID, m2.ID, m3.ID})
			return err
		})
		if fmt.Sprint(held) != fmt.Sprint([]int64{m1.ID, m2.ID}) || !e.get(t, m1.ID).LeaseUntil.Equal(e.db.Now().Add(time.Minute)) {
			t.Fatalf("ExtendLeases held %v, lease until %s", held, e.get(t, m1.ID).LeaseUntil)
		}
		var n int
		e.db.Tx(ctx, func(tx *Tx) error {
			var err error
			n, err = tx.ReleaseLeases(ctx, "me", []int64{m1.ID, m2.ID, m3.ID})
			return err
		})
		if n != 2 || e.get(t, m1.ID).LeaseOwner != "" || e.get(t, m1.ID).Attempts != 0 || e.get(t, m3.ID).LeaseOwner != "x" {
			t.Errorf("ReleaseLeases released %d; m1 %+v; m3 %+v", n, e.get(t, m1.ID), e.get(t, m3.ID))
		}
	})
}

func TestCancelDeadMessages(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		e := newObEnv(t)
		ctx := context.Background()
		live, _ := e.invite(t, e.org)
		superseded, sc := e.invite(t, e.org)
		expired, ec := e.invite(t, e.org)
		if _, err := inTx(e.db, func(tx *Tx) (int, error) { return tx.RevokeInvites(ctx, sc.ID, PurposeClaim, RevokeSuperseded) }); err != nil {
			t.Fatal(err)
		}
		e.db.write.ExecContext(ctx, `UPDATE invites SET expires_at = ? WHERE customer_id = ?`, e.db.Now().Unix(), ec.ID)
		leased := e.lease(t, "w", 10)
		var ids []int64
		if err := e.db.Tx(ctx, func(tx *Tx) error {
			var err error
			ids, err = tx.CancelDeadMessages(ctx, "w", msgIDs(leased))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if len(ids) != 2 {
			t.Fatalf("cancelled %v, want %d and %d", ids, superseded.ID, expired.ID)
		}
		if m := e.get(t, superseded.ID); m.Status != OutboxFailed || m.LastError != "not sent: a newer invite was sent" {
			t.Errorf("superseded: %s %q", m.Status, m.LastError)
		}
		if m := e.get(t, expired.ID); m.Status != OutboxFailed || !strings.Contains(m.LastError, "expired") {
			t.Errorf("expired: %s %q", m.Status, m.LastError)
		}
		if m := e.get(t, live.ID); m.Status != OutboxQueued || m.LeaseOwner != "w" {
			t.Errorf("live invite's message: %s, lease %q; want untouched", m.Status, m.LeaseOwner)
		}
		if st := e.statusOf(t, ec); st != StatusFailed {
			t.Errorf("customer whose invite expired undelivered: %s, want failed", st)
		}
	})
}

func TestAssignMessageIDsKeepsTheFirst(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		e := newObEnv(t)
		ctx := context.Background()
		m1, _ := e.invite(t, e.org)
		m2, _ := e.invite(t, e.org)
		first, err := inTx(e.db, func(tx *Tx) (map[int64]string, error) {
			return tx.AssignMessageIDs(ctx, []int64{m1.ID}, "studio.example")
		})
		if err != nil || !strings.HasPrefix(first[m1.ID], fmt.Sprintf("outbox-%d.", m1.ID)) || !strings.HasSuffix(first[m1.ID], "@studio.example") {
			t.Fatalf("AssignMessageIDs = %v, %v", first, err)
		}
		again, err := inTx(e.db, func(tx *Tx) (map[int64]string, error) {
			return tx.AssignMessageIDs(ctx, []int64{m1.ID, m2.ID}, "studio.example")
		})
		if err != nil || again[m1.ID] != first[m1.ID] || again[m2.ID] == "" || again[m2.ID] == again[m1.ID] {
			t.Errorf("second call: %v, %v; want %s kept and a new one for %d", again, err, first[m1.ID], m2.ID)
		}
	})
}

// Every message names its customer: listed with it, refused without it.
func TestEnqueueNamesTheCustomer(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		e := newObEnv(t)
		ctx := context.Background()
		m, c := e.invite(t, e.org)
		got, err := e.db.OutboxMessage(ctx, e.org.ID, m.ID)
		if err != nil || got.CustomerID != c.ID {
			t.Fatalf("message %d lists customer %v (%v), want %d", m.ID, got, err, c.ID)
		}
		orphan := &OutboxMessage{OrgID: e.org.ID, Kind: MessageEmailChange, To: "x@example.com", Subject: "s", Text: "t"}
		if err := e.db.Tx(ctx, func(tx *Tx) error { return tx.EnqueueMessage(ctx, orphan) }); ErrorCode(err) != EINTERNAL {
			t.Fatalf("enqueue without a customer: %v", err)
		}
	})
}

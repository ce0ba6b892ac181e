package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// checkFunnel fails unless every customer's funnel stage is what their rows
// say (claimed; else opened a claim link; else sent one; else nothing) and
// funnel_counts holds what counting the stages gives.
func checkFunnel(t testing.TB, db *DB) {
	t.Helper()
	ctx := context.Background()
	var wrong string
	err := db.read.QueryRowContext(ctx, `SELECT coalesce(string_agg(id || ': stored ' || funnel || ', derived ' || derived, '; '), '')
		FROM (SELECT c.id, c.funnel, CASE
				WHEN c.claimed_at IS NOT NULL THEN 3
				WHEN EXISTS (SELECT 1 FROM invites i WHERE i.customer_id = c.id AND i.purpose = 'claim' AND i.opened_at IS NOT NULL) THEN 2
				WHEN EXISTS (SELECT 1 FROM invites i WHERE i.customer_id = c.id AND i.purpose = 'claim') THEN 1
				ELSE 0 END AS derived
			FROM customers c) AS d
		WHERE funnel <> derived`).Scan(&wrong)
	if err != nil {
		t.Fatal(err)
	}
	if wrong != "" {
		t.Errorf("customers.funnel out of step with their invites: %s", wrong)
	}
	var diff string
	err = db.read.QueryRowContext(ctx, `SELECT coalesce(string_agg(org_id || '/' || stage || ': ' || kept || ' kept, ' || actual || ' counted', '; '), '')
		FROM (SELECT coalesce(k.org_id, c.org_id) AS org_id, coalesce(k.stage, c.stage) AS stage, coalesce(k.n, 0) AS kept, coalesce(c.n, 0) AS actual
			FROM funnel_counts k FULL JOIN (SELECT org_id, funnel AS stage, count(*) AS n FROM customers WHERE archived = 0 AND funnel > 0 GROUP BY 1, 2) c
			ON c.org_id = k.org_id AND c.stage = k.stage) AS d
		WHERE kept <> actual`).Scan(&diff)
	if err != nil {
		t.Fatal(err)
	}
	if diff != "" {
		t.Errorf("funnel_counts out of step: %s", diff)
	}
}

// TestClaimFunnelFollowsTheCustomers: the header's funnel agrees with the
// rows through invites, resends, opened links (the first opening only),
// claims, archiving and deletes, and never counts another organization.
func TestClaimFunnelFollowsTheCustomers(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		db, now := newStoreForTest(t)
		ctx := context.Background()
		o := mustOrg(t, db, "Harbor Yoga")
		other := mustOrg(t, db, "Summit Gym")
		owner := mustStaff(t, db, o, "owner@harbor.example", RoleOwner)
		otherOwner := mustStaff(t, db, other, "owner@summit.example", RoleOwner)
		var cs []*Customer
		for i := range 6 {
			cs = append(cs, mustCustomer(t, db, o, "C", fmt.Sprint(i), fmt.Sprintf("c%d@example.com", i)))
		}
		want := func(when string, f Funnel) {
			t.Helper()
			got, err := db.ClaimFunnel(ctx, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got != f {
				t.Errorf("%s: funnel %+v, want %+v", when, got, f)
			}
			checkFunnel(t, db)
		}
		open := func(inv *Invite) bool {
			t.Helper()
			first, err := inTx(db, func(tx *Tx) (bool, error) { return tx.OpenInvite(ctx, inv.ID) })
			if err != nil {
				t.Fatal(err)
			}
			return first
		}
		want("nobody invited", Funnel{})

		a := mustInvite(t, db, cs[0], owner, 7*24*time.Hour)
		mustInvite(t, db, cs[1], owner, 7*24*time.Hour)
		b := mustInvite(t, db, cs[2], owner, 7*24*time.Hour)
		x := mustInvite(t, db, mustCustomer(t, db, other, "Other", "Org", "x@example.com"), otherOwner, 7*24*time.Hour)
		want("three invited", Funnel{Invited: 3})

		if !open(a) {
			t.Fatal("first opening not reported as the first")
		}
		*now = now.Add(time.Hour)
		if open(a) {
			t.Error("second opening reported as the first")
		}
		var opened int64
		if err := db.read.QueryRowContext(ctx, `SELECT opened_at FROM invites WHERE id = ?`, a.ID).Scan(&opened); err != nil || opened != now.Add(-time.Hour).Unix() {
			t.Errorf("opened_at %d (%v), want the first opening's time %d", opened, err, now.Add(-time.Hour).Unix())
		}
		open(x) // another organization's
		want("one opened", Funnel{Invited: 3, Opened: 1})

		// A resend does not take the customer out of "opened"; opening the new
		// link does not count them twice.
		a2 := mustInvite(t, db, cs[0], owner, 7*24*time.Hour)
		open(a2)
		want("resent and opened again", Funnel{Invited: 3, Opened: 1})

		// Claiming moves a customer to the end, opened or not.
		for _, c := range []*Customer{cs[0], cs[2]} {
			if ok, err := inTx(db, func(tx *Tx) (bool, error) { return tx.ClaimAccount(ctx, o.ID, c.ID, "$argon2id$x") }); !ok || err != nil {
				t.Fatal(ok, err)
			}
		}
		want("two claimed", Funnel{Invited: 3, Opened: 2, Claimed: 2})
		// b was never opened: opening it after the claim is a first opening,
		// but the customer is past "opened" already.
		open(b)
		want("a claimed customer's old link opened", Funnel{Invited: 3, Opened: 2, Claimed: 2})

		if err := db.Tx(ctx, func(tx *Tx) error { return tx.ArchiveCustomer(ctx, o.ID, cs[2].ID) }); err != nil {
			t.Fatal(err)
		}
		want("a claimed customer archived", Funnel{Invited: 2, Opened: 1, Claimed: 1})
		if _, err := db.write.ExecContext(ctx, `DELETE FROM customers WHERE id = ?`, cs[1].ID); err != nil {
			t.Fatal(err)
		}
		want("an invited customer deleted", Funnel{Invited: 1, Opened: 1, Claimed: 1})

		// A password-reset link opened is not part of the funnel.
		r := &Invite{OrgID: o.ID, CustomerID: cs[0].ID, Purpose: PurposeReset, Email: cs[0].Email, ExpiresAt: now.Add(time.Hour), TokenHash: make([]byte, 32)}
		r.TokenHash[0] = 9
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.CreateInvite(ctx, r) }); err != nil {
			t.Fatal(err)
		}
		if !open(r) {
			t.Error("a reset link's first opening not recorded")
		}
		want("a reset link opened", Funnel{Invited: 1, Opened: 1, Claimed: 1})

		otherFunnel, err := db.ClaimFunnel(ctx, other.ID)
		if err != nil || otherFunnel != (Funnel{Invited: 1, Opened: 1}) {
			t.Errorf("the other organization's funnel %+v (%v)", otherFunnel, err)
		}
	})
}

// The invite history reads the first opening and the delivery of each
// link, and a bounced email counts as undelivered.
func TestInviteOpenedAndDelivery(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		db, now := newStoreForTest(t)
		ctx := context.Background()
		o := mustOrg(t, db, "Harbor Yoga")
		owner := mustStaff(t, db, o, "owner@harbor.example", RoleOwner)
		c := mustCustomer(t, db, o, "Jane", "Doe", "jane@example.com")
		inv := mustInvite(t, db, c, owner, 7*24*time.Hour)
		history := func() (*Profile, *Invite) {
			t.Helper()
			p, err := db.Profile(ctx, o.ID, c.ID)
			if err != nil || len(p.Invites) == 0 {
				t.Fatal(p, err)
			}
			return p, &p.Invites[0]
		}
		p, got := history()
		if d := got.Delivery(); d != DeliveryQueued {
			t.Errorf("new invite's delivery %q, want queued", d)
		}
		if got.AwaitingPassword(&p.Customer, db.Now()) || !got.OpenedAt.IsZero() {
			t.Errorf("never opened, yet opened at %v", got.OpenedAt)
		}
		if _, err := db.write.ExecContext(ctx, `UPDATE outbox SET attempts = 2, last_error = '451 4.7.1 greylisted', next_attempt_at = ? WHERE id = ?`, now.Add(10*time.Minute).Unix(), inv.OutboxID); err != nil {
			t.Fatal(err)
		}
		if _, got = history(); got.Delivery() != DeliveryRetrying || !got.NextAttemptAt.Equal(now.Add(10*time.Minute)) || got.LastError != "451 4.7.1 greylisted" {
			t.Errorf("being retried: %s next %v error %q", got.Delivery(), got.NextAttemptAt, got.LastError)
		}
		if _, err := db.write.ExecContext(ctx, `UPDATE outbox SET status = 'sent', reply = '250 2.0.0 OK: queued as 4F2A', sent_at = ? WHERE id = ?`, now.Unix(), inv.OutboxID); err != nil {
			t.Fatal(err)
		}
		*now = now.Add(20 * time.Minute)
		if _, err := inTx(db, func(tx *Tx) (bool, error) { return tx.OpenInvite(ctx, inv.ID) }); err != nil {
			t.Fatal(err)
		}
		p, got = history()
		if got.Delivery() != DeliverySent || got.Reply != "250 2.0.0 OK: queued as 4F2A" {
			t.Errorf("sent: %s %q", got.Delivery(), got.Reply)
		}
		if !got.OpenedAt.Equal(*now) || !got.AwaitingPassword(&p.Customer, db.Now()) {
			t.Errorf("opened at %v (want %v), awaiting password %v", got.OpenedAt, *now, got.AwaitingPassword(&p.Customer, db.Now()))
		}
		// The customers' web reads the same columns through the token.
		l, _, _, err := db.LinkByTokenHash(ctx, inv.TokenHash)
		if err != nil || !l.OpenedAt.Equal(*now) || l.Reply != got.Reply {
			t.Errorf("link by token: opened %v reply %q (%v)", l.OpenedAt, l.Reply, err)
		}

		// A bounce reported later: nobody holds the link.
		if _, err := db.write.ExecContext(ctx, `UPDATE outbox SET status = 'bounced', last_error = 'smtp; 550 5.1.1 user unknown' WHERE id = ?`, inv.OutboxID); err != nil {
			t.Fatal(err)
		}
		p, got = history()
		if s, _ := got.State(&p.Customer, db.Now()); s != InviteFailed || got.Delivery() != DeliveryBounced || !got.Delivery().Undelivered() {
			t.Errorf("bounced: state %s, delivery %s", s, got.Delivery())
		}
		if got.AwaitingPassword(&p.Customer, db.Now()) {
			t.Error("a bounced link is said to await a password")
		}
	})
}

// TestOutboxPage pages an organization's outbox newest first, both ways and
// from either end, with the customer and the link of each message, and the
// messages that need attention through their own index.
func TestOutboxPage(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		e := newObEnv(t)
		ctx := context.Background()
		other := &Org{Name: "Other Studio", Notifications: true}
		if err := e.db.Tx(ctx, func(tx *Tx) error { return tx.CreateOrg(ctx, other) }); err != nil {
			t.Fatal(err)
		}
		var ids []int64 // the organization's, oldest first
		var custs []*Customer
		for i := range 12 {
			m, c := e.invite(t, e.org)
			ids = append(ids, m.ID)
			custs = append(custs, c)
			if i%4 == 0 {
				e.invite(t, other)
			}
		}
		newest := func(n int) []int64 {
			var out []int64
			for i := len(ids) - 1; i >= 0 && len(out) < n; i-- {
				out = append(out, ids[i])
			}
			return out
		}
		page := func(q OutboxQuery) []int64 {
			t.Helper()
			rows, err := e.db.OutboxPage(ctx, e.org.ID, q)
			if err != nil {
				t.Fatal(err)
			}
			var out []int64
			for _, r := range rows {
				if r.OrgID != e.org.ID {
					t.Fatalf("another organization's message %d listed", r.ID)
				}
				out = append(out, r.ID)
			}
			return out
		}
		all := newest(12)
		if got := page(OutboxQuery{Limit: 5}); fmt.Sprint(got) != fmt.Sprint(all[:5]) {
			t.Errorf("first page %v, want %v", got, all[:5])
		}
		if got := page(OutboxQuery{Limit: 5, Before: all[4]}); fmt.Sprint(got) != fmt.Sprint(all[5:10]) {
			t.Errorf("next page %v, want %v", got, all[5:10])
		}
		if got := page(OutboxQuery{Limit: 5, After: all[5]}); fmt.Sprint(got) != fmt.Sprint(all[:5]) {
			t.Errorf("page back %v, want %v (newest first)", got, all[:5])
		}
		if got := page(OutboxQuery{Limit: 5, Oldest: true}); fmt.Sprint(got) != fmt.Sprint(all[7:]) {
			t.Errorf("last page %v, want %v", got, all[7:])
		}

		// Messages to act on: one failed, one bounced, one being retried.
		for i, q := range []string{
			`UPDATE outbox SET status = 'failed', attempts = 1, last_error = '550 5.1.1 User unknown' WHERE id = ?`,
			`UPDATE outbox SET status = 'bounced', attempts = 1, last_error = 'smtp; 550 5.1.1 user unknown' WHERE id = ?`,
			`UPDATE outbox SET attempts = 2, last_error = '451 4.7.1 greylisted' WHERE id = ?`,
			`UPDATE outbox SET status = 'sent', attempts = 1, reply = '250 OK' WHERE id = ?`,
		} {
			if _, err := e.db.write.ExecContext(ctx, q, ids[3+2*i]); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.db.write.ExecContext(ctx, `UPDATE outbox SET status = 'failed', attempts = 1 WHERE org_id = ?`, other.ID); err != nil {
			t.Fatal(err)
		}
		attention := page(OutboxQuery{Attention: true, Limit: 10})
		if fmt.Sprint(attention) != fmt.Sprint([]int64{ids[7], ids[5], ids[3]}) {
			t.Errorf("needing attention: %v, want the failed, the bounced and the retried", attention)
		}
		if got := page(OutboxQuery{Attention: true, Limit: 2, Before: attention[0]}); fmt.Sprint(got) != fmt.Sprint(attention[1:]) {
			t.Errorf("attention, next page %v, want %v", got, attention[1:])
		}
		if engineOf(t) == SQLite { // a query plan is an engine's own
			plan := dumpTable(t, e.db.read, `EXPLAIN QUERY PLAN SELECT id FROM outbox WHERE org_id = 1 AND `+outboxAttention+` AND id < 9 ORDER BY id DESC LIMIT 10`)
			if !strings.Contains(plan, "outbox_attention") || strings.Contains(plan, "TEMP B-TREE") {
				t.Errorf("the attention page is not read through outbox_attention: %s", plan)
			}
		}

		// Each row names its customer as they are now and the link it carried;
		// a resend marks the older message as needing no fix.
		rows, err := e.db.OutboxPage(ctx, e.org.ID, OutboxQuery{Limit: 1, Oldest: true})
		if err != nil || len(rows) != 1 {
			t.Fatal(rows, err)
		}
		r := rows[0]
		c := custs[0]
		if r.CustomerName != c.Name() || r.CustomerEmail != c.Email || r.Purpose != PurposeClaim || r.Newer {
			t.Errorf("oldest row: %q %q %q newer %v", r.CustomerName, r.CustomerEmail, r.Purpose, r.Newer)
		}
		mustInvite(t, e.db, c, e.staff, 7*24*time.Hour)
		if err := e.db.Tx(ctx, func(tx *Tx) error { return tx.SetCustomerEmail(ctx, e.org.ID, c.ID, "fixed@example.com") }); err != nil {
			t.Fatal(err)
		}
		rows, _ = e.db.OutboxPage(ctx, e.org.ID, OutboxQuery{Limit: 1, Oldest: true})
		if r := rows[0]; !r.Newer || r.CustomerEmail != "fixed@example.com" || r.To != c.Email {
			t.Errorf("after a resend and a fix: newer %v, customer's email %q, sent to %q", r.Newer, r.CustomerEmail, r.To)
		}
		if _, err := e.db.write.ExecContext(ctx, `DELETE FROM customers WHERE id = ?`, c.ID); err != nil {
			t.Fatal(err)
		}
		rows, _ = e.db.OutboxPage(ctx, e.org.ID, OutboxQuery{Limit: 1, Oldest: true})
		if r := rows[0]; r.CustomerName != "" || r.CustomerID != 0 {
			t.Errorf("a deleted customer's message names %q (%d)", r.CustomerName, r.CustomerID)
		}
	})
}

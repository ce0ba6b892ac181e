package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

// sent takes the message through the worker's steps (lease, Message-ID, the
// server's 250) and returns it as stored.
func (e *obEnv) sent(t *testing.T, m *OutboxMessage, reply string) *OutboxMessage {
	t.Helper()
	ctx := context.Background()
	e.lease(t, "w", 100)
	err := e.db.Tx(ctx, func(tx *Tx) error {
		if _, err := tx.AssignMessageIDs(ctx, []int64{m.ID}, "harbor.example"); err != nil {
			return err
		}
		ok, err := tx.MarkSent(ctx, m.ID, "w", reply, "")
		if err == nil && !ok {
			t.Fatalf("message %d: the lease was lost", m.ID)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return e.get(t, m.ID)
}

// A message a provider reports bounced is undelivered, as a failed one is:
// the customer shows "Delivery failed" and the link counts as never
// received.
func TestBouncedMessageIsUndelivered(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		e := newObEnv(t)
		ctx := context.Background()
		m, c := e.invite(t, e.org)
		e.sent(t, m, "250 2.0.0 Ok: queued as 4F2A")
		if _, err := e.db.write.ExecContext(ctx, `UPDATE outbox SET status = 'bounced' WHERE id = ?`, m.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.db.Tx(ctx, func(tx *Tx) error { return tx.refreshState(ctx, `id = ?`, c.ID) }); err != nil {
			t.Fatal(err)
		}
		if got := e.statusOf(t, c); got != StatusFailed {
			t.Errorf("customer whose invite bounced: %s, want %s", got, StatusFailed)
		}
		invs, err := e.db.Invites(ctx, e.org.ID, c.ID)
		if err != nil || len(invs) != 1 {
			t.Fatalf("invites: %v, %v", invs, err)
		}
		cust, err := e.db.Customer(ctx, e.org.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if s, _ := invs[0].State(cust, e.db.Now()); s != InviteFailed {
			t.Errorf("invite whose email bounced: %s, want %s", s, InviteFailed)
		}
	})
}

const sesID = "0000014644fe5ef6-9a483358-9170-4cb4-a269-f5dcdf415321-000000"

func (e *obEnv) bounce(t *testing.T, b *Bounce) (*Bounced, error) {
	t.Helper()
	var got *Bounced
	err := e.db.Tx(context.Background(), func(tx *Tx) error {
		var err error
		got, err = tx.RecordBounce(context.Background(), b)
		return err
	})
	return got, err
}

func (e *obEnv) audits(t *testing.T, c *Customer) []AuditEntry {
	t.Helper()
	log, err := e.db.AuditLog(context.Background(), e.org.ID, c.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []AuditEntry
	for _, a := range log {
		if a.Action == "outbox.bounce" {
			out = append(out, a)
		}
	}
	return out
}

func (e *obEnv) invite0(t *testing.T, c *Customer) Invite {
	t.Helper()
	invs, err := e.db.Invites(context.Background(), c.OrgID, c.ID)
	if err != nil || len(invs) == 0 {
		t.Fatalf("invites of %d: %v, %v", c.ID, invs, err)
	}
	return invs[0]
}

func TestHardBounceEndsTheLink(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		e := newObEnv(t)
		m, c := e.invite(t, e.org)
		m = e.sent(t, m, "250 Ok "+sesID)
		*e.now = e.now.Add(10 * time.Minute)
		b := &Bounce{Provider: "Amazon SES", MessageID: "<" + m.MessageID + ">", ProviderID: sesID, Recipient: m.To,
			At: e.now.Add(-time.Minute), Permanent: true, Reason: "smtp; 550 5.1.1 <" + m.To + ">... User\r\nunknown"}
		got, err := e.bounce(t, b)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Recorded || got.MatchedBy != MatchMessageID || got.OutboxID != m.ID || got.CustomerID != c.ID || got.OrgID != e.org.ID {
			t.Fatalf("RecordBounce: %+v; want message %d of customer %d recorded, found by its Message-ID", got, m.ID, c.ID)
		}
		after := e.get(t, m.ID)
		wantReason := "smtp; 550 5.1.1 <" + m.To + ">... User unknown"
		if after.Status != OutboxBounced || after.LastError != wantReason || !after.BouncedAt.Equal(e.now.Add(-time.Minute)) || after.BouncedBy != "Amazon SES" {
			t.Errorf("message after the bounce: status %q, reason %q, at %v by %q; want bounced, %q, at the bounce, by Amazon SES",
				after.Status, after.LastError, after.BouncedAt, after.BouncedBy, wantReason)
		}
		if after.Reply != "250 Ok "+sesID || after.SentAt.IsZero() {
			t.Errorf("the server's reply and the send time are the record of delivery and must stay: %q, %v", after.Reply, after.SentAt)
		}
		if s := e.statusOf(t, c); s != StatusFailed {
			t.Errorf("customer: %s, want %s", s, StatusFailed)
		}
		inv := e.invite0(t, c)
		if inv.ExpiresAt.After(*e.now) {
			t.Errorf("the bounced link still works until %v", inv.ExpiresAt)
		}
		if inv.DeliveryStatus != OutboxBounced || inv.LastError != wantReason {
			t.Errorf("invite history: delivery %q (%q), want bounced with the reason", inv.DeliveryStatus, inv.LastError)
		}
		log := e.audits(t, c)
		if len(log) != 1 || log[0].Actor.Kind != "system" || log[0].Actor.Name != "Amazon SES bounce report" ||
			!strings.Contains(log[0].Detail, wantReason) || !strings.Contains(log[0].Detail, "no longer works") {
			t.Fatalf("audit: %+v; want one row by the provider naming the reason and the link", log)
		}

		// Providers retry their webhooks: the same report again, or a soft one
		// after it, changes nothing and is not audited twice.
		for _, again := range []*Bounce{b, {Provider: "Amazon SES", MessageID: m.MessageID, Permanent: false, Reason: "452 mailbox full"}} {
			got, err := e.bounce(t, again)
			if err != nil || got.Recorded || got.OutboxID != m.ID {
				t.Errorf("report again (permanent %v): %+v, %v; want the message found and nothing recorded", again.Permanent, got, err)
			}
		}
		if a := e.get(t, m.ID); a.Status != OutboxBounced || a.LastError != wantReason {
			t.Errorf("after repeats: %q %q", a.Status, a.LastError)
		}
		if n := len(e.audits(t, c)); n != 1 {
			t.Errorf("%d audit rows after repeats, want 1", n)
		}
	})
}

func TestSoftBounceKeepsTheLink(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		e := newObEnv(t)
		m, c := e.invite(t, e.org)
		m = e.sent(t, m, "250 2.0.0 Ok: queued as 4F2A")
		soft := &Bounce{Provider: "Postmark", MessageID: m.MessageID, Permanent: false, Reason: "smtp;452 4.2.2 Mailbox full"}
		got, err := e.bounce(t, soft)
		if err != nil || !got.Recorded {
			t.Fatalf("soft bounce: %+v, %v", got, err)
		}
		after := e.get(t, m.ID)
		if after.Status != OutboxSent || after.LastError != soft.Reason || after.BouncedAt.IsZero() || after.BouncedBy != "Postmark" {
			t.Errorf("message after a soft bounce: %q %q %v %q; want still sent, with the report", after.Status, after.LastError, after.BouncedAt, after.BouncedBy)
		}
		if s := e.statusOf(t, c); s != StatusInvited {
			t.Errorf("customer after a soft bounce: %s, want %s", s, StatusInvited)
		}
		cust, _ := e.db.Customer(context.Background(), c.OrgID, c.ID)
		if inv := e.invite0(t, c); func() InviteState { s, _ := inv.State(cust, e.db.Now()); return s }() != InviteLive {
			t.Errorf("the link after a soft bounce is not live")
		}
		if got, _ := e.bounce(t, soft); got == nil || got.Recorded {
			t.Errorf("the same soft bounce again: %+v; want nothing recorded", got)
		}
		// Then the provider gives up: a hard bounce ends it.
		hard := &Bounce{Provider: "Postmark", MessageID: m.MessageID, Permanent: true, Reason: "smtp;550 5.2.2 Mailbox full for good"}
		if got, err := e.bounce(t, hard); err != nil || !got.Recorded {
			t.Fatalf("hard bounce after a soft one: %+v, %v", got, err)
		}
		if s := e.statusOf(t, c); s != StatusFailed {
			t.Errorf("customer after the hard bounce: %s, want %s", s, StatusFailed)
		}
		if n := len(e.audits(t, c)); n != 2 {
			t.Errorf("%d audit rows, want 2 (the soft report and the hard one)", n)
		}
	})
}

// Each key finds the message it names and no other.
func TestBounceFindsTheMessage(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		e := newObEnv(t)
		ctx := context.Background()
		ma, ca := e.invite(t, e.org)
		ma = e.sent(t, ma, "250 Ok "+sesID)
		mb, cb := e.invite(t, e.org)
		mb = e.sent(t, mb, "250 2.0.0 Ok: queued as 4F2A")
		queued, _ := e.invite(t, e.org)
		e.lease(t, "w", 10) // leased, has a Message-ID once assigned, never sent
		if err := e.db.Tx(ctx, func(tx *Tx) error {
			_, err := tx.AssignMessageIDs(ctx, []int64{queued.ID}, "harbor.example")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		queued = e.get(t, queued.ID)
		*e.now = e.now.Add(time.Hour)

		notFound := func(what string, b *Bounce) {
			t.Helper()
			got, err := e.bounce(t, b)
			if ErrorCode(err) != ENOTFOUND {
				t.Errorf("%s: %+v, %v; want not found", what, got, err)
			}
		}
		found := func(what string, b *Bounce, want *OutboxMessage, by BounceMatch) {
			t.Helper()
			got, err := e.bounce(t, b)
			if err != nil || got.OutboxID != want.ID || got.MatchedBy != by {
				t.Errorf("%s: %+v, %v; want message %d by %s", what, got, err, want.ID, by)
			}
		}
		soft := func(b Bounce) *Bounce { b.Provider, b.Reason = "Test", "452 try later"; return &b }

		notFound("a message never sent", soft(Bounce{MessageID: queued.MessageID}))
		notFound("a part of the provider's id", soft(Bounce{ProviderID: sesID[:30]}))
		notFound("a short word of a reply", soft(Bounce{ProviderID: "4F2A"}))
		notFound("our Message-ID to another address", soft(Bounce{MessageID: ma.MessageID, Recipient: mb.To}))
		notFound("the provider's id to another address", soft(Bounce{ProviderID: sesID, Recipient: mb.To}))
		notFound("a stranger", soft(Bounce{MessageID: "x@elsewhere.example", ProviderID: "883953f4-6105-42a2-a16a-77a8eac79483", Recipient: "john@example.com"}))
		// Recipient alone, but the report is dated before the message was sent
		// (a replayed report), or more than the window after it.
		notFound("a bounce before the message", soft(Bounce{Recipient: mb.To, At: mb.SentAt.Add(-time.Hour)}))
		saved := *e.now
		*e.now = mb.SentAt.Add(BounceWindow + time.Hour)
		notFound("a bounce long after", soft(Bounce{Recipient: mb.To}))
		*e.now = saved
		if n := e.count(t, `SELECT count(*) FROM outbox WHERE bounced_at IS NOT NULL`); n != 0 {
			t.Fatalf("%d messages marked by reports that named none", n)
		}
		if n := len(e.audits(t, ca)) + len(e.audits(t, cb)); n != 0 {
			t.Fatalf("%d audit rows for reports that named nothing", n)
		}

		found("the provider's id in the reply", soft(Bounce{ProviderID: strings.ToUpper(sesID), Recipient: ma.To}), ma, MatchProviderID)
		found("an unknown Message-ID, then the provider's id", soft(Bounce{MessageID: "x@elsewhere.example", ProviderID: sesID}), ma, MatchProviderID)
		found("the recipient alone, any case", soft(Bounce{Recipient: strings.ToUpper(mb.To)}), mb, MatchRecipient)
		found("a provider id we never saw, then the recipient", soft(Bounce{ProviderID: "883953f4-6105-42a2-a16a-77a8eac79483", Recipient: mb.To}), mb, MatchRecipient)

		// Two messages to one address: the recipient names the latest.
		mc, _ := e.invite(t, e.org)
		if err := e.db.Tx(ctx, func(tx *Tx) error {
			_, err := tx.exec(ctx, `UPDATE outbox SET to_addr = ? WHERE id = ?`, mb.To, mc.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		mc = e.sent(t, mc, "250 ok")
		*e.now = e.now.Add(time.Minute)
		found("the latest message to the address", soft(Bounce{Recipient: mb.To}), mc, MatchRecipient)
	})
}

func (e *obEnv) count(t *testing.T, query string) int {
	t.Helper()
	var n int
	if err := e.db.read.QueryRow(query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Each report reads a few rows through an index, not the whole outbox,
// which only grows.
//
// SQLite only: query plans are SQLite's (EXPLAIN QUERY PLAN); PostgreSQL's are the search task's.
func TestBounceSearchesUseIndexes(t *testing.T) {
	e := newObEnv(t)
	for _, c := range []struct {
		query, index string
		args         []any
	}{
		{bounceByMessageID, "outbox_message_id", []any{"x"}},
		{bounceByProviderID, "outbox_sent", []any{1, "x"}},
		{bounceByRecipient, "outbox_to_sent", []any{"x", 1, 2}},
	} {
		rows, err := e.db.read.Query("EXPLAIN QUERY PLAN "+c.query, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		got := strings.Join(plan, "; ")
		if !strings.Contains(got, "USING INDEX "+c.index) || strings.Contains(got, "TEMP B-TREE") {
			t.Errorf("%s\nplan: %s; want a search through %s, in order", c.query, got, c.index)
		}
	}
}

package claim

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"frontdesk/store"
)

// fail records a permanent delivery failure of message id, as the worker
// does after a 550.
func (f *fixture) fail(id int64, reply string) {
	f.t.Helper()
	ctx := context.Background()
	err := f.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.LeaseIDs(ctx, "worker", time.Minute, []int64{id}); err != nil {
			return err
		}
		ok, err := tx.MarkFailed(ctx, id, "worker", reply)
		if err == nil && !ok {
			f.t.Fatalf("message %d was not failed", id)
		}
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

var tokenIn = regexp.MustCompile(`/(?:claim|reset)/([A-Za-z0-9_-]{43})`)

// emailedToken is the token in message id's text, as the customer gets it.
func (f *fixture) emailedToken(id int64) string {
	f.t.Helper()
	m := tokenIn.FindStringSubmatch(f.message(id).Text)
	if m == nil {
		f.t.Fatalf("no link in message %d", id)
	}
	return m[1]
}

func (f *fixture) audited(c *store.Customer, action, detail string) bool {
	f.t.Helper()
	log, err := f.db.AuditLog(context.Background(), f.org.ID, c.ID, 20)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, a := range log {
		if a.Action == action && strings.Contains(a.Detail, detail) {
			return true
		}
	}
	return false
}

// TestRetryFailedInviteIssuesAFreshLink: an invite refused by the server
// loses its link at once; once staff fix the address, retrying the message
// sends a new invite there, with a new link, audited.
func TestRetryFailedInviteIssuesAFreshLink(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	jane := f.customer("Jane", "Doe", "jane@exmaple.com")
	sent := f.invite(jane)
	f.fail(sent.OutboxID, "550 5.1.1 User unknown")
	if s := f.state(sent.token); s != LinkRevoked {
		t.Errorf("the undelivered link is %s; want it withdrawn", s)
	}
	if st := f.status(jane); st != store.StatusFailed {
		t.Errorf("status after the failure: %s", st)
	}

	if _, err := f.svc.RetryMessage(ctx, f.desk, sent.OutboxID); store.ErrorCode(err) != store.EUNAUTHORIZED && !isRefusal(err, ReasonForbidden) {
		t.Errorf("staff role retried: %v", err)
	}
	if _, err := f.svc.ChangeEmail(ctx, f.owner, jane.ID, "jane@example.com"); err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.RetryMessage(ctx, f.owner, sent.OutboxID)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Reissued || r.Purpose != store.PurposeClaim || r.OutboxID == sent.OutboxID {
		t.Fatalf("retry of a failed invite: %+v; want a fresh invite in a new message", r)
	}
	m := f.message(r.OutboxID)
	fresh := f.emailedToken(r.OutboxID)
	if m.To != "jane@example.com" || m.Kind != "invite" || fresh == sent.token {
		t.Errorf("fresh message to %s (%s), same token: %v", m.To, m.Kind, fresh == sent.token)
	}
	if s := f.state(fresh); s != LinkValid {
		t.Errorf("fresh link is %s", s)
	}
	if s := f.state(sent.token); s == LinkValid {
		t.Error("the old link works again")
	}
	if st := f.status(jane); st != store.StatusInvited {
		t.Errorf("status after the retry: %s", st)
	}
	if !f.audited(jane, "invite.send", "jane@example.com") || !f.audited(jane, "outbox.retry", "a fresh one went to jane@example.com") {
		t.Error("the retry is not in the audit log")
	}
	// Retrying the old failure again would cancel the link just sent.
	if _, err := f.svc.RetryMessage(ctx, f.owner, sent.OutboxID); store.ErrorCode(err) != store.EINVALID || !strings.Contains(err.Error(), "a newer link was sent") {
		t.Errorf("second retry of the old failure: %v", err)
	}
	if s := f.state(fresh); s != LinkValid {
		t.Errorf("fresh link after the refused retry: %s", s)
	}
}

func TestRetryQueuedMessageKeepsIt(t *testing.T) {
	f := newFixture(t)
	jane := f.customer("Jane", "Doe", "jane@example.com")
	sent := f.invite(jane)
	r, err := f.svc.RetryMessage(context.Background(), f.owner, sent.OutboxID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Reissued || r.OutboxID != sent.OutboxID {
		t.Errorf("retry of a queued invite: %+v; want the same message, due now", r)
	}
	if f.emailedToken(sent.OutboxID) != sent.token || f.state(sent.token) != LinkValid {
		t.Error("the queued invite's link changed")
	}
}

func TestRetryFailedResetIssuesAFreshResetLink(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	jane := f.customer("Jane", "Doe", "jane@example.com")
	f.redeem(f.invite(jane).token, goodPassword)
	res, err := f.svc.RequestReset(ctx, ResetRequest{Email: "jane@example.com", Addr: "192.0.2.1"})
	if err != nil || len(res.OutboxIDs) != 1 {
		t.Fatalf("reset request: %+v, %v", res, err)
	}
	old := f.emailedToken(res.OutboxIDs[0])
	f.fail(res.OutboxIDs[0], "552 5.2.2 Mailbox full")
	if l, _ := f.svc.Lookup(ctx, store.PurposeReset, old); l.State == LinkValid {
		t.Error("the undelivered reset link still works")
	}
	r, err := f.svc.RetryMessage(ctx, f.owner, res.OutboxIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	if !r.Reissued || r.Purpose != store.PurposeReset || f.message(r.OutboxID).Kind != "reset" {
		t.Fatalf("retry of a failed reset: %+v", r)
	}
	fresh := f.emailedToken(r.OutboxID)
	if l, _ := f.svc.Lookup(ctx, store.PurposeReset, fresh); l.State != LinkValid || fresh == old {
		t.Errorf("fresh reset link: %v", l.State)
	}
	if !f.audited(jane, "account.reset_send", "sent by staff") || !f.audited(jane, "outbox.retry", "message ") {
		t.Error("the fresh reset link is not audited as a staff send and a retry")
	}
}

func isRefusal(err error, r Reason) bool {
	ref, ok := err.(*Refusal)
	return ok && ref.Reason == r
}

// bounce delivers message id as the worker does, then records the hard
// bounce a provider reports for it afterwards.
func (f *fixture) bounce(id int64, reason string) {
	f.t.Helper()
	ctx := context.Background()
	err := f.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.LeaseIDs(ctx, "worker", time.Minute, []int64{id}); err != nil {
			return err
		}
		if ok, err := tx.MarkSent(ctx, id, "worker", "250 2.0.0 Ok: queued as 4F2A", "outbox-x@harbor.example"); err != nil || !ok {
			f.t.Fatalf("message %d not sent: %v", id, err)
		}
		_, err := tx.RecordBounce(ctx, &store.Bounce{Provider: "Postmark", MessageID: "outbox-x@harbor.example", Permanent: true, Reason: reason})
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

// An invite that bounced after delivery is retried as a failed one is: its
// link is gone, so a fresh one goes to the address as it is now.
func TestRetryBouncedInviteIssuesAFreshLink(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	jane := f.customer("Jane", "Doe", "jane@exmaple.com")
	sent := f.invite(jane)
	f.bounce(sent.OutboxID, "smtp;550 5.1.1 The email account that you tried to reach does not exist")
	if s := f.state(sent.token); s == LinkValid {
		t.Fatal("the bounced link still works")
	}
	if st := f.status(jane); st != store.StatusFailed {
		t.Errorf("status after the bounce: %s", st)
	}
	if _, err := f.svc.ChangeEmail(ctx, f.owner, jane.ID, "jane@example.com"); err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.RetryMessage(ctx, f.owner, sent.OutboxID)
	if err != nil {
		t.Fatalf("retry of a bounced invite: %v", err)
	}
	if !r.Reissued || r.OutboxID == sent.OutboxID || f.message(r.OutboxID).To != "jane@example.com" {
		t.Fatalf("retry of a bounced invite: %+v; want a fresh invite to the fixed address", r)
	}
	if s := f.state(f.emailedToken(r.OutboxID)); s != LinkValid {
		t.Errorf("fresh link is %s", s)
	}
	if !f.audited(jane, "outbox.retry", "had bounced (smtp;550 5.1.1") {
		t.Error("the retry's audit row does not say the message bounced, and why")
	}
}

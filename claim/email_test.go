package claim

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"frontdesk/store"
	"frontdesk/store/storetest"
)

// outboxRow is a message as the worker will find it.
type outboxRow struct {
	kind, to, subject, text, html string
	customer                      int64
}

func (f *fixture) outbox(id int64) outboxRow {
	f.t.Helper()
	m := f.message(id) // opened as the worker opens it
	return outboxRow{kind: m.Kind, to: m.To, subject: m.Subject, text: m.Text, html: m.HTML, customer: m.CustomerID}
}

// counts are the rows a staff write leaves behind.
func (f *fixture) counts() (invites, outbox, audit int) {
	f.t.Helper()
	err := storetest.Raw(f.t, f.db).QueryRowContext(context.Background(), `SELECT (SELECT count(*) FROM invites), (SELECT count(*) FROM outbox), (SELECT count(*) FROM audit)`).
		Scan(&invites, &outbox, &audit)
	if err != nil {
		f.t.Fatal(err)
	}
	return
}

func (f *fixture) claimed(first, last, email string) *store.Customer {
	f.t.Helper()
	c := f.customer(first, last, email)
	f.redeem(f.invite(c).token, goodPassword)
	return c
}

// Changing a claimed customer's email is changing where they sign in: both
// addresses hear of it, in the change's transaction, without a link to act
// on, and a reset link sent to the old address stops working.
func TestEmailChangeOfClaimedCustomerNotifiesBothAddresses(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	jane := f.claimed("Jane", "Doe", "jane@example.com")
	// Notices are about the account's security, not invitations: they go
	// out with the organization's notifications off.
	f.org.Notifications, f.org.ReplyTo = false, "desk@harbor.example"
	if err := f.db.Tx(ctx, func(tx *store.Tx) error { return tx.UpdateOrg(ctx, f.org) }); err != nil {
		t.Fatal(err)
	}
	res, err := f.svc.RequestReset(ctx, ResetRequest{Email: "jane@example.com", Addr: "192.0.2.1"})
	if err != nil || len(res.OutboxIDs) != 1 {
		t.Fatalf("reset request: %+v, %v", res, err)
	}
	resetToken := f.message(res.OutboxIDs[0]).Text
	resetToken = resetToken[strings.Index(resetToken, "/reset/")+len("/reset/"):]
	resetToken = resetToken[:strings.IndexAny(resetToken, "\r\n")]

	ch, err := f.svc.ChangeEmail(ctx, f.owner, jane.ID, " jane.doe@newmail.example ")
	if err != nil {
		t.Fatal(err)
	}
	if !ch.Claimed || ch.Resets != 1 || ch.Invites != 0 || len(ch.Notices) != 2 || ch.Email != "jane.doe@newmail.example" {
		t.Fatalf("ChangeEmail = %+v; want claimed, 1 reset link revoked, 2 notices", ch)
	}
	old, neu := f.outbox(ch.Notices[0]), f.outbox(ch.Notices[1])
	if old.kind != store.MessageEmailChange || old.to != "jane@example.com" || old.customer != jane.ID ||
		old.subject != "Your Harbor Yoga sign-in address was changed" {
		t.Errorf("notice to the old address: %+v", old)
	}
	if neu.kind != store.MessageEmailChange || neu.to != "jane.doe@newmail.example" || neu.customer != jane.ID ||
		neu.subject != "This is now your Harbor Yoga sign-in address" {
		t.Errorf("notice to the new address: %+v", neu)
	}
	for _, part := range []string{old.text, old.html} {
		if !strings.Contains(part, "j***@newmail.example") || strings.Contains(part, "jane.doe@newmail.example") || !strings.Contains(part, "Mon 23 Nov 2026 at 14:05 GMT") {
			t.Errorf("old address's notice should show the new address masked, and when:\n%s", part)
		}
	}
	for _, part := range []string{neu.text, neu.html} {
		if !strings.Contains(part, "https://desk.example/login?org=harbor-yoga") {
			t.Errorf("new address's notice lacks the sign-in page:\n%s", part)
		}
	}
	// No token in either: nothing that claims, resets or signs in.
	for _, n := range []outboxRow{old, neu} {
		for _, part := range []string{n.text, n.html} {
			if strings.Contains(part, "/claim/") || strings.Contains(part, "/reset/") || strings.Contains(part, resetToken) {
				t.Errorf("a notice carries a link with a token:\n%s", part)
			}
		}
	}
	if f.status(jane) != store.StatusClaimed {
		t.Errorf("status after the change: %s, want claimed", f.status(jane))
	}
	if l, err := f.svc.Lookup(ctx, store.PurposeReset, resetToken); err != nil || l.State != LinkEmailChanged {
		t.Errorf("reset link to the old address: %+v, %v; want email_changed", l, err)
	}
	log, _ := f.db.AuditLog(ctx, f.org.ID, jane.ID, 3)
	var got []string
	for _, e := range log {
		got = append(got, e.Action+" by "+e.Actor.Name+": "+e.Detail)
	}
	want := []string{
		"customer.email_notice by Maya Harbor: notice of the changed sign-in address queued to the new address jane.doe@newmail.example (outbox " + itoa(ch.Notices[1]) + ")",
		"customer.email_notice by Maya Harbor: notice of the changed sign-in address queued to the old address jane@example.com (outbox " + itoa(ch.Notices[0]) + ")",
		"customer.email by Maya Harbor: email jane@example.com → jane.doe@newmail.example; 1 outstanding link(s) revoked",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// The sign-in address cannot be removed; nothing is written.
	inv, out, aud := f.counts()
	if _, err := f.svc.ChangeEmail(ctx, f.owner, jane.ID, ""); store.ErrorCode(err) != store.EINVALID || !strings.Contains(err.Error(), "Jane Doe signs in with this address") {
		t.Errorf("removing a claimed customer's email: %v", err)
	}
	if i, o, a := f.counts(); i != inv || o != out || a != aud {
		t.Errorf("a refused removal wrote: invites %d→%d, outbox %d→%d, audit %d→%d", inv, i, out, o, aud, a)
	}
}

// A customer who has not claimed has no sign-in to protect: no notices.
func TestEmailChangeOfUnclaimedCustomerSendsNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	jane := f.customer("Jane", "Doe", "jane@example.com")
	f.invite(jane)
	_, before, _ := f.counts()
	ch, err := f.svc.ChangeEmail(ctx, f.owner, jane.ID, "jane@new.example")
	if err != nil || ch.Claimed || len(ch.Notices) != 0 || ch.Invites != 1 {
		t.Fatalf("ChangeEmail = %+v, %v; want 1 invite revoked, no notices", ch, err)
	}
	if _, after, _ := f.counts(); after != before {
		t.Errorf("outbox went from %d to %d rows", before, after)
	}
}

// Staff can send a claimed customer a reset link: the reset rules, the
// limits and a staff audit row.
func TestSendReset(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	jane := f.claimed("Jane", "Doe", "jane@example.com")

	sent, err := f.svc.Issue(ctx, f.owner, jane.ID, store.PurposeReset)
	if err != nil {
		t.Fatal(err)
	}
	if sent.Invite.Purpose != store.PurposeReset || sent.Invite.CreatedBy != f.owner.ID || !sent.Invite.ExpiresAt.Equal(f.now.Add(ResetTTL)) ||
		!sent.Invite.ExpiresAt.Equal(f.svc.ResetExpiry()) {
		t.Errorf("reset link %+v, want purpose reset by the owner, expiring in an hour", sent.Invite)
	}
	m := f.outbox(sent.OutboxID)
	if m.kind != store.MessageReset || m.to != "jane@example.com" || m.customer != jane.ID ||
		!strings.Contains(m.text, "Harbor Yoga sent you this email") || !strings.Contains(m.text, "https://desk.example/reset/"+sent.token) {
		t.Errorf("reset email: %+v", m)
	}
	log, _ := f.db.AuditLog(ctx, f.org.ID, jane.ID, 1)
	if log[0].Action != "account.reset_send" || log[0].Actor.Kind != "staff" || log[0].Actor.Name != "Maya Harbor" || !strings.Contains(log[0].Detail, "reset link sent to jane@example.com") {
		t.Errorf("audit: %+v", log[0])
	}
	if _, err := f.svc.Redeem(ctx, store.PurposeReset, sent.token, "a whole new passphrase here"); err != nil {
		t.Errorf("redeeming the staff-sent link: %v", err)
	}

	// Refusals, each writing nothing.
	inv, out, aud := f.counts()
	ann := f.customer("Ann", "Lee", "ann@example.com")
	for _, tc := range []struct {
		actor *store.Staff
		id    int64
		want  Reason
	}{
		{f.desk, jane.ID, ReasonForbidden},
		{f.owner, ann.ID, ReasonNotClaimed},
	} {
		if _, err := f.svc.CheckReset(ctx, tc.actor, tc.id); reason(err) != tc.want {
			t.Errorf("CheckReset by %s for %d: %v, want %s", tc.actor.Name, tc.id, err, tc.want)
		}
		if _, err := f.svc.Issue(ctx, tc.actor, tc.id, store.PurposeReset); reason(err) != tc.want {
			t.Errorf("SendReset by %s for %d: %v, want %s", tc.actor.Name, tc.id, err, tc.want)
		}
	}
	if i, o, a := f.counts(); i != inv || o != out || a != aud {
		t.Errorf("refusals wrote: invites %d→%d, outbox %d→%d, audit %d→%d", inv, i, out, o, aud, a)
	}

	// The per-account limit holds for staff too: three in the hour.
	for range ResetsPerAccount - 1 {
		if _, err := f.svc.Issue(ctx, f.owner, jane.ID, store.PurposeReset); err != nil {
			t.Fatal(err)
		}
	}
	inv, out, aud = f.counts()
	if _, err := f.svc.Issue(ctx, f.owner, jane.ID, store.PurposeReset); reason(err) != ReasonRateLimited || !strings.Contains(err.Error(), "Jane Doe has had as many password-reset emails as allowed in the last hour") {
		t.Errorf("reset over the limit: %v", err)
	}
	if i, o, a := f.counts(); i != inv || o != out || a != aud {
		t.Errorf("a throttled reset wrote: invites %d→%d, outbox %d→%d, audit %d→%d", inv, i, out, o, aud, a)
	}
	*f.now = f.now.Add(ResetWindow + 1)
	if _, err := f.svc.Issue(ctx, f.owner, jane.ID, store.PurposeReset); err != nil {
		t.Errorf("an hour later: %v", err)
	}
}

// Authorization is checked where the write happens: a member removed or
// demoted while their session is open is refused at once by every write,
// with a sentence that says what changed, and nothing is written.
func TestStaffWritesRereadTheActor(t *testing.T) {
	for _, change := range []struct {
		name, want string
		apply      func(f *fixture, s *store.Staff)
	}{
		{"removed", "Your access changed: you are no longer on this organization's staff", func(f *fixture, s *store.Staff) {
			if err := f.db.Tx(context.Background(), func(tx *store.Tx) error { return tx.RemoveStaff(context.Background(), f.org.ID, s.ID) }); err != nil {
				f.t.Fatal(err)
			}
		}},
		{"demoted", "Your access changed: your role is now staff, which cannot manage customers", func(f *fixture, s *store.Staff) {
			if _, err := storetest.Raw(f.t, f.db).ExecContext(context.Background(), `UPDATE staff SET role = 'staff' WHERE id = ?`, s.ID); err != nil {
				f.t.Fatal(err)
			}
		}},
	} {
		t.Run(change.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			admin := &store.Staff{OrgID: f.org.ID, Email: "sam@harbor.example", Name: "Sam Rivera", Role: store.RoleAdmin}
			if err := f.db.Tx(ctx, func(tx *store.Tx) error { return tx.CreateStaff(ctx, admin) }); err != nil {
				t.Fatal(err)
			}
			jane := f.customer("Jane", "Doe", "jane@example.com")
			cleo := f.claimed("Cleo", "Claimed", "cleo@example.com")
			invited := f.customer("Ida", "Invited", "ida@example.com")
			f.invite(invited)
			archived := f.customer("Arlo", "Archived", "arlo@example.com")
			if _, err := f.svc.ArchiveCustomer(ctx, f.owner, archived.ID); err != nil {
				t.Fatal(err)
			}
			session := *admin // what the open session holds
			change.apply(f, admin)
			inv, out, aud := f.counts()

			writes := map[string]func() error{
				"Check":       func() error { _, err := f.svc.Check(ctx, &session, jane.ID); return err },
				"Invite":      func() error { _, err := f.svc.Issue(ctx, &session, jane.ID, store.PurposeClaim); return err },
				"Send":        func() error { _, err := f.svc.Send(ctx, &session, []int64{jane.ID}, SendOptions{}); return err },
				"ChangeEmail": func() error { _, err := f.svc.ChangeEmail(ctx, &session, cleo.ID, "cleo@new.example"); return err },
				"CheckReset":  func() error { _, err := f.svc.CheckReset(ctx, &session, cleo.ID); return err },
				"SendReset":   func() error { _, err := f.svc.Issue(ctx, &session, cleo.ID, store.PurposeReset); return err },
				"AddCustomer": func() error {
					_, err := f.svc.AddCustomer(ctx, &session, CustomerValues{FirstName: "Walk", LastName: "In"})
					return err
				},
				"UpdateCustomer": func() error {
					_, err := f.svc.UpdateCustomer(ctx, &session, jane.ID, CustomerChange{FirstName: ptr("Janet")})
					return err
				},
				"ArchiveCustomer": func() error { _, err := f.svc.ArchiveCustomer(ctx, &session, jane.ID); return err },
				"RestoreCustomer": func() error { _, err := f.svc.RestoreCustomer(ctx, &session, archived.ID); return err },
				"WithdrawInvite":  func() error { _, err := f.svc.WithdrawInvite(ctx, &session, invited.ID); return err },
			}
			for name, write := range writes {
				err := write()
				var r *Refusal
				if reason(err) != ReasonForbidden || !strings.HasPrefix(err.Error(), change.want) || !asRefusal(err, &r) || !r.AccessChanged() {
					t.Errorf("%s by a %s member: %v", name, change.name, err)
				}
			}
			if i, o, a := f.counts(); i != inv || o != out || a != aud {
				t.Errorf("refused writes wrote: invites %d→%d, outbox %d→%d, audit %d→%d", inv, i, out, o, aud, a)
			}
			if got, _ := f.db.Customer(ctx, f.org.ID, cleo.ID); got.Email != "cleo@example.com" {
				t.Errorf("email changed to %s", got.Email)
			}
			if got, _ := f.db.Customer(ctx, f.org.ID, jane.ID); got.Name() != "Jane Doe" || got.Archived {
				t.Errorf("customer changed to %q, archived %v", got.Name(), got.Archived)
			}
			if got, _ := f.db.Customer(ctx, f.org.ID, archived.ID); !got.Archived {
				t.Errorf("archived customer restored")
			}
			if f.status(invited) != store.StatusInvited {
				t.Errorf("invite withdrawn")
			}
		})
	}
	// A session that never had the right keeps the usual sentence.
	f := newFixture(t)
	_, err := f.svc.Issue(context.Background(), f.desk, f.customer("Jane", "Doe", "jane@example.com").ID, store.PurposeClaim)
	var r *Refusal
	if !asRefusal(err, &r) || r.AccessChanged() || !strings.HasPrefix(r.Message, "Your role cannot manage customers") {
		t.Errorf("staff role: %v", err)
	}
}

func asRefusal(err error, r **Refusal) bool { return errors.As(err, r) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// The CLI appends Hint to the sentence; a changed-access sentence already
// says whom to ask.
func TestAccessChangedHasNoSecondHint(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := &store.Staff{OrgID: f.org.ID, Email: "sam@harbor.example", Name: "Sam Rivera", Role: store.RoleAdmin}
	if err := f.db.Tx(ctx, func(tx *store.Tx) error { return tx.CreateStaff(ctx, admin) }); err != nil {
		t.Fatal(err)
	}
	if err := f.db.Tx(ctx, func(tx *store.Tx) error { return tx.RemoveStaff(ctx, f.org.ID, admin.ID) }); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.Issue(ctx, admin, f.customer("Jane", "Doe", "jane@example.com").ID, store.PurposeClaim)
	var r *Refusal
	if !errors.As(err, &r) || !r.AccessChanged() {
		t.Fatalf("refusal %v", err)
	}
	if h := (Words{Place: AtCommandLine}).Hint(r); h != "" {
		t.Errorf("hint %q after %q", h, r.Message)
	}
}

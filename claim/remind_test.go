package claim

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"frontdesk/mailer"
	"frontdesk/store"
	"frontdesk/store/format"
	"frontdesk/store/storetest"
)

// remindAfter turns reminders on for the fixture's organization.
func (f *fixture) remindAfter(d time.Duration) {
	f.t.Helper()
	f.org.RemindAfter = d
	storetest.Write(f.t, f.db, func(tx *store.Tx) (int, error) { return 0, tx.UpdateOrg(context.Background(), f.org) })
}

// worker is an outbox worker writing .eml files.
func (f *fixture) worker() *mailer.Worker {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	return &mailer.Worker{DB: f.db, Transport: mailer.NewFileTransport(filepath.Join(filepath.Dir(f.db.Path()), "outbox"), logger), Logger: logger}
}

// deliver runs the outbox worker until nothing is due.
func (f *fixture) deliver() {
	f.t.Helper()
	w := f.worker()
	for {
		res, err := w.RunOnce(context.Background())
		if err != nil {
			f.t.Fatal(err)
		}
		if res.Leased == 0 {
			return
		}
	}
}

// sentInvite invites c and has the mail server accept the email.
func (f *fixture) sentInvite(c *store.Customer) *Sent {
	f.t.Helper()
	s := f.invite(c)
	f.deliver()
	return s
}

func (f *fixture) advance(d time.Duration) { *f.now = f.now.Add(d) }

func (f *fixture) remind() []int64 {
	f.t.Helper()
	ids, err := f.svc.SendReminders(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return ids
}

// reminders counts the reminder emails in the outbox, per address.
func (f *fixture) reminders() map[string]int {
	f.t.Helper()
	rows, err := storetest.Raw(f.t, f.db).Query(`SELECT to_addr FROM outbox WHERE kind = 'reminder'`)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]int{}
	for rows.Next() {
		var to string
		rows.Scan(&to)
		got[to]++
	}
	return got
}

// An invite not claimed after the organization's delay gets one reminder:
// a fresh link that replaces the first and keeps its expiry, in a reminder
// email, audited; running the step again sends nothing more.
func TestReminderGoesOnceAfterTheDelay(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.remindAfter(72 * time.Hour)
	jane := f.customer("Jane", "Doe", "jane@example.com")
	first := f.sentInvite(jane)
	expires := first.Invite.ExpiresAt

	f.advance(72*time.Hour - time.Minute)
	if ids := f.remind(); len(ids) != 0 {
		t.Fatalf("reminded %v before the delay", ids)
	}
	f.advance(time.Minute)
	ids := f.remind()
	if len(ids) != 1 {
		t.Fatalf("reminders after 3 days: %v, want one", ids)
	}
	m := f.message(ids[0])
	if m.Kind != store.MessageReminder || m.To != "jane@example.com" || m.CustomerID != jane.ID || m.Subject != "Reminder: claim your Harbor Yoga account" {
		t.Errorf("reminder message: kind %s to %s about %d, %q", m.Kind, m.To, m.CustomerID, m.Subject)
	}
	wantExpiry := format.Expiry(expires, f.org.Location())
	if !strings.Contains(m.Text, "A reminder: your invite from Harbor Yoga expires on "+wantExpiry+".") ||
		!strings.Contains(m.HTML, "A reminder: your invite from Harbor Yoga expires on <strong>"+wantExpiry+"</strong>.") {
		t.Errorf("the reminder lacks the invite's expiry %s:\n%s\n%s", wantExpiry, m.Text, m.HTML)
	}
	token := f.emailedToken(ids[0])
	if token == first.token {
		t.Fatal("the reminder repeats the first link")
	}
	l, err := f.svc.Lookup(ctx, store.PurposeClaim, token)
	if err != nil || l.State != LinkValid || !l.Invite.ExpiresAt.Equal(expires) {
		t.Fatalf("the reminder's link: %+v, %v; want valid until %s", l, err, expires)
	}
	if s := f.state(first.token); s != LinkSuperseded {
		t.Errorf("the first link is %s after the reminder; want superseded", s)
	}
	// The reminder carries a one-time code of its own, which is its link in
	// another form; the first email's code is as dead as its link.
	if c := f.lookupCode("jane@example.com", f.emailedCode(ids[0]), "192.0.2.7"); c.State != LinkValid || c.Invite.ID != l.Invite.ID {
		t.Errorf("the reminder's code: %s for invite %+v; want the reminder's live link %d", c.State, c.Invite, l.Invite.ID)
	}
	if c := f.lookupCode("jane@example.com", first.code, "192.0.2.7"); c.State != LinkSuperseded {
		t.Errorf("the first email's code after the reminder: %s, want superseded", c.State)
	}
	if c, _ := f.db.Customer(ctx, f.org.ID, jane.ID); c.Status != store.StatusInvited || !c.InviteExpiresAt.Equal(expires) {
		t.Errorf("roster after the reminder: %s expiring %s; want invited until %s", c.Status, c.InviteExpiresAt, expires)
	}
	if !f.audited(jane, "invite.remind", "reminder to jane@example.com, 3d after the invite") {
		t.Error("no audit row for the reminder")
	}
	log, _ := f.db.AuditLog(ctx, f.org.ID, jane.ID, 1)
	if log[0].Actor.Kind != "system" || log[0].Actor.Name != "frontdesk reminders" ||
		!strings.Contains(log[0].Detail, "expiring "+expires.UTC().Format(time.RFC3339)+" as the invite did; 1 earlier link(s) revoked") {
		t.Errorf("audit: %+v", log[0])
	}

	// Once, whatever runs after: at once, and after the reminder was
	// delivered.
	if again := f.remind(); len(again) != 0 {
		t.Errorf("a second run reminded %v", again)
	}
	f.deliver()
	// Past the delay counted from the reminder itself, with the link live
	// for a day more: a reminder is not reminded of.
	f.advance(73 * time.Hour)
	if again := f.remind(); len(again) != 0 {
		t.Errorf("a run three days later reminded %v", again)
	}
	if n := f.reminders()["jane@example.com"]; n != 1 {
		t.Errorf("%d reminders to jane, want 1", n)
	}
	// The reminder's link claims the account.
	f.redeem(token, goodPassword)
	if st := f.status(jane); st != store.StatusClaimed {
		t.Errorf("after claiming with the reminder's link: %s", st)
	}
}

// No reminder for a customer who claimed, was archived, whose email
// changed, whose link expired (or is about to) or whose invite never
// reached them; none while the setting is off or notifications are; and a
// resend starts the delay again.
func TestReminderSkips(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.remindAfter(72 * time.Hour)

	claimed := f.customer("Cleo", "Claimed", "cleo@example.com")
	f.redeem(f.sentInvite(claimed).token, goodPassword)

	archived := f.customer("Arlo", "Archived", "arlo@example.com")
	f.sentInvite(archived)
	storetest.Write(t, f.db, func(tx *store.Tx) (int, error) { return 0, tx.ArchiveCustomer(ctx, f.org.ID, archived.ID) })

	moved := f.customer("Mo", "Moved", "mo@example.com")
	f.sentInvite(moved)
	if _, err := f.svc.ChangeEmail(ctx, f.owner, moved.ID, "mo@new.example"); err != nil {
		t.Fatal(err)
	}

	// Links that die within the delay, or within the hour after it.
	short := &Service{DB: f.db, BaseURL: f.svc.BaseURL, InviteTTL: 48 * time.Hour}
	dying := &Service{DB: f.db, BaseURL: f.svc.BaseURL, InviteTTL: 72*time.Hour + 30*time.Minute}
	expired := f.customer("Ed", "Expired", "ed@example.com")
	if _, err := short.Issue(ctx, f.owner, expired.ID, store.PurposeClaim); err != nil {
		t.Fatal(err)
	}
	late := f.customer("Lou", "Late", "lou@example.com")
	if _, err := dying.Issue(ctx, f.owner, late.ID, store.PurposeClaim); err != nil {
		t.Fatal(err)
	}
	// Resent after a day (below): the delay counts from the resend.
	resent := f.customer("Ros", "Resent", "ros@example.com")
	f.invite(resent)
	f.deliver()

	// Never delivered: still queued (no worker runs from here on but for
	// the resend's email), or refused by the server.
	queued := f.customer("Quinn", "Queued", "quinn@example.com")
	f.invite(queued)
	refused := f.customer("Rey", "Refused", "rey@exmaple.com")
	f.fail(f.invite(refused).OutboxID, "550 5.1.1 User unknown")

	// Another organization, reminders off.
	other := &store.Org{Name: "Northside Climbing", Notifications: true}
	storetest.Write(t, f.db, func(tx *store.Tx) (int, error) { return 0, tx.CreateOrg(ctx, other) })
	boss := &store.Staff{OrgID: other.ID, Email: "boss@northside.example", Name: "Nia North", Role: store.RoleOwner}
	storetest.Write(t, f.db, func(tx *store.Tx) (int, error) { return 0, tx.CreateStaff(ctx, boss) })
	climber := &store.Customer{OrgID: other.ID, FirstName: "Cy", LastName: "Climber", Email: "cy@example.com"}
	storetest.Write(t, f.db, func(tx *store.Tx) (int, error) { return 0, tx.CreateCustomer(ctx, climber) })
	climbing, err := f.svc.Issue(ctx, boss, climber.ID, store.PurposeClaim)
	if err != nil {
		t.Fatal(err)
	}
	if outs, err := f.worker().Deliver(ctx, climbing.OutboxID); err != nil || outs[0].Status != store.OutboxSent {
		t.Fatalf("delivering the other organization's invite: %+v, %v", outs, err)
	}

	f.advance(24 * time.Hour)
	if outs, err := f.worker().Deliver(ctx, f.invite(resent).OutboxID); err != nil || outs[0].Status != store.OutboxSent {
		t.Fatalf("delivering the resend: %+v, %v", outs, err)
	}

	f.advance(48 * time.Hour) // three days after the first invites
	if ids := f.remind(); len(ids) != 0 {
		t.Errorf("reminded %v; want nobody:\n%v", ids, f.reminders())
	}

	// Notifications off: not even the resent one, once due.
	f.advance(24 * time.Hour)
	f.org.Notifications = false
	storetest.Write(t, f.db, func(tx *store.Tx) (int, error) { return 0, tx.UpdateOrg(ctx, f.org) })
	if ids := f.remind(); len(ids) != 0 {
		t.Errorf("reminded %v with notifications off", ids)
	}
	f.org.Notifications = true
	storetest.Write(t, f.db, func(tx *store.Tx) (int, error) { return 0, tx.UpdateOrg(ctx, f.org) })
	ids := f.remind()
	if got := f.reminders(); len(ids) != 1 || len(got) != 1 || got["ros@example.com"] != 1 {
		t.Errorf("reminders %v (%v); want one, to the resent invite's customer", got, ids)
	}
}

// Two processes on one database running the step at the same time remind
// of each invite once.
func TestRemindersFromTwoProcesses(t *testing.T) {
	old := remindBatch
	remindBatch = 7 // several batches each, so the two take turns
	t.Cleanup(func() { remindBatch = old })
	f := newFixture(t)
	ctx := context.Background()
	f.remindAfter(72 * time.Hour)
	const n = 40
	for i := range n {
		f.invite(f.customer("Customer", string(rune('A'+i)), "c"+itoa(int64(i))+"@example.com"))
	}
	f.deliver()
	f.advance(73 * time.Hour)

	db2, err := store.Open(f.db.Path())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db2.Close() })
	db2.Now = f.db.Now
	services := []*Service{f.svc, {DB: db2, BaseURL: f.svc.BaseURL}}
	var wg sync.WaitGroup
	start := make(chan struct{})
	got := make([][]int64, len(services))
	errs := make([]error, len(services))
	for i, s := range services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			got[i], errs[i] = s.SendReminders(ctx)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("process %d: %v", i, err)
		}
	}
	if len(got[0])+len(got[1]) != n {
		t.Errorf("the two processes queued %d and %d reminders; want %d in all", len(got[0]), len(got[1]), n)
	}
	per := f.reminders()
	for i := range n {
		if addr := "c" + itoa(int64(i)) + "@example.com"; per[addr] != 1 {
			t.Errorf("%s got %d reminders", addr, per[addr])
		}
	}
	if a := storetest.Int(t, f.db, `SELECT count(*) FROM audit WHERE action = 'invite.remind'`); a != n {
		t.Errorf("%d audit rows, want %d", a, n)
	}
	if again, err := services[1].SendReminders(ctx); err != nil || len(again) != 0 {
		t.Errorf("a third run: %v, %v", again, err)
	}
}

// The database itself refuses a second reminder of one invite.
func TestSecondReminderOfAnInviteRefused(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	jane := f.customer("Jane", "Doe", "jane@example.com")
	first := f.invite(jane)
	a, b := f.invite(jane), f.invite(jane)
	storetest.Write(t, f.db, func(tx *store.Tx) (int, error) { return 0, tx.SetReminderOf(ctx, a.Invite.ID, first.Invite.ID) })
	err := f.db.Tx(ctx, func(tx *store.Tx) error { return tx.SetReminderOf(ctx, b.Invite.ID, first.Invite.ID) })
	if store.ErrorCode(err) != store.ECONFLICT {
		t.Errorf("a second reminder of invite %d: %v; want a conflict", first.Invite.ID, err)
	}
}

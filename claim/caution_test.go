package claim

import (
	"context"
	"strings"
	"testing"
	"time"

	"frontdesk/store"
)

func (f *fixture) cautions(c *store.Customer, purpose store.Purpose) []Caution {
	f.t.Helper()
	got, err := f.svc.Cautions(context.Background(), f.owner, c.ID, purpose)
	if err != nil {
		f.t.Fatal(err)
	}
	return got
}

func kinds(cs []Caution) []CautionKind {
	var out []CautionKind
	for _, c := range cs {
		out = append(out, c.Kind)
	}
	return out
}

// Sending again to an address whose last link failed or bounced asks
// whether the address is right, showing the failure; fixing the address
// ends the question.
func TestCautionUndelivered(t *testing.T) {
	f := newFixture(t)
	words := Words{Place: AtOutbox, Dash: " — ", Loc: f.org.Location()}
	c := f.customer("Jane", "Doe", "jane@exmaple.com")
	if got := f.cautions(c, store.PurposeClaim); len(got) != 0 {
		t.Fatalf("never invited: %v", kinds(got))
	}
	sent := f.invite(c)
	if got := f.cautions(c, store.PurposeClaim); len(got) != 0 {
		t.Fatalf("invite on its way: %v", kinds(got))
	}
	f.fail(sent.OutboxID, "sending SMTP RCPT TO command: 550 5.1.1 <jane@exmaple.com>: Recipient address rejected: User unknown")
	got := f.cautions(c, store.PurposeClaim)
	if len(got) != 1 || got[0].Kind != CautionUndelivered || got[0].Email != "jane@exmaple.com" {
		t.Fatalf("after a 550: %+v", got)
	}
	want := "The invite sent to jane@exmaple.com on Mon 23 Nov 2026, 14:05 failed: the address does not exist — check the address with the customer. Is jane@exmaple.com right? If not, press esc, then e to fix it first."
	if w := words.Caution(&got[0]); w != want {
		t.Errorf("words\n got %s\nwant %s", w, want)
	}
	// A reset link's history is its own.
	if got := f.cautions(c, store.PurposeReset); len(got) != 0 {
		t.Errorf("reset link after a failed invite: %v", kinds(got))
	}

	// A bounce reported later asks the same.
	*f.now = f.now.Add(2 * time.Hour)
	sent = f.invite(c)
	f.bounce(sent.OutboxID, "smtp; 550 5.1.1 user unknown")
	got = f.cautions(c, store.PurposeClaim)
	if len(got) != 1 || got[0].Delivery != store.DeliveryBounced {
		t.Fatalf("after a bounce: %+v", got)
	}
	if !strings.Contains(words.Caution(&got[0]), "bounced: the address does not exist") {
		t.Errorf("bounce words: %q", words.Caution(&got[0]))
	}

	// Staff fixed the address: nothing to ask.
	if _, err := f.svc.ChangeEmail(context.Background(), f.owner, c.ID, "jane@example.com"); err != nil {
		t.Fatal(err)
	}
	if got := f.cautions(c, store.PurposeClaim); len(got) != 0 {
		t.Errorf("after fixing the address: %v", kinds(got))
	}
	// Another organization's staff learn nothing about the customer.
	other := &store.Org{Name: "Summit Gym", Notifications: true}
	f.db.Tx(context.Background(), func(tx *store.Tx) error { return tx.CreateOrg(context.Background(), other) })
	stranger := &store.Staff{ID: f.owner.ID + 100, OrgID: other.ID, Role: store.RoleOwner}
	if _, err := f.svc.Cautions(context.Background(), stranger, c.ID, store.PurposeClaim); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("another organization: %v", err)
	}
}

// The third link within the hour asks about the spam folder; an hour later
// it does not.
func TestCautionThirdSendWithinAnHour(t *testing.T) {
	f := newFixture(t)
	words := Words{Place: AtProfile, Dash: " — ", Loc: f.org.Location()}
	c := f.customer("Ann", "Lee", "ann@example.com")
	f.invite(c)
	*f.now = f.now.Add(20 * time.Minute)
	if got := f.cautions(c, store.PurposeClaim); len(got) != 0 {
		t.Fatalf("second send: %v", kinds(got))
	}
	f.invite(c)
	*f.now = f.now.Add(20 * time.Minute)
	got := f.cautions(c, store.PurposeClaim)
	if len(got) != 1 || got[0].Kind != CautionSpam || got[0].Nth != 3 {
		t.Fatalf("third send within the hour: %+v", got)
	}
	if w := words.Caution(&got[0]); !strings.HasPrefix(w, "This is the 3rd invite to Ann Lee within an hour. Have they checked their spam or junk folder?") {
		t.Errorf("words: %q", w)
	}
	*f.now = f.now.Add(41 * time.Minute) // the first is now over an hour old
	if got := f.cautions(c, store.PurposeClaim); len(got) != 0 {
		t.Errorf("an hour after the first: %v", kinds(got))
	}

	// Links that never arrived, or went to an address fixed since, are in
	// no spam folder: they do not count.
	b := f.customer("Bo", "Chen", "bo@exmaple.com")
	f.fail(f.invite(b).OutboxID, "550 5.1.1 User unknown")
	f.fail(f.invite(b).OutboxID, "550 5.1.1 User unknown")
	if _, err := f.svc.ChangeEmail(context.Background(), f.owner, b.ID, "bo@example.com"); err != nil {
		t.Fatal(err)
	}
	if got := f.cautions(b, store.PurposeClaim); len(got) != 0 {
		t.Errorf("third send after two failures and a fixed address: %v", kinds(got))
	}
}

// Opening a link records the first time only, audited as the web's (a mail
// scanner opens links too), uses nothing, and counts in the funnel.
func TestOpenedRecordsTheFirstOpening(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.customer("Jane", "Doe", "jane@example.com")
	sent := f.invite(c)
	open := func() *Link {
		t.Helper()
		l, err := f.svc.Lookup(ctx, store.PurposeClaim, sent.token)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Opened(ctx, l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	first := *f.now
	open()
	*f.now = f.now.Add(time.Hour)
	l := open()
	if !l.Invite.OpenedAt.Equal(first) || l.State != LinkValid {
		t.Errorf("after two openings: opened %v (want %v), state %s", l.Invite.OpenedAt, first, l.State)
	}
	entries, err := f.db.AuditLog(ctx, f.org.ID, c.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	opened := 0
	for _, e := range entries {
		if e.Action == "invite.opened" {
			opened++
			if e.Actor.Kind != "system" || !strings.Contains(e.Detail, "mail scanner") {
				t.Errorf("audit row %+v: want the web as the actor, saying a scanner may have opened it", e)
			}
		}
	}
	if opened != 1 {
		t.Errorf("%d audit rows for the opening, want 1", opened)
	}
	if fu, _ := f.db.ClaimFunnel(ctx, f.org.ID); fu != (store.Funnel{Invited: 1, Opened: 1}) {
		t.Errorf("funnel %+v", fu)
	}
	// The link still works.
	if _, err := f.svc.Redeem(ctx, store.PurposeClaim, sent.token, goodPassword); err != nil {
		t.Fatalf("redeem after opening: %v", err)
	}
	// An unknown token records nothing.
	if err := f.svc.Opened(ctx, &Link{State: LinkUnknown}); err != nil {
		t.Error(err)
	}
}

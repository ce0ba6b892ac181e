package claim

import (
	"context"
	"strings"
	"testing"
	"time"

	"frontdesk/store"
	"frontdesk/store/storetest"
)

func (f *fixture) renew(token string) *RenewResult {
	f.t.Helper()
	res, err := f.svc.RenewLink(context.Background(), RenewRequest{Token: token, Addr: "203.0.113.9"})
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

// TestRenewExpiredLink: the customer asks from the page of an expired
// link; a fresh invite goes to the address on file, through the one way
// invites are issued (a one-time code, the old links revoked), with the
// customer as the audit row's actor and no staff creator.
func TestRenewExpiredLink(t *testing.T) {
	f := newFixture(t)
	jane := f.customer("Jane", "Doe", "jane@example.com")
	old := f.invite(jane)
	f.advance(8 * 24 * time.Hour)
	oldToken := f.emailedToken(old.OutboxID)
	if s := f.state(oldToken); s != LinkExpired {
		t.Fatalf("old link %s", s)
	}

	res := f.renew(oldToken)
	if res.State != LinkExpired || res.Outcome == nil || res.Outcome.Result != Queued {
		t.Fatalf("renewal %+v", res)
	}
	sent := res.Outcome.Sent
	if sent.Invite.Email != "jane@example.com" || sent.Invite.CreatedBy != 0 {
		t.Errorf("new invite to %s by %d", sent.Invite.Email, sent.Invite.CreatedBy)
	}
	msg := f.message(sent.OutboxID)
	if msg.To != "jane@example.com" {
		t.Errorf("new link emailed to %s", msg.To)
	}
	newToken := f.emailedToken(sent.OutboxID)
	if f.state(newToken) != LinkValid {
		t.Error("the new link does not work")
	}
	if !codeIn.MatchString(msg.Text) {
		t.Error("the renewed invite has no one-time code")
	}
	if !f.audited(jane, "invite.renew", "from the page of an expired link (from 203.0.113.9); invite to jane@example.com") {
		t.Error("no audit row for the renewal")
	}
	log, _ := f.db.AuditLog(context.Background(), f.org.ID, jane.ID, 1)
	if log[0].Actor.Kind != "customer" || log[0].Actor.ID != jane.ID {
		t.Errorf("renewal audited as %+v, want the customer", log[0].Actor)
	}
	// The customer's own request: the staff's history says so.
	invs, _ := f.db.Invites(context.Background(), f.org.ID, jane.ID)
	if invs[0].CreatedBy != 0 || invs[0].ReminderOf != 0 {
		t.Errorf("newest invite %+v", invs[0])
	}
}

// TestRenewGoesToTheAddressOnFile: a link sent to an address the customer
// no longer has brings a new link to the current one.
func TestRenewGoesToTheAddressOnFile(t *testing.T) {
	f := newFixture(t)
	mo := f.customer("Mo", "Moved", "mo@old.example")
	old := f.invite(mo)
	if _, err := f.svc.ChangeEmail(context.Background(), f.owner, mo.ID, "mo@new.example"); err != nil {
		t.Fatal(err)
	}
	res := f.renew(f.emailedToken(old.OutboxID))
	if res.State != LinkEmailChanged || res.Outcome == nil || res.Outcome.Result != Queued {
		t.Fatalf("renewal %+v", res)
	}
	if to := f.message(res.Outcome.Sent.OutboxID).To; to != "mo@new.example" {
		t.Errorf("new link sent to %s, want the address on file", to)
	}
}

// TestRenewRefusals: nothing goes out for a link staff withdrew (here by
// archiving), a claimed account, an organization with email off, or past
// the limits; each refusal about a known link is audited; live, used and
// unknown links ask nothing of Send.
func TestRenewRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	outbox := func() int {
		t.Helper()
		return storetest.Int(t, f.db, `SELECT count(*) FROM outbox`)
	}

	// Archived: the invite was withdrawn with it.
	ann := f.customer("Ann", "Archived", "ann@example.com")
	annTok := f.emailedToken(f.invite(ann).OutboxID)
	storetest.Write(t, f.db, func(tx *store.Tx) (int, error) { return 0, tx.ArchiveCustomer(ctx, f.org.ID, ann.ID) })
	n := outbox()
	res := f.renew(annTok)
	if res.Outcome == nil || res.Outcome.Result != Refused || res.Outcome.Refusal.Reason != ReasonWithdrawn {
		t.Fatalf("withdrawn: %+v", res.Outcome)
	}
	if outbox() != n {
		t.Error("a withdrawn link was renewed")
	}
	if !f.audited(ann, "invite.renew_refused", "from the page of a withdrawn link (from 203.0.113.9); none sent") {
		t.Error("refused renewal not audited")
	}

	// Limits: three per customer an hour.
	bo := f.customer("Bo", "Busy", "bo@example.com")
	tok := f.emailedToken(f.invite(bo).OutboxID)
	f.advance(8 * 24 * time.Hour)
	for i := 0; i < RenewalsPerCustomer; i++ {
		res := f.renew(tok)
		if res.Outcome == nil || res.Outcome.Result != Queued {
			t.Fatalf("renewal %d: %+v", i+1, res.Outcome)
		}
		// The newest link is the one the customer would renew next; the
		// old one is superseded and renewable too.
	}
	n = outbox()
	res = f.renew(tok)
	if res.State != LinkExpired || res.Outcome.Result != Refused || res.Outcome.Refusal.Reason != ReasonRateLimited {
		t.Fatalf("fourth renewal: %+v %+v", res, res.Outcome)
	}
	if outbox() != n {
		t.Error("a renewal past the limit went out")
	}
	if !f.audited(bo, "invite.renew_refused", "as many new links as allowed") {
		t.Error("throttled renewal not audited")
	}
	f.advance(RenewWindow + time.Second)
	if res := f.renew(tok); res.Outcome.Result != Queued {
		t.Errorf("after the window: %+v", res.Outcome)
	}

	// Per mailbox, across organizations: one address with accounts at two
	// studios gets at most RenewalsPerMailbox an hour.
	clinic := &store.Org{Name: "Riverside Clinic", Notifications: true}
	storetest.Write(t, f.db, func(tx *store.Tx) (int, error) { return 0, tx.CreateOrg(ctx, clinic) })
	clinicOwner := &store.Staff{OrgID: clinic.ID, Email: "o@clinic.example", Name: "Olu", Role: store.RoleOwner}
	storetest.Write(t, f.db, func(tx *store.Tx) (int, error) { return 0, tx.CreateStaff(ctx, clinicOwner) })
	sam := f.customer("Sam", "Shared", "sam@example.com")
	samThere := &store.Customer{OrgID: clinic.ID, FirstName: "Sam", Email: "sam@example.com"}
	storetest.Write(t, f.db, func(tx *store.Tx) (int, error) { return 0, tx.CreateCustomer(ctx, samThere) })
	here := f.emailedToken(f.invite(sam).OutboxID)
	thereSent, err := f.svc.Issue(ctx, clinicOwner, samThere.ID, store.PurposeClaim)
	if err != nil {
		t.Fatal(err)
	}
	there := f.emailedToken(thereSent.OutboxID)
	f.advance(8 * 24 * time.Hour)
	sent := 0
	for i := 0; i < 2*RenewalsPerCustomer; i++ {
		tok := here
		if i%2 == 1 {
			tok = there
		}
		if res := f.renew(tok); res.Outcome != nil && res.Outcome.Result == Queued {
			sent++
		}
	}
	if sent != RenewalsPerMailbox {
		t.Errorf("%d renewals reached one mailbox within the hour, want %d", sent, RenewalsPerMailbox)
	}

	// Claimed since: the old link leads to sign-in, and nothing is sent.
	cy := f.customer("Cy", "Claimed", "cy@example.com")
	first := f.emailedToken(f.invite(cy).OutboxID)
	second := f.emailedToken(f.invite(cy).OutboxID)
	f.redeem(second, goodPassword)
	n = outbox()
	if res := f.renew(first); res.State != LinkClaimed || res.Outcome != nil {
		t.Errorf("claimed: %+v", res)
	}
	if res := f.renew(second); res.State != LinkUsed || res.Outcome != nil {
		t.Errorf("used: %+v", res)
	}
	if res := f.renew(strings.Repeat("A", 43)); res.State != LinkUnknown || res.Outcome != nil {
		t.Errorf("unknown: %+v", res)
	}
	// A live link needs no renewal.
	di := f.customer("Di", "Live", "di@example.com")
	if res := f.renew(f.emailedToken(f.invite(di).OutboxID)); res.State != LinkValid || res.Outcome != nil {
		t.Errorf("live: %+v", res)
	}
	if outbox() != n+1 { // di's invite only
		t.Error("a renewal went out for a used, claimed, unknown or live link")
	}

	// Email turned off for the organization.
	ed := f.customer("Ed", "Off", "ed@example.com")
	edTok := f.emailedToken(f.invite(ed).OutboxID)
	f.advance(8 * 24 * time.Hour)
	f.org.Notifications = false
	storetest.Write(t, f.db, func(tx *store.Tx) (int, error) { return 0, tx.UpdateOrg(ctx, f.org) })
	if res := f.renew(edTok); res.Outcome == nil || res.Outcome.Result != Refused || res.Outcome.Refusal.Reason != ReasonNotificationsOff {
		t.Errorf("notifications off: %+v", res.Outcome)
	}
}

// TestClaimSignsIn: claiming through the link or the code signs the
// customer in with a new session, audited, in the claim's transaction.
func TestClaimSignsIn(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	jane := f.customer("Jane", "Doe", "jane@example.com")
	tok := f.emailedToken(f.invite(jane).OutboxID)
	in, err := f.svc.Claim(ctx, ClaimRequest{Token: tok, Password: goodPassword, Addr: "203.0.113.9"}, SessionLifetime{})
	if err != nil {
		t.Fatal(err)
	}
	if in.Customer.ID != jane.ID || in.Customer.ClaimedAt.IsZero() || in.Org.ID != f.org.ID {
		t.Fatalf("claim: %+v", in)
	}
	sess, err := f.svc.Session(ctx, in.Token, SessionLifetime{})
	if err != nil || sess.CustomerID != jane.ID || sess.OrgID != f.org.ID {
		t.Fatalf("session after claiming: %+v, %v", sess, err)
	}
	if !f.audited(jane, "account.signin", "signed in on claiming the account (from 203.0.113.9)") || !f.audited(jane, "account.claim", "") {
		t.Error("claim and sign-in not both audited")
	}
	// The token is single-use: a second claim signs nobody in.
	if _, err := f.svc.Claim(ctx, ClaimRequest{Token: tok, Password: goodPassword}, SessionLifetime{}); !isLink(err, LinkUsed) {
		t.Errorf("second claim: %v", err)
	}
	// A refused password changes nothing and signs nobody in.
	bo := f.customer("Bo", "Chen", "bo@example.com")
	sent := f.invite(bo)
	if _, err := f.svc.Claim(ctx, ClaimRequest{Token: f.emailedToken(sent.OutboxID), Password: "short"}, SessionLifetime{}); err == nil {
		t.Fatal("a short password was accepted")
	}
	if n := storetest.Int(t, f.db, `SELECT count(*) FROM sessions WHERE customer_id = ?`, bo.ID); n != 0 {
		t.Errorf("%d sessions after a refused claim", n)
	}

	// Through the one-time code.
	code := f.emailedCode(sent.OutboxID)
	in, err = f.svc.Claim(ctx, ClaimRequest{Code: &CodeEntry{Email: "bo@example.com", Code: code, Addr: "203.0.113.9"}, Password: goodPassword}, SessionLifetime{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Session(ctx, in.Token, SessionLifetime{}); err != nil {
		t.Errorf("session after claiming by code: %v", err)
	}
}

// TestProfileStaffOnlyFields: a staff-only field sent back unchanged is
// left alone; sent with a new value, the whole update is refused and
// nothing is saved.
func TestProfileStaffOnlyFields(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := &store.Customer{OrgID: f.org.ID, FirstName: "Jane", Email: "jane@example.com",
		Fields: []store.Field{{Name: "Membership level", Value: "Gold"}, {Name: "Emergency contact", Value: "Sam"}}}
	storetest.Write(t, f.db, func(tx *store.Tx) (int, error) { return 0, tx.CreateCustomer(ctx, c) })
	storetest.Write(t, f.db, func(tx *store.Tx) (*store.CustomField, error) {
		return tx.SetCustomFieldEditable(ctx, f.org.ID, "Emergency contact", true)
	})
	in, err := f.svc.Claim(ctx, ClaimRequest{Token: f.emailedToken(f.invite(c).OutboxID), Password: goodPassword}, SessionLifetime{})
	if err != nil {
		t.Fatal(err)
	}
	sess, _ := f.svc.Session(ctx, in.Token, SessionLifetime{})

	u := store.ProfileUpdate{FirstName: "Janet", Fields: []store.Field{{Name: "Membership level", Value: "Platinum"}, {Name: "Emergency contact", Value: "Alex"}}}
	err = f.svc.UpdateProfile(ctx, sess, u, []string{"field.0", "field.1"})
	fe, ok := err.(FieldErrors)
	if !ok || len(fe) != 1 || fe[0].Field != "field.0" || !fe[0].Locked || !strings.Contains(fe[0].Message, "Membership level is kept by Harbor Yoga") {
		t.Fatalf("editing a staff-only field: %v", err)
	}
	got, _ := f.db.Customer(ctx, f.org.ID, c.ID)
	if got.FirstName != "Jane" || got.Fields[0].Value != "Gold" || got.Fields[1].Value != "Sam" {
		t.Fatalf("a refused update saved something: %+v", got)
	}

	u.Fields[0].Value = "Gold" // as the page sent it
	if err := f.svc.UpdateProfile(ctx, sess, u, []string{"field.0", "field.1"}); err != nil {
		t.Fatal(err)
	}
	got, _ = f.db.Customer(ctx, f.org.ID, c.ID)
	if got.FirstName != "Janet" || got.Fields[0].Value != "Gold" || got.Fields[1].Value != "Alex" {
		t.Fatalf("after an allowed update: %+v", got)
	}
}

// TestEmailsCarryTheBrand: the organization's accent and logo (at its https
// address on the site) are in its emails.
func TestEmailsCarryTheBrand(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.org.Accent = "#0b6b3a"
	f.org.LogoHash, f.org.LogoType, f.org.LogoWidth, f.org.LogoHeight = strings.Repeat("ab", 32), "image/png", 120, 40
	storetest.Write(t, f.db, func(tx *store.Tx) (int, error) { return 0, tx.UpdateOrg(ctx, f.org) })
	storetest.Exec(t, f.db, `UPDATE orgs SET logo_hash = ?, logo_type = 'image/png', logo_width = 120, logo_height = 40 WHERE id = ?`, f.org.LogoHash, f.org.ID)
	jane := f.customer("Jane", "Doe", "jane@example.com")
	m := f.message(f.invite(jane).OutboxID)
	for _, want := range []string{"#0b6b3a", `<img src="https://desk.example/brand/harbor-yoga/logo-abababababababab.png" width="120" height="40"`} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("invite HTML lacks %q", want)
		}
	}
	if !strings.Contains(m.Text, "https://desk.example/login?org=harbor-yoga") {
		t.Error("the invite does not give the sign-in address")
	}
	// Over plain http the logo is left out of emails.
	f.svc.BaseURL = "http://localhost:8080"
	if u := f.svc.LogoURL(f.org); u != "" {
		t.Errorf("logo URL over http: %q", u)
	}
}

package claim

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"frontdesk/store"
	"frontdesk/store/format"
	"frontdesk/store/storetest"
)

type fixture struct {
	t     testing.TB
	db    *store.DB
	svc   *Service
	org   *store.Org
	owner *store.Staff
	desk  *store.Staff
	now   *time.Time
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 11, 23, 14, 5, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	ctx := context.Background()
	f := &fixture{t: t, db: db, now: &now, svc: &Service{DB: db, BaseURL: "https://desk.example/"}}
	f.org = &store.Org{Name: "Harbor Yoga", TimeZone: "Europe/London", Notifications: true}
	if err := db.Tx(ctx, func(tx *store.Tx) error { return tx.CreateOrg(ctx, f.org) }); err != nil {
		t.Fatal(err)
	}
	f.owner = &store.Staff{OrgID: f.org.ID, Email: "maya@harbor.example", Name: "Maya Harbor", Role: store.RoleOwner}
	f.desk = &store.Staff{OrgID: f.org.ID, Email: "jo@harbor.example", Name: "Jo Front", Role: store.RoleStaff}
	for _, s := range []*store.Staff{f.owner, f.desk} {
		if err := db.Tx(ctx, func(tx *store.Tx) error { return tx.CreateStaff(ctx, s) }); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fixture) customer(first, last, email string) *store.Customer {
	f.t.Helper()
	c := &store.Customer{OrgID: f.org.ID, FirstName: first, LastName: last, Email: email}
	if err := f.db.Tx(context.Background(), func(tx *store.Tx) error { return tx.CreateCustomer(context.Background(), c) }); err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *fixture) invite(c *store.Customer) *Sent {
	f.t.Helper()
	s, err := f.svc.Issue(context.Background(), f.owner, c.ID, store.PurposeClaim)
	if err != nil {
		f.t.Fatalf("invite %s: %v", c.Name(), err)
	}
	return s
}

// message is the outbox message id as the worker gets it, bodies opened
// (leased, then given back).
func (f *fixture) message(id int64) *store.OutboxMessage {
	f.t.Helper()
	ctx := context.Background()
	var got []*store.OutboxMessage
	err := f.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if got, err = tx.LeaseIDs(ctx, "test", time.Minute, []int64{id}); err != nil {
			return err
		}
		_, err = tx.ReleaseLeases(ctx, "test", []int64{id})
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	if len(got) != 1 || got[0].BodyErr != nil {
		f.t.Fatalf("message %d: %+v", id, got)
	}
	return got[0]
}

func (f *fixture) state(token string) LinkState {
	f.t.Helper()
	l, err := f.svc.Lookup(context.Background(), store.PurposeClaim, token)
	if err != nil {
		f.t.Fatal(err)
	}
	return l.State
}

func (f *fixture) status(c *store.Customer) store.Status {
	f.t.Helper()
	got, err := f.db.Customer(context.Background(), f.org.ID, c.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return got.Status
}

const goodPassword = "plum kettle orbit sandal"

func reason(err error) Reason {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Reason
	}
	return ""
}

func TestInviteRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	jane := f.customer("Jane", "Doe", "jane@example.com")

	// Permission comes first, whatever else is wrong.
	if _, err := f.svc.Issue(ctx, f.desk, jane.ID, store.PurposeClaim); reason(err) != ReasonForbidden || !strings.Contains(err.Error(), "ask an owner or admin") {
		t.Errorf("staff role: %v", err)
	}

	claimed := f.customer("Cleo", "Claimed", "cleo@example.com")
	f.redeem(f.invite(claimed).token, goodPassword)
	_, err := f.svc.Issue(ctx, f.owner, claimed.ID, store.PurposeClaim)
	if reason(err) != ReasonClaimed || !strings.Contains(err.Error(), "already claimed their account on Mon 23 Nov 2026") {
		t.Errorf("claimed: %v", err)
	}
	noEmail := f.customer("Nora", "None", "")
	if _, err := f.svc.Issue(ctx, f.owner, noEmail.ID, store.PurposeClaim); reason(err) != ReasonNoEmail || err.Error() != "Nora None has no email address." {
		t.Errorf("no email: %v", err)
	}
	// Invalid addresses arrive through old imports; the store refuses new ones.
	bad := f.customer("Bea", "Bad", "bea@example.com")
	if _, err := storetest.Raw(t, f.db).ExecContext(ctx, `UPDATE customers SET email = 'bea@gmail' WHERE id = ?`, bad.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Issue(ctx, f.owner, bad.ID, store.PurposeClaim); reason(err) != ReasonInvalidEmail || !strings.Contains(err.Error(), "has no dot") {
		t.Errorf("invalid email: %v", err)
	}
	archived := f.customer("Arlo", "Archived", "arlo@example.com")
	if err := f.db.Tx(ctx, func(tx *store.Tx) error { return tx.ArchiveCustomer(ctx, f.org.ID, archived.ID) }); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Issue(ctx, f.owner, archived.ID, store.PurposeClaim); reason(err) != ReasonArchived {
		t.Errorf("archived: %v", err)
	}
	f.org.Notifications = false
	if err := f.db.Tx(ctx, func(tx *store.Tx) error { return tx.UpdateOrg(ctx, f.org) }); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Issue(ctx, f.owner, jane.ID, store.PurposeClaim); reason(err) != ReasonNotificationsOff {
		t.Errorf("notifications off: %v", err)
	}
	// No refusal wrote anything.
	var invites, outbox int
	storetest.Raw(t, f.db).QueryRowContext(ctx, `SELECT (SELECT count(*) FROM invites), (SELECT count(*) FROM outbox)`).Scan(&invites, &outbox)
	if invites != 1 || outbox != 1 {
		t.Errorf("after refusals: %d invites, %d outbox rows; want only the claimed customer's 1 and 1", invites, outbox)
	}
	// Check agrees with Invite without writing.
	if _, err := f.svc.Check(ctx, f.owner, noEmail.ID); reason(err) != ReasonNoEmail {
		t.Errorf("Check: %v", err)
	}
}

func TestInviteWritesInviteOutboxAndAudit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	jane := f.customer("Jane", "Doe", "jane@example.com")
	sent := f.invite(jane)
	if want := f.now.Add(7 * 24 * time.Hour); !sent.Invite.ExpiresAt.Equal(want) {
		t.Errorf("expires %v, want %v (7 days)", sent.Invite.ExpiresAt, want)
	}
	if got := format.Expiry(sent.Invite.ExpiresAt, f.org.Location()); got != "Mon 30 Nov 2026 at 14:05 GMT" {
		t.Errorf("expiry text %q", got)
	}
	var hash []byte
	var text, to string
	storetest.Raw(t, f.db).QueryRowContext(ctx, `SELECT token_hash FROM invites WHERE id = ?`, sent.Invite.ID).Scan(&hash)
	var stored string
	storetest.Raw(t, f.db).QueryRowContext(ctx, `SELECT body_text || body_html FROM outbox WHERE id = ?`, sent.OutboxID).Scan(&stored)
	if stored == "" || strings.Contains(stored, sent.token) {
		t.Errorf("the outbox stores the link in the clear (or no body): %q", stored)
	}
	if m := f.message(sent.OutboxID); m != nil {
		text, to = m.Text, m.To
	}
	if len(hash) != 32 || strings.Contains(string(hash), sent.token) {
		t.Errorf("stored token hash %x", hash)
	}
	if to != "jane@example.com" || !strings.Contains(text, "https://desk.example/claim/"+sent.token) {
		t.Errorf("outbox to %s, body lacks the claim link:\n%s", to, text)
	}
	log, _ := f.db.AuditLog(ctx, f.org.ID, jane.ID, 10)
	if len(log) != 1 || log[0].Action != "invite.send" || log[0].Actor.Name != "Maya Harbor" {
		t.Errorf("audit: %+v", log)
	}
	if f.status(jane) != store.StatusInvited {
		t.Errorf("status after invite: %s", f.status(jane))
	}

	// --invite-ttl overrides the organization.
	f.svc.InviteTTL = 48 * time.Hour
	if s := f.invite(f.customer("Ken", "Two", "ken@example.com")); !s.Invite.ExpiresAt.Equal(f.now.Add(48 * time.Hour)) {
		t.Errorf("--invite-ttl 48h gave expiry %v", s.Invite.ExpiresAt)
	}
}

func TestResendRevokesEarlierLink(t *testing.T) {
	f := newFixture(t)
	jane := f.customer("Jane", "Doe", "jane@example.com")
	first := f.invite(jane)
	second := f.invite(jane)
	if second.Superseded != 1 {
		t.Errorf("resend revoked %d links, want 1", second.Superseded)
	}
	if s := f.state(first.token); s != LinkSuperseded {
		t.Errorf("old link: %s", s)
	}
	if _, err := f.svc.Redeem(context.Background(), store.PurposeClaim, first.token, goodPassword); !isLink(err, LinkSuperseded) {
		t.Errorf("redeeming the old link: %v", err)
	}
	if s := f.state(second.token); s != LinkValid {
		t.Errorf("new link: %s", s)
	}
	log, _ := f.db.AuditLog(context.Background(), f.org.ID, jane.ID, 10)
	if log[0].Action != "invite.resend" {
		t.Errorf("audit of the resend: %s", log[0].Action)
	}
}

func TestEmailChangeRevokesLinks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	jane := f.customer("Jane", "Doe", "jane@example.com")
	f.customer("Ann", "Lee", "ann@example.com")
	sent := f.invite(jane)
	if _, err := f.svc.ChangeEmail(ctx, f.desk, jane.ID, "j@example.com"); reason(err) != ReasonForbidden {
		t.Errorf("staff role changing email: %v", err)
	}
	if _, err := f.svc.ChangeEmail(ctx, f.owner, jane.ID, "ann@example.com"); err == nil || err.Error() != "Another customer, Ann Lee, already uses this email" {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := f.svc.ChangeEmail(ctx, f.owner, jane.ID, "jane@example"); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("invalid: %v", err)
	}
	if f.state(sent.token) != LinkValid {
		t.Fatal("a refused change revoked the link")
	}
	ch, err := f.svc.ChangeEmail(ctx, f.owner, jane.ID, " jane.doe@example.com ")
	if err != nil || ch.Invites != 1 || ch.Resets != 0 || ch.Claimed {
		t.Fatalf("ChangeEmail = %+v, %v; want 1 invite revoked, not claimed", ch, err)
	}
	if s := f.state(sent.token); s != LinkEmailChanged {
		t.Errorf("link to the old address: %s", s)
	}
	if f.status(jane) != store.StatusNotInvited {
		t.Errorf("status after email change: %s", f.status(jane))
	}
	log, _ := f.db.AuditLog(ctx, f.org.ID, jane.ID, 1)
	if log[0].Action != "customer.email" || !strings.Contains(log[0].Detail, "jane@example.com → jane.doe@example.com") {
		t.Errorf("audit: %+v", log[0])
	}
}

func isLink(err error, s LinkState) bool {
	var le *LinkError
	return errors.As(err, &le) && le.State == s
}

func (f *fixture) redeem(token, pw string) *store.Customer {
	f.t.Helper()
	c, err := f.svc.Redeem(context.Background(), store.PurposeClaim, token, pw)
	if err != nil {
		f.t.Fatalf("redeem: %v", err)
	}
	return c
}

func TestRedeem(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	jane := f.customer("Jane", "Doe", "jane@example.com")
	sent := f.invite(jane)

	// Opening the link (a GET, a mail scanner) uses nothing up.
	for range 3 {
		if f.state(sent.token) != LinkValid {
			t.Fatal("lookup changed the link")
		}
	}
	if _, err := f.svc.Redeem(ctx, store.PurposeClaim, sent.token, "short"); err == nil || !strings.Contains(err.Error(), "at least 15 characters") {
		t.Errorf("short password: %v", err)
	}
	if f.state(sent.token) != LinkValid {
		t.Fatal("a refused password used the link")
	}
	c := f.redeem(sent.token, goodPassword)
	if c.ClaimedAt.IsZero() || c.Status != store.StatusClaimed {
		t.Fatalf("after redeem: %+v", c)
	}
	if ok, _ := VerifyPassword(ctx, c.PasswordHash, goodPassword); !ok {
		t.Error("stored hash does not verify the password")
	}
	if _, err := f.svc.Redeem(ctx, store.PurposeClaim, sent.token, goodPassword); !isLink(err, LinkUsed) {
		t.Errorf("second use: %v", err)
	}
	log, _ := f.db.AuditLog(ctx, f.org.ID, jane.ID, 1)
	if log[0].Action != "account.claim" || log[0].Actor.Kind != "customer" {
		t.Errorf("audit: %+v", log[0])
	}
}

func TestLinkStates(t *testing.T) {
	f := newFixture(t)
	jane := f.customer("Jane", "Doe", "jane@example.com")
	sent := f.invite(jane)
	for _, tok := range []string{"", "abc", sent.token + "x", strings.Repeat("A", len(sent.token)), sent.token[:42] + "=", "../../etc/passwd"} {
		if s := f.state(tok); s != LinkUnknown {
			t.Errorf("token %q: %s", tok, s)
		}
	}
	if l, _ := f.svc.Lookup(context.Background(), store.PurposeReset, sent.token); l.State != LinkUnknown {
		t.Errorf("claim token as a reset link: %s", l.State)
	}
	*f.now = f.now.Add(7*24*time.Hour - time.Second)
	if s := f.state(sent.token); s != LinkValid {
		t.Errorf("a second before expiry: %s", s)
	}
	*f.now = f.now.Add(time.Second)
	if s := f.state(sent.token); s != LinkExpired {
		t.Errorf("at expiry: %s", s)
	}
	if _, err := f.svc.Redeem(context.Background(), store.PurposeClaim, sent.token, goodPassword); !isLink(err, LinkExpired) {
		t.Errorf("redeeming an expired link: %v", err)
	}
	if f.status(jane) != store.StatusExpired {
		t.Errorf("status: %s", f.status(jane))
	}
}

// TestConcurrentRedemptions: fifty simultaneous posts of one link make one
// account.
func TestConcurrentRedemptions(t *testing.T) {
	f := newFixture(t)
	sent := f.invite(f.customer("Jane", "Doe", "jane@example.com"))
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, used := 0, 0
	start := make(chan struct{})
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := f.svc.Redeem(context.Background(), store.PurposeClaim, sent.token, fmt.Sprintf("%s number %d", goodPassword, i))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case isLink(err, LinkUsed) || isLink(err, LinkClaimed):
				used++
			default:
				t.Errorf("unexpected: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if wins != 1 || used != 49 {
		t.Fatalf("%d successes and %d 'used', want 1 and 49", wins, used)
	}
	var claims int
	storetest.Raw(t, f.db).QueryRowContext(context.Background(), `SELECT count(*) FROM audit WHERE action = 'account.claim'`).Scan(&claims)
	if claims != 1 {
		t.Fatalf("%d claim audit rows", claims)
	}
}

// TestSendMany: one call issues several invites; each customer gets an
// outcome, a refusal skips only that customer, typed by reason.
func TestSendMany(t *testing.T) {
	f := newFixture(t)
	a := f.customer("Ann", "A", "ann@example.com")
	b := f.customer("Bo", "B", "")
	c := f.customer("Cy", "C", "cy@example.com")
	var calls int
	res, err := f.svc.Send(context.Background(), f.owner, []int64{a.ID, b.ID, c.ID, 9999}, SendOptions{Progress: func(Progress) { calls++ }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 4 || res[0].Sent == nil || res[1].Result != Refused || res[1].Refusal.Reason != ReasonNoEmail ||
		res[2].Sent == nil || res[3].Result != Refused || res[3].Refusal.Reason != ReasonGone {
		t.Fatalf("results: %+v", res)
	}
	// No mail server wired: issued links wait for the worker.
	if res[0].Result != Queued || res[0].Why == "" {
		t.Errorf("without a deliverer: %+v", res[0])
	}
	if calls == 0 {
		t.Error("no progress reported")
	}
}

func TestPasswordPolicy(t *testing.T) {
	ctx := []string{"jane.doe@example.com", "Jane", "Doe", "Harbor Yoga", "harbor-yoga"}
	for pw, want := range map[string]string{
		"plum kettle orbit sandal":               "",
		strings.Repeat("x", 14):                  "at least 15",
		"passwordpassword":                       "commonly used",
		"PasswordPassword":                       "commonly used",
		"password12345678":                       "commonly used",
		"correct horse battery staple":           "commonly used",
		"aaaaaaaaaaaaaaaaaaaa":                   "repeated",
		"abcabcabcabcabcabc":                     "repeated",
		"123456789012345678":                     "repeated",
		"qwertyuiopasdfghjkl":                    "commonly used",
		"jane.doe@example.com":                   "too close",
		"HarborYogaHarborYoga!":                  "too close",
		"janedoe-harbor-yoga-2026":               "too close",
		"harbor is where my heart sails":         "",
		strings.Repeat("🧘", 15):                  "repeated",
		strings.Repeat("long words ", 9) + "end": "",
		strings.Repeat("y", 257):                 "at most 256",
		// Long enough, yet guessable: too few different characters, or a
		// pattern the strength estimate (zxcvbn) knows.
		"               !":            "uses only 2 different characters",
		"0000000000000001":            "uses only 2 different characters",
		"1234 5678 9012 3456":         "would be easy to guess",
		"sunshine sunshine":           "would be easy to guess",
		"2026-11-23 20261123":         "would be easy to guess",
		"zxcvbnm asdfghjkl":           "would be easy to guess",
		"парольпарольпароль":          "repeated",
		"sunshine1sunshine1":          "repeated",
		"violet anchor mango drum":    "",
		"Trombone-Lantern-47 quietly": "",
		"my cat eats tuna on fridays": "",
		"ещё один длинный пароль для теста": "",
	} {
		err := CheckPassword(pw, 15, ctx...)
		switch {
		case want == "" && err != nil:
			t.Errorf("%q refused: %v", pw, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: %v, want a refusal mentioning %q", pw, err, want)
		}
	}
	// An organization may lower the minimum, never below 8; eight random
	// characters are then enough, a word and a digit are not.
	if err := CheckPassword("xq8wz3pk", 8); err != nil {
		t.Errorf("8 random characters with minimum 8: %v", err)
	}
	if err := CheckPassword("xq8wz3pk", 3); err == nil {
		t.Error("minimum below 8 was honoured")
	}
	if err := CheckPassword("tangelo9", 8); err == nil || !strings.Contains(err.Error(), "would be easy to guess") {
		t.Errorf("a word and a digit with minimum 8: %v", err)
	}
	// Every refusal says what to do instead.
	for _, pw := range []string{"0000000000000001", "1234 5678 9012 3456", "harbor yoga harbor yoga"} {
		err := CheckPassword(pw, 15, ctx...)
		var pe *PasswordError
		if !errors.As(err, &pe) || !strings.Contains(pe.Message, ". ") {
			t.Errorf("%q: %v, want a PasswordError saying what is wrong and what to do", pw, err)
		}
	}
}

// The estimate takes the customer's name, email and organization as words
// an attacker would try first.
func TestPasswordStrengthUsesContext(t *testing.T) {
	const pw = "quokka pilates tangerine"
	if err := CheckPassword(pw, 15); err != nil {
		t.Fatalf("without context: %v", err)
	}
	err := CheckPassword(pw, 15, "ingrid.bergstrom@example.com", "Ingrid", "Bergström", "Quokka Pilates", "quokka-pilates")
	if err == nil || !strings.Contains(err.Error(), "would be easy to guess (it relies on your name, your email or the organization's name") {
		t.Fatalf("with the customer's context: %v", err)
	}
}

func TestPasswordHash(t *testing.T) {
	ctx := context.Background()
	long := strings.Repeat("a long passphrase ", 10) // 180 characters: never truncated
	h, err := HashPassword(ctx, long)
	if err != nil || !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q, %v", h, err)
	}
	for pw, want := range map[string]bool{long: true, long[:len(long)-1]: false, long[:72]: false, "": false} {
		if ok, _ := VerifyPassword(ctx, h, pw); ok != want {
			t.Errorf("verify %d chars = %v, want %v", len(pw), ok, want)
		}
	}
	for _, unusable := range []string{"", "!demo", "$argon2id$v=19$m=0,t=0,p=0$$", "$argon2id$v=19$m=99999999,t=2,p=1$c2FsdA$aGFzaA"} {
		if ok, _ := VerifyPassword(ctx, unusable, ""); ok {
			t.Errorf("hash %q verified", unusable)
		}
	}
	if h2, _ := HashPassword(ctx, long); h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
}

func FuzzTokenHash(f *testing.F) {
	tok, _ := newToken()
	f.Add(tok)
	f.Add("")
	f.Add(strings.Repeat("-", 43))
	f.Fuzz(func(t *testing.T, s string) {
		h, ok := TokenHash(s)
		if ok && (len(h) != 32 || len(s) != tokenLen) {
			t.Fatalf("accepted %q with hash %x", s, h)
		}
	})
}

// BenchmarkBulkInvite10k: queueing 10,000 invites (DESIGN §9: under 2 s).
func BenchmarkBulkInvite10k(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		f := newFixture(b)
		ids := make([]int64, 10_000)
		err := f.db.Tx(context.Background(), func(tx *store.Tx) error {
			for i := range ids {
				c := &store.Customer{OrgID: f.org.ID, FirstName: "Bulk", LastName: fmt.Sprint(i), Email: fmt.Sprintf("bulk%d@example.com", i)}
				if err := tx.CreateCustomer(context.Background(), c); err != nil {
					return err
				}
				ids[i] = c.ID
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := f.svc.Send(context.Background(), f.owner, ids, SendOptions{})
		if err != nil || len(res) != len(ids) || res[len(res)-1].Sent == nil {
			b.Fatal(err)
		}
	}
}

// TestSendQueueOnly: with QueueOnly, Send issues the links and makes no delivery
// attempt even with a mail transport wired: the emails wait in the outbox,
// untried, for the worker, and say so.
func TestSendQueueOnly(t *testing.T) {
	f := newFixture(t)
	f.svc.Mail = f.worker()
	a := f.customer("Ann", "A", "ann@example.com")
	b := f.customer("Bo", "B", "")
	var phases []Phase
	res, err := f.svc.Send(context.Background(), f.owner, []int64{a.ID, b.ID}, SendOptions{QueueOnly: true, Progress: func(p Progress) { phases = append(phases, p.Phase) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Result != Queued || res[0].Sent == nil || res[0].Why != "waiting for the outbox worker" || res[1].Result != Refused {
		t.Fatalf("results: %+v", res)
	}
	if slices.Contains(phases, Delivering) {
		t.Errorf("progress reported a delivery: %v", phases)
	}
	var status string
	var attempts int
	storetest.Scan(t, f.db, `SELECT status, attempts FROM outbox WHERE id = ?`, []any{res[0].Sent.OutboxID}, &status, &attempts)
	if status != string(store.OutboxQueued) || attempts != 0 {
		t.Errorf("the invite's email is %s after %d attempts, want queued and untried", status, attempts)
	}
	if f.status(a) != store.StatusInvited {
		t.Errorf("Ann is %s, want invited", f.status(a))
	}
}

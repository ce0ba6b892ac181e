package claim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"frontdesk/store"
	"frontdesk/store/storetest"
)

var codeIn = regexp.MustCompile(`\b([0-9A-Z]{4}-[0-9A-Z]{4})\b`)

// emailedCode is the one-time code in message id's text, as the customer
// reads it.
func (f *fixture) emailedCode(id int64) string {
	f.t.Helper()
	m := codeIn.FindStringSubmatch(f.message(id).Text)
	if m == nil {
		f.t.Fatalf("no code in message %d:\n%s", id, f.message(id).Text)
	}
	return m[1]
}

func (f *fixture) lookupCode(email, code, addr string) *Link {
	f.t.Helper()
	l, err := f.svc.LookupCode(context.Background(), CodeEntry{Email: email, Code: code, Addr: addr})
	if err != nil {
		f.t.Fatalf("lookup code %s for %s: %v", code, email, err)
	}
	return l
}

func TestParseCode(t *testing.T) {
	for in, want := range map[string]string{
		"K7F2-9QXM": "K7F29QXM", "k7f2 9qxm": "K7F29QXM", " K7F29QXM ": "K7F29QXM",
		"O0IL-1234": "00111234", // read as Crockford reads them
	} {
		if got, ok := ParseCode(in); !ok || got != want {
			t.Errorf("ParseCode(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "K7F2-9QX", "K7F2-9QXMM", "K7F2-9QXU", "K7F2_9QXM", "К7F2-9QXM", strings.Repeat("-", 100)} {
		if got, ok := ParseCode(in); ok {
			t.Errorf("ParseCode(%q) = %q, want refused", in, got)
		}
	}
	seen := map[string]bool{}
	for range 200 {
		c := newCode()
		if p, ok := ParseCode(FormatCode(c)); !ok || p != c {
			t.Fatalf("a drawn code %q does not read back: %q %v", c, p, ok)
		}
		seen[c] = true
	}
	if len(seen) < 199 {
		t.Errorf("200 codes drawn, only %d different", len(seen))
	}
}

// The invite email carries the code and where to type it; the code opens
// the invite as the link does, typed as people type, once.
func TestRedeemCode(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	jane := f.customer("Jane", "Doe", "Jane.Doe@example.com")
	sent := f.invite(jane)
	text := f.message(sent.OutboxID).Text
	code := f.emailedCode(sent.OutboxID)
	if code != FormatCode(sent.code) || !strings.Contains(text, "https://desk.example/claim\n") {
		t.Fatalf("the email has code %q and no code page, want %q:\n%s", code, FormatCode(sent.code), text)
	}

	typed := strings.ToLower(strings.ReplaceAll(code, "-", " "))
	l := f.lookupCode(" jane.doe@EXAMPLE.com", typed, "203.0.113.9")
	if l.State != LinkValid || l.Customer.ID != jane.ID || l.Org.ID != f.org.ID {
		t.Fatalf("the code typed as a person types it: %+v", l)
	}
	for range 3 {
		if f.lookupCode("jane.doe@example.com", code, "203.0.113.9").State != LinkValid {
			t.Fatal("looking the code up used it")
		}
	}
	// The code belongs to the address it was sent to.
	other := f.customer("Ann", "Other", "ann@example.com")
	f.invite(other)
	if s := f.lookupCode("ann@example.com", code, "203.0.113.9").State; s != LinkUnknown {
		t.Errorf("Jane's code with Ann's address: %s", s)
	}

	e := CodeEntry{Email: "jane.doe@example.com", Code: code, Addr: "203.0.113.9"}
	if _, err := f.svc.RedeemCode(ctx, e, "short"); err == nil || !strings.Contains(err.Error(), "at least 15 characters") {
		t.Errorf("short password: %v", err)
	}
	c, err := f.svc.RedeemCode(ctx, e, goodPassword)
	if err != nil || c.ClaimedAt.IsZero() {
		t.Fatalf("redeem with the code: %v %+v", err, c)
	}
	if ok, _ := VerifyPassword(ctx, c.PasswordHash, goodPassword); !ok {
		t.Error("stored hash does not verify the password")
	}
	if !f.audited(jane, "account.claim", "one-time code") {
		t.Error("the claim is not audited as made with the code")
	}
	// Once: the code and the link are one invite.
	if _, err := f.svc.RedeemCode(ctx, e, goodPassword); !isLink(err, LinkUsed) {
		t.Errorf("the code a second time: %v", err)
	}
	if s := f.state(sent.token); s != LinkUsed {
		t.Errorf("the link after the code was used: %s", s)
	}
}

// Fifty simultaneous claims with one code make one account.
func TestConcurrentCodeRedemptions(t *testing.T) {
	f := newFixture(t)
	sent := f.invite(f.customer("Jane", "Doe", "jane@example.com"))
	e := CodeEntry{Email: "jane@example.com", Code: f.emailedCode(sent.OutboxID), Addr: "203.0.113.9"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, used := 0, 0
	start := make(chan struct{})
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := f.svc.RedeemCode(context.Background(), e, fmt.Sprintf("%s number %d", goodPassword, i))
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
}

// A code dies with its link: superseded by a resend, when the email
// changes, when it expires; each says so as the link would.
func TestCodeFollowsTheLink(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sue := f.customer("Sue", "Per", "sue@example.com")
	oldCode := f.emailedCode(f.invite(sue).OutboxID)
	newCode := f.emailedCode(f.invite(sue).OutboxID)
	mo := f.customer("Mo", "Ved", "mo@example.com")
	moCode := f.emailedCode(f.invite(mo).OutboxID)
	if _, err := f.svc.ChangeEmail(ctx, f.owner, mo.ID, "mo@new.example"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		email, code string
		want        LinkState
	}{
		{"sue@example.com", oldCode, LinkSuperseded},
		{"sue@example.com", newCode, LinkValid},
		{"mo@example.com", moCode, LinkEmailChanged},
		{"mo@new.example", moCode, LinkUnknown},
	} {
		if s := f.lookupCode(c.email, c.code, "198.51.100.1").State; s != c.want {
			t.Errorf("%s with %s: %s, want %s", c.code, c.email, s, c.want)
		}
	}
	*f.now = f.now.Add(7 * 24 * time.Hour)
	if s := f.lookupCode("sue@example.com", newCode, "198.51.100.1").State; s != LinkExpired {
		t.Errorf("a week later: %s", s)
	}
	if _, err := f.svc.RedeemCode(ctx, CodeEntry{Email: "sue@example.com", Code: newCode, Addr: "198.51.100.1"}, goodPassword); !isLink(err, LinkExpired) {
		t.Errorf("redeeming an expired code: %v", err)
	}
}

// Wrong codes are throttled per address and client, in the database: a
// client that keeps guessing waits, even for the right code; another
// client does not; CodeCeiling wrong codes for one address from anywhere
// pause codes for it everywhere. Wrong codes are audited on the customer
// whose code it may be.
func TestCodeThrottle(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	jane := f.customer("Jane", "Doe", "jane@example.com")
	code := f.emailedCode(f.invite(jane).OutboxID)
	wrong := "ZZZZ-ZZZZ"
	if wrong == code {
		wrong = "YYYY-YYYY"
	}
	guess := func(code, addr string) error {
		_, err := f.svc.LookupCode(ctx, CodeEntry{Email: "jane@example.com", Code: code, Addr: addr})
		return err
	}
	for i := range FreeSignInFailures {
		if err := guess(wrong, "203.0.113.9"); err != nil {
			t.Fatalf("wrong code %d: %v", i+1, err)
		}
	}
	var th *CodeThrottled
	if err := guess(code, "203.0.113.9"); !errors.As(err, &th) || th.Everywhere || th.Wait != time.Minute {
		t.Fatalf("after %d wrong codes, the right one from the same client: %v", FreeSignInFailures, err)
	}
	if !strings.Contains(th.Error(), "Wait a minute") {
		t.Errorf("throttle words: %s", th.Error())
	}
	if err := guess(code, "198.51.100.7"); err != nil {
		t.Errorf("another client is slowed by the first: %v", err)
	}
	*f.now = f.now.Add(time.Minute)
	if l := f.lookupCode("jane@example.com", code, "203.0.113.9"); l.State != LinkValid {
		t.Errorf("after the pause: %s", l.State)
	}
	if !f.audited(jane, "invite.code_failed", "203.0.113.9") {
		t.Error("wrong codes for Jane's address are not audited on Jane")
	}

	// Many clients, a few guesses each: the address's ceiling.
	for i := 0; storetest.Int(t, f.db, `SELECT coalesce(sum(failures), 0) FROM code_failures`) < CodeCeiling; i++ {
		if err := guess(wrong, fmt.Sprintf("192.0.2.%d", i)); err != nil {
			t.Fatalf("guess from client %d: %v", i, err)
		}
	}
	if err := guess(code, "198.51.100.99"); !errors.As(err, &th) || !th.Everywhere {
		t.Fatalf("at the ceiling, a fresh client: %v", err)
	}
	// The link is not paused.
	*f.now = f.now.Add(time.Hour + time.Second)
	if err := guess(code, "198.51.100.99"); err != nil {
		t.Errorf("an hour later: %v", err)
	}
	// Codes for another address were never paused.
	if err := guess(wrong, "198.51.100.99"); err != nil {
		t.Fatal(err)
	}
}

// What the database keeps of a code opens nothing without the key file:
// the code is nowhere in the file, and a copy of the database next to
// another key file does not take it. A rotated key ends the codes made with
// it (the rotation says it may have leaked); the link still works.
func TestCodeAtRest(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	jane := f.customer("Jane", "Doe", "jane@example.com")
	sent := f.invite(jane)
	code := f.emailedCode(sent.OutboxID)
	plain, _ := ParseCode(code)

	dir := t.TempDir()
	copyPath := filepath.Join(dir, "frontdesk.db")
	if err := f.db.Backup(ctx, copyPath); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{code, plain, strings.ToLower(plain)} {
		if bytes.Contains(raw, []byte(s)) {
			t.Fatalf("the database file holds the code %q", s)
		}
	}
	// The copy, opened with a key file that names the same key but does
	// not hold its secret (all someone with the copy can make): the code
	// cannot be checked, so it cannot be found by trying them all.
	var keyID string
	storetest.Scan(t, f.db, `SELECT code_key FROM invites WHERE id = ?`, []any{sent.Invite.ID}, &keyID)
	forged := filepath.Join(dir, "forged.key")
	line := "fdk1 " + keyID + " " + strings.Repeat("A", 43) + "\n"
	if err := os.WriteFile(forged, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	cp, err := store.OpenWith(copyPath, store.Options{OutboxKey: forged})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	cp.Now = f.db.Now
	other := &Service{DB: cp, BaseURL: f.svc.BaseURL}
	if l, err := other.LookupCode(ctx, CodeEntry{Email: "jane@example.com", Code: code, Addr: "203.0.113.9"}); err != nil || l.State != LinkUnknown {
		t.Fatalf("a copy of the database without the key took the code: %+v %v", l, err)
	}
	if l := f.lookupCode("jane@example.com", code, "203.0.113.9"); l.State != LinkValid {
		t.Fatalf("with the key file: %s", l.State)
	}

	if _, err := f.db.RotateOutboxKey(ctx, store.SystemActor("test")); err != nil {
		t.Fatal(err)
	}
	if l := f.lookupCode("jane@example.com", code, "203.0.113.9"); l.State != LinkUnknown {
		t.Errorf("a code made with a rotated key: %s", l.State)
	}
	if s := f.state(sent.token); s != LinkValid {
		t.Errorf("the link after a key rotation: %s", s)
	}
}

// A link shown at the desk is an invite like a resend, with no email: the
// earlier link stops working, nothing is queued, the audit says where it
// was shown. The staff role and a claimed customer are refused.
func TestShowAtDesk(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	jane := f.customer("Jane", "Doe", "jane@example.com")
	emailed := f.invite(jane)
	_, outboxBefore, _ := f.counts()

	d, err := f.svc.ShowAtDesk(ctx, f.owner, jane.ID)
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimPrefix(d.URL, "https://desk.example/claim/")
	if token == d.URL || f.state(token) != LinkValid {
		t.Fatalf("desk link %q does not open the claim form", d.URL)
	}
	if d.Invite.Channel != store.ChannelDesk || d.Invite.OutboxID != 0 || d.Superseded != 1 {
		t.Errorf("desk invite: %+v, superseded %d", d.Invite, d.Superseded)
	}
	if _, outbox, _ := f.counts(); outbox != outboxBefore {
		t.Errorf("showing a link at the desk queued %d email(s)", outbox-outboxBefore)
	}
	if s := f.state(emailed.token); s != LinkSuperseded {
		t.Errorf("the emailed link after one was shown at the desk: %s", s)
	}
	if f.status(jane) != store.StatusInvited {
		t.Errorf("status %s", f.status(jane))
	}
	if !f.audited(jane, "invite.desk", "shown at the desk as a QR code") || !f.audited(jane, "invite.desk", "no email sent") {
		t.Error("not audited as shown at the desk")
	}
	invs, _ := f.db.Invites(ctx, f.org.ID, jane.ID)
	if invs[0].Channel != store.ChannelDesk || invs[1].Channel != store.ChannelEmail {
		t.Errorf("channels as read back: %s, %s", invs[0].Channel, invs[1].Channel)
	}

	if _, err := f.svc.ShowAtDesk(ctx, f.desk, jane.ID); !isRefusal(err, ReasonForbidden) {
		t.Errorf("staff role: %v", err)
	}
	f.redeem(token, goodPassword)
	if _, err := f.svc.ShowAtDesk(ctx, f.owner, jane.ID); !isRefusal(err, ReasonClaimed) {
		t.Errorf("claimed customer: %v", err)
	}
}

func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"K7F2-9QXM", "k7f29qxm", "", "----", "ÄÖÜ", "OILO ILOI"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := ParseCode(s)
		if !ok {
			return
		}
		if len(c) != CodeLen {
			t.Fatalf("%q read as %q", s, c)
		}
		if again, ok := ParseCode(FormatCode(c)); !ok || again != c {
			t.Fatalf("%q: %q does not read back (%q)", s, c, again)
		}
	})
}

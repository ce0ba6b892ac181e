package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"frontdesk/claim"
	"frontdesk/store"
	"frontdesk/store/storetest"
)

var codeRE = regexp.MustCompile(`\b([0-9A-Z]{4}-[0-9A-Z]{4})\b`)

// inviteCode sends c an invite as the owner and returns the one-time code
// from the email, as the customer reads it.
func (f *fixture) inviteCode(c *store.Customer) string {
	f.t.Helper()
	sent, err := f.svc.Issue(context.Background(), f.owner, c.ID, store.PurposeClaim)
	if err != nil {
		f.t.Fatal(err)
	}
	body := f.outboxText(sent.OutboxID)
	m := codeRE.FindStringSubmatch(body)
	if m == nil || !strings.Contains(body, f.srv.URL+"/claim\n") {
		f.t.Fatalf("no code, or not where to type it, in message %d:\n%s", sent.OutboxID, body)
	}
	return m[1]
}

// The code from the email, typed on /claim, goes on exactly as the link
// does: a cookie, the password form, the claim; then it is used up.
func TestClaimWithCode(t *testing.T) {
	f := newFixture(t)
	jane := f.customer(f.org, "Jane", "Doe", "jane@example.com")
	code := f.inviteCode(jane)
	b := f.browser()

	p := b.get("/claim")
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, `<label for="email">`, `<label for="code">`, `autocomplete="one-time-code"`, `action="/claim"`)

	// As people type it: lower case, a space for the hyphen.
	typed := strings.ToLower(strings.Replace(code, "-", " ", 1))
	p = b.post("/claim", url.Values{"email": {" Jane@Example.com"}, "code": {typed}})
	wantStatus(t, p, http.StatusSeeOther)
	if p.location() != "/claim" {
		t.Fatalf("redirect to %q, want /claim", p.location())
	}
	set := p.header.Get("Set-Cookie")
	for _, attr := range []string{"HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age=1800"} {
		if !strings.Contains(set, attr) {
			t.Errorf("code cookie lacks %s: %s", attr, set)
		}
	}
	p = b.get("/claim")
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, "Set up your account", "Harbor Yoga", "jane@example.com", `autocomplete="new-password"`)
	p = b.post("/claim", url.Values{"username": {"jane@example.com"}, "password": {goodPassword}, "confirm": {goodPassword}})
	wantStatus(t, p, http.StatusSeeOther)
	mustContain(t, b.follow(p), "Hello, Jane", "you're signed in")
	if c := b.cookie(claimCookie); c != nil {
		t.Errorf("code cookie kept after the claim: %+v", c)
	}
	got, _ := f.db.Customer(t.Context(), f.org.ID, jane.ID)
	if got.ClaimedAt.IsZero() {
		t.Fatal("customer not claimed")
	}
	// Once: the same code again gets the used link's page.
	p = f.browser().post("/claim", url.Values{"email": {"jane@example.com"}, "code": {code}})
	wantStatus(t, p, http.StatusGone)
	mustContain(t, p, "already set up", "Sign in")
}

// Wrong codes are refused on the form and, kept up, rate-limited in the
// database; a mistyped code is said to be one without counting; a cookie
// made up by hand is checked like the form.
func TestClaimCodeRefused(t *testing.T) {
	f := newFixture(t)
	jane := f.customer(f.org, "Jane", "Doe", "jane@example.com")
	code := f.inviteCode(jane)
	wrong := "ZZZZ-ZZZZ"
	if code == wrong {
		wrong = "YYYY-YYYY"
	}
	b := f.browser()

	p := b.post("/claim", url.Values{"email": {"jane@example.com"}, "code": {"K7F2-9QX"}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	mustContain(t, p, "A code has 8 letters and digits")
	p = b.post("/claim", url.Values{"email": {""}, "code": {""}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	mustContain(t, p, "Enter the email address the invite was sent to.", "Enter the code from the invite email.")
	if n := storetest.Int(t, f.db, `SELECT count(*) FROM code_failures`); n != 0 {
		t.Fatalf("malformed codes counted: %d", n)
	}

	for i := range claim.FreeSignInFailures {
		p = b.post("/claim", url.Values{"email": {"jane@example.com"}, "code": {wrong}})
		wantStatus(t, p, http.StatusUnauthorized)
		mustContain(t, p, "That code doesn&#39;t match an invite sent to this email address")
		if b.cookie(claimCookie) != nil {
			t.Fatalf("wrong code %d set a cookie", i+1)
		}
	}
	// Now even the right code waits, from this client.
	p = b.post("/claim", url.Values{"email": {"jane@example.com"}, "code": {code}})
	wantStatus(t, p, http.StatusTooManyRequests)
	mustContain(t, p, "Too many wrong codes")
	if p.header.Get("Retry-After") != "60" {
		t.Errorf("Retry-After %q", p.header.Get("Retry-After"))
	}
	if n := storetest.Int(t, f.db, `SELECT failures FROM code_failures WHERE email = 'jane@example.com'`); n != claim.FreeSignInFailures {
		t.Errorf("%d failures stored, want %d", n, claim.FreeSignInFailures)
	}

	// A cookie written by hand is a guess like any other: counted, and
	// paused like the form. (A day on, the count has been forgotten; the
	// invite is still live.)
	f.advance(25 * time.Hour)
	forged := codeCookiePrefix + base64.RawURLEncoding.EncodeToString([]byte("jane@example.com")) + "." + strings.ReplaceAll(wrong, "-", "")
	u, _ := url.Parse(f.srv.URL)
	hand := f.browser()
	for i := range claim.FreeSignInFailures + 1 {
		hand.c.Jar.SetCookies(u, []*http.Cookie{{Name: "__Host-" + claimCookie, Value: forged, Path: "/", Secure: true}})
		p = hand.get("/claim")
		if i < claim.FreeSignInFailures {
			wantStatus(t, p, http.StatusNotFound) // the unknown link's page
			continue
		}
		wantStatus(t, p, http.StatusTooManyRequests)
	}
}

// A code whose invite expired, or was superseded by a resend, gets the
// link's page; a resend's new code works.
func TestClaimCodeStates(t *testing.T) {
	f := newFixture(t)
	sue := f.customer(f.org, "Sue", "Per", "sue@example.com")
	old := f.inviteCode(sue)
	current := f.inviteCode(sue)
	b := f.browser()

	p := b.post("/claim", url.Values{"email": {"sue@example.com"}, "code": {old}})
	wantStatus(t, p, http.StatusGone)
	mustContain(t, p, "A newer invite was sent", "most recent email from Harbor Yoga")

	f.advance(8 * 24 * time.Hour)
	p = b.post("/claim", url.Values{"email": {"sue@example.com"}, "code": {current}})
	wantStatus(t, p, http.StatusGone)
	mustContain(t, p, "This invite link has expired", "ask Harbor Yoga to send you a new invite", "Send me a new link")
	if b.cookie(claimCookie) != nil {
		t.Error("a dead code set a cookie")
	}
}

// The database files hold no usable code: not in the clear, and not where
// a copy of the files would show it.
func TestClaimCodeNotInDatabase(t *testing.T) {
	f := newFixture(t)
	code := f.inviteCode(f.customer(f.org, "Jane", "Doe", "jane@example.com"))
	plain, _ := claim.ParseCode(code)
	for _, path := range []string{f.db.Path(), f.db.Path() + "-wal"} {
		raw, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		for _, s := range []string{code, plain} {
			if bytes.Contains(raw, []byte(s)) {
				t.Errorf("%s holds the code %s", path, s)
			}
		}
	}
	var mac []byte
	storetest.Scan(t, f.db, `SELECT code_mac FROM invites`, nil, &mac)
	if len(mac) != 32 {
		t.Fatalf("stored code MAC of %d bytes", len(mac))
	}
}

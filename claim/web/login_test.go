package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"frontdesk/claim"
	"frontdesk/store/storetest"
)

// signIn posts the sign-in form and expects to land on the account page.
func (b *browser) signIn(slug, email, password string) {
	b.f.t.Helper()
	p := b.post("/login", url.Values{"org": {slug}, "email": {email}, "password": {password}})
	if p.status != http.StatusSeeOther || p.location() != "/account" {
		b.f.t.Fatalf("sign in as %s: status %d to %q:\n%s", email, p.status, p.location(), p.body)
	}
}

func (f *fixture) auditCount(action string) int {
	f.t.Helper()
	var n int
	if err := storetest.Raw(f.t, f.db).QueryRowContext(f.t.(*testing.T).Context(), `SELECT count(*) FROM audit WHERE action = ?`, action).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func TestSignIn(t *testing.T) {
	f := newFixture(t)
	f.claimed(f.org, "Jane", "Doe", "jane@example.com", goodPassword)
	b := f.browser()

	p := b.get("/login?org=harbor-yoga")
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, "Sign in to Harbor Yoga", `name="org" value="harbor-yoga"`, `autocomplete="current-password"`,
		`<label for="email">`, `href="/forgot?org=harbor-yoga"`)

	// Wrong password and unknown email: the same refusal, the same status.
	wrong := b.post("/login", url.Values{"org": {"harbor-yoga"}, "email": {"jane@example.com"}, "password": {"not my password at all"}})
	unknown := b.post("/login", url.Values{"org": {"harbor-yoga"}, "email": {"nobody@example.com"}, "password": {"not my password at all"}})
	wantStatus(t, wrong, http.StatusUnauthorized)
	wantStatus(t, unknown, http.StatusUnauthorized)
	mustContain(t, wrong, "don&#39;t match an account", `role="alert"`, `aria-describedby="form-error"`)
	if strings.ReplaceAll(wrong.body, "jane@example.com", "X") != strings.ReplaceAll(unknown.body, "nobody@example.com", "X") {
		t.Errorf("wrong password and unknown email answer differently:\n%s\n---\n%s", wrong.body, unknown.body)
	}
	if n := f.auditCount("account.signin_failed"); n != 2 {
		t.Errorf("%d sign-in failures audited, want 2", n)
	}
	if b.cookie(sessionCookie) != nil {
		t.Fatal("a failed sign-in set a session cookie")
	}

	// Empty fields: errors next to each.
	p = b.post("/login", url.Values{"email": {""}, "password": {""}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	mustContain(t, p, `id="email-error" role="alert">Enter your email address.`, `id="password-error" role="alert">Enter your password.`)

	p = b.post("/login", url.Values{"org": {"harbor-yoga"}, "email": {"JANE@example.com "}, "password": {goodPassword}})
	wantStatus(t, p, http.StatusSeeOther)
	set := p.header.Get("Set-Cookie")
	for _, attr := range []string{"__Host-fd_session=", "HttpOnly", "Secure", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(set, attr) {
			t.Errorf("session cookie lacks %s: %s", attr, set)
		}
	}
	first := b.cookie(sessionCookie).Value
	p = b.get("/account")
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, "Hello, Jane", "Sign out")

	// Signed in, /login goes to the account.
	if p := b.get("/login"); p.location() != "/account" {
		t.Errorf("/login while signed in: %d %q", p.status, p.location())
	}

	// Signing in again rotates the id and ends the old session.
	b.signIn("harbor-yoga", "jane@example.com", goodPassword)
	if second := b.cookie(sessionCookie).Value; second == first {
		t.Fatal("session id not rotated at sign-in")
	}
	if _, err := f.svc.Session(t.Context(), first, claim.SessionLifetime{}); err == nil {
		t.Fatal("the previous session still works after signing in again")
	}

	// Sign out.
	p = b.post("/logout", nil)
	wantStatus(t, p, http.StatusSeeOther)
	if p.location() != "/login?org=harbor-yoga&m=signed_out" {
		t.Errorf("sign out went to %q", p.location())
	}
	mustContain(t, b.follow(p), "You&#39;re signed out.")
	if p := b.get("/account"); p.status != http.StatusSeeOther || p.location() != "/login" {
		t.Fatalf("account after sign out: %d %q", p.status, p.location())
	}
}

// Without an organization in the page, the email's accounts are tried in
// every organization; the password picks the account.
func TestSignInWithoutOrg(t *testing.T) {
	f := newFixture(t)
	clinic := f.newOrg("Seaside Clinic")
	f.claimed(f.org, "Jane", "Doe", "jane@example.com", goodPassword)
	f.claimed(clinic, "Jane", "Doe", "jane@example.com", "violet anchor mango drum")

	b := f.browser()
	b.signIn("", "jane@example.com", "violet anchor mango drum")
	mustContain(t, b.get("/account"), "Seaside Clinic")
	b = f.browser()
	b.signIn("", "jane@example.com", goodPassword)
	mustContain(t, b.get("/account"), "Harbor Yoga")
	// With the organization given, the other organization's password does not work there.
	p := b.post("/login", url.Values{"org": {"harbor-yoga"}, "email": {"jane@example.com"}, "password": {"violet anchor mango drum"}})
	wantStatus(t, p, http.StatusUnauthorized)
}

func TestSessionIdleExpiry(t *testing.T) {
	f := newFixture(t)
	jane := f.claimed(f.org, "Jane", "Doe", "jane@example.com", goodPassword)
	b := f.browser()
	b.signIn("harbor-yoga", "jane@example.com", goodPassword)
	for i := 0; i < 3; i++ { // activity keeps it alive
		f.advance(25 * time.Minute)
		wantStatus(t, b.get("/account"), http.StatusOK)
	}
	f.advance(claim.DefaultSessionIdle)
	p := b.get("/account")
	if p.status != http.StatusSeeOther || p.location() != "/login?m=expired" {
		t.Fatalf("idle session: %d %q", p.status, p.location())
	}
	mustContain(t, b.follow(p), "Your session ended")
	if n, _ := f.db.CountCustomerSessions(t.Context(), f.org.ID, jane.ID); n != 0 {
		t.Errorf("%d sessions left after expiry", n)
	}
}

func TestSessionAbsoluteExpiry(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Sessions = claim.SessionLifetime{Idle: time.Hour, Absolute: 3 * time.Hour} })
	f.claimed(f.org, "Jane", "Doe", "jane@example.com", goodPassword)
	b := f.browser()
	b.signIn("harbor-yoga", "jane@example.com", goodPassword)
	for elapsed := time.Duration(0); elapsed+45*time.Minute < 3*time.Hour; elapsed += 45 * time.Minute {
		f.advance(45 * time.Minute)
		wantStatus(t, b.get("/account"), http.StatusOK)
	}
	f.advance(45 * time.Minute) // 3h since sign-in, active all along
	p := b.get("/account")
	if p.status != http.StatusSeeOther || p.location() != "/login?m=expired" {
		t.Fatalf("session past its absolute lifetime: %d %q", p.status, p.location())
	}
}

func TestSignInRateLimits(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.Limits.SignIn = Limit{Burst: 3, Every: time.Minute}
		o.ClientAddr = func(r *http.Request) string { return r.Header.Get("X-Test-Client") }
	})
	f.claimed(f.org, "Jane", "Doe", "jane@example.com", goodPassword)
	try := func(client, email string) *page {
		req, _ := http.NewRequest("POST", f.srv.URL+"/login", strings.NewReader(url.Values{"email": {email}, "password": {"wrong wrong wrong wrong"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Test-Client", client)
		return f.browser().do(req)
	}
	// Per address.
	for i := 0; i < 3; i++ {
		wantStatus(t, try("192.0.2.1", "x"+itoa(i)+"@example.com"), http.StatusUnauthorized)
	}
	p := try("192.0.2.1", "y@example.com")
	wantStatus(t, p, http.StatusTooManyRequests)
	mustContain(t, p, "too many attempts from your connection")
	// IPv6 clients are limited per /64.
	for i := 0; i < 3; i++ {
		try("2001:db8::"+itoa(i+1), "v6-"+itoa(i)+"@example.com")
	}
	wantStatus(t, try("2001:db8::ff", "v6@example.com"), http.StatusTooManyRequests)

	// Per email typed, see throttle_test.go.
	f.advance(time.Hour)
	wantStatus(t, try("192.0.2.1", "y@example.com"), http.StatusUnauthorized)
}

func TestLogoutPage(t *testing.T) {
	f := newFixture(t)
	f.claimed(f.org, "Jane", "Doe", "jane@example.com", goodPassword)
	b := f.browser()
	if p := b.get("/logout"); p.status != http.StatusSeeOther {
		t.Fatalf("GET /logout signed out: %d", p.status)
	}
	b.signIn("harbor-yoga", "jane@example.com", goodPassword)
	p := b.get("/logout")
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, `action="/logout"`)
	wantStatus(t, b.get("/account"), http.StatusOK) // a GET never signs out
}

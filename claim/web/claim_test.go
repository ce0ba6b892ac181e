package web

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"frontdesk/store/storetest"
)

func TestClaimValid(t *testing.T) {
	f := newFixture(t)
	jane := f.customer(f.org, "Jane", "Doe", "jane@example.com")
	token := f.invite(jane)
	b := f.browser()

	p := b.get("/claim/" + token)
	wantStatus(t, p, http.StatusSeeOther)
	if p.location() != "/claim" {
		t.Fatalf("redirect to %q, want /claim (the token must leave the address bar)", p.location())
	}
	c := b.cookie(claimCookie)
	if c == nil || c.Value != token {
		t.Fatalf("token cookie = %+v", c)
	}
	set := p.header.Get("Set-Cookie")
	for _, attr := range []string{"HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age="} {
		if !strings.Contains(set, attr) {
			t.Errorf("token cookie lacks %s: %s", attr, set)
		}
	}

	p = b.get("/claim")
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, "Harbor Yoga", "jane@example.com", `autocomplete="username"`, `autocomplete="new-password"`,
		`<label for="password">`, `<label for="confirm">`, `aria-describedby="password-hint"`)
	if strings.Contains(p.body, token) {
		t.Error("the form page shows the token")
	}
	if p.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q on the claim page", p.header.Get("Cache-Control"))
	}

	p = b.post("/claim", url.Values{"username": {"jane@example.com"}, "password": {goodPassword}, "confirm": {goodPassword}})
	wantStatus(t, p, http.StatusSeeOther)
	if p.location() != "/account?m=claimed" {
		t.Fatalf("after claiming, sent to %q", p.location())
	}
	if c := b.cookie(claimCookie); c != nil {
		t.Errorf("token cookie kept after the claim: %+v", c)
	}
	// Signed in: the account page, saying where to sign in next time.
	p = b.follow(p)
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, "Hello, Jane", "you're signed in", `<a href="`+f.srv.URL+`/login?org=harbor-yoga">`)
	got, _ := f.db.Customer(t.Context(), f.org.ID, jane.ID)
	if got.ClaimedAt.IsZero() {
		t.Fatal("customer not claimed")
	}
	// The same link again: already used.
	p = b.follow(b.get("/claim/" + token))
	wantStatus(t, p, http.StatusGone)
	mustContain(t, p, "already set up", "Sign in", "Reset your password")
}

func TestClaimStates(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	b := f.browser()
	open := func(token string) *page {
		t.Helper()
		return b.follow(b.get("/claim/" + token))
	}

	expired := f.customer(f.org, "Ed", "Expired", "ed@example.com")
	expiredTok := f.invite(expired)

	superseded := f.customer(f.org, "Sue", "Superseded", "sue@example.com")
	oldTok := f.invite(superseded)
	newTok := f.invite(superseded)

	moved := f.customer(f.org, "Mo", "Moved", "mo@example.com")
	movedTok := f.invite(moved)
	if _, err := f.svc.ChangeEmail(ctx, f.owner, moved.ID, "mo@new.example"); err != nil {
		t.Fatal(err)
	}

	// Superseded: says a newer invite exists and to use the latest email.
	p := open(oldTok)
	wantStatus(t, p, http.StatusGone)
	mustContain(t, p, "A newer invite was sent", "most recent email from Harbor Yoga")
	// The newer link still works.
	wantStatus(t, open(newTok), http.StatusOK)

	p = open(movedTok)
	wantStatus(t, p, http.StatusGone)
	mustContain(t, p, "old email address", "ask Harbor Yoga to send a new invite", "Send me a new link")

	// Unknown: well-formed but never issued, and malformed.
	p = open(strings.Repeat("A", 43))
	wantStatus(t, p, http.StatusNotFound)
	mustContain(t, p, "We don&#39;t recognise this link", "copy the whole link")
	p = b.get("/claim/not-a-token")
	wantStatus(t, p, http.StatusNotFound)
	mustContain(t, p, "We don&#39;t recognise this link")

	// Expired: names the organization to ask, with its contact.
	f.advance(8 * 24 * time.Hour)
	p = open(expiredTok)
	wantStatus(t, p, http.StatusGone)
	mustContain(t, p, "This invite link has expired", "ask Harbor Yoga to send you a new invite", "mailto:hello@harbor-yoga.example",
		`<form method="post" action="/claim/renew">`, `name="link" value="`+expiredTok+`"`, "Send me a new link")

	// No token cookie at all: open the link, or type the email's code.
	p = f.browser().get("/claim")
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, "open the link in the invite email", `name="code"`, `autocomplete="one-time-code"`)
	p = f.browser().post("/claim", url.Values{"password": {goodPassword}, "confirm": {goodPassword}})
	wantStatus(t, p, http.StatusBadRequest)
	mustContain(t, p, "This page was open too long", `name="code"`)

	// A state page never carries the token, and is not cached.
	if strings.Contains(p.body, oldTok) || p.header.Get("Cache-Control") != "no-store" {
		t.Error("state page leaks the token or is cacheable")
	}
}

func TestClaimFormErrors(t *testing.T) {
	f := newFixture(t)
	jane := f.customer(f.org, "Jane", "Doe", "jane@example.com")
	b := f.browser()
	b.get("/claim/" + f.invite(jane))

	cases := []struct {
		name, pw, confirm, field, want string
	}{
		{"wrong confirmation", goodPassword, goodPassword + "x", "confirm", "The two passwords don&#39;t match"},
		{"common password", "password123456789", "password123456789", "password", "commonly used passwords"},
		{"too short", "plum kettle", "plum kettle", "password", "Use at least 15 characters (you typed 11)"},
		{"built from context", "Harbor Yoga Jane Doe", "Harbor Yoga Jane Doe", "password", "too close to your name"},
		{"empty", "", "", "password", "Enter a new password"},
		{"not text", "plum kettle orbit \xff\xfe sandal", "plum kettle orbit \xff\xfe sandal", "password", "not valid text"},
		{"few different characters", "0000000000000001", "0000000000000001", "password", "uses only 2 different characters"},
		{"guessable", "1234 5678 9012 3456", "1234 5678 9012 3456", "password", "would be easy to guess"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := b.post("/claim", url.Values{"password": {c.pw}, "confirm": {c.confirm}})
			wantStatus(t, p, http.StatusUnprocessableEntity)
			mustContain(t, p, c.want,
				`id="`+c.field+`-error" role="alert"`,
				`aria-invalid="true"`,
				`aria-describedby="`+map[string]string{"password": "password-hint password-error", "confirm": "confirm-error"}[c.field]+`"`)
			if strings.Contains(p.body, `value="`+c.pw) && c.pw != "" {
				t.Error("the page echoes the password")
			}
		})
	}
	got, _ := f.db.Customer(t.Context(), f.org.ID, jane.ID)
	if !got.ClaimedAt.IsZero() {
		t.Fatal("claimed despite the errors")
	}
	// The link still works after all those refusals.
	p := b.post("/claim", url.Values{"password": {goodPassword}, "confirm": {goodPassword}})
	wantStatus(t, p, http.StatusSeeOther)
}

// Fifty browsers submit the same link at once: one account, one success.
func TestClaimConcurrent(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Limits.Token = Limit{Burst: -1} })
	jane := f.customer(f.org, "Jane", "Doe", "jane@example.com")
	token := f.invite(jane)
	const n = 50
	var wg sync.WaitGroup
	statuses := make(chan int, n)
	for i := 0; i < n; i++ {
		b := f.browser()
		u, _ := url.Parse(f.srv.URL)
		b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "__Host-" + claimCookie, Value: token, Path: "/", Secure: true}})
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", f.srv.URL+"/claim", strings.NewReader(url.Values{"password": {goodPassword}, "confirm": {goodPassword}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := b.c.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[http.StatusSeeOther] != 1 || count[http.StatusGone] != n-1 {
		t.Fatalf("statuses %v, want one 303 (signed in) and %d 410", count, n-1)
	}
	if n := storetest.Int(t, f.db, `SELECT count(*) FROM sessions WHERE customer_id = ?`, jane.ID); n != 1 {
		t.Fatalf("%d sessions after fifty claims, want 1", n)
	}
	log, err := f.db.AuditLog(t.Context(), f.org.ID, jane.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	claims := 0
	for _, e := range log {
		if e.Action == "account.claim" {
			claims++
		}
	}
	if claims != 1 {
		t.Fatalf("%d claim audit rows, want 1", claims)
	}
}

func TestCrossSitePost(t *testing.T) {
	f := newFixture(t)
	jane := f.customer(f.org, "Jane", "Doe", "jane@example.com")
	b := f.browser()
	b.get("/claim/" + f.invite(jane))
	for _, path := range []string{"/claim", "/claim/renew", "/login", "/logout", "/account", "/forgot", "/reset"} {
		for _, hdr := range []map[string]string{
			{"Sec-Fetch-Site": "cross-site"},
			{"Origin": "https://evil.example"}, // older browsers: no Sec-Fetch-Site
		} {
			req, _ := http.NewRequest("POST", f.srv.URL+path, strings.NewReader(url.Values{"password": {goodPassword}, "confirm": {goodPassword}, "email": {"jane@example.com"}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			p := b.do(req)
			if p.status != http.StatusForbidden {
				t.Fatalf("POST %s with %v: status %d, want 403", path, hdr, p.status)
			}
			mustContain(t, p, "This form came from another website", "reload the page")
			if p.header.Get("Content-Security-Policy") == "" {
				t.Error("403 page without security headers")
			}
		}
	}
	got, _ := f.db.Customer(t.Context(), f.org.ID, jane.ID)
	if !got.ClaimedAt.IsZero() {
		t.Fatal("a cross-site POST claimed the account")
	}
}

func TestOversizeBody(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	big := url.Values{"password": {strings.Repeat("a", maxFormBytes+1)}}
	for _, path := range []string{"/claim", "/login", "/forgot", "/reset", "/account", "/logout"} {
		p := b.post(path, big)
		wantStatus(t, p, http.StatusRequestEntityTooLarge)
		mustContain(t, p, "That form was too large")
	}
}

func TestTokenRateLimit(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Limits.Token = Limit{Burst: 3, Every: time.Minute} })
	b := f.browser()
	for i := 0; i < 3; i++ {
		wantStatus(t, b.get("/claim/"+strings.Repeat("A", 43)), http.StatusSeeOther)
	}
	p := b.get("/claim/" + strings.Repeat("A", 43))
	wantStatus(t, p, http.StatusTooManyRequests)
	mustContain(t, p, "Too many attempts", "Wait a few minutes")
	if p.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// The form pages and the POST count too: a token can't be guessed through the cookie.
	wantStatus(t, b.get("/claim"), http.StatusTooManyRequests)
	f.advance(time.Minute)
	wantStatus(t, b.get("/claim/"+strings.Repeat("A", 43)), http.StatusSeeOther)
}

// A link's token is a password until it is used: it never reaches the log,
// whichever refusal (rate limit, cross-origin, not found) logs the request.
func TestTokensNotLogged(t *testing.T) {
	var logs syncBuffer
	f := newFixture(t, func(o *Options) {
		o.Limits.Token = Limit{Burst: 1, Every: time.Hour}
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	jane := f.customer(f.org, "Jane", "Doe", "jane@example.com")
	token := f.invite(jane)
	b := f.browser()
	wantStatus(t, b.get("/claim/"+token), http.StatusSeeOther)
	wantStatus(t, b.get("/claim/"+token), http.StatusTooManyRequests)
	wantStatus(t, b.get("/reset/"+token), http.StatusTooManyRequests)
	req, _ := http.NewRequest("POST", f.srv.URL+"/claim/"+token, strings.NewReader("password=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	wantStatus(t, b.do(req), http.StatusForbidden)
	out := logs.String()
	if !strings.Contains(out, "rate limited") || !strings.Contains(out, "cross-origin") {
		t.Fatalf("the refusals were not logged:\n%s", out)
	}
	if strings.Contains(out, token) {
		t.Fatalf("a token reached the log:\n%s", out)
	}
}

// syncBuffer is a bytes.Buffer the server's goroutines may log to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A link opened in its last second still leaves a cookie that expires: a
// sub-second lifetime must not round down to no Max-Age at all, which
// would keep the token for the whole browser session.
func TestTokenCookieAlwaysExpires(t *testing.T) {
	f := newFixture(t)
	jane := f.customer(f.org, "Jane", "Doe", "jane@example.com")
	token := f.invite(jane)
	invs, err := f.db.Invites(t.Context(), f.org.ID, jane.ID)
	if err != nil || len(invs) != 1 {
		t.Fatal(invs, err)
	}
	f.mu.Lock()
	f.now = invs[0].ExpiresAt.Add(-500 * time.Millisecond)
	f.mu.Unlock()
	p := f.browser().get("/claim/" + token)
	wantStatus(t, p, http.StatusSeeOther)
	c := p.header.Get("Set-Cookie")
	if !strings.Contains(c, "Max-Age=1") {
		t.Fatalf("token cookie %q: want Max-Age=1", c)
	}
}

// Claiming signs the customer in with a new session: a session the browser
// had (someone else's, on a shared computer) is ended, not reused, and the
// link's cookie is gone.
func TestClaimSignsInWithANewSession(t *testing.T) {
	f := newFixture(t)
	f.claimed(f.org, "Bo", "Chen", "bo@example.com", goodPassword)
	jane := f.customer(f.org, "Jane", "Doe", "jane@example.com")
	b := f.browser()
	b.signIn("harbor-yoga", "bo@example.com", goodPassword)
	old := b.cookie(sessionCookie).Value

	b.get("/claim/" + f.invite(jane))
	p := b.post("/claim", url.Values{"password": {goodPassword}, "confirm": {goodPassword}})
	wantStatus(t, p, http.StatusSeeOther)
	set := strings.Join(p.header.Values("Set-Cookie"), "\n")
	for _, want := range []string{"__Host-" + claimCookie + "=; Path=/; Max-Age=0", "__Host-" + sessionCookie + "="} {
		if !strings.Contains(set, want) {
			t.Errorf("claim response lacks cookie %q:\n%s", want, set)
		}
	}
	c := b.cookie(sessionCookie)
	if c == nil || c.Value == old {
		t.Fatalf("session after claiming: %+v (before: %s)", c, old)
	}
	if b.cookie(claimCookie) != nil {
		t.Error("the claim cookie outlived the claim")
	}
	// The new session is Jane's; Bob's is over.
	mustContain(t, b.get("/account"), "Hello, Jane", "jane@example.com")
	bob := f.browser()
	u, _ := url.Parse(f.srv.URL)
	bob.c.Jar.SetCookies(u, []*http.Cookie{{Name: "__Host-" + sessionCookie, Value: old, Path: "/", Secure: true}})
	if p := bob.get("/account"); p.status != http.StatusSeeOther {
		t.Errorf("the browser's earlier session still works: %d", p.status)
	}
	if f.auditCount("account.signin") != 2 { // Bob's sign-in, Jane's claim
		t.Errorf("%d sign-ins audited, want 2", f.auditCount("account.signin"))
	}
}

package web

import (
	"context"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"frontdesk/claim"
	"frontdesk/store/storetest"
)

// browserFrom is a browser whose connections leave from the loopback
// address ip (127.0.0.2, 127.0.0.3, …; Linux routes all of 127/8 to lo), so
// the server sees a different client address per browser, as it would for
// people on different networks.
func (f *fixture) browserFrom(ip string) *browser {
	f.t.Helper()
	tr := f.srv.Client().Transport.(*http.Transport).Clone()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	tr.DialContext = d.DialContext
	jar, _ := cookiejar.New(nil)
	f.t.Cleanup(tr.CloseIdleConnections)
	return &browser{f: f, c: &http.Client{Transport: tr, Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) tryPassword(email, password string) *page {
	b.f.t.Helper()
	return b.post("/login", url.Values{"org": {"harbor-yoga"}, "email": {email}, "password": {password}})
}

func retryAfter(t *testing.T, p *page) time.Duration {
	t.Helper()
	s, err := strconv.Atoi(p.header.Get("Retry-After"))
	if err != nil {
		t.Fatalf("429 without a usable Retry-After: %q", p.header.Get("Retry-After"))
	}
	return time.Duration(s) * time.Second
}

// noAddressLimit turns off the in-memory per-address limit, so these tests
// see the sign-in throttle alone.
func noAddressLimit(o *Options) { o.Limits.SignIn = Limit{Burst: -1} }

func (f *fixture) throttleRows(email string) int {
	f.t.Helper()
	var n int
	if err := storetest.Raw(f.t, f.db).QueryRowContext(context.Background(), `SELECT count(*) FROM signin_failures WHERE email = ?`, email).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// Someone typing the customer's email with wrong passwords from one address
// is slowed down there, more with each further failure; the customer, from
// another address, still signs in.
func TestSignInThrottlePerAddress(t *testing.T) {
	f := newFixture(t, noAddressLimit)
	f.claimed(f.org, "Jane", "Doe", "jane@example.com", goodPassword)
	attacker, customer := f.browserFrom("127.0.0.2"), f.browserFrom("127.0.0.3")

	for i := range claim.FreeSignInFailures {
		if p := attacker.tryPassword("jane@example.com", "guess number "+itoa(i)+" of many"); p.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d, want 401", i+1, p.status)
		}
	}
	p := attacker.tryPassword("jane@example.com", "guess number six of many")
	wantStatus(t, p, http.StatusTooManyRequests)
	mustContain(t, p, "too many failed sign-in attempts for this email address from your connection", "reset your password")
	if d := retryAfter(t, p); d != time.Minute {
		t.Errorf("first pause %s, want 1m", d)
	}
	// Even the right password waits: the pause is what stops guessing.
	wantStatus(t, attacker.tryPassword("jane@example.com", goodPassword), http.StatusTooManyRequests)

	// The customer, elsewhere, is not affected.
	customer.signIn("harbor-yoga", "jane@example.com", goodPassword)

	// Each further failure doubles the pause.
	for _, want := range []time.Duration{2 * time.Minute, 4 * time.Minute, 8 * time.Minute} {
		f.advance(want/2 - time.Second)
		wantStatus(t, attacker.tryPassword("jane@example.com", "still guessing wrong"), http.StatusTooManyRequests)
		f.advance(time.Second)
		wantStatus(t, attacker.tryPassword("jane@example.com", "still guessing wrong"), http.StatusUnauthorized)
		p := attacker.tryPassword("jane@example.com", "still guessing wrong")
		wantStatus(t, p, http.StatusTooManyRequests)
		if d := retryAfter(t, p); d != want {
			t.Errorf("pause %s, want %s", d, want)
		}
	}
	// Capped at an hour.
	for range 10 {
		f.advance(time.Hour)
		wantStatus(t, attacker.tryPassword("jane@example.com", "still guessing wrong"), http.StatusUnauthorized)
	}
	if d := retryAfter(t, attacker.tryPassword("jane@example.com", "x x x x x x x x")); d != time.Hour {
		t.Errorf("pause after many failures %s, want the 1h cap", d)
	}

	// A success from an address clears that address's count only.
	f.advance(time.Hour)
	attacker.signIn("harbor-yoga", "jane@example.com", goodPassword)
	if n := f.throttleRows("jane@example.com"); n != 0 {
		t.Errorf("%d throttle rows after a success", n)
	}
	// An email without an account is throttled the same way (the pause
	// tells nothing).
	for range claim.FreeSignInFailures {
		wantStatus(t, attacker.tryPassword("nobody@example.com", "whatever it is now"), http.StatusUnauthorized)
	}
	wantStatus(t, attacker.tryPassword("NOBODY@example.com", "whatever it is now"), http.StatusTooManyRequests)
}

// A completed password reset clears every count for the email: the
// customer proved they hold the mailbox.
func TestSignInThrottleClearedByReset(t *testing.T) {
	f := newFixture(t, noAddressLimit)
	f.claimed(f.org, "Jane", "Doe", "jane@example.com", goodPassword)
	attacker, customer := f.browserFrom("127.0.0.2"), f.browserFrom("127.0.0.3")
	for range claim.FreeSignInFailures + 1 {
		attacker.tryPassword("jane@example.com", "wrong wrong wrong wrong")
	}
	for range 2 {
		customer.tryPassword("jane@example.com", "I forgot it again")
	}
	if n := f.throttleRows("jane@example.com"); n != 2 {
		t.Fatalf("%d throttle rows, want 2", n)
	}
	wantStatus(t, customer.post("/forgot", url.Values{"org": {"harbor-yoga"}, "email": {"jane@example.com"}}), http.StatusOK)
	if n := f.throttleRows("jane@example.com"); n != 2 {
		t.Fatalf("asking for a reset cleared the counts (%d rows left): anyone can ask", n)
	}
	wantStatus(t, customer.get("/reset/"+f.lastReset("jane@example.com")), http.StatusSeeOther)
	p := customer.post("/reset", url.Values{"password": {"saffron lantern violet quay"}, "confirm": {"saffron lantern violet quay"}})
	wantStatus(t, p, http.StatusOK)
	if n := f.throttleRows("jane@example.com"); n != 0 {
		t.Fatalf("%d throttle rows after a completed reset, want 0", n)
	}
	wantStatus(t, attacker.tryPassword("jane@example.com", "wrong wrong wrong wrong"), http.StatusUnauthorized)
	customer.signIn("harbor-yoga", "jane@example.com", "saffron lantern violet quay")
}

// Many addresses together (a botnet) hit the per-email ceiling: the email is
// paused for everyone, until the failures age out of the window or the
// customer resets the password.
func TestSignInThrottleCeiling(t *testing.T) {
	f := newFixture(t, noAddressLimit)
	f.claimed(f.org, "Jane", "Doe", "jane@example.com", goodPassword)
	for i := range claim.SignInCeiling - 1 {
		b := f.browserFrom("127.0.1." + itoa(i+1))
		for range 3 {
			wantStatus(t, b.tryPassword("jane@example.com", "botnet guess "+itoa(i)), http.StatusUnauthorized)
		}
	}
	// Below the ceiling, a clean address signs in.
	f.browserFrom("127.0.2.1").signIn("harbor-yoga", "jane@example.com", goodPassword)
	wantStatus(t, f.browserFrom("127.0.1.250").tryPassword("jane@example.com", "one more botnet guess"), http.StatusUnauthorized)

	for _, email := range []string{"jane@example.com", "JANE@example.com"} {
		p := f.browserFrom("127.0.2.2").tryPassword(email, goodPassword)
		wantStatus(t, p, http.StatusTooManyRequests)
		mustContain(t, p, "from many places", "reset your password")
		if d := retryAfter(t, p); d <= 0 || d > time.Hour {
			t.Errorf("Retry-After %s", d)
		}
	}
	// Unknown emails hit the ceiling the same way.
	for i := range claim.SignInCeiling {
		f.browserFrom("127.0.3."+itoa(i+1)).tryPassword("nobody@example.com", "botnet guess")
	}
	wantStatus(t, f.browserFrom("127.0.2.2").tryPassword("nobody@example.com", "botnet guess"), http.StatusTooManyRequests)

	// An hour after the last of those failures, the email opens again.
	f.advance(time.Hour + time.Second)
	f.browserFrom("127.0.2.2").signIn("harbor-yoga", "jane@example.com", goodPassword)
	if !strings.Contains(f.browserFrom("127.0.2.3").tryPassword("jane@example.com", "wrong again here").body, "don&#39;t match") {
		t.Error("a wrong password after the window is not an ordinary refusal")
	}
}

// The throttle knows an IPv6 client by its /64, as the per-address limit
// does: a new address in the same /64 gets no new free tries.
func TestSignInThrottleIPv6(t *testing.T) {
	f := newFixture(t, noAddressLimit, func(o *Options) {
		o.ClientAddr = func(r *http.Request) string { return r.Header.Get("X-Test-Client") }
	})
	f.claimed(f.org, "Jane", "Doe", "jane@example.com", goodPassword)
	try := func(client, password string) *page {
		req, _ := http.NewRequest("POST", f.srv.URL+"/login", strings.NewReader(url.Values{"email": {"jane@example.com"}, "password": {password}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Test-Client", client)
		return f.browser().do(req)
	}
	for i := range claim.FreeSignInFailures {
		wantStatus(t, try("2001:db8:0:1::"+itoa(i+1), "wrong wrong wrong wrong"), http.StatusUnauthorized)
	}
	wantStatus(t, try("2001:db8:0:1::ffff", "wrong wrong wrong wrong"), http.StatusTooManyRequests)
	if p := try("2001:db8:0:2::1", goodPassword); p.status != http.StatusSeeOther {
		t.Fatalf("another /64 is another client: status %d", p.status)
	}
}

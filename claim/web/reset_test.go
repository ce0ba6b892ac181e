package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"frontdesk/claim"
	"frontdesk/store/storetest"
)

// lastReset returns the token of the newest reset email to addr.
func (f *fixture) lastReset(addr string) string {
	f.t.Helper()
	var id int64
	err := storetest.Raw(f.t, f.db).QueryRowContext(context.Background(), `SELECT max(id) FROM outbox WHERE kind = 'reset' AND to_addr = ?`, addr).Scan(&id)
	if err != nil || id == 0 {
		f.t.Fatalf("no reset email to %s (%v)", addr, err)
	}
	return f.outboxToken(id)
}

func (f *fixture) resetEmails() int {
	f.t.Helper()
	var n int
	storetest.Raw(f.t, f.db).QueryRowContext(context.Background(), `SELECT count(*) FROM outbox WHERE kind = 'reset'`).Scan(&n)
	return n
}

func TestResetFlow(t *testing.T) {
	f := newFixture(t)
	jane := f.claimed(f.org, "Jane", "Doe", "jane@example.com", goodPassword)
	phone, laptop := f.browser(), f.browser()
	phone.signIn("harbor-yoga", "jane@example.com", goodPassword)
	laptop.signIn("", "jane@example.com", goodPassword)

	b := f.browser()
	p := b.get("/forgot?org=harbor-yoga")
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, "Reset your password", "Harbor Yoga", `<label for="email">`, `name="org" value="harbor-yoga"`)
	p = b.post("/forgot", url.Values{"org": {"harbor-yoga"}, "email": {"jane@example.com"}})
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, "Check your email", "works for one hour")
	if f.woken != 1 {
		t.Errorf("outbox woken %d times, want 1", f.woken)
	}
	token := f.lastReset("jane@example.com")

	p = b.get("/reset/" + token)
	if p.status != http.StatusSeeOther || p.location() != "/reset" || b.cookie(resetCookie) == nil {
		t.Fatalf("reset link: %d %q", p.status, p.location())
	}
	p = b.get("/reset")
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, "Choose a new password", "Harbor Yoga", `autocomplete="username" value="jane@example.com"`)
	p = b.post("/reset", url.Values{"password": {"saffron lantern violet quay"}, "confirm": {"saffron lantern violet"}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	mustContain(t, p, "don&#39;t match")
	p = b.post("/reset", url.Values{"password": {"saffron lantern violet quay"}, "confirm": {"saffron lantern violet quay"}})
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, "Your password was changed", "signed out", `href="/login?org=harbor-yoga"`)

	// Every session is gone.
	for _, br := range []*browser{phone, laptop} {
		if p := br.get("/account"); p.status != http.StatusSeeOther {
			t.Fatalf("a session survived the reset: %d", p.status)
		}
	}
	if n, _ := f.db.CountCustomerSessions(t.Context(), f.org.ID, jane.ID); n != 0 {
		t.Fatalf("%d sessions after reset", n)
	}
	// Old password refused, new one works; the link is spent.
	wantStatus(t, b.post("/login", url.Values{"email": {"jane@example.com"}, "password": {goodPassword}}), http.StatusUnauthorized)
	b.signIn("harbor-yoga", "jane@example.com", "saffron lantern violet quay")
	late := f.browser()
	mustContain(t, late.follow(late.get("/reset/"+token)), "already used")
	if f.auditCount("account.reset_request") != 1 || f.auditCount("account.password_reset") != 1 {
		t.Error("reset not audited")
	}
}

// The answer never says whether the address has an account.
func TestForgotSameAnswer(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Limits.Forgot = Limit{Burst: -1} })
	f.claimed(f.org, "Jane", "Doe", "jane@example.com", goodPassword)
	f.customer(f.org, "Una", "Unclaimed", "una@example.com")
	answers := map[string]*page{}
	for _, email := range []string{"jane@example.com", "nobody@example.com", "una@example.com"} {
		for _, org := range []string{"harbor-yoga", "", "no-such-org"} {
			p := f.browser().post("/forgot", url.Values{"org": {org}, "email": {email}})
			wantStatus(t, p, http.StatusOK)
			answers[email+"|"+org] = p
		}
	}
	norm := func(key string) string {
		email, org, _ := strings.Cut(key, "|")
		body := strings.ReplaceAll(answers[key].body, email, "EMAIL")
		if org == "no-such-org" {
			org = "" // an unknown slug is dropped: the page is the no-org page
		}
		return org + body
	}
	for _, org := range []string{"harbor-yoga", ""} {
		want := norm("jane@example.com|" + org)
		for _, email := range []string{"nobody@example.com", "una@example.com"} {
			if got := norm(email + "|" + org); got != want {
				t.Errorf("answer for %s (org %q) differs from a real account's:\n%s\n---\n%s", email, org, got, want)
			}
		}
	}
	if got := norm("nobody@example.com|no-such-org"); got != norm("jane@example.com|") {
		t.Error("unknown organization answers differently")
	}
	// Only the claimed account got email: with the org, without, and with
	// the unknown slug (dropped, so the same as without).
	if n := f.resetEmails(); n != 3 {
		t.Fatalf("%d reset emails, want 3", n)
	}
	// A malformed address is a form error (that tells nothing about accounts).
	p := f.browser().post("/forgot", url.Values{"email": {"jane@"}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	mustContain(t, p, `id="email-error" role="alert"`, "Enter a valid email address")
}

func TestResetLinkStates(t *testing.T) {
	f := newFixture(t)
	f.claimed(f.org, "Jane", "Doe", "jane@example.com", goodPassword)
	ask := func() string {
		t.Helper()
		wantStatus(t, f.browser().post("/forgot", url.Values{"email": {"jane@example.com"}}), http.StatusOK)
		return f.lastReset("jane@example.com")
	}
	first := ask()
	second := ask()
	b := f.browser()
	p := b.follow(b.get("/reset/" + first))
	wantStatus(t, p, http.StatusGone)
	mustContain(t, p, "A newer reset link was sent", `href="/forgot?org=harbor-yoga"`)
	wantStatus(t, b.follow(b.get("/reset/"+second)), http.StatusOK)
	f.advance(claim.ResetTTL)
	p = b.follow(b.get("/reset/" + second))
	wantStatus(t, p, http.StatusGone)
	mustContain(t, p, "This reset link has expired", "Email me a new reset link")
	// A claim token is not a reset token, and vice versa.
	c := f.customer(f.org, "Una", "Unclaimed", "una@example.com")
	p = b.follow(b.get("/reset/" + f.invite(c)))
	wantStatus(t, p, http.StatusNotFound)
	p = b.follow(b.get("/claim/" + second))
	wantStatus(t, p, http.StatusNotFound)
	p = f.browser().get("/reset")
	wantStatus(t, p, http.StatusBadRequest)
	mustContain(t, p, "Open the link from your reset email")
}

func TestResetLimits(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.ClientAddr = func(r *http.Request) string { return r.Header.Get("X-Test-Client") }
	})
	jane := f.claimed(f.org, "Jane", "Doe", "jane@example.com", goodPassword)
	clinic := f.newOrg("Seaside Clinic")
	f.claimed(clinic, "Jane", "Doe", "jane@example.com", goodPassword)
	forgot := func(client, org string) *page {
		email := "jane@example.com"
		if org == "" {
			email = "nobody@example.com"
		}
		req, _ := http.NewRequest("POST", f.srv.URL+"/forgot", strings.NewReader(url.Values{"email": {email}, "org": {org}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Test-Client", client)
		return f.browser().do(req)
	}
	// Per client address.
	for i := 0; i < defaultLimits.Forgot.Burst; i++ {
		wantStatus(t, forgot("192.0.2.9", ""), http.StatusOK)
	}
	p := forgot("192.0.2.9", "")
	wantStatus(t, p, http.StatusTooManyRequests)
	mustContain(t, p, "Too many attempts")

	// Per account: the answer stays the same, the emails stop.
	for i := 0; i < claim.ResetsPerAccount+2; i++ {
		wantStatus(t, forgot("198.51.100."+itoa(i+1), "harbor-yoga"), http.StatusOK)
	}
	var n int
	storetest.Raw(f.t, f.db).QueryRowContext(t.Context(), `SELECT count(*) FROM invites WHERE customer_id = ? AND purpose = 'reset'`, jane.ID).Scan(&n)
	if n != claim.ResetsPerAccount {
		t.Fatalf("%d reset links for one account within the hour, want %d", n, claim.ResetsPerAccount)
	}
	if n := f.auditCount("account.reset_throttled"); n != 2 {
		t.Errorf("%d throttled resets audited, want 2", n)
	}
	if f.resetEmails() != claim.ResetsPerAccount {
		t.Fatalf("%d reset emails", f.resetEmails())
	}
	// Per mailbox, across organizations: 3 + 2 more to the clinic account = 5.
	for i := 0; i < 3; i++ {
		forgot("203.0.113."+itoa(i+1), "seaside-clinic")
	}
	if got := f.resetEmails(); got != claim.ResetsPerMailbox {
		t.Fatalf("%d reset emails to one mailbox in the hour, want %d", got, claim.ResetsPerMailbox)
	}
	f.advance(claim.ResetWindow + time.Second)
	forgot("203.0.113.50", "harbor-yoga")
	if got := f.resetEmails(); got != claim.ResetsPerMailbox+1 {
		t.Fatalf("after the window: %d emails, want %d", got, claim.ResetsPerMailbox+1)
	}
}

package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"frontdesk/claim"
	"frontdesk/store"
	"frontdesk/store/storetest"
)

// renewForm is the "send me a new link" form's hidden value on a page.
var renewForm = regexp.MustCompile(`<form method="post" action="/claim/renew">\s*<input type="hidden" name="link" value="([^"]+)">`)

// lastInvite is the newest invite email to addr: its outbox id (0: none).
func (f *fixture) lastInvite(addr string) int64 {
	f.t.Helper()
	var id int64
	storetest.Scan(f.t, f.db, `SELECT coalesce(max(id), 0) FROM outbox WHERE kind = 'invite' AND to_addr = ?`, []any{addr}, &id)
	return id
}

// An expired link's page offers a new link; asking for it emails a fresh
// invite to the address on file (never one typed on the page), wakes the
// outbox, and the new link works.
func TestRenewExpiredLink(t *testing.T) {
	f := newFixture(t)
	jane := f.customer(f.org, "Jane", "Doe", "jane@example.com")
	old := f.invite(jane)
	f.advance(8 * 24 * time.Hour)
	b := f.browser()
	p := b.follow(b.get("/claim/" + old))
	wantStatus(t, p, http.StatusGone)
	m := renewForm.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("the expired link's page offers no new link:\n%s", p.body)
	}
	before := f.lastInvite("jane@example.com")

	// Whatever else the form carries, the link goes to the address on file.
	p = b.post("/claim/renew", url.Values{"link": {m[1]}, "email": {"mallory@evil.example"}})
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, "Check your email", "the email address Harbor Yoga has on file for you", "Only the newest link works", "mailto:hello@harbor-yoga.example")
	if strings.Contains(p.body, "jane@example.com") {
		t.Error("the answer shows the address on file")
	}
	id := f.lastInvite("jane@example.com")
	if id == before {
		t.Fatal("no new invite email")
	}
	if n := storetest.Int(t, f.db, `SELECT count(*) FROM outbox WHERE to_addr = 'mallory@evil.example'`); n != 0 {
		t.Fatal("a link went to an address typed on the page")
	}
	if f.woken != 1 {
		t.Errorf("outbox woken %d times, want 1", f.woken)
	}
	if f.auditCount("invite.renew") != 1 {
		t.Error("renewal not audited")
	}
	// The new link opens the password form; the old one stays dead.
	nb := f.browser()
	p = nb.follow(nb.get("/claim/" + f.outboxToken(id)))
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, "Set up your account", "jane@example.com")
}

// The answer is the same whatever became of the request: sent, refused for
// a withdrawn link, an account claimed meanwhile, the limits, a live link,
// an unknown or missing one. Nothing is sent for any but the first.
func TestRenewAnswersTheSame(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Limits.Renew = Limit{Burst: -1} })
	ctx := context.Background()
	answer := func(link string) string {
		t.Helper()
		p := f.browser().post("/claim/renew", url.Values{"link": {link}})
		wantStatus(t, p, http.StatusOK)
		return p.body
	}
	jane := f.customer(f.org, "Jane", "Doe", "jane@example.com")
	expired := f.invite(jane)
	ann := f.customer(f.org, "Ann", "Archived", "ann@example.com")
	withdrawn := f.invite(ann)
	storetest.Write(t, f.db, func(tx *store.Tx) (int, error) { return 0, tx.ArchiveCustomer(ctx, f.org.ID, ann.ID) })
	cy := f.customer(f.org, "Cy", "Claimed", "cy@example.com")
	superseded := f.invite(cy)
	if _, err := f.svc.Redeem(ctx, store.PurposeClaim, f.invite(cy), goodPassword); err != nil {
		t.Fatal(err)
	}
	f.advance(8 * 24 * time.Hour)
	di := f.customer(f.org, "Di", "Live", "di@example.com")
	live := f.invite(di)

	sent := answer(expired)
	emails := storetest.Int(t, f.db, `SELECT count(*) FROM outbox`)
	for name, link := range map[string]string{
		"withdrawn": withdrawn, "claimed since": superseded, "live": live,
		"unknown": strings.Repeat("A", 43), "mangled": "not-a-token", "missing": "",
	} {
		if got := answer(link); got != sent {
			if name == "unknown" || name == "mangled" || name == "missing" {
				// No organization to name: the answer differs in the
				// name only.
				got = strings.ReplaceAll(got, "Customer account", "Harbor Yoga")
				got = strings.ReplaceAll(got, "the studio", "Harbor Yoga")
				if !strings.Contains(got, "Check your email") {
					t.Errorf("%s: answer\n%s", name, got)
				}
				continue
			}
			t.Errorf("%s: the answer differs:\n%s\nwant\n%s", name, got, sent)
		}
	}
	// The limit per customer: the fourth within the hour sends nothing, and
	// says so no differently.
	answer(expired)
	answer(expired)
	if got := answer(expired); got != sent {
		t.Errorf("past the limit the answer differs:\n%s", got)
	}
	if n := storetest.Int(t, f.db, `SELECT count(*) FROM outbox`); n != emails+2 {
		t.Errorf("%d emails after the refused requests and two more renewals, want %d", n, emails+2)
	}
	if f.auditCount("invite.renew_refused") != 2 { // the withdrawn link, the limit
		t.Errorf("%d refused renewals audited, want 2", f.auditCount("invite.renew_refused"))
	}
}

// A client address gets a few requests, then 429; and the form only takes
// this site's own posts.
func TestRenewLimits(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Limits.Renew = Limit{Burst: 2, Every: time.Hour} })
	b := f.browser()
	for i := 0; i < 2; i++ {
		wantStatus(t, b.post("/claim/renew", url.Values{"link": {strings.Repeat("A", 43)}}), http.StatusOK)
	}
	p := b.post("/claim/renew", url.Values{"link": {strings.Repeat("A", 43)}})
	wantStatus(t, p, http.StatusTooManyRequests)
	mustContain(t, p, "Too many attempts")

	jane := f.customer(f.org, "Jane", "Doe", "jane@example.com")
	tok := f.invite(jane)
	f.advance(8 * 24 * time.Hour)
	req, _ := http.NewRequest("POST", f.srv.URL+"/claim/renew", strings.NewReader(url.Values{"link": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	wantStatus(t, f.browser().do(req), http.StatusForbidden)
	if f.auditCount("invite.renew") != 0 {
		t.Error("a cross-site post renewed a link")
	}
}

// A code typed on the claim page whose invite expired gets the same offer,
// carrying the email and code.
func TestRenewFromACode(t *testing.T) {
	f := newFixture(t)
	jane := f.customer(f.org, "Jane", "Doe", "jane@example.com")
	code := f.inviteCode(jane)
	f.advance(8 * 24 * time.Hour)
	b := f.browser()
	p := b.post("/claim", url.Values{"email": {"jane@example.com"}, "code": {code}})
	wantStatus(t, p, http.StatusGone)
	m := renewForm.FindStringSubmatch(p.body)
	if m == nil || !strings.HasPrefix(m[1], codeCookiePrefix) {
		t.Fatalf("no renewal on the expired code's page:\n%s", p.body)
	}
	before := f.lastInvite("jane@example.com")
	wantStatus(t, b.post("/claim/renew", url.Values{"link": {m[1]}}), http.StatusOK)
	if f.lastInvite("jane@example.com") == before {
		t.Error("no new invite for the expired code")
	}
}

// A claimed customer's old links lead to sign-in and "forgot password",
// and offer no new link.
func TestClaimedCustomersOldLinks(t *testing.T) {
	f := newFixture(t)
	jane := f.customer(f.org, "Jane", "Doe", "jane@example.com")
	first := f.invite(jane)
	second := f.invite(jane)
	if _, err := f.svc.Redeem(context.Background(), store.PurposeClaim, second, goodPassword); err != nil {
		t.Fatal(err)
	}
	f.advance(8 * 24 * time.Hour)
	for _, tok := range []string{first, second} {
		b := f.browser()
		p := b.follow(b.get("/claim/" + tok))
		wantStatus(t, p, http.StatusGone)
		mustContain(t, p, "Your account is already set up", `href="/login?org=harbor-yoga"`, `href="/forgot?org=harbor-yoga"`)
		if renewForm.MatchString(p.body) {
			t.Error("a claimed customer's old link offers a new one")
		}
	}
	if l, _ := f.svc.Lookup(context.Background(), store.PurposeClaim, first); l.State != claim.LinkClaimed {
		t.Errorf("first link: %s", l.State)
	}
}

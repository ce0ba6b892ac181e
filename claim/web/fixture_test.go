package web

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"frontdesk/claim"
	"frontdesk/store"
)

// fixture is a real database file, a claim.Service, an organization with an
// owner, and the web handler behind a TLS test server (so Secure, __Host-
// cookies behave as in production).
type fixture struct {
	t     testing.TB
	db    *store.DB
	svc   *claim.Service
	h     *handler
	srv   *httptest.Server
	org   *store.Org
	owner *store.Staff

	mu  sync.Mutex
	now time.Time

	woken int
}

type fixtureOpt func(*Options)

func newFixture(t testing.TB, opts ...fixtureOpt) *fixture {
	t.Helper()
	return newFixtureTLS(t, true, opts...)
}

// newFixtureTLS is newFixture with plain HTTP when tls is false (a real
// browser would refuse the test server's certificate).
func newFixtureTLS(t testing.TB, tls bool, opts ...fixtureOpt) *fixture {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{t: t, db: db, now: time.Date(2026, 11, 23, 14, 5, 0, 0, time.UTC)}
	db.Now = func() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
	f.srv = httptest.NewUnstartedServer(nil)
	if tls {
		f.srv.StartTLS()
	} else {
		f.srv.Start()
	}
	t.Cleanup(f.srv.Close)
	f.svc = &claim.Service{DB: db, BaseURL: f.srv.URL}
	o := Options{Service: f.svc, Wake: func() { f.mu.Lock(); f.woken++; f.mu.Unlock() }}
	for _, fn := range opts {
		fn(&o)
	}
	f.h = newHandler(o)
	f.h.forgotFloor, f.h.renewFloor = 0, 0 // tests compare answers, not timing
	f.srv.Config.Handler = f.h.chain()

	ctx := context.Background()
	f.org = f.newOrg("Harbor Yoga")
	f.owner = &store.Staff{OrgID: f.org.ID, Email: "maya@harbor.example", Name: "Maya Harbor", Role: store.RoleOwner}
	if err := db.Tx(ctx, func(tx *store.Tx) error { return tx.CreateStaff(ctx, f.owner) }); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) newOrg(name string) *store.Org {
	f.t.Helper()
	o := &store.Org{Name: name, TimeZone: "Europe/London", Notifications: true, ReplyTo: "hello@" + store.Slugify(name) + ".example"}
	if err := f.db.Tx(context.Background(), func(tx *store.Tx) error { return tx.CreateOrg(context.Background(), o) }); err != nil {
		f.t.Fatal(err)
	}
	return o
}

// advance moves the database clock (and so every limit and expiry).
func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func (f *fixture) customer(org *store.Org, first, last, email string) *store.Customer {
	f.t.Helper()
	c := &store.Customer{OrgID: org.ID, FirstName: first, LastName: last, Email: email}
	if err := f.db.Tx(context.Background(), func(tx *store.Tx) error { return tx.CreateCustomer(context.Background(), c) }); err != nil {
		f.t.Fatal(err)
	}
	return c
}

var linkRE = regexp.MustCompile(`/(claim|reset)/([A-Za-z0-9_-]{43})\b`)

// outboxToken reads the token from a queued message's text body, the way a
// customer would: from the email, as the outbox worker gets it.
func (f *fixture) outboxToken(outboxID int64) string {
	f.t.Helper()
	body := f.outboxText(outboxID)
	m := linkRE.FindStringSubmatch(body)
	if m == nil {
		f.t.Fatalf("no link in message %d:\n%s", outboxID, body)
	}
	return m[2]
}

// outboxText is a queued message's text body as the outbox worker gets it
// (leased, its body opened, then given back).
func (f *fixture) outboxText(outboxID int64) string {
	f.t.Helper()
	ctx := context.Background()
	var msgs []*store.OutboxMessage
	err := f.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if msgs, err = tx.LeaseIDs(ctx, "test", time.Minute, []int64{outboxID}); err != nil {
			return err
		}
		_, err = tx.ReleaseLeases(ctx, "test", []int64{outboxID})
		return err
	})
	if err != nil || len(msgs) != 1 || msgs[0].BodyErr != nil {
		f.t.Fatalf("message %d: %v %+v", outboxID, err, msgs)
	}
	return msgs[0].Text
}

// invite sends c an invite as the owner and returns the emailed token.
func (f *fixture) invite(c *store.Customer) string {
	f.t.Helper()
	owner := f.owner
	if c.OrgID != f.org.ID {
		owner = f.ownerOf(c.OrgID)
	}
	sent, err := f.svc.Issue(context.Background(), owner, c.ID, store.PurposeClaim)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.outboxToken(sent.OutboxID)
}

func (f *fixture) ownerOf(orgID int64) *store.Staff {
	f.t.Helper()
	s, err := f.db.FirstOwner(context.Background(), orgID)
	if err == nil {
		return s
	}
	s = &store.Staff{OrgID: orgID, Email: "owner" + itoa(int(orgID)) + "@org.example", Name: "Owner", Role: store.RoleOwner}
	if err := f.db.Tx(context.Background(), func(tx *store.Tx) error { return tx.CreateStaff(context.Background(), s) }); err != nil {
		f.t.Fatal(err)
	}
	return s
}

// claimed creates a customer who has claimed their account with password.
func (f *fixture) claimed(org *store.Org, first, last, email, password string) *store.Customer {
	f.t.Helper()
	c := f.customer(org, first, last, email)
	if _, err := f.svc.Redeem(context.Background(), store.PurposeClaim, f.invite(c), password); err != nil {
		f.t.Fatal(err)
	}
	return c
}

// browser is a cookie-keeping client that does not follow redirects, so
// tests see each 303, and that sends what a browser sends on a same-origin
// form post.
type browser struct {
	f *fixture
	c *http.Client
}

func (f *fixture) browser() *browser {
	jar, _ := cookiejar.New(nil)
	c := f.srv.Client()
	c = &http.Client{Transport: c.Transport, Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &browser{f: f, c: c}
}

type page struct {
	status int
	header http.Header
	body   string
}

func (p *page) location() string { return p.header.Get("Location") }

func (b *browser) do(req *http.Request) *page {
	b.f.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.f.t.Fatal(err)
	}
	return &page{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func (b *browser) get(path string) *page {
	b.f.t.Helper()
	req, _ := http.NewRequest("GET", b.f.srv.URL+path, nil)
	req.Header.Set("Sec-Fetch-Site", "none")
	return b.do(req)
}

// follow GETs path and follows redirects (as a browser would), returning the
// last page.
func (b *browser) follow(p *page) *page {
	b.f.t.Helper()
	for i := 0; i < 5 && p.status >= 300 && p.status < 400; i++ {
		p = b.get(p.location())
	}
	return p
}

func (b *browser) post(path string, form url.Values) *page {
	b.f.t.Helper()
	req, _ := http.NewRequest("POST", b.f.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", b.f.srv.URL)
	return b.do(req)
}

func (b *browser) cookie(base string) *http.Cookie {
	u, _ := url.Parse(b.f.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "__Host-"+base {
			return c
		}
	}
	return nil
}

func mustContain(t testing.TB, p *page, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(p.body, w) {
			t.Errorf("page (status %d) lacks %q:\n%s", p.status, w, p.body)
		}
	}
}

func wantStatus(t testing.TB, p *page, want int) {
	t.Helper()
	if p.status != want {
		t.Fatalf("status %d, want %d:\n%s", p.status, want, p.body)
	}
}

const goodPassword = "plum kettle orbit sandal"

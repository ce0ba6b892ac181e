package web

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"frontdesk/mailer"
	"frontdesk/store"
)

// The customer's first minutes in headless Chromium at a phone's size
// (390×844). Every page a test looks at is photographed at 390 px wide
// (kept with `go test -artifacts`) and checked for sideways scrolling. The
// tests skip without Chromium unless FRONTDESK_REQUIRE_BROWSER=1 (.ci/run
// installs Chromium and sets it).

const phoneWidth = 390

// phone is a Chromium tab at a phone's size on the fixture's site.
type phone struct {
	t   *testing.T
	f   *fixture
	ctx context.Context
}

func newPhone(t *testing.T, f *fixture) *phone {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("FRONTDESK_REQUIRE_BROWSER") == "1" {
			t.Fatalf("FRONTDESK_REQUIRE_BROWSER=1 but chromium is not on PATH: %v", err)
		}
		t.Skip("chromium not installed; set FRONTDESK_REQUIRE_BROWSER=1 to make this an error")
	}
	// A hang (a browser that never answers) fails the test instead of
	// stalling CI.
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	t.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(phoneWidth, 844),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(ctx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancelTab)
	p := &phone{t: t, f: f, ctx: ctx}
	// Scale 1, so a screenshot's pixels are CSS pixels: 390 wide.
	p.run("phone viewport", chromedp.EmulateViewport(phoneWidth, 844, chromedp.EmulateScale(1), func(m *emulation.SetDeviceMetricsOverrideParams, tp *emulation.SetTouchEmulationEnabledParams) {
		m.Mobile = true
		tp.Enabled = true
	}))
	return p
}

func (p *phone) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

func (p *phone) text(sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (p *phone) eval(js string) float64 {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[float64](js))
	if err != nil {
		p.t.Fatalf("%s: %v", js, err)
	}
	return v
}

func (p *phone) evalString(js string) string {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		p.t.Fatalf("%s: %v", js, err)
	}
	return v
}

func (p *phone) location() string {
	p.t.Helper()
	loc, err := chromedp.Run(p.ctx, chromedp.Location())
	if err != nil {
		p.t.Fatal(err)
	}
	return loc
}

// cookies are the browser's cookies for the page, HttpOnly ones included.
func (p *phone) cookies() map[string]string {
	p.t.Helper()
	res, err := chromedp.Call(p.ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		p.t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range res.Cookies {
		out[c.Name] = c.Value
	}
	return out
}

// fits checks that page fits a phone without sideways scrolling, with our
// stylesheet applied (the CSP let it load), and photographs it: the
// screenshot must be 390 px wide too (a page wider than the screen makes a
// wider picture).
func (p *phone) fits(page string) {
	p.t.Helper()
	if w, vw := p.eval(`document.documentElement.scrollWidth`), p.eval(`document.documentElement.clientWidth`); w > vw || vw != phoneWidth {
		p.t.Errorf("%s is %vpx wide in a %vpx viewport (want %d): it scrolls sideways", page, w, vw, phoneWidth)
	}
	if n := p.eval(`document.styleSheets.length && document.styleSheets[0].cssRules.length`); n < 10 {
		p.t.Errorf("%s: stylesheet not applied (%v rules)", page, n)
	}
	shot, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("screenshot of %s: %v", page, err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(shot))
	if err != nil {
		p.t.Fatalf("screenshot of %s: %v", page, err)
	}
	if cfg.Width != phoneWidth {
		p.t.Errorf("screenshot of %s is %dpx wide, want %d", page, cfg.Width, phoneWidth)
	}
	name := strings.NewReplacer(" ", "-", "'", "", "/", "-").Replace(page)
	if err := os.WriteFile(filepath.Join(p.t.ArtifactDir(), name+".png"), shot, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// TestBrowserBrandedLogin: the studio's sign-in page carries its name, its
// logo (loaded: the CSP allows images from the site) and its accent (the
// per-organization stylesheet applied), and a later page that does not
// name the studio still does, from the cookie.
func TestBrowserBrandedLogin(t *testing.T) {
	f := newFixtureTLS(t, false)
	f.brand(f.org)
	p := newPhone(t, f)

	p.run("open the sign-in page", chromedp.Navigate(f.srv.URL+"/login?org=harbor-yoga"), chromedp.WaitVisible(chromedp.CSS("#email")))
	if h := p.text("h1"); h != "Sign in to Harbor Yoga" {
		t.Errorf("heading %q", h)
	}
	if h := p.text("header.site"); !strings.Contains(h, "Harbor Yoga") {
		t.Errorf("header %q", h)
	}
	if w := p.eval(`(() => { const i = document.querySelector('header.site img.logo'); return i && i.complete ? i.naturalWidth : 0 })()`); w != 120 {
		t.Errorf("logo not shown (natural width %v)", w)
	}
	// #0b6b3a, the accent, on the button and the link.
	if bg := p.evalString(`getComputedStyle(document.querySelector('button[type=submit]')).backgroundColor`); bg != "rgb(11, 107, 58)" {
		t.Errorf("sign-in button background %s, want the accent rgb(11, 107, 58)", bg)
	}
	if c := p.evalString(`getComputedStyle(document.querySelector('a[href^="/forgot"]')).color`); c != "rgb(11, 107, 58)" {
		t.Errorf("forgot-password link colour %s, want the accent", c)
	}
	p.fits("branded sign-in")

	// A page that names no studio: the one this browser came from.
	p.run("open forgot password", chromedp.Navigate(f.srv.URL+"/forgot"), chromedp.WaitVisible(chromedp.CSS("#email")))
	if h := p.text("header.site"); !strings.Contains(h, "Harbor Yoga") {
		t.Errorf("forgot-password header %q", h)
	}
	if w := p.eval(`document.querySelector('header.site img.logo').naturalWidth`); w != 120 {
		t.Error("no logo on the forgot-password page")
	}
	p.fits("branded forgot password")
}

// TestBrowserClaim: open the emailed link, set a password, and land on the
// account signed in, with a new session (the one this browser had is
// ended) and the link's cookie gone.
func TestBrowserClaim(t *testing.T) {
	f := newFixtureTLS(t, false)
	f.svc.BaseURL = f.srv.URL
	f.claimed(f.org, "Bo", "Chen", "bo@example.com", goodPassword)
	jane := f.customer(f.org, "Jane", "Doe", "jane@example.com")
	f.activity(jane)
	// The link as the customer gets it: from the queued email's text.
	sent, err := f.svc.Issue(t.Context(), f.owner, jane.ID, store.PurposeClaim)
	if err != nil {
		t.Fatal(err)
	}
	link := f.srv.URL + "/claim/" + f.outboxToken(sent.OutboxID)
	p := newPhone(t, f)

	// Someone else signed in on this phone before.
	p.run("sign in as Bo",
		chromedp.Navigate(f.srv.URL+"/login?org=harbor-yoga"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "bo@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), goodPassword),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#bookings")))
	bosSession := p.cookies()[sessionCookie]
	if bosSession == "" {
		t.Fatal("no session after signing in")
	}

	p.run("open the emailed link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#password")))
	if loc := p.location(); !strings.HasSuffix(loc, "/claim") {
		t.Fatalf("after opening the link the address is %q; the token should have left it", loc)
	}
	if body := p.text("main"); !strings.Contains(body, "Harbor Yoga invited you") || !strings.Contains(body, "jane@example.com") || !strings.Contains(body, "At least 15 characters") {
		t.Fatalf("claim page says:\n%s", body)
	}
	p.fits("claim page")
	// The email for password managers is in the form but not on the screen.
	if shown := p.eval(`document.querySelector('input[autocomplete=username]').getClientRects().length`); shown != 0 {
		t.Error("the hidden username field is drawn on the claim page")
	}

	// A mismatch first: the error shows next to the field.
	p.run("mismatched passwords",
		chromedp.SendKeys(chromedp.CSS("#password"), goodPassword),
		chromedp.SendKeys(chromedp.CSS("#confirm"), "something else entirely"),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#confirm-error")))
	if !strings.Contains(p.text("#confirm-error"), "don't match") {
		t.Fatal("no mismatch error next to the confirmation")
	}
	p.run("set the password",
		chromedp.SendKeys(chromedp.CSS("#password"), goodPassword),
		chromedp.SendKeys(chromedp.CSS("#confirm"), goodPassword),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#bookings")))
	if loc := p.location(); !strings.HasSuffix(loc, "/account?m=claimed") {
		t.Errorf("after claiming the address is %q, want the account", loc)
	}
	body := p.text("main")
	for _, want := range []string{"Hello, Jane", "you're signed in", f.srv.URL + "/login?org=harbor-yoga", "Sunrise Flow", "Winter Retreat", "Physio check-in", "Unlimited monthly"} {
		if !strings.Contains(body, want) {
			t.Errorf("account page lacks %q:\n%s", want, body)
		}
	}
	cookies := p.cookies()
	if _, ok := cookies[claimCookie]; ok {
		t.Error("the claim page's cookie outlived the claim")
	}
	if s := cookies[sessionCookie]; s == "" || s == bosSession {
		t.Errorf("session after claiming %q, before %q: want a new one", s, bosSession)
	}
	if n := f.sessions(jane); n != 1 {
		t.Errorf("Jane has %d sessions, want 1", n)
	}
	p.fits("account after claiming")
}

// TestBrowserRenewExpiredLink: an expired link's page offers "send me a new
// link"; pressing it mails a fresh link to the address on file (read here
// from the .eml file the outbox worker writes), which works.
func TestBrowserRenewExpiredLink(t *testing.T) {
	f := newFixtureTLS(t, false)
	f.svc.BaseURL = f.srv.URL
	jane := f.customer(f.org, "Jane", "Doe", "jane@example.com")
	old := f.srv.URL + "/claim/" + f.invite(jane)
	f.advance(8 * 24 * time.Hour)
	p := newPhone(t, f)

	p.run("open the expired link", chromedp.Navigate(old), chromedp.WaitVisible(chromedp.CSS(`form[action="/claim/renew"] button`)))
	if h := p.text("h1"); h != "This invite link has expired" {
		t.Errorf("heading %q", h)
	}
	p.fits("expired link")
	p.run("send me a new link",
		chromedp.Click(chromedp.CSS(`form[action="/claim/renew"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`.alert.ok`)))
	if body := p.text("main"); !strings.Contains(body, "Check your email") || !strings.Contains(body, "has on file for you") {
		t.Errorf("after asking:\n%s", body)
	}
	p.fits("new link on its way")
	if f.woken == 0 {
		t.Error("the outbox worker was not woken")
	}

	// The worker delivers it, as serve's does, to the file transport.
	dir := t.TempDir()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := &mailer.Worker{DB: f.db, Transport: mailer.NewFileTransport(dir, logger), Logger: logger}
	if _, err := w.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("%d emails written, want the one new link", len(files))
	}
	to, text := readEML(t, files[0])
	if to != "jane@example.com" {
		t.Errorf("new link sent to %q", to)
	}
	link := regexp.MustCompile(regexp.QuoteMeta(f.srv.URL) + `/claim/[A-Za-z0-9_-]{43}`).FindString(text)
	if link == "" {
		t.Fatalf("no link in the email:\n%s", text)
	}
	p.run("open the new link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#password")))
	if body := p.text("main"); !strings.Contains(body, "jane@example.com") {
		t.Errorf("the new link's page:\n%s", body)
	}
	p.fits("new link's claim page")
}

// TestBrowserShowPassword: the claim page explains the length rule before
// anything is typed, and a "Show passwords" switch (the site's own script,
// allowed by the CSP) shows and hides both fields; without scripts the
// page has no switch and still claims.
func TestBrowserShowPassword(t *testing.T) {
	f := newFixtureTLS(t, false)
	jane := f.customer(f.org, "Jane", "Doe", "jane@example.com")
	p := newPhone(t, f)
	p.run("open the emailed link", chromedp.Navigate(f.srv.URL+"/claim/"+f.invite(jane)), chromedp.WaitVisible(chromedp.CSS("#password")))
	// The page has loaded, and with it the deferred script.
	if n := p.eval(`document.querySelectorAll('#show-password').length`); n != 1 {
		t.Fatal("no show-password switch: the site's script did not run")
	}
	if hint := p.text("#password-hint"); !strings.HasPrefix(hint, "At least 15 characters.") {
		t.Errorf("length rule before typing: %q", hint)
	}
	if above := p.eval(`document.querySelector('#password-hint').getBoundingClientRect().bottom <= document.querySelector('#password').getBoundingClientRect().top ? 1 : 0`); above != 1 {
		t.Error("the length rule is not above the password box")
	}
	types := func() string {
		return p.evalString(`document.querySelector('#password').type + ' ' + document.querySelector('#confirm').type`)
	}
	p.run("type", chromedp.SendKeys(chromedp.CSS("#password"), goodPassword), chromedp.SendKeys(chromedp.CSS("#confirm"), goodPassword))
	if got := types(); got != "password password" {
		t.Fatalf("before the switch: %s", got)
	}
	if l := p.text(`label[for="show-password"]`); strings.TrimSpace(l) != "Show passwords" {
		t.Errorf("switch label %q", l)
	}
	p.run("show", chromedp.Click(chromedp.CSS(`label[for="show-password"]`)))
	if got := types(); got != "text text" {
		t.Fatalf("after showing: %s", got)
	}
	if v := p.evalString(`document.querySelector('#password').value`); v != goodPassword {
		t.Errorf("shown value %q", v)
	}
	p.fits("password shown")
	p.run("hide", chromedp.Click(chromedp.CSS("#show-password")))
	if got := types(); got != "password password" {
		t.Fatalf("after hiding: %s", got)
	}

	// Without scripts: no switch, and the form works.
	bo := f.customer(f.org, "Bo", "Chen", "bo@example.com")
	if _, err := chromedp.Call(p.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	p.run("open a link without scripts", chromedp.Navigate(f.srv.URL+"/claim/"+f.invite(bo)), chromedp.WaitVisible(chromedp.CSS("#password")))
	if n := p.eval(`document.querySelectorAll('#show-password').length`); n != 0 {
		t.Error("a switch without scripts")
	}
	p.fits("claim page without scripts")
	p.run("claim without scripts",
		chromedp.SendKeys(chromedp.CSS("#password"), goodPassword),
		chromedp.SendKeys(chromedp.CSS("#confirm"), goodPassword),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#bookings")))
}

// TestBrowserStaffOnlyField: the account page shows a staff-only field as
// text, with no input to change it; a form doctored to change it anyway is
// refused and nothing is saved.
func TestBrowserStaffOnlyField(t *testing.T) {
	f := newFixtureTLS(t, false)
	jane := f.staffOnly("Jane", "jane@example.com")
	p := newPhone(t, f)
	p.run("sign in",
		chromedp.Navigate(f.srv.URL+"/login?org=harbor-yoga"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "jane@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), goodPassword),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#profile")))
	if kept := p.text("dl.fields"); !strings.Contains(kept, "Membership level") || !strings.Contains(kept, "Gold") {
		t.Errorf("staff-only field shown as %q", kept)
	}
	if n := p.eval(`document.querySelectorAll('input[name="field.0"]').length`); n != 0 {
		t.Error("the staff-only field has an input")
	}
	if n := p.eval(`document.querySelectorAll('input[name="field.1"]').length`); n != 1 {
		t.Error("the customer-editable field has no input")
	}
	p.fits("account with a staff-only field")

	// Doctored: an input for the staff-only field added to the form (by
	// the DevTools protocol, as a customer's own tools could).
	p.run("doctor the form and send it",
		chromedp.Evaluate[chromedp.Void](`(() => { const i = document.createElement('input'); i.name = 'field.0'; i.value = 'Platinum'; document.querySelector('form[action="/account"]').appendChild(i); })()`),
		chromedp.Click(chromedp.CSS(`form[action="/account"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#form-error")))
	if e := p.text("#form-error"); !strings.Contains(e, "Membership level is kept by Harbor Yoga") {
		t.Errorf("refusal %q", e)
	}
	p.fits("staff-only field refused")
	got, _ := f.db.Customer(t.Context(), f.org.ID, jane.ID)
	if got.Fields[0].Value != "Gold" {
		t.Errorf("the staff-only field changed to %q", got.Fields[0].Value)
	}
}

// sessions counts a customer's sessions.
func (f *fixture) sessions(c *store.Customer) int {
	f.t.Helper()
	n, err := f.db.CountCustomerSessions(context.Background(), c.OrgID, c.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

// readEML returns an .eml file's recipient and its text part, decoded.
func readEML(t *testing.T, path string) (to, text string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	addr, err := mail.ParseAddress(msg.Header.Get("To"))
	if err != nil {
		t.Fatal(err)
	}
	text, err = textPart(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return addr.Address, text
}

func textPart(contentType, encoding string, body io.Reader) (string, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(mt, "multipart/") {
		r := multipart.NewReader(body, params["boundary"])
		for {
			part, err := r.NextRawPart()
			if err != nil {
				return "", fmt.Errorf("no text part: %w", err)
			}
			if s, err := textPart(part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"), part); err == nil {
				return s, nil
			}
		}
	}
	if mt != "text/plain" {
		return "", fmt.Errorf("%s", mt)
	}
	if strings.EqualFold(encoding, "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	return string(b), err
}

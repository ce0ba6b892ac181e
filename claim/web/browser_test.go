package web

import (
	"context"
	"frontdesk/store"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestBrowserClaim walks the customer's path in headless Chromium at a phone's
// size: invite, open the emailed link, set a password, sign in, see the
// bookings. It skips without Chromium unless FRONTDESK_REQUIRE_BROWSER=1
// (.ci/run installs Chromium and sets it).
func TestBrowserClaim(t *testing.T) {
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("FRONTDESK_REQUIRE_BROWSER") == "1" {
			t.Fatalf("FRONTDESK_REQUIRE_BROWSER=1 but chromium is not on PATH: %v", err)
		}
		t.Skip("chromium not installed; set FRONTDESK_REQUIRE_BROWSER=1 to make this an error")
	}
	f := newFixtureTLS(t, false)
	f.svc.BaseURL = f.srv.URL
	jane := f.customer(f.org, "Jane", "Doe", "jane@example.com")
	f.activity(jane)
	// The link as the customer gets it: from the queued email's text.
	sent, err := f.svc.Issue(t.Context(), f.owner, jane.ID, store.PurposeClaim)
	if err != nil {
		t.Fatal(err)
	}
	link := f.srv.URL + "/claim/" + f.outboxToken(sent.OutboxID)

	// A hang (a browser that never answers) fails the test instead of
	// stalling CI.
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
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
		chromedp.WindowSize(390, 844),
	)
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(ctx, chromedp.WithLogf(t.Logf))
	defer cancelTab()

	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	eval := func(js string) float64 {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[float64](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	// Fits a phone without sideways scrolling, with our stylesheet applied
	// (the CSP let it load).
	fitsPhone := func(page string) {
		t.Helper()
		if w := eval(`document.documentElement.scrollWidth`); w > 390 {
			t.Errorf("%s is %vpx wide on a 390px screen", page, w)
		}
		if n := eval(`document.styleSheets.length && document.styleSheets[0].cssRules.length`); n < 10 {
			t.Errorf("%s: stylesheet not applied (%v rules)", page, n)
		}
	}

	run("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), func(p *emulation.SetDeviceMetricsOverrideParams, tp *emulation.SetTouchEmulationEnabledParams) {
		p.Mobile = true
		tp.Enabled = true
	}))
	run("open the emailed link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#password")))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(loc, "/claim") {
		t.Fatalf("after opening the link the address is %q; the token should have left it", loc)
	}
	if body := text("main"); !strings.Contains(body, "Harbor Yoga invited you") || !strings.Contains(body, "jane@example.com") {
		t.Fatalf("claim page says:\n%s", body)
	}
	fitsPhone("the claim page")
	// The email for password managers is in the form but not on the screen.
	if shown := eval(`document.querySelector('input[autocomplete=username]').getClientRects().length`); shown != 0 {
		t.Error("the hidden username field is drawn on the claim page")
	}

	// A mismatch first: the error shows next to the field.
	run("mismatched passwords",
		chromedp.SendKeys(chromedp.CSS("#password"), goodPassword),
		chromedp.SendKeys(chromedp.CSS("#confirm"), "something else entirely"),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#confirm-error")))
	if !strings.Contains(text("#confirm-error"), "don't match") {
		t.Fatal("no mismatch error next to the confirmation")
	}
	run("set the password",
		chromedp.SendKeys(chromedp.CSS("#password"), goodPassword),
		chromedp.SendKeys(chromedp.CSS("#confirm"), goodPassword),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/login?org=harbor-yoga"]`)))
	if !strings.Contains(text("h1"), "Your account is ready") {
		t.Fatalf("after claiming: %q", text("main"))
	}

	run("sign in",
		chromedp.Click(chromedp.CSS(`a[href="/login?org=harbor-yoga"]`)),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "jane@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), goodPassword),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#bookings")))
	body := text("main")
	for _, want := range []string{"Hello, Jane", "Sunrise Flow", "Winter Retreat", "Physio check-in", "Unlimited monthly"} {
		if !strings.Contains(body, want) {
			t.Errorf("account page lacks %q:\n%s", want, body)
		}
	}
	fitsPhone("the account page")
}

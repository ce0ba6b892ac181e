package web

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"frontdesk/claim"
	"frontdesk/store"
	"frontdesk/store/brand"
)

// brandAccent passes WCAG AA on white and on the page background.
const brandAccent = "#0b6b3a"

// logoPNG is a 120×40 logo in the brand's colour.
func logoPNG(t testing.TB) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 120, 40))
	for x := 0; x < 120; x++ {
		for y := 10; y < 30; y++ {
			img.Set(x, y, color.NRGBA{0x0b, 0x6b, 0x3a, 0xff})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// brand gives org an accent and a logo, as `org set --accent --logo` does.
func (f *fixture) brand(org *store.Org) {
	f.t.Helper()
	ctx := context.Background()
	logo, err := brand.CheckLogo("logo.png", logoPNG(f.t))
	if err != nil {
		f.t.Fatal(err)
	}
	org.Accent = brandAccent
	err = f.db.Tx(ctx, func(tx *store.Tx) error {
		if err := tx.UpdateOrg(ctx, org); err != nil {
			return err
		}
		return tx.SetOrgLogo(ctx, org, logo)
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

// Every page carries the studio's name, logo and accent: from ?org=, from
// the link, from the session, and otherwise from the cookie a page that
// knew the organization set; a neutral name only where none can be known.
func TestBrandedPages(t *testing.T) {
	f := newFixture(t)
	f.brand(f.org)
	logo, css := claim.LogoPath(f.org), brandCSSPath(f.org)
	if !strings.HasPrefix(logo, "/brand/harbor-yoga/logo-") || !strings.HasSuffix(logo, ".png") || !strings.HasPrefix(css, "/brand/harbor-yoga/style-") {
		t.Fatalf("brand paths %q %q", logo, css)
	}
	branded := []string{"Harbor Yoga", `<img class="logo" src="` + logo + `" alt="">`, `<link rel="stylesheet" href="` + css + `">`}

	// A browser that has never seen the studio: neutral.
	b := f.browser()
	p := b.get("/login")
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, "Customer account")
	if strings.Contains(p.body, "Harbor Yoga") || strings.Contains(p.body, "/brand/") {
		t.Error("a page that cannot know the organization shows one")
	}

	// ?org= names it, and the browser remembers it.
	p = b.get("/login?org=harbor-yoga")
	mustContain(t, p, append(branded, "Sign in to Harbor Yoga", `name="org" value="harbor-yoga"`)...)
	set := p.header.Get("Set-Cookie")
	for _, attr := range []string{"__Host-" + orgCookie + "=harbor-yoga", "HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age="} {
		if !strings.Contains(set, attr) {
			t.Errorf("organization cookie lacks %s: %s", attr, set)
		}
	}
	// Then every page that does not know it itself: sign-in, forgot
	// password, an unknown link, a missing page, a refusal.
	for _, path := range []string{"/login", "/forgot", "/claim/" + strings.Repeat("A", 43), "/reset/not-a-token", "/nowhere", "/claim"} {
		p := b.follow(b.get(path))
		mustContain(t, p, branded...)
	}
	mustContain(t, b.get("/login"), `name="org" value="harbor-yoga"`, `href="/login?org="`, "Not a Harbor Yoga customer?")
	// The way out: no organization, and the cookie is forgotten.
	p = b.get("/login?org=")
	if p.status != http.StatusSeeOther || p.location() != "/login" || !strings.Contains(p.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("/login?org=: %d %q %q", p.status, p.location(), p.header.Get("Set-Cookie"))
	}
	p = b.follow(p)
	mustContain(t, p, "Customer account")
	if strings.Contains(p.body, "Harbor Yoga") {
		t.Error("/login?org= still shows the remembered organization")
	}
	if p := b.get("/forgot"); strings.Contains(p.body, "Harbor Yoga") {
		t.Error("the cookie outlived /login?org=")
	}

	// The link and the session name it too, and an unknown slug never
	// shows as typed.
	jane := f.customer(f.org, "Jane", "Doe", "jane@example.com")
	fresh := f.browser()
	mustContain(t, fresh.follow(fresh.get("/claim/"+f.invite(jane))), branded...)
	mustContain(t, f.browser().get("/login?org=no-such-studio"), "Customer account")

	// Signing out lands on the studio's sign-in page.
	f.claimed(f.org, "Bo", "Chen", "bo@example.com", goodPassword)
	s := f.browser()
	s.signIn("harbor-yoga", "bo@example.com", goodPassword)
	mustContain(t, s.get("/account"), branded...)
	out := s.post("/logout", url.Values{})
	mustContain(t, s.follow(out), append(branded, "signed out")...)

	// Another studio without a brand: its name, no logo, the site's colours.
	clinic := f.newOrg("Seaside Clinic")
	p = f.browser().get("/login?org=" + clinic.Slug)
	mustContain(t, p, "Sign in to Seaside Clinic")
	if strings.Contains(p.body, "/brand/") {
		t.Error("an organization without a brand gets a logo or a stylesheet")
	}
}

// The stylesheet and the logo are served from the site itself, under their
// content hash, cacheable for good; an old hash goes to the current file.
func TestBrandFiles(t *testing.T) {
	f := newFixture(t)
	f.brand(f.org)
	b := f.browser()

	p := b.get(brandCSSPath(f.org))
	wantStatus(t, p, http.StatusOK)
	if !strings.HasPrefix(p.header.Get("Content-Type"), "text/css") || !strings.Contains(p.header.Get("Cache-Control"), "immutable") {
		t.Errorf("stylesheet headers %v", p.header)
	}
	if !strings.Contains(p.body, "--accent: "+brandAccent+";") || !strings.Contains(p.body, "prefers-color-scheme: dark") {
		t.Errorf("stylesheet:\n%s", p.body)
	}

	p = b.get(claim.LogoPath(f.org))
	wantStatus(t, p, http.StatusOK)
	if p.header.Get("Content-Type") != "image/png" || !strings.Contains(p.header.Get("Cache-Control"), "immutable") {
		t.Errorf("logo headers %v", p.header)
	}
	// Emails show it from here, inside other sites' pages.
	if p.header.Get("Cross-Origin-Resource-Policy") != "cross-origin" {
		t.Errorf("logo CORP %q", p.header.Get("Cross-Origin-Resource-Policy"))
	}
	if p.header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(p.header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Error("the logo is served without nosniff and the CSP")
	}
	if cfg, err := png.DecodeConfig(strings.NewReader(p.body)); err != nil || cfg.Width != 120 {
		t.Errorf("logo body: %v %+v", err, cfg)
	}

	// An email from before a new logo still shows the current one.
	stale := "/brand/harbor-yoga/logo-0000000000000000.png"
	if p := b.get(stale); p.status != http.StatusFound || p.location() != claim.LogoPath(f.org) {
		t.Errorf("stale logo address: %d %q", p.status, p.location())
	}
	if p := b.get("/brand/harbor-yoga/style-0000000000000000.css"); p.status != http.StatusFound || p.location() != brandCSSPath(f.org) {
		t.Errorf("stale stylesheet address: %d %q", p.status, p.location())
	}
	clinic := f.newOrg("Seaside Clinic")
	for _, path := range []string{"/brand/seaside-clinic/logo-0000000000000000.png", "/brand/seaside-clinic/style-0000000000000000.css",
		"/brand/no-such-studio/logo-0000000000000000.png", "/brand/harbor-yoga/other.txt", "/brand/harbor-yoga/..%2f..%2fetc"} {
		if p := b.get(path); p.status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, p.status)
		}
	}
	_ = clinic
}

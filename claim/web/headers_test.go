package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	jane := f.customer(f.org, "Jane", "Doe", "jane@example.com")
	token := f.invite(jane)
	b := f.browser()
	paths := []string{"/", "/claim/" + token, "/claim", "/login", "/account", "/forgot", "/reset/" + strings.Repeat("A", 43), "/reset", "/nowhere", cssPath, jsPath}
	for _, path := range paths {
		p := b.get(path)
		h := p.header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self';", "style-src 'self';", "img-src 'self';", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %s", path, csp, want)
			}
		}
		// Scripts from this site's files only: nothing inline, nothing
		// evaluated, nothing from elsewhere.
		for _, bad := range []string{"unsafe-inline", "unsafe-eval", "unsafe-hashes", "data:", "http:", "https:", "*", "nonce-", "sha256-"} {
			if strings.Contains(csp, bad) {
				t.Errorf("%s: CSP allows %s: %q", path, bad, csp)
			}
		}
		for k, v := range map[string]string{"Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Strict-Transport-Security": "max-age=31536000"} {
			if h.Get(k) != v {
				t.Errorf("%s: %s = %q, want %q", path, k, h.Get(k), v)
			}
		}
		if path != cssPath && path != jsPath && h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", path, h.Get("Cache-Control"))
		}
	}
	p := b.get(cssPath)
	if p.status != 200 || !strings.HasPrefix(p.header.Get("Content-Type"), "text/css") || !strings.Contains(p.header.Get("Cache-Control"), "immutable") {
		t.Errorf("stylesheet: %d %v", p.status, p.header)
	}
	p = b.get(jsPath)
	if p.status != 200 || !strings.HasPrefix(p.header.Get("Content-Type"), "text/javascript") || !strings.Contains(p.header.Get("Cache-Control"), "immutable") {
		t.Errorf("script: %d %v", p.status, p.header)
	}
	if p := b.get("/nowhere"); p.status != http.StatusNotFound || !strings.Contains(p.body, "Page not found") {
		t.Errorf("404 page: %d", p.status)
	}
}

// The CSP forbids inline script and style; the templates must not need
// them, or the pages would silently break. The one script element is the
// layout's, loading the site's own file.
func TestTemplatesNeedNoInlineCode(t *testing.T) {
	err := fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(templateFS, path)
		s := strings.ToLower(string(b))
		if path == "templates/layout.html" {
			const own = `<script src="{{.js}}" defer></script>`
			if strings.Count(s, "<script") != 1 || !strings.Contains(s, own) {
				t.Errorf("the layout's script element is not just %s", own)
			}
			s = strings.Replace(s, own, "", 1)
		}
		for _, bad := range []string{"<script", "style=", "<style", " on", "javascript:", "http://", "https://"} {
			if bad == " on" {
				// event handler attributes: onclick= etc.
				for _, ev := range []string{" onclick=", " onload=", " onsubmit=", " oninput=", " onchange="} {
					if strings.Contains(s, ev) {
						t.Errorf("%s has an inline event handler %s", path, ev)
					}
				}
				continue
			}
			if strings.Contains(s, bad) {
				t.Errorf("%s contains %q (inline code or an external asset)", path, bad)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Hostile and broken input never panics and never gets a 500.
func TestHostileInput(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.Limits = Limits{Token: Limit{Burst: -1}, SignIn: Limit{Burst: -1}, Forgot: Limit{Burst: -1}}
	})
	f.claimed(f.org, "Jane", "Doe", "jane@example.com", goodPassword)
	h := f.h.chain()
	send := func(method, target string, body string, cookies ...*http.Cookie) int {
		t.Helper()
		req := httptest.NewRequest(method, "https://desk.example/", strings.NewReader(body))
		req.URL.Path, req.URL.RawQuery, _ = strings.Cut(target, "?")
		req.RequestURI = ""
		if method == "POST" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req) // a panic fails the test here
		if rec.Code >= 500 {
			t.Errorf("%s %q: %d\n%s", method, target, rec.Code, rec.Body)
		}
		return rec.Code
	}
	weird := []string{"", "\xff\xfe\xfd", strings.Repeat("A", 43), strings.Repeat("A", 44), strings.Repeat("é", 30),
		"..%2F..%2Fetc%2Fpasswd", "%00", "<script>alert(1)</script>", strings.Repeat("x", 10000), "a b", "A" + strings.Repeat("_", 42)}
	for _, w := range weird {
		esc := url.PathEscape(w)
		for _, path := range []string{"/claim/" + esc, "/reset/" + esc, "/login?org=" + url.QueryEscape(w) + "&m=" + url.QueryEscape(w), "/forgot?org=" + url.QueryEscape(w), "/account?m=" + url.QueryEscape(w)} {
			send("GET", path, "")
		}
		for _, name := range []string{"__Host-" + claimCookie, "__Host-" + resetCookie, "__Host-" + sessionCookie} {
			c := &http.Cookie{Name: name, Value: url.QueryEscape(w)}
			for _, path := range []string{"/claim", "/reset", "/account", "/login", "/logout"} {
				send("GET", path, "", c)
			}
			send("POST", "/claim", "password=x&confirm=y", c)
			send("POST", "/account", "first_name="+url.QueryEscape(w), c)
		}
		form := url.Values{"email": {w}, "password": {w}, "confirm": {w}, "org": {w}, "first_name": {w}, "field.0": {w}}.Encode()
		for _, path := range []string{"/login", "/forgot", "/claim", "/reset", "/account", "/logout"} {
			send("POST", path, form)
		}
	}
	// Raw bodies that are not valid form encoding.
	for _, body := range []string{"%", "a=%zz", "\xff=\xfe", strings.Repeat("&", 5000), "email=" + strings.Repeat("%41", 20000)} {
		for _, path := range []string{"/login", "/forgot", "/claim", "/account"} {
			send("POST", path, body)
		}
	}
	// A password far longer than any allowed one: refused without hashing megabytes.
	if code := send("POST", "/login", url.Values{"email": {"jane@example.com"}, "password": {strings.Repeat("p", 60000)}}.Encode()); code != http.StatusUnauthorized {
		t.Errorf("giant password: %d", code)
	}
	// Only registered methods.
	if code := send("PUT", "/claim", ""); code != http.StatusMethodNotAllowed {
		t.Errorf("PUT /claim: %d", code)
	}
}

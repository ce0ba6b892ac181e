package web

import (
	"net/http"
	"time"
)

// contentSecurityPolicy allows nothing but this site's own files (the
// stylesheets, the logos, the one script) and forms posting to ourselves:
// no inline script or style, no framing, no <base> rewriting. The pages
// need nothing else, so anything injected despite html/template's escaping
// has nothing to run with: script-src 'self' runs files served from here
// only, and no path here serves anything a customer or staff member wrote.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// headers sets the security headers on every response. Cache-Control:
// no-store is the default because almost every page is either about a
// token or about an account; the stylesheet overrides it.
func (h *handler) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cross-Origin-Resource-Policy", "same-origin")
		hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		hd.Set("Cache-Control", "no-store")
		if h.secure {
			hd.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// Cookie names. Over https they take the __Host- prefix, which browsers
// accept only with Secure, Path=/ and no Domain: a sibling subdomain cannot
// plant or overwrite them.
const (
	claimCookie   = "fd_claim"   // a claim token between /claim/{token} and POST /claim
	resetCookie   = "fd_reset"   // a reset token between /reset/{token} and POST /reset
	sessionCookie = "fd_session" // the session id
)

// tokenCookieTTL is how long a link's token waits in its cookie for the
// form to be sent: time to think of a password, not to leave it for days.
const tokenCookieTTL = 30 * time.Minute

func (h *handler) cookieName(base string) string {
	if h.secure {
		return "__Host-" + base
	}
	return base
}

// setCookie sets an HttpOnly, SameSite=Lax cookie on /. Lax rather than
// Strict because the links arrive from a mail app or webmail: a Strict
// cookie set by /claim/{token} would not be sent on the redirect that a
// cross-site navigation started. maxAge 0 makes a browser-session cookie.
func (h *handler) setCookie(w http.ResponseWriter, base, value string, maxAge time.Duration) {
	c := &http.Cookie{
		Name: h.cookieName(base), Value: value, Path: "/",
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode,
	}
	if maxAge > 0 {
		// Rounded up: a sub-second lifetime must not become MaxAge 0,
		// which is no Max-Age at all.
		c.MaxAge = int((maxAge + time.Second - 1) / time.Second)
	}
	http.SetCookie(w, c)
}

func (h *handler) clearCookie(w http.ResponseWriter, base string) {
	http.SetCookie(w, &http.Cookie{
		Name: h.cookieName(base), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode,
	})
}

// cookie returns the cookie's value, "" when absent.
func (h *handler) cookie(r *http.Request, base string) string {
	c, err := r.Cookie(h.cookieName(base))
	if err != nil {
		return ""
	}
	return c.Value
}

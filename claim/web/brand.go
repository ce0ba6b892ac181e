package web

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"frontdesk/claim"
	"frontdesk/store"
	"frontdesk/store/brand"
)

// Every page carries the studio's name, and its logo and accent when it has
// them. A page knows its organization from its ?org=, from its link, or
// from the session; one that does not (a bookmarked /login, an unknown
// link, an error) takes it from orgCookie, which pages that knew it set, and
// only where none can be known shows the neutral "Customer account".

// orgCookie remembers the organization (its slug) this browser last saw a
// page of. It is not a credential: it only chooses the name, the look and,
// on the sign-in and forgot-password forms, which organization's account
// is meant (the form says so, and links to signing in without it).
const orgCookie = "fd_org"

// orgCookieTTL is how long the browser keeps it: a customer returning after
// a season still meets their studio's page.
const orgCookieTTL = 180 * 24 * time.Hour

// brand fills the view's organization fields from v.org, or from the
// cookie when the page did not know it, and keeps the cookie current.
func (h *handler) brand(w http.ResponseWriter, r *http.Request, v *view) {
	o := v.org
	if o == nil {
		o = h.cookieOrg(r)
	} else if h.cookie(r, orgCookie) != o.Slug {
		h.setCookie(w, orgCookie, o.Slug, orgCookieTTL)
	}
	if o == nil {
		return
	}
	v.Org, v.OrgSlug = o.Name, o.Slug
	v.LogoURL = claim.LogoPath(o)
	v.BrandCSS = brandCSSPath(o)
}

// cookieOrg is the organization orgCookie names, nil when none does.
func (h *handler) cookieOrg(r *http.Request) *store.Org {
	return h.orgFromQuery(r, h.cookie(r, orgCookie))
}

// pageOrg is the organization a sign-in or forgot-password page is for:
// the one its ?org= (or form field) names, else the cookie's.
func (h *handler) pageOrg(r *http.Request, slug string) *store.Org {
	if slug != "" {
		return h.orgFromQuery(r, slug)
	}
	return h.cookieOrg(r)
}

// forgetOrg answers GET /login?org= and /forgot?org= (present but empty),
// the way out of the organization the cookie remembers (a customer of two
// studios): the cookie is cleared and the page shown again without one.
// It reports whether it answered.
func (h *handler) forgetOrg(w http.ResponseWriter, r *http.Request) bool {
	q := r.URL.Query()
	if !q.Has("org") || q.Get("org") != "" {
		return false
	}
	h.clearCookie(w, orgCookie)
	q.Del("org")
	to := r.URL.Path
	if len(q) > 0 {
		to += "?" + q.Encode()
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return true
}

// brandCSS is an organization's stylesheet: its accent as the custom
// properties site.css colours links and buttons with, and the accent
// lightened until it reads on the dark scheme (brand.Dark). "" when it has
// no accent. A stylesheet rather than a style attribute: the CSP allows
// styles from this site's files only.
func brandCSS(o *store.Org) string {
	if o == nil || o.Accent == "" {
		return ""
	}
	return ":root { --accent: " + o.Accent + "; --accent-fg: #ffffff; }\n" +
		"@media (prefers-color-scheme: dark) {\n  :root { --accent: " + brand.Dark(o.Accent) + "; --accent-fg: " + brand.DarkBackground + "; }\n}\n"
}

// brandCSSPath is where the organization's stylesheet is served, with its
// content hash (so it is cached for good and a new accent gets a new
// address); "" without an accent.
func brandCSSPath(o *store.Org) string {
	css := brandCSS(o)
	if css == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(css))
	return "/brand/" + o.Slug + "/style-" + hex.EncodeToString(sum[:8]) + ".css"
}

// brandFile is GET /brand/{slug}/{file}: an organization's stylesheet or
// logo. An address whose hash is not the current one (a page or an email
// from before a change) is sent to the current file; an organization
// without one is a 404.
func (h *handler) brandFile(w http.ResponseWriter, r *http.Request) {
	o := h.orgFromQuery(r, r.PathValue("slug"))
	file := r.PathValue("file")
	var current string
	switch {
	case o == nil:
	case strings.HasPrefix(file, "style-"):
		current = brandCSSPath(o)
	case strings.HasPrefix(file, "logo-"):
		current = claim.LogoPath(o)
	}
	if current == "" {
		h.notFound(w, r)
		return
	}
	if r.URL.Path != current {
		// Not cached (the default no-store): the current file changes.
		http.Redirect(w, r, current, http.StatusFound)
		return
	}
	if strings.HasPrefix(file, "style-") {
		serveStatic(w, "text/css; charset=utf-8", []byte(brandCSS(o)))
		return
	}
	data, typ, err := h.svc.DB.OrgLogo(r.Context(), o.ID)
	if store.ErrorCode(err) == store.ENOTFOUND {
		h.notFound(w, r)
		return
	} else if err != nil {
		h.internal(w, r, err)
		return
	}
	// The emails show the logo from this address, and a webmail page
	// loading it directly is another origin: Cross-Origin-Resource-Policy
	// same-origin (every other response's) would have the browser refuse
	// it. A logo is public.
	w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
	serveStatic(w, typ, data)
}

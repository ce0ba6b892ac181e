package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"html"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"frontdesk/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/site.css
var siteCSS []byte

// siteJS is the pages' one script: the show-password switch. Every page
// works without it (the CSP allows scripts from this site only, never
// inline ones).
//
//go:embed static/site.js
var siteJS []byte

// cssPath and jsPath carry a hash of the file so it can be cached for good:
// a new build has a new path.
var (
	cssPath = staticPath("site", "css", siteCSS)
	jsPath  = staticPath("site", "js", siteJS)
)

func staticPath(name, ext string, b []byte) string {
	sum := sha256.Sum256(b)
	return "/static/" + name + "." + hex.EncodeToString(sum[:6]) + "." + ext
}

func serveCSS(w http.ResponseWriter, r *http.Request) {
	serveStatic(w, "text/css; charset=utf-8", siteCSS)
}

func serveJS(w http.ResponseWriter, r *http.Request) {
	serveStatic(w, "text/javascript; charset=utf-8", siteJS)
}

// serveStatic answers with a file whose address carries its content hash.
func serveStatic(w http.ResponseWriter, contentType string, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(b)
}

// pages are the templates, each the layout plus one page's "content".
var pages = func() map[string]*template.Template {
	layout, err := fs.ReadFile(templateFS, "templates/layout.html")
	if err != nil {
		panic(err)
	}
	// The stylesheet's path is fixed per build: baked in rather than
	// passed, since every template action costs escaper calls at run time.
	src := strings.NewReplacer("{{.CSS}}", cssPath, "{{.JS}}", jsPath).Replace(string(layout))
	base := template.Must(template.New("").Parse(src))
	m := map[string]*template.Template{}
	for _, name := range []string{"message", "password", "login", "forgot", "account", "code"} {
		m[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html"))
	}
	return m
}()

// view is what a page template sees. Common parts first; each page fills
// its own.
type view struct {
	Title string
	// org is the page's organization: from its ?org=, its link or its
	// session; nil leaves render to take it from the cookie a page that
	// knew it set (orgCookie), or to show a neutral name.
	org *store.Org
	// Filled by render from org: its name and slug, and the addresses of
	// its logo and its stylesheet (the accent), "" when it has none.
	Org, OrgSlug      string
	LogoURL, BrandCSS string

	SignedIn  bool
	Notice    string // a confirmation ("Your details were saved.")
	FormError string // a refusal of the whole form
	Fields    []field

	Message   *message
	Password  *passwordPage
	Account   *accountView
	ForgotURL string
	LoginURL  string
	OtherURL  string // sign in without the organization the page assumed
}

// field is one form input with its label, hint and error.
type field struct {
	ID, Name, Label, Type, Value, Autocomplete, Hint, Error, InputMode string
	Required, Autofocus, NoSpellcheck                                  bool
	Also                                                               string // another element describing it (the form's error)
}

// DescribedBy ties the hint and the error to the input for screen readers.
func (f field) DescribedBy() string {
	s := ""
	if f.Hint != "" {
		s = f.ID + "-hint"
	}
	if f.Error != "" {
		if s != "" {
			s += " "
		}
		s += f.ID + "-error"
	}
	if f.Also != "" {
		if s != "" {
			s += " "
		}
		s += f.Also
	}
	return s
}

// HTML renders the field. This is Go rather than a template on purpose:
// html/template calls its escapers through reflection for every attribute,
// and the fields were a third of the claim page's rendering time (see
// BenchmarkClaimPage). Every value goes through html.EscapeString; ids,
// names and types are constants of this package.
func (f field) HTML() template.HTML {
	var b strings.Builder
	b.Grow(512)
	attr := func(name, v string) {
		b.WriteString(" " + name + `="`)
		b.WriteString(html.EscapeString(v))
		b.WriteByte('"')
	}
	b.WriteString(`<div class="field`)
	if f.Error != "" {
		b.WriteString(" invalid")
	}
	b.WriteString(`">` + "\n<label")
	attr("for", f.ID)
	b.WriteString(">" + html.EscapeString(f.Label) + "</label>\n")
	if f.Hint != "" {
		b.WriteString(`<p class="hint"`)
		attr("id", f.ID+"-hint")
		b.WriteString(">" + html.EscapeString(f.Hint) + "</p>\n")
	}
	if f.Error != "" {
		// role=alert: announced when the page with the error arrives.
		b.WriteString(`<p class="error"`)
		attr("id", f.ID+"-error")
		b.WriteString(` role="alert">` + html.EscapeString(f.Error) + "</p>\n")
	}
	b.WriteString("<input")
	attr("id", f.ID)
	attr("name", f.Name)
	attr("type", f.Type)
	if f.Value != "" {
		attr("value", f.Value)
	}
	if f.Autocomplete != "" {
		attr("autocomplete", f.Autocomplete)
	}
	if d := f.DescribedBy(); d != "" {
		// The hint and the error are read with the input.
		attr("aria-describedby", d)
	}
	if f.Error != "" {
		b.WriteString(` aria-invalid="true"`)
	}
	if f.Required {
		b.WriteString(" required")
	}
	if f.Autofocus {
		b.WriteString(" autofocus")
	}
	if f.InputMode != "" {
		attr("inputmode", f.InputMode)
	}
	if f.NoSpellcheck {
		b.WriteString(` spellcheck="false" autocapitalize="none"`)
	}
	b.WriteString(">\n</div>\n")
	return template.HTML(b.String())
}

// focusFirstError puts autofocus on the first field with an error (no
// script needed), so keyboard and screen-reader users land on it.
func focusFirstError(fs []field) []field {
	for i := range fs {
		if fs[i].Error != "" {
			fs[i].Autofocus = true
			break
		}
	}
	return fs
}

// message is a page that says something and offers what to do next: the
// link states, successes and errors.
type message struct {
	Heading string
	Paras   []string
	Actions []action
	Tone    string // "", "ok" or "error"
	// Renew, when set, offers "send me a new link": a form posting it
	// (the dead link's key, see linkKey) to /claim/renew.
	Renew string
}

type action struct {
	Href, Label string
	Secondary   bool
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render writes a page. It renders into a buffer first, so a template error
// becomes a clean 500 instead of half a page.
func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, page string, v *view) {
	h.brand(w, r, v)
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if err := pages[page].ExecuteTemplate(buf, "layout", v); err != nil {
		h.log.Error("render", "page", page, "err", err)
		http.Error(w, "Something went wrong on our side. Please try again.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// say renders a message page; org nil when the page does not know it.
func (h *handler) say(w http.ResponseWriter, r *http.Request, status int, org *store.Org, m *message) {
	h.render(w, r, status, "message", &view{Title: m.Heading, org: org, Message: m})
}

// withOrg adds ?org=slug to a path when the slug is known, so the next page
// knows which organization the customer came from.
func withOrg(path, slug string) string {
	if slug == "" {
		return path
	}
	return path + "?" + url.Values{"org": {slug}}.Encode()
}

// maxFormBytes bounds a form body. The largest form (the account page with
// its custom fields) is far below it.
const maxFormBytes = 64 << 10

// parseForm reads a urlencoded POST body of at most maxFormBytes, answering
// 413 or 400 itself; false means the caller must stop.
func (h *handler) parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	err := r.ParseForm()
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		h.say(w, r, http.StatusRequestEntityTooLarge, nil, &message{
			Heading: "That form was too large",
			Paras:   []string{"What you sent was larger than any form on this site needs. Go back, shorten what you typed, and try again."},
			Tone:    "error",
		})
		return false
	}
	h.say(w, r, http.StatusBadRequest, nil, &message{
		Heading: "We couldn't read that form",
		Paras:   []string{"Go back and send it again. If it keeps happening, reload the page first."},
		Tone:    "error",
	})
	return false
}

// Error pages shared by every handler.

// notFound answers every path (and method) no route takes. A method other
// than GET on a page is answered 405, the status the mux would give.
func (h *handler) notFound(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.say(w, r, http.StatusMethodNotAllowed, nil, &message{
			Heading: "That doesn't work here",
			Paras:   []string{"This address can't take that kind of request. Go back to the page you came from and use its buttons and links."},
			Actions: []action{{Href: "/login", Label: "Go to sign in"}},
			Tone:    "error",
		})
		return
	}
	h.say(w, r, http.StatusNotFound, nil, &message{
		Heading: "Page not found",
		Paras:   []string{"There is no page at this address. If you followed a link from an email, open it again from the email, or copy the whole link into the address bar."},
		Actions: []action{{Href: "/login", Label: "Go to sign in"}},
	})
}

func (h *handler) crossOrigin(w http.ResponseWriter, r *http.Request) {
	h.log.Warn("cross-origin request refused", "client", h.client(r), "path", logPath(r),
		"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
	h.say(w, r, http.StatusForbidden, nil, &message{
		Heading: "This form came from another website",
		Paras: []string{
			"For your safety, we only accept forms sent from this site's own pages, and this one arrived from somewhere else.",
			"If you were filling in a form here, go back to it, reload the page and send it again.",
		},
		Actions: []action{{Href: "/login", Label: "Go to sign in"}},
		Tone:    "error",
	})
}

func (h *handler) tooMany(w http.ResponseWriter, r *http.Request, extra string) {
	h.tooManyFor(w, r, extra, 2*time.Minute)
}

// tooManyFor is tooMany with the wait known: Retry-After says it.
func (h *handler) tooManyFor(w http.ResponseWriter, r *http.Request, extra string, wait time.Duration) {
	paras := []string{"There have been too many attempts from your connection in a short time. Wait a few minutes, then try again."}
	if extra != "" {
		paras = []string{extra}
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(max(wait, time.Second)/time.Second)))
	h.say(w, r, http.StatusTooManyRequests, nil, &message{
		Heading: "Too many attempts",
		Paras:   paras,
		Tone:    "error",
	})
}

func (h *handler) internal(w http.ResponseWriter, r *http.Request, err error) {
	h.log.Error("request failed", "path", logPath(r), "err", err)
	h.say(w, r, http.StatusInternalServerError, nil, &message{
		Heading: "Something went wrong on our side",
		Paras:   []string{"Nothing you did caused this. Please try again in a moment."},
		Tone:    "error",
	})
}

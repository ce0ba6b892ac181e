// Package web is the customers' web: claiming an account from an invite
// link, signing in and out, the account page, and password reset. It is one
// http.Handler (New) that frontdesk serve mounts at "/"; the server's
// timeouts and header limits are the caller's, everything a page needs
// (security headers, cross-origin protection, rate limits, body limits) is
// here. The rules themselves (tokens, passwords, sessions, reset issuance)
// live in package claim; handlers translate between forms and those calls.
package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"frontdesk/claim"
	"frontdesk/claim/ratelimit"
)

// Options configures New. Only Service is required; every other zero value
// works.
type Options struct {
	Service *claim.Service // the database, BaseURL and invite lifetime
	Logger  *slog.Logger   // nil: discard
	// Wake is called after a reset email is queued, so the outbox worker
	// sends it now rather than at its next poll. nil is fine.
	Wake func()
	// Sessions bounds sign-in sessions; zero fields take claim's defaults
	// (30 minutes idle, 12 hours absolute).
	Sessions claim.SessionLifetime
	// Limits are the rate limits; zero fields take the defaults (see
	// defaultLimits).
	Limits Limits
	// ClientAddr returns the client's IP for rate limits and audit rows.
	// nil uses the connection's remote address; behind a reverse proxy,
	// set it to read the proxy's trusted forwarding header.
	ClientAddr func(*http.Request) string
	// Metrics hears the requests its rate limits refuse; nil: nobody.
	Metrics Metrics
}

// Metrics is what the web tells the operator's monitoring (frontdesk serve
// --metrics-addr); requests themselves are counted by whoever serves the
// handler. Calls must be quick and safe for concurrent use.
type Metrics interface {
	// RateLimited: a request was answered 429 by one of the per-client
	// Limits: kind "token" (links and codes), "signin" or "forgot".
	RateLimited(kind string)
}

// handler serves every customer path.
type handler struct {
	svc      *claim.Service
	log      *slog.Logger
	wake     func()
	sessions claim.SessionLifetime
	addr     func(*http.Request) string
	metrics  Metrics // never nil
	secure   bool    // BaseURL is https: cookies get Secure and the __Host- prefix

	tokens, signIns, forgots, renews *ratelimit.Limiter

	// forgotFloor is the least time a "forgot password" answer takes, so
	// that queueing an email (address known) and doing nothing (unknown)
	// take the same time from outside; renewFloor the same for "send me a
	// new link".
	forgotFloor, renewFloor time.Duration

	signInCount atomic.Uint64 // to prune stale sessions now and then
	mux         *http.ServeMux
}

// New returns the customers' web handler.
func New(o Options) http.Handler {
	return newHandler(o).chain()
}

func newHandler(o Options) *handler {
	if o.Service == nil || o.Service.DB == nil {
		panic("web: Options.Service with a DB is required")
	}
	h := &handler{
		svc:         o.Service,
		log:         o.Logger,
		wake:        o.Wake,
		sessions:    o.Sessions,
		addr:        o.ClientAddr,
		metrics:     o.Metrics,
		secure:      strings.HasPrefix(strings.ToLower(o.Service.BaseURL), "https://"),
		forgotFloor: 300 * time.Millisecond,
		renewFloor:  300 * time.Millisecond,
	}
	if h.log == nil {
		h.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if h.addr == nil {
		h.addr = remoteAddr
	}
	if h.metrics == nil {
		h.metrics = nopMetrics{}
	}
	now := func() time.Time { return h.svc.DB.Now() }
	h.tokens = ratelimit.NewWithClock(o.Limits.Token.Or(defaultLimits.Token), now)
	h.signIns = ratelimit.NewWithClock(o.Limits.SignIn.Or(defaultLimits.SignIn), now)
	h.forgots = ratelimit.NewWithClock(o.Limits.Forgot.Or(defaultLimits.Forgot), now)
	h.renews = ratelimit.NewWithClock(o.Limits.Renew.Or(defaultLimits.Renew), now)
	h.routes()
	return h
}

func (h *handler) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", h.home)
	m.HandleFunc("GET "+cssPath, serveCSS)
	m.HandleFunc("GET "+jsPath, serveJS)
	m.HandleFunc("GET /brand/{slug}/{file}", h.brandFile)

	m.HandleFunc("GET /claim/{token}", h.claimLink)
	m.HandleFunc("GET /claim", h.claimForm)
	m.HandleFunc("POST /claim", h.claimSubmit)
	m.HandleFunc("POST /claim/renew", h.renewSubmit)

	m.HandleFunc("GET /login", h.loginForm)
	m.HandleFunc("POST /login", h.loginSubmit)
	m.HandleFunc("GET /logout", h.logoutPage)
	m.HandleFunc("POST /logout", h.logout)
	m.HandleFunc("GET /account", h.account)
	m.HandleFunc("POST /account", h.accountSave)

	m.HandleFunc("GET /forgot", h.forgotForm)
	m.HandleFunc("POST /forgot", h.forgotSubmit)
	m.HandleFunc("GET /reset/{token}", h.resetLink)
	m.HandleFunc("GET /reset", h.resetForm)
	m.HandleFunc("POST /reset", h.resetSubmit)

	m.HandleFunc("/", h.notFound)
	h.mux = m
}

// chain wraps the routes in what every response needs: security headers
// first (so even a refusal carries them), then cross-origin protection for
// every state-changing request.
func (h *handler) chain() http.Handler {
	cop := http.NewCrossOriginProtection()
	if u, err := url.Parse(h.svc.BaseURL); err == nil && u.Scheme != "" && u.Host != "" {
		// Behind a proxy that rewrites Host, the public origin still counts
		// as ours.
		cop.AddTrustedOrigin(u.Scheme + "://" + u.Host)
	}
	cop.SetDenyHandler(http.HandlerFunc(h.crossOrigin))
	return h.headers(cop.Handler(h.mux))
}

func (h *handler) home(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/account", http.StatusSeeOther)
}

// client is the request's client address as Options.ClientAddr sees it.
func (h *handler) client(r *http.Request) string { return h.addr(r) }

// logPath is the request's path as logs may show it: the token of a
// /claim/{token} or /reset/{token} link opens an account until it is used,
// and logs are read by more people, and kept longer, than the outbox.
func logPath(r *http.Request) string {
	if r.URL.Path == "/claim/renew" {
		return r.URL.Path
	}
	for _, prefix := range []string{"/claim/", "/reset/"} {
		if strings.HasPrefix(r.URL.Path, prefix) {
			return prefix + "{token}"
		}
	}
	return r.URL.Path
}

// limited applies l to the request's client, answering 429 when it is
// spent; false means the caller must stop.
func (h *handler) limited(w http.ResponseWriter, r *http.Request, l *ratelimit.Limiter, what string) bool {
	addr := h.client(r)
	if l.Allow(ratelimit.Key(addr)) {
		return false
	}
	h.log.Warn("rate limited", "what", what, "client", addr, "path", logPath(r))
	kind := "token"
	switch l {
	case h.signIns:
		kind = "signin"
	case h.forgots:
		kind = "forgot"
	}
	h.metrics.RateLimited(kind)
	h.tooMany(w, r, "")
	return true
}

type nopMetrics struct{}

func (nopMetrics) RateLimited(string) {}

package main

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"frontdesk/claim"
	"frontdesk/claim/web"
	"frontdesk/mailer"
	"frontdesk/store"
	"frontdesk/tui/sshd"
)

// metrics is what `serve --metrics-addr` shows Prometheus. The packages
// declare what they report (sshd.Metrics, mailer.Metrics, claim.Metrics,
// web.Metrics) and this one type answers all of them, so Prometheus is
// imported here only. Every method is safe on a nil *metrics (counting
// nothing), which is what App.metrics is without --metrics-addr.
//
// No label carries anything a customer or a client chose: routes are the
// server's patterns (never a path, which may hold a token), reasons and
// kinds are constants, so the series stay few and the page says nothing
// about anyone.
type metrics struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	mailSent     *prometheus.CounterVec
	mailFailed   *prometheus.CounterVec
	sshOpen      prometheus.Gauge
	sshRefused   *prometheus.CounterVec
	rateLimited  *prometheus.CounterVec
	issued       *prometheus.CounterVec
	claims       prometheus.Counter
	resets       prometheus.Counter
	signInFailed prometheus.Counter
}

var (
	_ sshd.Metrics   = (*metrics)(nil)
	_ mailer.Metrics = (*metrics)(nil)
	_ claim.Metrics  = (*metrics)(nil)
	_ web.Metrics    = (*metrics)(nil)
)

// Rate-limit kinds, one per limit that can refuse a request: the web's
// per-client limits, the SSH server's per-address ones and the database
// throttles of package claim.
var rateLimitKinds = map[string]string{
	"token": "web_token", "signin": "web_signin", "forgot": "web_forgot",
	sshd.RefusedRateLimit: "ssh_connection", sshd.RefusedPreAuthLimit: "ssh_preauth",
	claim.ThrottledSignIn: claim.ThrottledSignIn, claim.ThrottledCode: claim.ThrottledCode, claim.ThrottledReset: claim.ThrottledReset,
}

// newMetrics registers frontdesk's metrics, the outbox and database
// collectors and Go's runtime and process collectors on a registry of its
// own (never the global one: two servers in one test binary each count
// their own).
func newMetrics(db *store.DB, dbPath string, logger *slog.Logger) *metrics {
	const ns = "frontdesk"
	m := &metrics{
		reg: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "http_requests_total",
			Help: "HTTP requests answered by the customers' web and the webhooks, by route pattern and status code."}, []string{"route", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "http_request_duration_seconds",
			Help: "How long HTTP requests took to answer, by route pattern.", Buckets: prometheus.DefBuckets}, []string{"route"}),
		mailSent: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "mail_sent_total",
			Help: "Messages the mail server accepted, by the class of its reply (none: the file transport)."}, []string{"reply_class"}),
		mailFailed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "mail_failed_total",
			Help: "Delivery attempts that did not end in acceptance (retried later or failed for good), by the class of the mail server's reply (none: no reply, such as no connection or a timeout)."}, []string{"reply_class"}),
		sshOpen: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "ssh_sessions_open",
			Help: "Staff TUI sessions open over SSH."}),
		sshRefused: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "ssh_refused_total",
			Help: "SSH connections and sessions turned away, by reason."}, []string{"reason"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "rate_limited_total",
			Help: "Requests and connections refused by a rate limit or throttle, by which one."}, []string{"kind"}),
		issued: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "invites_issued_total",
			Help: "Links issued: invite (claim link emailed), desk (claim link shown at the desk), reminder, reset (password-reset link)."}, []string{"kind"}),
		claims: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "claims_total",
			Help: "Accounts claimed by customers."}),
		resets: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "password_resets_total",
			Help: "Passwords reset by emailed link."}),
		signInFailed: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "signin_failures_total",
			Help: "Customer sign-ins refused after a password check (wrong password or no such account)."}),
	}
	m.reg.MustRegister(m.httpRequests, m.httpDuration, m.mailSent, m.mailFailed, m.sshOpen, m.sshRefused,
		m.rateLimited, m.issued, m.claims, m.resets, m.signInFailed,
		&stateCollector{db: db, path: dbPath, log: logger},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Every series exists from the start, at zero: a rate over a series
	// that appears only with its first event misses that event.
	for _, c := range []string{"2xx", "none"} {
		m.mailSent.WithLabelValues(c)
	}
	for _, c := range []string{"4xx", "5xx", "none"} {
		m.mailFailed.WithLabelValues(c)
	}
	for _, r := range []string{sshd.RefusedRateLimit, sshd.RefusedPreAuthLimit, sshd.RefusedAuthTimeout, sshd.RefusedUnknownKey,
		sshd.RefusedUnauthenticated, sshd.RefusedNoTerminal, sshd.RefusedShutdown} {
		m.sshRefused.WithLabelValues(r)
	}
	for _, k := range rateLimitKinds {
		m.rateLimited.WithLabelValues(k)
	}
	for _, k := range []string{claim.IssuedInvite, claim.IssuedDesk, claim.IssuedReminder, claim.IssuedReset} {
		m.issued.WithLabelValues(k)
	}
	return m
}

// handler serves the metrics page. A collector that fails (the database
// busy past the scrape's patience) leaves its metrics out and is logged;
// the rest are still served.
func (m *metrics) handler(logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
		Timeout:       10 * time.Second,
	}))
	return mux
}

// request counts one HTTP request (see accessLog).
func (m *metrics) request(route string, status int, took time.Duration) {
	if m == nil {
		return
	}
	m.httpRequests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(route).Observe(took.Seconds())
}

func (m *metrics) limited(kind string) {
	if k, ok := rateLimitKinds[kind]; ok {
		m.rateLimited.WithLabelValues(k).Inc()
	}
}

// sshd.Metrics

func (m *metrics) SessionStarted() {
	if m != nil {
		m.sshOpen.Inc()
	}
}

func (m *metrics) SessionEnded() {
	if m != nil {
		m.sshOpen.Dec()
	}
}

func (m *metrics) Refused(reason string) {
	if m == nil {
		return
	}
	m.sshRefused.WithLabelValues(reason).Inc()
	m.limited(reason) // the rate limit and the pre-auth cap are limits too
}

// mailer.Metrics

func (m *metrics) Attempted(status, class string) {
	if m == nil {
		return
	}
	if status == store.OutboxSent {
		m.mailSent.WithLabelValues(class).Inc()
	} else {
		m.mailFailed.WithLabelValues(class).Inc()
	}
}

// claim.Metrics

func (m *metrics) Issued(kind string, n int) {
	if m != nil {
		m.issued.WithLabelValues(kind).Add(float64(n))
	}
}

func (m *metrics) Redeemed(purpose store.Purpose) {
	switch {
	case m == nil:
	case purpose == store.PurposeClaim:
		m.claims.Inc()
	case purpose == store.PurposeReset:
		m.resets.Inc()
	}
}

func (m *metrics) SignInFailed() {
	if m != nil {
		m.signInFailed.Inc()
	}
}

func (m *metrics) Throttled(kind string) {
	if m != nil {
		m.limited(kind)
	}
}

// web.Metrics

func (m *metrics) RateLimited(kind string) {
	if m != nil {
		m.limited(kind)
	}
}

// stateCollector reads, at each scrape, what the database holds rather
// than what this process did: the outbox by state (one GROUP BY over an
// index) and the size of the database's files (two stats).
type stateCollector struct {
	db   *store.DB
	path string
	log  *slog.Logger
}

var (
	outboxDesc = prometheus.NewDesc("frontdesk_outbox_messages", "Messages in the outbox, by state (queued, sent, failed, bounced), all organizations.", []string{"state"}, nil)
	dbSizeDesc = prometheus.NewDesc("frontdesk_database_size_bytes", "Size of the database on disk: the file and its write-ahead log.", nil, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxDesc
	ch <- dbSizeDesc
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.db.OutboxCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(outboxDesc, err)
	} else {
		for _, s := range []string{store.OutboxQueued, store.OutboxSent, store.OutboxFailed, store.OutboxBounced} {
			if _, ok := counts[s]; !ok {
				counts[s] = 0
			}
		}
		for s, n := range counts {
			ch <- prometheus.MustNewConstMetric(outboxDesc, prometheus.GaugeValue, float64(n), s)
		}
	}
	if c.path == "" {
		return // PostgreSQL: the server's own metrics tell its size
	}
	var size int64
	for _, p := range []string{c.path, c.path + "-wal"} {
		st, err := os.Stat(p)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				ch <- prometheus.NewInvalidMetric(dbSizeDesc, err)
				return
			}
			continue
		}
		size += st.Size()
	}
	ch <- prometheus.MustNewConstMetric(dbSizeDesc, prometheus.GaugeValue, float64(size))
}

// loopback reports whether addr (HOST:PORT) listens on loopback only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"frontdesk/claim/ratelimit"
	"frontdesk/claim/web"
	"frontdesk/mailer"
	"frontdesk/mailer/bounce"
	"frontdesk/store/format"
	"frontdesk/tui/sshd"
)

// hostKeyFile is the SSH host key's name inside the data directory.
const hostKeyFile = "ssh_host_ed25519_key"

// ServeConfig is what `frontdesk serve` is told beyond Config.
type ServeConfig struct {
	SSHAddr         string
	HTTPAddr        string
	IdleTimeout     time.Duration // a session without a key press this long is closed; 0: never
	MaxSession      time.Duration // no session lasts longer; 0: no limit
	ShutdownTimeout time.Duration // how long open sessions and requests get to finish
	TrustedProxies  string        // reverse proxies whose X-Forwarded-For names the client

	// New SSH connections allowed per remote address: ConnBurst at once,
	// then one per ConnEvery. Zero: sshd.DefaultConnBurst,
	// sshd.DefaultConnEvery. Not flags; tests and benchmarks open hundreds
	// of sessions from one address.
	ConnBurst int
	ConnEvery time.Duration

	// A connection that has not authenticated within AuthTimeout is
	// closed; at most PreAuthPerAddr connections per remote address may be
	// waiting to authenticate at once. AccessCheck is how often an open
	// session checks that its key and staff member are still registered.
	// Zero: sshd's defaults. Not flags: the defaults are what a person at
	// an SSH client needs, and tests use short ones.
	AuthTimeout    time.Duration
	PreAuthPerAddr int
	AccessCheck    time.Duration

	// Bounces reported by mail providers after delivery (mailer/bounce):
	// the password Postmark's webhook sends, and the SNS topics whose SES
	// notifications are accepted (comma-separated ARNs). Empty: that
	// webhook refuses every call.
	BounceSecret    string
	BounceSNSTopics string
	// BounceClient fetches SNS signing certificates and confirms
	// subscriptions; nil: bounce.DefaultClient. Not a flag: tests reach a
	// stand-in for SNS through it (the URLs are checked all the same).
	BounceClient *http.Client

	// RemindEvery is how often the server looks for invite reminders that
	// are due (org set --remind-after); zero: DefaultRemindEvery. Not a
	// flag: a reminder is due days after its invite, minutes do not matter.
	RemindEvery time.Duration

	// MetricsAddr is where Prometheus metrics are served (GET /metrics);
	// "": nowhere.
	MetricsAddr string

	// BaseURLGiven is whether --base-url (or FRONTDESK_BASE_URL) was set,
	// rather than left at its default (see checkBaseURL).
	BaseURLGiven bool
}

func newServeCmd(app *App) *cobra.Command {
	var sc ServeConfig
	var demo bool
	cmd := &cobra.Command{
		Use:   "serve [--demo]",
		Short: "Run the staff TUI over SSH, the customers' web and the mail worker",
		Long: `Run, in one process, the SSH server that serves the staff front desk, the
customers' web (claim links, sign in, account pages, password reset) and the
outbox worker that sends invites, and, for organizations that set
--remind-after, the reminders of invites not yet claimed.

The HTTP side also takes mail providers' reports of bounces that come after
delivery: POST /webhooks/postmark (Postmark, --bounce-secret) and POST
/webhooks/ses (Amazon SES through SNS, --bounce-sns-topics); README, Bounces.

Links in emails use --base-url, the address customers open; the web listens
on --http-addr (this machine only by default). serve says at start when the
one cannot reach the other, and refuses the default base URL (localhost) on
an address other machines reach.

Staff connect with "ssh -p 23234 HOST" using a key registered with
"frontdesk staff add --key" or "frontdesk staff key add EMAIL KEY"; nobody
else gets a session. The SSH host key is created on first start as
<data-dir>/ssh_host_ed25519_key and reused after. serve refuses to start on
database files that others can read (it names the chmod that fixes them).

SIGINT or SIGTERM shuts down gracefully: no new connections, open sessions are
told and closed, mail the server accepted is recorded and the rest stays
queued (a message on the wire is cut before its end, never half-sent); a
second signal exits at once.
Several serve and tui processes may share one data directory.`,
		Args: cobra.NoArgs,
		RunE: withDB(app, func(ctx context.Context, cmd *cobra.Command, _ []string) error {
			if err := sc.validate(); err != nil {
				return usageError{err}
			}
			sc.BaseURLGiven = cmd.Flags().Changed("base-url") || app.Getenv(envName("base-url")) != ""
			// A server holds the database open for everyone it serves:
			// files others can read give all of it away, like a host key.
			if err := app.DB.CheckPrivate(); err != nil {
				return err
			}
			if demo {
				if err := ensureDemo(ctx, app); err != nil {
					return err
				}
			}
			s, err := NewServer(app, sc, app.ServeLogger())
			if err != nil {
				return err
			}
			return s.Run(ctx)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&sc.SSHAddr, "ssh-addr", ":23234", "address the staff SSH server listens on")
	f.StringVar(&sc.HTTPAddr, "http-addr", defaultHTTPAddr, "address the customers' web listens on (this machine only by default; for other machines give an address such as :8080, and --base-url, the address customers open)")
	durationVar(f, &sc.IdleTimeout, "idle-timeout", 30*time.Minute, "close an SSH session after this long without a key press (0: never)")
	durationVar(f, &sc.MaxSession, "max-session", 12*time.Hour, "close any SSH session after this long (0: no limit)")
	durationVar(f, &sc.ShutdownTimeout, "shutdown-timeout", 15*time.Second, "on SIGINT/SIGTERM, how long sessions and requests get to finish")
	f.StringVar(&sc.TrustedProxies, "trusted-proxies", "", "reverse proxies in front of the web (addresses or CIDRs, comma-separated) whose X-Forwarded-For names the client")
	f.StringVar(&sc.BounceSecret, "bounce-secret", "", "password of Postmark's bounce webhook (HTTP basic auth on /webhooks/postmark; at least 16 characters; prefer FRONTDESK_BOUNCE_SECRET: flags show in ps); empty: refused")
	f.StringVar(&sc.BounceSNSTopics, "bounce-sns-topics", "", "ARNs of the SNS topics whose Amazon SES bounce notifications /webhooks/ses accepts (comma-separated); empty: refused")
	f.BoolVar(&demo, "demo", false, "create the demo organization first if the database has none")
	f.StringVar(&sc.MetricsAddr, "metrics-addr", "", "address serving Prometheus metrics at /metrics, such as 127.0.0.1:9090 (no authentication: keep it on loopback or a private network); empty: none")
	return cmd
}

func (sc *ServeConfig) validate() error {
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"idle-timeout", sc.IdleTimeout}, {"max-session", sc.MaxSession}, {"shutdown-timeout", sc.ShutdownTimeout}} {
		if d.v < 0 {
			return fmt.Errorf("--%s %s is negative; give a duration such as 30m, or 0", d.flag, format.Duration(d.v))
		}
	}
	if sc.IdleTimeout > 0 && sc.IdleTimeout < time.Second {
		return fmt.Errorf("--idle-timeout %s is too short; give a duration such as 30m, or 0 for none", format.Duration(sc.IdleTimeout))
	}
	if _, err := parseTrustedProxies(sc.TrustedProxies); err != nil {
		return err
	}
	if sc.MaxSession > 0 && sc.MaxSession < time.Second {
		return fmt.Errorf("--max-session %s is too short; give a duration such as 12h, or 0 for none", format.Duration(sc.MaxSession))
	}
	if n := len(sc.BounceSecret); n > 0 && n < bounce.MinSecretLen {
		return fmt.Errorf("--bounce-secret is %d characters; use at least %d random ones (openssl rand -hex 24 makes some)", n, bounce.MinSecretLen)
	}
	if _, err := parseSNSTopics(sc.BounceSNSTopics); err != nil {
		return err
	}
	if sc.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(sc.MetricsAddr); err != nil {
			return fmt.Errorf("--metrics-addr %q: give HOST:PORT, such as 127.0.0.1:9090", sc.MetricsAddr)
		}
	}
	return nil
}

// snsTopicARN is an SNS topic's ARN: arn:<partition>:sns:<region>:<account>:<name>.
var snsTopicARN = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$`)

// parseSNSTopics reads --bounce-sns-topics.
func parseSNSTopics(s string) ([]string, error) {
	var out []string
	for _, t := range strings.Split(s, ",") {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if !snsTopicARN.MatchString(t) {
			return nil, fmt.Errorf("--bounce-sns-topics: %q is not an SNS topic ARN such as arn:aws:sns:eu-west-1:123456789012:ses-bounces", t)
		}
		out = append(out, t)
	}
	return out, nil
}

// ServeLogger writes one structured line per event to stderr: the server's
// log is its standard error, for systemd or a container runtime to keep.
func (a *App) ServeLogger() *slog.Logger {
	return a.logger(a.Stderr, slog.LevelInfo)
}

// Server is one `frontdesk serve`: the SSH server, the HTTP server and the
// outbox worker over one database. NewServer binds the ports (so a port in
// use is an error before anything starts); Run serves until its context
// ends and then shuts down in order.
type Server struct {
	app    *App
	cfg    ServeConfig
	log    *slog.Logger
	worker *mailer.Worker

	ssh     *sshd.Server
	desk    *gatedDeliverer // the SSH sessions' "send now", closed after them
	reach   []string        // why emailed links may not reach the web (checkBaseURL)
	sshLn   net.Listener
	http    *http.Server
	httpLn  net.Listener
	started time.Time

	// The metrics page, with --metrics-addr; nil otherwise.
	metrics   *http.Server
	metricsLn net.Listener
}

// NewServer prepares the servers and listens on their addresses.
func NewServer(app *App, cfg ServeConfig, logger *slog.Logger) (*Server, error) {
	w, err := app.Worker(logger.With("part", "outbox"))
	if err != nil {
		return nil, err
	}
	var sshMetrics sshd.Metrics
	if cfg.MetricsAddr != "" {
		// Before anything asks app for a service: they count through it.
		app.metrics = newMetrics(app.DB, app.DB.Path(), logger.With("part", "metrics"))
		w.Metrics, sshMetrics = app.metrics, app.metrics
	}
	s := &Server{app: app, cfg: cfg, log: logger, worker: w, desk: &gatedDeliverer{w: w}}
	s.ssh, err = sshd.New(sshd.Config{
		HostKeyPath:    app.HostKeyPath(),
		IdleTimeout:    cfg.IdleTimeout,
		MaxSession:     cfg.MaxSession,
		ConnLimit:      ratelimit.Limit{Burst: cfg.ConnBurst, Every: cfg.ConnEvery},
		AuthTimeout:    cfg.AuthTimeout,
		PreAuthPerAddr: cfg.PreAuthPerAddr,
		AccessCheck:    cfg.AccessCheck,
		Logger:         logger.With("part", "ssh"),
		Metrics:        sshMetrics,
	}, sshd.Deps{Staff: app.DB, TUI: app.TUIDeps(s.desk)})
	if err != nil {
		return nil, err
	}
	proxies, err := parseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	topics, err := parseSNSTopics(cfg.BounceSNSTopics)
	if err != nil {
		return nil, err
	}
	bounces := bounce.New(bounce.Config{
		DB: app.DB, PostmarkSecret: cfg.BounceSecret, SNSTopics: topics, Client: cfg.BounceClient,
		Logger: logger.With("part", "bounces"), ClientAddr: proxies.clientAddr,
	})
	s.http = newHTTPServer(app, w, bounces, proxies, logger.With("part", "http"))
	if s.sshLn, err = listen("ssh-addr", cfg.SSHAddr); err != nil {
		return nil, err
	}
	if s.httpLn, err = listen("http-addr", cfg.HTTPAddr); err != nil {
		s.sshLn.Close()
		return nil, err
	}
	// Checked on the bound address: a host name or port 0 in --http-addr
	// says less than what the listener got.
	refuse, warnings := checkBaseURL(app.BaseURL, cfg.BaseURLGiven, s.httpLn.Addr(), len(proxies) > 0)
	if refuse != nil {
		s.sshLn.Close()
		s.httpLn.Close()
		return nil, usageError{refuse}
	}
	s.reach = warnings
	if app.metrics != nil {
		if s.metricsLn, err = listen("metrics-addr", cfg.MetricsAddr); err != nil {
			s.sshLn.Close()
			s.httpLn.Close()
			return nil, err
		}
		s.metrics = &http.Server{
			Handler:           app.metrics.handler(logger.With("part", "metrics")),
			ReadHeaderTimeout: 5 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    16 << 10,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		}
	}
	return s, nil
}

// listen binds addr, naming the flag when it cannot.
func listen(flag, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Err != nil {
			err = op.Err
		}
		return nil, usageError{fmt.Errorf("--%s %s: %v", flag, addr, err)}
	}
	return ln, nil
}

// SSHAddr and HTTPAddr are the bound addresses (tests listen on port 0).
func (s *Server) SSHAddr() string  { return s.sshLn.Addr().String() }
func (s *Server) HTTPAddr() string { return s.httpLn.Addr().String() }

// Run serves until ctx ends or a server fails, then shuts down: stop
// accepting, close the TUI sessions with a word to each, let requests
// finish, let the worker record what it sent and give back its lease. The
// database is closed by the caller (App.Close) once Run returns.
func (s *Server) Run(ctx context.Context) error {
	s.started = time.Now()
	wctx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	wg.Add(4)
	go func() {
		defer wg.Done()
		s.worker.Run(wctx)
	}()
	go func() {
		defer wg.Done()
		s.remind(wctx)
	}()
	go func() {
		defer wg.Done()
		if err := s.ssh.Serve(s.sshLn); err != nil {
			errs <- fmt.Errorf("ssh server: %w", err)
		}
	}()
	go func() {
		defer wg.Done()
		if err := s.http.Serve(s.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs <- fmt.Errorf("http server: %w", err)
		}
	}()
	serving := []any{"ssh", s.SSHAddr(), "http", s.HTTPAddr(), "base_url", s.app.BaseURL, "data_dir", s.app.DataDir, "database", s.app.DBName()}
	if s.metrics != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.metrics.Serve(s.metricsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("metrics server: %w", err)
			}
		}()
		addr := s.metricsLn.Addr().String()
		serving = append(serving, "metrics", "http://"+addr+"/metrics")
		if !loopback(addr) {
			s.log.Warn("the metrics page has no authentication and listens beyond this machine; keep --metrics-addr on loopback or a private network", "metrics_addr", addr)
		}
	}
	// The log is stderr, which journald or a container runtime keeps and
	// rotates: there is no file to reopen. SIGHUP is caught all the same,
	// as Caddy does, because its default is to end the process at once,
	// and the reflex of an operator (or a logrotate script) is to send it
	// expecting a reload: that would cut sessions and mail mid-way.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	s.hintKeys(ctx)
	for _, w := range s.reach {
		s.log.Warn("links in emails may not reach the customers' web", "why", w, "base_url", s.app.BaseURL, "http", s.HTTPAddr())
	}
	s.log.Info("serving", serving...)

	var failed error
wait:
	for {
		select {
		case <-ctx.Done():
			s.log.Info("shutting down", "reason", "signal", "timeout", s.cfg.ShutdownTimeout)
			break wait
		case failed = <-errs:
			s.log.Error("shutting down", "reason", "server failed", "err", failed)
			break wait
		case <-hup:
			s.log.Info("SIGHUP ignored: the log is standard error, with no file to reopen; configuration changes need a restart")
		}
	}
	s.shutdown()
	// The sessions are over, so are their contexts: a "send now" still
	// under way is cut, and waited for before the database closes.
	s.desk.Close()
	stopWorker()
	wg.Wait()
	s.log.Info("stopped", "uptime", time.Since(s.started).Round(time.Second))
	return failed
}

// DefaultRemindEvery is how often serve looks for reminders that are due.
const DefaultRemindEvery = 5 * time.Minute

// remind queues the invite reminders that are due (claim's rules, one
// transaction per batch, safe beside other processes on the database) at
// start and then every RemindEvery, waking the worker to send them, until
// ctx ends.
func (s *Server) remind(ctx context.Context) {
	every := s.cfg.RemindEvery
	if every <= 0 {
		every = DefaultRemindEvery
	}
	svc := s.app.Service()
	log := s.log.With("part", "reminders")
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ids, err := svc.SendReminders(ctx)
		if len(ids) > 0 {
			log.Info("reminders queued", "count", len(ids))
			s.worker.Wake()
		}
		if err != nil && ctx.Err() == nil {
			// What was committed stays; the next round goes on from there.
			log.Error("reminders", "err", err)
		}
		t.Reset(every)
	}
}

// hintKeys says how to get in when no staff member has an SSH key yet (a
// fresh `serve --demo`): otherwise the first ssh attempt is the first anyone
// hears of keys.
func (s *Server) hintKeys(ctx context.Context) {
	db := s.app.DB
	orgs, err := db.Orgs(ctx)
	if err != nil || len(orgs) == 0 {
		return
	}
	for _, o := range orgs {
		staff, err := db.StaffList(ctx, o.ID)
		if err != nil {
			return
		}
		for _, st := range staff {
			if keys, err := db.StaffKeys(ctx, st.ID); err != nil || len(keys) > 0 {
				return
			}
		}
	}
	email := "OWNER_EMAIL"
	if owner, err := db.FirstOwner(ctx, orgs[0].ID); err == nil {
		email = owner.Email
	}
	// The key as a file, not "$(cat …)": the log quotes the value, and a
	// line with no quotes of its own copies out of it unchanged.
	s.log.Warn("no staff member has an SSH key yet, so nobody can connect",
		"fix", s.app.Command("staff key add", email, "~/.ssh/id_ed25519.pub"))
}

// shutdown stops both servers within the shutdown timeout, then forces
// whatever is left.
func (s *Server) shutdown() {
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(2)
	if s.metrics != nil {
		// Scrapes are short; one under way may finish.
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.metrics.Shutdown(sctx); err != nil {
				s.metrics.Close()
			}
		}()
	}
	go func() {
		defer wg.Done()
		s.ssh.Shutdown(sctx)
	}()
	go func() {
		defer wg.Done()
		if err := s.http.Shutdown(sctx); err != nil {
			s.log.Warn("http requests cut short", "err", err)
			s.http.Close()
		}
	}()
	wg.Wait()
}

// newHTTPServer is the customers' web (claim links, sign-in, account pages,
// password reset; a reset email wakes this process's worker so it goes out at
// once) and the mail providers' bounce webhooks, with the server's timeouts:
// slow clients cannot hold connections open.
func newHTTPServer(app *App, w *mailer.Worker, bounces *bounce.Handler, proxies trustedProxies, logger *slog.Logger) *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc(healthzRoute, func(rw http.ResponseWriter, r *http.Request) {
		// Healthy means the database answers, not merely that we listen.
		if _, err := app.DB.Orgs(r.Context()); err != nil {
			http.Error(rw, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		rw.Header().Set("Cache-Control", "no-store")
		fmt.Fprintln(rw, "ok")
	})
	bounces.Mount(mux)
	var webMetrics web.Metrics
	if app.metrics != nil {
		webMetrics = app.metrics
	}
	mux.Handle("/", web.New(web.Options{Service: app.Service(), Logger: logger, Wake: w.Wake, ClientAddr: proxies.clientAddr, Metrics: webMetrics}))
	return &http.Server{
		Handler:           accessLog(mux, logger, proxies.clientAddr, app.metrics),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// Package sshd serves the staff TUI over SSH (charmbracelet/wish): only a
// key registered to an active staff member gets a session, and the session
// belongs to the staff member whose key the client proved it holds.
//
// Before authentication it rate-limits new connections per remote address,
// caps how many from one address may be waiting to authenticate and closes
// those that take too long; after it, each session runs one tui.Model sized
// and styled for the client's terminal, and is closed when idle, when it
// reaches its maximum length, when the staff member's access changes, or
// when the server shuts down, with a sentence saying why. Its host key is
// one file, made on first start and refused if others can read it.
//
// frontdesk serve wires it (cmd/frontdesk): New, Serve on a listener, and
// Shutdown before the database closes.
package sshd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	gossh "golang.org/x/crypto/ssh"

	"frontdesk/claim/ratelimit"
	"frontdesk/store"
	"frontdesk/tui"
)

// Config is how the server behaves. Zero values take the defaults below,
// except HostKeyPath, which is required.
type Config struct {
	// HostKeyPath is the server's private host key (OpenSSH PEM); it is
	// made on first start and must not be readable by others.
	HostKeyPath string

	IdleTimeout time.Duration // a session without a key press this long is closed; 0: never
	MaxSession  time.Duration // no session lasts longer; 0: no limit

	// ConnLimit is how many new connections one remote address may open:
	// Burst at once, then one per Every. Zero: DefaultConnBurst and
	// DefaultConnEvery; a negative Burst turns it off (benchmarks).
	ConnLimit ratelimit.Limit
	// A connection that has not authenticated within AuthTimeout is
	// closed; at most PreAuthPerAddr connections per remote address may be
	// waiting to authenticate at once. Zero: DefaultAuthTimeout,
	// DefaultPreAuthPerAddr.
	AuthTimeout    time.Duration
	PreAuthPerAddr int
	// AccessCheck is how often an open session checks that its key and
	// staff member are still registered with the same role. Zero:
	// DefaultAccessCheck.
	AccessCheck time.Duration

	Logger *slog.Logger // nil: discard

	// Metrics hears sessions open and close and connections refused;
	// nil: nobody.
	Metrics Metrics
}

// Metrics is what the server tells the operator's monitoring (frontdesk
// serve --metrics-addr). Calls must be quick and safe for concurrent use.
type Metrics interface {
	SessionStarted() // a staff member's TUI is running
	SessionEnded()   // and has ended, whatever the reason
	// Refused: a connection or session was turned away, for one of the
	// Refused* reasons.
	Refused(reason string)
}

// Why a connection or session was turned away, as Metrics hears it.
const (
	RefusedRateLimit       = "rate_limit"      // too many new connections from the address
	RefusedPreAuthLimit    = "preauth_limit"   // too many from the address waiting to authenticate
	RefusedAuthTimeout     = "auth_timeout"    // not authenticated in time
	RefusedUnknownKey      = "unknown_key"     // closed unauthenticated after offering unregistered keys, or the key was removed
	RefusedUnauthenticated = "unauthenticated" // closed before authenticating, no key offered
	RefusedNoTerminal      = "no_terminal"     // a session without a PTY
	RefusedShutdown        = "shutdown"        // the server is going down
)

// nopMetrics is Config.Metrics when none is given.
type nopMetrics struct{}

func (nopMetrics) SessionStarted() {}
func (nopMetrics) SessionEnded()   {}
func (nopMetrics) Refused(string)  {}

// Per-address connection limits: an office behind one address opens a few
// sessions a minute; a scanner or a loop opens hundreds.
const (
	DefaultConnBurst = 20
	DefaultConnEvery = 3 * time.Second
)

// Before authentication: a person with a registered key is through in a
// second or two, OpenSSH's own server allows 120 s (LoginGraceTime) for
// passwords typed by hand, which frontdesk never asks for. Ten waiting
// connections from one address cover an office behind one NAT logging in
// at once; a scanner or a slow-loris client holds no more than that.
const (
	DefaultAuthTimeout    = 30 * time.Second
	DefaultPreAuthPerAddr = 10
)

// DefaultAccessCheck is how often an open session checks its access:
// removing someone ends their sessions within this, not at their next login.
const DefaultAccessCheck = 30 * time.Second

// Directory says who holds a key; *store.DB is one.
type Directory interface {
	// StaffByFingerprint is the active staff member holding the key with
	// that SHA256 fingerprint; an error with store.ENOTFOUND if none.
	StaffByFingerprint(ctx context.Context, fingerprint string) (*store.Staff, error)
	// StaffByID is the active staff member; store.ENOTFOUND if removed.
	StaffByID(ctx context.Context, id int64) (*store.Staff, error)
	Org(ctx context.Context, id int64) (*store.Org, error)
	// Tx runs a write: the key's last use (store.Tx.RecordKeyUse).
	Tx(ctx context.Context, fn func(tx *store.Tx) error) error
}

var _ Directory = (*store.DB)(nil)

// Deps are the parts of the application the server talks to.
type Deps struct {
	Staff Directory // whose key it is, checked at login and while a session lasts
	// TUI is what every session's TUI talks to: the roster, the invite
	// service, the "send now" deliverer. The deliverer outlives Shutdown;
	// the caller closes it afterwards.
	TUI tui.Deps
}

// Server serves the staff TUI over SSH. Only keys registered to an active
// staff member get a session, and the session belongs to the staff member
// whose key the client proved it holds (see identify).
type Server struct {
	cfg    Config
	staff  Directory
	deps   tui.Deps
	log    *slog.Logger
	srv    *ssh.Server
	limit  *ratelimit.Limiter
	unauth preAuthCount // connections per remote address not yet authenticated

	mu       sync.Mutex
	sessions map[*session]struct{}
	closing  bool
	running  sync.WaitGroup // session handlers (see track), so the database outlives them
}

// New prepares a server: it reads (or makes) the host key. Serve starts it.
func New(cfg Config, deps Deps) (*Server, error) {
	if cfg.HostKeyPath == "" {
		return nil, errors.New("sshd: Config.HostKeyPath is required")
	}
	if deps.Staff == nil || deps.TUI.Roster == nil || deps.TUI.Invites == nil {
		return nil, errors.New("sshd: Deps.Staff and Deps.TUI's Roster and Invites are required")
	}
	cfg = cfg.withDefaults()
	key, err := hostKey(cfg.HostKeyPath)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, staff: deps.Staff, deps: deps.TUI, log: cfg.Logger,
		limit:    ratelimit.New(cfg.ConnLimit),
		unauth:   preAuthCount{n: map[string]int{}},
		sessions: map[*session]struct{}{},
	}
	s.srv, err = wish.NewServer(
		wish.WithHostKeyPEM(key),
		wish.WithVersion("frontdesk"),
		wish.WithPublicKeyAuth(s.knownKey),
		// Never a way in: it is how the refusal reaches the person at the
		// client (OpenSSH prints the instruction of a keyboard-interactive
		// request), since a public-key failure carries no message.
		wish.WithKeyboardInteractiveAuth(s.refuse),
		// Outermost last: track counts every handler for shutdown, recovery
		// wraps the rest, identify runs before the session is logged as
		// started, the TUI is innermost.
		wish.WithMiddleware(s.tui, s.requireTerminal, s.logged, s.identify, s.recover, s.track),
	)
	if err != nil {
		return nil, err
	}
	s.srv.ConnCallback = s.accept
	s.srv.ServerConfigCallback = s.serverConfig
	// An authenticated connection that says nothing (a lost client) is
	// dropped; the TUI's own idle timeout, counted in key presses, is the
	// one staff meet. Before authentication the shorter AuthTimeout holds
	// (see accept).
	s.srv.IdleTimeout = cfg.connIdle()
	return s, nil
}

func (c Config) withDefaults() Config {
	c.ConnLimit = c.ConnLimit.Or(ratelimit.Limit{Burst: DefaultConnBurst, Every: DefaultConnEvery})
	if c.AuthTimeout <= 0 {
		c.AuthTimeout = DefaultAuthTimeout
	}
	if c.PreAuthPerAddr <= 0 {
		c.PreAuthPerAddr = DefaultPreAuthPerAddr
	}
	if c.AccessCheck <= 0 {
		c.AccessCheck = DefaultAccessCheck
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Metrics == nil {
		c.Metrics = nopMetrics{}
	}
	return c
}

// connIdle is the transport-level timeout of an authenticated connection:
// longer than the session's idle timeout (which tells the user why).
// Connections that never authenticate are closed sooner (AuthTimeout).
func (c Config) connIdle() time.Duration {
	if c.IdleTimeout > 0 {
		return c.IdleTimeout + time.Minute
	}
	return 0
}

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	err := s.srv.Serve(ln)
	if errors.Is(err, ssh.ErrServerClosed) {
		return nil
	}
	return err
}

// accept rate-limits new connections per remote address, before any
// handshake work is spent on them, caps how many from one address may be
// waiting to authenticate, and closes a connection that has not
// authenticated within the auth timeout. Without that, a connection that
// never completes the handshake (a scanner, a slow-loris client) would be
// held for the idle timeout plus a minute, and enough of them would exhaust
// the server's sockets.
func (s *Server) accept(ctx ssh.Context, conn net.Conn) net.Conn {
	host := remoteHost(conn.RemoteAddr())
	// One key for both limits: the address, or an IPv6 client's whole /64.
	key := ratelimit.Key(host)
	if !s.limit.Allow(key) {
		s.log.Warn("connection refused", "remote", host, "reason", "rate limit")
		s.cfg.Metrics.Refused(RefusedRateLimit)
		return nil
	}
	limit := s.cfg.PreAuthPerAddr
	if !s.unauth.take(key, limit) {
		s.log.Warn("connection refused", "remote", host, "reason", "too many unauthenticated connections", "limit", limit)
		s.cfg.Metrics.Refused(RefusedPreAuthLimit)
		return nil
	}
	g := &authGate{Conn: conn, release: func() { s.unauth.give(key) }, closed: func() {
		// Closed before authenticating: the client gave up, most often
		// because none of its keys is registered.
		if ctx.Value(refusedKey) != nil {
			s.cfg.Metrics.Refused(RefusedUnknownKey)
		} else {
			s.cfg.Metrics.Refused(RefusedUnauthenticated)
		}
	}}
	ctx.SetValue(authGateKey, g)
	timeout := s.cfg.AuthTimeout
	g.mu.Lock()
	g.timer = time.AfterFunc(timeout, func() {
		if g.settle(gateExpired) {
			s.log.Warn("connection closed", "remote", host, "reason", "not authenticated within "+timeout.String())
			s.cfg.Metrics.Refused(RefusedAuthTimeout)
			conn.Close()
		}
	})
	g.mu.Unlock()
	return g
}

// serverConfig is the per-connection SSH configuration: it tells the
// connection's authGate when authentication has succeeded. x/crypto/ssh
// reports every completed attempt to AuthLogCallback, a nil error only for
// the one that authenticates the connection (a key merely offered is not
// reported), so this is the moment the auth timeout stops applying.
func (s *Server) serverConfig(ctx ssh.Context) *gossh.ServerConfig {
	return &gossh.ServerConfig{
		AuthLogCallback: func(_ gossh.ConnMetadata, _ string, err error) {
			if g, ok := ctx.Value(authGateKey).(*authGate); ok && err == nil {
				g.settle(gateAuthenticated)
			}
		},
	}
}

// preAuthCount counts, per remote address (ratelimit.Key), the connections
// waiting to authenticate.
type preAuthCount struct {
	mu sync.Mutex
	n  map[string]int
}

// take counts one more for host, unless host has limit already.
func (p *preAuthCount) take(host string, limit int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n[host] >= limit {
		return false
	}
	p.n[host]++
	return true
}

func (p *preAuthCount) give(host string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n[host]--; p.n[host] <= 0 {
		delete(p.n, host)
	}
}

// authGate is a connection until it authenticates: it holds one of its
// address's pre-auth places, which it gives back exactly once, when it
// authenticates, when its time runs out or when it closes.
type authGate struct {
	net.Conn
	release func()
	closed  func() // when it closes before authenticating

	mu    sync.Mutex
	state gateState
	timer *time.Timer
}

type gateState int

const (
	gateWaiting gateState = iota
	gateAuthenticated
	gateExpired
	gateClosed
)

// settle moves a waiting gate to state and gives its place back; false when
// it had settled already.
func (g *authGate) settle(state gateState) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state != gateWaiting {
		return false
	}
	g.state = state
	if g.timer != nil {
		g.timer.Stop()
	}
	g.release()
	return true
}

func (g *authGate) Close() error {
	if g.settle(gateClosed) && g.closed != nil {
		g.closed()
	}
	return g.Conn.Close()
}

func remoteHost(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String()
	}
	return a.String()
}

// ctxKey keys what the auth callbacks and middlewares keep in a
// connection's context.
type ctxKey string

const (
	authGateKey ctxKey = "auth-gate"   // *authGate, set by accept
	refusedKey  ctxKey = "refused-key" // the last unregistered key offered, for the refusal message only
	refusedSaid ctxKey = "refusal"     // true once the refusal was shown on this connection
	identityKey ctxKey = "identity"    // *identity, set by identify from the proven key
)

// knownKey answers whether key belongs to an active staff member. It is
// asked about keys the client merely offers as well as the one it proves,
// so it decides nothing about who the session is: identify does that from
// s.PublicKey(), the key whose signature was verified.
func (s *Server) knownKey(ctx ssh.Context, key ssh.PublicKey) bool {
	fp := gossh.FingerprintSHA256(key)
	_, err := s.staff.StaffByFingerprint(ctx, fp)
	switch {
	case err == nil:
		return true
	case store.ErrorCode(err) == store.ENOTFOUND:
		s.log.Warn("key refused", "fingerprint", fp, "user", ctx.User(), "remote", remoteHost(ctx.RemoteAddr()))
		ctx.SetValue(refusedKey, key)
	default:
		s.log.Error("key lookup failed", "fingerprint", fp, "err", err)
	}
	return false
}

// refuse shows an unregistered client what to ask for, and never admits it.
// OpenSSH asks by keyboard-interactive again after a failure, up to its
// NumberOfPasswordPrompts (3), printing the instruction each time: the
// text goes with the first request of a connection only, and the later
// ones fail at once.
func (s *Server) refuse(ctx ssh.Context, challenge gossh.KeyboardInteractiveChallenge) bool {
	if said, _ := ctx.Value(refusedSaid).(bool); said {
		return false
	}
	ctx.SetValue(refusedSaid, true)
	_, _ = challenge("frontdesk", unknownKeyText(ctx.Value(refusedKey)), nil, nil)
	return false
}

// unknownKeyText is what an unregistered client reads.
func unknownKeyText(k any) string {
	key, ok := k.(ssh.PublicKey)
	if !ok {
		return "frontdesk admits registered SSH keys only, and this client offered none.\n" +
			"Make one with `ssh-keygen -t ed25519` and ask an owner to run:\n" +
			"  frontdesk staff key add YOUR_EMAIL \"$(cat ~/.ssh/id_ed25519.pub)\"\n"
	}
	authorized := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(key)))
	return fmt.Sprintf("frontdesk does not know this SSH key (%s).\n"+
		"Ask an owner of your organization to run:\n"+
		"  frontdesk staff key add YOUR_EMAIL %q\n", gossh.FingerprintSHA256(key), authorized)
}

// identify resolves the staff member from the key the session proved. A key
// removed since the handshake, or a staff member removed since, ends the
// session.
func (s *Server) identify(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		key := sess.PublicKey()
		if key == nil {
			fatal(sess, "frontdesk admits registered SSH keys only.")
			return
		}
		ctx := sess.Context()
		fp := gossh.FingerprintSHA256(key)
		staff, err := s.staff.StaffByFingerprint(ctx, fp)
		if err != nil {
			s.log.Warn("session refused", "fingerprint", fp, "remote", remoteHost(sess.RemoteAddr()), "err", err)
			s.cfg.Metrics.Refused(RefusedUnknownKey)
			fatal(sess, unknownKeyText(key))
			return
		}
		org, err := s.staff.Org(ctx, staff.OrgID)
		if err != nil {
			s.log.Error("session refused", "staff", staff.Email, "err", err)
			fatal(sess, "frontdesk could not load your organization; try again, and tell an owner if it persists.")
			return
		}
		// Beside the session, not before it: a write may wait for the
		// lock (another process's import), and a login must not. The
		// handler waits for it, so it never outlives the session (nor the
		// database at shutdown).
		used := make(chan struct{})
		go func() {
			defer close(used)
			s.recordKeyUse(ctx, staff, fp)
		}()
		defer func() { <-used }()
		ctx.SetValue(identityKey, &identity{staff: staff, org: org})
		next(sess)
	}
}

// keyUseTimeout bounds the write of a key's last use.
const keyUseTimeout = 5 * time.Second

// recordKeyUse notes that the key of fingerprint fp opened a session now,
// for `frontdesk staff key list`. It is bookkeeping, not an access
// decision: a failure (the database busy past keyUseTimeout) is logged and
// the session goes on.
func (s *Server) recordKeyUse(ctx context.Context, staff *store.Staff, fp string) {
	ctx, cancel := context.WithTimeout(ctx, keyUseTimeout)
	defer cancel()
	if err := s.staff.Tx(ctx, func(tx *store.Tx) error { return tx.RecordKeyUse(ctx, fp) }); err != nil {
		s.log.Warn("key use not recorded", "staff", staff.Email, "fingerprint", fp, "err", err)
	}
}

// identity is who a session is: the staff member of the proven key, and
// their organization.
type identity struct {
	staff *store.Staff
	org   *store.Org
}

// staffOf is the session's staff member and organization as identify found
// them; false when identify has not run for this session. Every handler
// that needs them reads them here and refuses the session on false (see
// unidentified).
func staffOf(sess ssh.Session) (*store.Staff, *store.Org, bool) {
	id, ok := sess.Context().Value(identityKey).(*identity)
	if !ok || id.staff == nil || id.org == nil {
		return nil, nil, false
	}
	return id.staff, id.org, true
}

// unidentified ends a session that reached a handler needing its staff
// member before identify ran: a middleware order changed by mistake. It
// fails closed, with a word to the client and the reason in the log where
// the mistake will be found; going on would be a panic at best and a
// session belonging to nobody (or to a default) at worst.
func (s *Server) unidentified(sess ssh.Session, handler string) {
	s.log.Error("session refused", "remote", remoteHost(sess.RemoteAddr()), "reason", "no staff member identified before "+handler)
	setEndReason(sess, endUnidentified)
	fatal(sess, "frontdesk could not tell who you are, so it closed this session; it has been logged. Connect again, and tell an owner if it persists.")
}

// logged writes one line when a session starts and one when it ends: who,
// from where, how long, and why it ended.
func (s *Server) logged(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		staff, org, ok := staffOf(sess)
		if !ok {
			s.unidentified(sess, "the session log")
			return
		}
		pty, _, _ := sess.Pty()
		start := time.Now()
		l := s.log.With("staff", staff.Email, "role", staff.Role, "org", org.Slug, "remote", remoteHost(sess.RemoteAddr()))
		l.Info("session start", "term", pty.Term, "width", pty.Window.Width, "height", pty.Window.Height, "client", sess.Context().ClientVersion())
		next(sess)
		l.Info("session end", "duration", time.Since(start).Round(time.Millisecond), "reason", endReason(sess))
	}
}

// requireTerminal turns away a session without a PTY (`ssh host cmd`, a
// script) with one line that says what to do.
func (s *Server) requireTerminal(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		if _, _, ok := sess.Pty(); !ok {
			s.cfg.Metrics.Refused(RefusedNoTerminal)
			setEndReason(sess, endNoTerminal)
			fatal(sess, "frontdesk is a terminal app: connect with `ssh -t` from a terminal. For scripts, run the frontdesk command on the server.")
			return
		}
		next(sess)
	}
}

// recover keeps a panic in one session from taking the server down: it is
// logged with its stack and the session is closed with a word.
func (s *Server) recover(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("session panic", "remote", remoteHost(sess.RemoteAddr()), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				fatal(sess, "frontdesk hit an internal error and closed this session; it has been logged. Connect again to go on.")
			}
		}()
		next(sess)
	}
}

// fatal writes msg to the client's terminal and ends the session with
// status 1.
func fatal(sess ssh.Session, msg string) {
	fmt.Fprintln(sess.Stderr(), msg)
	_ = sess.Exit(1)
}

// Shutdown closes every TUI session with a notice and waits (until ctx
// ends) for their handlers to finish, then closes the listener and every
// connection. A connection is not waited for once its sessions are over: a
// client may keep it open (multiplexing), and the server is going away.
func (s *Server) Shutdown(ctx context.Context) {
	s.mu.Lock()
	s.closing = true
	open := make([]*session, 0, len(s.sessions))
	for ss := range s.sessions {
		open = append(open, ss)
	}
	s.mu.Unlock()
	if len(open) > 0 {
		s.log.Info("closing sessions", "count", len(open))
	}
	for _, ss := range open {
		go ss.end(endShutdown, shutdownText)
	}
	done := make(chan struct{})
	go func() {
		s.running.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.log.Warn("sessions cut", "err", ctx.Err())
	}
	// Closing the connections ends any handler still running (its writes
	// fail); wait for those too, so none outlives the database.
	s.srv.Close()
	<-done
}

// track counts the session's whole handler (the TUI, then its log line) so
// that Shutdown waits for it; when the server is already going down the
// session is refused with the shutdown notice.
func (s *Server) track(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		s.mu.Lock()
		closing := s.closing
		if !closing {
			// Under mu, and never once closing is set: Shutdown's Wait
			// starts after that, so no Add can race it.
			s.running.Add(1)
		}
		s.mu.Unlock()
		if closing {
			s.cfg.Metrics.Refused(RefusedShutdown)
			setEndReason(sess, endShutdown)
			fatal(sess, "frontdesk: "+shutdownText)
			return
		}
		defer s.running.Done()
		next(sess)
	}
}

// register adds a running TUI, for Shutdown to close; false when the server
// is going down.
func (s *Server) register(ss *session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.sessions[ss] = struct{}{}
	return true
}

func (s *Server) unregister(ss *session) {
	s.mu.Lock()
	delete(s.sessions, ss)
	s.mu.Unlock()
}

package mailer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"sync"
	"time"

	// go-mail v0.8.1 is the newest release that builds here: v0.8.2
	// declares go 1.26.10, and this project builds with Go 1.26.8 and
	// GOTOOLCHAIN=local (CI too). Move on when the project's Go does.
	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"

	"frontdesk/store"
)

// Transport delivers outbox messages. Open starts a session (an SMTP
// connection) that serves a whole batch: connecting, TLS and AUTH cost more
// than sending a message.
type Transport interface {
	Open(ctx context.Context) (Conn, error)
}

// Conn is one open session of a Transport. Send returns the server's reply
// when the message was accepted. The end of ctx (a shutdown, a session that
// ends, the caller's deadline) interrupts a send under way at once: a message
// cut before the server's final reply is one the server never took whole (it
// never saw the final dot), so it stays queued and goes again. The one
// uncertain moment, a message the server accepted whose reply is cut off, is
// the duplicate window described at Worker. Close ends the session. A Conn is
// used by one goroutine at a time.
type Conn interface {
	Send(ctx context.Context, m *store.OutboxMessage) (reply string, err error)
	Close() error
}

// sender is what a transport tells the worker about the address it sends
// from: message IDs are made on its domain.
type sender interface{ sender() string }

// TLS modes of Config.TLS.
const (
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS, which the server must offer
	TLSImplicit = "tls"      // TLS from the first byte (SMTPS, usually port 465)
	TLSNone     = "none"     // no encryption at all (a password goes only to this machine, or with Auth named)
)

// DefaultTimeout bounds each step of talking to the mail server (see
// Config.Timeout).
const DefaultTimeout = 30 * time.Second

// quitTimeout bounds the QUIT that ends a healthy session: a courtesy to the
// server, not worth holding up a shutdown for.
const quitTimeout = 5 * time.Second

// Config is how to reach the SMTP server.
type Config struct {
	Host     string
	Port     int // 0: 587 for starttls, 465 for tls, 25 for none
	Username string
	Password string // the password, or with AuthXOAUTH2 the access token
	// Auth is how to log in when Username is set: AuthAuto (the default:
	// the strongest mechanism the server offers, never one that sends the
	// password unencrypted to another machine), a mechanism by name, or
	// AuthNone.
	Auth string
	TLS  string // starttls (default) | tls | none
	From string // envelope sender and From address ("frontdesk@studio.example")
	// DKIM, when set, signs every message (see LoadDKIM).
	DKIM *DKIM
	// Timeout bounds, each on its own: connecting (the TCP connection and,
	// for tls, the handshake), waiting for the server's greeting, the
	// opening exchange (EHLO, STARTTLS and its handshake, AUTH), and each
	// message's whole exchange (MAIL, RCPT, DATA and the final reply).
	// go-mail sets these deadlines on the connection; a step that runs
	// past one fails with a temporary error that says how long the server
	// was given. The caller's context bounds every step as well. 0 means
	// DefaultTimeout. The worker's default lease follows it (see
	// Worker.Lease).
	Timeout time.Duration
	// TLSConfig replaces the default TLS settings, for a private CA (and the
	// tests' self-signed server). ServerName defaults to Host.
	TLSConfig *tls.Config
}

// SMTP is the transport that speaks SMTP through go-mail.
type SMTP struct {
	client   *gomail.Client // without AUTH; Open makes one per session with it
	host     string
	opts     []gomail.Option
	auth     *authPolicy // nil: no AUTH
	from     *mail.Address
	dkim     *DKIM
	tls      *tls.Config
	implicit bool // TLS from the first byte, done by dial
	timeout  time.Duration
	// connectTo, when set, is the address dialled instead of Host:Port,
	// which stays the name TLS verifies and the login policy judges: the
	// tests' servers listen on loopback under other names.
	connectTo string
}

// NewSMTP checks cfg and returns its transport; it does not connect.
func NewSMTP(cfg Config) (*SMTP, error) {
	if cfg.Host == "" {
		return nil, store.Errorf(store.EINVALID, "no SMTP host given")
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil || from.Name != "" {
		return nil, store.Errorf(store.EINVALID, "mail sender %q is not a plain email address (e.g. frontdesk@studio.example)", cfg.From)
	}
	mode := cfg.TLS
	if mode == "" {
		mode = TLSStartTLS
	}
	port := cfg.Port
	timeout := orDefault(cfg.Timeout, DefaultTimeout)
	if timeout < 0 {
		return nil, store.Errorf(store.EINVALID, "SMTP timeout %s is negative; give a duration such as 30s", timeout)
	}
	opts := []gomail.Option{
		gomail.WithTimeout(timeout),
		// go-mail sends a NOOP before every Send call to check the
		// connection: a round trip per message when a batch sends one message
		// per call. A dead connection shows at MAIL FROM just as well, before
		// anything of the message has gone (see errStaleConn).
		gomail.WithoutNoop(),
	}
	switch mode {
	case TLSStartTLS:
		// Mandatory: a server (or an attacker in between) that does not
		// offer STARTTLS gets no message and no password.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
		port = orDefault(port, gomail.DefaultPortTLS)
	case TLSImplicit:
		// dial does the TLS handshake (go-mail's own SSL dialer is bypassed
		// by WithDialContextFunc); there is nothing to STARTTLS on top.
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
		port = orDefault(port, gomail.DefaultPortSSL)
	case TLSNone:
		// Whether a password may go is decided when the server has said
		// which mechanisms it offers (authChooser).
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
		port = orDefault(port, gomail.DefaultPort)
	default:
		return nil, store.Errorf(store.EINVALID, "SMTP TLS mode %q: use starttls, tls or none", cfg.TLS)
	}
	opts = append(opts, gomail.WithPort(port))
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = cfg.Host
	}
	opts = append(opts, gomail.WithTLSConfig(tc))
	auth, err := checkAuth(cfg.Auth, cfg.Username, cfg.Password, cfg.Host)
	if err != nil {
		return nil, err
	}
	s := &SMTP{host: cfg.Host, auth: auth, from: from, dkim: cfg.DKIM, tls: tc, implicit: mode == TLSImplicit, timeout: timeout}
	s.opts = append(opts, gomail.WithDialContextFunc(s.dial))
	c, err := gomail.NewClient(cfg.Host, s.opts...)
	if err != nil {
		return nil, store.Errorf(store.EINVALID, "SMTP settings: %v", err)
	}
	s.client = c
	return s, nil
}

// session returns the go-mail client of one session and, when it logs in,
// the chooser that will pick the mechanism: a login has state, so two
// sessions open at once must not share one.
func (s *SMTP) session() (*gomail.Client, *authChooser, error) {
	if s.auth == nil {
		return s.client, nil, nil
	}
	ch := s.auth.chooser()
	c, err := gomail.NewClient(s.host, append(s.opts[:len(s.opts):len(s.opts)], gomail.WithSMTPAuthCustom(ch))...)
	return c, ch, err
}

// dialed carries, through the dial context, the connection Open made and
// the context of the Open call: go-mail consults the context for dialling
// only, while the greeting, EHLO, STARTTLS and AUTH that follow must end
// with it too (see guardedConn). Open also closes the connection when a
// later step fails: go-mail returns without closing it when EHLO, STARTTLS
// or AUTH goes wrong, and a misconfigured server would otherwise leave a
// socket behind on every retry.
type dialed struct {
	ctx  context.Context
	conn *guardedConn
	stop func() bool // ends the watch on ctx
}

type dialedKey struct{}

func (s *SMTP) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	if s.connectTo != "" {
		addr = s.connectTo
	}
	raw, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	g := &guardedConn{Conn: raw}
	h, _ := ctx.Value(dialedKey{}).(*dialed)
	if h != nil {
		h.conn, h.stop = g, g.watch(h.ctx)
	}
	if !s.implicit {
		return g, nil
	}
	// The handshake runs on the guarded connection, under a deadline
	// rather than ctx, so that a server that never answers it is told
	// apart (a timeout) from a caller who gave up (the context).
	if err := g.SetDeadline(time.Now().Add(s.timeout)); err != nil {
		g.Close()
		return nil, err
	}
	tc := tls.Client(g, s.tls)
	if err := tc.Handshake(); err != nil {
		g.Close()
		return nil, err
	}
	return tc, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func (s *SMTP) sender() string { return s.from.Address }

func (s *SMTP) stepTimeout() time.Duration { return s.timeout }

// Open connects, says EHLO, starts TLS and authenticates. Each Conn has its
// own connection, so several may be open at once (the worker's batch and a
// staff member's "send now").
func (s *SMTP) Open(ctx context.Context) (Conn, error) {
	client, ch, err := s.session()
	if err != nil {
		return nil, store.Errorf(store.EINVALID, "SMTP settings: %v", err)
	}
	h := &dialed{ctx: ctx}
	start := time.Now()
	c, err := client.DialToSMTPClientWithContext(context.WithValue(ctx, dialedKey{}, h))
	cut := h.stop != nil && !h.stop()
	if err == nil && cut {
		// The context ended just as the session opened: it is cut.
		err = ctx.Err()
	}
	if err != nil {
		if h.conn != nil {
			h.conn.Close()
		}
		err = s.explain(ctx, h.conn, start, cut, err)
		if te, ok := err.(*timeoutError); ok {
			te.server = s.client.ServerAddr()
			return nil, te
		}
		if ch != nil {
			if ae, ok := ch.explain(err, s.client.ServerAddr()).(*authError); ok {
				return nil, ae
			}
		}
		return nil, fmt.Errorf("connecting to the mail server %s: %w", s.client.ServerAddr(), err)
	}
	return &smtpConn{t: s, gc: client, c: c, g: h.conn}, nil
}

// explain turns a failure caused by time into words: the caller's context
// ended (interrupted, or its deadline passed), or the server let a deadline
// of Timeout pass. Other failures are returned as they are.
func (s *SMTP) explain(ctx context.Context, g *guardedConn, start time.Time, cut bool, err error) error {
	if cut || (g == nil && ctx.Err() != nil) {
		if dl, ok := ctx.Deadline(); ok && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return &timeoutError{after: dl.Sub(start), detail: s.silence(g)}
		}
		return &interruptedError{cause: ctx.Err()}
	}
	if (g != nil && g.timedOut()) || (g == nil && isTimeout(err)) {
		return &timeoutError{after: s.timeout, detail: s.silence(g)}
	}
	return err
}

// silence says what a server that never said a word is likely to be: the
// usual cause is a port that expects the other TLS mode.
func (s *SMTP) silence(g *guardedConn) string {
	switch {
	case g == nil:
		return "; no connection could be made"
	case g.heardAny():
		return ""
	case s.implicit:
		return "; it accepted the connection but did not answer the TLS handshake (check --smtp-port: with --smtp-tls tls it is usually 465)"
	}
	return "; it accepted the connection but sent no greeting (check --smtp-port and --smtp-tls: port 465 needs --smtp-tls tls)"
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// guardedConn is the connection under go-mail's SMTP client. go-mail puts a
// deadline of Config.Timeout on each phase (greeting; EHLO, STARTTLS and
// AUTH; each message); guardedConn adds the caller's context, which go-mail
// does not consult once connected: while a call is watched, the context's
// end moves the deadline into the past, so the read or write under way
// fails at once. A connection cut that way, or one that ran into a deadline,
// is out of step with the server for good: every later deadline is in the
// past too, and Close drops it without a QUIT.
type guardedConn struct {
	net.Conn

	mu      sync.Mutex
	dead    bool // cut by a context, or ran into a deadline
	expired bool // a read or write ran into a deadline
	heard   bool // the server has sent something
}

// past is a deadline that has passed.
var past = time.Unix(1, 0)

// watch cuts the connection when ctx ends, until the returned stop is
// called; stop reports false when the cut happened.
func (g *guardedConn) watch(ctx context.Context) (stop func() bool) {
	return context.AfterFunc(ctx, func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.dead = true
		g.Conn.SetDeadline(past)
	})
}

func (g *guardedConn) setDeadline(t time.Time, set func(time.Time) error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.dead {
		t = past
	}
	return set(t)
}

func (g *guardedConn) SetDeadline(t time.Time) error {
	return g.setDeadline(t, g.Conn.SetDeadline)
}

func (g *guardedConn) SetReadDeadline(t time.Time) error {
	return g.setDeadline(t, g.Conn.SetReadDeadline)
}

func (g *guardedConn) SetWriteDeadline(t time.Time) error {
	return g.setDeadline(t, g.Conn.SetWriteDeadline)
}

func (g *guardedConn) Read(b []byte) (int, error) {
	n, err := g.Conn.Read(b)
	g.note(n, err)
	return n, err
}

func (g *guardedConn) Write(b []byte) (int, error) {
	n, err := g.Conn.Write(b)
	g.note(0, err)
	return n, err
}

func (g *guardedConn) note(read int, err error) {
	if read == 0 && err == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if read > 0 {
		g.heard = true
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		g.expired, g.dead = true, true
	}
}

func (g *guardedConn) timedOut() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.expired
}

func (g *guardedConn) heardAny() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.heard
}

func (g *guardedConn) isDead() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.dead
}

type smtpConn struct {
	t  *SMTP
	gc *gomail.Client // the session's go-mail client
	c  *gosmtp.Client
	g  *guardedConn
}

// errStaleConn: the connection was found dead before the message started
// (no connection, or MAIL FROM failed without an SMTP reply), so nothing of
// the message was sent and it may go again at once on a new connection.
var errStaleConn = errors.New("the connection to the mail server was closed")

func (c *smtpConn) Send(ctx context.Context, m *store.OutboxMessage) (string, error) {
	if c.c == nil || c.g.isDead() {
		return "", errStaleConn
	}
	msg, err := buildMsg(m, c.t.from, c.t.dkim, time.Now())
	if err != nil {
		return "", err
	}
	start := time.Now()
	stop := c.g.watch(ctx)
	err = c.gc.SendWithSMTPClient(c.c, msg)
	cut := !stop()
	if msg.IsDelivered() {
		// The server accepted the message; a failure after that (the RSET
		// that readies the connection for the next one, or a cut) is the
		// connection's problem, not the message's.
		if err != nil || cut {
			c.Close()
		}
		return reply(msg.ServerResponse()), nil
	}
	if err == nil {
		// Not delivered and no error: go-mail skipped it. Never expected;
		// said rather than taken for a success.
		err = errors.New("the message was not sent")
	}
	if terr := c.t.explain(ctx, c.g, start, cut, err); terr != err {
		c.Close()
		return "", terr
	}
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() == 0 && (se.Reason == gomail.ErrConnCheck || se.Reason == gomail.ErrSMTPMailFrom) {
		c.Close()
		return "", fmt.Errorf("%w: %w", errStaleConn, err)
	}
	return "", err
}

// reply restores the status code go-mail strips from the final answer to DATA.
func reply(resp string) string {
	if resp == "" {
		return "250 accepted"
	}
	if len(resp) >= 3 && resp[0] >= '2' && resp[0] <= '5' && resp[1] >= '0' && resp[1] <= '9' {
		return resp
	}
	return "250 " + resp
}

// Close ends the session: QUIT on a healthy connection (bounded by
// quitTimeout), and straight to closing the socket on one that was cut or
// timed out, which has nothing more to say.
func (c *smtpConn) Close() error {
	if c.c == nil {
		return nil
	}
	defer func() { c.c = nil }()
	if c.g.isDead() {
		return c.c.Close()
	}
	if err := c.c.UpdateDeadline(min(c.t.timeout, quitTimeout)); err != nil {
		return c.c.Close()
	}
	err := c.gc.CloseWithSMTPClient(c.c)
	if err != nil {
		// QUIT failed (the server had gone): drop the socket regardless.
		c.c.Close()
	}
	return err
}

// FileTransport is the embedded default: with no SMTP server configured each
// message becomes an .eml file that the operator can open in a mail program.
type FileTransport struct {
	Dir    string
	From   string // the From address written into the files; "frontdesk@localhost" when empty
	DKIM   *DKIM  // signs the files as it would sign mail sent; nil for none
	Logger *slog.Logger
}

// NewFileTransport writes messages under dir (created 0700 on first use;
// files are 0600, they hold live links).
func NewFileTransport(dir string, logger *slog.Logger) *FileTransport {
	if logger == nil {
		logger = slog.Default()
	}
	return &FileTransport{Dir: dir, Logger: logger}
}

func (f *FileTransport) sender() string { return orDefault(f.From, "frontdesk@localhost") }

// Open makes sure the directory exists.
func (f *FileTransport) Open(ctx context.Context) (Conn, error) {
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the outbox directory: %w", err)
	}
	from, err := mail.ParseAddress(f.sender())
	if err != nil {
		return nil, permanent("mail sender %q is not a valid address", f.sender())
	}
	return &fileConn{f: f, from: from}, nil
}

type fileConn struct {
	f    *FileTransport
	from *mail.Address
}

// Send writes <dir>/<UTC time>-<id>.eml. It writes a temporary file and
// renames it into place, so a program watching the directory never reads a
// half-written message.
func (c *fileConn) Send(ctx context.Context, m *store.OutboxMessage) (string, error) {
	now := time.Now()
	msg, err := buildMsg(m, c.from, c.f.DKIM, now)
	if err != nil {
		return "", err
	}
	path := filepath.Join(c.f.Dir, fmt.Sprintf("%s-%d.eml", now.UTC().Format("20060102T150405Z"), m.ID))
	tmp, err := os.CreateTemp(c.f.Dir, ".tmp-*.eml")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", err
	}
	if _, err := msg.WriteTo(tmp); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", err
	}
	c.f.Logger.Info("mail written to file (no SMTP server configured)", "path", path, "outbox_id", m.ID, "kind", m.Kind)
	return "written to " + path, nil
}

func (c *fileConn) Close() error { return nil }

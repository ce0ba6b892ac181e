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
	"time"

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
// when the message was accepted; a send under way is not interrupted by ctx
// (it is bounded by the transport's timeout instead), so that an accepted
// message is always known as such. Close ends the session. A Conn is used by
// one goroutine at a time.
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
	TLSNone     = "none"     // no encryption at all; no AUTH either
)

// DefaultTimeout bounds dialling and each message's whole SMTP exchange.
const DefaultTimeout = 30 * time.Second

// Config is how to reach the SMTP server.
type Config struct {
	Host     string
	Port     int // 0: 587 for starttls, 465 for tls, 25 for none
	Username string
	Password string
	TLS      string // starttls (default) | tls | none
	From     string // envelope sender and From address ("frontdesk@studio.example")
	// Timeout bounds the dial and, separately, each message's whole exchange
	// with the server (go-mail sets it as the connection's deadline before
	// each message). 0 means DefaultTimeout. Keep the worker's lease well
	// above twice this.
	Timeout time.Duration
	// TLSConfig replaces the default TLS settings, for a private CA (and the
	// tests' self-signed server). ServerName defaults to Host.
	TLSConfig *tls.Config
}

// SMTP is the transport that speaks SMTP through go-mail.
type SMTP struct {
	client   *gomail.Client
	from     *mail.Address
	tls      *tls.Config
	implicit bool // TLS from the first byte, done by dial
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
	opts := []gomail.Option{
		gomail.WithTimeout(orDefault(cfg.Timeout, DefaultTimeout)),
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
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
		port = orDefault(port, gomail.DefaultPort)
		if cfg.Username != "" && !loopback(cfg.Host) {
			// go-mail refuses PLAIN over an unencrypted connection to
			// anything but this machine; saying so now beats a failure on
			// every message.
			return nil, store.Errorf(store.EINVALID, "SMTP authentication needs an encrypted connection; use --smtp-tls starttls or tls, or drop --smtp-username")
		}
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
	if cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	s := &SMTP{from: from, tls: tc, implicit: mode == TLSImplicit}
	opts = append(opts, gomail.WithDialContextFunc(s.dial))
	c, err := gomail.NewClient(cfg.Host, opts...)
	if err != nil {
		return nil, store.Errorf(store.EINVALID, "SMTP settings: %v", err)
	}
	s.client = c
	return s, nil
}

func loopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// dialed carries, through the dial context, the connection Open made, so
// that Open can close it when a later step fails: go-mail returns without
// closing it when EHLO, STARTTLS or AUTH goes wrong, and a misconfigured
// server would otherwise leave a socket behind on every retry.
type dialed struct{ conn net.Conn }

type dialedKey struct{}

func (s *SMTP) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if s.implicit {
		tc := tls.Client(conn, s.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		conn = tc
	}
	if h, ok := ctx.Value(dialedKey{}).(*dialed); ok {
		h.conn = conn
	}
	return conn, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func (s *SMTP) sender() string { return s.from.Address }

// Open connects, says EHLO, starts TLS and authenticates. Each Conn has its
// own connection, so several may be open at once (the worker's batch and a
// staff member's "send now").
func (s *SMTP) Open(ctx context.Context) (Conn, error) {
	h := &dialed{}
	c, err := s.client.DialToSMTPClientWithContext(context.WithValue(ctx, dialedKey{}, h))
	if err != nil {
		if h.conn != nil {
			h.conn.Close()
		}
		return nil, fmt.Errorf("connecting to the mail server %s: %w", s.client.ServerAddr(), err)
	}
	return &smtpConn{t: s, c: c}, nil
}

type smtpConn struct {
	t *SMTP
	c *gosmtp.Client
}

// errStaleConn: the connection was found dead before the message started
// (no connection, or MAIL FROM failed without an SMTP reply), so nothing of
// the message was sent and it may go again at once on a new connection.
var errStaleConn = errors.New("the connection to the mail server was closed")

func (c *smtpConn) Send(ctx context.Context, m *store.OutboxMessage) (string, error) {
	// ctx is not consulted: go-mail cannot abandon a message half-way, and a
	// message already started should finish (within Config.Timeout) and be
	// recorded rather than be cut off.
	if c.c == nil {
		return "", errStaleConn
	}
	msg, err := buildMsg(m, c.t.from, time.Now())
	if err != nil {
		return "", err
	}
	err = c.t.client.SendWithSMTPClient(c.c, msg)
	if msg.IsDelivered() {
		// The server accepted the message; a failure after that (the RSET
		// that readies the connection for the next one) is the connection's
		// problem, not the message's.
		if err != nil {
			c.Close()
		}
		return reply(msg.ServerResponse()), nil
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

func (c *smtpConn) Close() error {
	if c.c == nil {
		return nil
	}
	err := c.t.client.CloseWithSMTPClient(c.c)
	if err != nil {
		// QUIT failed (the server had gone): drop the socket regardless.
		c.c.Close()
	}
	c.c = nil
	return err
}

// FileTransport is the embedded default: with no SMTP server configured each
// message becomes an .eml file that the operator can open in a mail program.
type FileTransport struct {
	Dir    string
	From   string // the From address written into the files; "frontdesk@localhost" when empty
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
	msg, err := buildMsg(m, c.from, now)
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

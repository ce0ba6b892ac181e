package mailer

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// A real SMTP server (go-smtp) on 127.0.0.1, configurable to misbehave in
// the ways mail servers do.

const (
	testUser = "frontdesk"
	testPass = "correct horse battery staple"
)

type serverConfig struct {
	StartTLS    bool // offer STARTTLS and refuse MAIL before it
	ImplicitTLS bool // TLS from the first byte
	Auth        bool // require AUTH (testUser, testPass) before MAIL
	// Mechs are the SASL mechanisms offered, in the EHLO reply's order
	// (PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-256, XOAUTH2 with testToken; any
	// other name is offered and refused). Nil offers PLAIN when Auth is
	// set. Without TLS they are offered in the clear, as a server on a
	// private network may.
	Mechs []string
	// RcptCodes are answered to RCPT by successive attempts (across
	// connections) before RCPT is accepted: 421, 451, 550 …
	RcptCodes []int
	// RcptErrors, after RcptCodes, are answered to RCPT in turn, as they
	// are: the replies real servers give.
	RcptErrors []*smtp.SMTPError
	// DataDrops: the first DataDrops messages lose their connection in the
	// middle of DATA.
	DataDrops int
	// Discard: count messages without keeping them (benchmarks).
	Discard bool
	// DataStall: every message stops in the middle of DATA: the server
	// reads a little of it and then neither reads on nor answers, until the
	// client goes away (a relay that hangs with the message half in).
	DataStall bool
}

type received struct {
	From string
	To   []string
	Data string
	TLS  bool
	User string
	Mech string // the SASL mechanism the client logged in with
}

// Header returns a header of the received message.
func (r received) Header(name string) string {
	m, err := mail.ReadMessage(strings.NewReader(r.Data))
	if err != nil {
		return ""
	}
	return m.Header.Get(name)
}

type testServer struct {
	Host string
	Port int
	cfg  serverConfig
	pool *x509.CertPool

	authTries []string // the mechanism of every AUTH command, in order

	got     chan struct{} // one token per accepted message
	stalled chan struct{} // one token per message stalled in DATA
	gone    chan struct{} // closed when the test ends: stalled sessions let go

	mu       sync.Mutex
	msgs     []received
	rcptSeen int
	drops    int
	conns    int
	open     int
	closed   chan struct{}

	discarded int
}

var (
	certOnce sync.Once
	testCert tls.Certificate
	testPool *x509.CertPool
)

// selfSigned makes one certificate for 127.0.0.1 and localhost per test
// binary; the clients trust it through Config.TLSConfig.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	certOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(1),
			Subject:               pkix.Name{CommonName: "frontdesk test SMTP"},
			NotBefore:             time.Now().Add(-time.Hour),
			NotAfter:              time.Now().Add(24 * time.Hour),
			IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
			DNSNames:              []string{"localhost"},
			KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			BasicConstraintsValid: true,
			IsCA:                  true,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			panic(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			panic(err)
		}
		testCert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}
		testPool = x509.NewCertPool()
		testPool.AddCert(cert)
	})
	return testCert, testPool
}

func startServer(t testing.TB, cfg serverConfig) *testServer {
	t.Helper()
	s := &testServer{cfg: cfg, got: make(chan struct{}, 10000), closed: make(chan struct{}, 10000),
		stalled: make(chan struct{}, 100), gone: make(chan struct{})}
	srv := smtp.NewServer(s)
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.AllowInsecureAuth = !cfg.StartTLS && !cfg.ImplicitTLS
	var l net.Listener
	var err error
	if cfg.StartTLS || cfg.ImplicitTLS {
		cert, pool := selfSigned(t)
		s.pool = pool
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	if l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	// Counting below TLS: go-smtp must still see a *tls.Conn.
	l = &countingListener{Listener: l, s: s}
	if cfg.ImplicitTLS {
		l = tls.NewListener(l, srv.TLSConfig)
	}
	addr := l.Addr().(*net.TCPAddr)
	s.Host, s.Port = "127.0.0.1", addr.Port
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	t.Cleanup(func() { close(s.gone) }) // runs first: a stalled Data returns, then Close
	return s
}

// config is the client configuration that reaches this server.
func (s *testServer) config() Config {
	c := Config{Host: s.Host, Port: s.Port, From: "frontdesk@studio.example", Timeout: 5 * time.Second, TLS: TLSNone}
	switch {
	case s.cfg.ImplicitTLS:
		c.TLS = TLSImplicit
	case s.cfg.StartTLS:
		c.TLS = TLSStartTLS
	}
	if s.pool != nil {
		c.TLSConfig = &tls.Config{RootCAs: s.pool}
	}
	if s.cfg.Auth || len(s.cfg.Mechs) > 0 {
		c.Username, c.Password = testUser, testPass
	}
	return c
}

// AuthTries returns the mechanism of every AUTH command the server got.
func (s *testServer) AuthTries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.authTries...)
}

func (s *testServer) transport(t testing.TB) *SMTP {
	t.Helper()
	tr, err := NewSMTP(s.config())
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// Received returns the messages accepted so far.
func (s *testServer) Received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

// CountTo counts accepted messages per recipient.
func (s *testServer) CountTo() map[string]int {
	n := map[string]int{}
	for _, m := range s.Received() {
		for _, to := range m.To {
			n[to]++
		}
	}
	return n
}

// waitFor waits until the server has accepted n messages in all, or gives
// up after timeout (a failure, not a synchronisation delay).
func (s *testServer) waitFor(n int, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for len(s.Received()) < n {
		select {
		case <-s.got:
		case <-deadline:
			return false
		}
	}
	return true
}

func (s *testServer) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// countingListener counts connections (sessions would count twice with
// STARTTLS, which starts a new one after the handshake).
type countingListener struct {
	net.Listener
	s *testServer
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.s.mu.Lock()
		l.s.conns++
		l.s.open++
		l.s.mu.Unlock()
		c = &countedConn{Conn: c, s: l.s}
	}
	return c, err
}

// countedConn notices the server side closing, which go-smtp does as soon as
// the client has gone.
type countedConn struct {
	net.Conn
	s    *testServer
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() {
		c.s.mu.Lock()
		c.s.open--
		c.s.mu.Unlock()
		select {
		case c.s.closed <- struct{}{}:
		default:
		}
	})
	return c.Conn.Close()
}

// waitIdle waits until no connection is open, or gives up after timeout.
func (s *testServer) waitIdle(timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		n := s.open
		s.mu.Unlock()
		if n == 0 {
			return true
		}
		select {
		case <-s.closed:
		case <-deadline:
			return false
		}
	}
}

// NewSession implements smtp.Backend.
func (s *testServer) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: s, c: c}, nil
}

type session struct {
	s      *testServer
	c      *smtp.Conn
	user   string
	mech   string
	from   string
	to     []string
	authed bool
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.cfg.Mechs != nil {
		return ss.s.cfg.Mechs
	}
	if !ss.s.cfg.Auth {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	ss.s.mu.Lock()
	ss.s.authTries = append(ss.s.authTries, mech)
	ss.s.mu.Unlock()
	if !slices.Contains(ss.AuthMechanisms(), mech) {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	ok := func(username string) {
		ss.authed, ss.user, ss.mech = true, username, mech
	}
	return saslServer(mech, ok)
}

func (ss *session) isTLS() bool {
	_, ok := ss.c.TLSConnectionState()
	return ok
}

func (ss *session) Mail(from string, opts *smtp.MailOptions) error {
	if ss.s.cfg.StartTLS && !ss.isTLS() {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Must issue a STARTTLS command first"}
	}
	if ss.s.cfg.Auth && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

var codeWords = map[int]struct {
	enh smtp.EnhancedCode
	msg string
}{
	421: {smtp.EnhancedCode{4, 4, 2}, "Service not available, try again later"},
	451: {smtp.EnhancedCode{4, 3, 0}, "Temporary local problem"},
	452: {smtp.EnhancedCode{4, 2, 2}, "Mailbox full"},
	550: {smtp.EnhancedCode{5, 1, 1}, "User unknown"},
	554: {smtp.EnhancedCode{5, 7, 1}, "Message rejected"},
}

func (ss *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if ss.s.rcptSeen < len(ss.s.cfg.RcptCodes) {
		code := ss.s.cfg.RcptCodes[ss.s.rcptSeen]
		ss.s.rcptSeen++
		w := codeWords[code]
		return &smtp.SMTPError{Code: code, EnhancedCode: w.enh, Message: w.msg}
	}
	if n := ss.s.rcptSeen - len(ss.s.cfg.RcptCodes); n < len(ss.s.cfg.RcptErrors) {
		ss.s.rcptSeen++
		return ss.s.cfg.RcptErrors[n]
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	ss.s.mu.Lock()
	drop := ss.s.drops < ss.s.cfg.DataDrops
	if drop {
		ss.s.drops++
	}
	ss.s.mu.Unlock()
	if ss.s.cfg.DataStall {
		io.ReadFull(r, make([]byte, 64))
		ss.s.stalled <- struct{}{}
		// go-smtp reads nothing more while Data runs: the client's final
		// dot, if it comes, stays unread and unanswered. The client going
		// away (or the test ending) lets go.
		gone := make(chan struct{})
		go func() {
			io.Copy(io.Discard, ss.c.Conn())
			close(gone)
		}()
		select {
		case <-gone:
		case <-ss.s.gone:
		}
		return errors.New("stalled by test")
	}
	if drop {
		// Take part of the message, then vanish, as a server that crashes
		// or a network that breaks mid-transfer does.
		io.ReadFull(r, make([]byte, 64))
		ss.c.Conn().Close()
		return errors.New("connection dropped by test")
	}
	if ss.s.cfg.Discard {
		_, err := io.Copy(io.Discard, r)
		ss.s.mu.Lock()
		ss.s.discarded++
		ss.s.mu.Unlock()
		return err
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, received{From: ss.from, To: ss.to, Data: string(b), TLS: ss.isTLS(), User: ss.user, Mech: ss.mech})
	ss.s.mu.Unlock()
	select {
	case ss.s.got <- struct{}{}:
	default:
	}
	return nil
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }

func (ss *session) Logout() error { return nil }

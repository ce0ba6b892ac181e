package sshd

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	gossh "golang.org/x/crypto/ssh"

	"frontdesk/claim"
	"frontdesk/mailer"
	"frontdesk/store"
	"frontdesk/tui"
)

// The end-to-end tests of the server (logins, sessions, limits, shutdown)
// run `frontdesk serve` in cmd/frontdesk. These build the server's parts
// into servers of their own: a real store, a real x/crypto SSH client.

// logBuf is a log the server writes while the test reads it.
type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// fixture is a Server from New over a real SQLite store with one
// organization and one admin whose SSH key is registered.
type fixture struct {
	s       *Server
	log     *logBuf
	key     gossh.Signer // the admin's
	hostKey []byte
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		org := &store.Org{Name: "Harbor Yoga", Slug: "harbor-yoga", TimeZone: "UTC", Notifications: true}
		if err := tx.CreateOrg(ctx, org); err != nil {
			return err
		}
		admin := &store.Staff{OrgID: org.ID, Email: "admin@harbor.example", Name: "Sam Rivera", Role: store.RoleAdmin}
		if err := tx.CreateStaff(ctx, admin); err != nil {
			return err
		}
		_, err := tx.AddStaffKey(ctx, admin.ID, string(gossh.MarshalAuthorizedKey(key.PublicKey())))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	log := &logBuf{}
	logger := slog.New(slog.NewTextHandler(log, nil))
	worker := &mailer.Worker{DB: db, Transport: mailer.NewFileTransport(filepath.Join(dir, "outbox"), logger), Logger: logger}
	s, err := New(Config{HostKeyPath: filepath.Join(dir, "host_key"), Logger: logger}, Deps{
		Staff: db,
		TUI:   tui.Deps{Roster: db, Invites: &claim.Service{DB: db, Mail: worker}, Now: db.Now},
	})
	if err != nil {
		t.Fatal(err)
	}
	pem, err := hostKey(filepath.Join(dir, "host_key"))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{s: s, log: log, key: key, hostKey: pem}
}

// serve runs srv (the fixture's own server when nil) on a loopback port
// until the test ends, and returns its address.
func (f *fixture) serve(t *testing.T, srv *ssh.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if srv == nil {
		go f.s.Serve(ln)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			f.s.Shutdown(ctx)
		})
	} else {
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
	}
	return ln.Addr().String()
}

// withMiddleware is a server with the fixture's host key and key check,
// and the middlewares given (innermost first, as wish takes them).
func (f *fixture) withMiddleware(t *testing.T, mw ...wish.Middleware) *ssh.Server {
	t.Helper()
	srv, err := wish.NewServer(
		wish.WithHostKeyPEM(f.hostKey),
		wish.WithPublicKeyAuth(f.s.knownKey),
		wish.WithMiddleware(mw...),
	)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// run connects to addr as key, runs a session without a terminal, and
// returns what it printed and its exit status.
func (f *fixture) run(t *testing.T, addr string, key gossh.Signer) (string, int) {
	t.Helper()
	signer, err := gossh.ParsePrivateKey(f.hostKey)
	if err != nil {
		t.Fatal(err)
	}
	client, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{
		User:            "staff",
		Auth:            []gossh.AuthMethod{gossh.PublicKeys(key)},
		HostKeyCallback: gossh.FixedHostKey(signer.PublicKey()),
		Timeout:         10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.CombinedOutput("")
	var exit *gossh.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitStatus()
	}
	t.Fatalf("session: %v (output %q)", err, out)
	return "", -1
}

// A panic in a session's handler is logged and closes that session only:
// the server goes on serving the next connection.
func TestPanicInSessionKeepsServerUp(t *testing.T) {
	f := newFixture(t)
	addr := f.serve(t, f.withMiddleware(t, func(ssh.Handler) ssh.Handler {
		return func(ssh.Session) { panic("boom") }
	}, f.s.recover))
	for i := range 2 {
		out, status := f.run(t, addr, f.key)
		if status != 1 || !strings.Contains(out, "internal error") {
			t.Fatalf("connection %d: %q, exit %d; want the internal-error notice and exit status 1", i+1, out, status)
		}
	}
	if log := f.log.String(); !strings.Contains(log, "session panic") || !strings.Contains(log, "boom") {
		t.Fatalf("the panic was not logged: %s", log)
	}
}

// The handlers that need the session's staff member refuse the session,
// with a word to the client and a log line, when identify has not run
// before them (a middleware order changed by mistake): never a panic, and
// never a session without a staff member.
func TestMiddlewareOutOfOrderRefuses(t *testing.T) {
	f := newFixture(t)
	// The server as New builds it: the key is registered and gets as far
	// as asking for a terminal.
	if out, status := f.run(t, f.serve(t, nil), f.key); status != 1 || !strings.Contains(out, "frontdesk is a terminal app") {
		t.Fatalf("in the right order: %q, exit %d; want the terminal notice", out, status)
	}
	s := f.s
	for name, mw := range map[string][]wish.Middleware{
		"logged before identify": {s.tui, s.requireTerminal, s.identify, s.logged, s.recover, s.track},
		"tui before identify":    {s.identify, s.tui, s.recover, s.track},
		"no identify":            {s.tui, s.logged, s.recover, s.track},
	} {
		t.Run(name, func(t *testing.T) {
			from := len(f.log.String())
			out, status := f.run(t, f.serve(t, f.withMiddleware(t, mw...)), f.key)
			if status != 1 || !strings.Contains(out, "could not tell who you are") || strings.Contains(out, "internal error") {
				t.Errorf("the client got %q, exit %d; want the refusal and exit status 1", out, status)
			}
			log := f.log.String()[from:]
			if !strings.Contains(log, `msg="session refused"`) || !strings.Contains(log, "no staff member identified") {
				t.Errorf("the refusal is not logged:\n%s", log)
			}
			if strings.Contains(log, "session panic") || strings.Contains(log, "session start") {
				t.Errorf("the session panicked or started:\n%s", log)
			}
		})
	}
}

// A client that asks by keyboard-interactive again after a failure, as
// OpenSSH does up to three times, reads the refusal once per connection.
func TestKeyRefusalShownOncePerConnection(t *testing.T) {
	f := newFixture(t)
	addr := f.serve(t, nil)
	signer, err := gossh.ParsePrivateKey(f.hostKey)
	if err != nil {
		t.Fatal(err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	for conn := range 2 {
		var asked, shown int
		_, err = gossh.Dial("tcp", addr, &gossh.ClientConfig{
			User: "staff",
			Auth: []gossh.AuthMethod{
				gossh.PublicKeys(stranger),
				gossh.RetryableAuthMethod(gossh.KeyboardInteractive(func(_, instruction string, questions []string, _ []bool) ([]string, error) {
					asked++
					if strings.Contains(instruction, "does not know this SSH key") {
						shown++
					}
					return make([]string, len(questions)), nil
				}), 3),
			},
			HostKeyCallback: gossh.FixedHostKey(signer.PublicKey()),
			Timeout:         10 * time.Second,
		})
		if err == nil {
			t.Fatal("an unregistered key got in")
		}
		if shown != 1 || asked != 1 {
			t.Errorf("connection %d: the refusal was shown %d times in %d challenges; want once", conn+1, shown, asked)
		}
	}
}

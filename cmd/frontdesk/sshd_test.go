package main

import (
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	gossh "golang.org/x/crypto/ssh"
)

// Connections beyond the per-address burst are dropped before the
// handshake; other addresses are unaffected.
func TestServeRateLimitsConnectionsPerAddress(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "5")
	key := c.withKey(demoAdmin)
	s := c.serve()
	refused := 0
	for range sshConnBurst + 5 {
		client, err := dialSSH(t, s.ssh, c.dir, gossh.PublicKeys(key))
		if err != nil {
			refused++
			continue
		}
		client.Close()
	}
	// The bucket refills one token per sshConnEvery (3 s), so at most one
	// extra connection may slip in while the loop runs.
	if refused < 4 {
		t.Fatalf("%d of %d connections at once were refused; want at least 4", refused, sshConnBurst+5)
	}
	if log := s.stderr.String(); !strings.Contains(log, `msg="connection refused"`) || !strings.Contains(log, "reason=\"rate limit\"") {
		t.Fatalf("the refusals are not logged:\n%s", log)
	}
}

// A panic in a session's handler is logged and closes that session only:
// the server goes on serving the next connection.
func TestPanicInSessionKeepsServerUp(t *testing.T) {
	var logged strings.Builder
	s := &sshServer{log: slog.New(slog.NewTextHandler(&logged, nil))}
	key, _ := newKey(t)
	dir := t.TempDir()
	pem, err := hostKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := wish.NewServer(
		wish.WithHostKeyPEM(pem),
		wish.WithPublicKeyAuth(func(ssh.Context, ssh.PublicKey) bool { return true }),
		wish.WithMiddleware(func(ssh.Handler) ssh.Handler {
			return func(ssh.Session) { panic("boom") }
		}, s.recover),
	)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	for i := range 2 {
		client, err := dialSSH(t, ln.Addr().String(), dir, gossh.PublicKeys(key))
		if err != nil {
			t.Fatalf("connection %d: %v", i+1, err)
		}
		sess, err := client.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		out, err := sess.CombinedOutput("")
		var exit *gossh.ExitError
		if !errors.As(err, &exit) || exit.ExitStatus() != 1 || !strings.Contains(string(out), "internal error") {
			t.Fatalf("connection %d: %q, %v; want the internal-error notice and exit status 1", i+1, out, err)
		}
		client.Close()
	}
	if !strings.Contains(logged.String(), "session panic") || !strings.Contains(logged.String(), "boom") {
		t.Fatalf("the panic was not logged: %s", logged.String())
	}
}

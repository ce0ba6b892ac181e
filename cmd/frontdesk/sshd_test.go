package main

import (
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	gossh "golang.org/x/crypto/ssh"
)

func TestAddrLimiter(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := newAddrLimiter(3, 10*time.Second)
	l.now = func() time.Time { return now }
	for i := range 3 {
		if !l.Allow("192.0.2.1") {
			t.Fatalf("connection %d of the burst refused", i+1)
		}
	}
	if l.Allow("192.0.2.1") {
		t.Fatal("a fourth connection at once was allowed")
	}
	if !l.Allow("192.0.2.2") {
		t.Fatal("another address was refused for the first one's connections")
	}
	now = now.Add(10 * time.Second)
	if !l.Allow("192.0.2.1") || l.Allow("192.0.2.1") {
		t.Fatal("after one interval, exactly one more connection should be allowed")
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

package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"frontdesk/tui/sshd"
)

// serveWith starts a Server (NewServer, as `serve` does) with cfg on the
// CLI's data directory, logging to the returned buffer.
func (c *cli) serveWith(cfg ServeConfig) (addr string, log *watched) {
	c.t.Helper()
	app := &App{Config: Config{DataDir: c.dir, BaseURL: "http://localhost:8080", SMTPPort: 587, SMTPTLS: "starttls", MailFrom: "frontdesk@localhost", EmailDNS: "off"}, Stderr: io.Discard}
	if err := app.Open(); err != nil {
		c.t.Fatal(err)
	}
	log = newWatched()
	cfg.SSHAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 5 * time.Second
	}
	s, err := NewServer(app, cfg, slog.New(slog.NewTextHandler(log, nil)))
	if err != nil {
		app.Close()
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
		app.Close()
	}()
	c.t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			c.t.Errorf("the server did not stop")
		}
	})
	return s.SSHAddr(), log
}

// rawConn opens a TCP connection that never speaks SSH and reads the
// server's version line, which the server sends once it has taken the
// connection on.
func rawConn(t *testing.T, addr string) (net.Conn, *bufio.Reader, bool) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	return conn, r, err == nil && strings.HasPrefix(line, "SSH-2.0-")
}

// A connection that never authenticates (here: never says a word) is closed
// after the auth timeout, not kept for the idle timeout, and the log says
// why.
func TestSSHUnauthenticatedConnectionClosedAfterAuthTimeout(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "5")
	addr, log := c.serveWith(ServeConfig{AuthTimeout: 500 * time.Millisecond, IdleTimeout: 30 * time.Minute})
	conn, r, ok := rawConn(t, addr)
	if !ok {
		t.Fatal("no SSH version line from the server")
	}
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.Copy(io.Discard, r)
	if ne, isNet := err.(net.Error); isNet && ne.Timeout() {
		t.Fatalf("the silent connection was still open after 10s, with a 500ms auth timeout")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("closed after %s, with a 500ms auth timeout", took)
	}
	text, ok := log.waitFor(0, 5*time.Second, func(l string) bool {
		return strings.Contains(l, `msg="connection closed"`) && strings.Contains(l, `reason="not authenticated within 500ms"`)
	})
	if !ok {
		t.Fatalf("the log does not say why the connection was closed:\n%s", text)
	}
	t.Logf("log:\n%s", text)
}

// At most sshd.DefaultPreAuthPerAddr connections from one address may be
// waiting to authenticate: the next is refused before any handshake and
// logged; a slot comes free when one of them goes, and a real login then
// works.
func TestSSHUnauthenticatedConnectionsCappedPerAddress(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "5")
	key := c.withKey(demoAdmin)
	// The per-address rate limit is not what is tested here.
	addr, log := c.serveWith(ServeConfig{AuthTimeout: time.Minute, ConnBurst: 1000, ConnEvery: time.Millisecond})
	var held []net.Conn
	for i := range sshd.DefaultPreAuthPerAddr {
		conn, _, ok := rawConn(t, addr)
		if !ok {
			t.Fatalf("connection %d of %d was refused", i+1, sshd.DefaultPreAuthPerAddr)
		}
		held = append(held, conn)
	}
	if _, _, ok := rawConn(t, addr); ok {
		t.Fatalf("connection %d from one address, all unauthenticated, was taken on", sshd.DefaultPreAuthPerAddr+1)
	}
	text, ok := log.waitFor(0, 5*time.Second, func(l string) bool {
		return strings.Contains(l, `msg="connection refused"`) && strings.Contains(l, `reason="too many unauthenticated connections"`)
	})
	if !ok {
		t.Fatalf("the refusal is not logged:\n%s", text)
	}
	t.Logf("log:\n%s", text)
	held[0].Close()
	// The slot comes free once the server sees the close: poll with a
	// real login until then.
	deadline := time.Now().Add(10 * time.Second)
	for {
		client, err := dialSSH(t, addr, c.dir, gossh.PublicKeys(key))
		if err == nil {
			client.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no login after a waiting connection closed: %v\n%s", err, log)
		}
		<-time.After(20 * time.Millisecond)
	}
}

// A staff member who authenticates is not cut at the auth timeout: the
// session works on well past it.
func TestSSHLoginOutlivesAuthTimeout(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "5")
	key := c.withKey(demoAdmin)
	// Long enough that a handshake under the race detector on a loaded
	// machine finishes inside it (at 300 ms it did not always), short
	// enough to wait out.
	const authTimeout = 2 * time.Second
	addr, log := c.serveWith(ServeConfig{AuthTimeout: authTimeout, IdleTimeout: 30 * time.Minute})
	dialed := time.Now()
	client, err := dialSSH(t, addr, c.dir, gossh.PublicKeys(key))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	tm := openTerm(t, client, 100, 30)
	tm.wait("Sam Rivera")
	// What is under test is time passing: well past the auth timeout.
	<-time.After(time.Until(dialed.Add(2 * authTimeout)))
	tm.send("\t")
	tm.wait("[Not invited")
	if strings.Contains(log.String(), "not authenticated") {
		t.Fatalf("an authenticated connection was logged as unauthenticated:\n%s", log)
	}
}

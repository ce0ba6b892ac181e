package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"frontdesk/store"
)

// silentSMTP accepts TCP connections and never says a word: the wrong port
// (465 with the default STARTTLS), a broken relay.
type silentSMTP struct {
	addr     string
	accepted chan struct{} // one token per connection

	mu    sync.Mutex
	conns []net.Conn
}

func startSilentSMTP(t *testing.T) *silentSMTP {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &silentSMTP{addr: l.Addr().String(), accepted: make(chan struct{}, 100)}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.accepted <- struct{}{}
		}
	}()
	t.Cleanup(func() {
		l.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, c := range s.conns {
			c.Close()
		}
	})
	return s
}

// waitAccepted fails the test unless a connection comes within limit.
func (s *silentSMTP) waitAccepted(t *testing.T, limit time.Duration) {
	t.Helper()
	select {
	case <-s.accepted:
	case <-time.After(limit):
		t.Fatalf("nobody connected to the mail server within %s", limit)
	}
}

// runCtx runs frontdesk in-process under ctx, in the background.
func (c *cli) runCtx(ctx context.Context, args ...string) <-chan cliResult {
	env := map[string]string{"FRONTDESK_DATA_DIR": c.dir}
	for k, v := range c.env {
		env[k] = v
	}
	done := make(chan cliResult, 1)
	go func() {
		var out, errb bytes.Buffer
		code := Run(ctx, args, strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
		done <- cliResult{code, out.String(), errb.String()}
	}()
	return done
}

type cliResult struct {
	code        int
	out, stderr string
}

// await waits for a background run, failing the test past limit.
func await(t *testing.T, done <-chan cliResult, limit time.Duration, what string) (cliResult, time.Duration) {
	t.Helper()
	start := time.Now()
	select {
	case r := <-done:
		return r, time.Since(start)
	case <-time.After(limit):
		t.Fatalf("%s still running %s later", what, limit)
		return cliResult{}, 0
	}
}

// outboxRow is the stored state of the message sent to addr.
func (c *cli) outboxRowTo(addr string) (status string, attempts int, lease, lastError string) {
	c.t.Helper()
	err := c.sqlite().QueryRow(`SELECT status, attempts, lease_owner, last_error FROM outbox WHERE to_addr = ?`, addr).Scan(&status, &attempts, &lease, &lastError)
	if err != nil {
		c.t.Fatal(err)
	}
	return
}

var noAnswerRE = regexp.MustCompile(`the mail server \S+ did not answer within 300ms; it accepted the connection but sent no greeting`)

// A mail server that never answers costs `invite` the SMTP timeout and no
// more: the invite is queued, the reason printed and kept in the outbox.
func TestInviteSilentMailServerTimesOut(t *testing.T) {
	silent := startSilentSMTP(t)
	c := newCLI(t)
	c.ok("demo", "--customers", "30")
	c.useSMTP(silent.addr)
	c.env["FRONTDESK_SMTP_TLS"] = "starttls" // the default, against a port that would want tls
	c.env["FRONTDESK_SMTP_TIMEOUT"] = "300ms"
	_, email := c.firstWith("not-invited")
	r, took := await(t, c.runCtx(context.Background(), "invite", email), 15*time.Second, "invite against a silent mail server")
	if r.code != 0 || !strings.Contains(r.out, " is queued: ") || !noAnswerRE.MatchString(r.out) || !strings.Contains(r.out, "will retry") {
		t.Fatalf("invite: exit %d after %s\nstdout: %s\nstderr: %s", r.code, took, r.out, r.stderr)
	}
	if took > 10*time.Second {
		t.Errorf("invite took %s with a 300ms SMTP timeout", took)
	}
	t.Logf("invite took %s:\n%s", took.Round(time.Millisecond), r.out)
	if status, attempts, lease, lastErr := c.outboxRowTo(email); status != store.OutboxQueued || attempts != 1 || lease != "" || !noAnswerRE.MatchString(lastErr) {
		t.Fatalf("outbox row: %s, %d attempts, lease %q, last error %q", status, attempts, lease, lastErr)
	}
	if list := c.ok("outbox", "list"); !noAnswerRE.MatchString(list) {
		t.Fatalf("outbox list does not give the reason:\n%s", list)
	}
	if code, _, errs := c.run("invite", email, "--smtp-timeout", "0s"); code != 2 || !strings.Contains(errs, "--smtp-timeout") {
		t.Errorf("--smtp-timeout 0s: exit %d, %q", code, errs)
	}
}

// SIGTERM (the cancelled context of Run) ends `invite` and `outbox retry`
// at once while the mail server says nothing, however long the SMTP
// timeout: the invite stays queued, untried, for the next worker.
func TestInviteEndsPromptlyOnSignal(t *testing.T) {
	silent := startSilentSMTP(t)
	c := newCLI(t)
	c.ok("demo", "--customers", "30")
	c.useSMTP(silent.addr)
	_, email := c.firstWith("not-invited")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := c.runCtx(ctx, "invite", email)
	silent.waitAccepted(t, 10*time.Second)
	cancel()
	r, _ := await(t, done, 5*time.Second, "invite after SIGTERM")
	t.Logf("invite after SIGTERM: exit %d\n%s%s", r.code, r.out, r.stderr)
	if r.code != 1 || !strings.Contains(r.out, "queued") || !strings.Contains(r.stderr, "interrupted") {
		t.Fatalf("invite after SIGTERM: exit %d\nstdout: %s\nstderr: %s", r.code, r.out, r.stderr)
	}
	if status, attempts, lease, _ := c.outboxRowTo(email); status != store.OutboxQueued || attempts != 0 || lease != "" {
		t.Fatalf("outbox row after SIGTERM: %s, %d attempts, lease %q; want queued, untried, free", status, attempts, lease)
	}

	var id string
	c.sqlite().QueryRow(`SELECT id FROM outbox WHERE to_addr = ?`, email).Scan(&id)
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	done = c.runCtx(ctx, "outbox", "retry", id)
	silent.waitAccepted(t, 10*time.Second)
	cancel()
	r, _ = await(t, done, 5*time.Second, "outbox retry after SIGTERM")
	t.Logf("outbox retry after SIGTERM: exit %d\n%s%s", r.code, r.out, r.stderr)
	if r.code != 1 || !strings.Contains(r.stderr, "interrupted") {
		t.Fatalf("outbox retry after SIGTERM: exit %d\nstdout: %s\nstderr: %s", r.code, r.out, r.stderr)
	}
	if status, attempts, lease, _ := c.outboxRowTo(email); status != store.OutboxQueued || attempts != 0 || lease != "" {
		t.Fatalf("outbox row after SIGTERM: %s, %d attempts, lease %q; want queued, untried, free", status, attempts, lease)
	}
}

// queueUntried queues an invite to a not-invited customer without
// delivering it, as a TUI that was closed before the mail went would.
func (c *cli) queueUntried() (email string) {
	c.t.Helper()
	id, email := c.firstWith("not-invited")
	app := &App{Config: Config{DataDir: c.dir, BaseURL: "https://desk.example"}}
	if err := app.Open(); err != nil {
		c.t.Fatal(err)
	}
	defer app.Close()
	ctx := context.Background()
	org, err := app.Organization(ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	owner, err := app.DB.FirstOwner(ctx, org.ID)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := app.Service().Issue(ctx, owner, id, store.PurposeClaim); err != nil {
		c.t.Fatal(err)
	}
	return email
}

// serve's shutdown while its worker waits on a silent mail server: prompt,
// and the message is given back for the next start.
func TestServeShutdownWhileMailServerSilent(t *testing.T) {
	silent := startSilentSMTP(t)
	c := newCLI(t)
	c.ok("demo", "--customers", "30")
	c.useSMTP(silent.addr)
	email := c.queueUntried()
	s := c.serve("--shutdown-timeout", "10s")
	silent.waitAccepted(t, 15*time.Second)
	code, took := s.stop(30 * time.Second)
	if code != 0 || took > 5*time.Second {
		t.Fatalf("serve: exit %d, shutdown took %s with the worker waiting on a silent server", code, took)
	}
	if status, attempts, lease, _ := c.outboxRowTo(email); status != store.OutboxQueued || attempts != 0 || lease != "" {
		t.Fatalf("outbox row after shutdown: %s, %d attempts, lease %q; want queued, untried, free", status, attempts, lease)
	}
}

// Ctrl-C in the local TUI while its worker waits on a silent mail server:
// the program exits at once and the message stays queued.
func TestTUIQuitsPromptlyWhileMailServerSilent(t *testing.T) {
	t.Setenv("TERM", "dumb")
	silent := startSilentSMTP(t)
	c := newCLI(t)
	c.ok("demo", "--customers", "30")
	c.useSMTP(silent.addr)
	email := c.queueUntried()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 30, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var screen bytes.Buffer
	drawn := make(chan struct{}, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			mu.Lock()
			screen.Write(buf[:n])
			if strings.Contains(screen.String(), "Harbor Yoga") {
				select {
				case drawn <- struct{}{}:
				default:
				}
			}
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	env := map[string]string{"FRONTDESK_DATA_DIR": c.dir}
	for k, v := range c.env {
		env[k] = v
	}
	done := make(chan int, 1)
	go func() {
		done <- Run(context.Background(), []string{"tui"}, tty, tty, &bytes.Buffer{}, func(k string) string { return env[k] })
	}()
	silent.waitAccepted(t, 15*time.Second)
	select {
	case <-drawn:
	case <-time.After(15 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("the roster did not show:\n%q", screen.String())
	}
	start := time.Now()
	ptmx.Write([]byte{3}) // Ctrl-C
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Ctrl-C did not end the TUI within 5s while the mail server was silent")
	}
	t.Logf("exited %s after Ctrl-C", time.Since(start).Round(time.Millisecond))
	if status, attempts, _, _ := c.outboxRowTo(email); status != store.OutboxQueued || attempts != 0 {
		t.Fatalf("outbox row after Ctrl-C: %s, %d attempts; want queued, untried", status, attempts)
	}
	if log, err := os.ReadFile(c.dir + "/frontdesk.log"); err == nil && strings.Contains(string(log), "mail sent") {
		t.Fatalf("the log claims a send:\n%s", log)
	}
}

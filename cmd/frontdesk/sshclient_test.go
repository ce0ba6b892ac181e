package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"
)

// watched is a buffer that tells waiters when it grows: the tests wait for
// what a server writes, never for a fixed time.
type watched struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // one pending signal is enough
	closed  bool
}

func newWatched() *watched { return &watched{changed: make(chan struct{}, 1)} }

func (w *watched) Write(p []byte) (int, error) {
	w.mu.Lock()
	n, err := w.buf.Write(p)
	w.mu.Unlock()
	w.poke()
	return n, err
}

func (w *watched) poke() {
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// close marks the end of the stream: waiters stop waiting.
func (w *watched) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.poke()
}

func (w *watched) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func (w *watched) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Len()
}

// waitFor waits until ok accepts the text from offset from on, or the
// stream ends, or timeout; it returns that text and whether ok accepted it.
func (w *watched) waitFor(from int, timeout time.Duration, ok func(string) bool) (string, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		w.mu.Lock()
		text, closed := w.buf.String()[min(from, w.buf.Len()):], w.closed
		w.mu.Unlock()
		if ok(text) {
			return text, true
		}
		if closed {
			return text, false
		}
		select {
		case <-w.changed:
		case <-deadline.C:
			return text, false
		}
	}
}

// newKey makes an SSH key pair: the signer, and the public key as
// `staff key add` takes it.
func newKey(t testing.TB) (gossh.Signer, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s, strings.TrimSpace(string(gossh.MarshalAuthorizedKey(s.PublicKey())))
}

// hostKeyCallback trusts exactly the host key in the data directory, as a
// staff member's known_hosts would after the first connection.
func hostKeyCallback(t testing.TB, dataDir string) gossh.HostKeyCallback {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, hostKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.ParsePrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return gossh.FixedHostKey(s.PublicKey())
}

func dialSSH(t testing.TB, addr, dataDir string, auth ...gossh.AuthMethod) (*gossh.Client, error) {
	return dialSSHConfig(t, addr, dataDir, &gossh.ClientConfig{Auth: auth})
}

func dialSSHConfig(t testing.TB, addr, dataDir string, cfg *gossh.ClientConfig) (*gossh.Client, error) {
	cfg.User = "staff"
	cfg.HostKeyCallback = hostKeyCallback(t, dataDir)
	cfg.Timeout = 10 * time.Second
	return gossh.Dial("tcp", addr, cfg)
}

// sshTerm is an SSH session with a PTY, seen as a terminal would show it. It
// answers the two queries a terminal answers when a session starts (the
// background colour and the device attributes), as OpenSSH's terminal does.
type sshTerm struct {
	t      testing.TB
	client *gossh.Client
	sess   *gossh.Session
	in     io.WriteCloser
	out    *watched
	mark   int
	exited chan error
}

const (
	bgQuery = "\x1b]11;?\x07"
	daQuery = "\x1b[c"
)

func openTerm(t testing.TB, client *gossh.Client, width, height int) *sshTerm {
	t.Helper()
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", height, width, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	in, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	tm := &sshTerm{t: t, client: client, sess: sess, in: in, out: newWatched(), exited: make(chan error, 1)}
	sess.Stderr = tm.out
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 32<<10)
		var seen []byte // the tail of the output, for queries split across reads
		for {
			n, err := stdout.Read(buf)
			if n > 0 {
				tm.out.Write(buf[:n])
				seen = append(seen, buf[:n]...)
				if bytes.Contains(seen, []byte(bgQuery)) {
					in.Write([]byte("\x1b]11;rgb:1c1c/1c1c/1c1c\x1b\\"))
					seen = bytes.ReplaceAll(seen, []byte(bgQuery), nil)
				}
				if bytes.Contains(seen, []byte(daQuery)) {
					in.Write([]byte("\x1b[?62;22c"))
					seen = bytes.ReplaceAll(seen, []byte(daQuery), nil)
				}
				if len(seen) > 16 {
					seen = seen[len(seen)-16:]
				}
			}
			if err != nil {
				tm.exited <- sess.Wait()
				tm.out.close()
				return
			}
		}
	}()
	t.Cleanup(func() { sess.Close() })
	return tm
}

// screen is the output since the last send, with escape sequences removed.
func (tm *sshTerm) screen() string { return ansi.Strip(tm.out.String()[tm.mark:]) }

// wait fails the test unless every want appears in the output after the
// last send.
func (tm *sshTerm) wait(want ...string) string {
	tm.t.Helper()
	text, ok := tm.out.waitFor(tm.mark, 15*time.Second, func(s string) bool {
		s = ansi.Strip(s)
		for _, w := range want {
			if !strings.Contains(s, w) {
				return false
			}
		}
		return true
	})
	if !ok {
		tm.t.Fatalf("waiting for %q; the terminal shows:\n%s", want, ansi.Strip(text))
	}
	return ansi.Strip(text)
}

// send types keys; what the server draws from here on is what wait sees.
func (tm *sshTerm) send(keys string) {
	tm.t.Helper()
	tm.mark = tm.out.Len()
	if _, err := tm.in.Write([]byte(keys)); err != nil {
		tm.t.Fatalf("typing %q: %v", keys, err)
	}
}

// closed waits for the server to end the session and returns its error
// (nil for exit status 0).
func (tm *sshTerm) closed(timeout time.Duration) error {
	tm.t.Helper()
	select {
	case err := <-tm.exited:
		return err
	case <-time.After(timeout):
		tm.t.Fatalf("the session is still open after %s; the terminal shows:\n%s", timeout, tm.screen())
		return nil
	}
}

var rangeRE = regexp.MustCompile(`1-(\d+) of (\d+)`)

// shownRows is the roster's "1-N of M" as last drawn: N.
func shownRows(screen string) int {
	m := rangeRE.FindAllStringSubmatch(screen, -1)
	if m == nil {
		return -1
	}
	var n int
	fmt.Sscan(m[len(m)-1][1], &n)
	return n
}

// served is a `frontdesk serve` running in-process through Run.
type served struct {
	t       *testing.T
	cancel  context.CancelFunc
	done    chan int
	stderr  *watched
	ssh     string
	http    string
	dataDir string
}

var servingRE = regexp.MustCompile(`msg=serving ssh=(\S+) http=(\S+)`)

// serve starts `frontdesk serve` on loopback ports chosen by the system and
// returns once it is listening.
func (c *cli) serve(args ...string) *served {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{t: c.t, cancel: cancel, done: make(chan int, 1), stderr: newWatched(), dataDir: c.dir}
	env := map[string]string{"FRONTDESK_DATA_DIR": c.dir}
	for k, v := range c.env {
		env[k] = v
	}
	args = append([]string{"serve", "--ssh-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"}, args...)
	go func() {
		s.done <- Run(ctx, args, strings.NewReader(""), io.Discard, s.stderr, func(k string) string { return env[k] })
		s.stderr.close()
	}()
	text, ok := s.stderr.waitFor(0, 15*time.Second, servingRE.MatchString)
	if !ok {
		cancel()
		c.t.Fatalf("frontdesk serve did not start:\n%s", text)
	}
	m := servingRE.FindStringSubmatch(text)
	s.ssh, s.http = m[1], m[2]
	c.t.Cleanup(func() {
		if s.cancel != nil {
			s.stop(30 * time.Second)
		}
	})
	return s
}

// stop sends the shutdown signal and waits for Run to return; it returns
// the exit status and how long the shutdown took.
func (s *served) stop(timeout time.Duration) (int, time.Duration) {
	s.t.Helper()
	start := time.Now()
	s.cancel()
	s.cancel = nil
	select {
	case code := <-s.done:
		return code, time.Since(start)
	case <-time.After(timeout):
		s.t.Fatalf("frontdesk serve still running %s after the signal; its log:\n%s", timeout, s.stderr)
		return -1, 0
	}
}

// login connects with key and opens a terminal of width×height.
func (s *served) login(key gossh.Signer, width, height int) *sshTerm {
	s.t.Helper()
	client, err := dialSSH(s.t, s.ssh, s.dataDir, gossh.PublicKeys(key))
	if err != nil {
		s.t.Fatalf("ssh: %v\nserver log:\n%s", err, s.stderr)
	}
	s.t.Cleanup(func() { client.Close() })
	return openTerm(s.t, client, width, height)
}

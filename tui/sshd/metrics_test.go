package sshd

import (
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// refusals records what the server reports to its Metrics.
type refusals struct {
	mu      sync.Mutex
	reasons map[string]int
	changed chan struct{}
}

func newRefusals() *refusals {
	return &refusals{reasons: map[string]int{}, changed: make(chan struct{}, 1)}
}

func (r *refusals) SessionStarted() {}
func (r *refusals) SessionEnded()   {}
func (r *refusals) Refused(reason string) {
	r.mu.Lock()
	r.reasons[reason]++
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// waitFor waits until reason has been reported n times, and fails the test
// after 10 s.
func (r *refusals) waitFor(t *testing.T, reason string, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		got := r.reasons[reason]
		r.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("%q reported %d times, want %d: %v", reason, got, n, r.reasons)
		}
	}
}

func (r *refusals) snapshot() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, v := range r.reasons {
		out[k] = v
	}
	return out
}

// Each way a connection is turned away is reported once, with its reason:
// a key nobody registered, a connection that never authenticates (closed
// by the client, or by the server when its time is up), a session without
// a terminal.
func TestRefusalsReachMetrics(t *testing.T) {
	f := newFixture(t)
	m := newRefusals()
	f.s.cfg.Metrics = m
	f.s.cfg.AuthTimeout = 300 * time.Millisecond
	addr := f.serve(t, nil)

	// A registered key without a terminal.
	if _, status := f.run(t, addr, f.key); status != 1 {
		t.Fatalf("a session without a terminal: exit %d", status)
	}
	m.waitFor(t, RefusedNoTerminal, 1)

	// A stranger's key: refused, and the client gives up.
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	stranger, _ := gossh.NewSignerFromKey(priv)
	if _, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{
		User: "x", Auth: []gossh.AuthMethod{gossh.PublicKeys(stranger)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second,
	}); err == nil {
		t.Fatal("an unregistered key got in")
	}
	m.waitFor(t, RefusedUnknownKey, 1)

	// A client that connects and leaves without a word.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	m.waitFor(t, RefusedUnauthenticated, 1)

	// One that stays silent past the auth timeout: closed by the server,
	// and counted once (not again as it closes).
	c, err = net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 512)
	for {
		if _, err := c.Read(buf); err != nil {
			break // the server closed it (after its version line)
		}
	}
	m.waitFor(t, RefusedAuthTimeout, 1)

	// One more, then the counts are exact: nothing was counted twice (the
	// timed-out connection's own close included).
	if _, status := f.run(t, addr, f.key); status != 1 {
		t.Fatalf("a second session without a terminal: exit %d", status)
	}
	m.waitFor(t, RefusedNoTerminal, 2)
	want := map[string]int{RefusedNoTerminal: 2, RefusedUnknownKey: 1, RefusedUnauthenticated: 1, RefusedAuthTimeout: 1}
	got := m.snapshot()
	if len(got) != len(want) {
		t.Fatalf("reported %v; want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Fatalf("reported %v; want %v", got, want)
		}
	}
}

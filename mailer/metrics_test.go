package mailer

import (
	"net"
	"strconv"
	"sync"
	"testing"

	"frontdesk/store"
)

// attempts records what a Worker reports to its Metrics.
type attempts struct {
	mu  sync.Mutex
	got map[string]int // "status class"
}

func (a *attempts) Attempted(status, class string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.got == nil {
		a.got = map[string]int{}
	}
	a.got[status+" "+class]++
}

// The worker reports every attempt with the class of the server's reply:
// a 451 retried, a 550 refused, a 250 accepted, and no reply at all from a
// server that is not there.
func TestWorkerReportsAttemptsWithReplyClass(t *testing.T) {
	f := newFixture(t)
	srv := startServer(t, serverConfig{RcptCodes: []int{451, 550}})
	f.queue(t, 3)
	m := &attempts{}
	w := f.worker(srv.transport(t))
	w.Metrics = m
	drain(t, w)
	want := map[string]int{
		store.OutboxQueued + " 4xx": 1,
		store.OutboxFailed + " 5xx": 1,
		store.OutboxSent + " 2xx":   1,
	}
	if len(m.got) != len(want) {
		t.Fatalf("reported %v; want %v", m.got, want)
	}
	for k, n := range want {
		if m.got[k] != n {
			t.Errorf("reported %v; want %v", m.got, want)
		}
	}

	// Nobody listens on the port: no connection, no reply.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	cfg := srv.config()
	cfg.Port, _ = strconv.Atoi(port)
	down, err := NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m = &attempts{}
	w = f.worker(down)
	w.Metrics = m
	f.queue(t, 1)
	drain(t, w)
	if len(m.got) != 1 || m.got[store.OutboxQueued+" none"] != 1 {
		t.Fatalf("with the server down, reported %v; want one queued attempt without a reply", m.got)
	}
}

func TestReplyClass(t *testing.T) {
	for reply, want := range map[string]string{"250 2.0.0 Ok: queued": "2xx", "written to /x/1.eml": "none", "": "none"} {
		if got := ReplyClass(reply, nil); got != want {
			t.Errorf("ReplyClass(%q) = %q; want %q", reply, got, want)
		}
	}
}

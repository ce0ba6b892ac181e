package mailer

import (
	"context"
	"errors"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"frontdesk/store"
)

// silentServer accepts TCP connections and never says a word: a wrong port
// (465 asked for STARTTLS), a broken relay, a firewall that swallows
// packets after the handshake.
type silentServer struct {
	Host     string
	Port     int
	accepted chan struct{} // one token per connection accepted
	heard    chan struct{} // one token per connection on which the client said something
	closed   chan struct{} // one token per connection the client closed

	mu    sync.Mutex
	conns []net.Conn
}

func startSilent(t testing.TB) *silentServer { return startMute(t, false) }

// startMute is startSilent, or with greet a server that sends its greeting
// and then falls silent (it never answers EHLO).
func startMute(t testing.TB, greet bool) *silentServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &silentServer{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port,
		accepted: make(chan struct{}, 100), heard: make(chan struct{}, 100), closed: make(chan struct{}, 100)}
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
			if greet {
				c.Write([]byte("220 localhost ESMTP ready\r\n"))
			}
			go func() {
				// Read (and drop) whatever the client says, to notice when
				// it speaks and when it hangs up.
				buf := make([]byte, 512)
				first := true
				for {
					if _, err := c.Read(buf); err != nil {
						s.closed <- struct{}{}
						return
					}
					if first {
						s.heard <- struct{}{}
						first = false
					}
				}
			}()
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

func (s *silentServer) config(mode string, timeout time.Duration) Config {
	return Config{Host: s.Host, Port: s.Port, From: "frontdesk@studio.example", TLS: mode, Timeout: timeout}
}

// within runs f and fails the test unless it returns within limit; it
// returns how long f took.
func within(t *testing.T, limit time.Duration, what string, f func()) time.Duration {
	t.Helper()
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("%s still running after %s", what, limit)
	}
	return time.Since(start)
}

// wait fails the test unless ch yields within limit.
func wait(t *testing.T, ch <-chan struct{}, limit time.Duration, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(limit):
		t.Fatalf("no %s within %s", what, limit)
	}
}

var withinRE = regexp.MustCompile(`the mail server (?:\S+ )?did not answer within (\d+ms|\d+s)`)

// A server that accepts the connection and says nothing costs Open its
// timeout and no more, in every TLS mode, and the error says so in words a
// staff member can pass on; the socket is not left behind.
func TestOpenSilentServerTimesOut(t *testing.T) {
	for _, mode := range []string{TLSStartTLS, TLSImplicit, TLSNone} {
		t.Run(mode, func(t *testing.T) {
			srv := startSilent(t)
			tr, err := NewSMTP(srv.config(mode, 300*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			var oerr error
			took := within(t, 5*time.Second, "Open against a silent server", func() {
				_, oerr = tr.Open(context.Background())
			})
			if took < 300*time.Millisecond {
				t.Errorf("Open gave up after %s, before its 300ms", took)
			}
			if oerr == nil || !Temporary(oerr) {
				t.Fatalf("Open = %v; want a temporary error", oerr)
			}
			m := withinRE.FindStringSubmatch(errorText(oerr))
			if m == nil || m[1] != "300ms" {
				t.Fatalf("error %q does not say the server did not answer within 300ms", errorText(oerr))
			}
			t.Logf("error: %s", errorText(oerr))
			if !strings.Contains(errorText(oerr), "accepted the connection but") {
				t.Errorf("error %q does not say what was missing", errorText(oerr))
			}
			wait(t, srv.closed, 5*time.Second, "close of the abandoned connection")
		})
	}
}

// A server that greets and then never answers EHLO: the timeout bounds the
// opening exchange too, and the error does not blame the port.
func TestOpenMuteAfterGreetingTimesOut(t *testing.T) {
	srv := startMute(t, true)
	tr, err := NewSMTP(srv.config(TLSStartTLS, 300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var oerr error
	within(t, 5*time.Second, "Open against a server mute after its greeting", func() {
		_, oerr = tr.Open(context.Background())
	})
	if oerr == nil || !Temporary(oerr) {
		t.Fatalf("Open = %v; want a temporary error", oerr)
	}
	if m := withinRE.FindStringSubmatch(errorText(oerr)); m == nil || m[1] != "300ms" || strings.Contains(errorText(oerr), "greeting") {
		t.Fatalf("error %q: want the server did not answer within 300ms, and nothing about a greeting", errorText(oerr))
	}
}

// Cancelling the context (a shutdown, a session that ends) ends Open at
// once, however long the timeout: while the TLS handshake waits, and while
// EHLO waits for its answer.
func TestOpenCancelledReturnsAtOnce(t *testing.T) {
	for _, mode := range []string{TLSStartTLS, TLSImplicit} {
		t.Run(mode, func(t *testing.T) {
			// Cancelled once the client has spoken: its ClientHello (tls),
			// its EHLO after the greeting (starttls).
			srv := startMute(t, mode == TLSStartTLS)
			tr, err := NewSMTP(srv.config(mode, time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				<-srv.heard
				cancel()
			}()
			var oerr error
			within(t, 5*time.Second, "Open after cancel", func() {
				_, oerr = tr.Open(ctx)
			})
			if !errors.Is(oerr, context.Canceled) {
				t.Fatalf("Open = %v; want it to end with the cancelled context", oerr)
			}
			wait(t, srv.closed, 5*time.Second, "close of the abandoned connection")
		})
	}
}

// A caller's deadline shorter than the timeout (the desk's ten seconds)
// ends Open at that deadline, and the error gives the time actually
// waited.
func TestOpenHonoursTheCallersDeadline(t *testing.T) {
	srv := startSilent(t)
	tr, err := NewSMTP(srv.config(TLSStartTLS, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	var oerr error
	within(t, 5*time.Second, "Open with a 400ms deadline", func() {
		_, oerr = tr.Open(ctx)
	})
	if oerr == nil || !Temporary(oerr) {
		t.Fatalf("Open = %v; want a temporary error", oerr)
	}
	// What was left of the deadline when Open started: 400ms, less the
	// moment it took to get there.
	m := withinRE.FindStringSubmatch(errorText(oerr))
	if m == nil {
		t.Fatalf("error %q does not say how long the server was given", errorText(oerr))
	}
	if gave, err := time.ParseDuration(m[1]); err != nil || gave > 400*time.Millisecond || gave < 300*time.Millisecond {
		t.Fatalf("error %q: want about 400ms", errorText(oerr))
	}
}

// A server that stalls in the middle of DATA: Send returns within the
// timeout, temporary, and the server never took the message (it never got
// the end of it).
func TestSendStalledMidDataTimesOut(t *testing.T) {
	srv := startServer(t, serverConfig{DataStall: true})
	cfg := srv.config()
	cfg.Timeout = 500 * time.Millisecond
	tr, err := NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	m := f.queue(t, 1)[0]
	m.MessageID = "outbox-1.test@studio.example"
	conn, err := tr.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var serr error
	within(t, 5*time.Second, "Send to a server stalled in DATA", func() {
		_, serr = conn.Send(context.Background(), m)
	})
	if serr == nil || !Temporary(serr) || !connectionLost(serr) {
		t.Fatalf("Send = %v; want a temporary error that drops the connection", serr)
	}
	if mm := withinRE.FindStringSubmatch(errorText(serr)); mm == nil || mm[1] != "500ms" {
		t.Fatalf("error %q does not say the server did not answer within 500ms", errorText(serr))
	}
	t.Logf("error: %s", errorText(serr))
	if n := len(srv.Received()); n != 0 {
		t.Fatalf("the server took %d messages", n)
	}
	within(t, 5*time.Second, "Close after a stalled send", func() { conn.Close() })
}

// Cancelling the context cuts a message mid-DATA at once.
func TestSendCancelledMidData(t *testing.T) {
	srv := startServer(t, serverConfig{DataStall: true})
	cfg := srv.config()
	cfg.Timeout = time.Minute
	tr, err := NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	m := f.queue(t, 1)[0]
	m.MessageID = "outbox-1.test@studio.example"
	conn, err := tr.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-srv.stalled
		cancel()
	}()
	var serr error
	within(t, 5*time.Second, "Send after cancel", func() {
		_, serr = conn.Send(ctx, m)
	})
	if !errors.Is(serr, context.Canceled) {
		t.Fatalf("Send = %v; want it to end with the cancelled context", serr)
	}
	within(t, 5*time.Second, "Close after a cut send", func() { conn.Close() })
	if n := len(srv.Received()); n != 0 {
		t.Fatalf("the server took %d messages", n)
	}
	if !srv.waitIdle(5 * time.Second) {
		t.Fatal("the cut connection is still open at the server")
	}
}

// The worker against a silent server: the batch ends after the timeout,
// every message stays queued with the reason and a next attempt, nothing is
// recorded as sent.
func TestWorkerSilentServerLeavesMessagesQueued(t *testing.T) {
	srv := startSilent(t)
	tr, err := NewSMTP(srv.config(TLSStartTLS, 300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	msgs := f.queue(t, 2)
	var res Result
	within(t, 5*time.Second, "RunOnce against a silent server", func() {
		res, err = f.worker(tr).RunOnce(context.Background())
	})
	if err != nil || res != (Result{Leased: 2, Retry: 2}) {
		t.Fatalf("RunOnce = %+v, %v; want both queued for retry", res, err)
	}
	for _, m := range msgs {
		got := f.msg(t, m.ID)
		if got.Status != store.OutboxQueued || got.Attempts != 1 || !got.NextAttemptAt.Equal(f.Now().Add(RetryBase)) || got.LeaseOwner != "" {
			t.Errorf("message %d: %+v; want queued, one attempt, next in %s, no lease", m.ID, got, RetryBase)
		}
		if mm := withinRE.FindStringSubmatch(got.LastError); mm == nil || mm[1] != "300ms" {
			t.Errorf("message %d: last error %q does not say the server did not answer within 300ms", m.ID, got.LastError)
		}
	}
}

// The worker against a server that stalls in DATA: the message is
// recorded as a temporary failure within the timeout and goes out on a
// later attempt once the server is well, once.
func TestWorkerStalledDataIsRetriedNotLost(t *testing.T) {
	srv := startServer(t, serverConfig{DataStall: true})
	cfg := srv.config()
	cfg.Timeout = 500 * time.Millisecond
	tr, err := NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	m := f.queue(t, 1)[0]
	var res Result
	within(t, 5*time.Second, "RunOnce against a stalling server", func() {
		res, err = f.worker(tr).RunOnce(context.Background())
	})
	if err != nil || res != (Result{Leased: 1, Retry: 1}) {
		t.Fatalf("RunOnce = %+v, %v; want the message queued for retry", res, err)
	}
	got := f.msg(t, m.ID)
	if got.Status != store.OutboxQueued || withinRE.FindString(got.LastError) == "" || !f.hasBody(t, m.ID) {
		t.Fatalf("after the stall: %+v (body kept %v)", got, f.hasBody(t, m.ID))
	}
	well := startServer(t, serverConfig{})
	f.advance(RetryBase)
	if res := drain(t, f.worker(well.transport(t))); res.Sent != 1 {
		t.Fatalf("retry: %+v", res)
	}
	if n := len(well.Received()) + len(srv.Received()); n != 1 {
		t.Fatalf("the message arrived %d times", n)
	}
}

// A shutdown while a message is stalled in DATA: RunOnce returns at once,
// the message is given back untried (due now, no attempt counted, no
// lease), and nothing is recorded as sent.
func TestWorkerShutdownMidDataGivesTheMessageBack(t *testing.T) {
	srv := startServer(t, serverConfig{DataStall: true})
	cfg := srv.config()
	cfg.Timeout = time.Minute
	tr, err := NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	msgs := f.queue(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-srv.stalled
		cancel()
	}()
	var res Result
	within(t, 5*time.Second, "RunOnce after a shutdown mid-DATA", func() {
		res, err = f.worker(tr).RunOnce(ctx)
	})
	if err != nil || res != (Result{Leased: 2, Skipped: 2}) {
		t.Fatalf("RunOnce = %+v, %v; want both given back", res, err)
	}
	for _, m := range msgs {
		got := f.msg(t, m.ID)
		if got.Status != store.OutboxQueued || got.Attempts != 0 || got.LeaseOwner != "" || got.NextAttemptAt.After(f.Now()) {
			t.Errorf("message %d after shutdown: %+v; want queued, due, unleased, no attempt", m.ID, got)
		}
	}
	if n := len(srv.Received()); n != 0 {
		t.Fatalf("the server took %d messages", n)
	}
}

// Deliver (the desk's "send now") within a window shorter than the
// timeout: it returns at the window's end with the message queued, the
// reason and the next attempt.
func TestDeliverWithinTheCallersWindow(t *testing.T) {
	srv := startSilent(t)
	tr, err := NewSMTP(srv.config(TLSStartTLS, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	m := f.queue(t, 1)[0]
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	var outs []Outcome
	within(t, 5*time.Second, "Deliver with a 400ms window", func() {
		outs, err = f.worker(tr).Deliver(ctx, m.ID)
	})
	if err != nil || len(outs) != 1 {
		t.Fatalf("Deliver = %v, %v", outs, err)
	}
	o := outs[0]
	if o.Status != store.OutboxQueued || o.NextAttempt.IsZero() || withinRE.FindString(o.Err) == "" {
		t.Fatalf("outcome %+v; want queued with the reason and a next attempt", o)
	}
	t.Logf("outcome: %s", o.Err)
	if got := f.msg(t, m.ID); got.Status != store.OutboxQueued || got.LastError != o.Err || got.Attempts != 1 {
		t.Fatalf("stored %+v", got)
	}
}

// No attempt outlives the worker's lease, however long the timeout: past
// the lease another worker could take the message and send it too.
func TestAttemptEndsBeforeTheLease(t *testing.T) {
	srv := startSilent(t)
	tr, err := NewSMTP(srv.config(TLSStartTLS, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	m := f.queue(t, 1)[0]
	w := f.worker(tr)
	w.Lease = time.Second
	var res Result
	within(t, 5*time.Second, "RunOnce with a one-second lease", func() {
		res, err = w.RunOnce(context.Background())
	})
	if err != nil || res != (Result{Leased: 1, Retry: 1}) {
		t.Fatalf("RunOnce = %+v, %v; want the message queued for retry", res, err)
	}
	got := f.msg(t, m.ID)
	mm := withinRE.FindStringSubmatch(got.LastError)
	if got.Status != store.OutboxQueued || mm == nil {
		t.Fatalf("after the attempt: %+v", got)
	}
	if gave, err := time.ParseDuration(mm[1]); err != nil || gave >= w.Lease {
		t.Fatalf("the attempt was given %s (%v); want less than the %s lease", mm[1], err, w.Lease)
	}
}

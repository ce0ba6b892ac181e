package mailer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"frontdesk/store"
	"frontdesk/store/storetest"
)

func TestDeliveryModes(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  serverConfig
	}{
		{"plain", serverConfig{}},
		{"starttls", serverConfig{StartTLS: true}},
		{"starttls+auth", serverConfig{StartTLS: true, Auth: true}},
		{"tls+auth", serverConfig{ImplicitTLS: true, Auth: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, tc.cfg)
			f := newFixture(t)
			msgs := f.queue(t, 3)
			res, err := f.worker(srv.transport(t)).RunOnce(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if res != (Result{Leased: 3, Sent: 3}) {
				t.Fatalf("RunOnce = %+v, want 3 leased and sent", res)
			}
			if n := srv.Conns(); n != 1 {
				t.Errorf("a batch of 3 used %d connections, want 1", n)
			}
			got := srv.Received()
			if len(got) != 3 {
				t.Fatalf("server received %d messages, want 3", len(got))
			}
			wantTLS := tc.cfg.StartTLS || tc.cfg.ImplicitTLS
			for i, r := range got {
				if r.TLS != wantTLS {
					t.Errorf("message %d: TLS %v, want %v", i, r.TLS, wantTLS)
				}
				if tc.cfg.Auth && r.User != testUser {
					t.Errorf("message %d: authenticated as %q", i, r.User)
				}
				if r.From != "frontdesk@studio.example" || len(r.To) != 1 || r.To[0] != msgs[i].To {
					t.Errorf("message %d: envelope %s → %v, want frontdesk@studio.example → %s", i, r.From, r.To, msgs[i].To)
				}
			}
			for _, m := range msgs {
				got := f.msg(t, m.ID)
				if got.Status != store.OutboxSent || !strings.HasPrefix(got.Reply, "250 ") || got.Attempts != 1 || got.SentAt.IsZero() {
					t.Errorf("message %d after delivery: %+v", m.ID, got)
				}
				if f.hasBody(t, m.ID) {
					t.Errorf("message %d: the token-bearing body is still stored after sending", m.ID)
				}
				if st := f.status(t, m.ID); st != store.StatusInvited {
					t.Errorf("customer of message %d: status %s, want invited", m.ID, st)
				}
			}
		})
	}
}

// TestMessageHeaders reads the raw message the server got.
func TestMessageHeaders(t *testing.T) {
	srv := startServer(t, serverConfig{})
	f := newFixture(t)
	m := f.queue(t, 1)[0]
	if _, err := f.worker(srv.transport(t)).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := srv.Received()[0]
	msg, err := mail.ReadMessage(strings.NewReader(r.Data))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	from, err := mail.ParseAddress(h.Get("From"))
	if err != nil || from.Name != "Harbor Yoga" || from.Address != "frontdesk@studio.example" {
		t.Errorf("From = %q (%v), want Harbor Yoga <frontdesk@studio.example>", h.Get("From"), err)
	}
	if got := h.Get("Subject"); got != "Claim your Harbor Yoga account" {
		t.Errorf("Subject = %q", got)
	}
	if got := h.Get("Reply-To"); got != "<desk@harbor.example>" {
		t.Errorf("Reply-To = %q", got)
	}
	if _, err := h.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	stored := f.msg(t, m.ID).MessageID
	if id := h.Get("Message-ID"); id != "<"+stored+">" || !strings.HasPrefix(id, fmt.Sprintf("<outbox-%d.", m.ID)) || !strings.HasSuffix(id, "@studio.example>") {
		t.Errorf("Message-ID = %q, stored %q; want <outbox-%d.…@studio.example> and recorded", id, stored, m.ID)
	}
	if got := h.Get("Auto-Submitted"); got != "auto-generated" {
		t.Errorf("Auto-Submitted = %q", got)
	}
	for _, k := range []string{"User-Agent", "X-Mailer", "List-Unsubscribe", "Disposition-Notification-To", "Return-Receipt-To"} {
		if v := h.Get(k); v != "" {
			t.Errorf("unexpected header %s: %s", k, v)
		}
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" || params["boundary"] == "" {
		t.Fatalf("Content-Type = %q, want multipart/alternative", h.Get("Content-Type"))
	}
	body := r.Data
	for _, want := range []string{"Content-Type: text/plain; charset=UTF-8", "Content-Type: text/html; charset=UTF-8", "/claim/"} {
		if !strings.Contains(body, want) {
			t.Errorf("message lacks %q", want)
		}
	}
	// No remote content: the only URLs are the claim link, the walk-through
	// and the reply-to mailto.
	if strings.Contains(body, "<img") || strings.Contains(body, "src=3D\"http") || strings.Contains(body, "src=\"http") {
		t.Error("message loads remote content")
	}
}

func TestHeaderInjection(t *testing.T) {
	srv := startServer(t, serverConfig{})
	f := newFixture(t)
	ctx := context.Background()
	evilName := "Harbor Yoga\r\nBcc: victim@evil.example"
	evilSubject := "Claim your account\r\nBcc: victim@evil.example\r\n\r\nforged body"
	jane := &store.Customer{OrgID: f.org.ID, FirstName: "Jane", Email: "jane@example.com"}
	if err := f.db.Tx(ctx, func(tx *store.Tx) error { return tx.CreateCustomer(ctx, jane) }); err != nil {
		t.Fatal(err)
	}
	m := &store.OutboxMessage{OrgID: f.org.ID, CustomerID: jane.ID, Kind: store.MessageInvite, To: jane.Email, FromName: evilName, Subject: evilSubject, Text: "hello", HTML: "<p>hello</p>"}
	if err := f.db.Tx(ctx, func(tx *store.Tx) error { return tx.EnqueueMessage(ctx, m) }); err != nil {
		t.Fatal(err)
	}
	if res, err := f.worker(srv.transport(t)).RunOnce(ctx); err != nil || res.Sent != 1 {
		t.Fatalf("RunOnce = %+v, %v", res, err)
	}
	r := srv.Received()[0]
	if len(r.To) != 1 || r.To[0] != "jane@example.com" {
		t.Errorf("envelope recipients %v", r.To)
	}
	msg, err := mail.ReadMessage(strings.NewReader(r.Data))
	if err != nil {
		t.Fatal(err)
	}
	if b := msg.Header.Get("Bcc"); b != "" {
		t.Fatalf("injected Bcc header: %q\n%s", b, r.Data)
	}
	dec := new(mime.WordDecoder)
	subj, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subj != evilSubject {
		t.Errorf("Subject decodes to %q (%v), want the original text kept inside the header", subj, err)
	}
	from, err := mail.ParseAddress(msg.Header.Get("From"))
	if err != nil || from.Address != "frontdesk@studio.example" || from.Name != evilName {
		t.Errorf("From = %q → %+v, %v", msg.Header.Get("From"), from, err)
	}
	body, _ := ioReadAll(msg)
	if strings.Contains(body, "forged body") && !strings.Contains(body, "hello") {
		t.Error("the subject reached the body")
	}
}

func ioReadAll(m *mail.Message) (string, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(m.Body)
	return b.String(), err
}

func TestStartTLSRequiredAndLoginFailuresAreRetried(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		cfg        func(*testServer) Config
	}{
		{"server without STARTTLS", "STARTTLS", func(s *testServer) Config {
			c := s.config()
			c.TLS = TLSStartTLS
			return c
		}},
		{"untrusted certificate", "certificate", func(s *testServer) Config {
			c := s.config()
			c.TLSConfig = nil
			return c
		}},
		{"wrong password", "535", func(s *testServer) Config {
			c := s.config()
			c.Password = "wrong"
			return c
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var srv *testServer
			switch tc.name {
			case "server without STARTTLS":
				srv = startServer(t, serverConfig{})
			default:
				srv = startServer(t, serverConfig{StartTLS: true, Auth: true})
			}
			tr, err := NewSMTP(tc.cfg(srv))
			if err != nil {
				t.Fatal(err)
			}
			f := newFixture(t)
			msgs := f.queue(t, 2)
			res, err := f.worker(tr).RunOnce(context.Background())
			if err != nil || res != (Result{Leased: 2, Retry: 2}) {
				t.Fatalf("RunOnce = %+v, %v; want both retried", res, err)
			}
			for _, m := range msgs {
				got := f.msg(t, m.ID)
				if got.Status != store.OutboxQueued || got.Attempts != 1 || !got.NextAttemptAt.Equal(f.Now().Add(10*time.Second)) || !strings.Contains(got.LastError, tc.want) {
					t.Errorf("message %d: %s, %d attempts, next %s, error %q; want queued for +10s with %q",
						m.ID, got.Status, got.Attempts, got.NextAttemptAt, got.LastError, tc.want)
				}
			}
			if n := len(srv.Received()); n != 0 {
				t.Errorf("server received %d messages", n)
			}
			// A failed Open must not leave its connection behind.
			if !srv.waitIdle(10 * time.Second) {
				t.Error("the connection of a failed login or handshake was left open")
			}
		})
	}
}

func TestTemporaryFailuresRetriedThenDelivered(t *testing.T) {
	srv := startServer(t, serverConfig{RcptCodes: []int{421, 451}})
	f := newFixture(t)
	m := f.queue(t, 1)[0]
	w := f.worker(srv.transport(t))
	ctx := context.Background()

	for i, want := range []struct {
		code string
		wait time.Duration
	}{{"421 4.4.2", 10 * time.Second}, {"451 4.3.0", 20 * time.Second}} {
		res, err := w.RunOnce(ctx)
		if err != nil || res != (Result{Leased: 1, Retry: 1}) {
			t.Fatalf("attempt %d: RunOnce = %+v, %v", i+1, res, err)
		}
		got := f.msg(t, m.ID)
		if got.Status != store.OutboxQueued || got.Attempts != i+1 || !strings.Contains(got.LastError, want.code) ||
			!got.NextAttemptAt.Equal(f.Now().Add(want.wait)) {
			t.Fatalf("after attempt %d: %s, %d attempts, %q, next in %s; want %s retried in %s",
				i+1, got.Status, got.Attempts, got.LastError, got.NextAttemptAt.Sub(f.Now()), want.code, want.wait)
		}
		if st := f.status(t, m.ID); st != store.StatusInvited {
			t.Errorf("customer status while retrying: %s, want invited", st)
		}
		// Not due yet: nothing happens.
		f.advance(want.wait - time.Second)
		if res, _ := w.RunOnce(ctx); res.Leased != 0 {
			t.Fatalf("message retried %s early", time.Second)
		}
		f.advance(time.Second)
	}
	if res, err := w.RunOnce(ctx); err != nil || res.Sent != 1 {
		t.Fatalf("third attempt: %+v, %v", res, err)
	}
	if got := f.msg(t, m.ID); got.Status != store.OutboxSent || got.Attempts != 3 || got.LastError != "" {
		t.Errorf("after delivery: %+v", got)
	}
	if n := srv.CountTo()[m.To]; n != 1 {
		t.Errorf("delivered %d times", n)
	}
}

func TestPermanentFailureKeepsTheServersWords(t *testing.T) {
	srv := startServer(t, serverConfig{RcptCodes: []int{550}})
	f := newFixture(t)
	m := f.queue(t, 1)[0]
	w := f.worker(srv.transport(t))
	ctx := context.Background()
	if res, err := w.RunOnce(ctx); err != nil || res != (Result{Leased: 1, Failed: 1}) {
		t.Fatalf("RunOnce = %+v, %v", res, err)
	}
	got := f.msg(t, m.ID)
	if got.Status != store.OutboxFailed || !strings.Contains(got.LastError, "550 5.1.1 User unknown") || got.Attempts != 1 {
		t.Fatalf("after a 550: %s %q (%d attempts)", got.Status, got.LastError, got.Attempts)
	}
	t.Logf("stored error: %s", got.LastError)
	if strings.Contains(got.LastError, "affected message ID") {
		t.Errorf("stored error carries go-mail's noise: %q", got.LastError)
	}
	if st := f.status(t, m.ID); st != store.StatusFailed {
		t.Errorf("customer status %s, want failed", st)
	}
	// The link was never delivered: the body carrying it is gone, and the
	// link no longer works (claim.Service.RetryMessage issues a fresh one).
	if f.hasBody(t, m.ID) {
		t.Error("a failed invite kept its body, a live link nobody will send")
	}
	if invs, _ := f.db.Invites(ctx, f.org.ID, f.customer[m.ID]); len(invs) != 1 || invs[0].ExpiresAt.After(f.Now()) {
		t.Errorf("the undelivered link still works: %+v", invs)
	}
	if err := f.db.Tx(ctx, func(tx *store.Tx) error { return tx.RetryMessage(ctx, f.org.ID, m.ID) }); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("retrying the failed invite as it was: %v", err)
	}
}

// TestWrongKeyCannotSend: a worker whose key file lacks the key a message
// was sealed with sends nothing, says why, and leaves the message queued for
// a worker that has it.
func TestWrongKeyCannotSend(t *testing.T) {
	srv := startServer(t, serverConfig{})
	f := newFixture(t)
	m := f.queue(t, 1)[0]
	wrong, err := store.OpenWith(f.path, store.Options{OutboxKey: filepath.Join(t.TempDir(), "other.key")})
	if err != nil {
		t.Fatal(err)
	}
	defer wrong.Close()
	wrong.Now = f.Now
	w := &Worker{DB: wrong, Transport: srv.transport(t), Logger: quietLogger()}
	ctx := context.Background()
	if res, err := w.RunOnce(ctx); err != nil || res != (Result{Leased: 1, Retry: 1}) {
		t.Fatalf("RunOnce with the wrong key = %+v, %v; want the message retried later", res, err)
	}
	if n := len(srv.Received()); n != 0 {
		t.Fatalf("the server received %d messages", n)
	}
	got := f.msg(t, m.ID)
	if got.Status != store.OutboxQueued || !strings.Contains(got.LastError, "sealed with outbox key") || !strings.Contains(got.LastError, "--outbox-key") {
		t.Fatalf("after the wrong key: %s %q", got.Status, got.LastError)
	}
	if !f.hasBody(t, m.ID) {
		t.Fatal("the wrong key cost the message its body")
	}
	f.advance(10 * time.Second)
	if res, err := f.worker(srv.transport(t)).RunOnce(ctx); err != nil || res.Sent != 1 {
		t.Fatalf("the right key: %+v, %v", res, err)
	}
}

func TestConnectionDroppedMidDataLosesNothing(t *testing.T) {
	srv := startServer(t, serverConfig{DataDrops: 1})
	f := newFixture(t)
	msgs := f.queue(t, 3)
	w := f.worker(srv.transport(t))
	res, err := w.RunOnce(context.Background())
	if err != nil || res != (Result{Leased: 3, Sent: 2, Retry: 1}) {
		t.Fatalf("RunOnce = %+v, %v; want the dropped one retried and the rest sent on a new connection", res, err)
	}
	first := f.msg(t, msgs[0].ID)
	if first.Status != store.OutboxQueued || first.LastError == "" {
		t.Fatalf("dropped message: %+v", first)
	}
	t.Logf("stored error: %s", first.LastError)
	f.advance(10 * time.Second)
	if res := drain(t, w); res.Sent != 1 {
		t.Fatalf("retry: %+v", res)
	}
	counts := srv.CountTo()
	for _, m := range msgs {
		if counts[m.To] != 1 {
			t.Errorf("%s received %d times, want 1", m.To, counts[m.To])
		}
		if got := f.msg(t, m.ID); got.Status != store.OutboxSent {
			t.Errorf("message %d: %s", m.ID, got.Status)
		}
	}
}

func TestTwoWorkersDeliverEachMessageOnce(t *testing.T) {
	srv := startServer(t, serverConfig{})
	f := newFixture(t)
	// Two handles on one file: two processes, each with its own writer
	// connection, competing for the lock.
	deliverOnce(t, f, srv, f.queue(t, 120), "process-a", "process-b")
}

// deliverOnce runs one worker per owner, each on a store.DB of its own (a
// process, or a node), side by side until the queue is empty, and checks
// that together they sent every message of msgs and that each address
// received exactly one. It returns how many each sent.
func deliverOnce(t *testing.T, f *fixture, srv *testServer, msgs []*store.OutboxMessage, owners ...string) []int {
	t.Helper()
	workers := make([]*Worker, len(owners))
	for i, owner := range owners {
		workers[i] = &Worker{DB: f.open(t), Transport: srv.transport(t), Owner: owner, Batch: 7, Logger: quietLogger()}
	}
	var wg sync.WaitGroup
	sent := make([]int, len(workers))
	errs := make([]error, len(workers))
	for i, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				r, err := w.RunOnce(context.Background())
				if err != nil {
					errs[i] = err
					return
				}
				if r.Leased == 0 {
					return
				}
				sent[i] += r.Sent
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%s: %v", owners[i], err)
		}
	}
	t.Logf("sent per worker: %v", sent)
	total := 0
	for _, n := range sent {
		total += n
	}
	if total != len(msgs) {
		t.Fatalf("the workers sent %v, %d in all; want %d", sent, total, len(msgs))
	}
	counts := srv.CountTo()
	for _, m := range msgs {
		if counts[m.To] != 1 {
			t.Errorf("%s received %d times", m.To, counts[m.To])
		}
	}
	if got := len(srv.Received()); got != len(msgs) {
		t.Errorf("the mail server received %d messages, want %d", got, len(msgs))
	}
	return sent
}

func TestKilledWorkerIsRecoveredAfterItsLease(t *testing.T) {
	srv := startServer(t, serverConfig{})
	f := newFixture(t)
	msgs := f.queue(t, 2)
	ctx := context.Background()
	// Worker A leases and dies before sending anything.
	var leased []*store.OutboxMessage
	if err := f.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		leased, err = tx.LeaseDue(ctx, "process-a/1", DefaultLease, 10)
		return err
	}); err != nil || len(leased) != 2 {
		t.Fatalf("lease as A: %d, %v", len(leased), err)
	}
	b := &Worker{DB: f.open(t), Transport: srv.transport(t), Owner: "process-b", Logger: quietLogger()}
	if res, err := b.RunOnce(ctx); err != nil || res.Leased != 0 {
		t.Fatalf("B took messages A still holds: %+v, %v", res, err)
	}
	f.advance(DefaultLease - time.Second)
	if res, _ := b.RunOnce(ctx); res.Leased != 0 {
		t.Fatal("B took messages before A's lease ran out")
	}
	f.advance(time.Second)
	if res, err := b.RunOnce(ctx); err != nil || res.Sent != 2 {
		t.Fatalf("B after A's lease: %+v, %v", res, err)
	}
	// A comes back to life (a process paused, not dead): its late result
	// must not overwrite B's.
	if err := f.db.Tx(ctx, func(tx *store.Tx) error {
		ok, err := tx.MarkFailed(ctx, msgs[0].ID, "process-a/1", "stale")
		if ok {
			return errors.New("a lease holder that lost its lease recorded a result")
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if got := f.msg(t, m.ID); got.Status != store.OutboxSent || got.Attempts != 1 {
			t.Errorf("message %d: %s after %d attempts", m.ID, got.Status, got.Attempts)
		}
		if srv.CountTo()[m.To] != 1 {
			t.Errorf("%s delivered %d times", m.To, srv.CountTo()[m.To])
		}
	}
}

func TestGivesUpAfterADay(t *testing.T) {
	codes := make([]int, 100)
	for i := range codes {
		codes[i] = 451
	}
	srv := startServer(t, serverConfig{RcptCodes: codes})
	f := newFixture(t)
	m := f.queue(t, 1)[0]
	w := f.worker(srv.transport(t))
	ctx := context.Background()
	start := f.Now()
	var waits []time.Duration
	for attempts := 1; ; attempts++ {
		if attempts > 60 {
			t.Fatal("still retrying after 60 attempts")
		}
		res, err := w.RunOnce(ctx)
		if err != nil || res.Leased != 1 {
			t.Fatalf("attempt %d: %+v, %v", attempts, res, err)
		}
		got := f.msg(t, m.ID)
		if got.Status == store.OutboxFailed {
			want := fmt.Sprintf("gave up after %d attempts over 24h: ", attempts)
			if !strings.HasPrefix(got.LastError, want) || !strings.Contains(got.LastError, "451 4.3.0") {
				t.Fatalf("final error %q, want prefix %q and the server's words", got.LastError, want)
			}
			if f.Now().Sub(start) < RetryWindow || f.Now().Sub(start) > RetryWindow+RetryCap {
				t.Errorf("gave up after %s", f.Now().Sub(start))
			}
			break
		}
		waits = append(waits, got.NextAttemptAt.Sub(f.Now()))
		f.setNow(got.NextAttemptAt)
	}
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, 320 * time.Second,
		640 * time.Second, 1280 * time.Second, 2560 * time.Second, time.Hour, time.Hour}
	for i, w := range want {
		if waits[i] != w {
			t.Fatalf("waits %v, want to start %v", waits, want)
		}
	}
	if st := f.status(t, m.ID); st != store.StatusFailed {
		t.Errorf("customer status %s, want failed", st)
	}
	if len(srv.Received()) != 0 {
		t.Error("a message got through")
	}
}

func TestFileTransport(t *testing.T) {
	f := newFixture(t)
	dir := filepath.Join(t.TempDir(), "data", "outbox")
	var logs bytes.Buffer
	tr := NewFileTransport(dir, slog.New(slog.NewTextHandler(&logs, nil)))
	m := f.queue(t, 1)[0]
	if res, err := f.worker(tr).RunOnce(context.Background()); err != nil || res.Sent != 1 {
		t.Fatalf("RunOnce = %+v, %v", res, err)
	}
	got := f.msg(t, m.ID)
	path, ok := strings.CutPrefix(got.Reply, "written to ")
	if !ok || filepath.Dir(path) != dir || !strings.HasSuffix(path, fmt.Sprintf("-%d.eml", m.ID)) {
		t.Fatalf("reply %q", got.Reply)
	}
	if !strings.Contains(logs.String(), path) {
		t.Errorf("log does not name the file: %s", logs.String())
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, %v; want 0600 (it holds a live link)", st.Mode(), err)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, %v; want 0700", st.Mode(), err)
	}
	b, _ := os.ReadFile(path)
	msg, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get("To") != "<"+m.To+">" || msg.Header.Get("Subject") != "Claim your Harbor Yoga account" {
		t.Errorf("headers %v", msg.Header)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("outbox directory holds %d entries, want just the message", len(entries))
	}
}

func TestDeliverReportsEachMessage(t *testing.T) {
	srv := startServer(t, serverConfig{RcptCodes: []int{550}})
	f := newFixture(t)
	msgs := f.queue(t, 3)
	w := f.worker(srv.transport(t))
	ctx := context.Background()
	// The third is not due yet (retrying): Deliver sends it anyway.
	if _, err := storetest.Raw(t, f.db).ExecContext(ctx, `UPDATE outbox SET next_attempt_at = ? WHERE id = ?`, f.Now().Add(time.Hour).Unix(), msgs[2].ID); err != nil {
		t.Fatal(err)
	}
	out, err := w.Deliver(ctx, msgs[0].ID, msgs[1].ID, msgs[2].ID, 999)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 4 {
		t.Fatalf("%d outcomes", len(out))
	}
	if o := out[0]; o.ID != msgs[0].ID || o.Status != store.OutboxFailed || !strings.Contains(o.Err, "550 5.1.1") {
		t.Errorf("first: %+v", o)
	}
	for _, o := range out[1:3] {
		if o.Status != store.OutboxSent || !strings.HasPrefix(o.Reply, "250 ") {
			t.Errorf("outcome %+v, want sent", o)
		}
	}
	if o := out[3]; o.ID != 999 || o.Status != "" || !strings.Contains(o.Err, "not found") {
		t.Errorf("unknown id: %+v", o)
	}
	// Asking again sends nothing twice; it reports the state.
	again, err := w.Deliver(ctx, msgs[1].ID)
	if err != nil || again[0].Status != store.OutboxSent || again[0].Reply == "" {
		t.Errorf("again: %+v, %v", again, err)
	}
	if n := len(srv.Received()); n != 2 {
		t.Errorf("server received %d messages, want 2", n)
	}
	// A message another worker holds is left alone.
	more := f.queue(t, 1)
	if err := f.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.LeaseIDs(ctx, "other", time.Minute, ids(more))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	held, err := w.Deliver(ctx, more[0].ID)
	if err != nil || held[0].Status != store.OutboxQueued || !strings.Contains(held[0].Err, "another") {
		t.Errorf("held elsewhere: %+v, %v", held, err)
	}
}

// cancelAfter is a transport whose connection cancels the worker's context
// after n messages: a shutdown in the middle of a batch.
type cancelAfter struct {
	Transport
	n      int
	cancel context.CancelFunc
}

type cancelConn struct {
	Conn
	t *cancelAfter
}

func (c *cancelAfter) Open(ctx context.Context) (Conn, error) {
	conn, err := c.Transport.Open(ctx)
	if err != nil {
		return nil, err
	}
	return &cancelConn{conn, c}, nil
}

func (c *cancelConn) Send(ctx context.Context, m *store.OutboxMessage) (string, error) {
	reply, err := c.Conn.Send(ctx, m)
	c.t.n--
	if c.t.n == 0 {
		c.t.cancel()
	}
	return reply, err
}

func TestShutdownMidBatchRecordsAndReleases(t *testing.T) {
	srv := startServer(t, serverConfig{})
	f := newFixture(t)
	msgs := f.queue(t, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := f.worker(&cancelAfter{Transport: srv.transport(t), n: 1, cancel: cancel})
	res, err := w.RunOnce(ctx)
	if err != nil || res != (Result{Leased: 4, Sent: 1, Skipped: 3}) {
		t.Fatalf("RunOnce = %+v, %v; want the in-flight message recorded and 3 given back", res, err)
	}
	if got := f.msg(t, msgs[0].ID); got.Status != store.OutboxSent {
		t.Errorf("in-flight message: %s", got.Status)
	}
	for _, m := range msgs[1:] {
		got := f.msg(t, m.ID)
		if got.Status != store.OutboxQueued || got.Attempts != 0 || got.LeaseOwner != "" || got.NextAttemptAt.After(f.Now()) {
			t.Errorf("message %d after shutdown: %+v; want queued, unleased, due", m.ID, got)
		}
	}
	// Another worker (or this one after a restart) picks them up at once.
	if res := drain(t, f.worker(srv.transport(t))); res.Sent != 3 {
		t.Errorf("after restart: %+v", res)
	}
}

func TestRunWakesAndStops(t *testing.T) {
	srv := startServer(t, serverConfig{})
	f := newFixture(t)
	w := f.worker(srv.transport(t))
	w.Poll = time.Hour // only Wake can make it look again
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		w.Run(ctx)
		close(done)
	}()
	for round := 1; round <= 2; round++ {
		m := f.queue(t, 1)[0]
		w.Wake()
		if !srv.waitFor(round, 10*time.Second) {
			t.Fatalf("round %d: Wake did not deliver", round)
		}
		_ = m
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestDeadInviteIsNotSent(t *testing.T) {
	srv := startServer(t, serverConfig{})
	f := newFixture(t)
	msgs := f.queue(t, 2)
	ctx := context.Background()
	// Staff resend to the first customer before the first email went out:
	// the old invite is revoked, its email must not go.
	if err := f.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.RevokeInvites(ctx, f.customer[msgs[0].ID], store.PurposeClaim, store.RevokeSuperseded)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	res, err := f.worker(srv.transport(t)).RunOnce(ctx)
	if err != nil || res != (Result{Leased: 2, Sent: 1, Cancelled: 1}) {
		t.Fatalf("RunOnce = %+v, %v; want one sent and one cancelled", res, err)
	}
	got := f.msg(t, msgs[0].ID)
	if got.Status != store.OutboxFailed || !strings.Contains(got.LastError, "newer invite") {
		t.Errorf("superseded message: %s %q", got.Status, got.LastError)
	}
	if srv.CountTo()[msgs[0].To] != 0 {
		t.Error("the superseded link was emailed")
	}
	if err := f.db.Tx(ctx, func(tx *store.Tx) error { return tx.RetryMessage(ctx, f.org.ID, msgs[0].ID) }); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("retrying a superseded invite's email: %v", err)
	}
}

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{{1, 10 * time.Second}, {2, 20 * time.Second}, {3, 40 * time.Second}, {9, 2560 * time.Second}, {10, time.Hour}, {1000, time.Hour}} {
		if got := Backoff(tc.n); got != tc.want {
			t.Errorf("Backoff(%d) = %s, want %s", tc.n, got, tc.want)
		}
	}
}

func TestNewSMTPRefusesBadSettings(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{From: "a@b.example"}, "no SMTP host"},
		{Config{Host: "mail.example", From: "Desk <a@b.example>"}, "plain email address"},
		{Config{Host: "mail.example", From: "a@b.example", TLS: "maybe"}, "starttls, tls or none"},
	} {
		if _, err := NewSMTP(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) || store.ErrorCode(err) != store.EINVALID {
			t.Errorf("NewSMTP(%+v) = %v, want EINVALID mentioning %q", tc.cfg, err, tc.want)
		}
	}
	// A relay on this machine may take a password without TLS, as go-mail
	// allows. (Another machine without TLS is judged once its EHLO shows
	// the mechanisms: TestAuthAutoKeepsThePasswordOffAPlainConnection.)
	if _, err := NewSMTP(Config{Host: "localhost", From: "a@b.example", TLS: TLSNone, Username: "u"}); err != nil {
		t.Errorf("local relay with AUTH and no TLS: %v", err)
	}
}

package tui

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"frontdesk/mailer"
	"frontdesk/store"
)

// fakeServer is a mail server that answers every message the same way.
type fakeServer struct {
	reply string
	err   error
}

func (s fakeServer) Open(ctx context.Context) (mailer.Conn, error) { return s, nil }
func (s fakeServer) Close() error                                  { return nil }
func (s fakeServer) Send(ctx context.Context, _ *store.OutboxMessage) (string, error) {
	return s.reply, s.err
}

// The outcome of an invite is said in words: sent with the expiry, queued
// with the server's words and the retry, failed with the server's words.
func TestInviteOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		server fakeServer
		want   string
		status store.Status
	}{
		{"sent", fakeServer{reply: "250 2.0.0 OK queued"}, "Invite sent to %s - link expires Mon 30 Nov 2026 at 14:05 GMT", store.StatusInvited},
		{"temporary", fakeServer{err: &textproto.Error{Code: 451, Msg: "4.3.0 Mailbox temporarily unavailable"}},
			"Invite to %s is queued: 451 4.3.0 Mailbox temporarily unavailable; it will retry at 14:05. The link expires Mon 30 Nov 2026 at 14:05 GMT.", store.StatusInvited},
		{"permanent", fakeServer{err: &textproto.Error{Code: 550, Msg: "5.1.1 No such user here"}},
			"Invite to %s failed: 550 5.1.1 No such user here - open the profile (enter), check the address (e) and send again.", store.StatusFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, 60)
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			f.worker = &mailer.Worker{DB: f.db, Transport: tc.server, Logger: logger}
			c := f.customer(t, store.StatusNotInvited)
			m := f.model(f.owner, 160, 40)
			drive(t, m, tea.WindowSizeMsg{Width: 160, Height: 40})
			drive(t, m, keys("<tab>", "i", "y")...)
			got := m.top().Note().text
			want := strings.ReplaceAll(tc.want, "%s", c.Email)
			if !strings.HasPrefix(got, want[:len(want)-1]) {
				t.Fatalf("outcome\n got: %s\nwant: %s", got, want)
			}
			cust, err := f.db.Customer(context.Background(), f.org.ID, c.ID)
			if err != nil || cust.Status != tc.status {
				t.Fatalf("status %v (%v), want %s", cust.Status, err, tc.status)
			}
			// The roster reloaded without being asked: the customer left
			// the "Not invited" filter.
			if strings.Contains(m.View(), ">  "+c.Name()) {
				t.Fatalf("%s still listed under Not invited:\n%s", c.Name(), m.View())
			}
		})
	}
}

// A mail server that accepts the connection and never answers (the wrong
// port, a broken relay), through the real SMTP transport: the confirmation
// ends within the desk's window, not the transport's minute, and says the
// invite is queued, why, and when it is tried again; the outbox keeps the
// reason.
func TestInviteToSilentMailServer(t *testing.T) {
	old := deliverTimeout
	deliverTimeout = 500 * time.Millisecond
	defer func() { deliverTimeout = old }()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var conns []net.Conn
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // held open, never answered
		}
	}()
	defer func() {
		l.Close()
		<-accepted
		for _, c := range conns {
			c.Close()
		}
	}()
	tr, err := mailer.NewSMTP(mailer.Config{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, From: "frontdesk@harbor-yoga.example", Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, 60)
	f.worker = &mailer.Worker{DB: f.db, Transport: tr, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	c := f.customer(t, store.StatusNotInvited)
	m := f.model(f.owner, 160, 40)
	drive(t, m, tea.WindowSizeMsg{Width: 160, Height: 40})
	drive(t, m, keys("<tab>", "i")...)
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		drive(t, m, keys("y")...)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the confirmation was still sending 10s later, with a 500ms window")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the confirmation took %s, with a 500ms window", took)
	}
	got := m.top().Note().text
	// The server was given what was left of the window once the invite
	// was leased: up to 500ms.
	want := regexp.MustCompile(`^Invite to ` + regexp.QuoteMeta(c.Email) + ` is queued: the mail server \S+ did not answer within (\d+)ms; it accepted the connection but sent no greeting .*; it will retry at 14:05\. The link expires Mon 30 Nov 2026 at 14:05 GMT\.$`)
	mm := want.FindStringSubmatch(got)
	if mm == nil {
		t.Fatalf("outcome\n got: %s\nwant: %s", got, want)
	}
	if ms, _ := strconv.Atoi(mm[1]); ms <= 0 || ms > 500 {
		t.Fatalf("outcome says the server was given %sms, with a 500ms window: %s", mm[1], got)
	}
	rows, err := f.db.OutboxMessages(context.Background(), f.org.ID, 1)
	if err != nil || len(rows) != 1 {
		t.Fatalf("outbox: %v %v", rows, err)
	}
	if o := rows[0]; o.To != c.Email || o.Status != store.OutboxQueued || o.Attempts != 1 || !strings.Contains(o.LastError, "did not answer within "+mm[1]+"ms") {
		t.Fatalf("outbox row %+v; want queued after one attempt, with the reason", o)
	}
}

package tui

import (
	"context"
	"io"
	"log/slog"
	"net/textproto"
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
	hang  bool // never answers: the send outlasts the time box
}

func (s fakeServer) Open(ctx context.Context) (mailer.Conn, error) { return s, nil }
func (s fakeServer) Close() error                                  { return nil }
func (s fakeServer) Send(ctx context.Context, _ *store.OutboxMessage) (string, error) {
	if s.hang {
		<-ctx.Done()
		return "", &textproto.Error{Code: 421, Msg: "4.4.2 timed out"}
	}
	return s.reply, s.err
}

// The outcome of an invite is said in words: sent with the expiry, queued
// with the server's words and the retry, failed with the server's words, or
// queued because the server did not answer in time.
func TestInviteOutcomes(t *testing.T) {
	old := deliverTimeout
	deliverTimeout = 300 * time.Millisecond
	defer func() { deliverTimeout = old }()
	for _, tc := range []struct {
		name   string
		server fakeServer
		want   string
		status store.Status
	}{
		{"sent", fakeServer{reply: "250 2.0.0 OK queued"}, "Invite sent to %s - link expires Mon 30 Nov 14:05 GMT", store.StatusInvited},
		{"temporary", fakeServer{err: &textproto.Error{Code: 451, Msg: "4.3.0 Mailbox temporarily unavailable"}},
			"Invite to %s is queued: 451 4.3.0 Mailbox temporarily unavailable; it will retry at 14:05. The link expires Mon 30 Nov 14:05 GMT.", store.StatusInvited},
		{"permanent", fakeServer{err: &textproto.Error{Code: 550, Msg: "5.1.1 No such user here"}},
			"Invite to %s failed: 550 5.1.1 No such user here - check the address (e on the profile) and send again.", store.StatusFailed},
		{"timeout", fakeServer{hang: true}, "Invite to %s is queued: the mail server did not answer within 300ms; it will retry.", store.StatusInvited},
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

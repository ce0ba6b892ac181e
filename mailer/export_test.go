package mailer

import (
	"testing"
	"time"
)

// What the tests of package mailer_test use of this package's test SMTP
// server. Those tests drive the claim service, which imports mailer, so they
// cannot be in package mailer.

// TestSMTPServer is the in-process SMTP server of smtpserver_test.go.
type TestSMTPServer = testServer

// StartTestSMTPServer starts one on 127.0.0.1 that requires STARTTLS, as
// the default --smtp-tls does.
func StartTestSMTPServer(t testing.TB) *TestSMTPServer {
	return startServer(t, serverConfig{StartTLS: true})
}

// Transport is an SMTP transport that reaches the server and trusts its
// certificate.
func (s *testServer) Transport(t testing.TB) *SMTP { return s.transport(t) }

// WaitFor waits until the server has accepted n messages, up to timeout.
func (s *testServer) WaitFor(n int, timeout time.Duration) bool { return s.waitFor(n, timeout) }

// TransportWithDKIM is Transport signing every message with dk.
func (s *testServer) TransportWithDKIM(t testing.TB, dk *DKIM) *SMTP {
	t.Helper()
	cfg := s.config()
	cfg.DKIM = dk
	tr, err := NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// Raw is what the server received, in order: one message each.
func (s *testServer) Raw() []string {
	var out []string
	for _, r := range s.Received() {
		out = append(out, r.Data)
	}
	return out
}

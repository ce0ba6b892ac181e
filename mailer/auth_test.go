package mailer

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"frontdesk/store"
)

// deliverOne queues one invite and runs the worker over tr once; it returns
// the message as the outbox holds it afterwards.
func deliverOne(t *testing.T, tr Transport) *store.OutboxMessage {
	t.Helper()
	f := newFixture(t)
	m := f.queue(t, 1)[0]
	if _, err := f.worker(tr).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f.msg(t, m.ID)
}

// newSMTP is NewSMTP failing the test on a configuration error.
func newSMTP(t *testing.T, cfg Config) *SMTP {
	t.Helper()
	tr, err := NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// A mail server that offers one way of logging in gets the message, with
// the default --smtp-auth (auto), whichever way that is.
func TestAuthAutoUsesWhatTheServerOffers(t *testing.T) {
	for _, mech := range []string{"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256"} {
		t.Run(mech, func(t *testing.T) {
			srv := startServer(t, serverConfig{StartTLS: true, Auth: true, Mechs: []string{mech}})
			got := deliverOne(t, srv.transport(t))
			if got.Status != store.OutboxSent {
				t.Fatalf("message %s: %q", got.Status, got.LastError)
			}
			if r := srv.Received()[0]; r.User != testUser || r.Mech != mech || !r.TLS {
				t.Errorf("logged in as %q with %q (TLS %v), want %q with %s over TLS", r.User, r.Mech, r.TLS, testUser, mech)
			}
		})
	}
}

// auto takes the strongest mechanism offered, whatever order the server
// lists them in: SCRAM-SHA-256, then CRAM-MD5, then PLAIN, then LOGIN; never
// XOAUTH2, which wants a token rather than a password.
func TestAuthAutoTakesTheStrongest(t *testing.T) {
	for _, tc := range []struct {
		offered []string
		want    string
	}{
		{[]string{"PLAIN", "LOGIN", "XOAUTH2", "CRAM-MD5", "SCRAM-SHA-256"}, "SCRAM-SHA-256"},
		{[]string{"LOGIN", "PLAIN", "CRAM-MD5"}, "CRAM-MD5"},
		{[]string{"LOGIN", "PLAIN"}, "PLAIN"},
		{[]string{"XOAUTH2", "LOGIN"}, "LOGIN"},
	} {
		t.Run(strings.Join(tc.offered, "+"), func(t *testing.T) {
			srv := startServer(t, serverConfig{ImplicitTLS: true, Auth: true, Mechs: tc.offered})
			if got := deliverOne(t, srv.transport(t)); got.Status != store.OutboxSent {
				t.Fatalf("message %s: %q", got.Status, got.LastError)
			}
			if tries := srv.AuthTries(); !slices.Equal(tries, []string{tc.want}) {
				t.Errorf("AUTH commands %v, want one with %s", tries, tc.want)
			}
		})
	}
}

// A mechanism named with --smtp-auth is the one used, XOAUTH2 with the
// access token given as the password; one the server does not offer is
// refused before anything is sent, in words that say what it offers.
func TestAuthNamedMechanism(t *testing.T) {
	all := []string{"LOGIN", "PLAIN", "CRAM-MD5", "SCRAM-SHA-256", "XOAUTH2"}
	for mode, mech := range map[string]string{AuthPlain: "PLAIN", AuthLogin: "LOGIN", AuthCRAMMD5: "CRAM-MD5", AuthSCRAMSHA256: "SCRAM-SHA-256", AuthXOAUTH2: "XOAUTH2"} {
		t.Run(mode, func(t *testing.T) {
			srv := startServer(t, serverConfig{StartTLS: true, Auth: true, Mechs: all})
			cfg := srv.config()
			cfg.Auth = mode
			if mode == AuthXOAUTH2 {
				cfg.Password = testToken
			}
			if got := deliverOne(t, newSMTP(t, cfg)); got.Status != store.OutboxSent {
				t.Fatalf("message %s: %q", got.Status, got.LastError)
			}
			if r := srv.Received()[0]; r.Mech != mech || r.User != testUser {
				t.Errorf("logged in as %q with %q, want %s", r.User, r.Mech, mech)
			}
		})
	}

	srv := startServer(t, serverConfig{StartTLS: true, Auth: true, Mechs: []string{"LOGIN", "PLAIN"}})
	cfg := srv.config()
	cfg.Auth = AuthCRAMMD5
	got := deliverOne(t, newSMTP(t, cfg))
	want := "the mail server " + cfg.Host + ":" + itoa(cfg.Port) + " offers LOGIN and PLAIN; --smtp-auth cram-md5 cannot be used: choose auto or one it offers"
	if got.Status != store.OutboxQueued || got.LastError != want {
		t.Errorf("message %s with %q; want queued with %q", got.Status, got.LastError, want)
	}
	if tries := srv.AuthTries(); len(tries) != 0 {
		t.Errorf("AUTH sent anyway: %v", tries)
	}
	if !srv.waitIdle(10 * time.Second) {
		t.Error("the refused session's connection was left open")
	}
}

// A server that offers no login takes mail without one; with a user name
// configured, the session stops and says why.
func TestAuthServerOffersNone(t *testing.T) {
	srv := startServer(t, serverConfig{StartTLS: true})
	cfg := srv.config()
	if got := deliverOne(t, newSMTP(t, cfg)); got.Status != store.OutboxSent {
		t.Fatalf("without a user name: message %s: %q", got.Status, got.LastError)
	}
	cfg.Username, cfg.Password = testUser, testPass
	got := deliverOne(t, newSMTP(t, cfg))
	if got.Status != store.OutboxQueued || !strings.Contains(got.LastError, "offers no login (its reply to EHLO has no AUTH), but --smtp-username is set: check --smtp-host and --smtp-port") {
		t.Errorf("with a user name: message %s with %q", got.Status, got.LastError)
	}
	// --smtp-auth none sends no user name; with one set it is a contradiction.
	cfg.Auth = AuthNone
	if _, err := NewSMTP(cfg); err == nil || !strings.Contains(err.Error(), "--smtp-auth none logs in with no user name, but --smtp-username is set") {
		t.Errorf("none with a user name: %v", err)
	}
	cfg.Username, cfg.Password = "", ""
	if got := deliverOne(t, newSMTP(t, cfg)); got.Status != store.OutboxSent {
		t.Errorf("none: message %s: %q", got.Status, got.LastError)
	}
}

// A refused login is said with the server's reply and what to check; the
// mail waits for the next attempt.
func TestAuthRefusedInWords(t *testing.T) {
	for _, tc := range []struct {
		mode, mech, want string
	}{
		{AuthAuto, "LOGIN", "refused the login with LOGIN (535 5.7.8 Authentication failed): check --smtp-username and --smtp-password"},
		{AuthAuto, "CRAM-MD5", "refused the login with CRAM-MD5 (535 5.7.8 Authentication failed): check --smtp-username and --smtp-password"},
		{AuthAuto, "SCRAM-SHA-256", "refused the login with SCRAM-SHA-256 (535 5.7.8 Authentication failed)"},
		{AuthXOAUTH2, "XOAUTH2", "refused the login with XOAUTH2 (535 5.7.8 Authentication failed): check --smtp-username and the access token in --smtp-password (tokens expire)"},
	} {
		t.Run(tc.mech, func(t *testing.T) {
			srv := startServer(t, serverConfig{StartTLS: true, Auth: true, Mechs: []string{tc.mech}})
			cfg := srv.config()
			cfg.Auth, cfg.Password = tc.mode, "wrong"
			got := deliverOne(t, newSMTP(t, cfg))
			if got.Status != store.OutboxQueued || !strings.HasPrefix(got.LastError, "the mail server 127.0.0.1:") || !strings.Contains(got.LastError, tc.want) {
				t.Errorf("message %s with %q; want queued with %q", got.Status, got.LastError, tc.want)
			}
			if !srv.waitIdle(10 * time.Second) {
				t.Error("the refused session's connection was left open")
			}
		})
	}
}

// auto over an unencrypted connection (--smtp-tls none) to another machine
// never sends the password: a challenge-response mechanism is used when
// offered, and a server (or an attacker in between) offering only PLAIN and
// LOGIN is refused in words before the password goes. Naming the mechanism
// is the operator's explicit choice to send it anyway; to a server on this
// machine it crosses no network.
func TestAuthAutoKeepsThePasswordOffAPlainConnection(t *testing.T) {
	remote := func(srv *testServer, mode string) *SMTP {
		cfg := srv.config()
		cfg.Host, cfg.Auth = "mail.studio.example", mode
		tr := newSMTP(t, cfg)
		tr.connectTo = srv.Host + ":" + itoa(srv.Port)
		return tr
	}

	srv := startServer(t, serverConfig{Auth: true, Mechs: []string{"PLAIN", "LOGIN"}})
	got := deliverOne(t, remote(srv, AuthAuto))
	want := "the mail server mail.studio.example:" + itoa(srv.Port) + " offers PLAIN and LOGIN, which would send the password unencrypted (--smtp-tls none): use --smtp-tls starttls or tls; on a network you trust, --smtp-auth plain sends it anyway"
	if got.Status != store.OutboxQueued || got.LastError != want {
		t.Errorf("message %s with %q; want queued with %q", got.Status, got.LastError, want)
	}
	if tries := srv.AuthTries(); len(tries) != 0 {
		t.Fatalf("the password went over a plain connection: AUTH %v", tries)
	}

	if got := deliverOne(t, remote(srv, AuthPlain)); got.Status != store.OutboxSent || srv.Received()[0].Mech != "PLAIN" || srv.Received()[0].TLS {
		t.Errorf("--smtp-auth plain over --smtp-tls none: message %s (%q)", got.Status, got.LastError)
	}

	srv = startServer(t, serverConfig{Auth: true, Mechs: []string{"PLAIN", "LOGIN", "CRAM-MD5"}})
	if got := deliverOne(t, remote(srv, AuthAuto)); got.Status != store.OutboxSent || srv.Received()[0].Mech != "CRAM-MD5" {
		t.Errorf("auto with CRAM-MD5 offered: message %s (%q), tries %v", got.Status, got.LastError, srv.AuthTries())
	}

	srv = startServer(t, serverConfig{Auth: true, Mechs: []string{"PLAIN"}})
	if got := deliverOne(t, srv.transport(t)); got.Status != store.OutboxSent || srv.Received()[0].Mech != "PLAIN" {
		t.Errorf("auto to 127.0.0.1 without TLS: message %s (%q)", got.Status, got.LastError)
	}
}

// What auto cannot use is said, with what the server offers.
func TestAuthAutoNothingUsable(t *testing.T) {
	for _, tc := range []struct {
		offered []string
		want    string
	}{
		{[]string{"NTLM", "GSSAPI"}, "offers NTLM and GSSAPI; frontdesk logs in with SCRAM-SHA-256, CRAM-MD5, PLAIN, LOGIN or XOAUTH2 only"},
		{[]string{"XOAUTH2"}, "offers XOAUTH2; --smtp-auth auto logs in with a password (SCRAM-SHA-256, CRAM-MD5, PLAIN or LOGIN): for an access token choose --smtp-auth xoauth2"},
	} {
		srv := startServer(t, serverConfig{StartTLS: true, Auth: true, Mechs: tc.offered})
		_, err := srv.transport(t).Open(context.Background())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("offered %v: Open = %v; want %q", tc.offered, err, tc.want)
		}
		if tries := srv.AuthTries(); len(tries) != 0 {
			t.Errorf("offered %v: AUTH sent anyway: %v", tc.offered, tries)
		}
	}
}

// Settings that cannot work are refused before any connection.
func TestAuthSettingsChecked(t *testing.T) {
	base := Config{Host: "mail.studio.example", From: "frontdesk@studio.example"}
	for _, tc := range []struct {
		auth, user, want string
	}{
		{"md5", "u", `SMTP authentication "md5": use auto, plain, login, cram-md5, scram-sha-256, xoauth2 or none`},
		{AuthPlain, "", "--smtp-auth plain needs --smtp-username and --smtp-password"},
		{AuthXOAUTH2, "", "--smtp-auth xoauth2 needs --smtp-username and the access token in --smtp-password"},
		{AuthNone, "u", "--smtp-auth none logs in with no user name, but --smtp-username is set"},
	} {
		cfg := base
		cfg.Auth, cfg.Username = tc.auth, tc.user
		if _, err := NewSMTP(cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--smtp-auth %s, user %q: %v; want %q", tc.auth, tc.user, err, tc.want)
		}
	}
	// A user name over --smtp-tls none to another machine is no longer
	// refused up front: the server may offer a mechanism that keeps the
	// password off the wire.
	cfg := base
	cfg.TLS, cfg.Username = TLSNone, "u"
	if _, err := NewSMTP(cfg); err != nil {
		t.Errorf("auto over none: %v", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

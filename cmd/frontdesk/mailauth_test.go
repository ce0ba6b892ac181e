package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// authMailServer is mailServer behind a login, offering mechs.
type authMailServer struct {
	*mailServer
	mechs []string

	mu   sync.Mutex
	used []string // the mechanism of every successful login
}

const smtpUser, smtpPass = "desk@harbor-yoga.example", "app password 123"

func startAuthMailServer(t *testing.T, mechs ...string) *authMailServer {
	t.Helper()
	b := &authMailServer{mailServer: &mailServer{}, mechs: mechs}
	srv := smtp.NewServer(b)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true // loopback, as a local relay would be
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b.addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return b
}

func (b *authMailServer) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &authMailSession{mailSession: &mailSession{srv: b.mailServer}, b: b}, nil
}

func (b *authMailServer) logins() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.used...)
}

type authMailSession struct {
	*mailSession
	b      *authMailServer
	authed bool
}

func (s *authMailSession) AuthMechanisms() []string { return s.b.mechs }

func (s *authMailSession) Auth(mech string) (sasl.Server, error) {
	ok := func(user, pass string) error {
		if user != smtpUser || pass != smtpPass {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		s.b.mu.Lock()
		s.b.used = append(s.b.used, mech)
		s.b.mu.Unlock()
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return ok(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: ok}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *authMailSession) Mail(from string, opts *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	return s.mailSession.Mail(from, opts)
}

// loginServer is the server side of LOGIN: user name, then password.
type loginServer struct {
	user  *string
	check func(user, pass string) error
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	if l.user == nil {
		if resp == nil {
			return []byte("Username:"), false, nil
		}
		u := string(resp)
		l.user = &u
		return []byte("Password:"), false, nil
	}
	return nil, true, l.check(*l.user, string(resp))
}

// The mail server: it offers LOGIN only, and `invite` (the
// default --smtp-auth auto) now gets the invite to it. A mechanism it does
// not offer, named with --smtp-auth, leaves the invite queued with the
// reason in words, in the invite's output and in `outbox list`.
func TestInviteLogsInAsTheServerOffers(t *testing.T) {
	mail := startAuthMailServer(t, sasl.Login)
	c := newCLI(t)
	c.ok("demo", "--customers", "30")
	c.useSMTP(mail.addr)
	c.env["FRONTDESK_SMTP_USERNAME"] = smtpUser
	c.env["FRONTDESK_SMTP_PASSWORD"] = smtpPass

	_, email := c.firstWith("not-invited")
	if out := c.ok("invite", email); !strings.Contains(out, "Invite sent to "+email) {
		t.Fatalf("invite: %s", out)
	}
	if got := mail.logins(); len(got) != 1 || got[0] != sasl.Login || len(mail.received()) != 1 {
		t.Fatalf("logins %v, %d messages; want one LOGIN and the invite", got, len(mail.received()))
	}

	_, other := c.firstWith("not-invited")
	want := "the mail server " + mail.addr + " offers LOGIN; --smtp-auth cram-md5 cannot be used: choose auto or one it offers"
	out := c.ok("invite", other, "--smtp-auth", "cram-md5")
	if !strings.Contains(out, " is queued: "+want) {
		t.Fatalf("invite --smtp-auth cram-md5 said:\n%s\nwant %q", out, want)
	}
	if list := c.ok("outbox", "list"); !strings.Contains(list, want) {
		t.Errorf("outbox list does not give the reason:\n%s", list)
	}
	if n := len(mail.received()); n != 1 {
		t.Errorf("the server received %d messages, want 1", n)
	}

	// Wrong values and contradictions: the command line (exit 2), or the
	// settings as a whole (exit 1), each said in words.
	if code, _, errs := c.run("invite", other, "--smtp-auth", "md5"); code != 2 || !strings.Contains(errs, `--smtp-auth "md5": use auto, plain, login, cram-md5, scram-sha-256, xoauth2, none`) {
		t.Errorf("--smtp-auth md5: exit %d, %q", code, errs)
	}
	c.env["FRONTDESK_SMTP_AUTH"] = "none"
	if code, _, errs := c.run("invite", other); code != 1 || !strings.Contains(errs, "--smtp-auth none logs in with no user name, but --smtp-username is set") {
		t.Errorf("FRONTDESK_SMTP_AUTH=none with a user name: exit %d, %q", code, errs)
	}
}

// --dkim-key signs every email for the domain of --mail-from: the invite
// the server receives verifies against the key's DNS record, which `serve`
// logs at start for the operator to publish. A key file others can read is
// refused as the SSH host key is, and a key without its selector is a
// mistake in the command line.
func TestInviteSignedWithDKIM(t *testing.T) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "dkim.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	record := "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))

	mail := startMailServer(t)
	c := newCLI(t)
	c.ok("demo", "--customers", "30")
	c.useSMTP(mail.addr)
	c.env["FRONTDESK_MAIL_FROM"] = "frontdesk@harbor-yoga.example"
	_, email := c.firstWith("not-invited")

	if code, _, errs := c.run("invite", email, "--dkim-key", keyFile); code != 2 || !strings.Contains(errs, "--dkim-key and --dkim-selector go together") {
		t.Errorf("--dkim-key alone: exit %d, %q", code, errs)
	}
	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := c.run("invite", email, "--dkim-key", keyFile, "--dkim-selector", "desk1")
	if code != 1 || !strings.Contains(errs, "the DKIM key "+keyFile+" can be read by others (mode -rw-r--r--); run `chmod 600 "+keyFile+"`") {
		t.Errorf("a key others can read: exit %d, %q", code, errs)
	}
	if n := len(mail.received()); n != 0 {
		t.Fatalf("sent %d messages with a refused key", n)
	}
	os.Chmod(keyFile, 0o600)

	c.env["FRONTDESK_DKIM_KEY"], c.env["FRONTDESK_DKIM_SELECTOR"] = keyFile, "desk1"
	c.ok("invite", email)
	got := mail.received()
	if len(got) != 1 {
		t.Fatalf("the server received %d messages", len(got))
	}
	vs, err := dkim.VerifyWithOptions(strings.NewReader(got[0]), &dkim.VerifyOptions{LookupTXT: func(name string) ([]string, error) {
		if name != "desk1._domainkey.harbor-yoga.example" {
			return nil, errors.New("NXDOMAIN " + name)
		}
		return []string{record}, nil
	}})
	if err != nil || len(vs) != 1 || vs[0].Err != nil || vs[0].Domain != "harbor-yoga.example" {
		t.Fatalf("DKIM: %+v, %v\n%s", vs, err, got[0])
	}

	s := c.serve()
	log := s.stderr.String()
	if !strings.Contains(log, `dns_name=desk1._domainkey.harbor-yoga.example dns_txt="`+record+`"`) {
		t.Errorf("serve does not say what to publish:\n%s", log)
	}
	if code, took := s.stop(30 * time.Second); code != 0 {
		t.Errorf("serve: exit %d after %s", code, took)
	}
}

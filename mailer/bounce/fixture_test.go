package bounce_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"frontdesk/mailer"
	"frontdesk/mailer/bounce"
	"frontdesk/store"
)

// The topic and certificate URL of the documented SNS samples.
const (
	topic   = "arn:aws:sns:us-west-2:123456789012:MyTopic"
	certURL = "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem"
	secret  = "postmark-webhook-secret-7f3a9c"
)

// fixture is a real database with an organization, a real SMTP server the
// outbox worker delivers to, the webhooks mounted on a mux behind a real
// HTTP server, and a stand-in for Amazon SNS (HTTPS, with a certificate for
// sns.us-west-2.amazonaws.com from a test CA) that serves the test's signing
// certificate and counts subscription confirmations.
type fixture struct {
	t     *testing.T
	db    *store.DB
	org   *store.Org
	staff *store.Staff
	mail  *mailServer
	srv   *httptest.Server
	sns   *fakeSNS
	log   *syncBuffer
}

type fixtureOpts struct {
	secret string
	topics []string
}

func newFixture(t *testing.T) *fixture {
	return newFixtureWith(t, fixtureOpts{secret: secret, topics: []string{topic}})
}

func newFixtureWith(t *testing.T, o fixtureOpts) *fixture {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{t: t, db: db, mail: startMailServer(t), sns: startFakeSNS(t), log: &syncBuffer{}}
	ctx := context.Background()
	f.org = &store.Org{Name: "Harbor Yoga", TimeZone: "Europe/London", Notifications: true}
	f.staff = &store.Staff{Email: "owner@harbor.example", Name: "Olga Owner", Role: store.RoleOwner}
	err = db.Tx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateOrg(ctx, f.org); err != nil {
			return err
		}
		f.staff.OrgID = f.org.ID
		return tx.CreateStaff(ctx, f.staff)
	})
	if err != nil {
		t.Fatal(err)
	}
	h := bounce.New(bounce.Config{
		DB: db, PostmarkSecret: o.secret, SNSTopics: o.topics, Client: f.sns.client(),
		Logger: slog.New(slog.NewTextHandler(f.log, nil)),
	})
	mux := http.NewServeMux()
	h.Mount(mux)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// sent is an invite delivered by the outbox worker to the SMTP server,
// which answered reply to its DATA.
type sent struct {
	msg      *store.OutboxMessage
	customer *store.Customer
	invite   int64
}

// invite creates a customer with that address and an invite, and has the
// worker deliver it while the SMTP server answers DATA with "250 " + reply.
func (f *fixture) invite(email, reply string) *sent {
	f.t.Helper()
	ctx := context.Background()
	c := &store.Customer{OrgID: f.org.ID, FirstName: "Jane", LastName: "Doe", Email: email}
	m := &store.OutboxMessage{OrgID: f.org.ID, Kind: store.MessageInvite, To: email, FromName: f.org.Name,
		Subject: "Claim your Harbor Yoga account", Text: "Set your password: https://desk.example/claim/x", HTML: "<p>claim</p>"}
	inv := &store.Invite{OrgID: f.org.ID, Purpose: store.PurposeClaim, Email: email, CreatedBy: f.staff.ID}
	err := f.db.Tx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateCustomer(ctx, c); err != nil {
			return err
		}
		m.CustomerID = c.ID
		if err := tx.EnqueueMessage(ctx, m); err != nil {
			return err
		}
		h := sha256.Sum256([]byte("token for " + email))
		inv.CustomerID, inv.TokenHash, inv.OutboxID, inv.ExpiresAt = c.ID, h[:], m.ID, f.db.Now().Add(7*24*time.Hour)
		return tx.CreateInvite(ctx, inv)
	})
	if err != nil {
		f.t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(f.mail.addr)
	var p int
	fmt.Sscan(port, &p)
	tr, err := mailer.NewSMTP(mailer.Config{Host: host, Port: p, TLS: mailer.TLSNone, From: "desk@harbor.example", Timeout: 10 * time.Second})
	if err != nil {
		f.t.Fatal(err)
	}
	f.mail.setReply(reply)
	w := &mailer.Worker{DB: f.db, Transport: tr, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	out, err := w.Deliver(ctx, m.ID)
	if err != nil || len(out) != 1 || out[0].Status != store.OutboxSent {
		f.t.Fatalf("delivering the invite: %+v, %v", out, err)
	}
	got, err := f.db.OutboxMessage(ctx, f.org.ID, m.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	if got.MessageID == "" || !strings.Contains(got.Reply, reply) {
		f.t.Fatalf("delivered message: Message-ID %q, reply %q; want an id and the server's %q", got.MessageID, got.Reply, reply)
	}
	return &sent{msg: got, customer: c, invite: inv.ID}
}

// state is what staff would see of s now: the message's status and words,
// the customer's roster status, whether the link still works, and how many
// bounce audit rows there are.
type state struct {
	Status, Reason string
	Customer       store.Status
	LinkLive       bool
	Audits         int
}

func (f *fixture) state(s *sent) state {
	f.t.Helper()
	ctx := context.Background()
	m, err := f.db.OutboxMessage(ctx, f.org.ID, s.msg.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	c, err := f.db.Customer(ctx, f.org.ID, s.customer.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	invs, err := f.db.Invites(ctx, f.org.ID, c.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	st := state{Status: m.Status, Reason: m.LastError, Customer: c.Status}
	for _, inv := range invs {
		if inv.ID == s.invite {
			is, _ := inv.State(c, f.db.Now())
			st.LinkLive = is == store.InviteLive
		}
	}
	log, err := f.db.AuditLog(ctx, f.org.ID, c.ID, 100)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, a := range log {
		if a.Action == "outbox.bounce" {
			st.Audits++
		}
	}
	return st
}

// untouched is the state of a delivered invite nobody reported.
var untouched = state{Status: store.OutboxSent, Customer: store.StatusInvited, LinkLive: true}

// post sends body to path with the header pairs given, and returns the
// status and the answer.
func (f *fixture) post(path string, body []byte, header ...string) (int, string) {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// sample reads a documented payload from testdata.
func sample(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber() // Postmark's ID is a 64-bit integer
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mailServer is a real SMTP server that accepts every message and answers
// DATA with a reply of the test's choosing ("250 Ok <SES id>").
type mailServer struct {
	addr  string
	mu    sync.Mutex
	reply string
}

func startMailServer(t *testing.T) *mailServer {
	t.Helper()
	m := &mailServer{}
	srv := smtp.NewServer(m)
	srv.Domain = "localhost"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m.addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return m
}

func (m *mailServer) setReply(r string) { m.mu.Lock(); m.reply = r; m.mu.Unlock() }

func (m *mailServer) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{m}, nil }

type mailSession struct{ m *mailServer }

func (s *mailSession) Reset()                               {}
func (s *mailSession) Logout() error                        { return nil }
func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *mailSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	// go-smtp writes a returned SMTPError as the reply, whatever its code:
	// the way to answer 250 with our own text.
	return &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: s.m.reply}
}

// fakeSNS stands in for https://sns.us-west-2.amazonaws.com: a TLS server
// with a certificate for that name from a CA only the test's client
// trusts. It serves the signing certificate and the subscription
// confirmation, and counts what it was asked.
type fakeSNS struct {
	srv  *httptest.Server
	ca   *x509.CertPool
	key  *rsa.PrivateKey // signs the SNS messages
	cert []byte          // PEM of key's certificate

	mu       sync.Mutex
	fetched  []string // paths of certificate requests
	confirms []url.Values
}

func startFakeSNS(t *testing.T) *fakeSNS {
	t.Helper()
	f := &fakeSNS{ca: x509.NewCertPool()}
	caKey, caCert := newCert(t, nil, nil, "Test CA", nil)
	f.ca.AddCert(caCert)
	// The other names are hosts a forger could hold a valid certificate
	// for: only the handler's own check keeps it from fetching from them.
	srvKey, srvCert := newCert(t, caKey, caCert, "sns.us-west-2.amazonaws.com",
		[]string{"sns.us-west-2.amazonaws.com", "certs.example.com", "sns.us-west-2.amazonaws.com.example.com", "confirm.example.com"})
	var signing *x509.Certificate
	f.key, signing = newCert(t, nil, nil, "sns.amazonaws.com", nil)
	f.cert = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: signing.Raw})

	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		switch {
		case r.URL.Path == "/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem":
			f.fetched = append(f.fetched, r.Host+r.URL.Path)
			w.Write(f.cert)
		case r.URL.Path == "/" && r.URL.Query().Get("Action") == "ConfirmSubscription":
			f.confirms = append(f.confirms, r.URL.Query())
			io.WriteString(w, "<ConfirmSubscriptionResponse/>")
		default:
			f.fetched = append(f.fetched, r.Host+r.URL.Path)
			http.NotFound(w, r)
		}
	}))
	f.srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{srvCert.Raw}, PrivateKey: srvKey}}}
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

// client reaches the stand-in whatever host a URL names, and trusts only
// the test CA: a URL is still checked by TLS against the name it gives.
func (f *fakeSNS) client() *http.Client {
	addr := f.srv.Listener.Addr().String()
	var d net.Dialer
	return &http.Client{
		Transport: &http.Transport{
			DialContext:     func(ctx context.Context, _, _ string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) },
			TLSClientConfig: &tls.Config{RootCAs: f.ca},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (f *fakeSNS) counts() (fetched []string, confirms []url.Values) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.fetched...), append([]url.Values(nil), f.confirms...)
}

// newCert makes an RSA key and a certificate for it, signed by parent (or
// self-signed when parent is nil), valid for an hour around now.
func newCert(t *testing.T, parentKey *rsa.PrivateKey, parent *x509.Certificate, cn string, dns []string) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     dns,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = dns == nil, true
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

// signSNS signs the SNS message m with key as AWS documents it: the
// message's fields by type, "Name\nValue\n" each, in byte order of the
// names, with SHA1withRSA (version 1) or SHA256withRSA (version 2).
func signSNS(t *testing.T, m map[string]any, key *rsa.PrivateKey, version string) []byte {
	t.Helper()
	m["SignatureVersion"] = version
	names := []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}
	if m["Type"] != "Notification" {
		names = []string{"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"}
	}
	var text strings.Builder
	for _, n := range names {
		if v, ok := m[n]; ok {
			text.WriteString(n + "\n" + v.(string) + "\n")
		}
	}
	var sig []byte
	var err error
	if version == "1" {
		d := sha1.Sum([]byte(text.String()))
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA1, d[:])
	} else {
		d := sha256.Sum256([]byte(text.String()))
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
	}
	if err != nil {
		t.Fatal(err)
	}
	m["Signature"] = base64.StdEncoding.EncodeToString(sig)
	return mustJSON(t, m)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

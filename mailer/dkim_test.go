package mailer

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"frontdesk/store"
)

const testSelector = "fd2026"

// dkimKey writes key to a 0600 PEM file (PKCS#8, or PKCS#1 for pkcs1) and
// returns the file and the TXT record a receiver finds in DNS, made here
// from the key itself rather than by the code under test.
func dkimKey(t *testing.T, key crypto.Signer, pkcs1 bool) (path, record string) {
	t.Helper()
	var block *pem.Block
	if pkcs1 {
		block = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key.(*rsa.PrivateKey))}
	} else {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	}
	path = filepath.Join(t.TempDir(), "dkim.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	switch pub := key.Public().(type) {
	case ed25519.PublicKey:
		record = "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		record = "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
	}
	return path, record
}

// verifyDKIM checks raw with go-msgauth's verifier, whose DNS is the one
// record given, and returns its single verification.
func verifyDKIM(t *testing.T, raw, record string) *dkim.Verification {
	t.Helper()
	lookups := 0
	vs, err := dkim.VerifyWithOptions(strings.NewReader(raw), &dkim.VerifyOptions{LookupTXT: func(name string) ([]string, error) {
		lookups++
		if name != testSelector+"._domainkey.studio.example" {
			return nil, errors.New("no such record: " + name)
		}
		return []string{record}, nil
	}})
	if err != nil {
		t.Fatalf("verifying: %v", err)
	}
	if len(vs) != 1 {
		t.Fatalf("%d DKIM signatures, want 1:\n%s", len(vs), raw)
	}
	if lookups == 0 {
		t.Fatal("the verifier never looked up the key")
	}
	return vs[0]
}

// Every message sent over SMTP carries a DKIM signature for the sender's
// domain that an independent verifier accepts with the published key, for
// Ed25519 and RSA keys; it covers what the reader sees and where replies go,
// and breaks when any of that is changed or added to on the way.
func TestDKIMSignedMailVerifies(t *testing.T) {
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		key   crypto.Signer
		pkcs1 bool
	}{
		{"ed25519", edKey, false},
		{"rsa-pkcs8", rsaKey, false},
		{"rsa-pkcs1", rsaKey, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, record := dkimKey(t, tc.key, tc.pkcs1)
			dk, err := LoadDKIM(path, testSelector, "frontdesk@studio.example")
			if err != nil {
				t.Fatal(err)
			}
			if dk.DNSName() != testSelector+"._domainkey.studio.example" || dk.DNSRecord() != record {
				t.Errorf("publish %q at %s, want %q", dk.DNSRecord(), dk.DNSName(), record)
			}
			srv := startServer(t, serverConfig{StartTLS: true})
			cfg := srv.config()
			cfg.DKIM = dk
			if got := deliverOne(t, newSMTP(t, cfg)); got.Status != store.OutboxSent {
				t.Fatalf("message %s: %q", got.Status, got.LastError)
			}
			raw := srv.Received()[0].Data
			v := verifyDKIM(t, raw, record)
			if v.Err != nil || v.Domain != "studio.example" {
				t.Fatalf("verification: domain %q, %v\n%s", v.Domain, v.Err, raw)
			}
			for _, h := range []string{"from", "reply-to", "to", "subject", "date", "message-id", "auto-submitted", "content-type"} {
				if !slices.ContainsFunc(v.HeaderKeys, func(k string) bool { return strings.EqualFold(k, h) }) {
					t.Errorf("the signature does not cover %s (h=%v)", h, v.HeaderKeys)
				}
			}

			// The verifier is not lenient: a changed subject, a second
			// From or an added Reply-To fails it.
			for what, tampered := range map[string]string{
				"changed subject": strings.Replace(raw, "Subject: Claim your", "Subject: Claim our", 1),
				"second From":     "From: Support <help@attacker.example>\r\n" + raw,
				"changed body":    strings.Replace(raw, "Harbor Yoga", "Harbour Yoga", 1),
			} {
				if tampered == raw {
					t.Fatalf("%s: nothing changed", what)
				}
				if v := verifyDKIM(t, tampered, record); v.Err == nil {
					t.Errorf("%s: still verifies", what)
				}
			}
			if v := verifyDKIM(t, strings.Replace(raw, "Reply-To: <desk@harbor.example>\r\n", "Reply-To: <desk@attacker.example>\r\n", 1), record); v.Err == nil {
				t.Error("a changed Reply-To still verifies")
			}
		})
	}
}

// The .eml files of the file transport are signed as mail sent would be.
func TestDKIMSignsFiles(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	path, record := dkimKey(t, key, false)
	dk, err := LoadDKIM(path, testSelector, "frontdesk@studio.example")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ft := NewFileTransport(dir, quietLogger())
	ft.From, ft.DKIM = "frontdesk@studio.example", dk
	if got := deliverOne(t, ft); got.Status != store.OutboxSent {
		t.Fatalf("message %s: %q", got.Status, got.LastError)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("%d files", len(files))
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if v := verifyDKIM(t, string(b), record); v.Err != nil {
		t.Errorf("the file's signature: %v", v.Err)
	}
}

// A key that cannot sign safely is refused with what to do: one others can
// read (like the SSH host key), a short RSA key, no key at all, a selector
// that is not a DNS name, a sender without a real domain.
func TestDKIMKeyRefused(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	good, _ := dkimKey(t, key, false)
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604} {
		path, _ := dkimKey(t, key, false)
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := LoadDKIM(path, testSelector, "frontdesk@studio.example")
		want := "the DKIM key " + path + " can be read by others (mode " + mode.String() + "); run `chmod 600 " + path + "`"
		if err == nil || err.Error() != want || store.ErrorCode(err) != store.EINVALID {
			t.Errorf("mode %v: %v; want %q", mode, err, want)
		}
	}
	short, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	shortPath, _ := dkimKey(t, short, true)
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	os.WriteFile(garbage, []byte("ssh-ed25519 AAAA… not a private key\n"), 0o600)
	for _, tc := range []struct {
		path, selector, from, want string
	}{
		{shortPath, testSelector, "frontdesk@studio.example", "is RSA of 1024 bits; use at least 2048 (or Ed25519)"},
		{garbage, testSelector, "frontdesk@studio.example", "is not an Ed25519 or RSA private key in PEM"},
		{filepath.Join(t.TempDir(), "missing.pem"), testSelector, "frontdesk@studio.example", "does not exist; make one with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "},
		{good, "fd;h=from", "frontdesk@studio.example", `DKIM selector "fd;h=from" is not a DNS name`},
		{good, "fd\r\nBcc: x", "frontdesk@studio.example", "is not a DNS name"},
		{good, testSelector, "frontdesk@localhost", "DKIM signs for the domain of --mail-from, which is localhost"},
	} {
		if _, err := LoadDKIM(tc.path, tc.selector, tc.from); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadDKIM(%s, %q, %s) = %v; want %q", filepath.Base(tc.path), tc.selector, tc.from, err, tc.want)
		}
	}
}

// Without DKIM, nothing claims a signature.
func TestNoDKIMByDefault(t *testing.T) {
	srv := startServer(t, serverConfig{})
	if got := deliverOne(t, srv.transport(t)); got.Status != store.OutboxSent {
		t.Fatal(got.LastError)
	}
	if h := srv.Received()[0].Header("DKIM-Signature"); h != "" {
		t.Errorf("DKIM-Signature without a key: %s", h)
	}
}

package mailer

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/mail"
	"regexp"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
	gomail "github.com/wneessen/go-mail"

	"frontdesk/store"
)

// DKIM signs outgoing mail (RFC 6376) for the domain of the sender address,
// so that receivers can tell it really comes from that domain: the public
// half of the key is published in DNS as a TXT record at
// <Selector>._domainkey.<Domain> (DNSName, DNSRecord).
type DKIM struct {
	Domain   string
	Selector string
	key      crypto.Signer // an Ed25519 or RSA private key; safe for concurrent use
}

// minRSABits: RFC 8301 says signers should use RSA keys of at least 2048
// bits (and receivers ignore signatures under 1024). A shorter key is
// within reach of whoever wants to forge the domain's mail; a new key
// costs the operator one DNS record.
const minRSABits = 2048

// selectorRE is a DKIM selector: dot-separated DNS labels (RFC 6376
// section 3.1). Anything else would not be found in DNS, and a ';' or a
// line break would change the signature header.
var selectorRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)

// LoadDKIM reads the private key at path (PEM: PKCS#8 Ed25519 or RSA, or
// PKCS#1 RSA) and returns the signer for selector and the domain of the
// sender address from. Like an SSH host key, a key file others can read is
// refused: whoever reads it can sign mail as the domain.
func LoadDKIM(path, selector, from string) (*DKIM, error) {
	if !selectorRE.MatchString(selector) {
		return nil, store.Errorf(store.EINVALID, "DKIM selector %q is not a DNS name (letters, digits, hyphens, dots; e.g. frontdesk2026)", selector)
	}
	addr, err := mail.ParseAddress(from)
	if err != nil || addr.Name != "" {
		return nil, store.Errorf(store.EINVALID, "mail sender %q is not a plain email address (e.g. frontdesk@studio.example)", from)
	}
	domain := strings.ToLower(addr.Address[strings.LastIndexByte(addr.Address, '@')+1:])
	if !strings.Contains(domain, ".") {
		return nil, store.Errorf(store.EINVALID, "DKIM signs for the domain of --mail-from, which is %s: set --mail-from to an address on the domain whose DNS publishes the key", domain)
	}
	b, _, err := store.ReadSecretFile(path, "the DKIM key")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, store.Errorf(store.EINVALID, "the DKIM key %s does not exist; make one with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:%d -out %s`", path, minRSABits, path)
	}
	if err != nil {
		return nil, err
	}
	key, err := gomail.PrivKeyFromPEM(b)
	if err != nil {
		return nil, store.Errorf(store.EINVALID, "the DKIM key %s is not an Ed25519 or RSA private key in PEM (%v)", path, err)
	}
	if k, ok := key.(*rsa.PrivateKey); ok && k.N.BitLen() < minRSABits {
		return nil, store.Errorf(store.EINVALID, "the DKIM key %s is RSA of %d bits; use at least %d (or Ed25519)", path, k.N.BitLen(), minRSABits)
	}
	d := &DKIM{Domain: domain, Selector: selector, key: key}
	if _, err := dkim.NewSigner(d.options()); err != nil {
		return nil, store.Errorf(store.EINVALID, "the DKIM key %s: %v", path, err)
	}
	return d, nil
}

// signedHeaders are the headers the signature covers: what a reader sees,
// where replies go, and how the body is read. From, Reply-To, To, Subject,
// Date and Message-ID are listed twice (oversigned): a header of these names
// added on the way then breaks the signature instead of being shown beside
// the signed one.
var signedHeaders = []string{
	"From", "From", "Reply-To", "Reply-To", "To", "To", "Subject", "Subject",
	"Date", "Date", "Message-ID", "Message-ID", "Auto-Submitted", "MIME-Version", "Content-Type",
}

func (d *DKIM) options() *dkim.SignOptions {
	return &dkim.SignOptions{
		Domain: d.Domain, Selector: d.Selector, Signer: d.key, Hash: crypto.SHA256,
		// relaxed/relaxed: what receivers and relays tolerate best
		// (re-folded headers, trailing spaces); simple breaks on the
		// smallest rewrite (Exchange rewrites headers).
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             signedHeaders,
	}
}

// sign adds the DKIM-Signature header to msg, computed over msg as written.
//
// go-mail has a DKIM signer of its own (Msg.SetDKIM), not used: in v0.8.1
// (and on its main branch since) relaxed signing hashes the signature
// header unfolded but writes it folded in the middle of a tag, so a
// signature whose h= tag is longer than a line (any that oversigns) never
// verifies. go-msgauth signs what it writes. The message is written once
// to be signed and again to be sent: go-mail writes a message the same way
// each time (its date, Message-ID and multipart boundaries are fixed on
// the Msg), and a test verifies the mail as the server received it.
func (d *DKIM) sign(msg *gomail.Msg) error {
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return err
	}
	s, err := dkim.NewSigner(d.options())
	if err != nil {
		return err
	}
	if _, err := io.Copy(s, &buf); err != nil {
		s.Close()
		return err
	}
	if err := s.Close(); err != nil {
		return fmt.Errorf("DKIM signing: %w", err)
	}
	name, value, ok := strings.Cut(strings.TrimSuffix(s.Signature(), "\r\n"), ": ")
	if !ok || !strings.EqualFold(name, "DKIM-Signature") {
		return fmt.Errorf("DKIM signing: unexpected header %q", name)
	}
	msg.SetGenHeaderPreformatted("DKIM-Signature", value)
	return nil
}

// DNSName is where the public key is published.
func (d *DKIM) DNSName() string { return d.Selector + "._domainkey." + d.Domain }

// DNSRecord is the TXT record to publish at DNSName.
func (d *DKIM) DNSRecord() string {
	switch pub := d.key.Public().(type) {
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	default:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return fmt.Sprintf("(cannot encode the public key: %v)", err)
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
	}
}

package bounce

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"frontdesk/store"
)

// snsMessage is an Amazon SNS HTTP(S) POST body: a notification, or a
// subscription or unsubscribe confirmation
// (https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html).
type snsMessage struct {
	Type             string
	MessageId        string
	TopicArn         string
	Subject          *string // signed only when present
	Message          string
	Timestamp        string
	SignatureVersion string
	Signature        string
	SigningCertURL   string
	SubscribeURL     string
	Token            string
}

// stringToSign is the canonical text SNS signs: the documented fields of the
// message's type, each as "Name\nValue\n", in byte order of the names
// (https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html).
func (m *snsMessage) stringToSign() (string, error) {
	var fields [][2]string
	switch m.Type {
	case "Notification":
		fields = append(fields, [2]string{"Message", m.Message}, [2]string{"MessageId", m.MessageId})
		if m.Subject != nil {
			fields = append(fields, [2]string{"Subject", *m.Subject})
		}
		fields = append(fields, [2]string{"Timestamp", m.Timestamp}, [2]string{"TopicArn", m.TopicArn}, [2]string{"Type", m.Type})
	case "SubscriptionConfirmation", "UnsubscribeConfirmation":
		fields = [][2]string{{"Message", m.Message}, {"MessageId", m.MessageId}, {"SubscribeURL", m.SubscribeURL},
			{"Timestamp", m.Timestamp}, {"Token", m.Token}, {"TopicArn", m.TopicArn}, {"Type", m.Type}}
	default:
		return "", fmt.Errorf("unknown SNS message type %q", m.Type)
	}
	var b strings.Builder
	for _, f := range fields {
		b.WriteString(f[0] + "\n" + f[1] + "\n")
	}
	return b.String(), nil
}

// snsHost is the host of an Amazon SNS endpoint: sns.<region>.amazonaws.com
// (.com.cn in the China regions), the pattern AWS's own message validators
// check. Nothing is fetched from any other host.
var snsHost = regexp.MustCompile(`^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$`)

// snsURL parses a URL SNS gave us (SigningCertURL, SubscribeURL) and
// refuses any that is not https on an SNS host: a forged message must not
// make us fetch from, or confirm to, a place of the forger's choosing.
func snsURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL", raw)
	}
	if u.Scheme != "https" || u.User != nil || u.Port() != "" || !snsHost.MatchString(u.Host) {
		return nil, fmt.Errorf("%q is not an https URL on an Amazon SNS host (sns.<region>.amazonaws.com)", raw)
	}
	return u, nil
}

// errUnreachable: a certificate or confirmation URL could not be fetched
// at all (network, timeout): our side or AWS's, not the caller's fault.
var errUnreachable = errors.New("unreachable")

// verify checks m as AWS documents: a signature version we know, a signing
// certificate from an SNS host that is valid now, and the signature over
// the canonical text. Its error says why not; errUnreachable in its chain
// when the certificate could not be fetched.
func (h *Handler) verify(ctx context.Context, m *snsMessage) error {
	var hash crypto.Hash
	switch m.SignatureVersion {
	case "1":
		// SHA1withRSA, SNS's default. SHA-1's collisions do not let a
		// forger make AWS sign a text of theirs; topics may be set to
		// version 2, accepted too.
		hash = crypto.SHA1
	case "2":
		hash = crypto.SHA256
	default:
		return fmt.Errorf("unknown SignatureVersion %q", m.SignatureVersion)
	}
	u, err := snsURL(m.SigningCertURL)
	if err != nil {
		return err
	}
	if !strings.HasSuffix(u.Path, ".pem") {
		return fmt.Errorf("SigningCertURL %q does not name a .pem certificate", m.SigningCertURL)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil {
		return errors.New("the Signature is not base64")
	}
	text, err := m.stringToSign()
	if err != nil {
		return err
	}
	cert, err := h.certs.get(ctx, u.String(), h.fetchCert)
	if err != nil {
		return err
	}
	if now := time.Now(); now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		h.certs.drop(u.String())
		return fmt.Errorf("the signing certificate is not valid now (valid %s to %s)", cert.NotBefore.Format(time.RFC3339), cert.NotAfter.Format(time.RFC3339))
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errors.New("the signing certificate's key is not RSA")
	}
	var digest []byte
	if hash == crypto.SHA1 {
		d := sha1.Sum([]byte(text))
		digest = d[:]
	} else {
		d := sha256.Sum256([]byte(text))
		digest = d[:]
	}
	if err := rsa.VerifyPKCS1v15(pub, hash, digest, sig); err != nil {
		return errors.New("the signature does not match the message")
	}
	return nil
}

// fetchCert gets the PEM certificate at u through the configured client.
func (h *Handler) fetchCert(ctx context.Context, u string) (*x509.Certificate, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := h.cfg.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: fetching the signing certificate: %v", errUnreachable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the signing certificate URL answered %s", resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("%w: reading the signing certificate: %v", errUnreachable, err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("the signing certificate URL did not give a PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("the signing certificate does not parse: %v", err)
	}
	return cert, nil
}

// certCache keeps SNS signing certificates by URL: AWS rotates them
// rarely, each under a new URL, and a few entries cover the regions in use.
// Fetches run one at a time, so a flood of forged calls naming fresh
// certificate URLs on SNS hosts costs one outbound request at a time.
type certCache struct {
	mu    sync.Mutex
	certs map[string]*x509.Certificate
}

const maxCachedCerts = 16

func (c *certCache) get(ctx context.Context, u string, fetch func(context.Context, string) (*x509.Certificate, error)) (*x509.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cert, ok := c.certs[u]; ok {
		return cert, nil
	}
	cert, err := fetch(ctx, u)
	if err != nil {
		return nil, err
	}
	if c.certs == nil || len(c.certs) >= maxCachedCerts {
		c.certs = map[string]*x509.Certificate{}
	}
	c.certs[u] = cert
	return cert, nil
}

func (c *certCache) drop(u string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.certs, u)
}

// sesNotification is the part of an Amazon SES notification used here
// (https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html).
// Event publishing names the type eventType instead of notificationType.
type sesNotification struct {
	NotificationType string `json:"notificationType"`
	EventType        string `json:"eventType"`
	Mail             struct {
		MessageID     string `json:"messageId"`
		CommonHeaders struct {
			MessageID string `json:"messageId"`
		} `json:"commonHeaders"`
		Headers []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"headers"`
	} `json:"mail"`
	Bounce struct {
		BounceType        string `json:"bounceType"`
		BounceSubType     string `json:"bounceSubType"`
		Timestamp         string `json:"timestamp"`
		BouncedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			Status         string `json:"status"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"bouncedRecipients"`
	} `json:"bounce"`
}

// ses serves Amazon SES notifications delivered by an SNS subscription
// (HTTPS, raw message delivery off: the SNS envelope carries the signature).
// The checks, cheapest first: the topic is one configured, the signature
// version is known, the certificate URL is on an SNS host, and the
// signature verifies with that certificate. Then:
//   - SubscriptionConfirmation: the SubscribeURL (on an SNS host too) is
//     fetched, which confirms the subscription;
//   - Notification: a bounce is recorded for each bounced recipient; other
//     SES notifications (deliveries, complaints) are ignored;
//   - UnsubscribeConfirmation: logged, nothing else.
//
// The message's Timestamp is not held to a freshness limit: SNS keeps it
// across its retries, which a topic's delivery policy may stretch over
// hours. A replayed genuine message can only repeat a report already
// recorded (RecordBounce changes nothing the second time, and never matches
// a message sent after the bounce it reports).
//
// What SES gives to find the message: mail.messageId is SES's own id,
// which the SES SMTP interface also answered to DATA ("250 Ok <id>"), and,
// when the identity's notifications include the original headers,
// mail.commonHeaders.messageId (and the Message-ID header) is the one we
// set. All are passed to RecordBounce, with each recipient.
func (h *Handler) ses(w http.ResponseWriter, r *http.Request) {
	const provider = "Amazon SES"
	if len(h.topics) == 0 {
		h.refuse(w, r, provider, http.StatusForbidden, "the SES webhook is off: set --bounce-sns-topics (FRONTDESK_BOUNCE_SNS_TOPICS) to accept it")
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		h.refuse(w, r, provider, http.StatusBadRequest, err.Error())
		return
	}
	var m snsMessage
	if err := json.Unmarshal(body, &m); err != nil {
		h.refuse(w, r, provider, http.StatusBadRequest, "the body is not an SNS message (JSON): "+err.Error())
		return
	}
	if !h.topics[m.TopicArn] {
		h.refuse(w, r, provider, http.StatusForbidden, fmt.Sprintf("topic %q is not one of --bounce-sns-topics", m.TopicArn))
		return
	}
	if err := h.verify(r.Context(), &m); err != nil {
		status := http.StatusForbidden
		if errors.Is(err, errUnreachable) {
			status = http.StatusServiceUnavailable // SNS retries
		}
		h.refuse(w, r, provider, status, "not verified as sent by Amazon SNS: "+err.Error())
		return
	}
	log := h.cfg.Logger.With("provider", provider, "topic", m.TopicArn, "sns_message_id", m.MessageId)
	switch m.Type {
	case "SubscriptionConfirmation":
		h.confirm(w, r, &m)
	case "UnsubscribeConfirmation":
		log.Warn("the SNS subscription was removed; bounces from SES no longer arrive until it is subscribed again")
		answer(w, "noted")
	case "Notification":
		var n sesNotification
		if err := json.Unmarshal([]byte(m.Message), &n); err != nil {
			log.Info("bounce report ignored", "why", "the notification is not from SES")
			answer(w, "ignored: not an SES notification")
			return
		}
		if kind := n.NotificationType + n.EventType; kind != "Bounce" {
			log.Info("bounce report ignored", "why", "not a bounce", "notification_type", kind)
			answer(w, "ignored: not a bounce")
			return
		}
		h.record(w, r, provider, sesBounces(provider, &n))
	}
}

// sesBounces turns an SES bounce into one report per bounced recipient.
//
// Permanent and Undetermined count as hard: SES got a bounce for the
// message (Undetermined: without a reason it could read), so the link did
// not arrive; taking an unreadable bounce for soft would leave the
// customer "Invited" with a link nobody holds. Transient is soft: SES's
// documentation says a later send may succeed, and the message may still
// be delivered.
func sesBounces(provider string, n *sesNotification) []*store.Bounce {
	mid := n.Mail.CommonHeaders.MessageID
	for _, hd := range n.Mail.Headers {
		if mid == "" && strings.EqualFold(hd.Name, "Message-ID") {
			mid = hd.Value
		}
	}
	at, _ := time.Parse(time.RFC3339Nano, n.Bounce.Timestamp)
	var out []*store.Bounce
	for _, rc := range n.Bounce.BouncedRecipients {
		// diagnosticCode is the receiving server's answer; without a DSN
		// there is none, and SES's classification stands in.
		reason := strings.TrimSpace(rc.DiagnosticCode)
		if reason == "" {
			reason = fmt.Sprintf("%s bounce (%s), no reply from the receiving server", n.Bounce.BounceType, n.Bounce.BounceSubType)
		}
		out = append(out, &store.Bounce{
			Provider: provider, MessageID: mid, ProviderID: n.Mail.MessageID, Recipient: rc.EmailAddress,
			At: at, Permanent: n.Bounce.BounceType != "Transient", Reason: reason,
		})
	}
	return out
}

// confirm fetches a verified SubscriptionConfirmation's SubscribeURL, which
// is how SNS asks an endpoint to confirm; the topic was checked already, so
// only subscriptions to a configured topic are ever confirmed.
func (h *Handler) confirm(w http.ResponseWriter, r *http.Request, m *snsMessage) {
	const provider = "Amazon SES"
	u, err := snsURL(m.SubscribeURL)
	if err != nil {
		h.refuse(w, r, provider, http.StatusForbidden, "SubscribeURL: "+err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		h.refuse(w, r, provider, http.StatusBadRequest, "SubscribeURL: "+err.Error())
		return
	}
	resp, err := h.cfg.Client.Do(req)
	if err == nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("it answered %s", resp.Status)
		}
	}
	if err != nil {
		h.cfg.Logger.Error("SNS subscription not confirmed", "topic", m.TopicArn, "err", err)
		http.Error(w, "the subscription could not be confirmed; SNS will ask again", http.StatusBadGateway)
		return
	}
	h.cfg.Logger.Info("SNS subscription confirmed", "topic", m.TopicArn)
	answer(w, "subscription confirmed")
}

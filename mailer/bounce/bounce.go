// Package bounce receives the bounces mail providers report after they
// accepted a message: Postmark's bounce webhook and Amazon SES notifications
// delivered by Amazon SNS. Each call is authenticated as its provider
// documents (HTTP basic auth with a shared secret for Postmark; the SNS
// message signature, a certificate from an SNS host and a configured topic
// for SES); anything else is refused with 401, 403 or 400 and logged, and
// changes nothing. An accepted report is recorded by store.Tx.RecordBounce,
// which finds the message, marks it and ends its link.
//
// Mount the handlers on the server's mux (Handler.Mount): POST
// /webhooks/postmark and POST /webhooks/ses.
package bounce

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"frontdesk/store"
)

// The paths the handlers answer on (POST).
const (
	PostmarkPath = "/webhooks/postmark"
	SESPath      = "/webhooks/ses"
)

// MinSecretLen is the shortest Postmark secret accepted: a secret short
// enough to guess is no authentication.
const MinSecretLen = 16

// maxBody bounds a request body. SNS messages are at most 256 KiB; a
// Postmark bounce is small unless "include bounce content" is on, which the
// README says to leave off.
const maxBody = 1 << 20

// Config is what the handlers need.
type Config struct {
	DB *store.DB

	// PostmarkSecret is the password Postmark sends with HTTP basic auth
	// (any user name); empty: every Postmark call is refused.
	PostmarkSecret string

	// SNSTopics are the ARNs of the SNS topics whose messages are
	// accepted; none: every SNS call is refused.
	SNSTopics []string

	// Client fetches SNS signing certificates and confirms subscriptions.
	// Nil: DefaultClient. Tests give one that reaches a stand-in for SNS;
	// the URLs it is asked for are checked the same either way.
	Client *http.Client

	Logger *slog.Logger
	// ClientAddr names the caller in the log (the server's, which knows
	// its trusted proxies); nil: the peer address.
	ClientAddr func(*http.Request) string
}

// Handler serves both webhooks.
type Handler struct {
	cfg    Config
	secret [sha256.Size]byte
	topics map[string]bool
	certs  certCache
}

// DefaultClient is the client of a Handler without one: short timeout, and
// no redirects, so a URL that passed the host check cannot lead elsewhere.
func DefaultClient() *http.Client {
	return &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// New returns the handlers for cfg.
func New(cfg Config) *Handler {
	if cfg.Client == nil {
		cfg.Client = DefaultClient()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ClientAddr == nil {
		cfg.ClientAddr = func(r *http.Request) string { return r.RemoteAddr }
	}
	h := &Handler{cfg: cfg, topics: map[string]bool{}}
	if cfg.PostmarkSecret != "" {
		h.secret = sha256.Sum256([]byte(cfg.PostmarkSecret))
	}
	for _, t := range cfg.SNSTopics {
		h.topics[t] = true
	}
	return h
}

// Mount registers the webhooks on mux.
func (h *Handler) Mount(mux *http.ServeMux) {
	mux.HandleFunc("POST "+PostmarkPath, h.postmark)
	mux.HandleFunc("POST "+SESPath, h.ses)
}

// secretOK compares a presented Postmark password with the configured one in
// constant time: both are hashed first, so neither the length nor a common
// prefix shows in the time taken.
func (h *Handler) secretOK(presented string) bool {
	if h.cfg.PostmarkSecret == "" {
		return false
	}
	p := sha256.Sum256([]byte(presented))
	return subtle.ConstantTimeCompare(p[:], h.secret[:]) == 1
}

// refuse answers a call that is not let in (or not understood) and logs it:
// the log is where an operator finds a misconfigured provider, or someone
// knocking.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, provider string, status int, why string) {
	h.cfg.Logger.Warn("bounce report refused", "provider", provider, "status", status, "why", why, "remote", h.cfg.ClientAddr(r))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintln(w, http.StatusText(status)+": "+why)
}

// answer ends an accepted call: 200, so the provider does not retry.
func answer(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintln(w, text)
}

// readBody reads at most maxBody bytes of the request.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, fmt.Errorf("the body is larger than %d bytes", maxBody)
	}
	return b, err
}

// record stores the bounces of one report in one transaction and answers:
// 200 once they are recorded, or when they name no message of ours (the
// provider's account may send for others too; a refusal would only make it
// retry); 500 when the database fails, so the provider retries later.
func (h *Handler) record(w http.ResponseWriter, r *http.Request, provider string, bounces []*store.Bounce) {
	log := h.cfg.Logger.With("provider", provider, "remote", h.cfg.ClientAddr(r))
	type result struct {
		b *store.Bounce
		m *store.Bounced
	}
	var found []result
	var missed []string
	err := h.cfg.DB.Tx(r.Context(), func(tx *store.Tx) error {
		found, missed = found[:0], missed[:0]
		for _, b := range bounces {
			m, err := tx.RecordBounce(r.Context(), b)
			if store.ErrorCode(err) == store.ENOTFOUND {
				missed = append(missed, store.ErrorMessage(err))
				continue
			}
			if err != nil {
				return err
			}
			found = append(found, result{b, m})
		}
		return nil
	})
	if err != nil {
		log.Error("bounce report not recorded", "err", err)
		http.Error(w, "the bounce could not be recorded; try again later", http.StatusInternalServerError)
		return
	}
	for _, why := range missed {
		log.Warn("bounce report for no message of ours", "why", why)
	}
	var out []string
	for _, f := range found {
		kind := "soft"
		if f.b.Permanent {
			kind = "hard"
		}
		log.Info("bounce recorded", "outbox_id", f.m.OutboxID, "org_id", f.m.OrgID, "customer_id", f.m.CustomerID, "bounce", kind,
			"matched_by", string(f.m.MatchedBy), "new", f.m.Recorded)
		if f.m.Recorded {
			out = append(out, fmt.Sprintf("recorded %s bounce of message %d", kind, f.m.OutboxID))
		} else {
			out = append(out, fmt.Sprintf("message %d: already recorded", f.m.OutboxID))
		}
	}
	if len(out) == 0 {
		out = append(out, "no message of ours matches; nothing recorded")
	}
	answer(w, strings.Join(out, "\n"))
}

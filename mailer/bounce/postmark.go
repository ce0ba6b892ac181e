package bounce

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"frontdesk/store"
)

// postmarkBounce is the part of Postmark's bounce webhook payload used here
// (https://postmarkapp.com/developer/webhooks/bounce-webhook).
type postmarkBounce struct {
	RecordType  string
	Type        string
	MessageID   string
	Email       string
	Description string
	Details     string
	BouncedAt   string
}

// postmarkKinds says what each of Postmark's bounce types means for us
// (Postmark's list: developer/api/bounce-api#bounce-types):
//   - hard: the message did not arrive and will not (no such address, the
//     receiving side or Postmark refused it for good);
//   - soft: it may still arrive, or a later send may (delays, a full
//     mailbox, a DNS hiccup);
//   - other types are not about delivery at all (auto-replies, spam and
//     virus notices, subscription requests, address-change notices sent
//     back by a delivered message) and are ignored.
//
// Unknown counts as hard: Postmark did receive a bounce for the message
// and could not tell why. Taking it for soft would leave the customer
// "Invited" with a link nobody received and staff none the wiser; taking
// it for hard at worst asks staff to check an address that was fine.
var postmarkKinds = map[string]bool{
	"HardBounce": true, "BadEmailAddress": true, "ManuallyDeactivated": true, "Blocked": true,
	"DMARCPolicy": true, "SMTPApiError": true, "TemplateRenderingFailed": true, "Unconfirmed": true, "Unknown": true,
	"Transient": false, "SoftBounce": false, "DnsError": false,
}

// postmark serves Postmark's bounce webhook. Postmark authenticates a
// webhook with HTTP basic auth credentials put in its URL
// (https://user:secret@host/webhooks/postmark); the password is checked
// against --bounce-secret. A secret in the path would do too, but paths
// end up in proxy access logs, and the Authorization header usually does
// not; one way is enough.
//
// Postmark's MessageID is Postmark's own id of the message (it sets its own
// Message-ID header), so it is tried as our Message-ID only in case it is
// ours, then as the provider's id in the reply to DATA, then the recipient
// (Email) alone.
func (h *Handler) postmark(w http.ResponseWriter, r *http.Request) {
	const provider = "Postmark"
	if h.cfg.PostmarkSecret == "" {
		h.refuse(w, r, provider, http.StatusForbidden, "the Postmark webhook is off: set --bounce-secret (FRONTDESK_BOUNCE_SECRET) to accept it")
		return
	}
	if _, pass, ok := r.BasicAuth(); !ok || !h.secretOK(pass) {
		w.Header().Set("WWW-Authenticate", `Basic realm="frontdesk bounces", charset="UTF-8"`)
		h.refuse(w, r, provider, http.StatusUnauthorized, "missing or wrong credentials")
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		h.refuse(w, r, provider, http.StatusBadRequest, err.Error())
		return
	}
	var p postmarkBounce
	if err := json.Unmarshal(body, &p); err != nil {
		h.refuse(w, r, provider, http.StatusBadRequest, "the body is not a Postmark webhook payload (JSON): "+err.Error())
		return
	}
	if p.RecordType != "Bounce" {
		h.cfg.Logger.Info("bounce report ignored", "provider", provider, "record_type", p.RecordType)
		answer(w, "ignored: not a bounce")
		return
	}
	hard, known := postmarkKinds[p.Type]
	if !known {
		h.cfg.Logger.Info("bounce report ignored", "provider", provider, "type", p.Type, "why", "not about delivery")
		answer(w, "ignored: a "+p.Type+" is not about delivery")
		return
	}
	if strings.TrimSpace(p.MessageID) == "" && strings.TrimSpace(p.Email) == "" {
		h.refuse(w, r, provider, http.StatusBadRequest, "the bounce names neither a message (MessageID) nor a recipient (Email)")
		return
	}
	at, _ := time.Parse(time.RFC3339Nano, p.BouncedAt)
	// Details is the receiving server's answer ("smtp;550 5.1.1 …");
	// Description, Postmark's explanation of the type, stands in when
	// there is none.
	reason := strings.TrimSpace(p.Details)
	if reason == "" {
		reason = strings.TrimSpace(p.Description)
	}
	h.record(w, r, provider, []*store.Bounce{{
		Provider: provider, MessageID: p.MessageID, ProviderID: p.MessageID, Recipient: p.Email,
		At: at, Permanent: hard, Reason: reason,
	}})
}

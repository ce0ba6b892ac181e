package mailer

import (
	"regexp"
	"strings"

	"frontdesk/store"
)

// Staff read a mail server's reply ("550 5.1.1 <jane@exmaple.com>: Recipient
// address rejected: User unknown in virtual mailbox table") in the outbox
// screen, the profile's invite history and `frontdesk outbox list`, always
// beside what it means for them ("the address does not exist"). What it
// means is decided here, once, from the reply's codes (RFC 5321's reply
// code, RFC 3463's enhanced status code) and, since servers use the codes
// loosely, from the words big providers put in them.

// Explain puts a reply, or the outbox's record of a delivery attempt (a
// timeout, a refused connection, "gave up after …"), into staff words: what
// happened and, where there is something to do, what, after " — ". ""
// for an empty reply.
func Explain(reply string) string { return ExplainWith(reply, " — ") }

// ExplainWith is Explain with the dash of the surface it is shown on (" - "
// in an ASCII-only terminal).
func ExplainWith(reply, dash string) string {
	reply = strings.TrimSpace(reply)
	if reply == "" {
		return ""
	}
	// What the worker writes when it stops retrying: the last reply, after
	// this prefix. The reply's meaning stands; "it will be retried" no
	// longer does.
	if m := gaveUp.FindStringSubmatch(reply); m != nil {
		e := explain(m[2])
		e.retried = false
		return e.with(dash) + " (gave up after " + m[1] + ")"
	}
	return explain(reply).with(dash)
}

// ExplainDelivery is what became of message m, in staff words: the reply
// that decided its delivery explained (the server's acceptance, or the
// last failure: a refusal, a bounce's reason, what a retry waits on), or
// that it waits for its first attempt.
func ExplainDelivery(m *store.OutboxMessage, dash string) string {
	switch m.Delivery() {
	case store.DeliveryQueued:
		return "waiting for its first attempt"
	case store.DeliverySent:
		return ExplainWith(m.Reply, dash)
	}
	return ExplainWith(m.LastError, dash)
}

var gaveUp = regexp.MustCompile(`^gave up after (\d+ attempts over \S+): (.*)$`)

// explanation is a reply in staff words.
type explanation struct {
	what    string // "the address does not exist"
	do      string // what staff can do about it; "" for nothing
	retried bool   // the worker tries again by itself
}

func (e explanation) with(dash string) string {
	s := e.what
	if e.retried {
		s += "; it will be retried"
	}
	if e.do != "" {
		s += dash + e.do
	}
	return s
}

const (
	checkAddress = "check the address with the customer"
	checkSMTP    = "check the SMTP settings"
)

var (
	// The reply code at the start of a reply, or after the command it
	// answers ("sending SMTP RCPT TO command: 550 …", a provider's
	// "smtp; 550 …").
	replyCode = regexp.MustCompile(`(?:^|[\s:;(])([245]\d\d)(?:[\s-]|$)`)
	// The enhanced status code: class.subject.detail.
	statusCode = regexp.MustCompile(`(?:^|[\s:;(\[-])([245])\.(\d{1,3})\.(\d{1,3})(?:[\s:;,.)\]]|$)`)
)

// explain decides, in three rounds. Words only big providers' replies
// share come first, since servers use the codes loosely (a relay refusal
// and many an unknown user are 5.7.1, like any policy refusal); then the
// enhanced status code; then weaker words and the reply code's class.
func explain(reply string) explanation {
	low := strings.ToLower(reply)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(low, w) {
				return true
			}
		}
		return false
	}
	if rest, ok := strings.CutPrefix(low, "not sent: "); ok {
		// The worker's own words for a link that died before it went out.
		return explanation{what: "not sent: " + reply[len(reply)-len(rest):]}
	}
	code := ""
	if m := replyCode.FindStringSubmatch(reply); m != nil {
		code = m[1]
	}
	class, status := "", ""
	if m := statusCode.FindStringSubmatch(reply); m != nil {
		class, status = m[1], m[2]+"."+m[3]
	}
	if class == "" && code != "" {
		class = code[:1]
	}
	temporary := class == "4"
	var (
		accepted = explanation{what: "the mail server accepted it"}
		noAnswer = explanation{what: "the mail server did not answer in time", retried: true, do: "if this keeps happening, " + checkSMTP}
		relay    = explanation{what: "the mail server refused us as a relay", do: checkSMTP}
		signIn   = explanation{what: "the mail server refused our SMTP sign-in", do: "check the SMTP username and password"}
		encrypt  = explanation{what: "the mail server wants us to sign in or encrypt first", do: checkSMTP}
		sender   = explanation{what: "the mail server refused our sender address", do: "check --mail-from and the SMTP settings"}
		greylist = explanation{what: "the receiving server is greylisting", retried: true}
		unknown  = explanation{what: "the address does not exist", do: checkAddress}
		domain   = explanation{what: "the email's domain takes no mail", do: checkAddress}
		syntax   = explanation{what: "the receiving server says the address is not valid", do: checkAddress}
		full     = explanation{what: "the mailbox is full", retried: temporary, do: doIfFinal(temporary, "ask the customer to make room, or for another address")}
		disabled = explanation{what: "the mailbox is disabled", retried: temporary, do: doIfFinal(temporary, "ask the customer for an address they use")}
		tooBig   = explanation{what: "the message is too large for the receiving server"}
		verify   = explanation{what: "the receiving server could not verify that the email is from us (SPF, DKIM or DMARC)", retried: temporary,
			do: "ask whoever runs your email domain"}
		spam = explanation{what: "the receiving server refused it as spam or under its policy", retried: temporary,
			do: doIfFinal(temporary, "the address may be right; ask the customer to check with their email provider")}
	)

	switch {
	case class == "2":
		return accepted
	// The worker's records of attempts that got no reply, and the
	// connection to our mail server (Go's own error texts).
	case has("did not answer within"):
		return noAnswer
	case has("interrupted before", "delivery interrupted"):
		return explanation{what: "the attempt was interrupted before the mail server took it", retried: true}
	case has("not tried: "):
		return explanation{what: "not tried yet: the time for the attempt ran out", retried: true}
	case has("lease lost", "being delivered by another"):
		return explanation{what: "another frontdesk process is delivering it", retried: true}
	case code == "" && has("no such host"):
		return explanation{what: "the mail server's name was not found", retried: true, do: "check the SMTP host"}
	case code == "" && has("connection refused"):
		return explanation{what: "the mail server refused the connection", retried: true, do: "check the SMTP host and port"}
	case code == "" && has("x509:", "tls:"):
		return explanation{what: "the mail server's encryption was not accepted", retried: true, do: "check the SMTP TLS settings"}

	// Words that say it whatever the code.
	case has("relay"):
		return relay
	case has("greylist", "graylist", "grey-list", "gray-list"):
		return greylist
	case code == "535" || status == "7.8" || status == "7.139" || has("authentication failed", "authentication unsuccessful", "password not accepted"):
		return signIn
	case code == "530" || status == "7.57" || has("must issue a starttls", "authentication required", "must authenticate"):
		return encrypt
	case status == "1.7" || status == "1.8" || has("sender address rejected", "address is not verified", "sender rejected"):
		return sender
	case has("mailbox full", "mailbox is full", "over quota", "quota exceeded", "out of storage", "insufficient storage", "exceeded storage"):
		return full
	case has("user unknown", "unknown user", "no such user", "does not exist", "doesn't exist", "doesn't have a", "unknown recipient",
		"recipient unknown", "recipient not found", "invalid recipient", "no such mailbox", "mailbox not found", "no mailbox here"):
		return unknown
	case has("disabled", "inactive", "suspended", "deactivated", "no longer active"):
		return disabled

	case code == "421":
		// RFC 5321: the server is closing the channel, whatever the
		// enhanced code (Gmail's rate limit is 421 4.7.0).
		return explanation{what: "the mail server is busy or closing the connection", retried: true}

	// The enhanced status code (RFC 3463).
	case status == "2.2":
		return full
	case status == "3.4":
		return tooBig
	case status == "2.1":
		return disabled
	case status == "1.1" || status == "1.0" || status == "1.6":
		return unknown
	case status == "1.10" || status == "1.2" || status == "4.4":
		return domain
	case status == "1.3":
		return syntax
	case temporary && status == "7.1":
		return greylist
	case status == "7.23" || status == "7.25" || status == "7.26" || status == "7.27":
		return verify
	case strings.HasPrefix(status, "7."):
		return spam

	// Weaker words, then the reply code.
	case has("spf", "dkim", "dmarc", "unauthenticated"):
		return verify
	case has("spam", "blocked", "block list", "blocklist", "blacklist", "denylist", "policy", "reputation", "unsolicited"):
		return spam
	case has("host or domain name not found", "domain not found", "no such domain", "domain does not", "no mx", "unrouteable"):
		return domain
	case has("too large", "size limit", "message size"):
		return tooBig
	case has("mailbox unavailable"):
		return unknown
	case code == "552":
		return full // RFC 5321: exceeded storage allocation
	case temporary:
		return explanation{what: "the receiving server put it off for now", retried: true}
	case class == "5":
		return explanation{what: "the receiving server refused it", do: checkAddress}
	case has("connecting to the mail server", "connection", "eof", "broken pipe", "reset by peer"):
		return explanation{what: "the connection to the mail server failed", retried: true}
	}
	return explanation{what: "the mail server's reply is not one we know", do: "see the reply itself"}
}

// doIfFinal is advice for a refusal that will not be retried; a temporary
// one may clear by itself.
func doIfFinal(temporary bool, do string) string {
	if temporary {
		return ""
	}
	return do
}

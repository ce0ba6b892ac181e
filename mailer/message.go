package mailer

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"frontdesk/store"
)

// permanentError marks a failure that no retry can fix (an address that does
// not parse, a message without a body): the worker marks the message failed
// at once.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(format string, args ...any) error {
	return &permanentError{fmt.Errorf(format, args...)}
}

// buildMsg turns an outbox row into a MIME message: From carries the
// organization's name with our address, a text part and (when there is one) an
// HTML alternative, Date, and the row's Message-ID; with dk, a DKIM signature
// made as the message is written. Nothing is added that could track the
// reader: no pixels, no rewritten links, no per-reader ids.
func buildMsg(m *store.OutboxMessage, from *mail.Address, dk *DKIM, now time.Time) (*gomail.Msg, error) {
	if m.Text == "" && m.HTML == "" {
		return nil, permanent("message %d has no body (it was sent already or never had one)", m.ID)
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	// Setting the address structs directly, rather than formatting
	// `"name" <addr>` for go-mail to parse, leaves no way for a quote or a
	// line break in an organization's name to change the header: net/mail
	// quotes or RFC 2047-encodes the name when it writes it.
	msg.FromMailAddress(&mail.Address{Name: m.FromName, Address: from.Address})
	msg.EnvelopeFromMailAddress(&mail.Address{Address: from.Address})
	if err := msg.To(m.To); err != nil {
		return nil, permanent("recipient %q is not a valid address", m.To)
	}
	if m.ReplyTo != "" {
		a, err := mail.ParseAddress(m.ReplyTo)
		if err != nil {
			return nil, permanent("reply-to %q is not a valid address", m.ReplyTo)
		}
		msg.ReplyToMailAddress(a)
	}
	// go-mail encodes header values that are not printable ASCII (a CR or LF
	// included) as RFC 2047 words, so a subject cannot start a new header.
	msg.Subject(m.Subject)
	msg.SetDateWithValue(now)
	id := m.MessageID
	if id == "" {
		id = newMessageID(m.ID, from.Address)
	}
	msg.SetMessageIDWithValue(strings.Trim(id, "<>"))
	// RFC 3834: an automatic message; out-of-office responders should not
	// answer it.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	if m.Text != "" {
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		if m.HTML != "" {
			msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
		}
	} else {
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	}
	if dk != nil {
		if err := dk.sign(msg); err != nil {
			return nil, err
		}
	}
	return msg, nil
}

// newMessageID returns "outbox-<id>.<random>@<domain of from>" (without the
// angle brackets): unique across databases thanks to the random part, and
// on our own domain as RFC 5322 asks.
func newMessageID(id int64, from string) string {
	domain := "localhost"
	if at := strings.LastIndexByte(from, '@'); at >= 0 && at < len(from)-1 {
		domain = from[at+1:]
	}
	b := make([]byte, 10)
	rand.Read(b)
	r := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	return fmt.Sprintf("outbox-%d.%s@%s", id, r, domain)
}

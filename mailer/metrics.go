package mailer

import (
	"errors"
	"net/textproto"

	gomail "github.com/wneessen/go-mail"
)

// Metrics hears the result of every delivery attempt, for the operator's
// monitoring (frontdesk serve --metrics-addr). The worker calls it once per
// message tried, after the result is recorded; it must be quick and safe for
// concurrent use. Worker.Metrics nil: nobody hears.
type Metrics interface {
	// Attempted: one message was tried. status is store.OutboxSent, or
	// store.OutboxQueued (a temporary failure, tried again later) or
	// store.OutboxFailed; class is the SMTP reply's class (ReplyClass).
	Attempted(status, class string)
}

// ReplyClass is the class of the mail server's answer to an attempt, as
// monitoring groups them: "2xx" (accepted), "4xx" (try later), "5xx"
// (refused), or "none" when there was no SMTP reply at all (no connection,
// a timeout, the file transport).
func ReplyClass(reply string, err error) string {
	if err == nil {
		if len(reply) >= 3 && reply[0] >= '2' && reply[0] <= '5' && reply[1] >= '0' && reply[1] <= '9' && reply[2] >= '0' && reply[2] <= '9' {
			return reply[:1] + "xx"
		}
		return "none"
	}
	code := 0
	var se *gomail.SendError
	var te *textproto.Error
	switch {
	case errors.As(err, &se):
		code = se.ErrorCode()
	case errors.As(err, &te):
		code = te.Code
	}
	if code >= 200 && code < 600 {
		return string(rune('0'+code/100)) + "xx"
	}
	return "none"
}

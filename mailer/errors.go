package mailer

import (
	"context"
	"errors"
	"io"
	"net"
	"net/textproto"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Temporary reports whether a delivery error is worth retrying: a 4xx answer,
// a network error, a timeout, a connection the server closed. A 5xx answer is
// permanent, and so is a message we cannot build. An error we cannot place is
// treated as temporary: retrying for a day and then failing loses less than
// failing a message a second attempt would have delivered.
func Temporary(err error) bool {
	if err == nil {
		return false
	}
	var te0 *temporaryError
	var to *timeoutError
	var ie *interruptedError
	if errors.As(err, &te0) || errors.As(err, &to) || errors.As(err, &ie) {
		return true
	}
	var pe *permanentError
	if errors.As(err, &pe) {
		return false
	}
	var se *gomail.SendError
	if errors.As(err, &se) {
		if se.IsTemp() {
			return true
		}
		if c := se.ErrorCode(); c >= 500 && c < 600 {
			return false
		}
		switch se.Reason {
		case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
			return false // the message itself is wrong
		}
		// A SendError without an SMTP code wraps a network failure (go-mail
		// keeps the cause only as text).
		return true
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code/100 != 5
	}
	return true
}

// temporaryError marks a failure to be retried whatever its code, such as a
// failure to connect or to log in: it says nothing about the message.
type temporaryError struct{ err error }

func (e *temporaryError) Error() string { return e.err.Error() }
func (e *temporaryError) Unwrap() error { return e.err }

// timeoutError: the mail server did not answer within the time it was given
// (Config.Timeout, or what was left of the caller's deadline). Temporary:
// the message was not taken and stays queued.
type timeoutError struct {
	server string // host:port, when the error names it
	after  time.Duration
	detail string // what the silence suggests, after a semicolon; or ""
}

func (e *timeoutError) Error() string {
	server := "the mail server "
	if e.server != "" {
		server += e.server + " "
	}
	return server + "did not answer within " + roughly(e.after) + e.detail
}

// interruptedError: the caller's context ended (a shutdown, a session that
// ended) while the server was being talked to; the message stays queued.
type interruptedError struct{ cause error }

func (e *interruptedError) Error() string {
	return "interrupted before the mail server accepted the message"
}
func (e *interruptedError) Unwrap() error { return e.cause }

// roughly writes a wait as staff would say it: whole seconds from a second
// up, else milliseconds to the ten.
func roughly(d time.Duration) string {
	if d >= time.Second {
		return d.Round(time.Second).String()
	}
	return max(d.Round(10*time.Millisecond), time.Millisecond).String()
}

// connectionLost reports whether err means the connection is unusable, so the
// worker must open a new one for the next message: any failure that is not an
// SMTP reply (after which the session is still in step).
func connectionLost(err error) bool {
	if err == nil {
		return false
	}
	var to *timeoutError
	var ie *interruptedError
	if errors.Is(err, errStaleConn) || errors.As(err, &to) || errors.As(err, &ie) {
		return true
	}
	var pe *permanentError
	if errors.As(err, &pe) {
		return false
	}
	var se *gomail.SendError
	if errors.As(err, &se) {
		if se.ErrorCode() == 421 {
			return true // RFC 5321: the server is closing the channel
		}
		return se.ErrorCode() == 0 && se.Reason != gomail.ErrGetSender && se.Reason != gomail.ErrGetRcpts && se.Reason != gomail.ErrNoUnencoded
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code == 421
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, net.ErrClosed)
}

// errorText is an error as it is stored in the outbox and shown to staff: the
// server's own words ("sending SMTP RCPT TO command: 550 5.1.1 User unknown,
// affected recipient(s): …") without go-mail's Message-ID suffix, on one line.
func errorText(err error) string {
	s := err.Error()
	if i := strings.Index(s, ", affected message ID: "); i >= 0 {
		s = s[:i]
	}
	// net/textproto prints a reply as `550 "5.1.1 User unknown"` (quoted
	// since Go 1.26); staff and mail providers know it unquoted.
	s = quotedReply.ReplaceAllStringFunc(s, func(m string) string {
		if u, err := strconv.Unquote(m[4:]); err == nil {
			return m[:4] + u
		}
		return m
	})
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 1000 {
		s = strings.ToValidUTF8(s[:1000], "") + "…"
	}
	return s
}

var quotedReply = regexp.MustCompile(`\b[245]\d\d "(?:[^"\\]|\\.)*"`)

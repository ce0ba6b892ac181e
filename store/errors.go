package store

import (
	"errors"
	"fmt"
)

// Error codes shared by every layer, in the manner of WTF Dial: the code says
// what kind of failure it is (so the CLI can pick an exit status and the TUI a
// tone), the message says in words what to do about it.
const (
	ECONFLICT     = "conflict"
	EINTERNAL     = "internal"
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	EUNAUTHORIZED = "unauthorized"
)

// Error is an application error: a code and a human sentence.
type Error struct {
	Code    string
	Message string

	cause error // the underlying error, for errors.Is/As and logs
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the underlying error, if any.
func (e *Error) Unwrap() error { return e.cause }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the innermost *Error in err's chain, EINTERNAL
// for any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the human message of an *Error, or a generic sentence for
// an internal error (whose details belong in the log, not on a customer's screen).
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// Package inert makes customer-supplied text safe to print on a terminal.
//
// Names, emails and custom fields come from imports, web forms and other
// people's typing. A control character or escape sequence in them, printed
// raw, is an instruction to the staff member's terminal: it can move the
// cursor, recolour or hide text, set the window title, write to the
// clipboard (OSC 52) or, on some terminals, answer back with input. String
// keeps such characters visible but powerless.
package inert

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"frontdesk/store"
)

// String returns s with every control character (C0, DEL, C1), invalid UTF-8
// byte, line or paragraph separator and invisible character (store.Invisible:
// bidi overrides, zero-width spaces and the other format characters, except
// the joiners a script or an emoji needs) shown as a visible Go-style escape
// such as \x1b, \u202e or \U000e0041. Everything else, including wide and
// combining characters, passes unchanged. The result contains no byte a
// terminal acts on, and two names that differ only by an invisible character
// look different.
func String(s string) string {
	if isClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	prev := rune(0)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
			r = 0
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r < 0xa0, r == '\u2028', r == '\u2029', store.Invisible(prev, r, nextRune(s[i+size:])):
			if r > 0xffff {
				fmt.Fprintf(&b, `\U%08x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
		prev = r
		i += size
	}
	return b.String()
}

// nextRune is the first rune of s, 0 at the end (or before an invalid byte,
// which is no letter either).
func nextRune(s string) rune {
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && size <= 1 {
		return 0
	}
	return r
}

func isClean(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= 0x80 {
			if c >= 0x80 {
				return cleanUnicode(s)
			}
			return false
		}
	}
	return true
}

func cleanUnicode(s string) bool {
	prev := rune(0)
	for i, r := range s {
		size := utf8.RuneLen(r)
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n <= 1 {
				return false
			}
		}
		if r < 0x20 || (r >= 0x7f && r < 0xa0) || r == '\u2028' || r == '\u2029' || store.Invisible(prev, r, nextRune(s[i+size:])) {
			return false
		}
		prev = r
	}
	return true
}

// isBidiControl covers the embedding, override and isolate characters that
// can make a line display in a different order than it reads ("Trojan
// Source"). They are all invisible (format) characters; the fuzz test checks
// by this narrower name that none survives.
func isBidiControl(r rune) bool {
	return unicode.Is(unicode.Bidi_Control, r)
}

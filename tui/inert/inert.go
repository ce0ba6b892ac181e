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
)

// String returns s with every control character (C0, DEL, C1), invalid UTF-8
// byte and bidirectional override shown as a visible Go-style escape such as
// \x1b or \u202e. Everything else, including wide and combining characters,
// passes unchanged. The result contains no byte a terminal acts on.
func String(s string) string {
	if isClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r < 0xa0, isBidiControl(r), r == '\u2028', r == '\u2029':
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

func isClean(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= 0x80 {
			if c >= 0x80 {
				return cleanUnicode(s[i:])
			}
			return false
		}
	}
	return true
}

func cleanUnicode(s string) bool {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				return false
			}
		}
		if r < 0x20 || (r >= 0x7f && r < 0xa0) || isBidiControl(r) || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}

// isBidiControl covers the embedding, override and isolate characters that
// can make a line display in a different order than it reads ("Trojan
// Source").
func isBidiControl(r rune) bool {
	return unicode.Is(unicode.Bidi_Control, r)
}

package store

import (
	"errors"
	"net/mail"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzValidateEmail checks what ValidateEmail promises about the addresses it
// accepts: one mailbox that net/mail parses back to itself, with no display
// name, spaces or control characters, within the length limits, and a
// dotted domain; and for the ones it refuses, an EINVALID error with words.
func FuzzValidateEmail(f *testing.F) {
	for _, s := range []string{
		"jane@example.com", "Jane.Doe+tag@sub.example.org", "a@b.co", "josé@bücher.de",
		"", "a@b", "@example.com", "a@@example.com", "a@b@example.com", `"a b"@example.com`,
		"Jane <jane@example.com>", "jane@example.com ", "ja\x00ne@example.com", "a..b@example.com",
		".a@example.com", "a@-example.com", "a@example.c0m", "a@example.c", "a@exa_mple.com",
		strings.Repeat("a", 65) + "@example.com", "a@" + strings.Repeat("b", 64) + ".com",
		"a@example.com.", "a(comment)@example.com", "\xff@example.com", "a@xn--bcher-kva.de",
		"a@例え.テスト", "a\u202e@example.com", "a@example.\u0665\u0666",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateEmail(s)
		if again := ValidateEmail(s); (err == nil) != (again == nil) {
			t.Fatalf("ValidateEmail(%q) is not deterministic", s)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != EINVALID || e.Message == "" {
				t.Fatalf("ValidateEmail(%q) = %#v, want an EINVALID *Error with a message", s, err)
			}
			return
		}
		a, perr := mail.ParseAddress(s)
		if perr != nil || a.Address != s || a.Name != "" {
			t.Fatalf("accepted %q but net/mail parses it as %+v, %v", s, a, perr)
		}
		if n := strings.Count(s, "@"); n != 1 {
			t.Fatalf("accepted %q with %d @", s, n)
		}
		if !utf8.ValidString(s) || len(s) > 254 || NormalizeEmail(s) != s {
			t.Fatalf("accepted %q: invalid UTF-8, too long or untrimmed", s)
		}
		if i := strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }); i >= 0 {
			t.Fatalf("accepted %q with a space or control character at %d", s, i)
		}
		local, domain, _ := strings.Cut(s, "@")
		if local == "" || len(local) > 64 || strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
			t.Fatalf("accepted %q with a bad local part", s)
		}
		labels := strings.Split(domain, ".")
		if len(labels) < 2 {
			t.Fatalf("accepted %q with a dotless domain", s)
		}
		for _, l := range labels {
			if l == "" || len(l) > 63 || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
				t.Fatalf("accepted %q with domain label %q", s, l)
			}
		}
	})
}

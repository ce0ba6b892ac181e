package store

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// NormalizeEmail trims the spaces people paste around an address. The stored
// form keeps the user's case; uniqueness and look-ups compare lower-cased.
func NormalizeEmail(s string) string { return strings.TrimSpace(s) }

// FoldEmail is the key two emails are the same address by: ASCII letters
// lower-cased and nothing else, as SQLite's lower() does in the roster's
// unique index. Folding more (Unicode case, dots, +tags) would call two
// addresses the same that the database keeps apart. Queries compare
// lower(column) with FoldEmail of the address looked for, not with
// lower(?): on PostgreSQL lower() of a parameter would fold by the
// server's locale, while lower() of a column (declared COLLATE "C")
// folds ASCII only, as SQLite's does.
func FoldEmail(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// ValidateEmail returns nil for an address frontdesk will send mail to, or an
// EINVALID error whose message says what is wrong with it. It is stricter than
// RFC 5322 on purpose: display names, comments, quoted local parts and
// dotless domains are legal but in a roster they are typos.
func ValidateEmail(s string) error {
	switch {
	case s == "":
		return Errorf(EINVALID, "email is empty")
	case !utf8.ValidString(s):
		return Errorf(EINVALID, "email is not valid text")
	case len(s) > 254:
		return Errorf(EINVALID, "email is longer than 254 characters")
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return Errorf(EINVALID, "email contains a space or control character")
		}
		if unicode.Is(unicode.Cf, r) {
			// Zero-width spaces, bidi overrides: invisible on screen, so an
			// address that looks right would not be.
			return Errorf(EINVALID, "email contains an invisible character (%U)", r)
		}
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return Errorf(EINVALID, "email has no @")
	}
	local, domain := s[:at], s[at+1:]
	switch {
	case local == "":
		return Errorf(EINVALID, "email has nothing before the @")
	case len(local) > 64:
		return Errorf(EINVALID, "email has more than 64 characters before the @")
	case strings.ContainsAny(local, "@\"(),:;<>[]\\"):
		return Errorf(EINVALID, "email has a character that is not allowed before the @")
	case strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, ".."):
		return Errorf(EINVALID, "email has a misplaced dot before the @")
	case domain == "":
		return Errorf(EINVALID, "email has no domain after the @")
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return Errorf(EINVALID, "email domain %q has no dot (did you mean %s.com?)", domain, domain)
	}
	for _, l := range labels {
		if l == "" {
			return Errorf(EINVALID, "email domain %q has an empty part", domain)
		}
		if len(l) > 63 || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return Errorf(EINVALID, "email domain %q is not a valid host name", domain)
		}
		for _, r := range l {
			if !(r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
				return Errorf(EINVALID, "email domain %q contains %q", domain, r)
			}
		}
	}
	tld := labels[len(labels)-1]
	if utf8.RuneCountInString(tld) < 2 || strings.IndexFunc(tld, unicode.IsDigit) >= 0 {
		return Errorf(EINVALID, "email domain %q does not end in a real top-level domain", domain)
	}
	// Last word to the standard library: what it cannot parse, mail servers
	// will not accept either.
	if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
		return Errorf(EINVALID, "email is not a valid address")
	}
	return nil
}

package store

import (
	"unicode"
	"unicode/utf8"
)

// Limits of the text people type into frontdesk, in characters: generous
// for real names and numbers, small enough that a page of them stays a page.
// Every writer checks them through CheckText or CheckLines, and the forms
// word their refusals with the same numbers.
const (
	MaxNameLen      = 100 // a customer's first or last name, a staff member's name
	MaxOrgNameLen   = 100 // an organization's name
	MaxPhoneLen     = 40
	MaxFieldNameLen = 100 // a custom field's name (a CSV column header)
	MaxFieldLen     = 500 // a custom field's value
)

// CheckText is the one rule for a line of text people type into frontdesk —
// names of customers, staff and organizations, phones, custom field names —
// whoever types it (a CSV file, the customers' web, the CLI). It returns nil,
// or an EINVALID *Error naming label, the offending character by its code
// point (never the text itself, which may be what is wrong) and what to do.
//
// The rule: valid UTF-8; no control characters (staff read these values in
// a terminal, where one is an instruction); no line breaks; no invisible
// characters (see Invisible), which make lookalikes of names ("Ja\u200bne"
// shows as "Jane") or reorder what a line shows (bidi overrides); at most
// max characters.
func CheckText(label, v string, max int) error { return checkText(label, v, max, false) }

// CheckLines is CheckText for a value that may span lines, a custom field's
// value ("Notes"): line feeds, carriage returns and tabs pass, the rest of the
// rule is the same. Spreadsheets write a cell typed with Alt+Enter this way,
// and the terminal shows those characters inert like any other.
func CheckLines(label, v string, max int) error { return checkText(label, v, max, true) }

func checkText(label, v string, max int, lines bool) error {
	if !utf8.ValidString(v) {
		return Errorf(EINVALID, "%s contains characters that are not valid text; retype it (a file must be saved as UTF-8)", label)
	}
	n, prev := 0, rune(0)
	for i, r := range v {
		n++
		next, _ := utf8.DecodeRuneInString(v[i+utf8.RuneLen(r):])
		if next == utf8.RuneError {
			next = 0 // the end of v
		}
		switch {
		case lines && (r == '\n' || r == '\r' || r == '\t'):
		case r == '\n' || r == '\r' || r == '\u0085' || r == '\u2028' || r == '\u2029':
			if lines {
				return Errorf(EINVALID, "%s contains an unusual line break (%U); use an ordinary one", label, r)
			}
			return Errorf(EINVALID, "%s contains a line break (%U); keep it on one line", label, r)
		case unicode.IsControl(r):
			return Errorf(EINVALID, "%s contains a control character (%U); remove it", label, r)
		case Invisible(prev, r, next):
			return Errorf(EINVALID, "%s contains an invisible character (%U); remove it", label, r)
		}
		prev = r
	}
	if n > max {
		return Errorf(EINVALID, "%s is too long (%d characters); use at most %d characters", label, n, max)
	}
	return nil
}

// Invisible reports whether r, between prev and next (0 at either end of the
// text), is a character that changes what text means or how it reads without
// showing itself: a Unicode format character (category Cf: zero-width
// spaces, bidi embeddings, overrides and isolates, the soft hyphen, the byte
// order mark, tag characters…) or another default-ignorable one (the Hangul
// fillers, which render as nothing). The TUI shows such characters as
// escapes (package tui/inert), and CheckText refuses them.
//
// The exceptions are the zero-width joiner and non-joiner (U+200D, U+200C)
// where a language or an emoji needs them:
//   - between two letters or marks of a script that shapes with them: the
//     Persian half-space (می‌خواهم), the Indic half forms after a virama
//     (क्‍ष), likewise Sinhala, Khmer, Myanmar, Mongolian…;
//   - a ZWJ inside an emoji sequence (👨‍👩‍👧, 🏳️‍🌈, 👩🏽‍💻).
//
// Between Latin, Greek or Cyrillic letters a joiner changes nothing on
// screen, so it is allowed nowhere there: "Ja\u200dne" would be a second
// "Jane". This is stricter than "any two letters" and looser than IDNA's
// CONTEXTJ rule (RFC 5892), which also needs joining-type tables Go does
// not ship; it errs on the side of refusing a name we could have kept.
func Invisible(prev, r, next rune) bool {
	if r == zwj || r == zwnj {
		if r == zwj && emojiBefore(prev) && emoji(next) {
			return false
		}
		return !(joiningLetter(prev) && joiningLetter(next) && (!inherited(prev) || !inherited(next)))
	}
	return unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r)
}

const (
	zwnj = '\u200c'
	zwj  = '\u200d'
)

// joiningScripts are the scripts in which ZWJ and ZWNJ change how letters
// join or form conjuncts: the Arabic-script and other cursive scripts, and
// the Brahmic scripts of South and South-East Asia.
var joiningScripts = []*unicode.RangeTable{
	unicode.Arabic, unicode.Syriac, unicode.Nko, unicode.Mongolian, unicode.Mandaic,
	unicode.Devanagari, unicode.Bengali, unicode.Gurmukhi, unicode.Gujarati, unicode.Oriya,
	unicode.Tamil, unicode.Telugu, unicode.Kannada, unicode.Malayalam, unicode.Sinhala,
	unicode.Tibetan, unicode.Myanmar, unicode.Khmer,
}

// joiningLetter is a letter or mark of a joining script, or a combining mark
// (script Inherited: Arabic vowel signs are) that takes its base's script.
func joiningLetter(r rune) bool {
	if !unicode.IsLetter(r) && !unicode.IsMark(r) {
		return false
	}
	return inherited(r) || unicode.In(r, joiningScripts...)
}

func inherited(r rune) bool { return unicode.IsMark(r) && unicode.Is(unicode.Inherited, r) }

// emoji approximates Extended_Pictographic, which Go does not ship: emoji
// are symbols of category So.
func emoji(r rune) bool { return unicode.Is(unicode.So, r) }

// emojiBefore is what may end the emoji before a ZWJ: the emoji itself, its
// presentation selector (U+FE0F) or a skin tone modifier.
func emojiBefore(r rune) bool {
	return emoji(r) || r == '\ufe0f' || (r >= 0x1f3fb && r <= 0x1f3ff)
}

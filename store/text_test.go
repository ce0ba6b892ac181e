package store

import (
	"strings"
	"testing"
)

// The one text rule: what it accepts, what it refuses and how it words it.
func TestCheckText(t *testing.T) {
	accepted := map[string]string{
		"plain":                   "Jane Doe",
		"accents and CJK":         "Zoë 王芳 Nguyễn",
		"combining accent":        "e\u0301",
		"apostrophe and hyphen":   "O'Neil-Smith",
		"Devanagari ZWJ (क्‍ष)":   "क्\u200dष",
		"Devanagari ZWNJ":         "क्\u200cष",
		"Persian ZWNJ (می‌خواهم)": "می\u200cخواهم",
		"Persian ZWNJ (کتاب‌ها)":  "کتاب\u200cها",
		"emoji family":            "👨\u200d👩\u200d👧\u200d👦",
		"rainbow flag":            "🏳\ufe0f\u200d🌈",
		"skin tone profession":    "👩🏽\u200d💻 Ada",
		"at the limit":            strings.Repeat("é", MaxNameLen),
	}
	for name, v := range accepted {
		if err := CheckText("First name", v, MaxNameLen); err != nil {
			t.Errorf("%s (%q) refused: %v", name, v, err)
		}
	}
	refused := map[string]struct{ v, want string }{
		"zero-width space":          {"Ja\u200bne", "invisible character (U+200B)"},
		"bidi override":             {"\u202eevil", "invisible character (U+202E)"},
		"bidi isolate":              {"Jane\u2066", "invisible character (U+2066)"},
		"soft hyphen":               {"Ja\u00adne", "invisible character (U+00AD)"},
		"byte order mark":           {"\ufeffJane", "invisible character (U+FEFF)"},
		"word joiner":               {"Ja\u2060ne", "invisible character (U+2060)"},
		"tag character":             {"Jane\U000E0041", "invisible character (U+E0041)"},
		"Hangul filler":             {"\u3164", "invisible character (U+3164)"},
		"ZWJ between Latin letters": {"Ja\u200dne", "invisible character (U+200D)"},
		"ZWNJ between Latin":        {"Ja\u200cne", "invisible character (U+200C)"},
		"ZWJ at the start":          {"\u200dक", "invisible character (U+200D)"},
		"ZWJ at the end":            {"कि\u200d", "invisible character (U+200D)"},
		"ZWJ before a space":        {"می\u200c خواهم", "invisible character (U+200C)"},
		"ZWNJ in an emoji sequence": {"👨\u200c👩", "invisible character (U+200C)"},
		"escape sequence":           {"Jane\x1b[2J", "control character (U+001B)"},
		"NUL":                       {"Ja\x00ne", "control character (U+0000)"},
		"C1 CSI":                    {"a\u009b31m", "control character (U+009B)"},
		"DEL":                       {"Jane\x7f", "control character (U+007F)"},
		"newline":                   {"Jane\nDoe", "line break"},
		"carriage return":           {"Jane\rDoe", "line break"},
		"line separator":            {"Jane\u2028Doe", "line break"},
		"tab":                       {"Jane\tDoe", "control character (U+0009)"},
		"invalid UTF-8":             {"Jos\xe9", "not valid text"},
		"too long":                  {strings.Repeat("é", MaxNameLen+1), "too long (101 characters); use at most 100"},
	}
	for name, tc := range refused {
		err := CheckText("First name", tc.v, MaxNameLen)
		if ErrorCode(err) != EINVALID {
			t.Errorf("%s (%q): %v, want EINVALID", name, tc.v, err)
			continue
		}
		msg := ErrorMessage(err)
		if !strings.HasPrefix(msg, "First name ") || !strings.Contains(msg, tc.want) {
			t.Errorf("%s (%q): %q, want the label and %q", name, tc.v, msg, tc.want)
		}
		if strings.Contains(msg, tc.v) {
			t.Errorf("%s: the message repeats the refused text: %q", name, msg)
		}
	}
}

// Custom field values may hold several lines (a "Notes" column): line
// breaks and tabs pass there, and everything else is the same rule.
func TestCheckLines(t *testing.T) {
	for _, v := range []string{"two\nlines", "windows\r\nlines", "\t tab first", "a\rb", "کتاب\u200cها"} {
		if err := CheckLines("Notes", v, MaxFieldLen); err != nil {
			t.Errorf("%q refused: %v", v, err)
		}
	}
	for v, want := range map[string]string{
		"x\x1b[2J":                         "control character (U+001B)",
		"a\u200bb":                         "invisible character (U+200B)",
		"a\u2029b":                         "line break (U+2029)",
		strings.Repeat("v", MaxFieldLen+1): "use at most 500",
	} {
		if err := CheckLines("Notes", v, MaxFieldLen); ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want EINVALID mentioning %q", v, err, want)
		}
	}
}

// Organization and staff names go through the rule wherever they are
// written.
func TestOrgAndStaffNamesFollowTheTextRule(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		db, _ := newStoreForTest(t)
		ctx := t.Context()
		for _, name := range []string{"Bell\x07Studio", "Harbor\u202eYoga", "Zero\u200bWidth", strings.Repeat("n", MaxOrgNameLen+1)} {
			o := &Org{Name: name}
			if err := db.Tx(ctx, func(tx *Tx) error { return tx.CreateOrg(ctx, o) }); ErrorCode(err) != EINVALID || !strings.HasPrefix(ErrorMessage(err), "organization name ") {
				t.Errorf("org %q: %v", name, err)
			}
		}
		org := mustOrg(t, db, "Harbor Yoga")
		org.Name = "Harbor\x1b[2J"
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.UpdateOrg(ctx, org) }); ErrorCode(err) != EINVALID {
			t.Errorf("org renamed to a control sequence: %v", err)
		}
		for _, name := range []string{"Jo\x1b[2J", "Jo\u200b", strings.Repeat("n", MaxNameLen+1)} {
			s := &Staff{OrgID: org.ID, Email: "jo@harbor.example", Name: name, Role: RoleStaff}
			if err := db.Tx(ctx, func(tx *Tx) error { return tx.CreateStaff(ctx, s) }); ErrorCode(err) != EINVALID || !strings.HasPrefix(ErrorMessage(err), "staff name ") {
				t.Errorf("staff %q: %v", name, err)
			}
		}
		s := &Staff{OrgID: org.ID, Email: "jo@harbor.example", Name: "جو\u200cفرانت", Role: RoleStaff}
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.CreateStaff(ctx, s) }); err != nil {
			t.Errorf("a Persian name with ZWNJ: %v", err)
		}
	})
}

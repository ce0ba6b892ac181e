package inert

import (
	"strings"
	"testing"
	"unicode/utf8"

	"frontdesk/store"
)

func TestString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Jane Doe", "Jane Doe"},
		{"Zoë 王芳 Nguyễn", "Zoë 王芳 Nguyễn"},
		{"e\u0301", "e\u0301"}, // combining accent stays
		{"\x1b[2J\x1b[HEvil", `\x1b[2J\x1b[HEvil`},
		{"\x1b]52;c;cGF5bG9hZA==\x07", `\x1b]52;c;cGF5bG9hZA==\x07`},
		{"\x1bP1$r\x1b\\", `\x1bP1$r\x1b\`},
		{"a\u009b31mred", `a\u009b31mred`}, // C1 CSI
		{"x\ry", `x\x0dy`},
		{"tab\there", `tab\x09here`},
		{"\u202eevil", `\u202eevil`},
		{"bad\xffbyte", `bad\xffbyte`},
		{"del\x7f", `del\x7f`},
		// Invisible format characters show as escapes, so lookalike names
		// look different ("Ja\u200bne" is not "Jane")…
		{"Ja\u200bne", `Ja\u200bne`},
		{"\ufeffJane", `\ufeffJane`},
		{"Ja\u00adne", `Ja\u00adne`},
		{"Ja\u2060ne", `Ja\u2060ne`},
		{"Ja\u200dne", `Ja\u200dne`}, // a joiner does nothing between Latin letters
		{"\u200dक", `\u200dक`},
		{"Jane\U000E0041", `Jane\U000e0041`},
		{"\u3164", `\u3164`},
		{"a\u2066b\u2069", `a\u2066b\u2069`},
		// …while joiners that a script or an emoji needs stay as they are.
		{"क्\u200dष", "क्\u200dष"},
		{"می\u200cخواهم", "می\u200cخواهم"},
		{"👨\u200d👩\u200d👧\u200d👦", "👨\u200d👩\u200d👧\u200d👦"},
		{"🏳\ufe0f\u200d🌈", "🏳\ufe0f\u200d🌈"},
	} {
		got := String(tc.in)
		if got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzString(f *testing.F) {
	f.Add("\x1b[31mred")
	f.Add("Zoë\u202e")
	f.Add("Ja\u200bne")
	f.Add("क्\u200dष")
	f.Add("می\u200cخواهم\u200c")
	f.Add("👨\u200d👩\u200d👧")
	f.Add("a\u200d\u200db")
	f.Add("\U000E0041\u00ad")
	f.Fuzz(func(t *testing.T, s string) {
		out := String(s)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		runes := []rune(out)
		for i, r := range runes {
			if r < 0x20 || (r >= 0x7f && r < 0xa0) || isBidiControl(r) {
				t.Fatalf("control %U survived in %q", r, out)
			}
			prev, next := rune(0), rune(0)
			if i > 0 {
				prev = runes[i-1]
			}
			if i+1 < len(runes) {
				next = runes[i+1]
			}
			if store.Invisible(prev, r, next) {
				t.Fatalf("invisible %U survived in %q", r, out)
			}
		}
		if isClean(s) && out != s {
			t.Fatalf("clean text changed: %q → %q", s, out)
		}
		if !strings.Contains(s, "\\") && !strings.ContainsAny(out, "\\") && out != s {
			t.Fatalf("changed without escaping: %q → %q", s, out)
		}
	})
}

package inert

import (
	"strings"
	"testing"
	"unicode/utf8"
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
	f.Fuzz(func(t *testing.T, s string) {
		out := String(s)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		for _, r := range out {
			if r < 0x20 || (r >= 0x7f && r < 0xa0) || isBidiControl(r) {
				t.Fatalf("control %U survived in %q", r, out)
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

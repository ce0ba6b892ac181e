package format

import (
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		out  string
	}{
		{"3d", 72 * time.Hour, "3d"},
		{" 3D ", 72 * time.Hour, "3d"},
		{"1d12h", 36 * time.Hour, "1d12h"},
		{"36h", 36 * time.Hour, "1d12h"},
		{"12h", 12 * time.Hour, "12h"},
		{"90m", 90 * time.Minute, "1h30m"},
		{"2d30m", 48*time.Hour + 30*time.Minute, "2d30m"},
		{"0", 0, "0s"},
	} {
		got, err := ParseDuration(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if s := Duration(got); s != tc.out {
			t.Errorf("Duration(%v) = %q, want %q", got, s, tc.out)
		}
	}
	for _, bad := range []string{"", "d", "3", "three days", "3days", "-3d", "3d-1h", "1e9d", "3w"} {
		if d, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", bad, d)
		}
	}
	if d, err := ParseDuration("-3h"); err != nil || d != -3*time.Hour {
		t.Errorf("-3h: %v, %v (a negative value parses; the setting refuses it)", d, err)
	}
}

package format

import (
	"testing"
	"time"
)

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		n    int
		noun string
		want string
	}{
		{1, "row", "1 row"},
		{2, "row", "2 rows"},
		{0, "customer", "0 customers"},
		{3, "reply", "3 replies"},
		{2, "day", "2 days"},
		{2, "address", "2 addresses"},
		{1, "address", "1 address"},
		{2, "match", "2 matches"},
		{2, "outbox message", "2 outbox messages"},
	} {
		if got := Count(tc.n, tc.noun); got != tc.want {
			t.Errorf("Count(%d, %q) = %q, want %q", tc.n, tc.noun, got, tc.want)
		}
	}
}

func TestDurationWords(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{7 * 24 * time.Hour, "7 days"},
		{24 * time.Hour, "1 day"},
		{36 * time.Hour, "1 day 12 hours"},
		{90 * time.Minute, "1 hour 30 minutes"},
		{time.Hour, "1 hour"},
		{30 * time.Second, "30 seconds"},
		{2160 * time.Hour, "90 days"},
		{25*time.Hour + time.Second, "1 day 1 hour 1 second"},
		{0, "0 seconds"},
		{-time.Hour, "-1 hour"},
	} {
		if got := DurationWords(tc.d); got != tc.want {
			t.Errorf("DurationWords(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

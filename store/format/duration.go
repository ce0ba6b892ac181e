package format

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// day is 24 hours: the unit people set lifetimes and reminders in ("3d").
// Calendar days would shift with daylight saving; these do not.
const day = 24 * time.Hour

// Duration writes a setting's length the way ParseDuration reads it, in
// days where it is whole days: "3d", "1d12h", "36h" is written "1d12h",
// "90m" is "1h30m".
func Duration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	var b strings.Builder
	b.WriteString(sign)
	if days := d / day; days > 0 {
		b.WriteString(strconv.FormatInt(int64(days), 10) + "d")
		d -= days * day
	}
	if d > 0 {
		s := d.String()
		// time.Duration writes "12h0m0s": the zero units say nothing.
		for strings.HasSuffix(s, "m0s") || strings.HasSuffix(s, "h0m") {
			s = s[:len(s)-2]
		}
		b.WriteString(s)
	}
	return b.String()
}

// maxDays keeps days*24h inside a time.Duration.
const maxDays = 100_000

// ParseDuration reads a length as people type it for a setting: Go's
// durations ("36h", "90m") and days before them ("3d", "1d12h").
func ParseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	rest := strings.ToLower(in)
	var d time.Duration
	if i := strings.IndexByte(rest, 'd'); i > 0 {
		n, err := strconv.Atoi(rest[:i])
		if err != nil || n < 0 || n > maxDays {
			return 0, badDuration(in)
		}
		d, rest = time.Duration(n)*day, rest[i+1:]
		if rest == "" {
			return d, nil
		}
		if rest[0] == '-' || rest[0] == '+' {
			return 0, badDuration(in)
		}
	}
	more, err := time.ParseDuration(rest)
	if err != nil {
		return 0, badDuration(in)
	}
	if d > 0 && more < 0 {
		return 0, badDuration(in)
	}
	return d + more, nil
}

func badDuration(s string) error {
	if s == "" {
		return errors.New("no duration given; use a number with d, h or m, such as 3d or 36h")
	}
	return fmt.Errorf("%q is not a duration; use a number with d, h or m, such as 3d, 36h or 1d12h", s)
}

// DurationWords writes a length for people to read: "7 days", "1 day 12
// hours", "1 hour 30 minutes", "45 seconds". Parts below a second are
// dropped.
func DurationWords(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	var parts []string
	for _, u := range []struct {
		size time.Duration
		name string
	}{{day, "day"}, {time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}} {
		if n := d / u.size; n > 0 {
			parts = append(parts, Count(int(n), u.name))
			d -= n * u.size
		}
	}
	if len(parts) == 0 {
		return "0 seconds"
	}
	return sign + strings.Join(parts, " ")
}

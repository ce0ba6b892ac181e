package format

import (
	"testing"
	"time"
)

func TestMoney(t *testing.T) {
	for _, c := range []struct {
		minor int64
		code  string
		ascii bool
		want  string
	}{
		{1250, "GBP", false, "£12.50"},
		{1250, "gbp", true, "GBP 12.50"},
		{123456789, "USD", false, "$1,234,567.89"},
		{5, "EUR", false, "€0.05"},
		{1200, "JPY", false, "¥1,200"},         // no minor unit
		{1200, "JPY", true, "JPY 1,200"},       // ¥ is not ASCII
		{1250, "KWD", false, "KWD 1.250"},      // three decimals
		{120000, "CHF", false, "CHF 1,200.00"}, // a code, not a symbol
		{4500, "CAD", false, "CA$45.00"},
		{-1250, "GBP", false, "−£12.50"},
		{-1250, "GBP", true, "-GBP 12.50"},
		{999, "XQQ", false, "XQQ 9.99"}, // unknown: as given, two decimals
		{0, "GBP", false, "£0.00"},
	} {
		if got := Money(c.minor, c.code, c.ascii); got != c.want {
			t.Errorf("Money(%d, %q, %v) = %q, want %q", c.minor, c.code, c.ascii, got, c.want)
		}
	}
}

func TestDates(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 30, 14, 5, 0, 0, time.UTC)
	if got, want := Expiry(at, london), "Mon 30 Nov 2026 at 14:05 GMT"; got != want {
		t.Errorf("Expiry = %q, want %q", got, want)
	}
	summer := time.Date(2026, 7, 1, 17, 0, 0, 0, time.UTC)
	if got, want := Expiry(summer, london), "Wed 1 Jul 2026 at 18:00 BST"; got != want {
		t.Errorf("Expiry in summer = %q, want %q", got, want)
	}
	if got, want := Span(summer, summer.Add(time.Hour), london, false), "Wed 1 Jul 2026, 18:00–19:00"; got != want {
		t.Errorf("Span = %q, want %q", got, want)
	}
	if got, want := Span(summer, summer.Add(10*time.Hour), london, true), "Wed 1 Jul 2026, 18:00 - Thu 2 Jul 2026, 04:00"; got != want {
		t.Errorf("Span overnight = %q, want %q", got, want)
	}
	if got, want := Date(at, nil), "Mon 30 Nov 2026"; got != want {
		t.Errorf("Date without a zone = %q, want %q", got, want)
	}
}

func TestLabels(t *testing.T) {
	for code, want := range map[string]string{"no_show": "Missed", "past_due": "Payment overdue", "something_new": "something new"} {
		if got := Label(code); got != want {
			t.Errorf("Label(%q) = %q, want %q", code, got, want)
		}
	}
	if got, want := Price(4500, "GBP", "month", false), "£45.00 a month"; got != want {
		t.Errorf("Price = %q, want %q", got, want)
	}
}

func TestLists(t *testing.T) {
	for _, c := range []struct {
		in      []string
		and, or string
	}{
		{nil, "", ""},
		{[]string{"PLAIN"}, "PLAIN", "PLAIN"},
		{[]string{"LOGIN", "PLAIN"}, "LOGIN and PLAIN", "LOGIN or PLAIN"},
		{[]string{"a", "b", "c"}, "a, b and c", "a, b or c"},
	} {
		if got := And(c.in); got != c.and {
			t.Errorf("And(%q) = %q, want %q", c.in, got, c.and)
		}
		if got := Or(c.in); got != c.or {
			t.Errorf("Or(%q) = %q, want %q", c.in, got, c.or)
		}
	}
}

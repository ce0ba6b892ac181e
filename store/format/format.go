// Package format writes the values staff and customers read — money, dates,
// expiries, booking, payment and subscription states — the same way on every
// surface: the staff TUI, the command line, the customers' web and the
// emails. A payment that reads "£12.50" on the account page reads "£12.50" on
// the profile screen; an invite that "expires Mon 30 Nov 2026 at 14:05 GMT"
// in the email expires at exactly that in the confirmation.
//
// Everything takes the organization's time zone: a class at 18:00 is at 18:00
// where the studio is, whichever machine or SSH client shows it.
//
// ASCII variants exist only where a symbol would not survive an ASCII-only
// terminal (TERM=dumb): they spell the currency code instead of its symbol.
package format

import (
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/currency"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Layouts. Named so the tests and any new surface use the same ones.
const (
	DateLayout     = "Mon 2 Jan 2006"        // a day: payments, claimed on, member since
	DayLayout      = "Mon 2 Jan"             // a day in a narrow table column
	DateTimeLayout = "Mon 2 Jan 2006, 15:04" // a moment: bookings, invite history
	DayTimeLayout  = "Mon 2 Jan 15:04"       // a recent moment in a narrow table column: the outbox
	ExpiryLayout   = "Mon 2 Jan 2006 at 15:04 MST"
	TimeLayout     = "15:04"
)

func in(t time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc)
}

// Date is a day: "Mon 30 Nov 2026".
func Date(t time.Time, loc *time.Location) string { return in(t, loc).Format(DateLayout) }

// Day is a day without the year, for table columns: "Mon 30 Nov".
func Day(t time.Time, loc *time.Location) string { return in(t, loc).Format(DayLayout) }

// DateTime is a moment: "Mon 30 Nov 2026, 14:05".
func DateTime(t time.Time, loc *time.Location) string { return in(t, loc).Format(DateTimeLayout) }

// DayTime is a recent moment without the year, for table columns: "Mon 30
// Nov 14:05".
func DayTime(t time.Time, loc *time.Location) string { return in(t, loc).Format(DayTimeLayout) }

// Month is a month: "Nov 2026" (when a customer claimed, in a table column).
func Month(t time.Time, loc *time.Location) string { return in(t, loc).Format("Jan 2006") }

// Time is the time of day: "14:05".
func Time(t time.Time, loc *time.Location) string { return in(t, loc).Format(TimeLayout) }

// Expiry is when a link stops working, with the zone's abbreviation so
// nobody has to guess which 14:05 it is: "Mon 30 Nov 2026 at 14:05 GMT". The
// email, the confirmation, the profile and the command line all say this.
func Expiry(t time.Time, loc *time.Location) string { return in(t, loc).Format(ExpiryLayout) }

// Span is a booking's time: "Mon 30 Nov 2026, 18:00–19:00", or both ends in
// full when it runs past midnight.
func Span(start, end time.Time, loc *time.Location, ascii bool) string {
	s := DateTime(start, loc)
	if end.IsZero() || !end.After(start) {
		return s
	}
	dash := "–"
	if ascii {
		dash = "-"
	}
	st, en := in(start, loc), in(end, loc)
	if st.YearDay() == en.YearDay() && st.Year() == en.Year() {
		return s + dash + Time(end, loc)
	}
	return s + " " + dash + " " + DateTime(end, loc)
}

// Money writes an amount held in the currency's minor units (pence, cents;
// yen have none, Kuwaiti dinars have three decimals) as people read it:
// "£12.50", "¥1,200", "KWD 1.250", "CHF 1,200.00". The number of decimals
// is the currency's own (ISO 4217 via golang.org/x/text/currency), never an
// assumed two. ascii spells a symbol that is not ASCII as the ISO code
// ("GBP 12.50") for terminals that cannot show it. An unknown code is
// written as given, with two decimals.
func Money(minor int64, code string, ascii bool) string {
	code = strings.ToUpper(strings.TrimSpace(code))
	scale := 2
	sym := code
	if u, err := currency.ParseISO(code); err == nil {
		scale, _ = currency.Standard.Rounding(u)
		sym = symbols.Sprint(currency.Symbol(u))
	}
	if ascii && !isASCII(sym) {
		sym = code
	}
	neg := minor < 0
	if neg {
		minor = -minor
	}
	num := grouped(minor, scale)
	var out string
	if isLetters(sym) {
		out = sym + " " + num // "CHF 12.50": a code needs the space
	} else {
		out = sym + num // "£12.50", "CA$12.50"
	}
	if neg {
		minus := "−"
		if ascii {
			minus = "-"
		}
		out = minus + out
	}
	return out
}

// symbols prints currency symbols as English-language pages show them.
var symbols = message.NewPrinter(language.English)

// grouped writes minor units with scale decimals and thousands separators:
// grouped(123456, 2) is "1,234.56".
func grouped(minor int64, scale int) string {
	div := int64(1)
	for range scale {
		div *= 10
	}
	whole := strconv.FormatInt(minor/div, 10)
	var b strings.Builder
	pre := len(whole) % 3
	if pre == 0 {
		pre = 3
	}
	b.WriteString(whole[:pre])
	for i := pre; i < len(whole); i += 3 {
		b.WriteByte(',')
		b.WriteString(whole[i : i+3])
	}
	if scale > 0 {
		frac := strconv.FormatInt(minor%div, 10)
		b.WriteByte('.')
		b.WriteString(strings.Repeat("0", scale-len(frac)))
		b.WriteString(frac)
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func isLetters(s string) bool {
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return s != ""
}

// Labels are the words for the codes the store keeps: booking kinds and
// states, payment states, subscription states and intervals, the kinds of
// email in the outbox. Customers and staff read the same word for the same
// thing.
var labels = map[string]string{
	// outbox messages
	"invite": "Invite", "reset": "Password reset", "email_change": "Email change", "reminder": "Reminder",
	// bookings
	"appointment": "Appointment", "class": "Class", "event": "Event",
	"booked": "Booked", "attended": "Attended", "cancelled": "Cancelled", "no_show": "Missed",
	// payments
	"paid": "Paid", "refunded": "Refunded", "failed": "Failed", "pending": "Pending",
	// subscriptions
	"active": "Active", "paused": "Paused", "past_due": "Payment overdue",
	"week": "week", "month": "month", "year": "year",
}

// Label is the word for a stored code ("no_show" → "Missed"); an unknown
// code is shown with its underscores as spaces.
func Label(code string) string {
	if l, ok := labels[code]; ok {
		return l
	}
	return strings.ReplaceAll(code, "_", " ")
}

// Price is a subscription's price per interval: "£45.00 a month".
func Price(minor int64, code, interval string, ascii bool) string {
	return Money(minor, code, ascii) + " a " + Label(interval)
}

// And writes a list as a sentence does: "A", "A and B", "A, B and C".
func And(items []string) string { return list(items, "and") }

// Or writes "A", "A or B", "A, B or C".
func Or(items []string) string { return list(items, "or") }

func list(items []string, word string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + word + " " + items[len(items)-1]
}

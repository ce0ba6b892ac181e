package web

import (
	"strconv"
	"strings"
	"time"

	"frontdesk/store"
)

// Words and formats of the account page. Dates are in the organization's
// time zone: a class at 18:00 is at 18:00 where the studio is.

var labels = map[string]string{
	"appointment": "Appointment", "class": "Class", "event": "Event",
	"booked": "Booked", "attended": "Attended", "cancelled": "Cancelled", "no_show": "Missed",
	"paid": "Paid", "refunded": "Refunded", "failed": "Failed", "pending": "Pending",
	"active": "Active", "paused": "Paused", "past_due": "Payment overdue",
	"week": "week", "month": "month", "year": "year",
}

func label(s string) string {
	if l, ok := labels[s]; ok {
		return l
	}
	return s
}

func bookingOf(b store.Booking, loc *time.Location) bookingView {
	start, end := b.StartsAt.In(loc), b.EndsAt.In(loc)
	when := start.Format("Mon 2 Jan 2006, 15:04")
	if !end.IsZero() && end.After(start) {
		if end.YearDay() == start.YearDay() && end.Year() == start.Year() {
			when += "–" + end.Format("15:04")
		} else {
			when += " – " + end.Format("Mon 2 Jan 2006, 15:04")
		}
	}
	return bookingView{Title: b.Title, Kind: label(b.Kind), When: when, Status: label(b.Status)}
}

func subOf(s store.Subscription, loc *time.Location) subView {
	dates := "since " + s.StartedAt.In(loc).Format("2 Jan 2006")
	switch {
	case !s.EndedAt.IsZero():
		dates = "ended " + s.EndedAt.In(loc).Format("2 Jan 2006")
	case !s.RenewsAt.IsZero() && s.Status == "active":
		dates += ", renews " + s.RenewsAt.In(loc).Format("2 Jan 2006")
	}
	return subView{Plan: s.Plan, Status: label(s.Status), Price: money(s.PriceCents, s.Currency) + " a " + label(s.Interval), Dates: dates}
}

var symbols = map[string]string{"USD": "$", "GBP": "£", "EUR": "€", "CAD": "CA$", "AUD": "A$", "NZD": "NZ$"}

// money writes an amount in minor units: "£12.50", "CHF 1,200.00".
func money(cents int64, currency string) string {
	cur := strings.ToUpper(currency)
	neg := cents < 0
	if neg {
		cents = -cents
	}
	whole := strconv.FormatInt(cents/100, 10)
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	amount := whole + "." + pad2(cents%100)
	if sym, ok := symbols[cur]; ok {
		amount = sym + amount
	} else {
		amount = cur + " " + amount
	}
	if neg {
		amount = "−" + amount
	}
	return amount
}

func pad2(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}

func itoa(n int) string { return strconv.Itoa(n) }

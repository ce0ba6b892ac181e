package web

import (
	"strconv"
	"time"

	"frontdesk/store"
	"frontdesk/store/format"
)

// The account page's views of bookings and subscriptions, in the words and
// formats every surface uses (store/format). Dates are in the organization's
// time zone: a class at 18:00 is at 18:00 where the studio is.

func bookingOf(b store.Booking, loc *time.Location) bookingView {
	return bookingView{Title: b.Title, Kind: format.Label(b.Kind), When: format.Span(b.StartsAt, b.EndsAt, loc, false), Status: format.Label(b.Status)}
}

func subOf(s store.Subscription, loc *time.Location) subView {
	dates := "since " + format.Date(s.StartedAt, loc)
	switch {
	case !s.EndedAt.IsZero():
		dates = "ended " + format.Date(s.EndedAt, loc)
	case !s.RenewsAt.IsZero() && s.Status == "active":
		dates += ", renews " + format.Date(s.RenewsAt, loc)
	}
	return subView{Plan: s.Plan, Status: format.Label(s.Status), Price: format.Price(s.Price, s.Currency, s.Interval, false), Dates: dates}
}

func itoa(n int) string { return strconv.Itoa(n) }

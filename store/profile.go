package store

import (
	"context"
	"database/sql"
	"time"
)

// Booking is an appointment, a class or an event the customer is booked into.
type Booking struct {
	ID       int64
	Kind     string // appointment | class | event
	Title    string
	StartsAt time.Time
	EndsAt   time.Time
	Status   string // booked | attended | cancelled | no_show
}

// Payment is money the customer paid (or tried to).
type Payment struct {
	ID          int64
	Amount      int64 // in the currency's minor units (pence; yen have none, dinars three)
	Currency    string
	Description string
	PaidAt      time.Time
	Status      string // paid | refunded | failed | pending
}

// Subscription is a recurring plan.
type Subscription struct {
	ID        int64
	Plan      string
	Price     int64 // per Interval, in the currency's minor units
	Currency  string
	Interval  string // week | month | year
	Status    string // active | paused | past_due | cancelled
	StartedAt time.Time
	RenewsAt  time.Time
	EndedAt   time.Time
}

// Profile is everything the profile screen and the account page show.
type Profile struct {
	Customer
	Invites  []Invite
	Upcoming []Booking // soonest first
	Past     []Booking // latest first
	Payments []Payment // latest first
	Subs     []Subscription
}

// ProfileLimit bounds each list of a profile: a long-time member may have
// thousands of past bookings, and a screen shows a few dozen.
const ProfileLimit = 50

// Profile returns the customer with invites, bookings, payments and
// subscriptions. Every section is read under the organization's scope: the
// customer lookup fails for another organization's customer, and the rest is
// keyed by that customer.
func (q conn) Profile(ctx context.Context, orgID, customerID int64) (*Profile, error) {
	c, err := q.Customer(ctx, orgID, customerID)
	if err != nil {
		return nil, err
	}
	p := &Profile{Customer: *c}
	if p.Invites, err = q.Invites(ctx, orgID, customerID); err != nil {
		return nil, err
	}
	now := q.now().Unix()
	if p.Upcoming, err = q.bookings(ctx, `customer_id = ? AND starts_at >= ? ORDER BY starts_at ASC, id ASC LIMIT ?`, customerID, now, ProfileLimit); err != nil {
		return nil, err
	}
	if p.Past, err = q.bookings(ctx, `customer_id = ? AND starts_at < ? ORDER BY starts_at DESC, id DESC LIMIT ?`, customerID, now, ProfileLimit); err != nil {
		return nil, err
	}
	if p.Payments, err = q.payments(ctx, customerID); err != nil {
		return nil, err
	}
	p.Subs, err = q.subscriptions(ctx, customerID)
	return p, err
}

func (q conn) bookings(ctx context.Context, where string, args ...any) ([]Booking, error) {
	rows, err := q.query(ctx, `SELECT id, kind, title, starts_at, ends_at, status FROM bookings WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Booking
	for rows.Next() {
		var b Booking
		var s, e int64
		if err := rows.Scan(&b.ID, &b.Kind, &b.Title, &s, &e, &b.Status); err != nil {
			return nil, err
		}
		b.StartsAt, b.EndsAt = time.Unix(s, 0), time.Unix(e, 0)
		out = append(out, b)
	}
	return out, rows.Err()
}

func (q conn) payments(ctx context.Context, customerID int64) ([]Payment, error) {
	rows, err := q.query(ctx, `SELECT id, amount_cents, currency, description, paid_at, status FROM payments
		WHERE customer_id = ? ORDER BY paid_at DESC, id DESC LIMIT ?`, customerID, ProfileLimit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Payment
	for rows.Next() {
		var p Payment
		var at int64
		if err := rows.Scan(&p.ID, &p.Amount, &p.Currency, &p.Description, &at, &p.Status); err != nil {
			return nil, err
		}
		p.PaidAt = time.Unix(at, 0)
		out = append(out, p)
	}
	return out, rows.Err()
}

func (q conn) subscriptions(ctx context.Context, customerID int64) ([]Subscription, error) {
	rows, err := q.query(ctx, `SELECT id, plan, price_cents, currency, interval, status, started_at, renews_at, ended_at FROM subscriptions
		WHERE customer_id = ? ORDER BY status = 'cancelled', started_at DESC, id DESC LIMIT ?`, customerID, ProfileLimit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Subscription
	for rows.Next() {
		var s Subscription
		var started int64
		var renews, ended sql.NullInt64
		if err := rows.Scan(&s.ID, &s.Plan, &s.Price, &s.Currency, &s.Interval, &s.Status, &started, &renews, &ended); err != nil {
			return nil, err
		}
		s.StartedAt, s.RenewsAt, s.EndedAt = time.Unix(started, 0), fromUnix(renews), fromUnix(ended)
		out = append(out, s)
	}
	return out, rows.Err()
}

// AddBooking, AddPayment and AddSubscription record a customer's activity
// (demo data and imports; the booking system proper lives elsewhere).
func (tx *Tx) AddBooking(ctx context.Context, customerID int64, b *Booking) error {
	id, err := tx.insert(ctx, `INSERT INTO bookings (customer_id, kind, title, starts_at, ends_at, status) VALUES (?, ?, ?, ?, ?, ?)`,
		customerID, b.Kind, b.Title, b.StartsAt.Unix(), b.EndsAt.Unix(), b.Status)
	b.ID = id
	return err
}

func (tx *Tx) AddPayment(ctx context.Context, customerID int64, p *Payment) error {
	id, err := tx.insert(ctx, `INSERT INTO payments (customer_id, amount_cents, currency, description, paid_at, status) VALUES (?, ?, ?, ?, ?, ?)`,
		customerID, p.Amount, p.Currency, p.Description, p.PaidAt.Unix(), p.Status)
	p.ID = id
	return err
}

func (tx *Tx) AddSubscription(ctx context.Context, customerID int64, s *Subscription) error {
	id, err := tx.insert(ctx, `INSERT INTO subscriptions (customer_id, plan, price_cents, currency, interval, status, started_at, renews_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		customerID, s.Plan, s.Price, s.Currency, s.Interval, s.Status, s.StartedAt.Unix(), unix(s.RenewsAt), unix(s.EndedAt))
	s.ID = id
	return err
}

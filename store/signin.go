package store

import (
	"context"
	"time"
)

// SignInCandidates are the customers who can sign in with email: claimed,
// not archived, in the organization orgID, or in any organization when orgID
// is 0 (an email is unique only per organization, and the sign-in page may
// not know which one the customer belongs to). At most limit, oldest account
// first so the order is stable.
func (q conn) SignInCandidates(ctx context.Context, orgID int64, email string, limit int) ([]*Customer, error) {
	email = NormalizeEmail(email)
	query := `SELECT c.org_id, c.id FROM customers c
		WHERE lower(c.email) = lower(?) AND c.email <> '' AND c.claimed_at IS NOT NULL AND c.archived = 0`
	args := []any{email}
	if orgID != 0 {
		query += ` AND c.org_id = ?`
		args = append(args, orgID)
	}
	query += ` ORDER BY c.id LIMIT ?`
	args = append(args, limit)
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	type key struct{ org, id int64 }
	var keys []key
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.org, &k.id); err != nil {
			rows.Close()
			return nil, err
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]*Customer, 0, len(keys))
	for _, k := range keys {
		c, err := q.Customer(ctx, k.org, k.id)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// RecentResets counts the reset links issued since since to one customer
// (customerID ≠ 0) or to one mailbox across every organization (email ≠ ""):
// the two limits on password-reset emails.
func (q conn) RecentResets(ctx context.Context, customerID int64, email string, since time.Time) (int, error) {
	var n int
	var err error
	if customerID != 0 {
		err = q.queryRow(ctx, `SELECT count(*) FROM invites WHERE customer_id = ? AND purpose = 'reset' AND created_at > ?`,
			customerID, since.Unix()).Scan(&n)
	} else {
		err = q.queryRow(ctx, `SELECT count(*) FROM invites WHERE lower(email) = lower(?) AND purpose = 'reset' AND created_at > ?`,
			NormalizeEmail(email), since.Unix()).Scan(&n)
	}
	return n, err
}

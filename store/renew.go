package store

import (
	"context"
	"time"
)

// RecentRenewals counts the claim links customers asked for themselves
// ("send me a new link" on the page of a dead link: no staff creator, not
// a reminder) since since, for one customer (customerID ≠ 0) or for one
// mailbox across every organization (email ≠ ""): the two limits on them,
// as RecentResets counts reset links.
func (q conn) RecentRenewals(ctx context.Context, customerID int64, email string, since time.Time) (int, error) {
	var n int
	var err error
	if customerID != 0 {
		err = q.queryRow(ctx, `SELECT count(*) FROM invites WHERE customer_id = ? AND purpose = 'claim' AND created_by IS NULL AND reminder_of IS NULL AND created_at > ?`,
			customerID, since.Unix()).Scan(&n)
	} else {
		err = q.queryRow(ctx, `SELECT count(*) FROM invites WHERE lower(email) = lower(?) AND purpose = 'claim' AND created_by IS NULL AND reminder_of IS NULL AND created_at > ?`,
			NormalizeEmail(email), since.Unix()).Scan(&n)
	}
	return n, err
}

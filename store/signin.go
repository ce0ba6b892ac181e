package store

import (
	"context"
	"strings"
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
		WHERE lower(c.email) = ? AND c.email <> '' AND c.claimed_at IS NOT NULL AND c.archived = 0`
	args := []any{FoldEmail(email)}
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
		err = q.queryRow(ctx, `SELECT count(*) FROM invites WHERE lower(email) = ? AND purpose = 'reset' AND created_at > ?`,
			FoldEmail(NormalizeEmail(email)), since.Unix()).Scan(&n)
	}
	return n, err
}

// Failures is a throttle's state for one email as seen from one client
// address: the sign-in throttle's (migration 0007) or the one-time codes'
// (migration 0012). The rules are claim's.
type Failures struct {
	Failures int       // failures in a row from the client for the email; 0 if none
	LastAt   time.Time // the latest of them
	Clients  int       // client addresses with a failure for the email after the since given
	Total    int       // the failures of those addresses together
}

// signInKey is how the throttles spell an email: as typed, trimmed and
// lower-cased, so "JANE@example.com " and a customer's stored
// "Jane@Example.com" are one key.
func signInKey(email string) string { return strings.ToLower(NormalizeEmail(email)) }

// The throttles' tables: the same shape, kept apart so that wrong codes do
// not slow a customer's sign-in and a completed reset (which forgets
// sign-in failures) does not forget wrong codes.
const (
	signInTable = "signin_failures"
	codeTable   = "code_failures"
)

// SignInFailures reads the sign-in throttle's state of email from client,
// counting the clients whose latest failure for email is after since. One
// indexed read; nothing is written.
func (q conn) SignInFailures(ctx context.Context, email, client string, since time.Time) (Failures, error) {
	return q.failures(ctx, signInTable, email, client, since)
}

// CodeFailures is SignInFailures for wrong one-time claim codes.
func (q conn) CodeFailures(ctx context.Context, email, client string, since time.Time) (Failures, error) {
	return q.failures(ctx, codeTable, email, client, since)
}

func (q conn) failures(ctx context.Context, table, email, client string, since time.Time) (Failures, error) {
	var f Failures
	var last int64
	err := q.queryRow(ctx, `SELECT coalesce(max(CASE WHEN client = ? THEN failures END), 0),
			coalesce(max(CASE WHEN client = ? THEN last_at END), 0),
			count(CASE WHEN last_at > ? THEN 1 END),
			coalesce(sum(CASE WHEN last_at > ? THEN failures END), 0)
		FROM `+table+` WHERE email = ?`, client, client, since.Unix(), since.Unix(), signInKey(email)).Scan(&f.Failures, &last, &f.Clients, &f.Total)
	if last != 0 {
		f.LastAt = time.Unix(last, 0)
	}
	return f, err
}

// RecordSignInFailure counts one failed sign-in of email from client, now:
// one upsert. A count whose latest failure is before forgetBefore starts
// again at 1.
func (tx *Tx) RecordSignInFailure(ctx context.Context, email, client string, forgetBefore time.Time) error {
	return tx.recordFailure(ctx, signInTable, email, client, forgetBefore)
}

// RecordCodeFailure is RecordSignInFailure for a wrong one-time code.
func (tx *Tx) RecordCodeFailure(ctx context.Context, email, client string, forgetBefore time.Time) error {
	return tx.recordFailure(ctx, codeTable, email, client, forgetBefore)
}

func (tx *Tx) recordFailure(ctx context.Context, table, email, client string, forgetBefore time.Time) error {
	_, err := tx.exec(ctx, `INSERT INTO `+table+` (email, client, failures, last_at) VALUES (?, ?, 1, ?)
		ON CONFLICT (email, client) DO UPDATE SET
			failures = CASE WHEN `+table+`.last_at < ? THEN 1 ELSE `+table+`.failures + 1 END,
			last_at = excluded.last_at`,
		signInKey(email), client, tx.now().Unix(), forgetBefore.Unix())
	return err
}

// ClearSignInFailuresFrom forgets the failures of email from client (a
// successful sign-in from there).
func (tx *Tx) ClearSignInFailuresFrom(ctx context.Context, email, client string) error {
	_, err := tx.exec(ctx, `DELETE FROM signin_failures WHERE email = ? AND client = ?`, signInKey(email), client)
	return err
}

// ClearCodeFailuresFrom forgets the wrong codes typed with email from
// client (the right one was, and the account is claimed).
func (tx *Tx) ClearCodeFailuresFrom(ctx context.Context, email, client string) error {
	_, err := tx.exec(ctx, `DELETE FROM code_failures WHERE email = ? AND client = ?`, signInKey(email), client)
	return err
}

// ClearSignInFailures forgets every failure of email, from every client (a
// completed password reset).
func (tx *Tx) ClearSignInFailures(ctx context.Context, email string) error {
	_, err := tx.exec(ctx, `DELETE FROM signin_failures WHERE email = ?`, signInKey(email))
	return err
}

// DeleteStaleSignInFailures deletes the counts whose latest failure is
// before before: they no longer slow anyone down, and the table would
// otherwise keep every address that ever mistyped.
func (tx *Tx) DeleteStaleSignInFailures(ctx context.Context, before time.Time) (int, error) {
	return tx.deleteStale(ctx, signInTable, before)
}

// DeleteStaleCodeFailures is DeleteStaleSignInFailures for wrong codes.
func (tx *Tx) DeleteStaleCodeFailures(ctx context.Context, before time.Time) (int, error) {
	return tx.deleteStale(ctx, codeTable, before)
}

func (tx *Tx) deleteStale(ctx context.Context, table string, before time.Time) (int, error) {
	res, err := tx.exec(ctx, `DELETE FROM `+table+` WHERE last_at < ?`, before.Unix())
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

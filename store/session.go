package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Session is a customer's signed-in browser. Only the SHA-256 of its id is
// stored (see the sessions table); the rules about lifetimes live in
// claim.Service, which is the only caller.
type Session struct {
	OrgID      int64
	CustomerID int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute end, whatever the activity
}

// CreateSession stores a new session for a customer of orgID whose stored
// password hash is still passwordHash, the one the sign-in verified. The
// insert selects the customer under the org scope, and only while that hash
// is current: a password change committed between the verification and this
// insert has already run the revoking trigger (migration 0005), so a
// session created after it from the old password would survive the change.
// Any mismatch (pair, hash, archived) creates nothing and is ENOTFOUND.
func (tx *Tx) CreateSession(ctx context.Context, idHash []byte, orgID, customerID int64, passwordHash string, expires time.Time) (*Session, error) {
	if len(idHash) != 32 {
		return nil, Errorf(EINTERNAL, "session id hash must be 32 bytes")
	}
	now := tx.now().Truncate(time.Second)
	res, err := tx.exec(ctx, `INSERT INTO sessions (id_hash, org_id, customer_id, created_at, last_seen_at, expires_at)
		SELECT ?, org_id, id, ?, ?, ? FROM customers
		WHERE org_id = ? AND id = ? AND archived = 0 AND claimed_at IS NOT NULL AND password_hash = ? AND password_hash <> ''`,
		idHash, now.Unix(), now.Unix(), expires.Unix(), orgID, customerID, passwordHash)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, Errorf(ENOTFOUND, "customer %d not found", customerID)
	}
	return &Session{OrgID: orgID, CustomerID: customerID, CreatedAt: now, LastSeenAt: now, ExpiresAt: expires.Truncate(time.Second)}, nil
}

// SessionByHash returns the session with that id hash, expired or not (the
// caller decides), or ENOTFOUND. The look-up is by primary key on the hash,
// so no secret is compared in Go.
func (q conn) SessionByHash(ctx context.Context, idHash []byte) (*Session, error) {
	var s Session
	var created, seen, expires int64
	err := q.queryRow(ctx, `SELECT org_id, customer_id, created_at, last_seen_at, expires_at FROM sessions WHERE id_hash = ?`, idHash).
		Scan(&s.OrgID, &s.CustomerID, &created, &seen, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no such session")
	} else if err != nil {
		return nil, err
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = time.Unix(created, 0), time.Unix(seen, 0), time.Unix(expires, 0)
	return &s, nil
}

// TouchSession records activity on a session (the idle clock restarts).
func (tx *Tx) TouchSession(ctx context.Context, idHash []byte) error {
	_, err := tx.exec(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?`, tx.now().Unix(), idHash)
	return err
}

// DeleteSession ends one session (sign out, or found expired).
func (tx *Tx) DeleteSession(ctx context.Context, idHash []byte) error {
	_, err := tx.exec(ctx, `DELETE FROM sessions WHERE id_hash = ?`, idHash)
	return err
}

// DeleteStaleSessions removes sessions past their absolute end or idle since
// before idleSince, so the table does not grow with abandoned browsers.
func (tx *Tx) DeleteStaleSessions(ctx context.Context, idleSince time.Time) (int, error) {
	res, err := tx.exec(ctx, `DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at < ?`, tx.now().Unix(), idleSince.Unix())
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// CountCustomerSessions is how many sessions a customer has; the tests of
// sign-out and revocation read it.
func (q conn) CountCustomerSessions(ctx context.Context, orgID, customerID int64) (int, error) {
	var n int
	err := q.queryRow(ctx, `SELECT count(*) FROM sessions WHERE org_id = ? AND customer_id = ?`, orgID, customerID).Scan(&n)
	return n, err
}

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

// CreateSession stores a new session for a customer of orgID. The customer
// must exist in that organization: the insert selects it under the org
// scope, so a wrong pair creates nothing.
func (db *DB) CreateSession(ctx context.Context, q Queryer, idHash []byte, orgID, customerID int64, expires time.Time) (*Session, error) {
	if len(idHash) != 32 {
		return nil, Errorf(EINTERNAL, "session id hash must be 32 bytes")
	}
	now := db.Now().Truncate(time.Second)
	res, err := db.exec(ctx, q, `INSERT INTO sessions (id_hash, org_id, customer_id, created_at, last_seen_at, expires_at)
		SELECT ?, org_id, id, ?, ?, ? FROM customers WHERE org_id = ? AND id = ? AND archived = 0`,
		idHash, now.Unix(), now.Unix(), expires.Unix(), orgID, customerID)
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
func (db *DB) SessionByHash(ctx context.Context, q Queryer, idHash []byte) (*Session, error) {
	var s Session
	var created, seen, expires int64
	err := db.queryRow(ctx, q, `SELECT org_id, customer_id, created_at, last_seen_at, expires_at FROM sessions WHERE id_hash = ?`, idHash).
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
func (db *DB) TouchSession(ctx context.Context, q Queryer, idHash []byte) error {
	_, err := db.exec(ctx, q, `UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?`, db.Now().Unix(), idHash)
	return err
}

// DeleteSession ends one session (sign out, or found expired).
func (db *DB) DeleteSession(ctx context.Context, q Queryer, idHash []byte) error {
	_, err := db.exec(ctx, q, `DELETE FROM sessions WHERE id_hash = ?`, idHash)
	return err
}

// DeleteCustomerSessions ends every session of a customer and returns how
// many there were. A password change does this by trigger as well (see
// migration 0005); this is for callers that sign someone out for another
// reason.
func (db *DB) DeleteCustomerSessions(ctx context.Context, q Queryer, orgID, customerID int64) (int, error) {
	res, err := db.exec(ctx, q, `DELETE FROM sessions WHERE org_id = ? AND customer_id = ?`, orgID, customerID)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// DeleteStaleSessions removes sessions past their absolute end or idle since
// before idleSince, so the table does not grow with abandoned browsers.
func (db *DB) DeleteStaleSessions(ctx context.Context, q Queryer, idleSince time.Time) (int, error) {
	res, err := db.exec(ctx, q, `DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at < ?`, db.Now().Unix(), idleSince.Unix())
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// CountCustomerSessions is how many sessions a customer has (tests, and the
// audit detail of a password reset).
func (db *DB) CountCustomerSessions(ctx context.Context, q Queryer, orgID, customerID int64) (int, error) {
	var n int
	err := db.queryRow(ctx, q, `SELECT count(*) FROM sessions WHERE org_id = ? AND customer_id = ?`, orgID, customerID).Scan(&n)
	return n, err
}

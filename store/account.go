package store

import (
	"context"
)

// AccountStore holds the writes that change a customer's sign-in state.
type AccountStore interface {
	ClaimAccount(ctx context.Context, q Queryer, orgID, customerID int64, passwordHash string) (bool, error)
	SetPassword(ctx context.Context, q Queryer, orgID, customerID int64, passwordHash string) error
	RehashPassword(ctx context.Context, q Queryer, orgID, customerID int64, oldHash, newHash string) (bool, error)
}

var _ AccountStore = (*DB)(nil)

// ClaimAccount stores the first password of an unclaimed customer and marks
// the account claimed. false means it was already claimed (a concurrent
// redemption won). Call it in the transaction that uses the invite.
func (db *DB) ClaimAccount(ctx context.Context, q Queryer, orgID, customerID int64, passwordHash string) (bool, error) {
	now := db.Now().Unix()
	res, err := db.exec(ctx, q, `UPDATE customers SET password_hash = ?, claimed_at = ?, updated_at = ?
		WHERE org_id = ? AND id = ? AND claimed_at IS NULL AND archived = 0`, passwordHash, now, now, orgID, customerID)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	return true, db.refreshState(ctx, q, `id = ?`, customerID)
}

// SetPassword replaces a claimed customer's password.
func (db *DB) SetPassword(ctx context.Context, q Queryer, orgID, customerID int64, passwordHash string) error {
	res, err := db.exec(ctx, q, `UPDATE customers SET password_hash = ?, updated_at = ? WHERE org_id = ? AND id = ? AND claimed_at IS NOT NULL`,
		passwordHash, db.Now().Unix(), orgID, customerID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Errorf(ENOTFOUND, "customer %d has no account to change", customerID)
	}
	return nil
}

// RehashPassword replaces a customer's password hash with newHash, the same
// password encoded under current parameters, only while the stored hash is
// still oldHash, the one the caller just verified: a password change
// committed in between wins, and false says nothing was written. Counting
// the rehash in password_rehashes keeps the customer's sessions (the
// revoking trigger of migration 0007 ignores such an update).
func (db *DB) RehashPassword(ctx context.Context, q Queryer, orgID, customerID int64, oldHash, newHash string) (bool, error) {
	res, err := db.exec(ctx, q, `UPDATE customers SET password_hash = ?, password_rehashes = password_rehashes + 1
		WHERE org_id = ? AND id = ? AND claimed_at IS NOT NULL AND password_hash = ? AND password_hash <> ''`,
		newHash, orgID, customerID, oldHash)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ArchiveCustomer hides a customer from the roster and kills their links.
func (db *DB) ArchiveCustomer(ctx context.Context, q Queryer, orgID, customerID int64) error {
	res, err := db.exec(ctx, q, `UPDATE customers SET archived = 1, updated_at = ? WHERE org_id = ? AND id = ?`, db.Now().Unix(), orgID, customerID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Errorf(ENOTFOUND, "customer %d not found", customerID)
	}
	for _, p := range []Purpose{PurposeClaim, PurposeReset} {
		if _, err := db.RevokeInvites(ctx, q, customerID, p, RevokeArchived); err != nil {
			return err
		}
	}
	return db.refreshState(ctx, q, `id = ?`, customerID)
}

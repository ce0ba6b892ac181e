package store

import (
	"context"
)

// ClaimAccount stores the first password of an unclaimed customer and marks
// the account claimed. false means it was already claimed (a concurrent
// redemption won). Call it in the transaction that uses the invite. The
// customer reaches the end of the funnel (migration 0010).
func (tx *Tx) ClaimAccount(ctx context.Context, orgID, customerID int64, passwordHash string) (bool, error) {
	now := tx.now().Unix()
	res, err := tx.exec(ctx, `UPDATE customers SET password_hash = ?, claimed_at = ?, updated_at = ?, funnel = 3
		WHERE org_id = ? AND id = ? AND claimed_at IS NULL AND archived = 0`, passwordHash, now, now, orgID, customerID)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	return true, tx.refreshState(ctx, `id = ?`, customerID)
}

// SetPassword replaces a claimed customer's password.
func (tx *Tx) SetPassword(ctx context.Context, orgID, customerID int64, passwordHash string) error {
	res, err := tx.exec(ctx, `UPDATE customers SET password_hash = ?, updated_at = ? WHERE org_id = ? AND id = ? AND claimed_at IS NOT NULL`,
		passwordHash, tx.now().Unix(), orgID, customerID)
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
func (tx *Tx) RehashPassword(ctx context.Context, orgID, customerID int64, oldHash, newHash string) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE customers SET password_hash = ?, password_rehashes = password_rehashes + 1
		WHERE org_id = ? AND id = ? AND claimed_at IS NOT NULL AND password_hash = ? AND password_hash <> ''`,
		newHash, orgID, customerID, oldHash)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ArchiveCustomer hides a customer from the roster and kills their links.
func (tx *Tx) ArchiveCustomer(ctx context.Context, orgID, customerID int64) error {
	res, err := tx.exec(ctx, `UPDATE customers SET archived = 1, updated_at = ? WHERE org_id = ? AND id = ?`, tx.now().Unix(), orgID, customerID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Errorf(ENOTFOUND, "customer %d not found", customerID)
	}
	for _, p := range []Purpose{PurposeClaim, PurposeReset} {
		if _, err := tx.RevokeInvites(ctx, customerID, p, RevokeArchived); err != nil {
			return err
		}
	}
	return tx.refreshState(ctx, `id = ?`, customerID)
}

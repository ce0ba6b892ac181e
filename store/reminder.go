package store

import (
	"context"
	"time"
)

// RemindersDue returns up to limit of org's invites whose reminder is due
// at now (org.RemindAfter after they were sent), oldest expiry first: claim
// links that still work for at least minLife more, the customer's latest,
// sent to the address the customer still has, whose email the mail server
// accepted (a reminder of a message that never arrived, or bounced, would
// be the first the customer hears), of a customer who has not claimed and
// is not archived, that are no reminder themselves and have had none.
// Organizations with RemindAfter 0 or notifications off have none due.
//
// It is a method of Tx, not of the reader pool, on purpose: read under the
// write lock of the transaction that writes the reminders, an invite one
// process reminds is never found due by another.
func (tx *Tx) RemindersDue(ctx context.Context, org *Org, minLife time.Duration, limit int) ([]Invite, error) {
	if org.RemindAfter <= 0 || !org.Notifications {
		return nil, nil
	}
	now := tx.now()
	// The WHERE repeats invites_remind's condition word for word, so the
	// search reads that index's range of live links only.
	rows, err := tx.query(ctx, `SELECT i.id, i.customer_id, i.email, coalesce(i.created_by, 0), i.created_at, i.expires_at, i.outbox_id
		FROM invites i
		JOIN customers c ON c.id = i.customer_id
		JOIN outbox m ON m.id = i.outbox_id
		WHERE i.org_id = ? AND i.purpose = 'claim' AND i.used_at IS NULL AND i.revoked_at IS NULL AND i.reminder_of IS NULL
		  AND i.expires_at > ? AND i.created_at <= ?
		  AND m.status = 'sent'
		  AND c.claimed_at IS NULL AND c.archived = 0 AND lower(c.email) = lower(i.email)
		  AND NOT EXISTS (SELECT 1 FROM invites r WHERE r.reminder_of = i.id)
		  AND NOT EXISTS (SELECT 1 FROM invites n WHERE n.customer_id = i.customer_id AND n.purpose = 'claim' AND n.id > i.id)
		ORDER BY i.expires_at, i.id
		LIMIT ?`,
		org.ID, now.Add(minLife).Unix(), now.Add(-org.RemindAfter).Unix(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Invite
	for rows.Next() {
		inv := Invite{OrgID: org.ID, Purpose: PurposeClaim}
		var created, expires int64
		if err := rows.Scan(&inv.ID, &inv.CustomerID, &inv.Email, &inv.CreatedBy, &created, &expires, &inv.OutboxID); err != nil {
			return nil, err
		}
		inv.CreatedAt, inv.ExpiresAt = time.Unix(created, 0), time.Unix(expires, 0)
		out = append(out, inv)
	}
	return out, rows.Err()
}

// SetReminderOf records that invite id is the link of the reminder of
// invite of. An invite has one reminder at most: a second is ECONFLICT, and
// nothing is written.
func (tx *Tx) SetReminderOf(ctx context.Context, id, of int64) error {
	res, err := tx.exec(ctx, `UPDATE invites SET reminder_of = ? WHERE id = ? AND purpose = 'claim'`, of, id)
	if isConstraint(err) {
		return Errorf(ECONFLICT, "invite %d already had its reminder", of)
	} else if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return Errorf(ENOTFOUND, "claim invite %d not found", id)
	}
	return nil
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Purpose says what an invite token is for.
type Purpose string

const (
	PurposeClaim Purpose = "claim" // set the first password of an unclaimed account
	PurposeReset Purpose = "reset" // replace the password of a claimed account
)

// Channel is how an invite's link reached the customer.
type Channel string

const (
	ChannelEmail Channel = "email" // in an email through the outbox
	ChannelDesk  Channel = "desk"  // shown at the front desk as a QR code; no email
)

// Invite is a token sent by email (or shown at the desk). Only the SHA-256
// of the token is stored, and of its one-time code only a keyed MAC (see
// code.go).
type Invite struct {
	ID            int64
	OrgID         int64
	CustomerID    int64
	Purpose       Purpose
	TokenHash     []byte
	Email         string // the address the link was sent to
	CreatedBy     int64  // staff id; 0 when the customer asked for it
	CreatedByName string
	CreatedAt     time.Time
	ExpiresAt     time.Time
	UsedAt        time.Time
	RevokedAt     time.Time
	RevokeReason  RevokeReason
	OutboxID      int64
	ReminderOf    int64     // a reminder's link: the invite it reminded of (0: not a reminder)
	Channel       Channel   // ChannelEmail when left empty
	OpenedAt      time.Time // when its link was first opened in a browser; zero: never

	// Code is the invite's one-time code in clear, set by its issuer for
	// CreateInvite, which stores a keyed MAC of it (see code.go); "" for
	// none. It is never read back from the database.
	Code string

	// Delivery of the email that carried it (see Delivery).
	DeliveryStatus string // queued | sent | failed | bounced
	Attempts       int
	LastError      string
	SentAt         time.Time
	Reply          string    // the server's answer once sent
	NextAttemptAt  time.Time // when a message being retried is tried again
}

// CreateInvite inserts inv (and links its outbox message when OutboxID is set)
// and refreshes the customer's status.
func (tx *Tx) CreateInvite(ctx context.Context, inv *Invite) error {
	if len(inv.TokenHash) != 32 {
		return Errorf(EINTERNAL, "invite token hash must be 32 bytes")
	}
	if inv.CreatedAt.IsZero() {
		inv.CreatedAt = tx.now().Truncate(time.Second)
	}
	var by, outbox, codeMAC any
	if inv.CreatedBy != 0 {
		by = inv.CreatedBy
	}
	if inv.OutboxID != 0 {
		outbox = inv.OutboxID
	}
	if inv.Channel == "" {
		inv.Channel = ChannelEmail
	}
	codeKey := ""
	if inv.Code != "" {
		key, err := tx.db.keys.sealKey()
		if err != nil {
			return err
		}
		codeKey, codeMAC = key.id, key.codeMAC(inv.OrgID, inv.CustomerID, inv.Email, inv.Code)
	}
	var err error
	inv.ID, err = tx.insert(ctx, `INSERT INTO invites (org_id, customer_id, purpose, token_hash, email, created_by, created_at, expires_at, outbox_id, channel, code_key, code_mac)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		inv.OrgID, inv.CustomerID, inv.Purpose, inv.TokenHash, inv.Email, by, inv.CreatedAt.Unix(), inv.ExpiresAt.Unix(), outbox, inv.Channel, codeKey, codeMAC)
	if err != nil {
		return err
	}
	if inv.Purpose != PurposeClaim {
		return nil
	}
	// The new invite is the customer's latest, so it either becomes the live
	// one (to the current address of an unclaimed customer: pending, with
	// queued delivery) or counts for nothing and the state stands. Cheaper
	// than refreshState, which bulk invites felt. The same statement moves
	// the customer into the funnel's "invited" (see migration 0010).
	_, err = tx.exec(ctx, `UPDATE customers SET state = `+StatePending.lit()+`, invite_sent_at = ?, invite_expires_at = ?,
			funnel = CASE WHEN funnel < 1 THEN 1 ELSE funnel END
		WHERE id = ? AND claimed_at IS NULL AND email <> '' AND lower(email) = ?`,
		inv.CreatedAt.Unix(), inv.ExpiresAt.Unix(), inv.CustomerID, FoldEmail(inv.Email))
	return err
}

// outstanding is the condition (on invites, with the clock as its one
// argument) of a link not yet used, revoked or expired: what a revocation
// stops.
const outstanding = `used_at IS NULL AND revoked_at IS NULL AND expires_at > ?`

// RevokeInvites revokes the customer's live invites of a purpose (unused,
// unrevoked, unexpired) and returns how many there were. An expired link is
// left as it is: it was dead already, and "revoked" would misstate why.
func (tx *Tx) RevokeInvites(ctx context.Context, customerID int64, purpose Purpose, reason RevokeReason) (int, error) {
	now := tx.now().Unix()
	res, err := tx.exec(ctx, `UPDATE invites SET revoked_at = ?, revoke_reason = ?
		WHERE customer_id = ? AND purpose = ? AND `+outstanding, now, reason, customerID, purpose, now)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	if n > 0 {
		err = tx.refreshState(ctx, `id = ?`, customerID)
	}
	return int(n), err
}

// OutstandingLinks counts the customer's links of any purpose that
// RevokeInvites would revoke now: what archiving them stops.
func (q conn) OutstandingLinks(ctx context.Context, customerID int64) (int, error) {
	var n int
	err := q.queryRow(ctx, `SELECT count(*) FROM invites WHERE customer_id = ? AND `+outstanding, customerID, q.now().Unix()).Scan(&n)
	return n, err
}

// UseInvite marks an invite used if it still was unused and unrevoked; false
// means somebody else got there first.
func (tx *Tx) UseInvite(ctx context.Context, id int64) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE invites SET used_at = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL`, tx.now().Unix(), id)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// inviteColumns are an invite with the delivery of its email (i invites,
// s staff, o outbox), in the order of scanInvite's first arguments.
const inviteColumns = `i.id, i.org_id, i.customer_id, i.purpose, i.token_hash, i.email, coalesce(i.created_by, 0), coalesce(s.name, ''),
	i.created_at, i.expires_at, i.used_at, i.revoked_at, i.revoke_reason, coalesce(i.outbox_id, 0), i.opened_at,
	coalesce(o.status, ''), coalesce(o.attempts, 0), coalesce(o.last_error, ''), o.sent_at, coalesce(o.reply, ''), coalesce(o.next_attempt_at, 0),
	i.channel, coalesce(i.reminder_of, 0)`

const inviteSelect = `SELECT ` + inviteColumns + `
	FROM invites i LEFT JOIN staff s ON s.id = i.created_by LEFT JOIN outbox o ON o.id = i.outbox_id`

// scanInvite reads inviteColumns, then more (a query that selects more
// columns after them).
func scanInvite(row interface{ Scan(...any) error }, more ...any) (*Invite, error) {
	var inv Invite
	var created, expires, next int64
	var used, revoked, opened, sent sql.NullInt64
	err := row.Scan(append([]any{&inv.ID, &inv.OrgID, &inv.CustomerID, &inv.Purpose, &inv.TokenHash, &inv.Email, &inv.CreatedBy, &inv.CreatedByName,
		&created, &expires, &used, &revoked, &inv.RevokeReason, &inv.OutboxID, &opened,
		&inv.DeliveryStatus, &inv.Attempts, &inv.LastError, &sent, &inv.Reply, &next,
		&inv.Channel, &inv.ReminderOf}, more...)...)
	inv.CreatedAt, inv.ExpiresAt = time.Unix(created, 0), time.Unix(expires, 0)
	inv.UsedAt, inv.RevokedAt, inv.OpenedAt, inv.SentAt = fromUnix(used), fromUnix(revoked), fromUnix(opened), fromUnix(sent)
	if next > 0 {
		inv.NextAttemptAt = time.Unix(next, 0)
	}
	return &inv, err
}

// OpenInvite records that the invite's link was opened now, if it never was
// before, and reports whether this was the first time. Opening a claim link
// moves its customer into the funnel's "opened" (migration 0010), unless
// they got further already. Opening uses nothing: the link works as before.
func (tx *Tx) OpenInvite(ctx context.Context, id int64) (bool, error) {
	var customer int64
	var purpose Purpose
	err := tx.queryRow(ctx, `UPDATE invites SET opened_at = ? WHERE id = ? AND opened_at IS NULL RETURNING customer_id, purpose`,
		tx.now().Unix(), id).Scan(&customer, &purpose)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if purpose == PurposeClaim {
		if _, err := tx.exec(ctx, `UPDATE customers SET funnel = 2 WHERE id = ? AND funnel < 2`, customer); err != nil {
			return false, err
		}
	}
	return true, nil
}

// Invites lists a customer's invites, newest first, with their delivery.
func (q conn) Invites(ctx context.Context, orgID, customerID int64) ([]Invite, error) {
	rows, err := q.query(ctx, inviteSelect+` WHERE i.org_id = ? AND i.customer_id = ? ORDER BY i.id DESC`, orgID, customerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Invite
	for rows.Next() {
		inv, err := scanInvite(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *inv)
	}
	return out, rows.Err()
}

// OutboxInvite returns the invite (claim or reset link) that the
// organization's outbox message id carried; ENOTFOUND when it carried none.
func (q conn) OutboxInvite(ctx context.Context, orgID, outboxID int64) (*Invite, error) {
	inv, err := scanInvite(q.queryRow(ctx, inviteSelect+` WHERE i.org_id = ? AND i.outbox_id = ? ORDER BY i.id DESC LIMIT 1`, orgID, outboxID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "message %d carried no link", outboxID)
	}
	return inv, err
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"frontdesk/store/format"
	"sort"
	"strings"
	"time"
)

// Outbox message statuses.
const (
	OutboxQueued = "queued" // waiting for (another) delivery attempt
	OutboxSent   = "sent"   // the mail server accepted it
	OutboxFailed = "failed" // permanently refused or out of retries
	// OutboxBounced: the server accepted it, and the mail provider reported
	// later that it could not be delivered (RecordBounce). Undelivered, as
	// a failed message is: its link is withdrawn and the customer shows
	// "Delivery failed".
	OutboxBounced = "bounced"
)

// Outbox message kinds: what the email is.
const (
	MessageInvite      = "invite"       // a claim link
	MessageReset       = "reset"        // a password-reset link
	MessageEmailChange = "email_change" // a notice that a sign-in address changed (no link to act on)
	MessageReminder    = "reminder"     // a claim link again, for an invite not claimed after the organization's --remind-after
)

// OutboxMessage is an email waiting for, or past, delivery. Text and HTML
// are the bodies in the clear; they are stored sealed (seal.go):
// EnqueueMessage seals them, only the lease calls open them, and every other
// read leaves them empty.
type OutboxMessage struct {
	ID            int64
	OrgID         int64
	CustomerID    int64  // whom it is about; 0 once that customer was deleted
	Kind          string // one of the Message* kinds
	To            string
	FromName      string
	ReplyTo       string
	Subject       string
	Text          string
	HTML          string
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	MessageID     string
	CreatedAt     time.Time
	SentAt        time.Time

	Reply      string    // the server's answer once sent ("250 2.0.0 OK: queued as …")
	LeaseOwner string    // the worker (lease token) delivering it now, "" when free
	LeaseUntil time.Time // zero when free; after this another worker may take it over
	RetryFrom  time.Time // start of the current retry window: CreatedAt, or the last `outbox retry`

	// A bounce reported after delivery (RecordBounce): when, and by whom
	// ("Postmark"); its words are in LastError. Set on a bounced message,
	// and on a sent one after a soft bounce.
	BouncedAt time.Time
	BouncedBy string

	// BodyErr, set by a lease, says why the bodies could not be opened (the
	// key that sealed them is not in the key file, or they were altered);
	// Text and HTML are then empty and the message must not be sent.
	BodyErr error
}

// EnqueueMessage inserts m as queued and due now, its bodies sealed with the
// outbox key (created on first use). Call it in the transaction of the
// change that caused the email. Every message is about a customer
// (m.CustomerID), so an organization's outbox can be read per customer, and
// its seal names that customer (see sealAD).
func (tx *Tx) EnqueueMessage(ctx context.Context, m *OutboxMessage) error {
	if m.CustomerID == 0 {
		return Errorf(EINTERNAL, "outbox message without a customer")
	}
	// The key file is read inside the transaction, which holds the write
	// lock, and a rotation changes the file only while it holds that lock:
	// nothing is sealed with a key a rotation is retiring.
	key, err := tx.db.keys.sealKey()
	if err != nil {
		return err
	}
	now := tx.now().Truncate(time.Second)
	m.Status, m.CreatedAt, m.NextAttemptAt = OutboxQueued, now, now
	m.ID, err = tx.insert(ctx, `INSERT INTO outbox (org_id, customer_id, kind, to_addr, from_name, reply_to, subject, body_text, body_html, status, next_attempt_at, message_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)`,
		m.OrgID, m.CustomerID, m.Kind, m.To, m.FromName, m.ReplyTo, m.Subject, key.seal(m, "text", m.Text), key.seal(m, "html", m.HTML), now.Unix(), m.MessageID, now.Unix())
	return err
}

// The worker's statements go through db.exec and db.query (stmt.go): run for
// every message, their parsing would otherwise cost more than their work.

// Leasing. A worker takes messages by writing its lease token and an expiry
// into them in one statement, inside a BEGIN IMMEDIATE transaction (db.Tx), so
// two processes on one database never hold the same message. Every later
// write about the message (MarkSent, MarkRetry, MarkFailed) names the token
// and applies only while the worker still holds the lease: a worker whose
// lease ran out and was taken over cannot overwrite its successor's result.

// outboxColumns are what scanOutbox reads, in its order; the bodies are
// selected only by the lease calls, which open them (they carry live
// tokens), and as empty strings elsewhere.
const outboxColumns = `id, org_id, coalesce(customer_id, 0), kind, to_addr, from_name, reply_to, subject, %s, status, attempts, next_attempt_at,
	lease_owner, lease_until, last_error, reply, message_id, created_at, sent_at, coalesce(retry_from, created_at), bounced_at, bounce_provider`

var (
	outboxWithBodies = fmt.Sprintf(outboxColumns, `body_text, body_html`)
	outboxNoBodies   = fmt.Sprintf(outboxColumns, `'', ''`)
)

// scanOutbox reads outboxColumns, then more (a query that selects more
// columns after them).
func scanOutbox(row interface{ Scan(...any) error }, more ...any) (*OutboxMessage, error) {
	var m OutboxMessage
	var next, leaseUntil, created, retryFrom int64
	var sent, bounced sql.NullInt64
	err := row.Scan(append([]any{&m.ID, &m.OrgID, &m.CustomerID, &m.Kind, &m.To, &m.FromName, &m.ReplyTo, &m.Subject, &m.Text, &m.HTML, &m.Status, &m.Attempts, &next,
		&m.LeaseOwner, &leaseUntil, &m.LastError, &m.Reply, &m.MessageID, &created, &sent, &retryFrom, &bounced, &m.BouncedBy}, more...)...)
	m.NextAttemptAt, m.CreatedAt, m.RetryFrom, m.SentAt = time.Unix(next, 0), time.Unix(created, 0), time.Unix(retryFrom, 0), fromUnix(sent)
	m.BouncedAt = fromUnix(bounced)
	if leaseUntil > 0 {
		m.LeaseUntil = time.Unix(leaseUntil, 0)
	}
	return &m, err
}

func scanOutboxRows(rows *sql.Rows, err error) ([]*OutboxMessage, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*OutboxMessage
	for rows.Next() {
		m, err := scanOutbox(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// leaseExpiry is the lease_until a lease taken now for d ends at; at least a
// second, since times are stored in whole seconds.
func (tx *Tx) leaseExpiry(d time.Duration) int64 {
	return tx.now().Add(max(d, time.Second)).Unix()
}

// LeaseDue leases up to limit queued messages that are due and not leased by
// anyone (or whose lease ran out), oldest due first, to owner until now+lease,
// and returns them with their bodies opened (a message whose bodies do not
// open comes with BodyErr instead). Run it through db.Tx so that it holds
// the write lock (BEGIN IMMEDIATE): the UPDATE then sees and claims rows no
// other process can claim at the same time.
func (tx *Tx) LeaseDue(ctx context.Context, owner string, lease time.Duration, limit int) ([]*OutboxMessage, error) {
	if owner == "" {
		return nil, Errorf(EINTERNAL, "outbox lease without an owner")
	}
	now := tx.now().Unix()
	msgs, err := scanOutboxRows(tx.query(ctx, `UPDATE outbox SET lease_owner = ?, lease_until = ?
		WHERE id IN (SELECT id FROM outbox WHERE status = 'queued' AND next_attempt_at <= ? AND lease_until <= ?
			ORDER BY next_attempt_at, id LIMIT ?)
		RETURNING `+outboxWithBodies, owner, tx.leaseExpiry(lease), now, now, limit))
	sortOutbox(msgs)
	tx.db.openBodies(msgs)
	return msgs, err
}

// LeaseIDs leases exactly the given messages for an immediate delivery
// ("send it now" after queueing), ignoring when they are due. Only messages
// still queued and not leased by anyone are taken, so a message another worker
// is sending, or that was sent meanwhile, is not in the result. Run it
// through db.Tx, as LeaseDue.
func (tx *Tx) LeaseIDs(ctx context.Context, owner string, lease time.Duration, ids []int64) ([]*OutboxMessage, error) {
	if owner == "" {
		return nil, Errorf(EINTERNAL, "outbox lease without an owner")
	}
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	msgs, err := scanOutboxRows(tx.query(ctx, `UPDATE outbox SET lease_owner = ?, lease_until = ?
		WHERE id IN (`+tx.db.d.idList+`) AND status = 'queued' AND lease_until <= ?
		RETURNING `+outboxWithBodies, owner, tx.leaseExpiry(lease), string(list), tx.now().Unix()))
	sortOutbox(msgs)
	tx.db.openBodies(msgs)
	return msgs, err
}

func sortOutbox(msgs []*OutboxMessage) {
	// RETURNING gives rows in no promised order; deliver in queue order.
	sort.Slice(msgs, func(i, j int) bool {
		if !msgs[i].NextAttemptAt.Equal(msgs[j].NextAttemptAt) {
			return msgs[i].NextAttemptAt.Before(msgs[j].NextAttemptAt)
		}
		return msgs[i].ID < msgs[j].ID
	})
}

// ExtendLeases pushes the lease of the owner's messages among ids to
// now+lease and returns the ids it still holds (a message whose lease ran out
// and was taken over is not among them). A worker calls it during a long batch
// so its lease never runs out while it is still sending.
func (tx *Tx) ExtendLeases(ctx context.Context, owner string, lease time.Duration, ids []int64) ([]int64, error) {
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rows, err := tx.query(ctx, `UPDATE outbox SET lease_until = ?
		WHERE id IN (`+tx.db.d.idList+`) AND lease_owner = ? AND status = 'queued' RETURNING id`,
		tx.leaseExpiry(lease), string(list), owner)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var held []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		held = append(held, id)
	}
	sort.Slice(held, func(i, j int) bool { return held[i] < held[j] })
	return held, rows.Err()
}

// ReleaseLeases gives back the owner's leases on ids without counting an
// attempt: the messages become available again at their next_attempt_at. A
// worker shutting down mid-batch releases what it has not tried yet.
func (tx *Tx) ReleaseLeases(ctx context.Context, owner string, ids []int64) (int, error) {
	list, err := json.Marshal(ids)
	if err != nil {
		return 0, err
	}
	res, err := tx.exec(ctx, `UPDATE outbox SET lease_owner = '', lease_until = 0
		WHERE id IN (`+tx.db.d.idList+`) AND lease_owner = ?`, string(list), owner)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// AssignMessageIDs gives each of ids that has no Message-ID yet one of the
// form outbox-<id>.<random>@<domain>, in one statement, and returns the
// Message-ID of every id. The worker calls it right after leasing, before the
// first attempt: keeping the ID across attempts makes a duplicate (see
// mailer.Worker) carry the same Message-ID, which mail clients use to fold it
// into the original.
func (tx *Tx) AssignMessageIDs(ctx context.Context, ids []int64, domain string) (map[int64]string, error) {
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rows, err := tx.query(ctx, `UPDATE outbox SET message_id = CASE WHEN message_id = ''
			THEN 'outbox-' || id || '.' || `+tx.db.d.randomHex+` || '@' || ? ELSE message_id END
		WHERE id IN (`+tx.db.d.idList+`) RETURNING id, message_id`, domain, string(list))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[int64]string, len(ids))
	for rows.Next() {
		var id int64
		var mid string
		if err := rows.Scan(&id, &mid); err != nil {
			return nil, err
		}
		out[id] = mid
	}
	return out, rows.Err()
}

// The Mark functions record the result of one delivery attempt. Each applies
// only while owner holds the message's lease, counts the attempt, releases the
// lease, and reports whether it applied: false means the lease was lost
// (expired and taken over, or the message was retried or cancelled by staff
// meanwhile) and the result was not recorded. Call them through db.Tx.

// MarkSent records that the server accepted the message, with its reply. The
// bodies are cleared: they carry the token, and a sent message is never sent
// again. messageID, when not empty, records the Message-ID used.
//
// It does not refresh the customer's state: refreshState reads a queued and a
// sent message alike (both leave an invite pending), so queued → sent cannot
// change it, and the refresh is most of the cost of recording a delivery.
// Should the states ever tell "sent" from "queued", refresh here too.
func (tx *Tx) MarkSent(ctx context.Context, id int64, owner, reply, messageID string) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?, reply = ?,
			message_id = CASE WHEN ? <> '' THEN ? ELSE message_id END,
			body_text = '', body_html = '', last_error = '', lease_owner = '', lease_until = 0
		WHERE id = ? AND lease_owner = ? AND status = 'queued'`,
		tx.now().Unix(), reply, messageID, messageID, id, owner)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// MarkRetry records a temporary failure: the message stays queued and is due
// again at next.
func (tx *Tx) MarkRetry(ctx context.Context, id int64, owner, errText string, next time.Time) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, lease_owner = '', lease_until = 0
		WHERE id = ? AND lease_owner = ? AND status = 'queued'`, errText, next.Unix(), id, owner)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// MarkFailed records a permanent failure (or the end of the retries) with the
// server's words. A message that carried a link loses its body and the link
// stops working (withdrawLink): it was never delivered, and leaving a live
// link in a message nobody will send only gives a copy of the database
// something to steal. `outbox retry` then issues a fresh link
// (claim.Service.RetryMessage). A message without a link keeps its body, so
// that a retry sends it as it was.
func (tx *Tx) MarkFailed(ctx context.Context, id int64, owner, errText string) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?, lease_owner = '', lease_until = 0
		WHERE id = ? AND lease_owner = ? AND status = 'queued'`, errText, id, owner)
	return tx.marked(ctx, id, res, err)
}

// marked finishes MarkFailed, CancelDeadMessages and a hard bounce
// (RecordBounce): the link goes, and an undelivered message is part of the
// customer's roster status.
func (tx *Tx) marked(ctx context.Context, id int64, res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return false, nil
	}
	if err := tx.withdrawLink(ctx, id); err != nil {
		return false, err
	}
	return true, tx.refreshOutboxCustomer(ctx, id)
}

// withdrawLink clears the bodies of a failed message that carried a link and
// ends the link now. Ended by its expiry rather than by revoked_at: a
// revocation would drop the invite from the customer's status, which must
// keep saying "Delivery failed" so staff see it, and the revoke reasons are
// fixed by a CHECK constraint. An expired link is refused everywhere a
// revoked one is.
func (tx *Tx) withdrawLink(ctx context.Context, id int64) error {
	now := tx.now().Unix()
	if _, err := tx.exec(ctx, `UPDATE invites SET expires_at = ? WHERE outbox_id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?`, now, id, now); err != nil {
		return err
	}
	_, err := tx.exec(ctx, `UPDATE outbox SET body_text = '', body_html = ''
		WHERE id = ? AND EXISTS (SELECT 1 FROM invites WHERE outbox_id = ?)`, id, id)
	return err
}

func (tx *Tx) refreshOutboxCustomer(ctx context.Context, outboxID int64) error {
	return tx.refreshState(ctx, `id IN (SELECT customer_id FROM invites WHERE outbox_id = ?)`, outboxID)
}

// CancelDeadMessages fails those of owner's leased messages among ids whose
// invite can no longer be used (used, revoked or expired): the customer would
// get a link that only says it does not work. It returns the ids it
// cancelled; the worker calls it right after leasing and does not send them.
// Checking only what was just leased keeps the cost per batch independent of
// the queue's length; a dead message further back is caught when it comes due.
func (tx *Tx) CancelDeadMessages(ctx context.Context, owner string, ids []int64) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	now := tx.now().Unix()
	rows, err := tx.query(ctx, `SELECT i.outbox_id, i.used_at IS NOT NULL, i.revoked_at IS NOT NULL, i.revoke_reason
		FROM invites i
		WHERE i.outbox_id IN (`+tx.db.d.idList+`)
		  AND (i.used_at IS NOT NULL OR i.revoked_at IS NOT NULL OR i.expires_at <= ?)`, string(list), now)
	if err != nil {
		return nil, err
	}
	type dead struct {
		id  int64
		why string
	}
	var all []dead
	for rows.Next() {
		var d dead
		var used, revoked bool
		var reason RevokeReason
		if err := rows.Scan(&d.id, &used, &revoked, &reason); err != nil {
			rows.Close()
			return nil, err
		}
		switch {
		case used:
			d.why = "not sent: the link was already used"
		case revoked:
			d.why = "not sent: " + reason.Words()
		default:
			d.why = "not sent: the link expired before it could be delivered"
		}
		all = append(all, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var cancelled []int64
	for _, d := range all {
		res, err := tx.exec(ctx, `UPDATE outbox SET status = 'failed', last_error = ?, lease_owner = '', lease_until = 0
			WHERE id = ? AND status = 'queued' AND lease_owner = ?`, d.why, d.id, owner)
		applied, err := tx.marked(ctx, d.id, res, err)
		if err != nil {
			return nil, err
		}
		if applied {
			cancelled = append(cancelled, d.id)
		}
	}
	return cancelled, nil
}

// OutboxMessages lists an organization's newest messages without their
// bodies: the first page of OutboxPage, without what the screen adds.
func (q conn) OutboxMessages(ctx context.Context, orgID int64, limit int) ([]*OutboxMessage, error) {
	rows, err := q.OutboxPage(ctx, orgID, OutboxQuery{Limit: limit})
	out := make([]*OutboxMessage, len(rows))
	for i := range rows {
		out[i] = &rows[i].OutboxMessage
	}
	return out, err
}

// OutboxRow is one line of an organization's outbox as staff see it (the
// outbox screen, `frontdesk outbox list`): a message without its bodies,
// with whom it is about as they are now and what became of the link it
// carried.
type OutboxRow struct {
	OutboxMessage
	CustomerName  string // "" once the customer was deleted
	CustomerEmail string // the customer's address now, which a fix may have changed
	// Purpose is the purpose of the link the message carried; "" for a
	// message without one (an email-change notice).
	Purpose Purpose
	// Newer: a newer link of the same purpose went to the customer after
	// this one, so a failure here needs no fix any more.
	Newer bool
	// LinkOpenedAt is when the link it carried was first opened; zero:
	// never, or no link.
	LinkOpenedAt time.Time
}

// OutboxQuery selects one page of an organization's outbox. Rows always come
// newest first; the page is the newest ones (no cursor), the ones older
// than Before, the ones just newer than After, or the oldest (Oldest).
type OutboxQuery struct {
	// Attention keeps only the messages staff may need to act on: failed,
	// bounced, and those being retried after a failed attempt.
	Attention bool
	Before    int64
	After     int64
	Oldest    bool
	Limit     int
}

// outboxAttention is Attention's condition, word for word the WHERE of the
// partial index outbox_attention (migration 0010): SQLite uses a partial
// index only for a query that repeats its condition.
const outboxAttention = `(status IN ('failed', 'bounced') OR (status = 'queued' AND attempts > 0))`

// OutboxPageMax is the most messages one OutboxPage returns.
const OutboxPageMax = 500

// OutboxPage returns up to oq.Limit (100 when 0; at most OutboxPageMax) of
// the organization's messages, keyset-paged on id through outbox_org (or
// outbox_attention), so a page costs the same however long the outbox is
// and none of it is held anywhere but on screen.
func (q conn) OutboxPage(ctx context.Context, orgID int64, oq OutboxQuery) ([]OutboxRow, error) {
	limit := min(oq.Limit, OutboxPageMax)
	if limit <= 0 {
		limit = 100
	}
	var sb strings.Builder
	args := []any{orgID}
	sb.WriteString(`SELECT ` + outboxNoBodies + `, customer_id AS cid FROM outbox WHERE org_id = ?`)
	if oq.Attention {
		sb.WriteString(` AND ` + outboxAttention)
	}
	dir := `DESC`
	switch {
	case oq.Before > 0:
		sb.WriteString(` AND id < ?`)
		args = append(args, oq.Before)
	case oq.After > 0:
		sb.WriteString(` AND id > ?`)
		args = append(args, oq.After)
		dir = `ASC`
	case oq.Oldest:
		dir = `ASC`
	}
	sb.WriteString(` ORDER BY id ` + dir + ` LIMIT ?`)
	args = append(args, limit, orgID)
	// The page first, then what it is joined to: a join per row of the page,
	// not of the outbox. The customer is joined under the message's
	// organization, so a row never shows another organization's customer.
	rows, err := q.query(ctx, `SELECT m.*, coalesce(c.first_name, ''), coalesce(c.last_name, ''), coalesce(c.email, ''), coalesce(i.purpose, ''),
			EXISTS (SELECT 1 FROM invites j WHERE j.customer_id = i.customer_id AND j.purpose = i.purpose AND j.id > i.id), i.opened_at
		FROM (`+sb.String()+`) m
		LEFT JOIN customers c ON c.id = m.cid AND c.org_id = ?
		LEFT JOIN invites i ON i.id = (SELECT max(id) FROM invites WHERE outbox_id = m.id)
		ORDER BY m.id DESC`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]OutboxRow, 0, limit)
	for rows.Next() {
		var r OutboxRow
		var cid, opened sql.NullInt64
		var first, last string
		m, err := scanOutbox(rows, &cid, &first, &last, &r.CustomerEmail, &r.Purpose, &r.Newer, &opened)
		if err != nil {
			return nil, err
		}
		r.OutboxMessage, r.LinkOpenedAt = *m, fromUnix(opened)
		r.CustomerName = strings.TrimSpace(first + " " + last)
		out = append(out, r)
	}
	return out, rows.Err()
}

// OutboxMessage returns one of the organization's messages without its
// bodies; another organization's message is not found.
func (q conn) OutboxMessage(ctx context.Context, orgID, id int64) (*OutboxMessage, error) {
	m, err := scanOutbox(q.queryRow(ctx, `SELECT `+outboxNoBodies+` FROM outbox WHERE org_id = ? AND id = ?`, orgID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "outbox message %d not found; `frontdesk outbox list` shows the messages", id)
	}
	return m, err
}

// RetryMessage queues a message again as it is, due now, with its attempts
// reset and a fresh day of retries: a queued one (`frontdesk outbox retry`
// of a message still waiting), or a failed one that still has its body (one
// without a link; see MarkFailed). A failed message that carried a link has
// none: claim.Service.RetryMessage issues a fresh link instead.
// Refused with EINVALID: a message already sent, one whose body is gone, and
// one whose invite can no longer be used (send a new invite instead); with
// ECONFLICT: one a worker is delivering right now.
func (tx *Tx) RetryMessage(ctx context.Context, orgID, id int64) error {
	m, err := tx.OutboxMessage(ctx, orgID, id)
	if err != nil {
		return err
	}
	now := tx.now()
	if m.Status == OutboxSent {
		var tz string
		_ = tx.queryRow(ctx, `SELECT time_zone FROM orgs WHERE id = ?`, orgID).Scan(&tz)
		loc, lerr := time.LoadLocation(tz)
		if lerr != nil {
			loc = time.UTC
		}
		server := ""
		if m.Reply != "" {
			server = " (the server answered " + m.Reply + ")"
		}
		return Errorf(EINVALID, "message %d was already sent on %s%s; if it did not arrive, ask the customer to check their spam folder, or send a new invite",
			id, format.Expiry(m.SentAt, loc), server)
	}
	if m.Status == OutboxQueued && m.LeaseUntil.After(now) {
		return Errorf(ECONFLICT, "message %d is being delivered right now; check again in a minute", id)
	}
	var hasBody bool
	if err := tx.queryRow(ctx, `SELECT body_text <> '' OR body_html <> '' FROM outbox WHERE id = ?`, id).Scan(&hasBody); err != nil {
		return err
	}
	if !hasBody {
		return Errorf(EINVALID, "message %d has no content left to send; send a new invite instead", id)
	}
	var used, revoked sql.NullInt64
	var reason RevokeReason
	var expires int64
	err = tx.queryRow(ctx, `SELECT used_at, revoked_at, revoke_reason, expires_at FROM invites WHERE outbox_id = ? ORDER BY id DESC LIMIT 1`, id).
		Scan(&used, &revoked, &reason, &expires)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return err
	case used.Valid:
		return Errorf(EINVALID, "message %d carries a link that was already used; nothing to resend", id)
	case revoked.Valid:
		return Errorf(EINVALID, "message %d carries a link that no longer works (%s); send a new invite instead", id, reason.Words())
	case expires <= now.Unix():
		return Errorf(EINVALID, "message %d carries a link that has expired; send a new invite instead", id)
	}
	res, err := tx.exec(ctx, `UPDATE outbox SET status = 'queued', attempts = 0, next_attempt_at = ?, retry_from = ?, last_error = ''
		WHERE id = ? AND org_id = ? AND status IN ('queued', 'failed') AND lease_until <= ?`, now.Unix(), now.Unix(), id, orgID, now.Unix())
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return Errorf(ECONFLICT, "message %d changed while retrying it; look at `frontdesk outbox list` and try again", id)
	}
	return tx.refreshOutboxCustomer(ctx, id)
}

// OutboxMessageByID returns a message of any organization, without its
// bodies: the worker reporting on a message it was asked to send. Staff-facing
// code uses OutboxMessage, which is scoped to the organization.
func (q conn) OutboxMessageByID(ctx context.Context, id int64) (*OutboxMessage, error) {
	m, err := scanOutbox(q.queryRow(ctx, `SELECT `+outboxNoBodies+` FROM outbox WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "outbox message %d not found", id)
	}
	return m, err
}

// OutboxCounts counts every organization's messages by status (the
// operator's monitoring): one pass over the outbox_due index, which starts
// with the status, so it reads no message.
func (q conn) OutboxCounts(ctx context.Context) (map[string]int, error) {
	rows, err := q.query(ctx, `SELECT status, count(*) FROM outbox GROUP BY status`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			return nil, err
		}
		out[status] = n
	}
	return out, rows.Err()
}

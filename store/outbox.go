package store

import (
	"context"
	"time"
)

// Outbox message statuses.
const (
	OutboxQueued = "queued" // waiting for (another) delivery attempt
	OutboxSent   = "sent"   // the mail server accepted it
	OutboxFailed = "failed" // permanently refused or out of retries
)

// OutboxMessage is an email waiting for, or past, delivery.
type OutboxMessage struct {
	ID            int64
	OrgID         int64
	Kind          string // invite | reset
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
}

// EnqueueMessage inserts m as queued and due now. Call it in the transaction of
// the change that caused the email.
func (db *DB) EnqueueMessage(ctx context.Context, q Queryer, m *OutboxMessage) error {
	now := db.Now().Truncate(time.Second)
	m.Status, m.CreatedAt, m.NextAttemptAt = OutboxQueued, now, now
	res, err := q.ExecContext(ctx, `INSERT INTO outbox (org_id, kind, to_addr, from_name, reply_to, subject, body_text, body_html, status, next_attempt_at, message_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)`,
		m.OrgID, m.Kind, m.To, m.FromName, m.ReplyTo, m.Subject, m.Text, m.HTML, now.Unix(), m.MessageID, now.Unix())
	if err != nil {
		return err
	}
	m.ID, err = res.LastInsertId()
	return err
}

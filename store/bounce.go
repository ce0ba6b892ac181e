package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Bounce is a mail provider's report, received after it accepted a message
// (250), that the message could not be delivered to one recipient.
type Bounce struct {
	Provider string // who reports it, as staff read it: "Postmark", "Amazon SES"

	// The keys that may name the message, best first (see RecordBounce).
	MessageID  string // the Message-ID header the message carried, when the provider gives it back
	ProviderID string // the provider's own id of the message, which its SMTP reply to DATA carried
	Recipient  string // the address that bounced

	At        time.Time // when the provider says it bounced; zero: now
	Permanent bool      // false: a soft bounce (mailbox full, delayed), after which the message may still arrive
	Reason    string    // what the receiving server said, in the provider's words
}

// BounceMatch says which key of a Bounce found the message.
type BounceMatch string

const (
	MatchMessageID  BounceMatch = "message-id"
	MatchProviderID BounceMatch = "provider-id"
	MatchRecipient  BounceMatch = "recipient"
)

// Bounced is what RecordBounce did.
type Bounced struct {
	OutboxID   int64
	OrgID      int64
	CustomerID int64  // 0 when the customer was deleted
	Kind       string // the message's kind
	To         string
	MatchedBy  BounceMatch
	// Recorded is false when the report changed nothing: the same report
	// again (providers retry their webhooks), or a soft bounce after a hard
	// one already stands.
	Recorded bool
}

// BounceWindow is how long after sending a report is matched by the
// provider's id or by recipient. A bounce comes within minutes, or after the
// receiving side's retries, which RFC 5321 §4.5.4.1 suggests give up after
// 4–5 days; a week covers that with room and bounds what each report reads.
const BounceWindow = 7 * 24 * time.Hour

// bounceClockSkew is how far the provider's clock may run behind ours: a
// message sent "after" the bounce by less than this may still be the one
// that bounced.
const bounceClockSkew = 5 * time.Minute

// minProviderIDLen keeps short tokens of a reply ("Ok", "2.0.0", a
// four-digit Postfix queue id) from being taken for a provider's message id:
// Postmark's are UUIDs, SES's 60 characters.
const minProviderIDLen = 16

// RecordBounce finds the message b reports and records the bounce, audited
// in the message's organization with the provider as the actor. Only a
// message the server accepted (sent, or bounced already) can bounce.
//
// Finding it, by the first key that names one:
//  1. MessageID: the Message-ID we set (outbox-<id>.<random>@<domain>),
//     unique across databases; what SES gives back in mail.commonHeaders
//     when the notification includes the original headers.
//  2. ProviderID: the provider's own id, looked for as a word of the reply
//     to DATA that MarkSent kept, among the messages sent within
//     BounceWindow before now (the report's own date does not widen the
//     search: an id names one message whenever it was reported). SES
//     answers "250 Ok <its id>" and reports that id as mail.messageId;
//     Postmark's MessageID is its own id, found when its reply carried it.
//  3. Recipient alone: the latest message sent to that address within
//     BounceWindow before the bounce (and not after it: a report replayed
//     later never reaches a message sent since). For a provider whose reply
//     carried no id, and a relay in between whose reply was its own. A
//     provider account shared with another sender may report a bounce of
//     that sender's message this way; the address bounced hard days after
//     our message went to it, so "Delivery failed", which asks staff to
//     check the address, is what they should see either way.
//
// When MessageID or ProviderID names a message to another address than
// Recipient, nothing is taken (ENOTFOUND): the report contradicts itself.
//
// A hard bounce (b.Permanent) makes the message "bounced" with the
// provider's words and ends the link it carried, as a permanent failure does
// (withdrawLink): the email never arrived, so nobody holds the link, and
// the customer's status becomes "Delivery failed" so staff see it and fix the
// address. A soft bounce only records the words: the provider or the
// receiving server may still deliver it (a full mailbox empties, a delay
// clears), and ending the link then would break an email the customer has.
//
// No message: ENOTFOUND, and nothing is written.
func (tx *Tx) RecordBounce(ctx context.Context, b *Bounce) (*Bounced, error) {
	now := tx.now()
	at := b.At
	if at.IsZero() || at.After(now) {
		at = now
	}
	reason := oneLine(b.Reason, 1000)
	if reason == "" {
		reason = "no reason given"
	}
	m, err := tx.findBounced(ctx, b, at, now)
	if err != nil {
		return nil, err
	}
	var status, lastError string
	var bouncedAt sql.NullInt64
	if err := tx.queryRow(ctx, `SELECT status, last_error, bounced_at FROM outbox WHERE id = ?`, m.OutboxID).Scan(&status, &lastError, &bouncedAt); err != nil {
		return nil, err
	}
	if status == OutboxBounced || (!b.Permanent && bouncedAt.Valid && lastError == reason) {
		return m, nil
	}
	provider := oneLine(b.Provider, 100)
	var detail string
	if b.Permanent {
		res, err := tx.exec(ctx, `UPDATE outbox SET status = 'bounced', last_error = ?, bounced_at = ?, bounce_provider = ? WHERE id = ? AND status = 'sent'`,
			reason, at.Unix(), provider, m.OutboxID)
		if m.Recorded, err = tx.marked(ctx, m.OutboxID, res, err); err != nil || !m.Recorded {
			return m, err
		}
		detail = fmt.Sprintf("%s reported that message %d (%s) to %s bounced: %s", provider, m.OutboxID, m.Kind, m.To, reason)
		if m.Kind == MessageInvite || m.Kind == MessageReset {
			detail += "; the link it carried no longer works"
		}
	} else {
		res, err := tx.exec(ctx, `UPDATE outbox SET last_error = ?, bounced_at = ?, bounce_provider = ? WHERE id = ? AND status = 'sent'`,
			reason, at.Unix(), provider, m.OutboxID)
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return m, nil
		}
		m.Recorded = true
		detail = fmt.Sprintf("%s reported a soft bounce of message %d (%s) to %s: %s; it may still arrive, and its link stays as it was", provider, m.OutboxID, m.Kind, m.To, reason)
	}
	return m, tx.Audit(ctx, m.OrgID, SystemActor(provider+" bounce report"), "outbox.bounce", m.CustomerID, detail)
}

// The searches of findBounced, one per key, each through an index of
// migration 0011 (TestBounceSearchesUseIndexes).
const (
	bounceColumns     = `SELECT id, org_id, coalesce(customer_id, 0), kind, to_addr, reply FROM outbox `
	bounceByMessageID = bounceColumns + `WHERE message_id <> '' AND message_id = ? AND status IN ('sent', 'bounced')`
	// Read through the window (outbox_sent; "status || ''" keeps SQLite's
	// planner off outbox_due, which would read every message ever sent);
	// the id must then be a whole word of the reply (replyNames), not
	// part of one. Its argument is a LIKE pattern (likeContains).
	bounceByProviderID = bounceColumns + `WHERE sent_at IS NOT NULL AND sent_at >= ? AND status || '' IN ('sent', 'bounced')
		AND lower(reply) LIKE ? ESCAPE '\' ORDER BY sent_at DESC`
	bounceByRecipient = bounceColumns + `WHERE lower(to_addr) = ? AND sent_at IS NOT NULL AND sent_at BETWEEN ? AND ?
		AND status IN ('sent', 'bounced') ORDER BY sent_at DESC, id DESC LIMIT 1`
)

// findBounced is RecordBounce's search, key by key.
func (tx *Tx) findBounced(ctx context.Context, b *Bounce, at, now time.Time) (*Bounced, error) {
	rcpt := NormalizeEmail(b.Recipient)
	type key struct {
		by    BounceMatch
		query string
		args  []any
		ok    func(reply string) bool // nil: any row
	}
	var keys []key
	if id := strings.Trim(strings.TrimSpace(b.MessageID), "<>"); id != "" {
		keys = append(keys, key{by: MatchMessageID, query: bounceByMessageID, args: []any{id}})
	}
	if id := strings.TrimSpace(b.ProviderID); len(id) >= minProviderIDLen && !strings.ContainsFunc(id, isSpace) {
		keys = append(keys, key{by: MatchProviderID, query: bounceByProviderID, args: []any{now.Add(-BounceWindow).Unix(), likeContains(FoldEmail(id))},
			ok: func(reply string) bool { return replyNames(reply, id) }})
	}
	if rcpt != "" {
		keys = append(keys, key{by: MatchRecipient, query: bounceByRecipient, args: []any{FoldEmail(rcpt), at.Add(-BounceWindow).Unix(), at.Add(bounceClockSkew).Unix()}})
	}
	for _, k := range keys {
		m, err := tx.firstBounced(ctx, k.query, k.args, k.ok)
		if err != nil {
			return nil, err
		}
		if m == nil {
			continue
		}
		// An id naming our message to another address is a report that
		// contradicts itself: taking either half could end the wrong
		// customer's link, so neither is taken.
		if rcpt != "" && !strings.EqualFold(m.To, rcpt) {
			return nil, Errorf(ENOTFOUND, "the bounce names message %d by its %s, but that message went to another address than %q; nothing recorded", m.OutboxID, k.by, oneLine(rcpt, 200))
		}
		m.MatchedBy = k.by
		return m, nil
	}
	return nil, Errorf(ENOTFOUND, "no message sent by frontdesk matches this bounce (Message-ID %q, provider id %q, recipient %q)",
		oneLine(b.MessageID, 200), oneLine(b.ProviderID, 200), oneLine(rcpt, 200))
}

// firstBounced returns the first message of query whose reply ok accepts (any,
// when ok is nil), or nil.
func (tx *Tx) firstBounced(ctx context.Context, query string, args []any, ok func(reply string) bool) (*Bounced, error) {
	rows, err := tx.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var m Bounced
		var reply string
		if err := rows.Scan(&m.OutboxID, &m.OrgID, &m.CustomerID, &m.Kind, &m.To, &reply); err != nil {
			return nil, err
		}
		if ok == nil || ok(reply) {
			return &m, nil
		}
	}
	return nil, rows.Err()
}

// replyNames reports whether id is one of the words of a server's reply
// ("250 Ok <id>", "250 2.0.0 Ok: queued as <id>"), not merely part of one.
func replyNames(reply, id string) bool {
	for _, w := range strings.FieldsFunc(reply, isSpace) {
		if strings.EqualFold(strings.Trim(w, `<>()[]{},;:."'`), id) {
			return true
		}
	}
	return false
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' }

// oneLine is s on one line (control characters and runs of space as one
// space), at most max bytes of valid UTF-8: text from outside (a provider's
// report) stored for staff to read.
func oneLine(s string, max int) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f || isSpace(r) }), " ")
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "…"
	}
	return strings.ToValidUTF8(s, "")
}

// likeContains is the LIKE pattern (with ESCAPE '\') of text containing
// s: its own %, _ and \ match only themselves.
func likeContains(s string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s) + "%"
}

package claim

import (
	"context"
	"time"

	"frontdesk/store"
)

// composer builds a link's email from the link and its expiry.
type composer func(link string, expires time.Time) (subject, text, html string, err error)

// issue writes a new link for inv.Customer inside tx, the one way invites and
// reset links are made: earlier unused links of inv.Purpose are revoked
// (superseded), a fresh token is drawn and only its hash kept, the email
// carrying the link goes into the outbox, and the invite row points at it.
// inv arrives with OrgID, CustomerID, Purpose, Email and the creator; issue
// fills in the token hash, the times (expiring after ttl, unless inv comes
// with its ExpiresAt: a reminder's link keeps its invite's) and the outbox
// id.
// The caller writes the audit row. It returns the token (only ever in the
// email, and in Sent for tests), the outbox id and how many earlier links
// stopped working. A nil compose issues a link that is not emailed (one
// shown at the desk, inv.Channel ChannelDesk): no outbox message, outbox id
// 0, and the token is the caller's to show.
func (s *Service) issue(ctx context.Context, tx *store.Tx, org *store.Org, inv *store.Invite, ttl time.Duration, kind string, url func(token string) string, compose composer) (token string, outboxID int64, revoked int, err error) {
	revoked, err = tx.RevokeInvites(ctx, inv.CustomerID, inv.Purpose, store.RevokeSuperseded)
	if err != nil {
		return "", 0, 0, err
	}
	token, inv.TokenHash = newToken()
	inv.CreatedAt = s.DB.Now().Truncate(time.Second)
	if inv.ExpiresAt.IsZero() {
		inv.ExpiresAt = inv.CreatedAt.Add(ttl)
	}
	if compose == nil {
		if err := tx.CreateInvite(ctx, inv); err != nil {
			return "", 0, 0, err
		}
		return token, 0, revoked, nil
	}
	subject, text, html, err := compose(url(token), inv.ExpiresAt)
	if err != nil {
		return "", 0, 0, err
	}
	msg := &store.OutboxMessage{OrgID: org.ID, CustomerID: inv.CustomerID, Kind: kind, To: inv.Email, FromName: org.Name, ReplyTo: org.ReplyTo, Subject: subject, Text: text, HTML: html}
	if err := tx.EnqueueMessage(ctx, msg); err != nil {
		return "", 0, 0, err
	}
	inv.OutboxID = msg.ID
	if err := tx.CreateInvite(ctx, inv); err != nil {
		return "", 0, 0, err
	}
	return token, msg.ID, revoked, nil
}

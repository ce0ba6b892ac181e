package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"time"

	"frontdesk/claim"
	"frontdesk/mailer"
	"frontdesk/store"
)

// What --json prints, for scripts: field names are snake_case and stay as
// they are (the README's "JSON output" lists them); every field is present,
// null when it does not apply; times are RFC 3339 in UTC; durations are
// whole seconds in fields named so; words that a flag also takes (a
// customer's status) are written as the flag takes them.

// jsonList writes a JSON array, one element per line, as it goes: a list
// of a million customers streams in constant memory.
type jsonList struct {
	w   *bufio.Writer
	buf bytes.Buffer
	enc *json.Encoder
	n   int
}

func newJSONList(w io.Writer) *jsonList {
	l := &jsonList{w: bufio.NewWriter(w)}
	l.enc = json.NewEncoder(&l.buf)
	l.enc.SetEscapeHTML(false)
	l.w.WriteString("[")
	return l
}

// Add writes one element.
func (l *jsonList) Add(v any) error {
	l.buf.Reset()
	if err := l.enc.Encode(v); err != nil {
		return err
	}
	if l.n > 0 {
		l.w.WriteString(",")
	}
	l.w.WriteString("\n")
	l.w.Write(bytes.TrimSuffix(l.buf.Bytes(), []byte("\n")))
	l.n++
	return nil
}

// Close ends the array and flushes it.
func (l *jsonList) Close() error {
	if l.n > 0 {
		l.w.WriteString("\n")
	}
	l.w.WriteString("]\n")
	return l.w.Flush()
}

// timePtr is a time for JSON: UTC, or null when it is not set.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// idPtr is an id for JSON: null when there is none.
func idPtr(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// customerJSON is one element of `customers list --json`.
type customerJSON struct {
	ID              int64      `json:"id"`
	FirstName       string     `json:"first_name"`
	LastName        string     `json:"last_name"`
	Email           string     `json:"email"`
	Phone           string     `json:"phone"`
	Status          string     `json:"status"` // Status.Word: not-invited, invited, expired, failed, claimed, no-email
	InviteSentAt    *time.Time `json:"invite_sent_at"`
	InviteExpiresAt *time.Time `json:"invite_expires_at"`
	ClaimedAt       *time.Time `json:"claimed_at"`
}

func newCustomerJSON(r *store.RosterRow) customerJSON {
	return customerJSON{ID: r.ID, FirstName: r.FirstName, LastName: r.LastName, Email: r.Email, Phone: r.Phone,
		Status: r.Status.Word(), InviteSentAt: timePtr(r.InviteSentAt), InviteExpiresAt: timePtr(r.InviteExpiresAt), ClaimedAt: timePtr(r.ClaimedAt)}
}

// orgJSON is one element of `org list --json`.
type orgJSON struct {
	ID                 int64      `json:"id"`
	Slug               string     `json:"slug"`
	Name               string     `json:"name"`
	Customers          int        `json:"customers"` // on the roster: not archived
	InviteTTLSeconds   int64      `json:"invite_ttl_seconds"`
	RemindAfterSeconds int64      `json:"remind_after_seconds"` // 0: no reminders
	TimeZone           string     `json:"time_zone"`
	Notifications      bool       `json:"notifications"`
	MinPasswordLength  int        `json:"min_password_length"`
	WalkthroughURL     string     `json:"walkthrough_url"`
	PaymentsURL        string     `json:"payments_url"`
	ReplyTo            string     `json:"reply_to"`
	CreatedAt          *time.Time `json:"created_at"`
}

func newOrgJSON(o *store.Org, customers int) orgJSON {
	return orgJSON{ID: o.ID, Slug: o.Slug, Name: o.Name, Customers: customers,
		InviteTTLSeconds: int64(o.InviteTTL / time.Second), RemindAfterSeconds: int64(o.RemindAfter / time.Second),
		TimeZone: o.TimeZone, Notifications: o.Notifications, MinPasswordLength: o.MinPasswordLength,
		WalkthroughURL: o.WalkthroughURL, PaymentsURL: o.PaymentsURL, ReplyTo: o.ReplyTo, CreatedAt: timePtr(o.CreatedAt)}
}

// staffJSON is one element of `staff list --json`.
type staffJSON struct {
	ID        int64          `json:"id"`
	Email     string         `json:"email"`
	Name      string         `json:"name"`
	Role      string         `json:"role"` // owner, admin or staff, as --role takes it
	CreatedAt *time.Time     `json:"created_at"`
	SSHKeys   []staffKeyJSON `json:"ssh_keys"`
}

type staffKeyJSON struct {
	Fingerprint string     `json:"fingerprint"` // SHA256:…
	AddedAt     *time.Time `json:"added_at"`
}

func newStaffJSON(s *store.Staff, keys []store.StaffKey) staffJSON {
	j := staffJSON{ID: s.ID, Email: s.Email, Name: s.Name, Role: string(s.Role), CreatedAt: timePtr(s.CreatedAt), SSHKeys: []staffKeyJSON{}}
	for _, k := range keys {
		j.SSHKeys = append(j.SSHKeys, staffKeyJSON{Fingerprint: k.Fingerprint, AddedAt: timePtr(k.CreatedAt)})
	}
	return j
}

// keyListJSON is one element of `staff key list --json`: one key.
type keyListJSON struct {
	Fingerprint string     `json:"fingerprint"` // SHA256:…, as `staff key remove` takes it
	Type        string     `json:"type"`        // ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa, …
	Comment     string     `json:"comment"`     // after the key in its line; "" when none
	Email       string     `json:"email"`       // the staff member it signs in
	Name        string     `json:"name"`
	AddedAt     *time.Time `json:"added_at"`
	LastUsedAt  *time.Time `json:"last_used_at"` // the last SSH session it opened; null: never
}

func newKeyListJSON(s *store.Staff, k *store.StaffKey) keyListJSON {
	return keyListJSON{Fingerprint: k.Fingerprint, Type: k.Type(), Comment: k.Comment(), Email: s.Email, Name: s.Name,
		AddedAt: timePtr(k.CreatedAt), LastUsedAt: timePtr(k.LastUsedAt)}
}

// outboxJSON is one element of `outbox list --json`. No body: an email
// waiting holds a live link.
type outboxJSON struct {
	ID            int64      `json:"id"`
	Status        string     `json:"status"` // queued, sent, failed, bounced
	Kind          string     `json:"kind"`   // invite, reset, reminder, email_change
	To            string     `json:"to"`
	CustomerID    *int64     `json:"customer_id"` // null once the customer was deleted
	Attempts      int        `json:"attempts"`
	CreatedAt     *time.Time `json:"created_at"`
	NextAttemptAt *time.Time `json:"next_attempt_at"` // queued only
	SentAt        *time.Time `json:"sent_at"`
	Reply         string     `json:"reply"`      // the mail server's answer that accepted it
	LastError     string     `json:"last_error"` // why the last attempt failed, or the bounce
	BouncedAt     *time.Time `json:"bounced_at"`
	BouncedBy     string     `json:"bounced_by"`
	CustomerName  string     `json:"customer_name"` // "" once the customer was deleted
	WhatHappened  string     `json:"what_happened"` // the server's answer in plain words, as the table says it
	LinkOpenedAt  *time.Time `json:"link_opened_at"`
}

func newOutboxJSON(m *store.OutboxRow) outboxJSON {
	j := outboxJSON{ID: m.ID, Status: m.Status, Kind: m.Kind, To: m.To, CustomerID: idPtr(m.CustomerID), Attempts: m.Attempts,
		CreatedAt: timePtr(m.CreatedAt), SentAt: timePtr(m.SentAt), Reply: m.Reply, LastError: m.LastError,
		BouncedAt: timePtr(m.BouncedAt), BouncedBy: m.BouncedBy,
		CustomerName: m.CustomerName, WhatHappened: mailer.ExplainDelivery(&m.OutboxMessage, " — "), LinkOpenedAt: timePtr(m.LinkOpenedAt)}
	if m.Status == store.OutboxQueued {
		j.NextAttemptAt = timePtr(m.NextAttemptAt)
	}
	return j
}

// inviteJSON is one element of `invite --json`: what became of one
// customer's invite.
type inviteJSON struct {
	CustomerID *int64 `json:"customer_id"` // null: the argument named no customer
	Name       string `json:"name"`
	Email      string `json:"email"`  // where the invite went; the address on file when refused
	Result     string `json:"result"` // sent, queued, failed, refused
	// Reason is a refusal's code (claim.Reason: no_email, claimed,
	// archived, invalid_email, notifications_off, forbidden, gone), or
	// not_found for an argument that named no customer.
	Reason        string     `json:"reason"`
	Message       string     `json:"message"` // the sentence the command prints without --json
	Reply         string     `json:"reply"`   // sent: the mail server's answer
	Error         string     `json:"error"`   // queued, failed: why it has not gone
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	LinkExpiresAt *time.Time `json:"link_expires_at"`
	OutboxID      *int64     `json:"outbox_id"` // the message, for `outbox retry`
}

// resultWords are the results' words in JSON.
var resultWords = map[claim.Result]string{claim.Delivered: "sent", claim.Queued: "queued", claim.Failed: "failed", claim.Refused: "refused"}

// newInviteJSON words outcome o; c is the customer when the caller has it
// (a refusal carries only the name).
func newInviteJSON(o *claim.Outcome, c *store.Customer, words claim.Words) inviteJSON {
	j := inviteJSON{CustomerID: idPtr(o.CustomerID), Result: resultWords[o.Result], Message: words.Outcome(o)}
	if c != nil {
		j.Name, j.Email = c.Name(), c.Email
	}
	if o.Result == claim.Refused {
		j.Reason = string(o.Refusal.Reason)
		if j.Name == "" {
			j.Name = o.Refusal.Who
		}
		return j
	}
	j.Name, j.Email = o.Sent.Customer.Name(), o.Sent.Invite.Email
	j.LinkExpiresAt, j.OutboxID = timePtr(o.Sent.Invite.ExpiresAt), idPtr(o.Sent.OutboxID)
	switch o.Result {
	case claim.Delivered:
		j.Reply = o.Reply
	case claim.Queued:
		j.Error, j.NextAttemptAt = o.Why, timePtr(o.NextAttempt)
	case claim.Failed:
		j.Error = o.Why
	}
	return j
}

// inviteElement is outcome o in `invite --json`; c is its customer when the
// caller holds it. A refusal carries only the name, so the customer of
// one is read to give the email too.
func inviteElement(ctx context.Context, app *App, org *store.Org, o *claim.Outcome, c *store.Customer) inviteJSON {
	if c == nil && o.Result == claim.Refused && o.CustomerID != 0 {
		c, _ = app.DB.Customer(ctx, org.ID, o.CustomerID) // gone from the roster: named by id only
	}
	return newInviteJSON(o, c, cliWords(org))
}

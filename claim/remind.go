package claim

import (
	"context"
	"fmt"
	"time"

	"frontdesk/mailer"
	"frontdesk/store"
	"frontdesk/store/format"
)

// Reminders (org set --remind-after). The rules, decided here:
//
//   - One reminder per invite, sent RemindAfter after the invite went, only
//     while the customer has not claimed, is not archived, still has the
//     address the invite went to, and the invite's link still works (for
//     ReminderMinLife more at least) and its email was accepted by the mail
//     server. A resend is a new invite and may have its own reminder; a
//     reminder is never reminded of.
//   - The reminder carries a fresh link, which supersedes the invite's. Only
//     the token's hash is stored, so the reminder cannot repeat the first
//     link; and leaving that link working beside the new one would give a
//     customer two live links for one invite (twice what a forwarded or
//     stolen email exposes) and break the rule a resend keeps, that only the
//     latest email's link works, which the link pages explain ("a newer
//     invite was sent"). The reminder says the earlier email's link no
//     longer works.
//   - The fresh link keeps the invite's expiry. A reminder goes without
//     anybody deciding it, so it must not lengthen how long a working link
//     sits in a mailbox beyond the lifetime the organization chose; a longer
//     one is a resend, which staff decide.
//   - Each reminder is written with its audit row in the transaction of its
//     batch, and the reminder's link names the invite it reminds of
//     (store.Tx.SetReminderOf, unique): two processes on one database never
//     remind of one invite twice.

// ReminderMinLife is how long a link must still work for its reminder to
// go: a reminder that arrives as the link dies only frustrates.
const ReminderMinLife = time.Hour

// remindBatch is how many reminders share one write transaction (a
// variable: a test makes two processes take turns).
var remindBatch = 100

// ReminderActor is who the audit log names for a reminder.
var ReminderActor = store.SystemActor("frontdesk reminders")

// SendReminders queues every reminder that is due, organization by
// organization, one transaction per batch, and returns the outbox ids of
// the reminders queued (the worker delivers them; wake it). A failure stops
// the run: what was committed before it stays, and the next run goes on.
func (s *Service) SendReminders(ctx context.Context) ([]int64, error) {
	orgs, err := s.DB.Orgs(ctx)
	if err != nil {
		return nil, err
	}
	var queued []int64
	for _, o := range orgs {
		if o.RemindAfter <= 0 || !o.Notifications {
			continue
		}
		for {
			var batch []int64
			due := 0
			err := s.DB.Tx(ctx, func(tx *store.Tx) error {
				batch, due = batch[:0], 0
				// Read again under the write lock: the setting may have
				// changed since the list was read.
				org, err := tx.Org(ctx, o.ID)
				if err != nil {
					return err
				}
				invs, err := tx.RemindersDue(ctx, org, ReminderMinLife, remindBatch)
				if err != nil {
					return err
				}
				due = len(invs)
				for i := range invs {
					id, err := s.remind(ctx, tx, org, &invs[i])
					if err != nil {
						return err
					}
					if id != 0 {
						batch = append(batch, id)
					}
				}
				return nil
			})
			if err != nil {
				return queued, err
			}
			if len(batch) > 0 {
				s.metrics().Issued(IssuedReminder, len(batch))
			}
			queued = append(queued, batch...)
			// A short batch was the last; one that reminded nobody would
			// find the same invites again.
			if due < remindBatch || len(batch) == 0 {
				break
			}
		}
	}
	return queued, nil
}

// remind writes inside tx the reminder of invite inv, due: a fresh link to
// the customer's address, with inv's expiry, superseding inv, in a reminder
// email; the link is marked as inv's reminder, and the audit row written.
// It returns the reminder's outbox id, or 0 when the customer may no
// longer be invited (the invite is then left as it is).
func (s *Service) remind(ctx context.Context, tx *store.Tx, org *store.Org, inv *store.Invite) (int64, error) {
	c, err := tx.Customer(ctx, org.ID, inv.CustomerID)
	if err != nil {
		return 0, err
	}
	// RemindersDue has checked what a store query can; the address itself
	// is checked as an invite's is (one stored before the rules were
	// stricter is not mailed again).
	if store.ValidateEmail(c.Email) != nil {
		return 0, nil
	}
	// Like an invite's, the reminder's link comes with a one-time code for
	// mail apps that break links; the code leaves only in the email.
	rem := &store.Invite{OrgID: org.ID, CustomerID: c.ID, Purpose: store.PurposeClaim, Email: c.Email, ExpiresAt: inv.ExpiresAt, Code: newCode()}
	code := FormatCode(rem.Code)
	_, outboxID, superseded, err := s.issue(ctx, tx, org, rem, 0, store.MessageReminder, s.ClaimURL,
		func(link string, expires time.Time) (string, string, string, error) {
			return mailer.ComposeReminder(mailer.InviteData{
				OrgName: org.Name, CustomerName: c.FirstName, Link: link, WalkthroughURL: org.WalkthroughURL,
				ReplyTo: org.ReplyTo, Expires: expires, Location: org.Location(),
				Code: code, CodeURL: s.CodeURL(), SignInURL: s.SignInURL(org.Slug), Brand: s.brand(org),
			})
		})
	rem.Code = ""
	if err != nil {
		return 0, err
	}
	if err := tx.SetReminderOf(ctx, rem.ID, inv.ID); err != nil {
		return 0, err
	}
	detail := fmt.Sprintf("reminder to %s, %s after the invite of %s (invite %d); a fresh link in message %d, expiring %s as the invite did; %d earlier link(s) revoked",
		c.Email, format.Duration(org.RemindAfter), inv.CreatedAt.UTC().Format(time.RFC3339), inv.ID, outboxID, rem.ExpiresAt.UTC().Format(time.RFC3339), superseded)
	if err := tx.Audit(ctx, org.ID, ReminderActor, "invite.remind", c.ID, detail); err != nil {
		return 0, err
	}
	return outboxID, nil
}

package claim

import (
	"context"
	"fmt"

	"frontdesk/store"
	"frontdesk/store/format"
)

// Opened records that link l (looked up from an emailed link's GET) was
// opened, the first time only, so staff can answer "the link doesn't work"
// with "opened Tue 10:02, password not set yet". It uses nothing: the link
// works exactly as before. Any known link counts, a dead one too (staff
// then see the customer opened an old email); an unknown token has nothing
// to record.
//
// The write is audited, but as the web's, not the customer's: a GET proves
// nothing about who sent it (mail scanners and link previews fetch links
// before anyone reads the email), and an audit row saying the customer
// acted would be a false record. The row says what is known: the link was
// fetched. Only the first opening writes, so a link refreshed or fetched a
// thousand times costs one row.
func (s *Service) Opened(ctx context.Context, l *Link) error {
	if l == nil || l.Invite == nil || l.Org == nil || !l.Invite.OpenedAt.IsZero() {
		return nil
	}
	inv := l.Invite
	return s.DB.Tx(ctx, func(tx *store.Tx) error {
		first, err := tx.OpenInvite(ctx, inv.ID)
		if err != nil || !first {
			return err
		}
		action, what := "invite.opened", "invite"
		if inv.Purpose == store.PurposeReset {
			action, what = "reset.opened", "password-reset link"
		}
		detail := fmt.Sprintf("the %s sent to %s on %s was first opened (by the customer, or by a mail scanner checking links); nothing was used",
			what, inv.Email, format.DateTime(inv.CreatedAt, l.Org.Location()))
		return tx.Audit(ctx, inv.OrgID, store.SystemActor("web"), action, inv.CustomerID, detail)
	})
}

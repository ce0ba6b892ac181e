package claim

import (
	"context"

	"frontdesk/store"
)

// AtDesk is a claim link made to be shown at the front desk (as a QR code)
// to a customer standing there, instead of emailed.
type AtDesk struct {
	// URL is the claim link. It exists only here and on the screen that
	// shows it: the database keeps its hash, and no email carries it.
	URL        string
	Invite     *store.Invite
	Customer   *store.Customer
	Superseded int // earlier links that stopped working
}

// ShowAtDesk issues a fresh claim link for customer id on behalf of actor,
// to be shown at the desk: an invite like a resend (the same rules,
// CanInvite; every earlier link is revoked; the same lifetime), through the
// one way invites are made, with channel ChannelDesk: no email and no
// outbox message (the customer is at the desk), audited as shown at the
// desk.
func (s *Service) ShowAtDesk(ctx context.Context, actor *store.Staff, customerID int64) (*AtDesk, error) {
	var out *AtDesk
	err := s.DB.Tx(ctx, func(tx *store.Tx) error {
		actor, org, c, err := s.load(ctx, tx, actor, customerID, "show a claim code")
		if err != nil {
			return err
		}
		sent, err := s.invite(ctx, tx, actor, org, c, store.ChannelDesk)
		if err != nil {
			return err
		}
		out = &AtDesk{URL: s.ClaimURL(sent.token), Invite: sent.Invite, Customer: c, Superseded: sent.Superseded}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.metrics().Issued(IssuedDesk, 1)
	return out, nil
}

package claim

import (
	"context"
	"fmt"
	"time"

	"frontdesk/store"
)

// "Send me a new link": the page of a dead invite link (expired, superseded
// by a newer one, sent to an old address, withdrawn) offers it, so a
// customer is never left at a dead end. The rules, decided here:
//
//   - The new link goes to the address on file, never to one typed on the
//     page: the request proves nothing about who makes it (anyone holding
//     an old email, or its forwarded copy, can), so it may only put a
//     fresh link where staff would send it.
//   - It is an invite like any other (canBeInvited: not archived, not
//     claimed, a valid address, the organization's email on), issued
//     through Send, the one way links go out, with the customer as the
//     audit row's actor and no staff creator.
//   - A link staff withdrew is not renewed: withdrawing is a decision
//     (the address may reach the wrong person), and the holder of that
//     link must not undo it. Only staff send the next one.
//   - Limits: RenewalsPerCustomer per customer and RenewalsPerMailbox per
//     address (across organizations) in RenewWindow, counted in the
//     database so they hold across processes and restarts; the web limits
//     each client address as well.
//   - Every request about a known link is audited, sent or not, on the
//     customer it concerns.
//   - Whatever happens, the caller's answer is the same (RenewResult is
//     for logs and tests): the page says a new link is on its way if one
//     can be sent, so it tells nobody the state of the account.

const (
	RenewWindow         = time.Hour
	RenewalsPerCustomer = 3
	RenewalsPerMailbox  = 5
)

// RenewRequest is "send me a new link" from the page of a dead claim link:
// the link's token, or the invite email's address and one-time code.
type RenewRequest struct {
	Token string
	Code  *CodeEntry
	Addr  string // client address, for the audit detail (and a code's throttle)
}

// RenewResult says what RenewLink did, for logs and tests only: the page
// must not let it change its answer.
type RenewResult struct {
	State   LinkState  // the dead link's state when it was asked
	Org     *store.Org // the link's organization; nil for an unknown link
	Outcome *Outcome   // nil when nothing was asked of Send (a link that is not dead, or unknown)
}

// renewal is a customer's request as Send carries it.
type renewal struct {
	orgID int64
	hash  []byte // the dead link's token hash, read again under the write lock
	state LinkState
	addr  string
}

// what names the link the request came from, for the audit row.
func (r *renewal) what() string {
	switch r.state {
	case LinkExpired:
		return "an expired link"
	case LinkSuperseded:
		return "a link replaced by a newer invite"
	case LinkEmailChanged:
		return "a link sent to an earlier address"
	case LinkRevoked:
		return "a withdrawn link"
	}
	return "a link (" + string(r.state) + ")"
}

// Renewable reports whether a link in state s is one a customer may ask to
// replace; a withdrawn one is asked about (and refused) so that the
// request is audited.
func Renewable(s LinkState) bool {
	switch s {
	case LinkExpired, LinkSuperseded, LinkEmailChanged, LinkRevoked:
		return true
	}
	return false
}

// RenewLink answers "send me a new link" (see the rules above). The only
// errors are internal ones and a one-time code's *CodeThrottled.
func (s *Service) RenewLink(ctx context.Context, req RenewRequest) (*RenewResult, error) {
	var l *Link
	var err error
	if req.Code != nil {
		l, err = s.LookupCode(ctx, *req.Code)
	} else {
		l, err = s.Lookup(ctx, store.PurposeClaim, req.Token)
	}
	if err != nil {
		return nil, err
	}
	res := &RenewResult{State: l.State, Org: l.Org}
	if !Renewable(l.State) {
		// A live link needs no new one, a used one leads to sign-in, an
		// unknown one to nobody.
		return res, nil
	}
	r := &renewal{orgID: l.Org.ID, hash: l.Invite.TokenHash, state: l.State, addr: req.Addr}
	out, err := s.Send(ctx, nil, []int64{l.Customer.ID}, SendOptions{renewal: r, QueueOnly: true})
	if err != nil {
		return nil, err
	}
	res.Outcome = &out[0]
	return res, nil
}

// renewOne is issueOne for a customer's request, inside tx: the dead link
// and the customer read again, the rules and limits applied, and the
// invite written; a refusal is audited and returned as the Outcome's.
func (s *Service) renewOne(ctx context.Context, tx *store.Tx, id int64, r *renewal) (*Sent, error) {
	org, err := tx.Org(ctx, r.orgID)
	if err != nil {
		return nil, err
	}
	inv, _, c, err := tx.LinkByTokenHash(ctx, r.hash)
	if err != nil {
		return nil, err
	}
	if inv.CustomerID != id || inv.OrgID != org.ID || inv.Purpose != store.PurposeClaim {
		return nil, store.Errorf(store.ENOTFOUND, "customer %d not found", id)
	}
	refusal, err := s.renewRefusal(ctx, tx, org, c, linkState(inv, c, s.DB.Now()))
	if err != nil {
		return nil, err
	}
	if refusal != nil {
		detail := fmt.Sprintf("new link asked for by the customer from the page of %s (from %s); none sent: %s", r.what(), r.addr, refusal.Message)
		if err := tx.Audit(ctx, org.ID, store.CustomerActor(c), "invite.renew_refused", c.ID, detail); err != nil {
			return nil, err
		}
		return nil, refusal
	}
	return s.writeInvite(ctx, tx, org, c, store.ChannelEmail, nil, r)
}

// renewRefusal is why customer c's request to renew a link now in state
// may not be met, nil when it may.
func (s *Service) renewRefusal(ctx context.Context, tx *store.Tx, org *store.Org, c *store.Customer, state LinkState) (*Refusal, error) {
	if state == LinkRevoked {
		return refuseCustomer(ReasonWithdrawn, c, "had this invite withdrawn, so only staff can send a new one"), nil
	}
	if rf := canBeInvited(org, c); rf != nil {
		return rf, nil
	}
	if !Renewable(state) {
		// Made live again since the page was shown (staff sent one).
		return refuseCustomer(ReasonHasLink, c, "has a link that works, so no new one was needed"), nil
	}
	since := s.DB.Now().Add(-RenewWindow)
	perCustomer, err := tx.RecentRenewals(ctx, c.ID, "", since)
	if err != nil {
		return nil, err
	}
	perMailbox, err := tx.RecentRenewals(ctx, 0, c.Email, since)
	if err != nil {
		return nil, err
	}
	if perCustomer >= RenewalsPerCustomer || perMailbox >= RenewalsPerMailbox {
		// No counts: the mailbox's may include other organizations'
		// links, which are not this organization's business.
		return refuseCustomer(ReasonRateLimited, c, "has asked for as many new links as allowed in the last hour"), nil
	}
	return nil, nil
}

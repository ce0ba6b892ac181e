package claim

import (
	"context"
	"errors"
	"fmt"
	"time"

	"frontdesk/store"
)

// LinkState is what a token from a link turns out to be. Each has its own page
// on the web, saying what to do.
type LinkState string

const (
	LinkValid        LinkState = "valid"
	LinkUnknown      LinkState = "unknown"       // never issued, mistyped or mangled
	LinkExpired      LinkState = "expired"       // ask the organization for a new invite
	LinkSuperseded   LinkState = "superseded"    // a newer invite was sent; use the latest email
	LinkEmailChanged LinkState = "email_changed" // sent to an address the customer no longer has
	LinkUsed         LinkState = "used"          // already used: sign in, or reset the password
	LinkClaimed      LinkState = "claimed"       // the account was claimed through another link
	LinkWithdrawn    LinkState = "withdrawn"     // staff withdrew the invite: ask the organization
	LinkRevoked      LinkState = "revoked"       // withdrawn for another reason (archived)
)

// Link is a looked-up token: its state, and for any known token, the invite,
// the customer and the organization (the pages name them).
type Link struct {
	State    LinkState
	Invite   *store.Invite
	Customer *store.Customer
	Org      *store.Org
}

// LinkError is a token that cannot be used, with its state.
type LinkError struct{ State LinkState }

func (e *LinkError) Error() string {
	switch e.State {
	case LinkExpired:
		return "This link has expired."
	case LinkSuperseded:
		return "A newer invite was sent; use the link in the most recent email."
	case LinkEmailChanged:
		return "This link was sent to an email address that is no longer on file."
	case LinkUsed:
		return "This link has already been used."
	case LinkClaimed:
		return "This account has already been claimed."
	case LinkWithdrawn, LinkRevoked:
		return "This link was withdrawn."
	}
	return "This link is not valid."
}

// Lookup reads the token's state without using it: opening a link (mail
// scanners and previews do) changes nothing.
func (s *Service) Lookup(ctx context.Context, purpose store.Purpose, token string) (*Link, error) {
	return s.lookup(ctx, s.DB, purpose, token)
}

// lookup reads the link in one query (the claim page runs it on every view,
// Redeem again under the write lock). The customer comes without custom
// fields: nothing here needs them.
func (s *Service) lookup(ctx context.Context, q reader, purpose store.Purpose, token string) (*Link, error) {
	hash, ok := TokenHash(token)
	if !ok {
		return &Link{State: LinkUnknown}, nil
	}
	inv, org, c, err := q.LinkByTokenHash(ctx, hash)
	if store.ErrorCode(err) == store.ENOTFOUND {
		return &Link{State: LinkUnknown}, nil
	} else if err != nil {
		return nil, err
	}
	if inv.Purpose != purpose {
		// A reset token pasted into a claim URL is not a claim link.
		return &Link{State: LinkUnknown}, nil
	}
	return &Link{State: linkState(inv, c, s.DB.Now()), Invite: inv, Customer: c, Org: org}, nil
}

// linkState is what the customer's page says of a link: the store's
// invite state (decided once, for staff and customers alike), in the
// customer's terms.
func linkState(inv *store.Invite, c *store.Customer, now time.Time) LinkState {
	state, why := inv.State(c, now)
	if inv.Purpose == store.PurposeClaim && c != nil && !c.ClaimedAt.IsZero() && state != store.InviteUsed {
		// Whatever became of this link (expired, replaced by the one the
		// customer used), the account is set up: the page leads to
		// sign-in and "forgot password", not to asking for a new link.
		return LinkClaimed
	}
	switch state {
	case store.InviteLive:
		return LinkValid
	case store.InviteUsed:
		return LinkUsed
	case store.InviteExpired:
		return LinkExpired
	case store.InviteOldEmail:
		return LinkEmailChanged
	case store.InviteRevoked:
		switch why {
		case store.RevokeSuperseded:
			return LinkSuperseded
		case store.RevokeEmailChanged:
			return LinkEmailChanged
		case store.RevokeClaimed:
			return LinkClaimed
		case store.RevokeWithdrawn:
			return LinkWithdrawn
		}
	}
	// Withdrawn for another reason, or never delivered (nobody should hold
	// it; if someone does, it is not theirs to use).
	return LinkRevoked
}

// Redeem uses token to set the customer's password: the first one for a
// claim, a new one for a reset. The password is checked and hashed before the
// transaction (hashing is slow and must not hold the write lock); inside it,
// the token must still be unused, unexpired and current and, for a claim, the
// customer unclaimed. Of any number of concurrent redemptions of one token,
// exactly one succeeds; the rest get LinkUsed.
func (s *Service) Redeem(ctx context.Context, purpose store.Purpose, token, password string) (*store.Customer, error) {
	find := func(q reader) (*Link, error) { return s.lookup(ctx, q, purpose, token) }
	l, err := find(s.DB)
	if err != nil {
		return nil, err
	}
	return s.redeem(ctx, purpose, l, find, password, "the invite", nil)
}

// redeem sets the password through link l, found by find: l as read before
// the transaction, find to read it again under the write lock. how names
// what was used, for the audit ("the invite", "the one-time code of the
// invite"); also, if set, runs inside the transaction once the password is
// set.
func (s *Service) redeem(ctx context.Context, purpose store.Purpose, l *Link, find func(q reader) (*Link, error), password, how string, also func(tx *store.Tx) error) (*store.Customer, error) {
	if l.State != LinkValid {
		return nil, &LinkError{l.State}
	}
	if err := CheckPassword(password, l.Org.MinPasswordLength, passwordContext(l.Org, l.Customer)...); err != nil {
		return nil, err
	}
	hash, err := HashPassword(ctx, password)
	if err != nil {
		return nil, err
	}
	var c *store.Customer
	err = s.DB.Tx(ctx, func(tx *store.Tx) error {
		// Everything again, now under the write lock.
		l, err := find(tx)
		if err != nil {
			return err
		}
		if l.State != LinkValid {
			return &LinkError{l.State}
		}
		used, err := tx.UseInvite(ctx, l.Invite.ID)
		if err != nil {
			return err
		}
		if !used {
			return &LinkError{LinkUsed}
		}
		actor := store.CustomerActor(l.Customer)
		switch purpose {
		case store.PurposeClaim:
			ok, err := tx.ClaimAccount(ctx, l.Org.ID, l.Customer.ID, hash)
			if err != nil {
				return err
			}
			if !ok {
				return &LinkError{LinkClaimed}
			}
			if _, err := tx.RevokeInvites(ctx, l.Customer.ID, store.PurposeClaim, store.RevokeClaimed); err != nil {
				return err
			}
			if err := tx.Audit(ctx, l.Org.ID, actor, "account.claim", l.Customer.ID, fmt.Sprintf("claimed with %s sent to %s", how, l.Invite.Email)); err != nil {
				return err
			}
		case store.PurposeReset:
			if err := tx.SetPassword(ctx, l.Org.ID, l.Customer.ID, hash); err != nil {
				return err
			}
			// The customer proved they hold the mailbox and chose a new
			// password: whatever was guessing the old one starts from
			// nothing, and the customer's own addresses are not paused.
			if err := tx.ClearSignInFailures(ctx, l.Customer.Email); err != nil {
				return err
			}
			if _, err := tx.RevokeInvites(ctx, l.Customer.ID, store.PurposeReset, store.RevokePasswordChanged); err != nil {
				return err
			}
			if err := tx.Audit(ctx, l.Org.ID, actor, "account.password_reset", l.Customer.ID, "password reset by emailed link"); err != nil {
				return err
			}
		default:
			return errors.New("claim: unknown purpose " + string(purpose))
		}
		if also != nil {
			if err := also(tx); err != nil {
				return err
			}
		}
		c, err = tx.Customer(ctx, l.Org.ID, l.Customer.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.metrics().Redeemed(purpose)
	return c, nil
}

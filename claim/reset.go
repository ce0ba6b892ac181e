package claim

import (
	"context"
	"fmt"
	"time"

	"frontdesk/mailer"
	"frontdesk/store"
)

// Password-reset links are short-lived and rationed. They are sent only on
// the customer's own request, so an attacker who can type an email address
// must neither learn whether it has an account (RequestReset answers the same
// either way) nor use frontdesk to flood a mailbox (the limits below, kept in
// the database so they hold across restarts and across the two processes
// that may share one file).
const (
	// ResetTTL is how long a reset link works: long enough to switch to the
	// mail app, short enough that an old email in a mailbox is harmless.
	ResetTTL = time.Hour
	// ResetWindow is the period the two limits count over.
	ResetWindow = time.Hour
	// ResetsPerAccount is how many reset emails one account gets per window.
	ResetsPerAccount = 3
	// ResetsPerMailbox is how many reset emails one address gets per window,
	// whatever the organizations (an address may have an account in several).
	ResetsPerMailbox = 5
	// maxAccountsPerEmail bounds the work one request (reset or sign-in
	// without an organization) can cause.
	maxAccountsPerEmail = 5
)

// ResetRequest is a "forgot password" form.
type ResetRequest struct {
	// OrgSlug names the organization when the page knew it (the sign-in
	// page carries it from the claim and reset pages). "" means every
	// organization where the email has a claimed account.
	OrgSlug string
	Email   string
	// Addr is the client's address, recorded in the audit detail.
	Addr string
}

// ResetResult says what RequestReset did. Callers showing a page to the
// requester must not let it change the answer (that would tell whether the
// address has an account); it is for logs, tests and waking the outbox.
type ResetResult struct {
	OutboxIDs []int64 // reset emails queued
	Throttled int     // accounts skipped because a limit was reached
}

// RequestReset sends a password-reset link to each claimed account with the
// email (in OrgSlug's organization when given): one transaction per request
// in which earlier unused reset links are revoked, the new invite (purpose
// reset, ResetTTL), its email in the outbox and the audit row are written,
// as Invite does for claims. Unknown addresses, unknown organizations,
// unclaimed and archived accounts get nothing and no error. The only errors
// are an email that is not an address at all (EINVALID, worded for the form)
// and internal ones.
func (s *Service) RequestReset(ctx context.Context, req ResetRequest) (*ResetResult, error) {
	email := store.NormalizeEmail(req.Email)
	if email == "" {
		return nil, store.Errorf(store.EINVALID, "Enter the email address your account uses.")
	}
	if err := store.ValidateEmail(email); err != nil {
		return nil, store.Errorf(store.EINVALID, "Enter a valid email address (%s).", store.ErrorMessage(err))
	}
	res := &ResetResult{}
	orgID, ok, err := s.orgFromSlug(ctx, s.DB, req.OrgSlug)
	if err != nil || !ok {
		return res, err
	}
	// A read first, so an unknown address costs no write lock.
	cands, err := s.DB.SignInCandidates(ctx, orgID, email, maxAccountsPerEmail)
	if err != nil || len(cands) == 0 {
		return res, err
	}
	err = s.DB.Tx(ctx, func(tx *store.Tx) error {
		res = &ResetResult{}
		cands, err := tx.SignInCandidates(ctx, orgID, email, maxAccountsPerEmail)
		if err != nil {
			return err
		}
		for _, c := range cands {
			org, err := tx.Org(ctx, c.OrgID)
			if err != nil {
				return err
			}
			perAccount, perMailbox, ok, err := s.resetQuota(ctx, tx, c)
			if err != nil {
				return err
			}
			if !ok {
				res.Throttled++
				detail := fmt.Sprintf("reset link not sent: %d sent to this account and %d to %s in the last hour (from %s)", perAccount, perMailbox, c.Email, req.Addr)
				if err := tx.Audit(ctx, org.ID, store.CustomerActor(c), "account.reset_throttled", c.ID, detail); err != nil {
					return err
				}
				continue
			}
			sent, err := s.issueReset(ctx, tx, org, c, nil, req.Addr)
			if err != nil {
				return err
			}
			res.OutboxIDs = append(res.OutboxIDs, sent.OutboxID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if n := len(res.OutboxIDs); n > 0 {
		s.metrics().Issued(IssuedReset, n)
	}
	if res.Throttled > 0 {
		s.metrics().Throttled(ThrottledReset)
	}
	return res, nil
}

// resetQuota counts the reset links c and c's mailbox got in the last
// ResetWindow; ok says another one is within both limits.
func (s *Service) resetQuota(ctx context.Context, q reader, c *store.Customer) (perAccount, perMailbox int, ok bool, err error) {
	since := s.DB.Now().Add(-ResetWindow)
	if perMailbox, err = q.RecentResets(ctx, 0, c.Email, since); err != nil {
		return 0, 0, false, err
	}
	if perAccount, err = q.RecentResets(ctx, c.ID, "", since); err != nil {
		return 0, 0, false, err
	}
	return perAccount, perMailbox, perAccount < ResetsPerAccount && perMailbox < ResetsPerMailbox, nil
}

// ResetExpiry is when a reset link sent now would expire: what the
// confirmation shows before anything is sent.
func (s *Service) ResetExpiry() time.Time {
	return s.DB.Now().Truncate(time.Second).Add(ResetTTL)
}

// CheckReset is CanReset for a customer id with the limits on reset
// emails, reading fresh data: what the profile's r asks before it opens the
// confirmation.
func (s *Service) CheckReset(ctx context.Context, actor *store.Staff, customerID int64) (*store.Customer, error) {
	_, _, c, err := s.loadReset(ctx, s.DB, actor, customerID)
	return c, err
}

// loadReset authorizes actor, loads the customer and applies CanReset and
// the limits, through q.
func (s *Service) loadReset(ctx context.Context, q reader, actor *store.Staff, customerID int64) (*store.Staff, *store.Org, *store.Customer, error) {
	actor, org, c, err := s.load(ctx, q, actor, customerID, "send a password-reset link")
	if err != nil {
		return nil, nil, nil, err
	}
	if r := CanReset(actor, org, c); r != nil {
		return nil, nil, c, r
	}
	_, _, ok, err := s.resetQuota(ctx, q, c)
	if err != nil {
		return nil, nil, nil, err
	}
	if !ok {
		// No counts in the sentence: the per-mailbox count includes other
		// organizations' reset emails, which are not this desk's business.
		return nil, nil, c, refuseCustomer(ReasonRateLimited, c, "has had as many password-reset emails as allowed in the last hour")
	}
	return actor, org, c, nil
}

// issueReset writes one reset link, its email and its audit row inside tx:
// asked for by the customer from addr when by is nil, sent by staff
// member by otherwise.
func (s *Service) issueReset(ctx context.Context, tx *store.Tx, org *store.Org, c *store.Customer, by *store.Staff, addr string) (*Sent, error) {
	inv := &store.Invite{OrgID: org.ID, CustomerID: c.ID, Purpose: store.PurposeReset, Email: c.Email}
	actor, action, why := store.CustomerActor(c), "account.reset_request", "requested from "+addr
	if by != nil {
		inv.CreatedBy, inv.CreatedByName = by.ID, by.Name
		actor, action, why = store.StaffActor(by), "account.reset_send", "sent by staff"
	}
	token, outboxID, revoked, err := s.issue(ctx, tx, org, inv, ResetTTL, store.MessageReset, s.ResetURL,
		func(link string, expires time.Time) (string, string, string, error) {
			return mailer.ComposeReset(mailer.ResetData{
				OrgName: org.Name, CustomerName: c.FirstName, Link: link, Expires: expires, Location: org.Location(), ByStaff: by != nil,
				Brand: s.brand(org),
			})
		})
	if err != nil {
		return nil, err
	}
	detail := fmt.Sprintf("reset link sent to %s, expires %s (%s)", c.Email, inv.ExpiresAt.UTC().Format(time.RFC3339), why)
	if revoked > 0 {
		detail += fmt.Sprintf("; %d earlier reset link(s) revoked", revoked)
	}
	if err := tx.Audit(ctx, org.ID, actor, action, c.ID, detail); err != nil {
		return nil, err
	}
	return &Sent{Invite: inv, Customer: c, OutboxID: outboxID, Superseded: revoked, token: token}, nil
}

// orgFromSlug resolves an optional organization slug: (0, true) for none,
// (id, true) for a known one, (0, false) for an unknown one, which callers
// treat like an unknown email.
func (s *Service) orgFromSlug(ctx context.Context, q reader, slug string) (int64, bool, error) {
	if slug == "" {
		return 0, true, nil
	}
	org, err := q.OrgBySlug(ctx, slug)
	if store.ErrorCode(err) == store.ENOTFOUND {
		return 0, false, nil
	} else if err != nil {
		return 0, false, err
	}
	return org.ID, true, nil
}

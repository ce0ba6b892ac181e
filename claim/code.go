package claim

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"time"
	"unicode/utf8"

	"frontdesk/claim/ratelimit"
	"frontdesk/store"
)

// One-time codes. An invite email carries, beside its link, a short code the
// claim page accepts together with the email address, for customers whose
// mail app opens links in a way that breaks them (a scanner that fetches the
// link, a preview that cuts it). The code is the link's second spelling and
// follows its rules: it belongs to the invite row, so it works once (used
// when the password is set), expires with the link, dies with it when a
// resend supersedes it or the email changes, and is stored only as a keyed
// MAC (store/code.go).
//
// Why email and code rather than the code alone: a code alone would be
// guessed against every live code of every organization at once; with the
// address, a guess is against that address's code only, and the throttle
// below caps the guesses per address, wherever they come from. 8 characters
// of a 32-letter alphabet are 40 bits: at the ceiling of CodeCeiling wrong
// codes an hour for one address, a week-long invite can be guessed with a
// chance of about 3 in a billion.

// codeAlphabet is Crockford's base32: digits and capitals without I, L, O
// and U, so what is read off an email is typed back without doubt.
const codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// CodeLen is the length of a one-time code without its hyphen.
const CodeLen = 8

// newCode draws a one-time code from crypto/rand: 8 characters, 5 bits each
// (32 divides 256, so masking a byte draws without bias).
func newCode() string {
	b := make([]byte, CodeLen)
	rand.Read(b)
	for i := range b {
		b[i] = codeAlphabet[b[i]&31]
	}
	return string(b)
}

// FormatCode groups a code as the email shows it: "K7F2-9QXM".
func FormatCode(code string) string {
	if len(code) != CodeLen {
		return code
	}
	return code[:4] + "-" + code[4:]
}

// ParseCode reads a code as a person types it: any case, with or without
// the hyphen or spaces, O for 0 and I or L for 1 (Crockford's reading). ok
// is false for anything that cannot be a code.
func ParseCode(s string) (code string, ok bool) {
	if len(s) > 4*CodeLen {
		return "", false
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch r {
		case ' ', '-', '\t':
			continue
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		if r >= utf8.RuneSelf || !strings.ContainsRune(codeAlphabet, r) {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != CodeLen {
		return "", false
	}
	return b.String(), true
}

// The codes' throttle. Wrong codes are counted per (email typed, client
// address) in the database (store.CodeFailures), like wrong passwords: one
// address waits longer after each wrong code past FreeSignInFailures, and
// once CodeCeiling wrong codes for one address have come within an hour,
// from wherever, codes for it are refused everywhere until they age out.
// Unlike the sign-in's ceiling this one counts codes, not addresses: a
// customer needs a code once, the link and a new invite still work when
// codes are paused, and so a botnet is held to CodeCeiling guesses an hour.
const CodeCeiling = 20

// CodeThrottled is the answer to a code refused before it was compared,
// worded for the page (the same whether or not the email has an invite).
type CodeThrottled struct {
	Wait       time.Duration
	Everywhere bool // the address's ceiling, not this client's back-off
}

func (e *CodeThrottled) Error() string {
	if e.Everywhere {
		return fmt.Sprintf("Too many wrong codes have been typed for this email address, so codes for it are paused. Open the link in your invite email instead, or try again in %s.", waitWords(e.Wait))
	}
	return fmt.Sprintf("Too many wrong codes have been typed for this email address from your connection. Wait %s and try again, or open the link in your invite email.", waitWords(e.Wait))
}

// CodeEntry is a one-time code typed on the claim page.
type CodeEntry struct {
	Email string
	Code  string // as typed; ParseCode reads it
	Addr  string // client address: the throttle's key (ratelimit.Key) and the audit detail
}

// LookupCode reads what a one-time code typed with an email opens, as Lookup
// does for a link's token: LinkUnknown for a code that matches no invite
// sent to that address (counted by the throttle, and audited on the
// customers who have a live code at that address), a *CodeThrottled error
// when this client or this address has had too many wrong codes, and
// otherwise the link's state (a used, expired or superseded code gets the
// same page as its link). A right code changes nothing.
func (s *Service) LookupCode(ctx context.Context, e CodeEntry) (*Link, error) {
	email, code, client, ok := readEntry(e)
	if !ok {
		return &Link{State: LinkUnknown}, nil
	}
	if err := s.checkCodeThrottle(ctx, email, client); err != nil {
		return nil, err
	}
	l, err := s.lookupCode(ctx, s.DB, email, code)
	if err != nil || l.State != LinkUnknown {
		return l, err
	}
	return l, s.recordCodeFailure(ctx, email, client, e.Addr)
}

// RedeemCode sets the first password through a one-time code, as Redeem
// does through a link: the code is looked up (and throttled) as LookupCode
// does, and checked again under the write lock. Of any number of concurrent
// redemptions of one code, exactly one succeeds.
func (s *Service) RedeemCode(ctx context.Context, e CodeEntry, password string) (*store.Customer, error) {
	l, find, also, err := s.codeRedemption(ctx, e)
	if err != nil {
		return nil, err
	}
	return s.redeem(ctx, store.PurposeClaim, l, find, password, codeHow, also)
}

// codeHow names a code's redemption in the audit row.
const codeHow = "the one-time code of the invite"

// codeRedemption is what redeeming a code needs: the link it opens (looked
// up and throttled as LookupCode does), how to find it again under the
// write lock, and what else the redemption's transaction does (forget this
// client's wrong codes for the address).
func (s *Service) codeRedemption(ctx context.Context, e CodeEntry) (*Link, func(q reader) (*Link, error), func(tx *store.Tx) error, error) {
	l, err := s.LookupCode(ctx, e)
	if err != nil {
		return nil, nil, nil, err
	}
	email, code, client, _ := readEntry(e)
	find := func(q reader) (*Link, error) { return s.lookupCode(ctx, q, email, code) }
	also := func(tx *store.Tx) error { return tx.ClearCodeFailuresFrom(ctx, email, client) }
	return l, find, also, nil
}

// readEntry normalizes a typed code; ok is false for what cannot be one
// (nothing is counted then: no code was compared).
func readEntry(e CodeEntry) (email, code, client string, ok bool) {
	email = store.NormalizeEmail(e.Email)
	code, ok = ParseCode(e.Code)
	if email == "" || len(email) > 254 || !utf8.ValidString(email) {
		ok = false
	}
	return email, code, ratelimit.Key(e.Addr), ok
}

func (s *Service) lookupCode(ctx context.Context, q reader, email, code string) (*Link, error) {
	inv, org, c, err := q.LinkByCode(ctx, email, code)
	if store.ErrorCode(err) == store.ENOTFOUND {
		return &Link{State: LinkUnknown}, nil
	} else if err != nil {
		return nil, err
	}
	return &Link{State: linkState(inv, c, s.DB.Now()), Invite: inv, Customer: c, Org: org}, nil
}

// checkCodeThrottle returns a *CodeThrottled when codes for email may not be
// tried from client now. It only reads.
func (s *Service) checkCodeThrottle(ctx context.Context, email, client string) error {
	now := s.DB.Now()
	f, err := s.DB.CodeFailures(ctx, email, client, now.Add(-signInCeilingWindow))
	if err != nil {
		return err
	}
	if f.Total >= CodeCeiling {
		s.metrics().Throttled(ThrottledCode)
		return &CodeThrottled{Wait: signInCeilingWindow, Everywhere: true}
	}
	if wait := backOff(f, now); wait > 0 {
		s.metrics().Throttled(ThrottledCode)
		return &CodeThrottled{Wait: wait}
	}
	return nil
}

// recordCodeFailure counts a wrong code and audits it on the customers who
// hold a live code at that address (someone may be guessing theirs). An
// address without one leaves the count as the only record: there is no
// organization to file it under.
func (s *Service) recordCodeFailure(ctx context.Context, email, client, addr string) error {
	return s.DB.Tx(ctx, func(tx *store.Tx) error {
		forget := s.DB.Now().Add(-signInForget)
		if err := tx.RecordCodeFailure(ctx, email, client, forget); err != nil {
			return err
		}
		if mrand.N(256) == 0 {
			if _, err := tx.DeleteStaleCodeFailures(ctx, forget); err != nil {
				return err
			}
		}
		holders, err := tx.LiveCodeHolders(ctx, email)
		if err != nil {
			return err
		}
		for _, h := range holders {
			err := tx.Audit(ctx, h.OrgID, store.SystemActor("web"), "invite.code_failed", h.CustomerID,
				fmt.Sprintf("a wrong one-time code was typed with %s (from %s)", email, addr))
			if err != nil {
				return err
			}
		}
		return nil
	})
}

package claim

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"frontdesk/claim/ratelimit"
	"frontdesk/store"
)

// Which organization a sign-in is for.
//
// One database holds several organizations and a customer's email is unique
// only within one, so "jane@example.com" may have an account at the yoga
// studio and at the clinic. The pages carry the organization's slug when
// they know it: the claim success page, the reset pages and the sign-out
// redirect link to /login?org=<slug>, and the sign-in and forgot-password
// forms send it back in a hidden field. With a slug, only that
// organization's account is tried. Without one (a bookmarked /login), every
// claimed account with that email is tried, at most maxAccountsPerEmail of
// them, oldest first, and the first whose password matches signs in; a
// customer who reuses one password across two organizations gets the older
// account, and the other is one link away. An unknown email still costs one
// argon2id verification (against dummyHash), so the answer's timing does
// not say whether the address has an account.

// ErrSignIn is the one answer to every failed sign-in: it never says whether
// the email or the password was wrong (that would tell who has an account).
var ErrSignIn = store.Errorf(store.EUNAUTHORIZED, "That email and password don't match an account. Check both, or reset your password.")

// SignInRequest is the sign-in form.
type SignInRequest struct {
	OrgSlug  string // "" when the page did not know the organization
	Email    string
	Password string
	Addr     string // client address: the throttle's key (ratelimit.Key) and the audit detail
}

// SignedIn is a successful sign-in: Token goes into the session cookie and
// is not kept anywhere else.
type SignedIn struct {
	Token    string
	Session  *store.Session
	Customer *store.Customer
	Org      *store.Org
}

// dummyHash is verified against when no account matches, so that a miss
// costs what a hit costs. Computed once, on the first miss.
var dummyHash = sync.OnceValue(func() string {
	b := make([]byte, 24)
	rand.Read(b)
	h, err := HashPassword(context.Background(), string(b))
	if err != nil {
		return ""
	}
	return h
})

// SignIn checks an email and password and, when they match a claimed
// account, starts a new session (a fresh id: the browser's previous
// session, if any, is for the caller to end, which rotates the id at every
// sign-in). An email that the throttle (see FreeSignInFailures) has paused
// for this client is refused with a *SignInThrottled before the password is
// looked at. Every failure is counted by the throttle, audited on the
// accounts it concerned and answered with ErrSignIn; a success clears this
// client's count for the email.
func (s *Service) SignIn(ctx context.Context, req SignInRequest, life SessionLifetime) (*SignedIn, error) {
	life = life.withDefaults()
	email := store.NormalizeEmail(req.Email)
	if email == "" || req.Password == "" || len(email) > 254 || !utf8.ValidString(email) {
		return nil, ErrSignIn
	}
	if len(req.Password) > 4*MaxPassword {
		// Longer than any password we accept; hashing it would only cost us.
		return nil, ErrSignIn
	}
	client := ratelimit.Key(req.Addr)
	if err := s.checkSignInThrottle(ctx, email, client); err != nil {
		return nil, err
	}
	orgID, known, err := s.orgFromSlug(ctx, s.DB, req.OrgSlug)
	if err != nil {
		return nil, err
	}
	var cands []*store.Customer
	if known {
		if cands, err = s.DB.SignInCandidates(ctx, orgID, email, maxAccountsPerEmail); err != nil {
			return nil, err
		}
	}
	if len(cands) == 0 {
		if _, err := VerifyPassword(ctx, dummyHash(), req.Password); err != nil {
			return nil, err
		}
		err := s.DB.Tx(ctx, func(tx *store.Tx) error {
			if err := s.recordSignInFailure(ctx, tx, email, client); err != nil {
				return err
			}
			if orgID == 0 {
				return nil // no organization to file it under; the count is the record
			}
			return tx.Audit(ctx, orgID, store.Actor{Kind: "system", Name: "web"}, "account.signin_failed", 0,
				fmt.Sprintf("sign-in failed: no claimed account for %q (from %s)", email, req.Addr))
		})
		if err != nil {
			return nil, err
		}
		s.metrics().SignInFailed()
		return nil, ErrSignIn
	}
	var match *store.Customer
	for _, c := range cands {
		ok, err := VerifyPassword(ctx, c.PasswordHash, req.Password)
		if err != nil {
			return nil, err
		}
		if ok {
			match = c
			break
		}
	}
	if match == nil {
		err := s.DB.Tx(ctx, func(tx *store.Tx) error {
			if err := s.recordSignInFailure(ctx, tx, email, client); err != nil {
				return err
			}
			for _, c := range cands {
				actor := store.CustomerActor(c)
				if err := tx.Audit(ctx, c.OrgID, actor, "account.signin_failed", c.ID, "sign-in failed: wrong password (from "+req.Addr+")"); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		s.metrics().SignInFailed()
		return nil, ErrSignIn
	}
	// A hash from older argon2id parameters is replaced now, while the
	// password is at hand; hashing is slow, so it happens before the
	// transaction, and the write only lands over the hash just verified.
	rehash := ""
	if needsRehash(match.PasswordHash) {
		if rehash, err = HashPassword(ctx, req.Password); err != nil {
			return nil, err
		}
	}
	token, hash := newToken()
	out := &SignedIn{Token: token, Customer: match}
	err = s.DB.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if out.Org, err = tx.Org(ctx, match.OrgID); err != nil {
			return err
		}
		// Only while the hash just verified is still the stored one: a
		// reset or an archive that committed during the verification wins.
		if out.Session, err = tx.CreateSession(ctx, hash, match.OrgID, match.ID, match.PasswordHash, s.DB.Now().Add(life.Absolute)); err != nil {
			return err
		}
		if err := tx.ClearSignInFailuresFrom(ctx, email, client); err != nil {
			return err
		}
		actor := store.CustomerActor(match)
		if rehash != "" {
			// The same password, so the customer's sessions stay (see
			// store.RehashPassword).
			ok, err := tx.RehashPassword(ctx, match.OrgID, match.ID, match.PasswordHash, rehash)
			if err != nil {
				return err
			}
			if ok {
				detail := fmt.Sprintf("password hash upgraded to argon2id m=%d,t=%d,p=%d at sign-in", argonMemory, argonTime, argonThreads)
				if err := tx.Audit(ctx, match.OrgID, actor, "account.password_rehash", match.ID, detail); err != nil {
					return err
				}
			}
		}
		return tx.Audit(ctx, match.OrgID, actor, "account.signin", match.ID, "signed in (from "+req.Addr+")")
	})
	if store.ErrorCode(err) == store.ENOTFOUND {
		return nil, ErrSignIn
	} else if err != nil {
		return nil, err
	}
	return out, nil
}

// IsSignInFailure reports whether err is the generic sign-in refusal (as
// opposed to an internal error, which deserves a 500 and a log line).
func IsSignInFailure(err error) bool { return errors.Is(err, ErrSignIn) }

// sessionTouchEvery is how stale last_seen_at may get before a request
// writes it again: one write per minute per active session rather than one
// per page view; the idle expiry is accurate to within it.
const sessionTouchEvery = time.Minute

package claim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"frontdesk/store"
)

// The sign-in throttle. Failures are counted per (email typed, client
// address) in the database (store.SignInFailures), so every server process
// on one database sees the same counts. An address that keeps failing for an
// email waits longer after each failure; an address that has not failed is
// not slowed by others' failures, so someone typing a customer's email from
// elsewhere cannot lock the customer out. Only many addresses together (a
// botnet) close the email for everyone, and the customer can still reset
// the password, which clears every count. Emails without an account are
// counted the same way: the throttle tells nobody who has one.
const (
	// FreeSignInFailures is how many failures in a row one address may make
	// for one email before it has to wait: room for typos and for a password
	// manager filling in an old password, too few to guess with.
	FreeSignInFailures = 5
	// signInPauseFirst is the wait after the FreeSignInFailures-th failure;
	// each further failure doubles it, up to signInPauseMax. From one
	// address that is 5 guesses, 6 more over the next hour, then one an
	// hour: about 35 a day for one email, against passwords that must
	// withstand 10^8 guesses (CheckPassword). A person who has forgotten the
	// password meets a one- or two-minute pause and the reset link long
	// before the pauses grow long.
	signInPauseFirst = time.Minute
	signInPauseMax   = time.Hour
	// signInForget is how long a count lasts after its latest failure: a
	// customer who mistyped yesterday gets the free tries back. Counts older
	// than this are deleted now and then (see recordSignInFailure).
	signInForget = 24 * time.Hour
	// SignInCeiling is how many addresses may fail for one email within
	// signInCeilingWindow before sign-in for that email pauses for every
	// address. A person signs in from a handful of networks (home, work, a
	// phone whose carrier changes its address); twenty failing within an
	// hour is many machines, each staying under its own back-off. It is a
	// count of addresses, not of failures, so no single address can reach
	// it however long it keeps trying. At the ceiling a botnet gets about
	// one round of guesses per address per hour; the customer is paused too,
	// but a completed password reset reopens the email at once.
	SignInCeiling       = 20
	signInCeilingWindow = time.Hour
)

// SignInThrottled is the answer to a sign-in attempt refused before its
// password was checked, worded for the page (the same whether or not the
// email has an account).
type SignInThrottled struct {
	Wait       time.Duration // until an attempt may be made again, in whole seconds
	Everywhere bool          // the email's ceiling (many addresses), not this address's back-off
}

func (e *SignInThrottled) Error() string {
	if e.Everywhere {
		return fmt.Sprintf("There have been too many failed sign-in attempts for this email address from many places, so signing in with it is paused. Try again in %s, or reset your password to sign in now.", waitWords(e.Wait))
	}
	return fmt.Sprintf("There have been too many failed sign-in attempts for this email address from your connection. Wait %s and try again, or reset your password.", waitWords(e.Wait))
}

func waitWords(d time.Duration) string {
	switch m := int((d + time.Minute - 1) / time.Minute); {
	case m <= 1:
		return "a minute"
	case m >= 60:
		return "an hour"
	default:
		return fmt.Sprintf("%d minutes", m)
	}
}

// signInPause is how long an address waits after its n-th failure in a row.
func signInPause(n int) time.Duration {
	if n < FreeSignInFailures {
		return 0
	}
	if shift := n - FreeSignInFailures; shift < 7 { // 2^6 minutes already passes the cap
		return min(signInPauseFirst<<shift, signInPauseMax)
	}
	return signInPauseMax
}

// checkSignInThrottle returns a *SignInThrottled when email may not be tried
// from client now. It only reads.
func (s *Service) checkSignInThrottle(ctx context.Context, email, client string) error {
	now := s.DB.Now()
	f, err := s.DB.SignInFailures(ctx, email, client, now.Add(-signInCeilingWindow))
	if err != nil {
		return err
	}
	if f.Clients >= SignInCeiling {
		// Reopens within the window as the failures age out of it; the
		// hour is the honest upper bound.
		s.metrics().Throttled(ThrottledSignIn)
		return &SignInThrottled{Wait: signInCeilingWindow, Everywhere: true}
	}
	if wait := backOff(f, now); wait > 0 {
		s.metrics().Throttled(ThrottledSignIn)
		return &SignInThrottled{Wait: wait}
	}
	return nil
}

// backOff is how long the client of f still waits after its failures in a
// row, in whole seconds; 0 when it may try now.
func backOff(f store.Failures, now time.Time) time.Duration {
	if f.Failures == 0 || now.Sub(f.LastAt) >= signInForget {
		return 0
	}
	if wait := f.LastAt.Add(signInPause(f.Failures)).Sub(now); wait > 0 {
		return (wait + time.Second - 1).Truncate(time.Second)
	}
	return 0
}

// recordSignInFailure counts a failure inside tx: one upsert. About one
// failure in 256 also deletes counts that have gone quiet, so the table
// holds recent failures only, without a background job.
func (s *Service) recordSignInFailure(ctx context.Context, tx *store.Tx, email, client string) error {
	forget := s.DB.Now().Add(-signInForget)
	if err := tx.RecordSignInFailure(ctx, email, client, forget); err != nil {
		return err
	}
	if rand.N(256) == 0 {
		_, err := tx.DeleteStaleSignInFailures(ctx, forget)
		return err
	}
	return nil
}

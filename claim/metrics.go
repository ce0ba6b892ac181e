package claim

import "frontdesk/store"

// Metrics hears what the service did, for the operator's monitoring
// (frontdesk serve --metrics-addr): only once it is committed, so a
// rolled-back write is never counted. Calls must be quick and safe for
// concurrent use. Service.Metrics nil: nobody hears.
type Metrics interface {
	// Issued: n links of one kind (the Issued* kinds) were written.
	Issued(kind string, n int)
	// Redeemed: a link set a password: a claim (PurposeClaim) or a
	// reset (PurposeReset).
	Redeemed(purpose store.Purpose)
	// SignInFailed: a customer's sign-in was answered with ErrSignIn
	// after a password check (throttled attempts are Throttled).
	SignInFailed()
	// Throttled: an attempt was refused by one of the database throttles
	// (the Throttled* kinds), before any check was made.
	Throttled(kind string)
}

// The kinds of links Metrics.Issued counts.
const (
	IssuedInvite   = "invite"   // a claim link emailed (invite, resend)
	IssuedDesk     = "desk"     // a claim link shown at the desk
	IssuedReminder = "reminder" // a claim link in a reminder
	IssuedReset    = "reset"    // a password-reset link (by staff or asked for on the web)
)

// The throttles Metrics.Throttled names.
const (
	ThrottledSignIn = "signin_email" // sign-in attempts for one email (SignInThrottled)
	ThrottledCode   = "claim_code"   // one-time codes typed for one email (CodeThrottled)
	ThrottledReset  = "reset_email"  // reset links asked for one account or mailbox
)

// metrics is s.Metrics, or one that hears nothing.
func (s *Service) metrics() Metrics {
	if s.Metrics == nil {
		return nopMetrics{}
	}
	return s.Metrics
}

type nopMetrics struct{}

func (nopMetrics) Issued(string, int)     {}
func (nopMetrics) Redeemed(store.Purpose) {}
func (nopMetrics) SignInFailed()          {}
func (nopMetrics) Throttled(string)       {}

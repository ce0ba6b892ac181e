package web

import (
	"net"
	"net/http"
	"time"

	"frontdesk/claim/ratelimit"
)

// Limit is a token bucket (ratelimit.Limit): Burst requests at once, then
// one more every Every. The zero Limit takes the handler's default; a
// negative Burst turns the limit off (benchmarks, or a deployment limiting
// at its proxy).
type Limit = ratelimit.Limit

// Limits are the per-client limits of the customers' web, kept in this
// process's memory. Zero fields take the defaults below. Sign-in attempts
// per email are throttled by claim.Service.SignIn, in the database.
type Limits struct {
	Token  Limit // per client address: opening and using claim and reset links
	SignIn Limit // per client address: sign-in attempts, whatever the email
	Forgot Limit // per client address: "forgot password" requests
	Renew  Limit // per client address: "send me a new link" from a dead link's page
}

// The defaults let a person mistype a few times and a script get nowhere:
// guessing a 256-bit token is hopeless anyway, so the token limit is about
// load; the sign-in one is about passwords.
var defaultLimits = Limits{
	Token:  Limit{Burst: 30, Every: 6 * time.Second},
	SignIn: Limit{Burst: 10, Every: 20 * time.Second},
	Forgot: Limit{Burst: 5, Every: 2 * time.Minute},
	Renew:  Limit{Burst: 5, Every: 2 * time.Minute},
}

// remoteAddr is the client's IP as the connection shows it. Behind a
// reverse proxy every request comes from the proxy; Options.ClientAddr lets
// the wiring read a trusted forwarding header instead.
func remoteAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

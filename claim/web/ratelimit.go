package web

import (
	"net"
	"net/http"
	"sync"
	"time"

	"frontdesk/claim"
)

// Limit is a token bucket: Burst requests at once, then one more every
// Every. The zero Limit takes the handler's default; a negative Burst turns
// the limit off (benchmarks, or a deployment limiting at its proxy).
type Limit struct {
	Burst int
	Every time.Duration
}

// Limits are the per-client limits of the customers' web, kept in this
// process's memory. Zero fields take the defaults below. Sign-in attempts
// per email are throttled by claim.Service.SignIn, in the database.
type Limits struct {
	Token  Limit // per client address: opening and using claim and reset links
	SignIn Limit // per client address: sign-in attempts, whatever the email
	Forgot Limit // per client address: "forgot password" requests
}

// The defaults let a person mistype a few times and a script get nowhere:
// guessing a 256-bit token is hopeless anyway, so the token limit is about
// load; the sign-in one is about passwords.
var defaultLimits = Limits{
	Token:  Limit{Burst: 30, Every: 6 * time.Second},
	SignIn: Limit{Burst: 10, Every: 20 * time.Second},
	Forgot: Limit{Burst: 5, Every: 2 * time.Minute},
}

func (l Limit) or(def Limit) Limit {
	if l.Burst == 0 {
		return def
	}
	if l.Burst > 0 && l.Every <= 0 {
		l.Every = def.Every
	}
	return l
}

// Limiter is a set of token buckets keyed by client address or account. No
// goroutine: buckets that have refilled completely carry no information, so
// they are dropped lazily when the map grows, and a bucket is created full.
type Limiter struct {
	limit Limit
	now   func() time.Time
	max   int // keys kept before pruning

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// maxKeys bounds each limiter's memory (about 100 bytes a key) when many
// addresses show up at once.
const maxKeys = 50_000

// NewLimiter returns a Limiter of l on the wall clock. frontdesk serve's SSH
// server limits new connections per address with one too.
func NewLimiter(l Limit) *Limiter { return newLimiter(l, time.Now) }

func newLimiter(l Limit, now func() time.Time) *Limiter {
	return &Limiter{limit: l, now: now, max: maxKeys, buckets: map[string]*bucket{}}
}

// Allow takes one token from key's bucket and reports whether there was one.
func (l *Limiter) Allow(key string) bool {
	if l == nil || l.limit.Burst < 0 {
		return true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.max {
			l.prune(now)
		}
		b = &bucket{tokens: float64(l.limit.Burst), at: now}
		l.buckets[key] = b
	}
	b.refill(l.limit, now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (b *bucket) refill(l Limit, now time.Time) {
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(float64(l.Burst), b.tokens+float64(d)/float64(l.Every))
		b.at = now
	}
}

// prune drops full buckets; if every bucket is in use (a flood from many
// addresses), it drops half of them at random (map order), which forgives
// some clients early rather than letting the map grow without bound.
func (l *Limiter) prune(now time.Time) {
	for k, b := range l.buckets {
		b.refill(l.limit, now)
		if b.tokens >= float64(l.limit.Burst) {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) < l.max {
		return
	}
	n := len(l.buckets) / 2
	for k := range l.buckets {
		if n == 0 {
			break
		}
		delete(l.buckets, k)
		n--
	}
}

// ClientKey is the rate-limit key of a request's client: claim.ClientKey,
// which the sign-in throttle keys on too.
func ClientKey(addr string) string { return claim.ClientKey(addr) }

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

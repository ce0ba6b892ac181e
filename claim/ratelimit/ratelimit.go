// Package ratelimit keeps a token bucket per key — a client address, an
// address and an account — for the servers that face the network: the
// customers' web (claim/web) and the staff SSH server (tui/sshd). It lives
// apart from both so neither imports the other to share it.
//
// The buckets are golang.org/x/time/rate limiters; this package adds the
// keying (IPv6 by /64), a bound on memory, and an injectable clock so tests
// move time instead of sleeping.
package ratelimit

import (
	"net"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limit is a token bucket: Burst requests at once, then one more every
// Every. A negative Burst turns the limit off (benchmarks, or a deployment
// that limits at its proxy).
type Limit struct {
	Burst int
	Every time.Duration
}

// Or returns l, or def where l is the zero Limit; a Burst without an Every
// takes def's Every.
func (l Limit) Or(def Limit) Limit {
	if l.Burst == 0 {
		return def
	}
	if l.Burst > 0 && l.Every <= 0 {
		l.Every = def.Every
	}
	return l
}

// Off reports whether the limit lets everything through.
func (l Limit) Off() bool { return l.Burst < 0 }

// Limiter is a set of token buckets, one per key. No goroutine: a bucket
// that has refilled completely carries no information, so full buckets are
// dropped when the map reaches its bound, and a key seen for the first time
// starts with a full bucket.
type Limiter struct {
	limit Limit
	now   func() time.Time
	max   int

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// MaxKeys bounds a limiter's memory (a bucket is about 100 bytes) when many
// addresses show up at once.
const MaxKeys = 50_000

// New returns a Limiter of l on the wall clock.
func New(l Limit) *Limiter { return NewWithClock(l, time.Now) }

// NewWithClock returns a Limiter of l that reads the time from now.
func NewWithClock(l Limit, now func() time.Time) *Limiter {
	return &Limiter{limit: l, now: now, max: MaxKeys, buckets: map[string]*rate.Limiter{}}
}

// Allow takes one token from key's bucket and reports whether there was one.
func (l *Limiter) Allow(key string) bool {
	if l == nil || l.limit.Off() {
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
		b = rate.NewLimiter(rate.Every(l.limit.Every), l.limit.Burst)
		l.buckets[key] = b
	}
	return b.AllowN(now, 1)
}

// prune drops full buckets; if every bucket is in use (a flood from many
// addresses), it drops half of them in map order, which forgives some
// clients early rather than letting the map grow without bound.
func (l *Limiter) prune(now time.Time) {
	full := float64(l.limit.Burst)
	for k, b := range l.buckets {
		if b.TokensAt(now) >= full {
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

// Key is the rate-limit key of a client address: its IP, or for IPv6 its
// /64, since one subscriber usually holds a whole /64 and could otherwise
// change address at every request. Anything that is not an IP is its own key.
func Key(addr string) string {
	ip := net.ParseIP(addr)
	if ip == nil {
		return addr
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}

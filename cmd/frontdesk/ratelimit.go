package main

import (
	"sync"
	"time"
)

// addrLimiter is a token bucket per remote address: burst connections at
// once, then one per every. It has no goroutine; full buckets are dropped
// lazily so a scan from many addresses cannot grow it without bound.
type addrLimiter struct {
	burst int
	every time.Duration
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// maxBuckets bounds the map; past it, buckets that have refilled are pruned.
const maxBuckets = 10000

func newAddrLimiter(burst int, every time.Duration) *addrLimiter {
	return &addrLimiter{burst: burst, every: every, now: time.Now, buckets: map[string]*bucket{}}
}

// Allow takes a token for addr, reporting false when it has none left.
func (l *addrLimiter) Allow(addr string) bool {
	if l == nil || l.burst <= 0 {
		return true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[addr]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			l.prune(now)
		}
		b = &bucket{tokens: float64(l.burst), at: now}
		l.buckets[addr] = b
	}
	b.tokens = min(float64(l.burst), b.tokens+float64(now.Sub(b.at))/float64(l.every))
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (l *addrLimiter) prune(now time.Time) {
	full := time.Duration(l.burst) * l.every
	for k, b := range l.buckets {
		if now.Sub(b.at) >= full {
			delete(l.buckets, k)
		}
	}
}

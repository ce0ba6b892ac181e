package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestBurstThenRefill(t *testing.T) {
	c := &clock{time.Unix(1_800_000_000, 0)}
	l := NewWithClock(Limit{Burst: 3, Every: 10 * time.Second}, c.now)
	for i := range 3 {
		if !l.Allow("a") {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	if l.Allow("a") {
		t.Fatal("a fourth request at once was allowed")
	}
	if !l.Allow("b") {
		t.Fatal("another key shares the first key's bucket")
	}
	c.t = c.t.Add(9 * time.Second)
	if l.Allow("a") {
		t.Fatal("allowed before a token came back")
	}
	c.t = c.t.Add(time.Second)
	if !l.Allow("a") {
		t.Fatal("refused after a token came back")
	}
}

func TestOffAndDefaults(t *testing.T) {
	l := New(Limit{Burst: -1})
	for range 1000 {
		if !l.Allow("x") {
			t.Fatal("a limit that is off refused a request")
		}
	}
	def := Limit{Burst: 5, Every: time.Minute}
	if got := (Limit{}).Or(def); got != def {
		t.Errorf("zero limit: %+v, want the default %+v", got, def)
	}
	if got := (Limit{Burst: 2}).Or(def); got != (Limit{Burst: 2, Every: time.Minute}) {
		t.Errorf("burst only: %+v", got)
	}
}

func TestMemoryIsBounded(t *testing.T) {
	c := &clock{time.Unix(1_800_000_000, 0)}
	l := NewWithClock(Limit{Burst: 1, Every: time.Hour}, c.now)
	l.max = 100
	for i := range 1000 {
		l.Allow(fmt.Sprint("10.0.", i/256, ".", i%256))
		if n := len(l.buckets); n > l.max {
			t.Fatalf("%d buckets kept after %d keys, bound is %d", n, i+1, l.max)
		}
	}
	// Every bucket is spent, so a flood is forgiven half at a time; once
	// the hour has passed every bucket is full again and carries nothing.
	c.t = c.t.Add(time.Hour)
	l.mu.Lock()
	l.prune(c.now())
	n := len(l.buckets)
	l.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d buckets kept after every bucket refilled, want 0", n)
	}
}

func TestKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":             "192.0.2.7",
		"2001:db8:1:2:3:4:5:6":  "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1":  "2001:db8:1:2::/64",
		"::ffff:192.0.2.7":      "192.0.2.7",
		"not an address at all": "not an address at all",
	} {
		if got := Key(in); got != want {
			t.Errorf("Key(%q) = %q, want %q", in, got, want)
		}
	}
}

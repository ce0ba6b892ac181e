package tui

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"frontdesk/store"
)

// shared is one process's reads caused by changes: every session of an
// organization hears of a change at the same moment and reads again what
// it shows, and sessions showing the same thing (the first page of the
// roster, its counts) would each run the same query. Here the first to ask
// runs it and the others wait for its answer. A read is keyed by the
// organization, the change feed's position it answers (liveMsg.seq) and
// the query, so it serves only reads caused by that same change: it began
// after the change was committed, which is all they need. Reads made for
// other reasons (a key press, the session's own write) never come here.
type shared struct {
	roster Roster

	mu sync.Mutex
	m  map[sharedKey]*sharedRead
}

// sharedTTL is how long an answer serves: the sessions of a change ask
// within milliseconds of each other; past this it is only memory.
const sharedTTL = 2 * time.Second

// sharedLimit bounds the answers kept; past it the expired ones go.
const sharedLimit = 512

type sharedKey struct {
	org, seq int64
	what     string // "page", "counts", "matches"
	search   string
	status   store.Status
	archived bool
	after    store.Cursor
	before   store.Cursor
	paging   int // 1: after, 2: before, 3: backward from the end
	limit    int
}

type sharedRead struct {
	done chan struct{}
	at   time.Time // when it was answered
	rows []store.RosterRow
	head countsMsg
	n    int
	err  error
}

func newShared(r Roster) *shared { return &shared{roster: r, m: map[sharedKey]*sharedRead{}} }

func pageKey(org, seq int64, what string, rq store.RosterQuery, limit int) sharedKey {
	k := sharedKey{org: org, seq: seq, what: what, search: rq.Search, status: rq.Status, archived: rq.Archived, limit: limit}
	switch {
	case rq.After != nil:
		k.paging, k.after = 1, *rq.After
	case rq.Before != nil:
		k.paging, k.before = 2, *rq.Before
	case rq.Backward:
		k.paging = 3
	}
	return k
}

// do returns the answer for key, running read for it unless another
// session is or was running it. The read runs detached from the asking
// session's context (its session may end while others wait for it), with
// a bound of its own; each asker waits only as long as its own context.
func (s *shared) do(ctx context.Context, key sharedKey, read func(ctx context.Context, r *sharedRead)) (*sharedRead, error) {
	s.mu.Lock()
	r, ok := s.m[key]
	if ok && r.expired() {
		delete(s.m, key)
		ok = false
	}
	if !ok {
		if len(s.m) >= sharedLimit {
			s.sweep()
		}
		r = &sharedRead{done: make(chan struct{})}
		s.m[key] = r
		s.mu.Unlock()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		read(rctx, r)
		cancel()
		s.mu.Lock()
		r.at = time.Now()
		close(r.done)
		if r.err != nil {
			delete(s.m, key) // the next asker tries again
		}
		s.mu.Unlock()
		return r, r.err
	}
	s.mu.Unlock()
	select {
	case <-r.done:
		return r, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// expired is whether an answered read no longer serves. Under s.mu.
func (r *sharedRead) expired() bool {
	select {
	case <-r.done:
		return time.Since(r.at) > sharedTTL
	default:
		return false
	}
}

// sweep drops the expired answers. Under s.mu.
func (s *shared) sweep() {
	for k, r := range s.m {
		if r.expired() {
			delete(s.m, k)
		}
	}
}

// Callers share the rows, clipped so that a window appending to them (a
// next page) copies them first: nobody writes into a slice another holds.

func (s *shared) page(ctx context.Context, org, seq int64, rq store.RosterQuery) ([]store.RosterRow, error) {
	r, err := s.do(ctx, pageKey(org, seq, "page", rq, rq.Limit), func(ctx context.Context, r *sharedRead) {
		r.rows, r.err = s.roster.RosterPage(ctx, org, rq)
	})
	if err != nil {
		return nil, err
	}
	return slices.Clip(r.rows), nil
}

// counts are the roster's header: the counts per status, the archived
// count and the claim funnel.
func (s *shared) counts(ctx context.Context, org, seq int64) countsMsg {
	r, err := s.do(ctx, sharedKey{org: org, seq: seq, what: "counts"}, func(ctx context.Context, r *sharedRead) {
		r.head = readHeader(ctx, s.roster, org)
		r.err = r.head.err
	})
	if err != nil {
		return countsMsg{err: err}
	}
	h := r.head
	h.counts = maps.Clone(h.counts)
	return h
}

// readHeader reads the roster's header: the counts per status, the
// archived count, the funnel.
func readHeader(ctx context.Context, roster Roster, org int64) countsMsg {
	c, err := roster.RosterCounts(ctx, org)
	if err != nil {
		return countsMsg{err: err}
	}
	a, err := roster.ArchivedCount(ctx, org)
	if err != nil {
		return countsMsg{err: err}
	}
	f, err := roster.ClaimFunnel(ctx, org)
	return countsMsg{counts: c, archived: a, funnel: f, err: err}
}

func (s *shared) matches(ctx context.Context, org, seq int64, rq store.RosterQuery, limit int) (int, error) {
	r, err := s.do(ctx, pageKey(org, seq, "matches", rq, limit), func(ctx context.Context, r *sharedRead) {
		r.n, r.err = s.roster.RosterMatches(ctx, org, rq, limit)
	})
	if err != nil {
		return 0, err
	}
	return r.n, nil
}

// reads is how a session reads the roster: through shared when the read
// answers a change (seq > 0) and the process shares, directly otherwise.
type reads struct {
	roster Roster
	shared *shared
	org    int64
}

func (d Deps) reads(org int64) reads { return reads{roster: d.Roster, shared: d.shared, org: org} }

func (r reads) page(ctx context.Context, seq int64, rq store.RosterQuery) ([]store.RosterRow, error) {
	if seq > 0 && r.shared != nil {
		return r.shared.page(ctx, r.org, seq, rq)
	}
	return r.roster.RosterPage(ctx, r.org, rq)
}

func (r reads) counts(ctx context.Context, seq int64) countsMsg {
	if seq > 0 && r.shared != nil {
		return r.shared.counts(ctx, r.org, seq)
	}
	return readHeader(ctx, r.roster, r.org)
}

func (r reads) matches(ctx context.Context, seq int64, rq store.RosterQuery, limit int) (int, error) {
	if seq > 0 && r.shared != nil {
		return r.shared.matches(ctx, r.org, seq, rq, limit)
	}
	return r.roster.RosterMatches(ctx, r.org, rq, limit)
}

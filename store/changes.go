package store

import (
	"context"
	"database/sql"
	"sync"
)

// ChangeKind says what kind of thing a Change is about.
type ChangeKind string

const (
	ChangeCustomer ChangeKind = "customer" // the customer row: name, email, status, claim, archive, custom values
	ChangeInvite   ChangeKind = "invite"   // a link issued, used, revoked or cut short
	ChangeOutbox   ChangeKind = "outbox"   // a message queued, sent, retried, failed or bounced
	ChangeStaff    ChangeKind = "staff"    // a staff member or their keys: who may use a session
	ChangeOrg      ChangeKind = "org"      // the organization's settings
	// ChangeAll says anything of the organization may have changed: the
	// feed lost track (it fell behind the log's pruning, or could not read
	// it for a while) and every screen should read what it shows again. It
	// is never stored.
	ChangeAll ChangeKind = "all"
)

// Change is one entry of the change log (migration 0009): something of an
// organization changed, in this process or another on the same database.
type Change struct {
	Seq   int64 // the log's position; later changes have larger ones
	OrgID int64
	// CustomerID is the customer whose data changed; 0 for the
	// organization as a whole or, with the customer, invite and outbox
	// kinds, any of its customers (a bulk load records one such change).
	CustomerID int64
	Kind       ChangeKind
}

// ConcernsCustomer is whether the change may alter what is shown of
// customer id: its row, its invites and their delivery.
func (c Change) ConcernsCustomer(id int64) bool {
	switch c.Kind {
	case ChangeAll, ChangeOrg:
		return true
	case ChangeCustomer, ChangeInvite, ChangeOutbox:
		return c.CustomerID == 0 || c.CustomerID == id
	}
	return false
}

// ConcernsRoster is whether the change may alter the roster's rows or its
// counts. Both read only the customer rows (and roster_counts, kept from
// them): an invite or a delivery that changes a customer's status also
// changes the customer row, which is a change of its own.
func (c Change) ConcernsRoster() bool { return c.Kind == ChangeCustomer || c.Kind == ChangeAll }

// ConcernsStaff is whether the change may alter who may use a session.
func (c Change) ConcernsStaff() bool { return c.Kind == ChangeStaff || c.Kind == ChangeAll }

// ConcernsOrg is whether the change may alter the organization's settings.
func (c Change) ConcernsOrg() bool { return c.Kind == ChangeOrg || c.Kind == ChangeAll }

// maxBatch is the most changes a subscriber is handed at once: past it, a
// batch says ChangeAll instead, which costs a reader no more than the list
// and keeps a slow one's backlog small.
const maxBatch = 256

// Subscribe returns a channel on which the organization's changes arrive,
// made anywhere: this process, another process on the same file, a manual
// fix in the sqlite3 shell. Changes committed after Subscribe returns all
// arrive (some committed just before may too). A receiver that falls
// behind never holds anyone up and never misses that something changed: what
// it has not taken yet is merged into one batch (at most maxBatch long, or
// one ChangeAll). cancel ends the subscription; the channel is closed then
// or when the database closes.
//
// The changes are detected once per process, however many subscribe (see
// changes_sqlite.go and changes_postgres.go for each engine's way).
func (db *DB) Subscribe(orgID int64) (changes <-chan []Change, cancel func()) {
	return db.feed.subscribe(db, orgID)
}

// feed fans the process's one change detector out to its subscribers.
type feed struct {
	mu      sync.Mutex
	subs    map[int64]map[*subscription]struct{} // by organization
	started bool
	closed  bool
	stop    chan struct{}
	done    chan struct{}
}

type subscription struct {
	org int64
	ch  chan []Change // capacity 1: the batch not taken yet
}

func (f *feed) subscribe(db *DB, orgID int64) (<-chan []Change, func()) {
	s := &subscription{org: orgID, ch: make(chan []Change, 1)}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		close(s.ch)
		return s.ch, func() {}
	}
	if !f.started {
		f.started = true
		f.stop, f.done = make(chan struct{}), make(chan struct{})
		// Baselined before Subscribe returns, so that nothing committed
		// after it can be missed.
		w := db.newWatcher()
		go func() {
			defer close(f.done)
			w.run(f.stop, f.deliver)
		}()
	}
	if f.subs == nil {
		f.subs = map[int64]map[*subscription]struct{}{}
	}
	if f.subs[orgID] == nil {
		f.subs[orgID] = map[*subscription]struct{}{}
	}
	f.subs[orgID][s] = struct{}{}
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			if _, ok := f.subs[orgID][s]; !ok {
				return // closed with the database
			}
			delete(f.subs[orgID], s)
			if len(f.subs[orgID]) == 0 {
				delete(f.subs, orgID)
			}
			close(s.ch)
		})
	}
}

// deliver hands a detector's batch to the subscribers: byOrg are the
// changes per organization; lost (with the latest position) says the
// detector lost track, so every subscriber gets ChangeAll.
func (f *feed) deliver(byOrg map[int64][]Change, lost bool, seq int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for org, subs := range f.subs {
		batch := byOrg[org]
		if lost {
			batch = []Change{{Seq: seq, OrgID: org, Kind: ChangeAll}}
		}
		if len(batch) == 0 {
			continue
		}
		for s := range subs {
			s.send(batch)
		}
	}
}

// send gives batch to the subscriber without ever blocking: a batch it has
// not taken yet is taken back and merged with this one. Only the feed
// sends, under its lock, so once the old batch is out the send succeeds.
func (s *subscription) send(batch []Change) {
	for {
		select {
		case s.ch <- batch:
			return
		default:
		}
		select {
		case old := <-s.ch:
			batch = MergeChanges(s.org, old, batch)
		default:
		}
	}
}

// MergeChanges is a then b (of the organization org), without repeats, or
// one ChangeAll when that is what either says or the list would be longer
// than a subscriber is handed at once. The slices may be shared by
// subscribers, so a fresh one is made.
func MergeChanges(org int64, a, b []Change) []Change {
	last := int64(0)
	for _, list := range [][]Change{a, b} {
		for _, c := range list {
			last = max(last, c.Seq)
		}
	}
	all := []Change{{Seq: last, OrgID: org, Kind: ChangeAll}}
	if len(a)+len(b) > maxBatch {
		return all
	}
	out := make([]Change, 0, len(a)+len(b))
	seen := make(map[Change]int, len(a)+len(b))
	for _, list := range [][]Change{a, b} {
		for _, c := range list {
			if c.Kind == ChangeAll {
				return all
			}
			k := c
			k.Seq = 0
			if i, ok := seen[k]; ok {
				out[i].Seq = max(out[i].Seq, c.Seq)
				continue
			}
			seen[k] = len(out)
			out = append(out, c)
		}
	}
	return out
}

// close stops the detector and closes every subscription's channel.
func (f *feed) close() {
	f.mu.Lock()
	f.closed = true
	started := f.started
	if started {
		close(f.stop)
	}
	f.mu.Unlock()
	if started {
		<-f.done
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, subs := range f.subs {
		for s := range subs {
			close(s.ch)
		}
	}
	f.subs = nil
}

// watcher is an engine's change detector: it runs until stop closes,
// handing what it finds to deliver (see feed.deliver).
type watcher interface {
	run(stop <-chan struct{}, deliver func(byOrg map[int64][]Change, lost bool, seq int64))
}

// newWatcher starts the engine's detector, its baseline taken before it
// returns so that nothing committed after Subscribe can be missed.
func (db *DB) newWatcher() watcher {
	if db.pg != nil {
		return db.newPostgresWatcher()
	}
	return db.newSQLiteWatcher()
}

// maxChangeRead is the most log rows one poll reads one by one; a longer
// backlog (a transaction inviting thousands) is reported as ChangeAll to
// the organizations it concerns.
const maxChangeRead = 2048

// readLog reads the change log past pos in tx, which must be one snapshot
// (so the rows past pos are exactly top-pos when none was pruned), and
// returns them per organization with the new position. lost says the log
// could not be followed: it went back (the database was replaced by a
// backup), or rows were pruned before they were read, so what changed, and
// where, is unknown. Both engines number the log without gaps in commit
// order (one writer at a time), which is what makes a gap mean pruning.
func readLog(ctx context.Context, tx *sql.Tx, pos int64) (byOrg map[int64][]Change, newPos int64, lost bool, err error) {
	var top, next int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0), coalesce((SELECT min(seq) FROM changes WHERE seq > ?), 0) FROM changes`, pos).Scan(&top, &next); err != nil {
		return nil, pos, false, err
	}
	switch {
	case top == pos:
		return nil, pos, false, nil
	case top < pos || next != pos+1:
		return nil, top, true, nil
	case top-pos > maxChangeRead:
		// More than is worth listing: everything, for the organizations
		// concerned only.
		byOrg, err := orgsSince(ctx, tx, pos)
		return byOrg, top, false, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT seq, org_id, customer_id, kind FROM changes WHERE seq > ? ORDER BY seq`, pos)
	if err != nil {
		return nil, pos, false, err
	}
	defer rows.Close()
	byOrg = map[int64][]Change{}
	seen := map[Change]int{} // without Seq: index in its organization's list
	for rows.Next() {
		var c Change
		if err := rows.Scan(&c.Seq, &c.OrgID, &c.CustomerID, &c.Kind); err != nil {
			return nil, pos, false, err
		}
		pos = c.Seq
		key := c
		key.Seq = 0
		if i, ok := seen[key]; ok {
			byOrg[c.OrgID][i].Seq = c.Seq
			continue
		}
		seen[key] = len(byOrg[c.OrgID])
		byOrg[c.OrgID] = append(byOrg[c.OrgID], c)
	}
	if err := rows.Err(); err != nil {
		return nil, pos, false, err
	}
	for org, list := range byOrg {
		if len(list) > maxBatch {
			byOrg[org] = []Change{{Seq: pos, OrgID: org, Kind: ChangeAll}}
		}
	}
	return byOrg, pos, false, nil
}

// orgsSince is ChangeAll for each organization with changes past pos.
func orgsSince(ctx context.Context, tx *sql.Tx, pos int64) (map[int64][]Change, error) {
	rows, err := tx.QueryContext(ctx, `SELECT org_id, max(seq) FROM changes WHERE seq > ? GROUP BY org_id`, pos)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byOrg := map[int64][]Change{}
	for rows.Next() {
		c := Change{Kind: ChangeAll}
		if err := rows.Scan(&c.OrgID, &c.Seq); err != nil {
			return nil, err
		}
		byOrg[c.OrgID] = []Change{c}
	}
	return byOrg, rows.Err()
}

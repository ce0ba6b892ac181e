package store

import (
	"context"
	"time"
)

// pgChangePoll is how often PostgreSQL's detector reads the change log. A
// first version: it asks the log's end every time (one index probe on the
// reader pool), where SQLite's asks the WAL index whether anything was
// committed at all. LISTEN/NOTIFY, which the log's triggers can send, is
// the way to hear a commit at once without asking.
var pgChangePoll = 250 * time.Millisecond

// postgresWatcher is PostgreSQL's change detector: it reads the change log
// past the last row it read, in one snapshot per poll, on the reader pool.
// The log is kept by the same triggers as SQLite's, numbered without gaps
// in commit order (the write lock; see postgres.go).
type postgresWatcher struct {
	db   *DB
	pos  int64 // the last log row read
	lost bool  // the log could not be followed: report ChangeAll
}

// newPostgresWatcher takes the baseline: the log's end now. A failure
// leaves it lost; it reads again at its next poll.
func (db *DB) newPostgresWatcher() *postgresWatcher {
	w := &postgresWatcher{db: db}
	if err := db.read.QueryRowContext(context.Background(), `SELECT coalesce(max(seq), 0) FROM changes`).Scan(&w.pos); err != nil {
		w.lost = true
	}
	return w
}

func (w *postgresWatcher) run(stop <-chan struct{}, deliver func(byOrg map[int64][]Change, lost bool, seq int64)) {
	t := time.NewTicker(pgChangePoll)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		byOrg, err := w.poll()
		if err != nil {
			w.lost = true
			continue
		}
		if w.lost || len(byOrg) > 0 {
			deliver(byOrg, w.lost, w.pos)
			w.lost = false
		}
	}
}

// poll reads the changes committed since the last poll, per organization.
func (w *postgresWatcher) poll() (map[int64][]Change, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tx, err := w.db.read.BeginTx(ctx, w.db.d.snapshot)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	byOrg, pos, lost, err := readLog(ctx, tx, w.pos)
	if err != nil {
		return nil, err
	}
	w.pos, w.lost = pos, w.lost || lost
	return byOrg, nil
}

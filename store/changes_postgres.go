package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgreSQL's change detector hears commits instead of asking for them:
// the change log's trigger notifies pgChangeChannel (migration 0021), and
// NOTIFY reaches every listening connection of the database, on any node,
// when the transaction commits. The detector listens on a connection of
// its own, made with pgx directly rather than taken from a pool: a LISTEN
// belongs to its session, and a pooled connection could be closed by the
// pool or handed to someone else. On each notification it reads the log
// past the last row it read, on the reader pool, in one snapshot
// (readLog): the notification says only that something committed.
//
// A lost connection loses nothing. The detector keeps its position in the
// log; it reconnects (after pgReconnectFirst, doubling up to
// pgReconnectMax), LISTENs, and then reads the log past that position, so
// whatever committed while it was gone arrives as the changes it was. Only
// a gap the log's pruning made (over 10,000 changes missed) is reported as
// ChangeAll, by readLog.
//
// pgSafetyRead is a read of the log, and a ping of the listener, when
// nothing was heard for that long: a write that bypasses the trigger (a
// load with triggers disabled) is still seen, and a connection that died
// without a word (a network gone quiet, which a socket may not notice for
// many minutes) is found and replaced.
const (
	pgChangeChannel = "frontdesk_changes"
	// pgListenerName is the application_name of the detector's connection,
	// as pg_stat_activity shows it.
	pgListenerName = "frontdesk changes"
)

var (
	pgSafetyRead      = 5 * time.Second
	pgReconnectFirst  = 100 * time.Millisecond
	pgReconnectMax    = 5 * time.Second
	pgListenerTimeout = 10 * time.Second // connecting, pinging, a read of the log
)

// postgresWatcher is PostgreSQL's change detector (see above). The log is
// kept by the same triggers as SQLite's, numbered without gaps in commit
// order (the write lock; see postgres.go).
type postgresWatcher struct {
	db     *DB
	pos    int64 // the last log row read
	lost   bool  // the log could not be followed: report ChangeAll
	listen *pgx.Conn
}

// newPostgresWatcher takes the baseline: the log's end now. A failure
// leaves it lost; it reads again once it listens. The listener connects in
// run: it reads the log past the baseline once it listens, so nothing
// committed meanwhile is missed.
func (db *DB) newPostgresWatcher() *postgresWatcher {
	w := &postgresWatcher{db: db}
	ctx, cancel := context.WithTimeout(context.Background(), pgListenerTimeout)
	defer cancel()
	if err := db.read.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM changes`).Scan(&w.pos); err != nil {
		w.lost = true
	}
	return w
}

func (w *postgresWatcher) run(stop <-chan struct{}, deliver func(byOrg map[int64][]Change, lost bool, seq int64)) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	defer w.hangUp()
	wait := pgReconnectFirst
	for ctx.Err() == nil {
		if w.listen == nil {
			if err := w.connect(ctx); err != nil {
				w.pause(ctx, wait)
				wait = min(2*wait, pgReconnectMax)
				continue
			}
			wait = pgReconnectFirst
			w.read(deliver) // what committed while it was not listening
		}
		heard, err := w.await(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			w.hangUp()
			continue
		}
		if !heard && !w.alive(ctx) {
			w.hangUp()
			continue
		}
		w.read(deliver)
	}
}

// connect opens the listener connection and LISTENs.
func (w *postgresWatcher) connect(ctx context.Context) error {
	cfg, err := pgx.ParseConfig(w.db.pg.dsn)
	if err != nil {
		return err
	}
	cfg.RuntimeParams["application_name"] = pgListenerName
	cctx, cancel := context.WithTimeout(ctx, pgListenerTimeout)
	defer cancel()
	c, err := pgx.ConnectConfig(cctx, cfg)
	if err != nil {
		return err
	}
	if _, err := c.Exec(cctx, `LISTEN `+pgChangeChannel); err != nil {
		c.Close(context.Background())
		return err
	}
	w.listen = c
	return nil
}

func (w *postgresWatcher) hangUp() {
	if w.listen != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		w.listen.Close(ctx)
		cancel()
		w.listen = nil
	}
}

// await waits for a notification, at most pgSafetyRead. heard says one
// came; an error that the connection failed (a timeout is neither).
func (w *postgresWatcher) await(ctx context.Context) (heard bool, err error) {
	wctx, cancel := context.WithTimeout(ctx, pgSafetyRead)
	defer cancel()
	_, err = w.listen.WaitForNotification(wctx)
	if err != nil && wctx.Err() != nil && ctx.Err() == nil && !w.listen.IsClosed() {
		return false, nil // quiet for pgSafetyRead
	}
	if err == nil {
		// Notifications already received with this one (a burst of
		// commits) are answered by the same read: take them off too.
		done, cancel := context.WithCancel(ctx)
		cancel()
		for {
			if n, _ := w.listen.WaitForNotification(done); n == nil {
				break
			}
		}
	}
	return err == nil, err
}

// alive pings the listener connection.
func (w *postgresWatcher) alive(ctx context.Context) bool {
	pctx, cancel := context.WithTimeout(ctx, pgListenerTimeout)
	defer cancel()
	return w.listen.Ping(pctx) == nil
}

// pause waits d or until ctx ends.
func (w *postgresWatcher) pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// read reads the log past the last row read and hands what it found to
// deliver. A read that fails keeps the position: the next one (the next
// notification, or pgSafetyRead) reads the same rows again.
func (w *postgresWatcher) read(deliver func(byOrg map[int64][]Change, lost bool, seq int64)) {
	byOrg, err := w.poll()
	if err != nil {
		return
	}
	if w.lost || len(byOrg) > 0 {
		deliver(byOrg, w.lost, w.pos)
		w.lost = false
	}
}

// poll reads the changes committed since the last read, per organization.
func (w *postgresWatcher) poll() (map[int64][]Change, error) {
	ctx, cancel := context.WithTimeout(context.Background(), pgListenerTimeout)
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

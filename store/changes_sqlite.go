package store

import (
	"context"
	"database/sql"
	"time"
)

// changePoll is how often the detector asks SQLite whether anything was
// committed: a change reaches every screen within about this, plus a frame.
// Asking costs a read of the WAL index's header, nothing more.
var changePoll = 150 * time.Millisecond

// sqliteWatcher is SQLite's change detector: one connection of its own,
// polling PRAGMA data_version, which moves whenever another connection (of
// this process or another) commits, and then reading the change log past
// the last row it read. The connection only ever reads, so its own
// statements never move the version.
type sqliteWatcher struct {
	db      *DB
	pool    *sql.DB
	conn    *sql.Conn
	version int64
	pos     int64 // the last log row read
	lost    bool  // the log could not be followed: report ChangeAll
}

// newSQLiteWatcher connects and takes the baseline: the data version first, then
// the log's end, so that a commit between the two is read again rather
// than missed. A failure leaves it lost; it reconnects on its next poll.
func (db *DB) newSQLiteWatcher() *sqliteWatcher {
	w := &sqliteWatcher{db: db}
	if err := w.connect(); err != nil {
		w.lost = true
	}
	return w
}

func (w *sqliteWatcher) connect() error {
	ctx := context.Background()
	if w.pool == nil {
		p, err := sql.Open("sqlite", dsn(w.db.path, true, true))
		if err != nil {
			return err
		}
		p.SetMaxOpenConns(1)
		w.pool = p
	}
	c, err := w.pool.Conn(ctx)
	if err != nil {
		return err
	}
	var v, top int64
	if err := c.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
		c.Close()
		return err
	}
	if err := c.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM changes`).Scan(&top); err != nil {
		c.Close()
		return err
	}
	w.conn, w.version, w.pos = c, v, top
	return nil
}

func (w *sqliteWatcher) disconnect() {
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
	w.lost = true
}

// run polls until stop closes, handing what it finds to deliver.
func (w *sqliteWatcher) run(stop <-chan struct{}, deliver func(byOrg map[int64][]Change, lost bool, seq int64)) {
	t := time.NewTicker(changePoll)
	defer t.Stop()
	defer func() {
		if w.conn != nil {
			w.conn.Close()
		}
		if w.pool != nil {
			w.pool.Close()
		}
	}()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		byOrg, err := w.poll()
		if err != nil {
			w.disconnect()
			continue
		}
		if w.lost || len(byOrg) > 0 {
			deliver(byOrg, w.lost, w.pos)
			w.lost = false
		}
	}
}

// poll reads the changes committed since the last poll, per organization.
func (w *sqliteWatcher) poll() (map[int64][]Change, error) {
	ctx := context.Background() // never cancelled: the driver would watch it per statement
	if w.conn == nil {
		// Reconnected after a failure: what happened meanwhile is
		// unknown, so the caller reports ChangeAll.
		return nil, w.connect()
	}
	var v int64
	if err := w.conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
		return nil, err
	}
	if v == w.version {
		return nil, nil
	}
	w.version = v
	// One snapshot for the log's end and its rows (readLog).
	tx, err := w.conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
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

package store

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// stmtCache keeps prepared statements per pool. SQLite (in modernc's
// translation especially) spends longer parsing and planning a statement
// than running it on an indexed row, and database/sql prepares afresh for
// every call on a *sql.Tx; reusing the prepared statement made bulk invites
// about twice as fast.
type stmtCache struct {
	pool *sql.DB
	mu   sync.Mutex
	m    map[string]*sql.Stmt
	// pending are queries first met inside a transaction, prepared once the
	// transaction has given the writer connection back (see warm).
	pending map[string]bool
}

// cached returns the prepared statement for query, or nil, without preparing.
func (c *stmtCache) cached(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.m[query]
	if st == nil {
		if c.pending == nil {
			c.pending = map[string]bool{}
		}
		c.pending[query] = true
	}
	return st
}

// warm prepares the queries met inside transactions. Call it only when the
// pool has a free connection.
func (c *stmtCache) warm(ctx context.Context) {
	c.mu.Lock()
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	for q := range pending {
		c.get(ctx, q)
	}
}

func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	st, ok := c.m[query]
	c.mu.Unlock()
	if ok {
		return st, nil
	}
	// Prepare without the lock: on the writer pool this waits for the one
	// connection, and the transaction holding it may need the lock (cached)
	// before it can finish.
	st, err := c.pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.m[query]; ok {
		st.Close()
		return prev, nil
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[query] = st
	return st, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// stmtSet holds the statements prepared on one transaction or one
// connection, by query text, and closes them together when that ends. It is
// the bulk paths' cache (CustomerWriter on a Tx, BulkLoader on its
// connection): a batch statement is worth preparing once per job, and must
// not stay in stmtCache's pool-wide cache after it, nor be prepared per pool
// connection. S is *sql.Stmt on a transaction, driver.Stmt on a connection
// driven below database/sql (see BulkLoader.flush). Not safe for concurrent
// use: a transaction and a connection are used by one goroutine at a time.
type stmtSet[S interface{ Close() error }] struct {
	prepare func(ctx context.Context, query string) (S, error)
	m       map[string]S
}

func newStmtSet[S interface{ Close() error }](prepare func(ctx context.Context, query string) (S, error)) *stmtSet[S] {
	return &stmtSet[S]{prepare: prepare}
}

// get returns query prepared, preparing it on first use.
func (s *stmtSet[S]) get(ctx context.Context, query string) (S, error) {
	if st, ok := s.m[query]; ok {
		return st, nil
	}
	st, err := s.prepare(ctx, query)
	if err != nil {
		return st, err
	}
	if s.m == nil {
		s.m = map[string]S{}
	}
	s.m[query] = st
	return st, nil
}

// close closes every statement; the set can be used again afterwards.
func (s *stmtSet[S]) close() error {
	var first error
	for q, st := range s.m {
		if err := st.Close(); err != nil && first == nil {
			first = err
		}
		delete(s.m, q)
	}
	return first
}

// conn is where a query runs: the reader pool, or a transaction (a write
// transaction of DB.Tx, or a read snapshot of DB.view). Every query of the
// store goes through its exec, query and queryRow, which use the cache of
// prepared statements of the pool the query runs on; the bulk paths prepare
// theirs on the transaction (prepared).
type conn struct {
	db    *DB
	tx    *sql.Tx    // nil: the reader pool
	stmts *stmtCache // of the pool tx belongs to, or the reader pool's; nil: none
	// own are the statements prepared on tx itself, which die with it;
	// nil without a transaction.
	own *stmtSet[*sql.Stmt]
}

// inTx returns a conn on the transaction tx, with its own statement set.
// end closes the statements; call it before the transaction ends.
func (db *DB) inTx(tx *sql.Tx, stmts *stmtCache) (c conn, end func()) {
	own := newStmtSet(func(ctx context.Context, query string) (*sql.Stmt, error) {
		return tx.PrepareContext(ctx, query)
	})
	return conn{db: db, tx: tx, stmts: stmts, own: own}, func() { own.close() }
}

// prepared returns query prepared on the transaction, for the bulk paths'
// statements that run many times within one job (see stmtSet).
func (q conn) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if q.own == nil {
		return nil, Errorf(EINTERNAL, "store: a prepared statement outside a transaction")
	}
	return q.own.get(ctx, query)
}

// stmt returns query prepared for this conn, or nil to run it unprepared.
func (q conn) stmt(ctx context.Context, query string) *sql.Stmt {
	if q.stmts == nil {
		return nil
	}
	if q.tx == nil {
		st, err := q.stmts.get(ctx, query)
		if err != nil {
			return nil
		}
		return st
	}
	// A write transaction holds the single writer connection, so preparing
	// on the pool here would wait for it forever. Use a statement already
	// prepared, or run this one unprepared and have DB.Tx prepare it after
	// the commit. (A read snapshot's pool has other connections, but the
	// same rule keeps one code path.)
	if st := q.stmts.cached(query); st != nil {
		return q.tx.StmtContext(ctx, st)
	}
	return nil
}

func (q conn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	if q.tx == nil {
		return nil, Errorf(EINTERNAL, "store: a write outside a transaction")
	}
	return q.tx.ExecContext(ctx, query, args...)
}

func (q conn) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	if q.tx == nil {
		return q.db.read.QueryContext(ctx, query, args...)
	}
	return q.tx.QueryContext(ctx, query, args...)
}

func (q conn) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	if q.tx == nil {
		return q.db.read.QueryRowContext(ctx, query, args...)
	}
	return q.tx.QueryRowContext(ctx, query, args...)
}

// insert runs an INSERT and returns the new row's id (RETURNING id, which
// every engine has, rather than LastInsertId, which some do not).
func (q conn) insert(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	err := q.queryRow(ctx, query+" RETURNING id", args...).Scan(&id)
	return id, err
}

// now is the store's clock.
func (q conn) now() time.Time { return q.db.Now() }

package store

import (
	"context"
	"database/sql"
	"sync"
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

// stmt returns query prepared for q when q is one of this database's pools or
// a transaction on its writer; nil for anything else (the caller then runs
// the query unprepared).
func (db *DB) stmt(ctx context.Context, q Queryer, query string) *sql.Stmt {
	var cache *stmtCache
	switch q := q.(type) {
	case *sql.Tx:
		// A transaction holds the single writer connection, so preparing on
		// the pool here would wait for it forever. Use a statement already
		// prepared on that connection, or run this one unprepared and have
		// Tx prepare it after the commit.
		if st := db.wstmts.cached(query); st != nil {
			return q.StmtContext(ctx, st)
		}
		return nil
	case *sql.DB:
		switch q {
		case db.write:
			cache = &db.wstmts
		case db.read:
			cache = &db.rstmts
		}
	}
	if cache == nil {
		return nil
	}
	st, err := cache.get(ctx, query)
	if err != nil {
		return nil
	}
	return st
}

func (db *DB) exec(ctx context.Context, q Queryer, query string, args ...any) (sql.Result, error) {
	if st := db.stmt(ctx, q, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.ExecContext(ctx, query, args...)
}

func (db *DB) query(ctx context.Context, q Queryer, query string, args ...any) (*sql.Rows, error) {
	if st := db.stmt(ctx, q, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.QueryContext(ctx, query, args...)
}

func (db *DB) queryRow(ctx context.Context, q Queryer, query string, args ...any) *sql.Row {
	if st := db.stmt(ctx, q, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.QueryRowContext(ctx, query, args...)
}

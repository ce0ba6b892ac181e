package store

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// BulkLoader is the narrow door through which generated data reaches the
// database in bulk: the demo generator (store/demo) writes a million
// customers through it in under a minute. The door owns everything about how
// rows reach the engine: a connection tuned for loading, transactions of
// BulkTxCustomers customers, multi-row INSERTs, the order of invites' token
// hashes, the search index's merging, and stand-ins for the triggers on
// what it writes (bulkStandIns). Its callers only say which rows there are.
//
// Nothing in its API is SQLite's, so that another engine can load the same
// rows its own way (PostgreSQL: COPY). A row is every column of its table, in
// the order the schema gives them (the migrations' CREATE TABLE, then each
// ADD COLUMN), as the Go values the store's own writes use (int64, string,
// []byte, nil for NULL). A table's id is either nil, for the engine to pick,
// or the next of the ids handed out from BulkTx.FirstID, one after another.
//
// Foreign keys are not checked while it writes: a caller writes only rows
// whose parents exist or are written in the same transaction, and the demo's
// tests run foreign_key_check on the result.
type BulkLoader struct {
	db     *DB
	conn   *sql.Conn
	tables map[string]*bulkTable

	order     []*bulkTable  // PostgreSQL: parents before children (pgParentsFirst)
	inserts   []bulkTrigger // INSERT triggers of the tables it writes, stood in for
	deletes   []bulkTrigger // customers' DELETE triggers, stood in for
	automerge int           // the search index's own setting

	// Rows are written through the driver's connection (see flush); dc is
	// it, set while conn.Raw runs.
	dc    driver.ConnPrepareContext
	stmts *stmtSet[driver.Stmt]
	nv    []driver.NamedValue
}

// BulkTxCustomers is how many customers one transaction of BulkLoader.Load
// holds. Each commit writes every page the transaction touched, which
// includes much of the customer indexes whatever its size, so commits should
// be few; each also bounds the WAL, which holds one transaction's pages (a
// few hundred megabytes at this size) until the checkpoint that follows it.
const BulkTxCustomers = 200_000

// bulkRowsPerStatement is how many rows one INSERT writes: a statement costs
// more than a row, so a million customers fit in a minute only in INSERTs of
// a few hundred rows. SQLite gives a multi-row INSERT a statement journal (a
// copy of every page it is about to change, made first) when a row can fail
// halfway through with the statement's changes to be undone: a NOT NULL or
// CHECK failing under the default ON CONFLICT ABORT (hence INSERT OR FAIL:
// the whole transaction is rolled back on any error anyway), an explicit
// INTEGER PRIMARY KEY (hence ids left to SQLite and checked, see flush), a
// trigger (hence the stand-ins), or a CHECK or index expression calling a
// function (customers' lower(email) index, invites' length(token_hash)
// check). Customers and invites still have one, which is cheap only because
// their rows arrive in index order (the demo numbers its customers in order
// of name; bulkSortedColumns): a statement then touches a few pages, not one per
// row per index.
const bulkRowsPerStatement = 400

// bulkSortedColumns are columns of random values nobody holds (the hashes of
// thrown-away invite tokens) that the door deals out to a transaction's rows
// in ascending order: in order, the unique index on them takes each insert
// next to the last instead of on a random page (and out of the statement
// journal). Such a table's rows are therefore written at the transaction's
// end.
var bulkSortedColumns = map[string]string{"invites": "token_hash"}

// bulkFTSAutomerge is FTS5's automerge setting while the door writes: FTS5
// merges segments a level at a time once this many have piled up, and at the
// default (4) a million customers' index is rewritten six or seven times
// over, a third of its cost. At 16 it is rewritten half as often, and
// searches are as fast (measured: a few more segments to look in, each
// larger). Each transaction sets it and puts the index's own setting back
// before it commits.
const bulkFTSAutomerge = 16

// bulkTable is how the door writes one table.
type bulkTable struct {
	name      string
	all       []string // every column, in the schema's order
	columns   []string // the columns written: all, or those named to Rows
	projected bool
	// idName is the column that is the rowid, "" for none; id is its place
	// in columns, -1 when it is not written (SQLite numbers the rows then,
	// one after another, all the same).
	idName string
	npk    int  // columns in the primary key
	id     int  // the column that is the rowid, or -1
	sorted int  // the column of bulkSortedColumns, or -1
	held   bool // written at the transaction's end (sorted >= 0)
	insert func(rows int) string

	// Per transaction:
	pending []any
	next    int64 // the id the next row gets; 0: not looked up yet
}

// BulkLoad runs fn with a loader on the writer connection, tuned for bulk
// writing, and folds the WAL back into the database once fn succeeds. It
// holds the writer connection throughout (other goroutines of this process
// wait for it); Load commits every BulkTxCustomers customers so that other
// processes can write in between. It refuses to start when a trigger on
// customers differs from what its stand-in was written against.
//
// On PostgreSQL the rows go by COPY (bulkload_postgres.go), and nothing
// needs folding back afterwards.
func (db *DB) BulkLoad(ctx context.Context, fn func(l *BulkLoader) error) error {
	if db.pg != nil {
		return db.pgBulkLoad(ctx, fn)
	}
	c, err := db.write.Conn(ctx)
	if err != nil {
		return wrapBusy(err)
	}
	defer c.Close()
	restore, err := bulkTune(ctx, c)
	if err != nil {
		return err
	}
	defer restore()
	l := &BulkLoader{db: db, conn: c}
	l.stmts = newStmtSet(func(ctx context.Context, query string) (driver.Stmt, error) {
		return l.dc.PrepareContext(ctx, query)
	})
	defer c.Raw(func(dc any) error { return l.stmts.close() })
	if err := l.readSchema(ctx); err != nil {
		return err
	}
	if err := fn(l); err != nil {
		return err
	}
	// Fold the WAL back into the database so the file on disk is whole and
	// the next reader does not replay hundreds of megabytes. Busy readers
	// only make it partial, which is harmless.
	_, err = c.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

// bulkTune sets up the writer connection for a bulk load, and returns the
// func that puts it back before it returns to the pool:
//   - a cache big enough to hold the indexes a million customers insert into
//     in random order; with SQLite's 2 MB default nearly every such insert
//     misses;
//   - foreign keys off. With them on, every multi-row INSERT into a child
//     table needs a statement journal (see bulkRowsPerStatement) besides a
//     parent look-up per row. DeleteCustomers deletes dependent rows itself;
//   - statement journals, where still needed, in memory rather than spilled
//     to temporary files.
func bulkTune(ctx context.Context, conn *sql.Conn) (func(), error) {
	var cache, temp int64
	if err := conn.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&cache); err != nil {
		return nil, err
	}
	if err := conn.QueryRowContext(ctx, `PRAGMA temp_store`).Scan(&temp); err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY; PRAGMA foreign_keys = OFF`); err != nil {
		return nil, err
	}
	return func() {
		_, err := conn.ExecContext(context.Background(), fmt.Sprintf(`PRAGMA cache_size = %d; PRAGMA temp_store = %d; PRAGMA foreign_keys = ON`, cache, temp))
		if err != nil {
			// A writer without foreign keys must never serve the app: drop it
			// and let the pool open a fresh one.
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}, nil
}

// readSchema learns every table's columns, the triggers on customers and the
// search index's automerge setting.
func (l *BulkLoader) readSchema(ctx context.Context) error {
	rows, err := l.conn.QueryContext(ctx, `SELECT t.name, t.wr, c.name, c.type, c.pk FROM pragma_table_list t JOIN pragma_table_info(t.name) c
		WHERE t.schema = 'main' AND t.type = 'table' AND t.name NOT LIKE 'sqlite_%' ORDER BY t.name, c.cid`)
	if err != nil {
		return err
	}
	defer rows.Close()
	l.tables = map[string]*bulkTable{}
	for rows.Next() {
		var table, col, typ string
		var withoutRowid bool
		var pk int
		if err := rows.Scan(&table, &withoutRowid, &col, &typ, &pk); err != nil {
			return err
		}
		t := l.tables[table]
		if t == nil {
			t = &bulkTable{name: table, id: -1, sorted: -1}
			l.tables[table] = t
		}
		if pk > 0 {
			t.npk++
		}
		if pk == 1 && !withoutRowid && strings.EqualFold(typ, "INTEGER") {
			t.id = len(t.columns)
		}
		if bulkSortedColumns[table] == col {
			t.sorted, t.held = len(t.columns), true
		}
		t.columns = append(t.columns, col)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, t := range l.tables {
		if t.npk != 1 || len(t.columns) == 1 {
			// A composite key is no alias of the rowid; a table of ids
			// alone is written as given.
			t.id = -1
		}
		if t.id >= 0 {
			t.idName = t.columns[t.id]
		}
		t.all = t.columns
		t.insert = t.insertFunc()
	}
	if l.inserts, l.deletes, err = bulkTriggers(ctx, l.conn); err != nil {
		return err
	}
	l.automerge = 4 // FTS5's default, in force while the config table has no row
	err = l.conn.QueryRowContext(ctx, `SELECT v FROM customers_fts_config WHERE k = 'automerge'`).Scan(&l.automerge)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	return err
}

// insertFunc returns the INSERT for a number of rows. The id column is left
// out: SQLite gives the rows the ids a caller may have set (flush checks),
// sparing the statement a journal.
func (t *bulkTable) insertFunc() func(rows int) string {
	cols := slices.Clone(t.columns)
	if t.id >= 0 {
		cols = slices.Delete(cols, t.id, t.id+1)
	}
	head := `INSERT OR FAIL INTO ` + t.name + ` (` + strings.Join(cols, ", ") + `) VALUES `
	row := "(?" + strings.Repeat(", ?", len(cols)-1) + ")"
	return func(rows int) string { return head + placeholders(row, rows) }
}

// BulkRows collects rows of one table for BulkTx.Write. It may be filled on
// another goroutine than the writer's, and reused after Write returns.
type BulkRows struct {
	t    *bulkTable // read only
	vals []any
	err  error
}

// Rows returns an empty collection for rows of table that give the named
// columns, in that order; the table's other columns take their defaults, so
// a migration that adds a column with a default leaves callers as they are.
// A table is written with one set of columns for the whole load.
func (l *BulkLoader) Rows(table string, columns ...string) (*BulkRows, error) {
	t, ok := l.tables[table]
	if !ok {
		return nil, Errorf(EINTERNAL, "bulk load: no table %s", table)
	}
	if bulkNeverLoaded[table] {
		return nil, Errorf(EINTERNAL, "bulk load: %s is written through BulkLoader.Tx, not in bulk", table)
	}
	if err := t.project(columns); err != nil {
		return nil, err
	}
	return &BulkRows{t: t}, nil
}

// project narrows t to the named columns, once.
func (t *bulkTable) project(columns []string) error {
	if len(columns) == 0 {
		return Errorf(EINTERNAL, "bulk load: name the columns of %s to write", t.name)
	}
	if t.projected {
		if !slices.Equal(t.columns, columns) {
			return Errorf(EINTERNAL, "bulk load: %s is already written as (%s)", t.name, strings.Join(t.columns, ", "))
		}
		return nil
	}
	idName, sortedName := "", bulkSortedColumns[t.name]
	if t.idName != "" {
		idName = t.idName
	}
	t.id, t.sorted, t.held = -1, -1, false
	for i, col := range columns {
		if !slices.Contains(t.all, col) {
			return Errorf(EINTERNAL, "bulk load: %s has no column %s (columns: %s)", t.name, col, strings.Join(t.all, ", "))
		}
		if slices.Index(columns, col) != i {
			return Errorf(EINTERNAL, "bulk load: %s: column %s is named twice", t.name, col)
		}
		switch col {
		case idName:
			t.id = i
		case sortedName:
			t.sorted, t.held = i, true
		}
	}
	t.columns, t.projected = slices.Clone(columns), true
	t.insert = t.insertFunc()
	return nil
}

// New returns another empty collection for the same table.
func (r *BulkRows) New() *BulkRows { return &BulkRows{t: r.t} }

// Add appends a row: the columns named to Rows, in that order. A row of
// another length is an error that Write reports.
func (r *BulkRows) Add(vals ...any) {
	if len(vals) != len(r.t.columns) {
		if r.err == nil {
			r.err = Errorf(EINTERNAL, "bulk load: a row of %d values for %s, written as %d columns (%s)",
				len(vals), r.t.name, len(r.t.columns), strings.Join(r.t.columns, ", "))
		}
		return
	}
	r.vals = append(r.vals, vals...)
}

// Reset empties the collection for reuse.
func (r *BulkRows) Reset() {
	clear(r.vals)
	r.vals, r.err = r.vals[:0], nil
}

// BulkTx is one transaction of a load. Its Tx does ordinary writes and reads
// in the same transaction (an audit row), run unprepared.
type BulkTx struct {
	*Tx
	l      *BulkLoader
	cancel context.Context // checked between writes
}

// FirstID returns the id the transaction's first new row of table gets: a
// caller that names its rows' ids (for other rows to refer to) numbers them
// from it, one after another.
func (t *BulkTx) FirstID(ctx context.Context, table string) (int64, error) {
	bt, ok := t.l.tables[table]
	if !ok || bt.idName == "" {
		return 0, Errorf(EINTERNAL, "bulk load: %s has no id column", table)
	}
	if bt.next == 0 && t.l.db.pg != nil {
		id, err := t.pgFirstID(ctx, bt)
		if err != nil {
			return 0, err
		}
		bt.next = id
	}
	if bt.next == 0 {
		// The transaction holds the write lock, so nobody else can take
		// the ids from here on meanwhile.
		if err := t.queryRow(ctx, `SELECT coalesce(max(`+bt.idName+`), 0) + 1 FROM `+bt.name).Scan(&bt.next); err != nil {
			return 0, err
		}
	}
	return bt.next, nil
}

// Write adds the rows to the transaction and empties nothing: the caller may
// reuse them once it returns. Rows are written a statement's worth at a time;
// the rest, and tables of sorted columns, when the transaction ends.
func (t *BulkTx) Write(ctx context.Context, rows ...*BulkRows) error {
	if err := t.cancel.Err(); err != nil {
		return err
	}
	for _, r := range rows {
		if r.err != nil {
			return r.err
		}
		if err := t.ready(ctx, r.t); err != nil {
			return err
		}
		r.t.pending = append(r.t.pending, r.vals...)
	}
	if t.l.db.pg != nil {
		return t.pgWrite(ctx, false)
	}
	return t.l.raw(func() error {
		for _, r := range rows {
			if !r.t.held {
				if err := t.flush(r.t, false); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// ready looks up the next id of a table that has one, which flush needs
// and cannot look up itself: the transaction is not to be used inside raw.
func (t *BulkTx) ready(ctx context.Context, bt *bulkTable) error {
	if bt.idName == "" || bt.next != 0 {
		return nil
	}
	_, err := t.FirstID(ctx, bt.name)
	return err
}

// raw runs fn with l.dc set: the rows go through the driver's connection,
// inside the transaction open on it, not through database/sql, which would
// convert every argument and allocate a slice for them on each call, garbage
// by the gigabyte at a million customers. The transaction must not be used
// until fn returns.
func (l *BulkLoader) raw(fn func() error) error {
	return l.conn.Raw(func(dc any) error {
		l.dc = dc.(driver.ConnPrepareContext)
		defer func() { l.dc = nil }()
		return fn()
	})
}

// flush writes every full statement's worth of a table's pending rows, or
// all of them.
func (t *BulkTx) flush(bt *bulkTable, all bool) error {
	// The driver watches a cancellable context with a goroutine and a
	// progress handler per statement, which over the tens of thousands of
	// statements here adds up; Write checks for cancellation instead (and
	// the transaction itself stays bound to the caller's context).
	ctx := context.WithoutCancel(t.cancel)
	ncol := len(bt.columns)
	args := bt.pending
	done := 0
	for left := len(args) - done; left >= bulkRowsPerStatement*ncol || (all && left > 0); left = len(args) - done {
		rows := min(left/ncol, bulkRowsPerStatement)
		s, err := t.l.stmts.get(ctx, bt.insert(rows))
		if err != nil {
			return err
		}
		t.l.nv = t.l.nv[:0]
		for r := range rows {
			row := args[done+r*ncol : done+(r+1)*ncol]
			for c, a := range row {
				if c == bt.id {
					// Left to SQLite, which gives the rows bt.next
					// onwards: a caller's id must be that one.
					if want := bt.next + int64(r); a != nil && !sameInt(a, want) {
						return fmt.Errorf("writing %s: a row has id %v where the next free one is %d; take ids from FirstID, one after another", bt.name, a, want)
					}
					continue
				}
				if v, ok := a.(int); ok {
					a = int64(v) // what database/sql would have done
				}
				t.l.nv = append(t.l.nv, driver.NamedValue{Ordinal: len(t.l.nv) + 1, Value: a})
			}
		}
		res, err := s.(driver.StmtExecContext).ExecContext(ctx, t.l.nv)
		if err != nil {
			return fmt.Errorf("writing %s: %w", bt.name, err)
		}
		if bt.idName != "" {
			bt.next += int64(rows)
			if last, err := res.LastInsertId(); err != nil || last != bt.next-1 {
				return fmt.Errorf("writing %s: got id %d, expected %d (%v)", bt.name, last, bt.next-1, err)
			}
		}
		done += rows * ncol
	}
	k := copy(args, args[done:])
	clear(args[k:])
	bt.pending = args[:k]
	return nil
}

func sameInt(a any, want int64) bool {
	switch v := a.(type) {
	case int64:
		return v == want
	case int:
		return int64(v) == want
	}
	return false
}

// sortColumn deals a held table's sorted column out in ascending order.
func (bt *bulkTable) sortColumn() error {
	ncol := len(bt.columns)
	vals := make([][]byte, 0, len(bt.pending)/ncol)
	for i := bt.sorted; i < len(bt.pending); i += ncol {
		b, ok := bt.pending[i].([]byte)
		if !ok {
			return fmt.Errorf("writing %s: %s must be bytes", bt.name, bt.columns[bt.sorted])
		}
		vals = append(vals, b)
	}
	slices.SortFunc(vals, bytes.Compare)
	for k, i := 0, bt.sorted; i < len(bt.pending); k, i = k+1, i+ncol {
		bt.pending[i] = vals[k]
	}
	return nil
}

// Load writes customers customers (and whatever hangs off them) in
// transactions of at most BulkTxCustomers: for each, fill gets how many
// customers were written before it and how many it is to write, and writes
// them with Write. The INSERT triggers of the tables it writes are dropped
// for the transaction and stood in for at its end (see bulkStandIns); no
// other connection ever sees them missing.
//
// On PostgreSQL, into a database with no customers, the whole load is one
// transaction instead (pgLoadEmpty).
func (l *BulkLoader) Load(ctx context.Context, customers int, fill func(tx *BulkTx, done, n int) error) error {
	// write has fill write n customers, done written before them, in sqlTx.
	write := func(sqlTx *sql.Tx, done, n int) error {
		t := &BulkTx{Tx: &Tx{conn{db: l.db, tx: sqlTx}}, l: l, cancel: ctx}
		return t.run(ctx, func() error { return fill(t, done, n) })
	}
	if l.db.pg != nil {
		if loaded, err := l.pgLoadEmpty(ctx, customers, write); err != nil || loaded {
			return err
		}
	}
	return bulkChunks(customers, func(done, n int) error {
		return l.tx(ctx, func(sqlTx *sql.Tx) error { return write(sqlTx, done, n) })
	})
}

// bulkChunks calls fn for each transaction's worth (BulkTxCustomers) of
// customers customers: done written before them, n of them.
func bulkChunks(customers int, fn func(done, n int) error) error {
	for done := 0; done < customers; done += BulkTxCustomers {
		if err := fn(done, min(BulkTxCustomers, customers-done)); err != nil {
			return err
		}
	}
	return nil
}

// run does the door's part of a transaction around fill.
func (t *BulkTx) run(ctx context.Context, fill func() error) error {
	for _, bt := range t.l.tables {
		bt.pending, bt.next = bt.pending[:0], 0
	}
	if t.l.db.pg != nil {
		return t.pgRun(ctx, fill)
	}
	// Each stand-in gets the range of ids its trigger's table gained in
	// this transaction, however they were written.
	first := map[string]int64{}
	for _, tr := range t.l.inserts {
		if _, ok := first[tr.table]; ok {
			continue
		}
		id, err := t.FirstID(ctx, tr.table)
		if err != nil {
			return fmt.Errorf("standing in for trigger %s: %w", tr.name, err)
		}
		first[tr.table] = id
	}
	for _, tr := range t.l.inserts {
		if _, err := t.exec(ctx, `DROP TRIGGER `+tr.name); err != nil {
			return err
		}
	}
	if err := t.setAutomerge(ctx, bulkFTSAutomerge); err != nil {
		return err
	}
	if err := fill(); err != nil {
		return err
	}
	for _, bt := range t.l.tables {
		if len(bt.pending) > 0 {
			if err := t.ready(ctx, bt); err != nil {
				return err
			}
		}
	}
	err := t.l.raw(func() error {
		for _, bt := range t.l.tables {
			if bt.held && len(bt.pending) > 0 {
				if err := bt.sortColumn(); err != nil {
					return err
				}
			}
			if err := t.flush(bt, true); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	last := map[string]int64{}
	for _, tr := range t.l.inserts {
		if _, ok := last[tr.table]; ok {
			continue
		}
		var id int64
		if err := t.queryRow(ctx, `SELECT coalesce(max(`+t.l.tables[tr.table].idName+`), 0) FROM `+tr.table).Scan(&id); err != nil {
			return err
		}
		last[tr.table] = id
	}
	for _, tr := range t.l.inserts {
		if _, err := t.exec(ctx, tr.bulk, first[tr.table], last[tr.table], 0); err != nil {
			return fmt.Errorf("standing in for trigger %s: %w", tr.name, err)
		}
		if _, err := t.exec(ctx, tr.ddl); err != nil {
			return err
		}
	}
	return t.setAutomerge(ctx, t.l.automerge)
}

// setAutomerge sets the search index's automerge.
func (t *BulkTx) setAutomerge(ctx context.Context, n int) error {
	_, err := t.exec(ctx, `INSERT INTO customers_fts (customers_fts, rank) VALUES ('automerge', ?)`, n)
	return err
}

// Tx runs fn in an ordinary write transaction on the loader's connection
// (the rest of the app's writes wait for BulkLoad to end): for the rows a
// load hangs off (an organization, its staff), written the usual way.
func (l *BulkLoader) Tx(ctx context.Context, fn func(tx *Tx) error) error {
	return l.tx(ctx, func(sqlTx *sql.Tx) error { return fn(&Tx{conn{db: l.db, tx: sqlTx}}) })
}

// tx runs fn in a write transaction on the loader's connection.
func (l *BulkLoader) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := l.conn.BeginTx(ctx, nil)
	if err != nil {
		return wrapBusy(err)
	}
	if l.db.pg != nil {
		if err := pgLockWrites(ctx, tx); err != nil {
			tx.Rollback()
			return wrapBusy(err)
		}
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return wrapBusy(tx.Commit())
}

// DeleteCustomers deletes an organization's customers and everything about
// them (custom values, bookings, payments, subscriptions, invites, sessions,
// audit rows about them) and all of its outbox. Foreign keys are off (see
// bulkTune), so nothing cascades: every dependent row is deleted explicitly.
func (l *BulkLoader) DeleteCustomers(ctx context.Context, orgID int64) error {
	if l.db.pg != nil {
		return l.pgDeleteCustomers(ctx, orgID)
	}
	var lo, hi sql.NullInt64
	var others bool
	if err := l.conn.QueryRowContext(ctx, `SELECT min(id), max(id), EXISTS (SELECT 1 FROM customers WHERE org_id <> ?1) FROM customers WHERE org_id = ?1`, orgID).Scan(&lo, &hi, &others); err != nil {
		return err
	}
	if !lo.Valid {
		return nil
	}
	if !others {
		return l.tx(ctx, func(tx *sql.Tx) error { return l.deleteAll(ctx, tx, orgID) })
	}
	// Other organizations' customers stay, so a window of the
	// organization's ids per transaction, the triggers doing their part.
	const ids = `(SELECT id FROM customers WHERE id BETWEEN ?1 AND ?2 AND org_id = ?3)`
	stmts := []string{
		`DELETE FROM outbox WHERE id IN (SELECT outbox_id FROM invites WHERE customer_id IN ` + ids + `)`,
		`DELETE FROM invites WHERE customer_id IN ` + ids,
		`DELETE FROM audit WHERE customer_id IN ` + ids,
		`DELETE FROM custom_field_values WHERE customer_id IN ` + ids,
		`DELETE FROM bookings WHERE customer_id IN ` + ids,
		`DELETE FROM payments WHERE customer_id IN ` + ids,
		`DELETE FROM subscriptions WHERE customer_id IN ` + ids,
		`DELETE FROM sessions WHERE customer_id IN ` + ids, // ids are reused: a session left over would sign in as the next owner
		`DELETE FROM customers WHERE id BETWEEN ?1 AND ?2 AND org_id = ?3`,
	}
	for from := lo.Int64; from <= hi.Int64; from += int64(BulkTxCustomers) {
		to := from + int64(BulkTxCustomers) - 1
		err := l.tx(ctx, func(tx *sql.Tx) error {
			for _, s := range stmts {
				if _, err := tx.ExecContext(ctx, s, from, to, orgID); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	// Messages that no invite pointed at.
	return l.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE org_id = ?`, orgID)
		return err
	})
}

// deleteAll empties the customer tables when every customer is the
// organization's, in one transaction. A DELETE with no WHERE on a table
// without triggers drops its pages wholesale instead of deleting row by row
// (SQLite's truncate optimization), so the DELETE triggers are dropped and
// stood in for, as Load does with the INSERT ones: a million customers go in
// seconds instead of a minute.
func (l *BulkLoader) deleteAll(ctx context.Context, tx *sql.Tx, orgID int64) error {
	var otherMail bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM outbox WHERE org_id <> ?)`, orgID).Scan(&otherMail); err != nil {
		return err
	}
	outbox := `DELETE FROM outbox`
	if otherMail {
		outbox += ` WHERE org_id = ?1`
	}
	for _, t := range l.deletes {
		if _, err := tx.ExecContext(ctx, `DROP TRIGGER `+t.name); err != nil {
			return err
		}
	}
	for _, q := range []string{
		outbox,
		`DELETE FROM invites`,
		`DELETE FROM audit WHERE customer_id IS NOT NULL`,
		`DELETE FROM custom_field_values`,
		`DELETE FROM bookings`,
		`DELETE FROM payments`,
		`DELETE FROM subscriptions`,
		`DELETE FROM sessions`,
		`DELETE FROM customers`,
	} {
		if _, err := tx.ExecContext(ctx, q, orgID); err != nil {
			return err
		}
	}
	for _, t := range l.deletes {
		if _, err := tx.ExecContext(ctx, t.bulk, 0, 0, orgID); err != nil {
			return fmt.Errorf("standing in for trigger %s: %w", t.name, err)
		}
		if _, err := tx.ExecContext(ctx, t.ddl); err != nil {
			return err
		}
	}
	return nil
}

// Customers' triggers (the search index, the roster counts) run inside
// each customer's INSERT, which makes every such statement one with a
// statement journal (see bulkRowsPerStatement), at whose start FTS5 also
// flushes its buffered terms as a new segment. That was a small segment per
// statement to write and merge again and again, and every page the triggers
// touched copied first: most of a million-customer run. So each Load
// transaction drops the INSERT triggers of the tables it writes, does their
// work for all its rows with one statement each at the end, and recreates
// them. Deleting every customer does the same with customers' DELETE
// triggers (see deleteAll). The change log's triggers (migration 0009) are
// stood in for by one organization-wide change per table and transaction:
// a million rows of "this customer changed" would cost the load time and
// tell every screen nothing more than "everything changed".
//
// bulkStandIns says what the door does instead of each trigger (?1 and ?2 are
// the range of ids the trigger's table gained, ?3 the organization), and the
// trigger's SQL it was written against, whitespace collapsed. A migration
// that changes one of these triggers, or adds an INSERT trigger on a table
// the door writes or a DELETE trigger on customers, must change this too:
// BulkLoad refuses to start otherwise, and TestBulkStandInsMatchTriggers
// fails.
var bulkStandIns = map[string]struct{ trigger, bulk string }{
	"customers_fts_insert": {
		`CREATE TRIGGER customers_fts_insert AFTER INSERT ON customers BEGIN INSERT INTO customers_fts (rowid, name, email, phone) VALUES ( new.id, new.first_name || ' ' || new.last_name || ' ' || new.name_keys, new.email, new.phone_keys); END`,
		`INSERT INTO customers_fts (rowid, name, email, phone) ` + ftsRows + ` WHERE id BETWEEN ?1 AND ?2`,
	},
	"customers_count_insert": {
		`CREATE TRIGGER customers_count_insert AFTER INSERT ON customers WHEN new.archived = 0 BEGIN INSERT INTO roster_counts (org_id, state, n) VALUES (new.org_id, new.state, 1) ON CONFLICT (org_id, state) DO UPDATE SET n = n + 1; END`,
		`INSERT INTO roster_counts (org_id, state, n)
			SELECT org_id, state, count(*) FROM customers WHERE id BETWEEN ?1 AND ?2 AND archived = 0 GROUP BY org_id, state
			ON CONFLICT (org_id, state) DO UPDATE SET n = n + excluded.n`,
	},
	"customers_funnel_insert": {
		`CREATE TRIGGER customers_funnel_insert AFTER INSERT ON customers WHEN new.archived = 0 AND new.funnel > 0 BEGIN INSERT INTO funnel_counts (org_id, stage, n) VALUES (new.org_id, new.funnel, 1) ON CONFLICT (org_id, stage) DO UPDATE SET n = n + 1; END`,
		`INSERT INTO funnel_counts (org_id, stage, n)
			SELECT org_id, funnel, count(*) FROM customers WHERE id BETWEEN ?1 AND ?2 AND archived = 0 AND funnel > 0 GROUP BY org_id, funnel
			ON CONFLICT (org_id, stage) DO UPDATE SET n = n + excluded.n`,
	},
	"customers_change_insert": {
		`CREATE TRIGGER customers_change_insert AFTER INSERT ON customers BEGIN INSERT INTO changes (org_id, customer_id, kind) VALUES (new.org_id, new.id, 'customer'); END`,
		`INSERT INTO changes (org_id, customer_id, kind) SELECT DISTINCT org_id, 0, 'customer' FROM customers WHERE id BETWEEN ?1 AND ?2`,
	},
	"invites_change_insert": {
		`CREATE TRIGGER invites_change_insert AFTER INSERT ON invites BEGIN INSERT INTO changes (org_id, customer_id, kind) VALUES (new.org_id, new.customer_id, 'invite'); END`,
		`INSERT INTO changes (org_id, customer_id, kind) SELECT DISTINCT org_id, 0, 'invite' FROM invites WHERE id BETWEEN ?1 AND ?2`,
	},
	"outbox_change_insert": {
		`CREATE TRIGGER outbox_change_insert AFTER INSERT ON outbox BEGIN INSERT INTO changes (org_id, customer_id, kind) VALUES (new.org_id, coalesce(new.customer_id, 0), 'outbox'); END`,
		`INSERT INTO changes (org_id, customer_id, kind) SELECT DISTINCT org_id, 0, 'outbox' FROM outbox WHERE id BETWEEN ?1 AND ?2`,
	},
	"customers_archived_insert": {
		`CREATE TRIGGER customers_archived_insert AFTER INSERT ON customers WHEN new.archived = 1 BEGIN INSERT INTO archived_counts (org_id, n) VALUES (new.org_id, 1) ON CONFLICT (org_id) DO UPDATE SET n = n + 1; END`,
		`INSERT INTO archived_counts (org_id, n)
			SELECT org_id, count(*) FROM customers WHERE id BETWEEN ?1 AND ?2 AND archived = 1 GROUP BY org_id
			ON CONFLICT (org_id) DO UPDATE SET n = n + excluded.n`,
	},
	"customers_fts_delete": {
		`CREATE TRIGGER customers_fts_delete AFTER DELETE ON customers BEGIN DELETE FROM customers_fts WHERE rowid = old.id; END`,
		`INSERT INTO customers_fts (customers_fts) VALUES ('delete-all')`,
	},
	"customers_count_delete": {
		`CREATE TRIGGER customers_count_delete AFTER DELETE ON customers WHEN old.archived = 0 BEGIN UPDATE roster_counts SET n = n - 1 WHERE org_id = old.org_id AND state = old.state; END`,
		`UPDATE roster_counts SET n = 0 WHERE org_id = ?3`,
	},
	"customers_archived_delete": {
		`CREATE TRIGGER customers_archived_delete AFTER DELETE ON customers WHEN old.archived = 1 BEGIN UPDATE archived_counts SET n = n - 1 WHERE org_id = old.org_id; END`,
		`UPDATE archived_counts SET n = 0 WHERE org_id = ?3`,
	},
	"customers_funnel_delete": {
		`CREATE TRIGGER customers_funnel_delete AFTER DELETE ON customers WHEN old.archived = 0 AND old.funnel > 0 BEGIN UPDATE funnel_counts SET n = n - 1 WHERE org_id = old.org_id AND stage = old.funnel; END`,
		`UPDATE funnel_counts SET n = 0 WHERE org_id = ?3`,
	},
	"customers_change_delete": {
		`CREATE TRIGGER customers_change_delete AFTER DELETE ON customers BEGIN INSERT INTO changes (org_id, customer_id, kind) VALUES (old.org_id, old.id, 'customer'); END`,
		`INSERT INTO changes (org_id, customer_id, kind) VALUES (?3, 0, 'customer')`,
	},
}

// ftsRows is what the search index holds of each customer, as the
// customers_fts_insert and _update triggers write it, for the code that
// does their work in bulk (the door, rebuildSearchKeys).
const ftsRows = `SELECT id, first_name || ' ' || last_name || ' ' || name_keys, email, phone_keys FROM customers`

// bulkNeverLoaded are tables a load writes only through BulkLoader.Tx, the
// ordinary way, or through another trigger's stand-in, with their triggers:
// Rows refuses them, and their INSERT triggers need no stand-in.
// PostgreSQL's search documents are written by the stand-in of the
// customers' search trigger, set-wise, and their words by the documents'
// own statement triggers (migration 0024), set-wise too.
var bulkNeverLoaded = map[string]bool{"orgs": true, "staff": true, "staff_keys": true, "changes": true, "customers_search": true}

// bulkTrigger is a trigger the door stands in for.
type bulkTrigger struct {
	name, table, ddl, bulk string
}

// bulkTriggerEvent is the event of a trigger on table (whitespace-collapsed
// SQL) the door stands in for: "INSERT" for an INSERT trigger on a table it
// may write, "DELETE" for a DELETE trigger on customers, "" for the rest.
func bulkTriggerEvent(table, flat string) string {
	up := strings.ToUpper(flat)
	on := " ON " + strings.ToUpper(table) + " "
	switch {
	case strings.Contains(up, " INSERT"+on) && !bulkNeverLoaded[table]:
		return "INSERT"
	case strings.Contains(up, " DELETE"+on) && table == "customers":
		return "DELETE"
	}
	return ""
}

// bulkTriggers returns the triggers the door stands in for, by event,
// with their stand-ins. A trigger without one, or whose SQL is no longer
// what its stand-in was written against, is an error: standing in for it
// would load wrong data, and leaving it to fire would make a load many times
// slower without anyone noticing.
func bulkTriggers(ctx context.Context, conn *sql.Conn) (inserts, deletes []bulkTrigger, err error) {
	rows, err := conn.QueryContext(ctx, `SELECT name, tbl_name, sql FROM sqlite_schema WHERE type = 'trigger' ORDER BY name`)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var name, table, ddl string
		if err := rows.Scan(&name, &table, &ddl); err != nil {
			return nil, nil, err
		}
		flat := strings.Join(strings.Fields(ddl), " ")
		event := bulkTriggerEvent(table, flat)
		if event == "" {
			continue
		}
		si, ok := bulkStandIns[name]
		if !ok {
			return nil, nil, Errorf(EINTERNAL, "store: trigger %s on %s has no bulk-load stand-in; add one to bulkStandIns", name, table)
		}
		if si.trigger != flat {
			return nil, nil, Errorf(EINTERNAL, "store: trigger %s on %s changed since its bulk-load stand-in was written; update bulkStandIns to do what it now does", name, table)
		}
		t := bulkTrigger{name, table, ddl, si.bulk}
		if event == "INSERT" {
			inserts = append(inserts, t)
		} else {
			deletes = append(deletes, t)
		}
	}
	return inserts, deletes, rows.Err()
}

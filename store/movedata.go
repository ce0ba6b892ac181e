package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// MovedTable is what MoveData moved of one table: its rows, counted on
// both sides.
type MovedTable struct {
	Name string
	Rows int64
}

// MoveOptions are MoveData's.
type MoveOptions struct {
	// Progress, if set, hears of each table as its rows go: done of total,
	// every pgCopyRows rows and at its end.
	Progress func(table string, done, total int64)
}

// moveDerived are the target's tables the source has no twin of, and the
// trigger whose bulk-load stand-in fills each from what was moved: the
// search documents (SQLite's search index, customers_fts, is not moved;
// the target makes its own), and their words, which no stand-in fills:
// the documents' own triggers do (migration 0024), so these tables keep
// their triggers during the move.
var moveDerived = map[string]string{"customers_search": "customers_search_insert", "customers_search_words": ""}

// MoveData copies the whole of a SQLite database into an empty PostgreSQL
// one (a frontdesk deployment moving to several nodes): every
// organization and every table, ids kept, the id sequences set past them.
// It reads one snapshot of the source and writes in one transaction on the
// target, holding the write lock, so the target has all of it or none.
// Before committing it counts every table on both sides and fails, leaving
// the target empty, if one differs. It refuses a target that holds
// anything, saying what.
//
// Rows go through the bulk-load door's COPY (BulkLoader on PostgreSQL):
// the target's triggers are disabled for the transaction, since what they
// keep (counts, the change log) is copied as it is, and the search
// documents are made by their trigger's stand-in. Outbox bodies are copied
// as they are, sealed: the target needs the source's outbox key file.
func MoveData(ctx context.Context, from, to *DB, opt MoveOptions) ([]MovedTable, error) {
	if from.pg != nil || to.pg == nil {
		return nil, Errorf(EINVALID, "moving data goes from a SQLite file to a PostgreSQL database")
	}
	src, err := from.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer src.Rollback()
	srcTables, err := moveSourceTables(ctx, src)
	if err != nil {
		return nil, err
	}
	var fromV, toV int
	if err := src.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&fromV); err != nil {
		return nil, err
	}
	if err := to.read.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&toV); err != nil {
		return nil, err
	}
	// Each engine has migrations of its own (PostgreSQL's 0021 makes its
	// change log notify), so the numbers differ: each side must be at this
	// binary's newest for its engine, which is the same schema.
	if fromV != latest(SQLite) || toV != latest(Postgres) {
		return nil, Errorf(EINVALID, "the SQLite database is at schema version %d and the PostgreSQL one at %d, where this frontdesk's are %d and %d; open both with this frontdesk first", fromV, toV, latest(SQLite), latest(Postgres))
	}

	c, err := to.write.Conn(ctx)
	if err != nil {
		return nil, wrapBusy(err)
	}
	defer c.Close()
	l := &BulkLoader{db: to, conn: c}
	if err := l.pgReadSchema(ctx); err != nil {
		return nil, err
	}
	// The same tables and columns on both sides, the derived ones and each
	// engine's record of its migrations aside.
	for name, cols := range srcTables {
		t := l.tables[name]
		if t == nil {
			return nil, Errorf(EINVALID, "the PostgreSQL database has no table %s, which the SQLite one has", name)
		}
		if !slices.Equal(slices.Sorted(slices.Values(t.all)), slices.Sorted(slices.Values(cols))) {
			return nil, Errorf(EINVALID, "table %s has columns (%s) in the SQLite database and (%s) in the PostgreSQL one",
				name, strings.Join(cols, ", "), strings.Join(t.all, ", "))
		}
	}
	for name := range l.tables {
		_, derived := moveDerived[name]
		if _, ok := srcTables[name]; !ok && !derived && name != "schema_migrations" {
			return nil, Errorf(EINVALID, "the PostgreSQL database has a table %s, which the SQLite one has not", name)
		}
	}

	var moved []MovedTable
	err = l.tx(ctx, func(tx *sql.Tx) error {
		if err := moveRefuseNonEmpty(ctx, tx, l.order, srcTables); err != nil {
			return err
		}
		for _, t := range l.order {
			if _, derived := moveDerived[t.name]; derived || t.name == "schema_migrations" {
				continue
			}
			if _, err := tx.ExecContext(ctx, `ALTER TABLE `+pgx.Identifier{t.name}.Sanitize()+` DISABLE TRIGGER USER`); err != nil {
				return err
			}
		}
		moved = moved[:0]
		for _, t := range l.order {
			cols, ok := srcTables[t.name]
			if !ok {
				continue
			}
			n, err := l.moveTable(ctx, src, t.name, cols, opt.Progress)
			if err != nil {
				return fmt.Errorf("moving %s: %w", t.name, err)
			}
			moved = append(moved, MovedTable{t.name, n})
		}
		for table, trigger := range moveDerived {
			if _, ok := l.tables[table]; !ok || trigger == "" {
				continue
			}
			si, ok := pgBulkStandIns[trigger]
			if !ok {
				return Errorf(EINTERNAL, "store: no stand-in for %s to fill %s with", trigger, table)
			}
			if _, err := tx.ExecContext(ctx, si.bulk, 0, int64(1)<<62); err != nil {
				return fmt.Errorf("making %s: %w", table, err)
			}
		}
		for _, t := range l.order {
			if t.idName != "" {
				if err := pgSetSequence(ctx, tx, t.name, t.idName); err != nil {
					return err
				}
			}
			if _, derived := moveDerived[t.name]; derived || t.name == "schema_migrations" {
				continue
			}
			if _, err := tx.ExecContext(ctx, `ALTER TABLE `+pgx.Identifier{t.name}.Sanitize()+` ENABLE TRIGGER USER`); err != nil {
				return err
			}
		}
		return moveVerify(ctx, src, tx, moved)
	})
	if err != nil {
		return nil, err
	}
	// Planner statistics for what was moved (see pgBulkLoad).
	_, err = c.ExecContext(ctx, `ANALYZE`)
	return moved, err
}

// moveSourceTables lists the source's tables with their columns: ordinary
// tables only (not FTS5's index and its shadow tables, which are the
// source's own search index) and not its record of migrations.
func moveSourceTables(ctx context.Context, src *sql.Tx) (map[string][]string, error) {
	rows, err := src.QueryContext(ctx, `SELECT t.name, c.name FROM pragma_table_list t JOIN pragma_table_info(t.name) c
		WHERE t.schema = 'main' AND t.type = 'table' AND t.name NOT LIKE 'sqlite_%' AND t.name <> 'schema_migrations'
		ORDER BY t.name, c.cid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			return nil, err
		}
		out[table] = append(out[table], col)
	}
	return out, rows.Err()
}

// moveRefuseNonEmpty fails unless every table to be written is empty,
// naming what the target holds.
func moveRefuseNonEmpty(ctx context.Context, tx *sql.Tx, order []*bulkTable, srcTables map[string][]string) error {
	var held []string
	for _, t := range order {
		_, derived := moveDerived[t.name]
		if _, ok := srcTables[t.name]; !ok && !derived {
			continue
		}
		var n int64
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+pgx.Identifier{t.name}.Sanitize()).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			held = append(held, fmt.Sprintf("%s %d", t.name, n))
		}
	}
	if len(held) == 0 {
		return nil
	}
	var orgs []string
	rows, err := tx.QueryContext(ctx, `SELECT slug FROM orgs ORDER BY id LIMIT 5`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		orgs = append(orgs, s)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	what := ""
	if len(orgs) > 0 {
		what = " (organizations " + strings.Join(orgs, ", ") + ")"
	}
	return Errorf(EINVALID, "the PostgreSQL database is not empty: it holds rows in %s%s; moving data goes into an empty database only, so make a new one (createdb) and give that", strings.Join(held, ", "), what)
}

// moveTable copies one table from the source snapshot by COPY, returning
// how many rows went.
func (l *BulkLoader) moveTable(ctx context.Context, src *sql.Tx, table string, cols []string, progress func(string, int64, int64)) (int64, error) {
	var total int64
	if err := src.QueryRowContext(ctx, `SELECT count(*) FROM "`+table+`"`).Scan(&total); err != nil {
		return 0, err
	}
	if total == 0 {
		return 0, nil
	}
	bytea, err := l.byteaColumns(ctx, table)
	if err != nil {
		return 0, err
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = `"` + c + `"`
	}
	// In rowid order where there is one: rows that refer to earlier rows
	// of their own table (a reminder to its invite) come after them.
	var order string
	var withoutRowid bool
	if err := src.QueryRowContext(ctx, `SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = ?`, table).Scan(&withoutRowid); err != nil {
		return 0, err
	}
	if !withoutRowid {
		order = ` ORDER BY rowid`
	}
	rows, err := src.QueryContext(ctx, `SELECT `+strings.Join(quoted, ", ")+` FROM "`+table+`"`+order)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	s := &moveSource{rows: rows, vals: make([]any, len(cols)), ptrs: make([]any, len(cols)), bytea: bytea, cols: cols, progress: progress, table: table, total: total}
	for i := range s.vals {
		s.ptrs[i] = &s.vals[i]
	}
	var n int64
	err = l.pgx(func(c *pgx.Conn) error {
		var err error
		n, err = c.CopyFrom(ctx, pgx.Identifier{table}, cols, s)
		return err
	})
	if err != nil {
		return 0, err
	}
	if progress != nil {
		progress(table, n, total)
	}
	return n, nil
}

// byteaColumns are the target table's BYTEA columns: SQLite may hand a blob
// back as text, which COPY would refuse for one.
func (l *BulkLoader) byteaColumns(ctx context.Context, table string) (map[string]bool, error) {
	rows, err := l.conn.QueryContext(ctx, `SELECT column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = ? AND data_type = 'bytea'`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out[c] = true
	}
	return out, rows.Err()
}

// moveSource streams a source table's rows into COPY.
type moveSource struct {
	rows        *sql.Rows
	vals, ptrs  []any
	bytea       map[string]bool
	cols        []string
	progress    func(string, int64, int64)
	table       string
	done, total int64
	err         error
}

func (s *moveSource) Next() bool {
	if !s.rows.Next() {
		return false
	}
	if err := s.rows.Scan(s.ptrs...); err != nil {
		s.err = err
		return false
	}
	for i, v := range s.vals {
		if str, ok := v.(string); ok && s.bytea[s.cols[i]] {
			s.vals[i] = []byte(str)
		}
	}
	s.done++
	if s.progress != nil && s.done%int64(pgCopyRows) == 0 {
		s.progress(s.table, s.done, s.total)
	}
	return true
}

func (s *moveSource) Values() ([]any, error) { return s.vals, nil }

func (s *moveSource) Err() error {
	if s.err != nil {
		return s.err
	}
	return s.rows.Err()
}

// moveVerify counts every moved table on both sides, and the derived ones
// against what they derive from.
func moveVerify(ctx context.Context, src, tx *sql.Tx, moved []MovedTable) error {
	for i, m := range moved {
		var a, b int64
		if err := src.QueryRowContext(ctx, `SELECT count(*) FROM "`+m.Name+`"`).Scan(&a); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+pgx.Identifier{m.Name}.Sanitize()).Scan(&b); err != nil {
			return err
		}
		if a != b || b != m.Rows {
			return Errorf(EINTERNAL, "table %s: %d rows in the SQLite database, %d in the PostgreSQL one after the copy; nothing was kept", m.Name, a, b)
		}
		moved[i].Rows = b
	}
	var customers, docs int64
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM customers_search)`).Scan(&customers, &docs); err != nil {
		return err
	}
	if customers != docs {
		return Errorf(EINTERNAL, "%d customers but %d search documents after the copy; nothing was kept", customers, docs)
	}
	return nil
}

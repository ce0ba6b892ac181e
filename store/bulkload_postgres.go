package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The bulk-load door on PostgreSQL: the same API as on SQLite (bulkload.go),
// its rows sent with COPY on the writer's connection (pgx's CopyFrom, reached
// through database/sql's Conn.Raw, inside the transaction open on it).
//
// What differs from SQLite, and why:
//   - Rows go out in COPYs of pgCopyRows, whatever the table: COPY has no
//     statement size to fit and no journal to spare, and fewer round trips
//     are what counts.
//   - Ids come from the tables' identity sequences. FirstID takes the next
//     value of the sequence (and no less than one past the largest id, for
//     ids written by hand); the ids the caller then numbers from it are
//     reserved by moving the sequence past them before the transaction ends
//     (pgReserveIDs). Every write transaction holds the write lock
//     (pgWriteLock) meanwhile, so no other writer of frontdesk, on any node,
//     takes one of them in between.
//   - Triggers are disabled for the transaction (ALTER TABLE … DISABLE
//     TRIGGER, which is transactional: nobody else ever sees them off; it
//     locks the table against other writes, which the write lock stops
//     anyway, but not against reads) and stood in for set-wise at its end,
//     as on SQLite (the search documents' COPY by COPY: pgBulkEachCopy).
//     Measured at 200,000 customers (BENCHMARKS.md): COPY with
//     the row triggers firing took several times as long as COPY plus the
//     stand-ins, the change log's trigger (one row and one look-up of the
//     largest number per customer) and the search document (one tsvector
//     per row, inserted into the GIN index one at a time) most of it.
//   - Foreign keys stay on: only a superuser may switch their triggers off,
//     and dropping the constraints would lock the tables against readers on
//     every node for the whole load. The generator writes parents first.
//     Only into a database with no customers at all, where there is nobody
//     to read, does a load set them aside, and the indexes with them, and
//     check and build them once at its end (pgLoadEmpty).
//   - DeleteCustomers deletes the organization's customers in one
//     transaction (PostgreSQL has no WAL to keep small, and readers never
//     see counts half-way), dependents explicitly, then the customers with
//     their DELETE triggers stood in for.

// pgCopyRows is how many rows of a table one COPY carries (a variable for
// tests to make several COPYs of a few rows).
var pgCopyRows = 20_000

// pgBulkStandIns says what the door does on PostgreSQL instead of each
// trigger, with the trigger it was written against: its definition and its
// function's source, whitespace collapsed (pgBulkTriggerSQL). An INSERT
// trigger's stand-in takes the range of ids its table gained (?1, ?2); a
// DELETE trigger's on customers, the organization whose customers were all
// deleted (?1). As on SQLite, a migration that changes one of these
// triggers, or adds one the door would have to stand in for, must change
// this too: BulkLoad refuses to start otherwise, and
// TestBulkStandInsMatchTriggers fails.
var pgBulkStandIns = map[string]struct{ trigger, bulk string }{
	"customers_search_insert": {
		`CREATE TRIGGER customers_search_insert AFTER INSERT ON customers FOR EACH ROW EXECUTE FUNCTION customers_search() BEGIN INSERT INTO customers_search (id, doc) VALUES (NEW.id, customers_search_doc(NEW.first_name, NEW.last_name, NEW.name_keys, NEW.email, NEW.phone_keys)) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc; RETURN NULL; END`,
		`INSERT INTO customers_search (id, doc)
			SELECT id, customers_search_doc(first_name, last_name, name_keys, email, phone_keys) FROM customers WHERE id BETWEEN ?1 AND ?2
			ON CONFLICT (id) DO UPDATE SET doc = excluded.doc`,
	},
	"customers_count_insert": {
		`CREATE TRIGGER customers_count_insert AFTER INSERT ON customers FOR EACH ROW WHEN ((new.archived = 0)) EXECUTE FUNCTION customers_count_insert() BEGIN PERFORM roster_count_add(NEW.org_id, NEW.state, 1); RETURN NULL; END`,
		`INSERT INTO roster_counts (org_id, state, n)
			SELECT org_id, state, count(*) FROM customers WHERE id BETWEEN ?1 AND ?2 AND archived = 0 GROUP BY org_id, state
			ON CONFLICT (org_id, state) DO UPDATE SET n = roster_counts.n + excluded.n`,
	},
	"customers_funnel_insert": {
		`CREATE TRIGGER customers_funnel_insert AFTER INSERT ON customers FOR EACH ROW WHEN (((new.archived = 0) AND (new.funnel > 0))) EXECUTE FUNCTION customers_funnel_insert() BEGIN PERFORM funnel_count_add(NEW.org_id, NEW.funnel, 1); RETURN NULL; END`,
		`INSERT INTO funnel_counts (org_id, stage, n)
			SELECT org_id, funnel, count(*) FROM customers WHERE id BETWEEN ?1 AND ?2 AND archived = 0 AND funnel > 0 GROUP BY org_id, funnel
			ON CONFLICT (org_id, stage) DO UPDATE SET n = funnel_counts.n + excluded.n`,
	},
	"customers_archived_insert": {
		`CREATE TRIGGER customers_archived_insert AFTER INSERT ON customers FOR EACH ROW WHEN ((new.archived = 1)) EXECUTE FUNCTION customers_archived_insert() BEGIN PERFORM archived_count_add(NEW.org_id, 1); RETURN NULL; END`,
		`INSERT INTO archived_counts (org_id, n)
			SELECT org_id, count(*) FROM customers WHERE id BETWEEN ?1 AND ?2 AND archived = 1 GROUP BY org_id
			ON CONFLICT (org_id) DO UPDATE SET n = archived_counts.n + excluded.n`,
	},
	// The change log: one organization-wide change per table and
	// transaction, as on SQLite (see bulkStandIns).
	"customers_change_insert": {
		`CREATE TRIGGER customers_change_insert AFTER INSERT ON customers FOR EACH ROW EXECUTE FUNCTION customers_change_new() BEGIN INSERT INTO changes (org_id, customer_id, kind) VALUES (NEW.org_id, NEW.id, 'customer'); RETURN NULL; END`,
		`INSERT INTO changes (org_id, customer_id, kind) SELECT DISTINCT org_id, 0, 'customer' FROM customers WHERE id BETWEEN ?1 AND ?2`,
	},
	"invites_change_insert": {
		`CREATE TRIGGER invites_change_insert AFTER INSERT ON invites FOR EACH ROW EXECUTE FUNCTION invites_change() BEGIN INSERT INTO changes (org_id, customer_id, kind) VALUES (NEW.org_id, NEW.customer_id, 'invite'); RETURN NULL; END`,
		`INSERT INTO changes (org_id, customer_id, kind) SELECT DISTINCT org_id, 0, 'invite' FROM invites WHERE id BETWEEN ?1 AND ?2`,
	},
	"outbox_change_insert": {
		`CREATE TRIGGER outbox_change_insert AFTER INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION outbox_change() BEGIN INSERT INTO changes (org_id, customer_id, kind) VALUES (NEW.org_id, coalesce(NEW.customer_id, 0), 'outbox'); RETURN NULL; END`,
		`INSERT INTO changes (org_id, customer_id, kind) SELECT DISTINCT org_id, 0, 'outbox' FROM outbox WHERE id BETWEEN ?1 AND ?2`,
	},
	"customers_count_delete": {
		`CREATE TRIGGER customers_count_delete AFTER DELETE ON customers FOR EACH ROW WHEN ((old.archived = 0)) EXECUTE FUNCTION customers_count_delete() BEGIN UPDATE roster_counts SET n = n - 1 WHERE org_id = OLD.org_id AND state = OLD.state; RETURN NULL; END`,
		`UPDATE roster_counts SET n = 0 WHERE org_id = ?1`,
	},
	"customers_archived_delete": {
		`CREATE TRIGGER customers_archived_delete AFTER DELETE ON customers FOR EACH ROW WHEN ((old.archived = 1)) EXECUTE FUNCTION customers_archived_delete() BEGIN UPDATE archived_counts SET n = n - 1 WHERE org_id = OLD.org_id; RETURN NULL; END`,
		`UPDATE archived_counts SET n = 0 WHERE org_id = ?1`,
	},
	"customers_funnel_delete": {
		`CREATE TRIGGER customers_funnel_delete AFTER DELETE ON customers FOR EACH ROW WHEN (((old.archived = 0) AND (old.funnel > 0))) EXECUTE FUNCTION customers_funnel_delete() BEGIN UPDATE funnel_counts SET n = n - 1 WHERE org_id = OLD.org_id AND stage = OLD.funnel; RETURN NULL; END`,
		`UPDATE funnel_counts SET n = 0 WHERE org_id = ?1`,
	},
	"customers_change_delete": {
		`CREATE TRIGGER customers_change_delete AFTER DELETE ON customers FOR EACH ROW EXECUTE FUNCTION customers_change_delete() BEGIN INSERT INTO changes (org_id, customer_id, kind) VALUES (OLD.org_id, OLD.id, 'customer'); RETURN NULL; END`,
		`INSERT INTO changes (org_id, customer_id, kind) VALUES (?1, 0, 'customer')`,
	},
}

// pgBulkEachCopy are the stand-ins that run after each COPY of their
// table, over the rows that COPY wrote, instead of once at the
// transaction's end, when the writer gives the table's ids (which are then
// known, one after another): the search documents, the most a load costs
// the server. Made batch by batch, they take the server's time while the
// caller makes the next rows, instead of after it has made them all (a
// million demo customers: 102-113 s instead of 118-126 s, BENCHMARKS.md).
// The others stay once a transaction: the change log's records one change
// per transaction, and the counts cost little.
var pgBulkEachCopy = map[string]bool{"customers_search_insert": true}

// pgBulkTriggerSQL lists the user triggers of the schema: name, table, the
// events they fire on (4 INSERT, 8 DELETE: pg_trigger.tgtype's bits), and
// what pgBulkStandIns records of them: the definition, unqualified by the
// schema, and the function's source, whitespace collapsed.
const pgBulkTriggerSQL = `SELECT t.tgname, c.relname, t.tgtype & 12,
		regexp_replace(replace(pg_get_triggerdef(t.oid), ' ON ' || quote_ident(n.nspname) || '.', ' ON ') || ' ' || p.prosrc, '\s+', ' ', 'g')
	FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_proc p ON p.oid = t.tgfoid
	WHERE NOT t.tgisinternal AND n.nspname = current_schema() ORDER BY t.tgname`

// pgBulkTriggers is bulkTriggers on PostgreSQL.
func pgBulkTriggers(ctx context.Context, conn *sql.Conn) (inserts, deletes []bulkTrigger, err error) {
	rows, err := conn.QueryContext(ctx, pgBulkTriggerSQL)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var name, table, def string
		var events int
		if err := rows.Scan(&name, &table, &events, &def); err != nil {
			return nil, nil, err
		}
		event := pgBulkTriggerEvent(table, events)
		if event == "" {
			continue
		}
		si, ok := pgBulkStandIns[name]
		if !ok {
			return nil, nil, Errorf(EINTERNAL, "store: trigger %s on %s has no bulk-load stand-in; add one to pgBulkStandIns", name, table)
		}
		if si.trigger != strings.TrimSpace(def) {
			return nil, nil, Errorf(EINTERNAL, "store: trigger %s on %s changed since its bulk-load stand-in was written; update pgBulkStandIns to do what it now does", name, table)
		}
		t := bulkTrigger{name: name, table: table, bulk: si.bulk}
		if event == "INSERT" {
			inserts = append(inserts, t)
		} else {
			deletes = append(deletes, t)
		}
	}
	return inserts, deletes, rows.Err()
}

// pgBulkTriggerEvent is bulkTriggerEvent for a trigger firing on events
// (tgtype's INSERT and DELETE bits).
func pgBulkTriggerEvent(table string, events int) string {
	switch {
	case events&4 != 0 && !bulkNeverLoaded[table]:
		return "INSERT"
	case events&8 != 0 && table == "customers":
		return "DELETE"
	}
	return ""
}

// pgReadSchema is readSchema on PostgreSQL: every table of the schema with
// its columns in order, and its identity column as its id.
func (l *BulkLoader) pgReadSchema(ctx context.Context) error {
	rows, err := l.conn.QueryContext(ctx, `SELECT c.relname, a.attname, a.attidentity <> ''
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid
		WHERE n.nspname = current_schema() AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY c.relname, a.attnum`)
	if err != nil {
		return err
	}
	defer rows.Close()
	l.tables = map[string]*bulkTable{}
	for rows.Next() {
		var table, col string
		var identity bool
		if err := rows.Scan(&table, &col, &identity); err != nil {
			return err
		}
		t := l.tables[table]
		if t == nil {
			t = &bulkTable{name: table, id: -1, sorted: -1}
			l.tables[table] = t
		}
		if identity {
			t.id, t.idName = len(t.columns), col
		}
		t.columns = append(t.columns, col)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, t := range l.tables {
		t.all = t.columns
	}
	if l.order, err = pgParentsFirst(ctx, l.conn, l.tables); err != nil {
		return err
	}
	l.inserts, l.deletes, err = pgBulkTriggers(ctx, l.conn)
	return err
}

// pgParentsFirst orders the tables so that every table comes after those
// its foreign keys point at (a table's keys to itself aside): the order
// rows are sent in, since the keys are checked as they arrive.
func pgParentsFirst(ctx context.Context, conn *sql.Conn, tables map[string]*bulkTable) ([]*bulkTable, error) {
	rows, err := conn.QueryContext(ctx, `SELECT c.relname, p.relname FROM pg_constraint k
		JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE k.contype = 'f' AND n.nspname = current_schema() AND k.conrelid <> k.confrelid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	parents := map[string][]string{}
	for rows.Next() {
		var child, parent string
		if err := rows.Scan(&child, &parent); err != nil {
			return nil, err
		}
		parents[child] = append(parents[child], parent)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	names := slices.Sorted(maps.Keys(tables))
	var order []*bulkTable
	state := map[string]int{} // 1 visiting, 2 placed
	var visit func(name string) error
	visit = func(name string) error {
		switch state[name] {
		case 1:
			return Errorf(EINTERNAL, "store: the foreign keys of %s go round in a circle; the bulk-load door cannot order its writes", name)
		case 2:
			return nil
		}
		state[name] = 1
		for _, p := range parents[name] {
			if err := visit(p); err != nil {
				return err
			}
		}
		state[name] = 2
		if t := tables[name]; t != nil {
			order = append(order, t)
		}
		return nil
	}
	for _, name := range names {
		if err := visit(name); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// pgFirstID is FirstID on PostgreSQL: the sequence's next value, or one
// past the largest id if that is more (ids written by hand, as a load
// writes them, do not move the sequence until pgReserveIDs does).
func (t *BulkTx) pgFirstID(ctx context.Context, bt *bulkTable) (int64, error) {
	var id int64
	err := t.queryRow(ctx, `SELECT greatest(nextval(pg_get_serial_sequence(?1, ?2)), (SELECT coalesce(max(`+pgx.Identifier{bt.idName}.Sanitize()+`), 0) + 1 FROM `+pgx.Identifier{bt.name}.Sanitize()+`))`,
		bt.name, bt.idName).Scan(&id)
	return id, err
}

// pgReserveIDs moves the id sequence of every table the transaction wrote
// ids into past the largest, so that rows inserted later, which take their
// ids from it, never take one the load wrote.
func (t *BulkTx) pgReserveIDs(ctx context.Context) error {
	for _, bt := range t.l.tables {
		if bt.id < 0 || bt.next == 0 {
			continue
		}
		if err := pgSetSequence(ctx, t.tx, bt.name, bt.idName); err != nil {
			return err
		}
	}
	return nil
}

// pgSetSequence moves the sequence of table's identity column col past
// the largest id in it (never back), or to 1 for an empty table.
func pgSetSequence(ctx context.Context, tx *sql.Tx, table, col string) error {
	_, err := tx.ExecContext(ctx, `SELECT setval(s, greatest(m, coalesce(pg_sequence_last_value(s), 0), 1), m > 0 OR pg_sequence_last_value(s) IS NOT NULL)
		FROM (SELECT CAST(pg_get_serial_sequence(?1, ?2) AS regclass) AS s, (SELECT coalesce(max(`+pgx.Identifier{col}.Sanitize()+`), 0) FROM `+pgx.Identifier{table}.Sanitize()+`) AS m) x`,
		table, col)
	if err != nil {
		return fmt.Errorf("moving the id sequence of %s past its rows: %w", table, err)
	}
	return nil
}

// pgWrite sends the pending rows of every table, parents first, once one
// of them has a COPY's worth, or when all is set.
func (t *BulkTx) pgWrite(ctx context.Context, all bool) error {
	if !all {
		full := false
		for _, bt := range t.l.order {
			full = full || (bt.projected && len(bt.pending)/len(bt.columns) >= pgCopyRows)
		}
		if !full {
			return nil
		}
	}
	for _, bt := range t.l.order {
		if err := t.pgFlush(ctx, bt); err != nil {
			return err
		}
	}
	return nil
}

// pgFlush sends a table's pending rows by COPY, checking the ids as flush
// does.
func (t *BulkTx) pgFlush(ctx context.Context, bt *bulkTable) error {
	ncol := len(bt.columns)
	rows := len(bt.pending) / ncol
	if rows == 0 {
		return nil
	}
	if bt.id >= 0 {
		for r := range rows {
			a := bt.pending[r*ncol+bt.id]
			if want := bt.next + int64(r); !sameInt(a, want) {
				return fmt.Errorf("writing %s: a row has id %v where the next free one is %d; take ids from FirstID, one after another", bt.name, a, want)
			}
		}
	}
	err := t.l.pgx(func(c *pgx.Conn) error {
		n, err := c.CopyFrom(ctx, pgx.Identifier{bt.name}, bt.columns, pgx.CopyFromSlice(rows, func(i int) ([]any, error) {
			return bt.pending[i*ncol : (i+1)*ncol], nil
		}))
		if err == nil && n != int64(rows) {
			err = fmt.Errorf("COPY wrote %d rows of %d", n, rows)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("writing %s: %w", bt.name, err)
	}
	if bt.id >= 0 {
		for _, tr := range t.l.inserts {
			if pgBulkEachCopy[tr.name] && tr.table == bt.name {
				if _, err := t.tx.ExecContext(ctx, tr.bulk, bt.next, bt.next+int64(rows)-1); err != nil {
					return fmt.Errorf("standing in for trigger %s: %w", tr.name, err)
				}
			}
		}
		bt.next += int64(rows)
	}
	clear(bt.pending)
	bt.pending = bt.pending[:0]
	return nil
}

// pgx runs fn with the pgx connection under the loader's, inside the
// transaction open on it; the transaction must not be used until fn
// returns.
func (l *BulkLoader) pgx(fn func(c *pgx.Conn) error) error {
	return l.conn.Raw(func(dc any) error {
		pc, ok := dc.(*pgConn)
		if !ok {
			return fmt.Errorf("store: the writer's connection is a %T, not PostgreSQL's", dc)
		}
		return fn(pc.pgx())
	})
}

// pgSetTriggers disables or enables the triggers for the transaction.
func pgSetTriggers(ctx context.Context, tx *sql.Tx, trs []bulkTrigger, enable bool) error {
	verb := "DISABLE"
	if enable {
		verb = "ENABLE"
	}
	for _, tr := range trs {
		if _, err := tx.ExecContext(ctx, `ALTER TABLE `+pgx.Identifier{tr.table}.Sanitize()+` `+verb+` TRIGGER `+pgx.Identifier{tr.name}.Sanitize()); err != nil {
			return fmt.Errorf("%s trigger %s: %w", strings.ToLower(verb), tr.name, err)
		}
	}
	return nil
}

// pgLoadEmpty is Load into a PostgreSQL database that holds no customers
// and no organization but the one loaded (a new deployment's, a demo's:
// pgFresh): the whole load in one transaction, with the foreign keys and
// indexes of the tables it writes and the primary key of the search's
// words set aside until its end (pgSetAside). Checked row by row, the keys
// were half of a load's time; kept row by row, the indexes made the COPY
// of the customers four times as long (BENCHMARKS.md). Put back, each is
// checked or built once, set-wise, and a row that breaks one fails the
// load, which leaves nothing behind. Setting them aside locks the tables
// against readers until the commit, which is why only an empty database
// gets this: nobody's customers are there to read. Into any other
// database it writes nothing and reports loaded false, and Load writes a
// transaction per BulkTxCustomers, every key checked and every index kept
// as rows arrive, readers never held.
func (l *BulkLoader) pgLoadEmpty(ctx context.Context, customers int, write func(sqlTx *sql.Tx, done, n int) error) (loaded bool, err error) {
	errNotEmpty := errors.New("not empty")
	err = l.tx(ctx, func(sqlTx *sql.Tx) error {
		// Under the write lock: no other node writes meanwhile.
		if fresh, err := pgFresh(ctx, sqlTx); err != nil || !fresh {
			return cmp.Or(err, errNotEmpty)
		}
		restore, err := l.pgSetAside(ctx, sqlTx)
		if err != nil {
			return err
		}
		if err := bulkChunks(customers, func(done, n int) error { return write(sqlTx, done, n) }); err != nil {
			return err
		}
		return restore()
	})
	if errors.Is(err, errNotEmpty) {
		return false, nil
	}
	return err == nil, err
}

// pgFresh reports whether the database holds no customers, and no
// organization but (at most) one: the one a load is for.
func pgFresh(ctx context.Context, tx *sql.Tx) (bool, error) {
	var fresh bool
	err := tx.QueryRowContext(ctx, `SELECT NOT EXISTS (SELECT 1 FROM customers) AND (SELECT count(*) FROM orgs) <= 1`).Scan(&fresh)
	return fresh, err
}

// pgSetAside drops, for the transaction, what makes each row written cost
// more than its own page: the foreign keys of the tables the load writes
// (those it has rows for, and the search documents the stand-ins write),
// their indexes other than those behind a constraint (a primary key, or
// a unique key a foreign key points at, which the stand-ins and the checks
// read), and the primary key of the search's words. Each index is then
// built once at the end from sorted rows, which costs a fraction of taking
// the rows one at a time (BENCHMARKS.md). It returns what adds them back
// as they were, the same names and definitions: the indexes first, a
// unique one checked as it is built, then each foreign key checked
// against every row in one query.
func (l *BulkLoader) pgSetAside(ctx context.Context, tx *sql.Tx) (restore func() error, err error) {
	var tables []string
	for _, t := range l.tables {
		if t.projected || t.name == "customers_search" {
			tables = append(tables, t.name)
		}
	}
	list, err := json.Marshal(tables)
	if err != nil {
		return nil, err
	}
	// Each row: the table, the name, how to drop it and how to add it back.
	rows, err := tx.QueryContext(ctx, `WITH written AS (
			SELECT c.oid FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace
			AND c.relname IN (SELECT value FROM json_array_elements_text(CAST(? AS json))))
		SELECT relname, name, drop_sql, add_sql FROM (
			SELECT c.relname, k.conname AS name,
				'ALTER TABLE ' || quote_ident(c.relname) || ' DROP CONSTRAINT ' || quote_ident(k.conname) AS drop_sql,
				'ALTER TABLE ' || quote_ident(c.relname) || ' ADD CONSTRAINT ' || quote_ident(k.conname) || ' ' || pg_get_constraintdef(k.oid) AS add_sql,
				k.contype = 'f' AS checked_last
			FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
			WHERE c.relnamespace = current_schema()::regnamespace
			AND ((k.contype = 'f' AND c.oid IN (SELECT oid FROM written))
				OR (k.contype = 'p' AND c.relname = 'customers_search_words'))
			UNION ALL
			SELECT c.relname, i.relname, 'DROP INDEX ' || quote_ident(i.relname), pg_get_indexdef(x.indexrelid), false
			FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
			WHERE x.indrelid IN (SELECT oid FROM written)
			AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)) s
		ORDER BY checked_last, relname, name`, string(list))
	if err != nil {
		return nil, err
	}
	type aside struct{ table, name, drop, add string }
	var set []aside
	for rows.Next() {
		var a aside
		if err := rows.Scan(&a.table, &a.name, &a.drop, &a.add); err != nil {
			rows.Close()
			return nil, err
		}
		set = append(set, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Foreign keys go first, an index one of them may need after.
	for _, a := range slices.Backward(set) {
		if _, err := tx.ExecContext(ctx, a.drop); err != nil {
			return nil, fmt.Errorf("setting aside %s of %s for the load: %w", a.name, a.table, err)
		}
	}
	return func() error {
		for _, a := range set {
			if _, err := tx.ExecContext(ctx, a.add); err != nil {
				return fmt.Errorf("the load broke %s of %s; nothing was kept: %w", a.name, a.table, err)
			}
		}
		return nil
	}, nil
}

// pgRun is run on PostgreSQL, past what the two share.
func (t *BulkTx) pgRun(ctx context.Context, fill func() error) error {
	// Each stand-in gets the range of ids its trigger's table gained in
	// this transaction: above the largest before it, however they were
	// written (a sequence only goes up).
	first := map[string]int64{}
	for _, tr := range t.l.inserts {
		if _, ok := first[tr.table]; ok {
			continue
		}
		bt := t.l.tables[tr.table]
		if bt == nil || bt.idName == "" {
			return Errorf(EINTERNAL, "store: trigger %s on %s: the table has no id column to stand in for it by", tr.name, tr.table)
		}
		var id int64
		if err := t.queryRow(ctx, `SELECT coalesce(max(`+pgx.Identifier{bt.idName}.Sanitize()+`), 0) + 1 FROM `+pgx.Identifier{bt.name}.Sanitize()).Scan(&id); err != nil {
			return err
		}
		first[tr.table] = id
	}
	if err := pgSetTriggers(ctx, t.tx, t.l.inserts, false); err != nil {
		return err
	}
	if err := fill(); err != nil {
		return err
	}
	if err := t.pgWrite(ctx, true); err != nil {
		return err
	}
	if err := t.pgReserveIDs(ctx); err != nil {
		return err
	}
	for _, tr := range t.l.inserts {
		bt := t.l.tables[tr.table]
		if pgBulkEachCopy[tr.name] && bt.id >= 0 {
			continue // done COPY by COPY (pgFlush)
		}
		var last int64
		if err := t.queryRow(ctx, `SELECT coalesce(max(`+pgx.Identifier{bt.idName}.Sanitize()+`), 0) FROM `+pgx.Identifier{bt.name}.Sanitize()).Scan(&last); err != nil {
			return err
		}
		if _, err := t.tx.ExecContext(ctx, tr.bulk, first[tr.table], last); err != nil {
			return fmt.Errorf("standing in for trigger %s: %w", tr.name, err)
		}
	}
	return pgSetTriggers(ctx, t.tx, t.l.inserts, true)
}

// pgDeleteCustomers is DeleteCustomers on PostgreSQL: in one transaction,
// every dependent row explicitly (children before parents: foreign keys
// stay on), then the customers with their DELETE triggers stood in for.
func (l *BulkLoader) pgDeleteCustomers(ctx context.Context, orgID int64) error {
	const ids = `(SELECT id FROM customers WHERE org_id = ?1)`
	return l.tx(ctx, func(tx *sql.Tx) error {
		var has bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM customers WHERE org_id = ?)`, orgID).Scan(&has); err != nil || !has {
			return err
		}
		if err := pgSetTriggers(ctx, tx, l.deletes, false); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM invites WHERE customer_id IN ` + ids,
			`DELETE FROM outbox WHERE org_id = ?1`,
			`DELETE FROM audit WHERE customer_id IN ` + ids,
			`DELETE FROM custom_field_values WHERE customer_id IN ` + ids,
			`DELETE FROM bookings WHERE customer_id IN ` + ids,
			`DELETE FROM payments WHERE customer_id IN ` + ids,
			`DELETE FROM subscriptions WHERE customer_id IN ` + ids,
			`DELETE FROM sessions WHERE customer_id IN ` + ids,
			`DELETE FROM customers_search WHERE id IN ` + ids,
			`DELETE FROM customers WHERE org_id = ?1`,
		} {
			if _, err := tx.ExecContext(ctx, q, orgID); err != nil {
				return err
			}
		}
		for _, tr := range l.deletes {
			if _, err := tx.ExecContext(ctx, tr.bulk, orgID); err != nil {
				return fmt.Errorf("standing in for trigger %s: %w", tr.name, err)
			}
		}
		return pgSetTriggers(ctx, tx, l.deletes, true)
	})
}

// pgBulkLoad is BulkLoad on PostgreSQL: fn with a loader on the writer's
// connection (the process's other writes wait for it, as on SQLite; every
// transaction of the loader takes the write lock, so other nodes' writes
// wait only for the one running), then fresh planner statistics for the
// tables it wrote: a roster that grew from nothing to a million rows would
// otherwise be planned as empty until autovacuum came by.
func (db *DB) pgBulkLoad(ctx context.Context, fn func(l *BulkLoader) error) error {
	c, err := db.write.Conn(ctx)
	if err != nil {
		return wrapBusy(err)
	}
	defer c.Close()
	l := &BulkLoader{db: db, conn: c}
	if err := l.pgReadSchema(ctx); err != nil {
		return err
	}
	if err := fn(l); err != nil {
		return err
	}
	var written []string
	for _, t := range l.tables {
		if t.projected {
			written = append(written, pgx.Identifier{t.name}.Sanitize())
		}
	}
	if len(written) == 0 {
		return nil
	}
	// The search documents are written by a stand-in, not through Rows,
	// and their words by the documents' triggers.
	if _, ok := l.tables["customers_search"]; ok {
		written = append(written, "customers_search")
	}
	if _, err = c.ExecContext(ctx, `ANALYZE `+strings.Join(written, ", ")); err != nil {
		return err
	}
	// The search reads the words from their index alone, which it can do
	// only for pages VACUUM has marked all-visible; otherwise every
	// candidate is a visit to the table too (twice the time, measured).
	// Autovacuum would come by within minutes; a demo is searched at once.
	if _, ok := l.tables["customers_search_words"]; ok {
		_, err = c.ExecContext(ctx, `VACUUM (ANALYZE) customers_search_words`)
	}
	return err
}

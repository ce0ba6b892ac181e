package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
)

// preparer is what a bulk job runs its statements on: the transaction, or
// for a check-only writer the reader pool. It prepares its own statements
// rather than going through conn's cache: without preparing, every row pays
// for compiling the same SQL again, which dominates a 100,000-row import, and
// the batch statements of odd lengths must not fill the cache.
type preparer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// CustomerWriter adds many customers of one organization inside one
// transaction (CSV import). It does what CreateCustomer does, in batches.
// An INSERT into customers fires the search-index trigger, so SQLite runs it
// under a statement savepoint, and at every savepoint FTS5 flushes its
// pending terms into a new segment: one INSERT per customer writes, and then
// merges, one search segment per customer. One multi-row INSERT per
// WriterBatch customers made the import of 100,000 rows about three times
// faster (8.4 s to 2.9 s on the 2-core test machine).
//
// Add queues a customer; the queue is written when it is full and by Flush.
// Before writing, the queued emails are looked up on the roster in one query:
// a customer whose email is taken (any case, archived customers included) is
// not written but returned as a Conflict.
type CustomerWriter struct {
	db     *DB
	q      preparer
	orgID  int64
	now    int64
	fields map[string]int64
	queue  []queued
	vals   []any // argument buffer, reused
	// pending are custom values (customer id, field id, value) of customers
	// already written, held back until they fill a statement.
	pending []any

	// CheckOnly makes Flush look the queued emails up and write nothing: a
	// dry run, or an import that is already going to be rolled back.
	CheckOnly bool

	insCustomers, insValues, insField, owners, owner *sql.Stmt
}

// WriterBatch is how many customers CustomerWriter writes per statement.
// Each row of the INSERT takes 8 variables; SQLite allows 32,766.
const WriterBatch = 2000

// valuesBatch is how many custom values go in one INSERT (3 variables each).
const valuesBatch = 1000

type queued struct {
	ref                       int
	first, last, email, phone string
	values                    []fieldValue
}

type fieldValue struct {
	field int64
	value string
}

// Conflict is a queued customer that was not written because another customer
// of the organization already has the email.
type Conflict struct {
	Ref   int // as given to Add
	Email string
	Owner *Customer // ID, names and Archived only
}

// NewCustomerWriter returns a writer for the transaction: its statements die
// with it. Close it when done; Close does not flush.
func (tx *Tx) NewCustomerWriter(ctx context.Context, orgID int64) *CustomerWriter {
	return &CustomerWriter{db: tx.db, q: tx.tx, orgID: orgID, now: tx.now().Unix(), fields: map[string]int64{}}
}

// NewCustomerChecker returns a CheckOnly writer on the reader pool: a dry run
// that looks the queued emails up and writes nothing.
func (db *DB) NewCustomerChecker(ctx context.Context, orgID int64) *CustomerWriter {
	return &CustomerWriter{db: db, q: db.read, orgID: orgID, now: db.Now().Unix(), fields: map[string]int64{}, CheckOnly: true}
}

// stmt prepares lazily, so that a check-only writer on the read-only pool
// never prepares an INSERT.
func (w *CustomerWriter) stmt(ctx context.Context, s **sql.Stmt, query string) (*sql.Stmt, error) {
	if *s == nil {
		st, err := w.q.PrepareContext(ctx, query)
		if err != nil {
			return nil, err
		}
		*s = st
	}
	return *s, nil
}

// Close releases the prepared statements.
func (w *CustomerWriter) Close() error {
	for _, s := range []*sql.Stmt{w.insCustomers, w.insValues, w.insField, w.owners, w.owner} {
		if s != nil {
			s.Close()
		}
	}
	return nil
}

// Add queues c (name, email, phone and every field in c.Fields; ref is the
// caller's handle for it, a line number say) and writes the queue when it is
// full, returning the conflicts found then. It trims like CreateCustomer and,
// like it, does not validate the email: the caller has. Emails must be
// distinct within one writer (the caller has the file's own duplicates to
// report); a repeat fails the batch with an error. Unless CheckOnly, a field
// is declared for the organization when first met, even with an empty value,
// so an import creates the columns its header names. c.ID is not set.
func (w *CustomerWriter) Add(ctx context.Context, c *Customer, ref int) ([]Conflict, error) {
	first, last := strings.TrimSpace(c.FirstName), strings.TrimSpace(c.LastName)
	if first == "" && last == "" {
		return nil, Errorf(EINVALID, "customer has no name")
	}
	e := queued{ref: ref, first: first, last: last, email: NormalizeEmail(c.Email), phone: strings.TrimSpace(c.Phone)}
	if !w.CheckOnly {
		for _, f := range c.Fields {
			id, err := w.fieldID(ctx, f.Name)
			if err != nil {
				return nil, err
			}
			if f.Value != "" {
				e.values = append(e.values, fieldValue{id, f.Value})
			}
		}
	}
	w.queue = append(w.queue, e)
	if len(w.queue) < WriterBatch {
		return nil, nil
	}
	return w.flush(ctx, false)
}

// Flush writes the queued customers (or only checks them, if CheckOnly) and
// returns those whose email was taken. Call it once more after the last Add.
func (w *CustomerWriter) Flush(ctx context.Context) ([]Conflict, error) {
	return w.flush(ctx, true)
}

func (w *CustomerWriter) flush(ctx context.Context, final bool) ([]Conflict, error) {
	if len(w.queue) == 0 && (!final || len(w.pending) == 0) {
		return nil, nil
	}
	defer func() { w.queue = w.queue[:0] }()
	conflicts, err := w.conflicts(ctx)
	if err != nil || w.CheckOnly {
		return conflicts, err
	}
	if len(conflicts) > 0 {
		taken := map[int]bool{}
		for _, c := range conflicts {
			taken[c.Ref] = true
		}
		keep := w.queue[:0]
		for _, e := range w.queue {
			if !taken[e.ref] {
				keep = append(keep, e)
			}
		}
		w.queue = keep
	}
	return conflicts, w.insert(ctx, final)
}

// conflicts looks up the queued emails in one query.
func (w *CustomerWriter) conflicts(ctx context.Context) ([]Conflict, error) {
	w.vals = append(w.vals[:0], w.orgID)
	for _, e := range w.queue {
		if e.email != "" {
			w.vals = append(w.vals, e.email)
		}
	}
	n := len(w.vals) - 1
	if n == 0 {
		return nil, nil
	}
	// A full batch's statement is prepared once; a shorter list pads with
	// '' (never a stored email: see the index's WHERE) rather than
	// preparing a statement of its own.
	for len(w.vals)-1 < WriterBatch {
		w.vals = append(w.vals, "")
	}
	st, err := w.stmt(ctx, &w.owners, `SELECT email, id, first_name, last_name, archived FROM customers
		WHERE org_id = ? AND email <> '' AND lower(email) IN (`+placeholders("lower(?)", WriterBatch)+`)`)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, w.vals...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	owners := map[string]*Customer{}
	for rows.Next() {
		var email string
		c := Customer{OrgID: w.orgID}
		if err := rows.Scan(&email, &c.ID, &c.FirstName, &c.LastName, &c.Archived); err != nil {
			return nil, err
		}
		owners[foldASCII(email)] = &c
	}
	if err := rows.Err(); err != nil || len(owners) == 0 {
		return nil, err
	}
	var out []Conflict
	for _, e := range w.queue {
		if o, ok := owners[foldASCII(e.email)]; ok && e.email != "" {
			out = append(out, Conflict{Ref: e.ref, Email: e.email, Owner: o})
		}
	}
	return out, nil
}

// insert writes the queued customers, and their custom values once a full
// statement's worth is pending (or everything, when final). Ids are assigned
// here rather than by SQLite so the values can be written in batches too:
// max(id)+1 onwards is what SQLite would pick, and the transaction holds the
// write lock, so nobody else can take them meanwhile.
func (w *CustomerWriter) insert(ctx context.Context, final bool) error {
	if len(w.queue) > 0 {
		var base int64
		if err := w.q.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM customers`).Scan(&base); err != nil {
			return err
		}
		// The organization and the clock are the same for every row; as
		// literals (integers formatted here, nothing from the file) they
		// leave room for more rows per statement.
		const cols = `INSERT INTO customers (id, org_id, first_name, last_name, sort_name, email, phone, phone_keys, created_at, updated_at, state) VALUES `
		row := fmt.Sprintf(`(?, %d, ?, ?, ?, ?, ?, ?, %d, %d, ?)`, w.orgID, w.now, w.now)
		w.vals = w.vals[:0]
		for i, e := range w.queue {
			id := base + int64(i) + 1
			state := initialState(e.email)
			w.vals = append(w.vals, id, e.first, e.last, SortName(e.first, e.last), e.email, e.phone, PhoneKeys(e.phone), state)
			for _, v := range e.values {
				w.pending = append(w.pending, id, v.field, v.value)
			}
		}
		var err error
		if len(w.queue) == WriterBatch {
			var st *sql.Stmt
			if st, err = w.stmt(ctx, &w.insCustomers, cols+placeholders(row, WriterBatch)); err == nil {
				_, err = st.ExecContext(ctx, w.vals...)
			}
		} else {
			_, err = w.q.ExecContext(ctx, cols+placeholders(row, len(w.queue)), w.vals...)
		}
		if isConstraint(err) {
			return Errorf(ECONFLICT, "two customers in one import have the same email")
		} else if err != nil {
			return wrapBusy(err)
		}
	}

	const vcols = `INSERT INTO custom_field_values (customer_id, field_id, value) VALUES `
	for len(w.pending) >= 3*valuesBatch {
		st, err := w.stmt(ctx, &w.insValues, vcols+placeholders("(?, ?, ?)", valuesBatch))
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, w.pending[:3*valuesBatch]...); err != nil {
			return err
		}
		w.pending = append(w.pending[:0], w.pending[3*valuesBatch:]...)
	}
	if final && len(w.pending) > 0 {
		if _, err := w.q.ExecContext(ctx, vcols+placeholders("(?, ?, ?)", len(w.pending)/3), w.pending...); err != nil {
			return err
		}
		w.pending = w.pending[:0]
	}
	return nil
}

// fieldID declares the field on first sight, as setFields does, and then
// answers from the cache.
func (w *CustomerWriter) fieldID(ctx context.Context, name string) (int64, error) {
	name = strings.TrimSpace(name)
	if id, ok := w.fields[name]; ok {
		return id, nil
	}
	if name == "" {
		return 0, Errorf(EINVALID, "custom field without a name")
	}
	st, err := w.stmt(ctx, &w.insField, `INSERT INTO custom_fields (org_id, name, position)
		VALUES (?, ?, (SELECT coalesce(max(position), 0) + 1 FROM custom_fields WHERE org_id = ?))
		ON CONFLICT (org_id, name) DO UPDATE SET name = excluded.name RETURNING id`)
	if err != nil {
		return 0, err
	}
	var id int64
	if err := st.QueryRowContext(ctx, w.orgID, name, w.orgID).Scan(&id); err != nil {
		return 0, err
	}
	w.fields[name] = id
	return id, nil
}

// EmailOwner returns the organization's customer (ID, names, Archived only)
// whose email equals email in the case-insensitive sense of the unique index,
// or nil when the address is free. It does not see queued customers.
func (w *CustomerWriter) EmailOwner(ctx context.Context, email string) (*Customer, error) {
	email = NormalizeEmail(email)
	if email == "" {
		return nil, nil
	}
	st, err := w.stmt(ctx, &w.owner, `SELECT id, first_name, last_name, archived FROM customers
		WHERE org_id = ? AND lower(email) = lower(?) AND email <> ''`)
	if err != nil {
		return nil, err
	}
	c := Customer{OrgID: w.orgID}
	err = st.QueryRowContext(ctx, w.orgID, email).Scan(&c.ID, &c.FirstName, &c.LastName, &c.Archived)
	if err == sql.ErrNoRows {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return &c, nil
}

// foldASCII lower-cases ASCII letters only, as SQLite's built-in lower()
// does; the unique index on emails compares that way.
func foldASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// placeholders repeats one row's placeholder group n times, comma-separated.
func placeholders(group string, n int) string {
	var b strings.Builder
	b.Grow(n * (len(group) + 2))
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(group)
	}
	return b.String()
}

// ExportRow is one customer as an export writes it. Values holds the custom
// field values in the order of the names ExportCustomers announced, "" where
// the customer has none.
type ExportRow struct {
	ID        int64
	FirstName string
	LastName  string
	Email     string
	Phone     string
	Values    []string
}

// ExportPageSize is how many customers ExportCustomers reads per query.
const ExportPageSize = 1000

// ExportCustomers streams the organization's live (unarchived) customers in id
// order: fields is called once with the custom field names (declaration
// order), then row for each customer. The row is reused between calls. Reading
// is paged by id, each page in its own short read transaction, so the roster
// is never in memory at once and a long export does not pin one snapshot (and
// with it the WAL) for its whole run. A customer added during the export may
// or may not be in it.
func (db *DB) ExportCustomers(ctx context.Context, orgID int64, fields func(names []string) error, row func(*ExportRow) error) error {
	rows, err := db.read.QueryContext(ctx, `SELECT id, name FROM custom_fields WHERE org_id = ? ORDER BY position, id`, orgID)
	if err != nil {
		return err
	}
	var names []string
	col := map[int64]int{}
	for rows.Next() {
		var id int64
		var n string
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return err
		}
		col[id] = len(names)
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if err := fields(names); err != nil {
		return err
	}
	page := make([]ExportRow, 0, ExportPageSize)
	var after int64
	for {
		page, err = db.exportPage(ctx, orgID, after, page, col, len(names))
		if err != nil {
			return err
		}
		for i := range page {
			if err := row(&page[i]); err != nil {
				return err
			}
		}
		if len(page) < ExportPageSize {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

// exportPage reads the customers after id `after` and their custom values in
// one read transaction.
func (db *DB) exportPage(ctx context.Context, orgID, after int64, page []ExportRow, col map[int64]int, nfields int) ([]ExportRow, error) {
	tx, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	// The unary + keeps the planner off the roster indexes, which would read
	// the whole organization and sort it on every page; walking the rowid
	// from `after` costs one page's worth of rows (plus other organizations'
	// rows in between).
	rows, err := tx.QueryContext(ctx, `SELECT id, first_name, last_name, email, phone FROM customers
		WHERE +org_id = ? AND +archived = 0 AND id > ? ORDER BY id LIMIT ?`, orgID, after, ExportPageSize)
	if err != nil {
		return nil, err
	}
	page = page[:0]
	for rows.Next() {
		// Grow within capacity first so the previous page's Values slices
		// are reused rather than reallocated for every page.
		if len(page) < cap(page) {
			page = page[:len(page)+1]
		} else {
			page = append(page, ExportRow{})
		}
		r := &page[len(page)-1]
		if cap(r.Values) >= nfields {
			r.Values = r.Values[:nfields]
		} else {
			r.Values = make([]string, nfields)
		}
		clear(r.Values)
		if err := rows.Scan(&r.ID, &r.FirstName, &r.LastName, &r.Email, &r.Phone); err != nil {
			rows.Close()
			return nil, err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(page) == 0 || nfields == 0 {
		return page, nil
	}
	// One range scan of the values' primary key for the whole page. It also
	// meets archived customers and other organizations' customers whose ids
	// fall in the range; the binary search and the field map drop those.
	vals, err := tx.QueryContext(ctx, `SELECT customer_id, field_id, value FROM custom_field_values
		WHERE customer_id BETWEEN ? AND ?`, page[0].ID, page[len(page)-1].ID)
	if err != nil {
		return nil, err
	}
	defer vals.Close()
	for vals.Next() {
		var cid, fid int64
		var v string
		if err := vals.Scan(&cid, &fid, &v); err != nil {
			return nil, err
		}
		c, ok := col[fid]
		if !ok {
			continue
		}
		i := sort.Search(len(page), func(i int) bool { return page[i].ID >= cid })
		if i < len(page) && page[i].ID == cid {
			page[i].Values[c] = v
		}
	}
	return page, vals.Err()
}

package store

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"sync"
	"time"
)

// CustomerWriter adds many customers of one organization inside one
// transaction (CSV import). It does what CreateCustomer does, through the
// same row and INSERT (newCustomer, customerInsert), in batches.
// An INSERT into customers fires the search-index trigger, so SQLite runs it
// under a statement savepoint, and at every savepoint FTS5 flushes its
// pending terms into a new segment: one INSERT per customer writes, and then
// merges, one search segment per customer. One multi-row INSERT per
// WriterBatch customers made the import of 100,000 rows about three times
// faster (8.4 s to 2.9 s on the 2-core test machine). Its statements are
// prepared on the transaction (conn.prepared): without preparing, every
// batch pays for compiling the same SQL again.
//
// Add queues a customer; the queue is written when it is full and by Flush.
// Before writing, the queued emails are looked up on the roster in one query:
// a customer whose email is taken (any case, archived customers included) is
// not written but returned as a Conflict.
type CustomerWriter struct {
	q       conn // the write transaction, or a checker's read snapshot
	tx      *Tx  // nil for a checker
	orgID   int64
	country string // the organization's, for phone keys
	now     time.Time
	fields  map[string]int64
	queue   []queued
	vals    []any // argument buffer, reused
	// pending are custom values (customer id, field id, value) of customers
	// already written, held back until they fill a statement.
	pending []any

	// CheckOnly makes Flush look the queued emails up and write nothing: a
	// dry run, or an import that is already going to be rolled back.
	CheckOnly bool
	// Update, set before the first Add, makes the writer update the
	// customers its rows match instead of refusing their emails.
	Update *WriterUpdate
	// Added, Updated and Unchanged count the queued customers flushed so
	// far: written as new, written as changes to a customer on the roster,
	// and matched with nothing to change (with CheckOnly: that would be).
	Added, Updated, Unchanged int
	matched                   map[int64]int // Update: customer id → ref of the row that matched it

	// The queued customers' search keys, computed off the writer's
	// goroutine (see keyQueued): keys[i] is queue[i]'s, ready once keysWG
	// is done; keyed is how much of the queue has been handed out.
	keys   [][2]string
	keysWG sync.WaitGroup
	keyed  int
}

// keyChunk is how many queued customers one key goroutine takes.
const keyChunk = 250

// WriterBatch is how many customers CustomerWriter writes per statement.
// Each row of the INSERT takes 12 variables; SQLite allows 32,766.
const WriterBatch = 2000

// valuesBatch is how many custom values go in one INSERT (3 variables each).
const valuesBatch = 1000

type queued struct {
	ref    int
	c      Customer     // readied by newCustomer; Fields unused
	values []fieldValue // every field given, empty values too
	id     int64        // Update: the customer to update, 0 to match by email
	keys   [2]string    // NameKeys, PhoneKeys: set by flush for an insert
}

type fieldValue struct {
	field int64
	value string
}

// NewCustomerWriter returns a writer for the transaction; its statements die
// with it.
func (tx *Tx) NewCustomerWriter(ctx context.Context, orgID int64) *CustomerWriter {
	return &CustomerWriter{q: tx.conn, tx: tx, orgID: orgID, now: tx.now().Truncate(time.Second)}
}

// CheckCustomers runs fn with a CheckOnly writer on one read snapshot: a dry
// run that looks the queued emails up and writes nothing.
func (db *DB) CheckCustomers(ctx context.Context, orgID int64, fn func(w *CustomerWriter) error) error {
	return db.view(ctx, func(c conn) error {
		return fn(&CustomerWriter{q: c, orgID: orgID, now: db.Now().Truncate(time.Second), CheckOnly: true})
	})
}

// Add queues c (name, email, phone and every field in c.Fields; ref is the
// caller's handle for it, a line number say) and writes the queue when it is
// full, returning the conflicts found then. It trims like CreateCustomer and,
// like it, does not validate the email: the caller has. Emails must be
// distinct within one writer (the caller has the file's own duplicates to
// report); a repeat fails the batch with an error. Unless CheckOnly, a field
// is declared for the organization when first met, even with an empty value,
// so an import creates the columns its header names. With Update set, c.ID
// names the customer c updates (0: match by email, see WriterUpdate);
// otherwise c.ID is ignored and not set.
func (w *CustomerWriter) Add(ctx context.Context, c *Customer, ref int) ([]Conflict, error) {
	e := queued{ref: ref, c: Customer{OrgID: w.orgID, FirstName: c.FirstName, LastName: c.LastName, Email: c.Email, Phone: c.Phone}}
	if w.Update != nil {
		// A row that updates may leave a name out (the stored one stays);
		// whether the result has one is decided once it is matched.
		e.id = c.ID
		e.c.FirstName, e.c.LastName = strings.TrimSpace(e.c.FirstName), strings.TrimSpace(e.c.LastName)
		e.c.Email, e.c.Phone = NormalizeEmail(e.c.Email), strings.TrimSpace(e.c.Phone)
		e.c.CreatedAt, e.c.UpdatedAt = w.now, w.now
	} else if err := newCustomer(&e.c, w.now); err != nil {
		return nil, err
	}
	if err := w.loadFields(ctx); err != nil {
		return nil, err
	}
	for _, f := range c.Fields {
		id, err := w.fieldID(ctx, f.Name)
		if err != nil {
			return nil, err
		}
		e.values = append(e.values, fieldValue{id, f.Value})
	}
	w.queue = append(w.queue, e)
	if w.Update == nil && !w.CheckOnly && len(w.queue)-w.keyed >= keyChunk {
		w.keyQueued()
	}
	if len(w.queue) < WriterBatch {
		return nil, nil
	}
	return w.flush(ctx, false)
}

// keyQueued computes the search keys (NameKeys, PhoneKeys) of the queued
// customers not handed out yet on a goroutine of their own. Reading a phone
// number with its country's numbering plan is about a quarter of an
// import's CPU (the library's regular expressions); done here, beside the
// writer rather than in it, it runs on another core while SQLite writes the
// batch before, so a large import waits on the database alone. Each
// goroutine writes only its own entries of keys and ends by itself; flush
// waits for them (keysWG) before reading keys.
func (w *CustomerWriter) keyQueued() {
	from, to := w.keyed, len(w.queue)
	if from == to {
		return
	}
	if len(w.keys) < WriterBatch {
		w.keys = make([][2]string, WriterBatch)
	}
	type input struct{ first, last, phone string }
	in := make([]input, 0, to-from)
	for _, e := range w.queue[from:to] {
		in = append(in, input{e.c.FirstName, e.c.LastName, e.c.Phone})
	}
	keys, country := w.keys[from:to], w.country
	w.keysWG.Add(1)
	go func() {
		defer w.keysWG.Done()
		for i, c := range in {
			keys[i] = [2]string{NameKeys(c.first, c.last), PhoneKeys(c.phone, country)}
		}
	}()
	w.keyed = to
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
	defer func() { w.queue, w.keyed = w.queue[:0], 0 }()
	if w.Update != nil {
		return w.flushUpdate(ctx, final)
	}
	if !w.CheckOnly {
		w.keyQueued()
		w.keysWG.Wait()
		for i := range w.queue {
			w.queue[i].keys = w.keys[i]
		}
	}
	conflicts, err := w.conflicts(ctx)
	if err != nil {
		return conflicts, err
	}
	w.Added += len(w.queue) - len(conflicts)
	if w.CheckOnly {
		return conflicts, nil
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
	return conflicts, w.insert(ctx, w.queue, final)
}

// conflicts looks up the queued emails in one query.
func (w *CustomerWriter) conflicts(ctx context.Context) ([]Conflict, error) {
	w.vals = append(w.vals[:0], w.orgID)
	for _, e := range w.queue {
		if e.c.Email != "" {
			w.vals = append(w.vals, FoldEmail(e.c.Email))
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
	st, err := w.q.prepared(ctx, `SELECT email, id, first_name, last_name, archived FROM customers
		WHERE org_id = ? AND email <> '' AND lower(email) IN (`+placeholders("?", WriterBatch)+`)`)
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
		owners[FoldEmail(email)] = &c
	}
	if err := rows.Err(); err != nil || len(owners) == 0 {
		return nil, err
	}
	var out []Conflict
	for _, e := range w.queue {
		if o, ok := owners[FoldEmail(e.c.Email)]; ok && e.c.Email != "" {
			out = append(out, Conflict{Ref: e.ref, Email: e.c.Email, Owner: o})
		}
	}
	return out, nil
}

// insert writes the entries as new customers, and their custom values once
// a full statement's worth is pending (or everything, when final). Ids are
// assigned here rather than by the INSERT so the values can be written in
// batches too (newCustomerIDs).
func (w *CustomerWriter) insert(ctx context.Context, entries []queued, final bool) error {
	if len(entries) > 0 {
		ids, err := w.q.newCustomerIDs(ctx, len(entries))
		if err != nil {
			return err
		}
		w.vals = w.vals[:0]
		for i := range entries {
			e := &entries[i]
			id := ids[i]
			w.vals = appendCustomerRowKeys(w.vals, &e.c, id, e.keys[0], e.keys[1])
			for _, v := range e.values {
				if v.value != "" {
					w.pending = append(w.pending, id, v.field, v.value)
				}
			}
		}
		err = w.exec(ctx, customerInsert, len(entries), WriterBatch)
		if isConstraint(err) {
			return Errorf(ECONFLICT, "two customers in one import have the same email")
		} else if err != nil {
			return wrapBusy(err)
		}
	}

	for len(w.pending) >= 3*valuesBatch {
		if err := w.execValues(ctx, valuesBatch); err != nil {
			return err
		}
	}
	if final && len(w.pending) > 0 {
		if err := w.execValues(ctx, len(w.pending)/3); err != nil {
			return err
		}
	}
	return nil
}

// execValues writes the first n pending custom values.
func (w *CustomerWriter) execValues(ctx context.Context, n int) error {
	w.vals = append(w.vals[:0], w.pending[:3*n]...)
	if err := w.exec(ctx, valuesInsert, n, valuesBatch); err != nil {
		return err
	}
	w.pending = append(w.pending[:0], w.pending[3*n:]...)
	return nil
}

func valuesInsert(rows int) string {
	return `INSERT INTO custom_field_values (customer_id, field_id, value) VALUES ` + placeholders("(?, ?, ?)", rows)
}

// exec runs query(rows) with w.vals. A full batch's statement is prepared on
// the transaction and reused; another length (the last batch, or one that
// lost rows to conflicts) runs once unprepared rather than holding a
// prepared statement of its own until the transaction ends.
func (w *CustomerWriter) exec(ctx context.Context, query func(rows int) string, rows, full int) error {
	if rows != full {
		_, err := w.q.tx.ExecContext(ctx, query(rows), w.vals...)
		return err
	}
	st, err := w.q.prepared(ctx, query(full))
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx, w.vals...)
	return err
}

// fieldID declares the field on first sight, as CreateCustomer does, and
// then answers from the cache. A checker declares nothing: a field it has
// not seen declared is 0 (no customer has a value for it).
func (w *CustomerWriter) fieldID(ctx context.Context, name string) (int64, error) {
	name = strings.TrimSpace(name)
	if id, ok := w.fields[name]; ok {
		return id, nil
	}
	if w.CheckOnly || w.tx == nil {
		return 0, nil
	}
	id, err := w.tx.DeclareCustomField(ctx, w.orgID, name)
	if err != nil {
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
	st, err := w.q.prepared(ctx, `SELECT id, first_name, last_name, archived FROM customers
		WHERE org_id = ? AND lower(email) = ? AND email <> ''`)
	if err != nil {
		return nil, err
	}
	c := Customer{OrgID: w.orgID}
	err = st.QueryRowContext(ctx, w.orgID, FoldEmail(email)).Scan(&c.ID, &c.FirstName, &c.LastName, &c.Archived)
	if err == sql.ErrNoRows {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return &c, nil
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

// newCustomerIDs hands out n ids for customers written with their ids
// (dialect.newCustomerIDs), in ascending order.
func (q conn) newCustomerIDs(ctx context.Context, n int) ([]int64, error) {
	rows, err := q.query(ctx, q.db.d.newCustomerIDs, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := make([]int64, 0, n)
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(ids) != n {
		return nil, Errorf(EINTERNAL, "store: %d customer ids handed out, %d asked for", len(ids), n)
	}
	slices.Sort(ids)
	return ids, nil
}

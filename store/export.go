package store

import (
	"context"
	"database/sql"
	"sort"
	"time"
)

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
	// What `customers export --with-status` adds: the status, and when the
	// latest live invite went (zero without one) and the account was
	// claimed (zero until then).
	Status    Status
	InvitedAt time.Time
	ClaimedAt time.Time
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
	now := db.Now()
	rows, err := tx.QueryContext(ctx, `SELECT id, first_name, last_name, email, phone, state, invite_sent_at, invite_expires_at, claimed_at FROM customers
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
		var state State
		var sent, expires, claimed sql.NullInt64
		if err := rows.Scan(&r.ID, &r.FirstName, &r.LastName, &r.Email, &r.Phone, &state, &sent, &expires, &claimed); err != nil {
			rows.Close()
			return nil, err
		}
		r.Status = statusOf(state, expires, now)
		r.InvitedAt, r.ClaimedAt = fromUnix(sent), fromUnix(claimed)
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

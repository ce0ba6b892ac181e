package store

import (
	"context"
	"strings"
)

// customersByIDChunk keeps each IN list well under SQLite's variable limit
// and the statement text short enough to stay in the statement cache as a
// handful of shapes (one per chunk length actually met).
const customersByIDChunk = 200

// CustomersByID returns the organization's customers with the given ids, in
// the order of ids, without custom fields: what the bulk invite summary needs
// to tell who will get an invite and who is skipped. Ids of another
// organization's customers, or of no customer, are left out.
func (db *DB) CustomersByID(ctx context.Context, q Queryer, orgID int64, ids []int64) ([]*Customer, error) {
	byID := make(map[int64]*Customer, len(ids))
	now := db.Now()
	for start := 0; start < len(ids); start += customersByIDChunk {
		chunk := ids[start:min(start+customersByIDChunk, len(ids))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, orgID)
		for _, id := range chunk {
			args = append(args, id)
		}
		query := `SELECT ` + customerColumns + ` FROM customers c WHERE c.org_id = ? AND c.id IN (?` + strings.Repeat(", ?", len(chunk)-1) + `)`
		rows, err := db.query(ctx, q, query, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			c, err := scanCustomer(rows, now)
			if err != nil {
				rows.Close()
				return nil, err
			}
			byID[c.ID] = c
		}
		err = rows.Close()
		if err == nil {
			err = rows.Err()
		}
		if err != nil {
			return nil, err
		}
	}
	out := make([]*Customer, 0, len(byID))
	for _, id := range ids {
		if c, ok := byID[id]; ok {
			out = append(out, c)
			delete(byID, id) // an id given twice is reported once
		}
	}
	return out, nil
}

// RosterMatches counts the live customers a roster query (search and status;
// its paging fields are ignored) selects, stopping at limit: the TUI shows
// "12 matches" or "1,000+ matches" while someone types, and an exact count
// of a broad search over a million customers would cost more than the page
// of results it accompanies.
func (db *DB) RosterMatches(ctx context.Context, q Queryer, orgID int64, rq RosterQuery, limit int) (int, error) {
	if limit <= 0 {
		limit = 1000
	}
	var sb strings.Builder
	var args []any
	if match := MatchQuery(rq.Search); match != "" {
		sb.WriteString(`SELECT 1 FROM customers_fts f JOIN customers c ON c.id = f.rowid
			WHERE customers_fts MATCH ? AND c.org_id = ? AND c.archived = 0`)
		args = append(args, match, orgID)
	} else {
		sb.WriteString(`SELECT 1 FROM customers c WHERE c.org_id = ? AND c.archived = 0`)
		args = append(args, orgID)
	}
	if rq.Status != "" {
		cond, a := statusWhere(rq.Status, db.Now())
		sb.WriteString(` AND ` + cond)
		args = append(args, a...)
	}
	sb.WriteString(` LIMIT ?`)
	args = append(args, limit)
	var n int
	err := db.queryRow(ctx, q, `SELECT count(*) FROM (`+sb.String()+`)`, args...).Scan(&n)
	return n, err
}

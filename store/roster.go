package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
	"unicode"
)

// RosterRow is one line of the roster: what the table shows, nothing more.
type RosterRow struct {
	ID              int64
	FirstName       string
	LastName        string
	Email           string
	Phone           string
	Status          Status
	InviteSentAt    time.Time
	InviteExpiresAt time.Time
	ClaimedAt       time.Time

	sortName string
}

// Name is the customer's full name.
func (r *RosterRow) Name() string { return strings.TrimSpace(r.FirstName + " " + r.LastName) }

// Cursor marks a row for keyset paging; take it from a row with RosterRow.Cursor.
type Cursor struct {
	SortName string
	ID       int64
}

// Cursor is the keyset position of the row.
func (r *RosterRow) Cursor() Cursor { return Cursor{SortName: r.sortName, ID: r.ID} }

// RosterQuery selects one page of the roster.
type RosterQuery struct {
	Search string // free text over name, email and phone; "" for all
	Status Status // "" for every status
	// After pages forward from the cursor; Before pages backward (rows still
	// come back in roster order). Neither: the first page; Before with a zero
	// cursor and Backward: the last page.
	After    *Cursor
	Before   *Cursor
	Backward bool
	Limit    int
}

// MatchQuery turns what someone typed into an FTS5 query: every word must
// match as a prefix of some word in the name, email or phone. Punctuation
// separates words (so "jane.d" is "jane* d*"); nothing the user types can reach
// FTS5's own syntax. "" means no search. A search that looks like a phone
// number is one number however it is grouped (see phoneMatch): "0151
// 62185557" and "151-621-85557" find +49 151 62185557. Names are indexed
// with their joined forms too (NameKeys), so "dsouza" finds D'Souza.
func MatchQuery(s string) string {
	if term, ok := phoneMatch(s); ok {
		return term
	}
	var b strings.Builder
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		b.WriteString(w)
		b.WriteString(`"*`)
	}
	return b.String()
}

const rosterColumns = `c.id, c.first_name, c.last_name, c.email, c.phone, c.state, c.invite_sent_at, c.invite_expires_at, c.claimed_at, c.sort_name`

// RosterPage returns up to rq.Limit rows of the organization's live
// (unarchived) roster. Without a search the roster is ordered by name; with one
// it is in the index's order (newest-first would need a sort of every match,
// the trap that makes broad FTS queries slow), and the cursor's SortName is
// ignored.
func (q conn) RosterPage(ctx context.Context, orgID int64, rq RosterQuery) ([]RosterRow, error) {
	now := q.now()
	limit := rq.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	match := MatchQuery(rq.Search)
	var sb strings.Builder
	args := []any{}
	backward := rq.Before != nil || rq.Backward
	if match != "" {
		sb.WriteString(`SELECT ` + rosterColumns + ` FROM customers_fts f JOIN customers c ON c.id = f.rowid
			WHERE customers_fts MATCH ? AND c.org_id = ? AND c.archived = 0`)
		args = append(args, match, orgID)
		if rq.After != nil {
			sb.WriteString(` AND f.rowid > ?`)
			args = append(args, rq.After.ID)
		} else if rq.Before != nil {
			sb.WriteString(` AND f.rowid < ?`)
			args = append(args, rq.Before.ID)
		}
	} else {
		from := `customers c`
		if rq.Status != "" {
			// Without this the planner may take customers_expiry for the
			// invited/expired filters and sort every pending customer by
			// name: 0.7 s at a million instead of under a millisecond.
			from = `customers c INDEXED BY customers_state`
		}
		sb.WriteString(`SELECT ` + rosterColumns + ` FROM ` + from + ` WHERE c.org_id = ? AND c.archived = 0`)
		args = append(args, orgID)
		if rq.After != nil {
			sb.WriteString(` AND (c.sort_name, c.id) > (?, ?)`)
			args = append(args, rq.After.SortName, rq.After.ID)
		} else if rq.Before != nil {
			sb.WriteString(` AND (c.sort_name, c.id) < (?, ?)`)
			args = append(args, rq.Before.SortName, rq.Before.ID)
		}
	}
	if rq.Status != "" {
		cond, a := statusWhere(rq.Status, now)
		sb.WriteString(` AND ` + cond)
		args = append(args, a...)
	}
	dir := "ASC"
	if backward {
		dir = "DESC"
	}
	if match != "" {
		sb.WriteString(` ORDER BY f.rowid ` + dir)
	} else {
		sb.WriteString(` ORDER BY c.sort_name ` + dir + `, c.id ` + dir)
	}
	sb.WriteString(` LIMIT ?`)
	args = append(args, limit)

	out, err := q.rosterRows(ctx, sb.String(), limit, args...)
	if err != nil {
		return nil, err
	}
	if backward {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, nil
}

// Less reports whether row a comes before row b in the query's order: by
// name (sort name, then id) without a search, in the search index's order
// (id) with one.
func (rq RosterQuery) Less(a, b *RosterRow) bool {
	if MatchQuery(rq.Search) != "" || a.sortName == b.sortName {
		return a.ID < b.ID
	}
	return a.sortName < b.sortName
}

// RosterRowsByID returns the organization's live (unarchived) customers with
// the given ids as roster rows, in id order, whatever their status: a screen
// keeps a row a change took out of its filter, showing what it is now.
func (q conn) RosterRowsByID(ctx context.Context, orgID int64, ids []int64) ([]RosterRow, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ids = ids[:min(len(ids), customersByIDChunk)]
	args := make([]any, 0, len(ids)+1)
	args = append(args, orgID)
	for _, id := range ids {
		args = append(args, id)
	}
	return q.rosterRows(ctx, `SELECT `+rosterColumns+` FROM customers c WHERE c.org_id = ? AND c.archived = 0 AND c.id IN (?`+strings.Repeat(", ?", len(ids)-1)+`) ORDER BY c.id`, len(ids), args...)
}

// rosterRows runs a query of rosterColumns.
func (q conn) rosterRows(ctx context.Context, query string, limit int, args ...any) ([]RosterRow, error) {
	now := q.now()
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]RosterRow, 0, limit)
	for rows.Next() {
		var r RosterRow
		var state State
		var sent, expires, claimed sql.NullInt64
		if err := rows.Scan(&r.ID, &r.FirstName, &r.LastName, &r.Email, &r.Phone, &state, &sent, &expires, &claimed, &r.sortName); err != nil {
			return nil, err
		}
		r.Status = statusOf(state, expires, now)
		r.InviteSentAt, r.InviteExpiresAt, r.ClaimedAt = fromUnix(sent), fromUnix(expires), fromUnix(claimed)
		out = append(out, r)
	}
	return out, rows.Err()
}

// RosterCounts returns how many live customers the organization has in each
// status: the stored states from roster_counts (kept by triggers), and the
// invited/expired split of pending invites by a range count on the expiry
// index, the one part that changes with the clock.
func (q conn) RosterCounts(ctx context.Context, orgID int64) (map[Status]int, error) {
	rows, err := q.query(ctx, `SELECT state, n FROM roster_counts WHERE org_id = ? AND n > 0`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counts := make(map[Status]int, len(Statuses))
	pending := 0
	for rows.Next() {
		var state State
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, err
		}
		if state == StatePending {
			pending = n
			continue
		}
		counts[statusOf(state, sql.NullInt64{}, time.Time{})] = n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if pending > 0 {
		var invited int
		if err := q.queryRow(ctx, `SELECT count(*) FROM customers WHERE org_id = ? AND archived = 0 AND state = `+StatePending.lit()+` AND invite_expires_at > ?`,
			orgID, q.now().Unix()).Scan(&invited); err != nil {
			return nil, err
		}
		if invited > 0 {
			counts[StatusInvited] = invited
		}
		if pending > invited {
			counts[StatusExpired] = pending - invited
		}
	}
	return counts, nil
}

// Funnel is how far an organization's live (unarchived) customers got
// towards claiming their accounts, each count including the next:
//   - Invited: customers who were ever sent a claim invite (whatever became
//     of it), and every customer who claimed;
//   - Opened: customers who opened one of their claim links at least once
//     (a mail scanner checking the link counts too), and every customer who
//     claimed;
//   - Claimed: customers who claimed their account.
//
// "Ever" rather than "their latest invite": a resend does not take a
// customer who opened the first link back out of "opened", so the three
// only grow and read as a funnel. The stage is kept per customer by the
// writes that move it (customers.funnel, migration 0010) and counted by
// triggers (funnel_counts), so this is a read of at most three rows at any
// roster size.
type Funnel struct {
	Invited, Opened, Claimed int
}

// ClaimFunnel returns the organization's funnel.
func (q conn) ClaimFunnel(ctx context.Context, orgID int64) (Funnel, error) {
	var f Funnel
	rows, err := q.query(ctx, `SELECT stage, n FROM funnel_counts WHERE org_id = ? AND n > 0`, orgID)
	if err != nil {
		return f, err
	}
	defer rows.Close()
	for rows.Next() {
		var stage, n int
		if err := rows.Scan(&stage, &n); err != nil {
			return f, err
		}
		// Stages are exclusive in the table; the funnel's counts include
		// the stages past them.
		if stage >= 1 {
			f.Invited += n
		}
		if stage >= 2 {
			f.Opened += n
		}
		if stage >= 3 {
			f.Claimed += n
		}
	}
	return f, rows.Err()
}

// RosterMatches counts the live customers a roster query (search and status;
// its paging fields are ignored) selects, stopping at limit: the TUI shows
// "12 matches" or "1,000+ matches" while someone types, and an exact count
// of a broad search over a million customers would cost more than the page
// of results it accompanies.
func (q conn) RosterMatches(ctx context.Context, orgID int64, rq RosterQuery, limit int) (int, error) {
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
		cond, a := statusWhere(rq.Status, q.now())
		sb.WriteString(` AND ` + cond)
		args = append(args, a...)
	}
	sb.WriteString(` LIMIT ?`)
	args = append(args, limit)
	var n int
	err := q.queryRow(ctx, `SELECT count(*) FROM (`+sb.String()+`)`, args...).Scan(&n)
	return n, err
}

// CustomerIDs lists the ids of the organization's live (unarchived)
// customers whose status is one of statuses, in id order, in one query:
// whom `frontdesk invite --all` sends invites to.
func (q conn) CustomerIDs(ctx context.Context, orgID int64, statuses ...Status) ([]int64, error) {
	if len(statuses) == 0 {
		return nil, nil
	}
	now := q.now()
	var conds []string
	args := []any{orgID}
	for _, s := range statuses {
		cond, a := statusWhere(s, now)
		conds = append(conds, "("+cond+")")
		args = append(args, a...)
	}
	rows, err := q.query(ctx, `SELECT c.id FROM customers c WHERE c.org_id = ? AND c.archived = 0 AND (`+strings.Join(conds, " OR ")+`) ORDER BY c.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

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
	// LastVisit is when the customer's latest past booking started (zero:
	// none): what wide roster screens show beside the phone.
	LastVisit time.Time

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
	// Archived selects the archived customers instead of those on the
	// roster (the roster's "Archived" filter).
	Archived bool
	// After pages forward from the cursor; Before pages backward (rows still
	// come back in roster order). Neither: the first page; Before with a zero
	// cursor and Backward: the last page.
	After    *Cursor
	Before   *Cursor
	Backward bool
	Limit    int
}

// searchWords are the words of what someone typed: runs of letters and
// digits, so punctuation separates words ("jane.d" is "jane", "d") and
// nothing the user types can reach a search engine's own syntax.
func searchWords(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// MatchQuery turns what someone typed into an FTS5 query: every word must
// match as a prefix of some word in the name, email or phone ("jane.d" is
// "jane* d*"). "" means no search. A search that looks like a phone number
// is one number however it is grouped (see phoneSearch): "0151 62185557" and
// "151-621-85557" find +49 151 62185557. Names are indexed with their joined
// forms too (NameKeys), so "dsouza" finds D'Souza.
func MatchQuery(s string) string {
	if d, exact, ok := phoneSearch(s); ok {
		switch {
		case d == "":
			return ""
		case exact:
			return `"` + d + `"`
		}
		return `"` + d + `"*`
	}
	var b strings.Builder
	for _, w := range searchWords(s) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		b.WriteString(w)
		b.WriteString(`"*`)
	}
	return b.String()
}

// tsQuery is MatchQuery for PostgreSQL's to_tsquery: "jane.d" is
// "'jane':* & 'd':*", a phone number one word of its digits, as MatchQuery
// reads them. A word is only letters and digits, so quoting it needs no
// escapes.
func tsQuery(s string) string {
	if d, exact, ok := phoneSearch(s); ok {
		switch {
		case d == "":
			return ""
		case exact:
			return `'` + d + `'`
		}
		return `'` + d + `':*`
	}
	var b strings.Builder
	for _, w := range searchWords(s) {
		if b.Len() > 0 {
			b.WriteString(" & ")
		}
		b.WriteByte('\'')
		b.WriteString(w)
		b.WriteString(`':*`)
	}
	return b.String()
}

// rosterColumns are a roster row's columns. The last visit is a correlated
// subquery rather than a column kept by the store: SQLite evaluates it only
// for the rows a page returns (after WHERE and LIMIT), one backward seek on
// bookings_customer each, so a page costs the same at any roster size and
// no write path has to keep a copy current. Its one parameter (now) is the
// query's first: rosterRows supplies it. A visit is a booking that started
// by now and was not cancelled or missed: a no-show is not a visit.
const rosterColumns = `c.id, c.first_name, c.last_name, c.email, c.phone, c.state, c.invite_sent_at, c.invite_expires_at, c.claimed_at, c.sort_name,
	(SELECT b.starts_at FROM bookings b WHERE b.customer_id = c.id AND b.starts_at <= ? AND b.status IN ('booked', 'attended')
		ORDER BY b.starts_at DESC LIMIT 1)`

// archivedIs is the condition on alias c selecting live customers, or with
// rq.Archived the archived ones: a literal, so the live roster's plans stay
// what they were.
func (rq *RosterQuery) archivedIs() string {
	if rq.Archived {
		return `c.archived = 1`
	}
	return `c.archived = 0`
}

// RosterPage returns up to rq.Limit rows of the organization's live
// (unarchived) roster, or with rq.Archived of its archived customers.
// Without a search the roster is ordered by name; with one it is in the
// index's order (newest-first would need a sort of every match, the trap
// that makes broad FTS queries slow), and the cursor's SortName is ignored.
func (q conn) RosterPage(ctx context.Context, orgID int64, rq RosterQuery) ([]RosterRow, error) {
	now := q.now()
	limit := rq.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	backward := rq.Before != nil || rq.Backward
	dir := "ASC"
	if backward {
		dir = "DESC"
	}
	// rest is a search's query after its FROM and WHERE: the
	// organization, the status, the order and the limit.
	rest := func(order string) (string, []any) {
		where := ` AND c.org_id = ? AND ` + rq.archivedIs()
		args := []any{orgID}
		if rq.Status != "" {
			cond, a := statusWhere(rq.Status, now)
			where += ` AND ` + cond
			args = append(args, a...)
		}
		return where + ` ORDER BY ` + order + ` LIMIT ?`, append(args, limit)
	}
	var out []RosterRow
	var err error
	if search, match := q.db.d.search, q.db.d.search.query(rq.Search); match != "" {
		cmp, cursor := "", []any{}
		if rq.After != nil {
			cmp, cursor = ` > ?`, []any{rq.After.ID}
		} else if rq.Before != nil {
			cmp, cursor = ` < ?`, []any{rq.Before.ID}
		}
		tail, targs := rest(search.id + ` ` + dir)
		if rq.Archived && search.archived != nil {
			args := append(append(append([]any{orgID}, cursor...), match), targs...)
			out, err = q.rosterRows(ctx, `SELECT `+rosterColumns+` FROM `+search.archived(cmp)+tail, limit, args...)
		} else if windowFirst, werr := q.searchWindowFirst(ctx, match); werr != nil {
			err = werr
		} else if windowFirst {
			args := append(append(append([]any{}, cursor...), searchWindow, match), targs...)
			out, err = q.rosterRows(ctx, `SELECT `+rosterColumns+` FROM `+search.window(cmp, dir)+tail, limit, args...)
		}
		if err == nil && len(out) < limit && !(rq.Archived && search.archived != nil) {
			out, err = q.rosterRows(ctx, `SELECT `+rosterColumns+` FROM `+search.page(cmp, dir)+tail, limit, append(search.args(match, cursor), targs...)...)
		}
	} else {
		from := `customers c`
		if rq.Status != "" {
			// Without this SQLite's planner may take customers_expiry for
			// the invited/expired filters and sort every pending customer
			// by name: 0.7 s at a million instead of under a millisecond.
			from = q.db.d.rosterByState
		}
		var sb strings.Builder
		sb.WriteString(`SELECT ` + rosterColumns + ` FROM ` + from + ` WHERE c.org_id = ? AND ` + rq.archivedIs())
		args := []any{orgID}
		if rq.After != nil {
			sb.WriteString(` AND (c.sort_name, c.id) > (?, ?)`)
			args = append(args, rq.After.SortName, rq.After.ID)
		} else if rq.Before != nil {
			sb.WriteString(` AND (c.sort_name, c.id) < (?, ?)`)
			args = append(args, rq.Before.SortName, rq.Before.ID)
		}
		if rq.Status != "" {
			cond, a := statusWhere(rq.Status, now)
			sb.WriteString(` AND ` + cond)
			args = append(args, a...)
		}
		sb.WriteString(` ORDER BY c.sort_name ` + dir + `, c.id ` + dir + ` LIMIT ?`)
		out, err = q.rosterRows(ctx, sb.String(), limit, append(args, limit)...)
	}
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

// searchWindow is how many rows of the index a broad PostgreSQL search
// (searchBroad) walks in id order before it reads every candidate from the
// words instead (see pgSearchWindow). Testing a document costs 0.3 to
// 0.5 µs, so a window that holds too few matches wastes 3 to 5 ms; one
// that holds them saves sorting the words of a broad prefix. Measured at
// 1,000,000 customers (BENCHMARKS.md): 5,000 sent "j" and "jo" (the 50th
// match some 5,900 rows in) to every match, 65 ms; 3,000 and 1,000, with
// the words, sent "j", "l" and "w" there (20 to 47 ms).
var searchWindow = 10_000

// searchBroad is how many words (estimated: searchDialect.estimate) a
// PostgreSQL search's prefix must begin before the search walks the
// window first. Reading the words costs about 0.35 µs each, sorted
// (BENCHMARKS.md), so a page of a narrower prefix costs under 7 ms read
// straight from them, where a window that fails to fill costs 3 to 5 ms
// before it; a broader prefix usually fills its window in a few hundred
// rows (a first letter, "example", "gmail"), and its words would take tens
// of milliseconds to sort. The estimate is the planner's, from the words'
// statistics (read by the DB, searchstats.go, or for a prefix beyond
// ASCII asked of the server), within a factor of about 1.5 at a million
// customers.
var searchBroad int64 = 20_000

// searchWindowFirst reports whether a search for match walks the window
// before page: on an engine with a window, when the prefix is broad.
func (q conn) searchWindowFirst(ctx context.Context, match string) (bool, error) {
	search := q.db.d.search
	if search.window == nil || search.estimate == "" {
		return search.window != nil, nil
	}
	if prefix, ok := tsQueryPrefix(match); ok {
		stats, err := q.db.wordStats(ctx)
		if err != nil {
			return false, err
		}
		if stats != nil {
			return stats.estimate(prefix) >= float64(searchBroad), nil
		}
	}
	var n int64
	if err := q.queryRow(ctx, search.estimate, match).Scan(&n); err != nil {
		return false, err
	}
	return n >= searchBroad, nil
}

// Less reports whether row a comes before row b in the query's order: by
// name (sort name, then id) without a search, in the search index's order
// (id) with one.
func (rq RosterQuery) Less(a, b *RosterRow) bool {
	if len(searchWords(rq.Search)) > 0 || a.sortName == b.sortName {
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

// rosterRows runs a query that starts with rosterColumns; args are the
// query's parameters after the columns' own.
func (q conn) rosterRows(ctx context.Context, query string, limit int, args ...any) ([]RosterRow, error) {
	now := q.now()
	rows, err := q.query(ctx, query, append([]any{now.Unix()}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]RosterRow, 0, limit)
	for rows.Next() {
		var r RosterRow
		var state State
		var sent, expires, claimed, visit sql.NullInt64
		if err := rows.Scan(&r.ID, &r.FirstName, &r.LastName, &r.Email, &r.Phone, &state, &sent, &expires, &claimed, &r.sortName, &visit); err != nil {
			return nil, err
		}
		r.Status = statusOf(state, expires, now)
		r.InviteSentAt, r.InviteExpiresAt, r.ClaimedAt = fromUnix(sent), fromUnix(expires), fromUnix(claimed)
		r.LastVisit = fromUnix(visit)
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

// RosterMatches counts the customers a roster query (search, status and
// Archived; its paging fields are ignored) selects, stopping at limit: the
// TUI shows "12 matches" or "1,000+ matches" while someone types, and an
// exact count of a broad search over a million customers would cost more
// than the page of results it accompanies.
func (q conn) RosterMatches(ctx context.Context, orgID int64, rq RosterQuery, limit int) (int, error) {
	if limit <= 0 {
		limit = 1000
	}
	// count counts the rows of from, whose arguments are args, that the
	// rest of the query selects.
	count := func(from string, args ...any) (int, error) {
		var sb strings.Builder
		sb.WriteString(`SELECT 1 FROM ` + from + ` AND c.org_id = ? AND ` + rq.archivedIs())
		args = append(args, orgID)
		if rq.Status != "" {
			cond, a := statusWhere(rq.Status, q.now())
			sb.WriteString(` AND ` + cond)
			args = append(args, a...)
		}
		sb.WriteString(` LIMIT ?`)
		args = append(args, limit)
		var n int
		err := q.queryRow(ctx, `SELECT count(*) FROM (`+sb.String()+`) AS m`, args...).Scan(&n)
		return n, err
	}
	search := q.db.d.search
	match := search.query(rq.Search)
	if match == "" {
		return count(`customers c WHERE true`)
	}
	// As RosterPage: the archived customers tested one by one; a window
	// of the index that holds limit matches; otherwise every match.
	if rq.Archived && search.archived != nil {
		return count(search.archived(""), orgID, match)
	}
	if windowFirst, err := q.searchWindowFirst(ctx, match); err != nil {
		return 0, err
	} else if windowFirst {
		if n, err := count(search.window("", "ASC"), searchWindow, match); err != nil || n >= limit {
			return n, err
		}
	}
	return count(search.page("", "ASC"), search.args(match, nil)...)
}

// CustomerIDs lists the ids of the organization's live (unarchived)
// customers that search selects (as RosterPage: "" for all) whose status is
// one of statuses (none: every status), in id order, in one query: whom
// `frontdesk invite --all` sends invites to, and whom the roster's "mark
// all" marks. Only ids: at a million customers that is 8 MB, where rows
// would be hundreds.
func (q conn) CustomerIDs(ctx context.Context, orgID int64, search string, statuses ...Status) ([]int64, error) {
	now := q.now()
	var sb strings.Builder
	var args []any
	order := `c.id`
	if match := q.db.d.search.query(search); match != "" {
		// In the index's order, which is id order: no sort of the matches.
		sb.WriteString(`SELECT c.id FROM ` + q.db.d.search.page("", "ASC") + ` AND c.org_id = ? AND c.archived = 0`)
		args = append(q.db.d.search.args(match, nil), orgID)
		order = q.db.d.search.id
	} else {
		sb.WriteString(`SELECT c.id FROM customers c WHERE c.org_id = ? AND c.archived = 0`)
		args = append(args, orgID)
	}
	if len(statuses) > 0 {
		var conds []string
		for _, s := range statuses {
			cond, a := statusWhere(s, now)
			conds = append(conds, "("+cond+")")
			args = append(args, a...)
		}
		sb.WriteString(` AND (` + strings.Join(conds, " OR ") + `)`)
	}
	sb.WriteString(` ORDER BY ` + order)
	rows, err := q.query(ctx, sb.String(), args...)
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

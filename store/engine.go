package store

import (
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Engine is the database engine under a DB.
type Engine string

const (
	// SQLite is the embedded default: one file in the data directory.
	SQLite Engine = "sqlite"
	// Postgres is a PostgreSQL server that several frontdesk processes,
	// on several machines, share.
	Postgres Engine = "postgres"
)

// Engine is the engine of the database.
func (db *DB) Engine() Engine { return db.d.engine }

// libpqKeyword matches the start of a libpq key=value connection string
// ("host=db.internal dbname=frontdesk"): one of the keywords people begin
// one with, so a file name with an = in it is not taken for one.
var libpqKeyword = regexp.MustCompile(`^\s*(host|hostaddr|port|dbname|user|password|passfile|sslmode|service|application_name|connect_timeout|options|target_session_attrs)\s*=`)

// IsPostgres reports whether target names a PostgreSQL database (a
// postgres:// or postgresql:// URL, or a libpq key=value string) rather
// than a SQLite file.
func IsPostgres(target string) bool {
	t := strings.TrimSpace(target)
	return strings.HasPrefix(t, "postgres://") || strings.HasPrefix(t, "postgresql://") || libpqKeyword.MatchString(t)
}

// Describe names the database target points at for people to read: the
// file of a SQLite database; for PostgreSQL the database and server only,
// since a connection string may hold a password and is never printed
// whole.
func Describe(target string) string {
	if !IsPostgres(target) {
		return target
	}
	cfg, err := pgconn.ParseConfig(target)
	if err != nil {
		return "PostgreSQL (a connection string that does not parse)"
	}
	host := cfg.Host
	if strings.HasPrefix(host, "/") {
		host = "socket " + host
	} else if cfg.Port != 0 {
		host = fmt.Sprintf("%s:%d", host, cfg.Port)
	}
	return fmt.Sprintf("PostgreSQL database %q on %s", cfg.Database, host)
}

// isBusy reports whether err says the database was busy: on SQLite a lock
// held too long by another connection, on PostgreSQL a lock wait that timed
// out (55P03), a deadlock (40P01) or a serialization failure (40001). Try
// again in a moment.
func isBusy(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()&0xff == sqlite3.SQLITE_BUSY || se.Code()&0xff == sqlite3.SQLITE_LOCKED
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40001", "40P01", "55P03":
			return true
		}
	}
	return false
}

// isConstraint reports whether err is a UNIQUE or other constraint
// violation (PostgreSQL's class 23).
func isConstraint(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && strings.HasPrefix(pe.Code, "23")
}

// dialect is the SQL that differs between the engines, each difference one
// named piece. Everything else is written once, in the SQL both accept
// (ON CONFLICT, RETURNING, CAST, coalesce, CASE), with SQLite's
// placeholders (see rebind).
type dialect struct {
	engine Engine

	// idList is a subquery of the ids in its one argument, a JSON array
	// of integers (jsonIDs): `id IN (` + idList + `)`.
	idList string

	// randomHex is an expression of 20 random lower-case hex digits.
	randomHex string

	// newCustomerIDs is a query of the ids its one argument's number of new
	// customers get when they are written with their ids (CustomerWriter).
	// On SQLite, max(id)+1 onwards, what it would pick itself: the
	// transaction holds the write lock, so nobody takes them meanwhile. On
	// PostgreSQL, the id column's sequence, which a row written with its
	// own id would not move.
	newCustomerIDs string

	// rosterByState is the roster's FROM when it filters by status:
	// SQLite needs telling which index (see RosterPage).
	rosterByState string

	// skipLocked ends the outbox lease's SELECT of the rows to take. On
	// PostgreSQL, FOR UPDATE SKIP LOCKED: a row another transaction has
	// locked (another node's worker, an operator in psql) is passed over
	// rather than waited for, so one held message never stalls the queue,
	// and the rows taken are locked until the lease commits. DB.Tx's write
	// lock already orders frontdesk's own leases one after another; this
	// keeps the lease right, and quick, without leaning on that. SQLite has
	// no row locks: its one writer is the whole of it.
	skipLocked string

	// snapshot begins a read transaction that sees one snapshot (DB.view):
	// every SQLite transaction does; PostgreSQL's default, READ COMMITTED,
	// takes a snapshot per statement.
	snapshot *sql.TxOptions

	search searchDialect
}

// searchDialect is the roster's search: SQLite's FTS5 index (migration
// 0002), PostgreSQL's text search (customers_search, the baseline, and its
// words under a b-tree, migration 0024; how it runs: page and window
// below).
type searchDialect struct {
	// id is the index's customer id: search results come in its order.
	id string
	// query turns what someone typed into page's argument; "" for no
	// search.
	query func(typed string) string
	// page is the FROM and WHERE of a page of matches in id order dir
	// (ASC or DESC) past a cursor, cmp (" > ?", " < ?", or "" for none),
	// customers c among them: its arguments are pageArgs'. With neither
	// cursor nor LIMIT it is every match, in id order (CustomerIDs).
	page func(cmp, dir string) string
	// pageArgs are page's arguments for the query made by query and the
	// cursor's id (none or one); nil means the query, then the cursor.
	pageArgs func(match string, cursor []any) []any
	// window, where the engine has one, is page over only the next
	// arguments-many rows of the index past the cursor: its arguments are
	// the cursor's id, the number of rows, then the query. A page it fills
	// is the page; one it does not is asked of page (see RosterPage).
	window func(cmp, dir string) string
	// estimate, where the engine has a window, is a query of how many
	// rows of the index page would read for the query, as the engine
	// estimates them without reading them: its one argument is the query.
	// Under searchBroad, the window is not tried first.
	estimate string
	// archived, where the engine has one, is page within the archived
	// customers, a few out of many: its arguments are the organization,
	// the cursor's id, then the query.
	archived func(cmp string) string
}

// args are page's arguments for match past cursor.
func (s searchDialect) args(match string, cursor []any) []any {
	if s.pageArgs != nil {
		return s.pageArgs(match, cursor)
	}
	return append([]any{match}, cursor...)
}

var sqliteDialect = dialect{
	engine:    SQLite,
	idList:    `SELECT value FROM json_each(?)`,
	randomHex: `lower(hex(randomblob(10)))`,
	newCustomerIDs: `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		SELECT (SELECT coalesce(max(id), 0) FROM customers) + i FROM n`,
	rosterByState: `customers c INDEXED BY customers_state`,
	search: searchDialect{
		id:    `f.rowid`,
		query: MatchQuery,
		// FTS5 reads a term's doclist in rowid order and stops at the
		// LIMIT: no window needed.
		page: func(cmp, dir string) string {
			if cmp != "" {
				cmp = ` AND f.rowid` + cmp
			}
			return `customers_fts f JOIN customers c ON c.id = f.rowid WHERE customers_fts MATCH ?` + cmp
		},
	},
}

var postgresDialect = dialect{
	engine:         Postgres,
	idList:         `SELECT CAST(value AS BIGINT) FROM json_array_elements_text(CAST(? AS json))`,
	randomHex:      `substr(md5(CAST(gen_random_uuid() AS text)), 1, 20)`,
	newCustomerIDs: `SELECT nextval(pg_get_serial_sequence('customers', 'id')) FROM generate_series(1, ?)`,
	rosterByState:  `customers c`,
	skipLocked:     ` FOR UPDATE SKIP LOCKED`,
	snapshot:       &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true},
	search: searchDialect{
		id:    `f.id`,
		query: tsQuery,
		page:  pgSearchPage,
		// The query twice: the words' prefix is made from it, and the
		// documents are tested against it.
		pageArgs: func(match string, cursor []any) []any {
			return append(append([]any{match}, cursor...), match)
		},
		window:   pgSearchWindow,
		estimate: `SELECT customers_search_estimate(?)`,
		archived: pgSearchArchived,
	},
}

// pgTSQuery is the search's tsquery, as a scalar subquery so that it is
// made once per statement: written inline, unaccent (STABLE, so never
// folded into a constant) and to_tsquery ran again for every row a plan
// tested, 4 µs each, which made a walk of the index ten times slower than
// the test itself. The price is that the planner no longer sees the words,
// so it cannot estimate how many rows match; page and window do not ask it
// to (below), so a prepared statement's generic plan (which PostgreSQL
// may switch to after five runs) is the plan a custom one would be.
//
// The text is lower-cased under ICU's root collation, as the documents are
// (migration 0023), so that letters beyond ASCII match in a database of any
// locale.
const pgTSQuery = `(SELECT to_tsquery('simple', lower(unaccent(?) COLLATE "und-x-icu")))`

// pgSearchPage is a page of PostgreSQL search results: the ids of the
// words that begin with the query's prefix (customers_search_prefix,
// migration 0024: its longest word), from the b-tree alone (no heap
// visit), without repeats and in id order, then each one's document tested
// against the whole query (an exact phone number, a second word), and
// customers looked up in that order until the page is full. The
// subqueries' OFFSET 0 keep that order of work: flattened, the planner
// joined documents and customers for every candidate before sorting. The
// cost is the number of candidates, about 0.3 µs each on this machine
// (BENCHMARKS.md): a few milliseconds for ten thousand, too slow for a
// prefix a quarter of the roster shares, which window answers instead.
// U&'\+10FFFF', the last code point, bounds the run of words that begin
// with the prefix in bytewise order; the prefix comes from a subquery, so
// the planner cannot turn a LIKE into that range itself.
func pgSearchPage(cmp, dir string) string {
	if cmp != "" {
		cmp = ` AND x.id` + cmp
	}
	return `(SELECT DISTINCT x.id FROM (SELECT customers_search_prefix(?) AS pre) p, customers_search_words x
			WHERE x.word >= p.pre AND x.word < p.pre || U&'\+10FFFF'` + cmp + ` ORDER BY x.id ` + dir + ` OFFSET 0) f
		CROSS JOIN LATERAL (SELECT doc FROM customers_search s WHERE s.id = f.id OFFSET 0) s
		CROSS JOIN LATERAL (SELECT * FROM customers c WHERE c.id = f.id OFFSET 0) c WHERE s.doc @@ ` + pgTSQuery
}

// pgSearchWindow is a page of PostgreSQL search results among only the
// next rows of the index in id order past the cursor: a walk of the
// primary key testing each document, bounded, so its cost is the window's
// size whatever was typed. A broad prefix (a letter, "example", "gmail")
// fills the page in its first few hundred rows, where page would have
// gathered hundreds of thousands of candidates to sort.
func pgSearchWindow(cmp, dir string) string {
	where := ``
	if cmp != "" {
		where = ` WHERE id` + cmp
	}
	return `(SELECT id, doc FROM customers_search` + where + ` ORDER BY id ` + dir + ` LIMIT ?) f
		CROSS JOIN LATERAL (SELECT * FROM customers c WHERE c.id = f.id OFFSET 0) c WHERE f.doc @@ ` + pgTSQuery
}

// pgSearchArchived is a page of PostgreSQL search results within the
// archived customers (the demo archives 0.4 %): each of them tested, then
// sorted. From the search's side, a window rarely holds a page of archived
// matches, and every match of "ma" (211,000) was gathered to find 50
// archived ones: 320 ms, where testing the 4,400 archived takes a few.
func pgSearchArchived(cmp string) string {
	if cmp != "" {
		cmp = ` AND id` + cmp
	}
	return `(SELECT * FROM customers WHERE org_id = ? AND archived = 1` + cmp + ` OFFSET 0) c
		CROSS JOIN LATERAL (SELECT id, doc FROM customers_search WHERE id = c.id OFFSET 0) f WHERE f.doc @@ ` + pgTSQuery
}

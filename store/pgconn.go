package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// The store writes one SQL dialect: SQLite's placeholders (? and ?N) and
// 0/1 integers for flags. On PostgreSQL both are translated here, below
// database/sql, so that conn, Tx, the prepared-statement cache, the raw
// connections of tests and every query stay as they are:
//
//   - pgConnector wraps pgx's connector; each connection it makes rewrites
//     the text of every statement it prepares, executes or queries with
//     rebind (? and ?N to $n);
//   - and passes Go bools as the integers 0 and 1: the schema keeps flags
//     as 0/1 integers on both engines (migrations/*_postgres.sql), so the
//     same comparisons (archived = 0) run on both.

// pgConnector is a driver.Connector whose connections rebind.
type pgConnector struct{ inner driver.Connector }

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := dc.(*stdlib.Conn)
	if !ok {
		dc.Close()
		return nil, fmt.Errorf("store: pgx's connector made a %T, not a *stdlib.Conn", dc)
	}
	return &pgConn{inner: sc}, nil
}

func (c pgConnector) Driver() driver.Driver { return c.inner.Driver() }

// pgConn is pgx's connection with rebinding. It forwards every optional
// interface of database/sql/driver that *stdlib.Conn implements (without
// QueryerContext, say, database/sql would prepare every query first;
// without SessionResetter, it would hand out a connection left in a broken
// transaction): TestPgConnForwardsDriverInterfaces checks that none is
// missing, should a newer pgx add one.
type pgConn struct{ inner *stdlib.Conn }

var (
	_ driver.Conn               = (*pgConn)(nil)
	_ driver.ConnPrepareContext = (*pgConn)(nil)
	_ driver.ConnBeginTx        = (*pgConn)(nil)
	_ driver.ExecerContext      = (*pgConn)(nil)
	_ driver.QueryerContext     = (*pgConn)(nil)
	_ driver.Pinger             = (*pgConn)(nil)
	_ driver.NamedValueChecker  = (*pgConn)(nil)
	_ driver.SessionResetter    = (*pgConn)(nil)
)

// pgx is the connection under database/sql, for what only pgx can do
// (COPY, LISTEN): reach it with (*sql.Conn).Raw.
func (c *pgConn) pgx() *pgx.Conn { return c.inner.Conn() }

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	q, err := rebindCached(query)
	if err != nil {
		return nil, err
	}
	return c.inner.PrepareContext(ctx, q)
}

func (c *pgConn) Close() error { return c.inner.Close() }

func (c *pgConn) Begin() (driver.Tx, error) {
	return c.inner.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.inner.BeginTx(ctx, opts)
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	q, err := rebindCached(query)
	if err != nil {
		return nil, err
	}
	return c.inner.ExecContext(ctx, q, args)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, err := rebindCached(query)
	if err != nil {
		return nil, err
	}
	return c.inner.QueryContext(ctx, q, args)
}

func (c *pgConn) Ping(ctx context.Context) error { return c.inner.Ping(ctx) }

func (c *pgConn) ResetSession(ctx context.Context) error { return c.inner.ResetSession(ctx) }

// CheckNamedValue passes a bool (or a type whose kind is bool) as the
// integer 0 or 1, and everything else to pgx as it is.
func (c *pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	switch v := nv.Value.(type) {
	case bool:
		nv.Value = boolInt(v)
	default:
		if rv := reflect.ValueOf(v); rv.IsValid() && rv.Kind() == reflect.Bool {
			if _, ok := v.(driver.Valuer); !ok {
				nv.Value = boolInt(rv.Bool())
			}
		}
	}
	return c.inner.CheckNamedValue(nv)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// maxPlaceholder is the highest ?N SQLite accepts (SQLITE_MAX_VARIABLE_NUMBER);
// PostgreSQL takes up to 65535 parameters.
const maxPlaceholder = 32766

// rebind rewrites SQLite's placeholders in query to PostgreSQL's, numbered
// as SQLite numbers them: ?N is parameter N, and a bare ? is one more than
// the largest number given so far (so "?1, ?, ?1" is "$1, $2, $1").
// Placeholders inside string literals ('…', E'…' with its backslash
// escapes, $tag$…$tag$), quoted identifiers ("…") and comments (-- and
// nested /* */) are left alone. It returns the number of placeholders
// rewritten. PostgreSQL's own operators with a ? (jsonb's ?, ?| and ?&)
// cannot be written in the store's SQL: they would be taken for
// placeholders.
func rebind(query string) (string, int, error) {
	if strings.IndexByte(query, '?') < 0 {
		return query, 0, nil
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	largest, n := 0, 0
	for i := 0; i < len(query); {
		c := query[i]
		switch {
		case c == '?':
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			num := largest + 1
			if j > i+1 {
				v, err := strconv.Atoi(query[i+1 : j])
				if err != nil || v < 1 || v > maxPlaceholder {
					return "", 0, fmt.Errorf("store: placeholder %s: numbers go from 1 to %d", query[i:j], maxPlaceholder)
				}
				num = v
			} else if num > maxPlaceholder {
				return "", 0, fmt.Errorf("store: more than %d placeholders", maxPlaceholder)
			}
			largest = max(largest, num)
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(num))
			i = j
			continue
		case c == '\'':
			// E'…' (and e'…') take backslash escapes; an E that is the end
			// of a longer word (a column "age'…" cannot occur) is not one.
			esc := i > 0 && (query[i-1] == 'E' || query[i-1] == 'e') && (i == 1 || !isIdentByte(query[i-2]))
			end := quotedEnd(query, i, '\'', esc)
			b.WriteString(query[i:end])
			i = end
			continue
		case c == '"':
			end := quotedEnd(query, i, '"', false)
			b.WriteString(query[i:end])
			i = end
			continue
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			end := strings.IndexByte(query[i:], '\n')
			if end < 0 {
				end = len(query)
			} else {
				end += i
			}
			b.WriteString(query[i:end])
			i = end
			continue
		case c == '/' && i+1 < len(query) && query[i+1] == '*':
			end := commentEnd(query, i)
			b.WriteString(query[i:end])
			i = end
			continue
		case c == '$' && (i == 0 || !isIdentByte(query[i-1])):
			if tag, ok := dollarTag(query[i:]); ok {
				end := strings.Index(query[i+len(tag):], tag)
				if end < 0 {
					end = len(query)
				} else {
					end += i + 2*len(tag)
				}
				b.WriteString(query[i:end])
				i = end
				continue
			}
		}
		b.WriteByte(c)
		i++
	}
	return b.String(), n, nil
}

// quotedEnd is the index just past the quoted text starting at query[i]
// (the quote q doubled inside it stands for itself; with esc, a backslash
// escapes the next byte), or len(query) when it is not closed.
func quotedEnd(query string, i int, q byte, esc bool) int {
	for j := i + 1; j < len(query); j++ {
		switch query[j] {
		case '\\':
			if esc {
				j++
			}
		case q:
			if j+1 < len(query) && query[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(query)
}

// commentEnd is the index just past the /* comment */ starting at
// query[i], nested as PostgreSQL nests them, or len(query).
func commentEnd(query string, i int) int {
	depth := 0
	for j := i; j+1 < len(query); j++ {
		switch {
		case query[j] == '/' && query[j+1] == '*':
			depth++
			j++
		case query[j] == '*' && query[j+1] == '/':
			depth--
			j++
			if depth == 0 {
				return j + 1
			}
		}
	}
	return len(query)
}

// dollarTag returns the $tag$ that s starts with, if it is one.
func dollarTag(s string) (string, bool) {
	for j := 1; j < len(s); j++ {
		c := s[j]
		switch {
		case c == '$':
			return s[:j+1], true
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80:
		case c >= '0' && c <= '9' && j > 1:
		default:
			return "", false
		}
	}
	return "", false
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// rebound caches rebind's answers: the store's queries are a few hundred
// texts, each run many times. Bounded, for raw SQL of tests and tools.
var rebound struct {
	sync.RWMutex
	m map[string]string
}

const reboundMax = 4096

func rebindCached(query string) (string, error) {
	rebound.RLock()
	q, ok := rebound.m[query]
	rebound.RUnlock()
	if ok {
		return q, nil
	}
	q, _, err := rebind(query)
	if err != nil {
		return "", err
	}
	rebound.Lock()
	if rebound.m == nil || len(rebound.m) >= reboundMax {
		rebound.m = make(map[string]string, 256)
	}
	rebound.m[query] = q
	rebound.Unlock()
	return q, nil
}

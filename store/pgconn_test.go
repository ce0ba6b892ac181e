package store

import (
	"database/sql/driver"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
)

func TestRebind(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT * FROM t WHERE a = ? AND b = ?`, `SELECT * FROM t WHERE a = $1 AND b = $2`},
		// SQLite's numbering: ?N is N, a bare ? one more than the largest so far.
		{`?1, ?, ?1`, `$1, $2, $1`},
		{`?3, ?, ?2, ?`, `$3, $4, $2, $5`},
		{`?2 ?1`, `$2 $1`},
		// Literals, identifiers and comments keep their question marks.
		{`SELECT '?', ? FROM t`, `SELECT '?', $1 FROM t`},
		{`SELECT 'it''s ?', ?`, `SELECT 'it''s ?', $1`},
		{`SELECT E'\'?', ?`, `SELECT E'\'?', $1`},
		{`SELECT NOTE'?', ?`, `SELECT NOTE'?', $1`}, // not E'…': no backslash escapes, same result
		{`SELECT "a?b", ?`, `SELECT "a?b", $1`},
		{`SELECT "a""?", ?`, `SELECT "a""?", $1`},
		{"SELECT ? -- what? \n, ?", "SELECT $1 -- what? \n, $2"},
		{`SELECT ? /* a? /* nested? */ still? */ , ?`, `SELECT $1 /* a? /* nested? */ still? */ , $2`},
		{`SELECT $$ ? $$, ?`, `SELECT $$ ? $$, $1`},
		{`SELECT $fn$ it's ? $fn$, ?`, `SELECT $fn$ it's ? $fn$, $1`},
		{`SELECT $1x, ?`, `SELECT $1x, $1`}, // $1x is no dollar quote
		{`SELECT a$b, ?`, `SELECT a$b, $1`},
		// Unclosed text runs to the end, untouched.
		{`SELECT '?`, `SELECT '?`},
		{`SELECT ? /* ?`, `SELECT $1 /* ?`},
		{`SELECT "?`, `SELECT "?`},
		{`?`, `$1`},
		{`x=?10`, `x=$10`},
	} {
		got, _, err := rebind(c.in)
		if err != nil || got != c.want {
			t.Errorf("rebind(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{`?0`, `?32767`, `?99999999999999999999`} {
		if _, _, err := rebind(`SELECT ` + bad); err == nil {
			t.Errorf("rebind(%q) took a placeholder SQLite refuses", bad)
		}
	}
}

// FuzzRebind: rebind never panics, and every placeholder it rewrites is
// one $n in its result, the rest of the text unchanged.
func FuzzRebind(f *testing.F) {
	for _, s := range []string{`SELECT ?`, `?1, ?, ?1`, `'?' "?" -- ?` + "\n?", `/* /* ? */ */ ?`, `$a$ ? $a$ ?`, `E'\'' ?`, `?32766`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, n, err := rebind(s)
		if err != nil {
			return
		}
		if strings.Count(s, "?")-strings.Count(out, "?") != n {
			t.Fatalf("rebind(%q) = %q: %d placeholders said, %d question marks gone", s, out, n, strings.Count(s, "?")-strings.Count(out, "?"))
		}
		if strings.Count(out, "$")-strings.Count(s, "$") != n {
			t.Fatalf("rebind(%q) = %q: %d placeholders said, %d $ added", s, out, n, strings.Count(out, "$")-strings.Count(s, "$"))
		}
	})
}

// pgConn must implement every optional driver interface pgx's connection
// does: database/sql checks for them by type assertion and quietly takes a
// slower or less safe path without one.
func TestPgConnForwardsDriverInterfaces(t *testing.T) {
	optional := []reflect.Type{
		reflect.TypeFor[driver.ConnPrepareContext](),
		reflect.TypeFor[driver.ConnBeginTx](),
		reflect.TypeFor[driver.ExecerContext](),
		reflect.TypeFor[driver.Execer](),
		reflect.TypeFor[driver.QueryerContext](),
		reflect.TypeFor[driver.Queryer](),
		reflect.TypeFor[driver.Pinger](),
		reflect.TypeFor[driver.NamedValueChecker](),
		reflect.TypeFor[driver.SessionResetter](),
		reflect.TypeFor[driver.Validator](),
	}
	pgxConn := reflect.TypeFor[*stdlib.Conn]()
	ours := reflect.TypeFor[*pgConn]()
	for _, it := range optional {
		if pgxConn.Implements(it) && !ours.Implements(it) {
			t.Errorf("pgx's connection implements %v and pgConn does not forward it", it)
		}
	}
}

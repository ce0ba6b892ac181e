// Package pgtest gives each test a fresh PostgreSQL database of its own on
// the server that FRONTDESK_TEST_POSTGRES names (a connection string to any
// database there, as a role that may create databases). Without the
// variable the tests that ask for one skip, unless
// FRONTDESK_REQUIRE_POSTGRES=1 (CI) makes them fail.
//
// The schema is made once per test binary, in a template database, and
// every test's database is a copy of it (CREATE DATABASE … TEMPLATE), which
// takes a fraction of migrating. Every database it makes is named
// fdtest_<random>_…, unique to the test binary's run, and dropped when its
// test ends (the template when the binary does: see Main); it never touches
// another database on the server.
//
// It does not import the store (whose own tests use it): the store's
// callers wrap it (storetest.Postgres).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	// EnvServer names the variable with the server's connection string.
	EnvServer = "FRONTDESK_TEST_POSTGRES"
	// EnvRequire names the variable that makes a missing server a failure.
	EnvRequire = "FRONTDESK_REQUIRE_POSTGRES"
)

var (
	mainCalled atomic.Bool
	prefix     = "fdtest_" + randomHex(6)
	next       atomic.Int64

	tmplOnce sync.Once
	tmplName string // "" until made
	tmplErr  error
)

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Main runs the package's tests and then drops the template database, if
// one was made; call it from TestMain: os.Exit(pgtest.Main(m)). Database
// refuses to run without it, so that no template is left on the server.
func Main(m *testing.M) int {
	mainCalled.Store(true)
	code := m.Run()
	if tmplName != "" {
		if err := admin(func(ctx context.Context, c *pgx.Conn) error {
			_, err := c.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{tmplName}.Sanitize()+` WITH (FORCE)`)
			return err
		}); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: dropping the template database %s: %v\n", tmplName, err)
		}
	}
	return code
}

// Available reports whether a server is configured; when it is not and
// is required, the test fails, else it is skipped.
func Available(t testing.TB) bool {
	t.Helper()
	if os.Getenv(EnvServer) != "" {
		return true
	}
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("%s=1 but %s is not set: give it a PostgreSQL connection string", EnvRequire, EnvServer)
	}
	t.Skipf("PostgreSQL half: set %s to a PostgreSQL connection string to run it", EnvServer)
	return false
}

// Database returns the connection string of a new database, a copy of the
// template that migrate (given the template's connection string, on the
// first call in the test binary) brings to the current schema. It is
// dropped when the test ends. It skips or fails the test as Available says.
func Database(t testing.TB, migrate func(dsn string) error) string {
	t.Helper()
	if !Available(t) {
		return ""
	}
	if !mainCalled.Load() {
		t.Fatal("pgtest: call os.Exit(pgtest.Main(m)) (or storetest.Main) from the package's TestMain, which drops the template database afterwards")
	}
	tmplOnce.Do(func() { tmplErr = makeTemplate(migrate) })
	if tmplErr != nil {
		t.Fatalf("pgtest: the template database: %v", tmplErr)
	}
	name := fmt.Sprintf("%s_%d", prefix, next.Add(1))
	err := admin(func(ctx context.Context, c *pgx.Conn) error {
		// A copy reads the template while nobody is connected to it;
		// the server waits a few seconds for a closing connection.
		var err error
		for range 5 {
			_, err = c.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()+` TEMPLATE `+pgx.Identifier{tmplName}.Sanitize())
			if err == nil || !strings.Contains(err.Error(), "being accessed by other users") {
				return err
			}
		}
		return err
	})
	if err != nil {
		t.Fatalf("pgtest: creating database %s: %v", name, err)
	}
	return dropWhenDone(t, name)
}

// dropWhenDone drops the database name when the test ends, and returns
// its connection string.
func dropWhenDone(t testing.TB, name string) string {
	t.Cleanup(func() {
		if err := admin(func(ctx context.Context, c *pgx.Conn) error {
			_, err := c.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`)
			return err
		}); err != nil {
			t.Errorf("pgtest: dropping database %s: %v", name, err)
		}
	})
	return WithDatabase(os.Getenv(EnvServer), name)
}

// Empty returns the connection string of a new database with nothing in
// it (no schema), dropped when the test ends: for tests of what opening an
// empty or new database does.
func Empty(t testing.TB) string {
	t.Helper()
	if !Available(t) {
		return ""
	}
	name := fmt.Sprintf("%s_%d", prefix, next.Add(1))
	if err := admin(func(ctx context.Context, c *pgx.Conn) error {
		_, err := c.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()+cLocale)
		return err
	}); err != nil {
		t.Fatalf("pgtest: creating database %s: %v", name, err)
	}
	return dropWhenDone(t, name)
}

// Kept returns the connection string of the database name on the server,
// creating it (empty) if it is not there, and never dropping it: for
// benchmarks, whose million-customer data takes minutes to load and is
// reused from run to run as the SQLite benchmarks reuse their file. It
// returns "" without the server variable.
func Kept(name string) (string, error) {
	if os.Getenv(EnvServer) == "" {
		return "", nil
	}
	err := admin(func(ctx context.Context, c *pgx.Conn) error {
		var n int
		if err := c.QueryRow(ctx, `SELECT count(*) FROM pg_database WHERE datname = $1`, name).Scan(&n); err != nil || n > 0 {
			return err
		}
		_, err := c.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize())
		return err
	})
	if err != nil {
		return "", err
	}
	return WithDatabase(os.Getenv(EnvServer), name), nil
}

// cLocale makes a test database's collation and character classes C's,
// whatever the server's default: the strictest a deployment may have (a
// cluster made with --no-locale), where a regular expression's [[:alnum:]]
// knows no letter beyond ASCII. Anything that leans on the locale fails
// here rather than on such a server.
const cLocale = ` TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`

// makeTemplate creates the template database and migrates it.
func makeTemplate(migrate func(dsn string) error) error {
	name := prefix + "_tmpl"
	if err := admin(func(ctx context.Context, c *pgx.Conn) error {
		_, err := c.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()+cLocale)
		return err
	}); err != nil {
		return err
	}
	tmplName = name
	return migrate(WithDatabase(os.Getenv(EnvServer), name))
}

// admin runs fn on a connection of its own to the server's database.
func admin(fn func(ctx context.Context, c *pgx.Conn) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, os.Getenv(EnvServer))
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	return fn(ctx, c)
}

// WithDatabase is the connection string dsn with its database replaced by
// name: in a URL's path, or as a libpq dbname (a later keyword wins).
func WithDatabase(dsn, name string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			u.Path = "/" + name
			u.RawPath = ""
			q := u.Query()
			if q.Has("dbname") {
				q.Set("dbname", name)
				u.RawQuery = q.Encode()
			}
			return u.String()
		}
	}
	return dsn + " dbname=" + name
}

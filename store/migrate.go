package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations are the numbered files in migrations/, in order. A released file is
// never edited: a change to the schema is a new file.
var migrations = loadMigrations()

func loadMigrations() []migration {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		panic(err)
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			panic("store: migration without a number: " + e.Name())
		}
		b, err := migrationFS.ReadFile("migrations/" + e.Name())
		if err != nil {
			panic(err)
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			panic(fmt.Sprintf("store: migrations must be numbered 1..n without gaps, found %s at position %d", m.name, i+1))
		}
	}
	return ms
}

// migrate applies every migration newer than the database's version, up to
// upTo, each in its own write transaction so a failure leaves the database at
// the last good version.
func (db *DB) migrate(ctx context.Context, upTo int) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return wrapBusy(fmt.Errorf("create schema_migrations: %w", err))
	}
	var current int
	if err := db.write.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return err
	}
	if current > len(migrations) {
		return Errorf(EINVALID, "database %s has schema version %d, newer than this frontdesk (%d); upgrade frontdesk", db.path, current, len(migrations))
	}
	for _, m := range migrations[current:upTo] {
		err := db.Tx(ctx, func(tx *Tx) error {
			// Another process may have migrated while we waited for the lock.
			var done bool
			if err := tx.tx.QueryRowContext(ctx, `SELECT count(*) > 0 FROM schema_migrations WHERE version = ?`, m.version).Scan(&done); err != nil || done {
				return err
			}
			if _, err := tx.tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, m.version, m.name, db.Now().Unix())
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

// SchemaVersion is the highest migration applied to the database.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.queryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

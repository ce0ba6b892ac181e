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
	// step, when set, runs in the migration's transaction after the SQL:
	// for changes SQL cannot make (sealing with a key outside the database).
	step func(ctx context.Context, db *DB, tx *Tx) error
}

// migrations are the numbered files in migrations/, in order. A released file is
// never edited: a change to the schema is a new file.
var migrations = loadMigrations()

// latestVersion is the newest migration's number.
var latestVersion = migrations[len(migrations)-1].version

// migrationSteps are the Go parts of migrations, by number.
var migrationSteps = map[int]func(ctx context.Context, db *DB, tx *Tx) error{
	8:  sealPlainBodies,
	17: rebuildAllSearchKeys,
}

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
		// Numbers are handed out to changes made side by side, so one may
		// land before a lower one: gaps are allowed, and each database
		// records every version it applied (see migrate).
		if m.version < 1 || (i > 0 && m.version == ms[i-1].version) {
			panic(fmt.Sprintf("store: migration numbers must be positive and unique, found %s", m.name))
		}
		ms[i].step = migrationSteps[m.version]
	}
	return ms
}

// migrate applies every migration up to version upTo that the database has
// not applied yet (a number that was skipped and arrives later is applied
// then), each in its own write transaction so a failure leaves the database
// at the last good version.
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
	if current > latestVersion {
		// Most often a rollback to the previous binary after an upgrade:
		// the way back is the newer binary, or the backup taken before it.
		return Errorf(EINVALID, "database %s has schema version %d, but this frontdesk knows only up to %d: a newer frontdesk has upgraded it. Run that newer frontdesk (or a later one), or restore the backup taken before the upgrade; this one leaves the database untouched.", db.path, current, latestVersion)
	}
	applied := map[int]bool{}
	rows, err := db.write.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, m := range migrations {
		if m.version > upTo || applied[m.version] {
			continue
		}
		err := db.Tx(ctx, func(tx *Tx) error {
			// Another process may have migrated while we waited for the lock.
			var done bool
			if err := tx.tx.QueryRowContext(ctx, `SELECT count(*) > 0 FROM schema_migrations WHERE version = ?`, m.version).Scan(&done); err != nil || done {
				return err
			}
			if _, err := tx.tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			if m.step != nil {
				if err := m.step(ctx, db, tx); err != nil {
					return err
				}
			}
			_, err := tx.tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, m.version, m.name, db.Now().Unix())
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	if db.scrub {
		// Outside any transaction, as VACUUM must be: the rebuilt file has
		// no free space left holding what an older frontdesk cleared, and
		// the truncated WAL no page images of it.
		if _, err := db.write.ExecContext(ctx, `VACUUM`); err != nil {
			if isBusy(err) {
				return err
			}
			return Errorf(EINVALID, "the database %s was upgraded but could not be compacted (%v); links sent by earlier versions may linger in its free space until you run `sqlite3 %s VACUUM`", db.path, err, db.path)
		}
		db.write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
		db.scrub = false
	}
	return nil
}

// SchemaVersion is the highest migration applied to the database.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.queryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

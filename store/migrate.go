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
	// name is the file's name without its engine ("0001_init.sql"): what
	// schema_migrations records, as it did before there were two engines.
	name string
	sql  string
	// step, when set, runs in the migration's transaction after the SQL:
	// for changes SQL cannot make (sealing with a key outside the database).
	step func(ctx context.Context, db *DB, tx *Tx) error
}

// migrations are the numbered files in migrations/ of each engine, in
// order: NNNN_name_sqlite.sql and NNNN_name_postgres.sql (as soft-serve
// keeps them). A released file is never edited: a change to the schema is
// a new file, one per engine, under the same number. PostgreSQL starts from
// one baseline numbered as the newest SQLite migration of its day, which
// makes the same schema as SQLite's files up to it
// (TestMigrationsForBothEngines checks that every later SQLite number has
// its PostgreSQL file).
var migrations = loadMigrations()

// latest is the engine's newest migration's number.
func latest(e Engine) int {
	ms := migrations[e]
	return ms[len(ms)-1].version
}

// migrationSteps are the Go parts of migrations, by engine and number.
// Migration 8's sealing of plain bodies is SQLite's history: PostgreSQL
// databases never held any.
var migrationSteps = map[Engine]map[int]func(ctx context.Context, db *DB, tx *Tx) error{
	SQLite:   {8: sealPlainBodies},
	Postgres: {},
}

func loadMigrations() map[Engine][]migration {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		panic(err)
	}
	all := map[Engine][]migration{}
	for _, e := range entries {
		num, rest, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			panic("store: migration without a number: " + e.Name())
		}
		base := strings.TrimSuffix(rest, ".sql")
		var eng Engine
		for _, cand := range []Engine{SQLite, Postgres} {
			if b, ok := strings.CutSuffix(base, "_"+string(cand)); ok {
				eng, base = cand, b
			}
		}
		if eng == "" {
			panic("store: migration " + e.Name() + " names no engine: call it NNNN_name_sqlite.sql or NNNN_name_postgres.sql")
		}
		b, err := migrationFS.ReadFile("migrations/" + e.Name())
		if err != nil {
			panic(err)
		}
		all[eng] = append(all[eng], migration{version: v, name: num + "_" + base + ".sql", sql: string(b)})
	}
	for eng, ms := range all {
		sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
		for i, m := range ms {
			// Numbers are handed out to changes made side by side, so one may
			// land before a lower one: gaps are allowed, and each database
			// records every version it applied (see migrate).
			if m.version < 1 || (i > 0 && m.version == ms[i-1].version) {
				panic(fmt.Sprintf("store: migration numbers must be positive and unique per engine, found %s (%s)", m.name, eng))
			}
			ms[i].step = migrationSteps[eng][m.version]
		}
	}
	if len(all[SQLite]) == 0 || len(all[Postgres]) == 0 {
		panic("store: migrations missing for an engine")
	}
	return all
}

// migrate applies every migration up to version upTo that the database has
// not applied yet (a number that was skipped and arrives later is applied
// then), each in its own write transaction so a failure leaves the database
// at the last good version.
func (db *DB) migrate(ctx context.Context, upTo int) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at BIGINT NOT NULL
	)`); err != nil {
		return wrapBusy(fmt.Errorf("create schema_migrations: %w", err))
	}
	var current int
	if err := db.write.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return err
	}
	if newest := latest(db.d.engine); current > newest {
		// Most often a rollback to the previous binary after an upgrade:
		// the way back is the newer binary, or the backup taken before it.
		return Errorf(EINVALID, "database %s has schema version %d, but this frontdesk knows only up to %d: a newer frontdesk has upgraded it. Run that newer frontdesk (or a later one), or restore the backup taken before the upgrade; this one leaves the database untouched.", db.where, current, newest)
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
	for _, m := range migrations[db.d.engine] {
		if m.version > upTo || applied[m.version] {
			continue
		}
		err := db.Tx(ctx, func(tx *Tx) error {
			if db.pg != nil {
				// A schema change waits for the reads in flight on other
				// nodes to let go of the tables it alters, for longer
				// than a write waits for a lock.
				if _, err := tx.tx.ExecContext(ctx, `SET LOCAL lock_timeout = '60s'`); err != nil {
					return err
				}
			}
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

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
	// folds, for PostgreSQL's baseline, are the SQLite migrations whose
	// schema it makes, recorded as applied with it.
	folds []int
}

// baseline reports whether m is an engine's baseline (see migrations).
func (m migration) baseline() bool { return strings.HasSuffix(m.name, "_baseline.sql") }

// migrations are the numbered files in migrations/ of each engine, in the
// order they apply: NNNN_name_sqlite.sql and NNNN_name_postgres.sql (as
// soft-serve keeps them). A released file is never edited: a change to the
// schema is a new file, one per engine, under the same number (the twin).
//
// PostgreSQL starts from one baseline, NNNN_baseline_postgres.sql, that
// makes at once the schema SQLite's files make up to it. It applies first,
// whatever its number, and records as applied every SQLite number it folds
// in (pgBaselineFolds), so a database of either engine that one binary
// migrated records the same numbers. A SQLite migration not folded in gets
// its PostgreSQL twin under its own number, even one below the baseline's
// (numbers are handed out to changes made side by side, and 0016 may land
// after 0019): the twin applies after the baseline on a new database and
// on its own on an existing one. TestMigrationsForBothEngines checks that
// every SQLite number is folded or twinned, and
// TestBothEnginesHaveTheSameSchema that the result is the same schema.
var migrations = loadMigrations()

// pgBaselineFolds are the SQLite migrations the PostgreSQL baseline makes
// the schema of. Never change it once released: a later SQLite migration
// gets a twin file instead.
var pgBaselineFolds = []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 18, 19}

// latest is the engine's highest migration number.
func latest(e Engine) int {
	n := 0
	for _, m := range migrations[e] {
		n = max(n, m.version)
	}
	return n
}

// migrationSteps are the Go parts of migrations, by engine and number.
// Migration 8's sealing of plain bodies and 15's rebuild of invites are
// SQLite's history: PostgreSQL databases never held plain bodies, and
// PostgreSQL's baseline writes the CHECK 15 widens as it is now. 17
// computes every customer's search keys in Go (the phone numbering plans
// are a Go library), on each engine.
var migrationSteps = map[Engine]map[int]func(ctx context.Context, db *DB, tx *Tx) error{
	SQLite:   {8: sealPlainBodies, 15: allowWithdrawn, 17: rebuildAllSearchKeys},
	Postgres: {17: rebuildAllSearchKeys},
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
		// The baseline first (see migrations), then by number.
		sort.Slice(ms, func(i, j int) bool {
			if bi, bj := ms[i].baseline(), ms[j].baseline(); bi != bj {
				return bi
			}
			return ms[i].version < ms[j].version
		})
		for i, m := range ms {
			// Numbers are handed out to changes made side by side, so one may
			// land before a lower one: gaps are allowed, and each database
			// records every version it applied (see migrate).
			if m.version < 1 || (i > 0 && m.version == ms[i-1].version) || (i > 0 && m.baseline()) {
				panic(fmt.Sprintf("store: migration numbers must be positive and unique per engine, found %s (%s)", m.name, eng))
			}
			ms[i].step = migrationSteps[eng][m.version]
			if m.baseline() {
				ms[i].folds = pgBaselineFolds
			}
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
		if m.version > upTo && m.baseline() && !applied[m.version] {
			break // nothing applies before the baseline
		}
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
			if _, err := tx.tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, m.version, m.name, db.Now().Unix()); err != nil {
				return err
			}
			for _, v := range m.folds {
				if v == m.version {
					continue
				}
				if _, err := tx.tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, v, foldedName(v), db.Now().Unix()); err != nil {
					return err
				}
			}
			return nil
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

// foldedName is what schema_migrations records for a SQLite migration the
// PostgreSQL baseline folds in: its name, marked as made by the baseline.
func foldedName(v int) string {
	for _, m := range migrations[SQLite] {
		if m.version == v {
			return strings.TrimSuffix(m.name, ".sql") + " (baseline).sql"
		}
	}
	return fmt.Sprintf("%04d (baseline)", v)
}

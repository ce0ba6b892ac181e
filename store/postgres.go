package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// PostgreSQL: several frontdesk processes, on several machines, share one
// database. The store keeps its shape (DB, Tx, conn, the statement cache):
// database/sql runs on pgx (pgxpool and its stdlib connector, with the
// placeholders rebound in pgconn.go), as on SQLite one writer connection
// per process and a pool of readers.
//
// One writer at a time, across every process, as on SQLite. The store's
// invariants (one live link per customer and purpose, exactly one
// redemption, counts kept by triggers, the change log numbered without
// gaps, outbox leases) were written against SQLite's single writer, and
// every write transaction (DB.Tx) here first takes a transaction-level
// advisory lock on one key (pgWriteLock), so write transactions run one
// after another, over every node, exactly as they do on one SQLite file.
// Reads take no lock and run on the pool alongside. The alternative,
// SERIALIZABLE with every transaction retried on a serialization failure,
// would let writes to unrelated rows overlap, but every invariant would
// then rest on each writer's retry loop being right, and the triggers'
// counters (roster_counts, funnel_counts, the change log's next number)
// are one hot row each that every such transaction would fight over. The
// writes here are few and short (an invite, a delivery result, a sign-in
// failure), so queueing them costs little and keeps one model of
// concurrency for both engines. The log's triggers take the same lock
// (migrations: changes_next), so a write made outside frontdesk, in psql,
// is ordered with the rest too.

// The advisory lock keys: "frontdkW" and "frontdkM" as integers, unlikely
// to be another application's on a shared server.
const (
	pgWriteLock   int64 = 0x66726f6e74646b57 // DB.Tx; the migrations' changes_next repeats it
	pgMigrateLock int64 = 0x66726f6e74646b4d // held while a process migrates (startPostgres)
)

// pgLockTimeout is how long a write waits for the write lock (and any
// other lock) before it reports the database busy, as BusyTimeout is on
// SQLite.
const pgLockTimeout = BusyTimeout

// pgMinVersion is the oldest PostgreSQL the baseline runs on
// (gen_random_uuid is built in since 13).
const pgMinVersion = 130000

// pgPools are a PostgreSQL database's pgx pools: the writer's (the one
// writer connection of database/sql, the connection that holds the
// migration lock, and room for what needs pgx itself: COPY, LISTEN) and the
// readers'. The readers' connections are read-only
// (default_transaction_read_only), as SQLite's readers are query_only: a
// write sent to the reader pool by mistake fails instead of going around
// the write lock.
type pgPools struct {
	write, read *pgxpool.Pool
	dsn         string // for OpenRaw
}

func (p *pgPools) close() {
	p.read.Close()
	p.write.Close()
}

// pgWriterConns is the writer pool's size: see pgPools.
const pgWriterConns = 4

func openPostgres(dsn string, o Options, upTo int) (*DB, error) {
	where := Describe(dsn)
	keys, err := o.keyring("")
	if err != nil {
		return nil, err
	}
	if _, err := keys.load(); err != nil && !errors.Is(err, errNoKeyFile) {
		return nil, err
	}
	pools, err := newPGPools(dsn)
	if err != nil {
		return nil, err
	}
	w := sql.OpenDB(pgConnector{stdlib.GetPoolConnector(pools.write)})
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(time.Hour)
	r := sql.OpenDB(pgConnector{stdlib.GetPoolConnector(pools.read)})
	r.SetMaxOpenConns(readers())
	r.SetMaxIdleConns(readers())
	r.SetConnMaxLifetime(time.Hour)
	db := &DB{d: &postgresDialect, where: where, pg: pools, write: w, read: r, keys: keys, existing: o.Existing, Now: time.Now}
	db.conn = conn{db: db, stmts: &db.rstmts}
	db.wstmts.pool, db.rstmts.pool = w, r
	if err := db.startPostgres(context.Background(), upTo); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// newPGPools makes the two pools of dsn. Nothing is connected yet.
func newPGPools(dsn string) (*pgPools, error) {
	p := &pgPools{dsn: dsn}
	for _, read := range []bool{false, true} {
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			// pgx's message quotes the string, with what it takes for a
			// password masked; a malformed one may hide it elsewhere.
			return nil, Errorf(EINVALID, "the PostgreSQL connection string does not parse; write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE or as host=HOST dbname=DATABASE user=USER")
		}
		params := cfg.ConnConfig.RuntimeParams
		if params["application_name"] == "" {
			params["application_name"] = "frontdesk"
		}
		if read {
			cfg.MaxConns = int32(readers())
			params["default_transaction_read_only"] = "on"
		} else {
			cfg.MaxConns = pgWriterConns
			params["lock_timeout"] = strconv.FormatInt(pgLockTimeout.Milliseconds(), 10)
		}
		pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			if p.write != nil {
				p.write.Close()
			}
			return nil, Errorf(EINVALID, "cannot use the PostgreSQL database: %v", err)
		}
		if read {
			p.read = pool
		} else {
			p.write = pool
		}
	}
	return p, nil
}

// startPostgres connects, checks the server, and migrates under the
// migration lock: a session-level advisory lock, so that of several nodes
// started at once one migrates and the others wait, then find nothing
// left to do. The lock's connection is closed afterwards rather than
// unlocked and returned to the pool: closing ends the session, and with it
// the lock, whatever went wrong.
func (db *DB) startPostgres(ctx context.Context, upTo int) error {
	c, err := db.pg.write.Acquire(ctx)
	if err != nil {
		return db.connectError(err)
	}
	defer func() {
		pc := c.Hijack()
		pc.Close(context.Background())
	}()
	var version int
	var hasSchema bool
	if err := c.QueryRow(ctx, `SELECT current_setting('server_version_num')::int, to_regclass('schema_migrations') IS NOT NULL`).Scan(&version, &hasSchema); err != nil {
		return db.connectError(err)
	}
	if version < pgMinVersion {
		return Errorf(EINVALID, "%s runs PostgreSQL %d.%d; frontdesk needs 13 or later", db.where, version/10000, version%10000)
	}
	if db.existing && !hasSchema {
		return &Error{Code: ENOTFOUND, Message: fmt.Sprintf("there is no frontdesk database at %s: it has no frontdesk tables yet", db.where), cause: ErrNoDatabase}
	}
	// Waiting for another node's migration is not a lock that is busy:
	// however long it takes, this node can do nothing before it is done.
	if _, err := c.Exec(ctx, `SET lock_timeout = 0`); err != nil {
		return db.connectError(err)
	}
	if _, err := c.Exec(ctx, `SELECT pg_advisory_lock($1)`, pgMigrateLock); err != nil {
		return db.connectError(err)
	}
	return db.migrate(ctx, upTo)
}

// connectError says what failed to connect, without the connection string.
func (db *DB) connectError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "3D000": // invalid_catalog_name
			if db.existing {
				return &Error{Code: ENOTFOUND, Message: fmt.Sprintf("there is no database at %s", db.where), cause: ErrNoDatabase}
			}
			return &Error{Code: EINVALID, Message: fmt.Sprintf("%s does not exist; create it first (createdb, or CREATE DATABASE as its owner)", db.where), cause: err}
		case "28P01", "28000": // invalid_password, invalid_authorization_specification
			return &Error{Code: EINVALID, Message: fmt.Sprintf("%s refused the user name or password of the connection string", db.where), cause: err}
		}
	}
	return &Error{Code: EINVALID, Message: fmt.Sprintf("cannot connect to %s: %v", db.where, err), cause: err}
}

// pgLockWrites takes the write lock for the transaction tx (see the top of
// this file); it is released when tx ends.
func pgLockWrites(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(`+strconv.FormatInt(pgWriteLock, 10)+`)`)
	return err
}

// OpenRaw opens connections of its own to the database, for raw SQL in
// the store's dialect (the placeholders ? and ?N on either engine): tests
// checking rows no method reads, tools moving data. They go around the
// store's transactions: a write here waits for the store's writer like
// another process's would (on PostgreSQL, only a write to what the change
// log's triggers watch takes the write lock). Close it when done.
func (db *DB) OpenRaw() (*sql.DB, error) {
	if db.pg == nil {
		c, err := sql.Open("sqlite", "file:"+db.path+"?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_txlock=immediate")
		if err != nil {
			return nil, err
		}
		c.SetMaxOpenConns(1)
		return c, nil
	}
	cfg, err := pgx.ParseConfig(db.pg.dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(pgConnector{stdlib.GetConnector(*cfg)}), nil
}

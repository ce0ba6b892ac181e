package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// DB is an open frontdesk database: one writer connection (SQLite allows one
// writer at a time; queueing writers in Go instead of in busy_timeout keeps
// latency predictable) and a pool of readers that WAL lets run alongside it.
//
// There is one way in for each kind of work. Reads are methods of DB (and of
// Tx, for reads that must see a transaction's own writes); they run on the
// reader pool. Writes are methods of Tx only, so every write is inside a
// transaction (DB.Tx): there is no writer handle to misuse, and nothing can
// deadlock by writing outside the transaction that holds the one writer
// connection. Both go through conn, which keeps the prepared statements.
//
// The engine is SQLite (one file) or PostgreSQL (a server several processes
// share; see postgres.go): d holds the SQL that differs between them.
type DB struct {
	conn // reads, on the reader pool

	d     *dialect
	path  string // the SQLite file; "" on PostgreSQL
	where string // the database as messages name it (Describe)
	pg    *pgPools
	write *sql.DB
	read  *sql.DB
	keys  *keyring // seals outbox bodies (seal.go)
	scrub bool     // compact the file once migrated (sealPlainBodies)

	wstmts, rstmts stmtCache

	// existing: opened with Options.Existing, so no connection may create
	// the file.
	existing bool

	feed feed // the change detector and its subscribers (changes.go)

	searchStats wordStatsCache // PostgreSQL's search words' statistics (searchstats.go)

	// Now is the clock; tests move it.
	Now func() time.Time
}

// BusyTimeout is how long a connection waits for another process's write lock
// (a second frontdesk process on the same file) before giving up.
const BusyTimeout = 5 * time.Second

func dsn(path string, readOnly, mustExist bool) string {
	q := url.Values{}
	if mustExist {
		// SQLite's own open flags, not a check made beforehand: a file
		// removed meanwhile is not made again.
		q.Set("mode", "rw")
	}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	// Deleted and overwritten content (an outbox body cleared once sent) is
	// zeroed rather than left in free space for a copy of the file to show.
	q.Add("_pragma", "secure_delete(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		// BEGIN IMMEDIATE takes the write lock up front; a deferred transaction
		// that upgrades later fails with SQLITE_BUSY without honouring busy_timeout.
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// Options are Open's settings beyond the database path.
type Options struct {
	// OutboxKey is the key file that seals outbox bodies (see seal.go);
	// "" means OutboxKeyFile in Dir, which is created on first use. A file
	// named here must exist before anything is sealed (RotateOutboxKey
	// makes it).
	OutboxKey string

	// Dir is the data directory, where OutboxKeyFile is when OutboxKey is
	// "". For SQLite it defaults to the database file's directory; a
	// PostgreSQL database has no file, so it needs Dir or OutboxKey.
	Dir string

	// Existing opens only a database that is already there, and creates
	// nothing: not the directory, not the file (an error wrapping
	// ErrNoDatabase says so), not the key file (made by the first write
	// that seals mail, as always). For commands that only read: run in the
	// wrong place, they must not leave an empty database behind for the
	// next one to find. The schema is still brought up to date, as by
	// every start (so a database from before outbox bodies were sealed
	// still gets its key file from migration 8, which seals its waiting
	// mail). On PostgreSQL the server's database must exist, as always,
	// and hold frontdesk's tables.
	Existing bool
}

// ErrNoDatabase is what Open with Options.Existing reports (wrapped in an
// *Error, code ENOTFOUND) when there is no database file at the path (on
// PostgreSQL: no database, or one without frontdesk's tables).
var ErrNoDatabase = errors.New("no database")

// Open opens (creating if needed) the database at path and brings its schema up
// to date. Outbox bodies are sealed with the key file beside it.
func Open(path string) (*DB, error) {
	return OpenWith(path, Options{})
}

// OpenWith opens the database target, bringing its schema up to date:
// a SQLite file (created if needed), or a PostgreSQL database when target
// is a connection string (IsPostgres).
func OpenWith(target string, o Options) (*DB, error) {
	if IsPostgres(target) {
		return openPostgres(target, o, latest(Postgres))
	}
	return open(target, o, latest(SQLite))
}

// keyring is the outbox key file of the options; dbDir is the database
// file's directory, "" for none.
func (o Options) keyring(dbDir string) (*keyring, error) {
	keys := &keyring{path: o.OutboxKey}
	if keys.path != "" {
		return keys, nil
	}
	dir := o.Dir
	if dir == "" {
		dir = dbDir
	}
	if dir == "" {
		return nil, Errorf(EINVALID, "the outbox key file has no place: a PostgreSQL database keeps it outside the database, so give its path (--outbox-key) or a data directory")
	}
	keys.path, keys.mayCreate = filepath.Join(dir, OutboxKeyFile), true
	return keys, nil
}

// open opens the SQLite file at path, migrated up to version upTo.
func open(path string, o Options, upTo int) (*DB, error) {
	if o.Existing {
		if err := existingFile(path); err != nil {
			return nil, err
		}
	} else if err := createFile(path); err != nil {
		return nil, err
	}
	keys, err := o.keyring(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	// A key file that is unsafe or damaged is refused now, not at the
	// first invite.
	if _, err := keys.load(); err != nil && !errors.Is(err, errNoKeyFile) {
		return nil, err
	}
	w, err := sql.Open("sqlite", dsn(path, false, o.Existing))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	db := &DB{d: &sqliteDialect, path: path, where: path, write: w, keys: keys, existing: o.Existing, Now: time.Now}
	db.conn = conn{db: db, stmts: &db.rstmts}
	db.wstmts.pool = w
	if err := db.start(upTo); err != nil {
		db.write.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn(path, true, o.Existing))
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(readers())
	r.SetMaxIdleConns(readers())
	db.read = r
	db.rstmts.pool = r
	return db, nil
}

// createFile makes the database's directory and file when they are missing.
func createFile(path string) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return Errorf(EINVALID, "cannot create data directory %s: %v", dir, err)
		}
	}
	// SQLite creates the file with the process umask (0644 as a rule) and
	// gives the -wal and -shm files the database's mode: made here first,
	// all three are private whatever the umask.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return Errorf(EINVALID, "cannot create database %s: %v", path, err)
	}
	return nil
}

// existingFile checks that the database file is there (Options.Existing).
func existingFile(path string) error {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &Error{Code: ENOTFOUND, Message: fmt.Sprintf("there is no database at %s", path), cause: ErrNoDatabase}
	case err != nil:
		return Errorf(EINVALID, "cannot open database %s: %v", path, err)
	case !st.Mode().IsRegular():
		return Errorf(EINVALID, "%s is not a database file", path)
	}
	return nil
}

// readers is the size of the reader pool.
func readers() int { return max(4, runtime.NumCPU()*2) }

// start connects and migrates. Two processes creating the same new file race
// for the exclusive lock that switching to WAL takes, and SQLite does not
// apply busy_timeout to that switch, so the loser retries for as long as
// busy_timeout would have waited.
func (db *DB) start(upTo int) error {
	deadline := time.Now().Add(BusyTimeout)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err := db.write.Ping()
		if err == nil {
			err = db.migrate(context.Background(), upTo)
		}
		if err == nil {
			return nil
		}
		if !isBusy(err) || time.Now().After(deadline) {
			if isBusy(err) {
				return wrapBusy(err)
			}
			if ErrorCode(err) != EINTERNAL {
				return err
			}
			return Errorf(EINVALID, "cannot open database %s: %v", db.path, err)
		}
		db.write.Close()
		time.Sleep(wait)
		w, oerr := sql.Open("sqlite", dsn(db.path, false, db.existing))
		if oerr != nil {
			return oerr
		}
		w.SetMaxOpenConns(1)
		db.write, db.wstmts.pool = w, w
	}
}

// Path is the database file's path; "" on PostgreSQL.
func (db *DB) Path() string { return db.path }

// Where names the database for people: the file, or the PostgreSQL
// database and its server (never the connection string, which may hold
// a password).
func (db *DB) Where() string { return db.where }

// Close stops the change detector, closing its subscribers' channels, and
// closes both pools.
func (db *DB) Close() error {
	db.feed.close()
	var errs []error
	db.rstmts.close()
	db.wstmts.close()
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	if db.pg != nil {
		db.pg.close()
	}
	return errors.Join(errs...)
}

// Tx is a write transaction: the only way to change the database. Its
// methods are the writes; the reads of DB are available on it too and see
// the transaction's own changes.
type Tx struct {
	conn
}

// Tx runs fn in a write transaction (BEGIN IMMEDIATE; on PostgreSQL, the
// write lock: see pgWriteLock), committing if fn returns nil and rolling
// back otherwise. Transactions are short: the writer is one connection, and
// every other writer of this process (and, on either engine, of every
// other process on the database) waits for it. Never call Tx from inside
// fn.
func (db *DB) Tx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return wrapBusy(err)
	}
	if db.pg != nil {
		if err := pgLockWrites(ctx, sqlTx); err != nil {
			sqlTx.Rollback()
			return wrapBusy(err)
		}
	}
	defer db.wstmts.warm(ctx)
	defer func() {
		if p := recover(); p != nil {
			sqlTx.Rollback()
			panic(p)
		}
		if err != nil {
			sqlTx.Rollback()
			return
		}
		err = wrapBusy(sqlTx.Commit())
	}()
	c, end := db.inTx(sqlTx, &db.wstmts)
	defer end()
	return fn(&Tx{c})
}

// guarded runs fn, a write that may fail in a way its caller handles and
// then goes on in the same transaction (a constraint violation, answered by
// looking up who has the email). SQLite undoes the failed statement only;
// PostgreSQL aborts the whole transaction at any error, so there fn runs
// under a savepoint, which a failure rolls back to.
func (tx *Tx) guarded(ctx context.Context, fn func() error) error {
	if tx.db.pg == nil {
		return fn()
	}
	if _, err := tx.tx.ExecContext(ctx, `SAVEPOINT guarded`); err != nil {
		return err
	}
	if err := fn(); err != nil {
		if _, rerr := tx.tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT guarded`); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	_, err := tx.tx.ExecContext(ctx, `RELEASE SAVEPOINT guarded`)
	return err
}

// view runs fn in a read transaction on the reader pool: several reads that
// must see one snapshot.
func (db *DB) view(ctx context.Context, fn func(c conn) error) error {
	sqlTx, err := db.read.BeginTx(ctx, db.d.snapshot)
	if err != nil {
		return err
	}
	defer db.rstmts.warm(ctx)
	defer sqlTx.Rollback()
	c, end := db.inTx(sqlTx, &db.rstmts)
	defer end()
	return fn(c)
}

// wrapBusy turns a lock timeout into a sentence a user can act on.
func wrapBusy(err error) error {
	if isBusy(err) {
		return &Error{Code: ECONFLICT, Message: "the database is busy (another frontdesk process is writing); try again in a moment", cause: err}
	}
	return err
}

// Backup writes a consistent copy of the live database to dst, which must not
// exist. VACUUM INTO reads one snapshot, so it is safe while other processes
// write. The copy is created private (0600), like the database; it holds
// outbox bodies only sealed, and the outbox key file is not part of it.
func (db *DB) Backup(ctx context.Context, dst string) error {
	if db.pg != nil {
		// A copy of a server's database is the server's own tool's job: it
		// knows the server's version, its roles and what else the database
		// holds.
		return Errorf(EINVALID, "backup copies a SQLite database file; %s is on a PostgreSQL server: back it up with pg_dump (pg_dump --format=custom --file=%s ...), and keep the outbox key file apart from it", db.where, filepath.Base(dst))
	}
	abs, err := filepath.Abs(dst)
	if err != nil {
		return err
	}
	// Made here, exclusively, so that the copy never exists with a wider
	// mode and an existing file is never overwritten; VACUUM INTO accepts
	// an empty file.
	f, err := os.OpenFile(abs, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case errors.Is(err, fs.ErrExist):
		return Errorf(EINVALID, "%s already exists; choose a new file name", dst)
	case errors.Is(err, fs.ErrNotExist):
		return Errorf(EINVALID, "cannot write the backup: the folder %s does not exist; create it first, or choose another", filepath.Dir(abs))
	case errors.Is(err, fs.ErrPermission):
		return Errorf(EINVALID, "cannot write the backup: you may not create files in the folder %s", filepath.Dir(abs))
	case err != nil:
		return Errorf(EINVALID, "cannot create %s: %v", dst, err)
	}
	f.Close()
	// A connection of its own: the readers are query_only (which VACUUM INTO
	// refuses) and the writer must stay free for the app while this runs.
	c, err := sql.Open("sqlite", dsn(db.path, false, db.existing))
	if err != nil {
		os.Remove(abs)
		return err
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, `VACUUM INTO ?`, abs); err != nil {
		os.Remove(abs)
		return fmt.Errorf("backup to %s: %w", dst, wrapBusy(err))
	}
	return nil
}

// CheckPrivate refuses database files (the database, its -wal and -shm)
// that anyone but their owner can read or write, naming the command that
// fixes them. A server refuses to start on them (they hold password hashes,
// customers' data and, sealed, the outbox): like sshd and its host key.
//
// On PostgreSQL there is no file: who may read the database is the
// server's roles and pg_hba.conf, outside frontdesk's reach.
func (db *DB) CheckPrivate() error {
	if db.path == "" {
		return nil
	}
	var open []string
	var modes []string
	for _, p := range []string{db.path, db.path + "-wal", db.path + "-shm"} {
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		if st.Mode().Perm()&0o077 != 0 {
			open = append(open, p)
			modes = append(modes, fmt.Sprintf("%s is %v", filepath.Base(p), st.Mode().Perm()))
		}
	}
	if len(open) == 0 {
		return nil
	}
	return Errorf(EINVALID, "the database files can be read by others (%s); run `chmod 600 %s`", strings.Join(modes, ", "), strings.Join(open, " "))
}

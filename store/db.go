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

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
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
type DB struct {
	conn // reads, on the reader pool

	path  string
	write *sql.DB
	read  *sql.DB
	keys  *keyring // seals outbox bodies (seal.go)
	scrub bool     // compact the file once migrated (sealPlainBodies)

	wstmts, rstmts stmtCache

	// existing: opened with Options.Existing, so no connection may create
	// the file.
	existing bool

	feed feed // the change detector and its subscribers (changes.go)

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
	// "" means OutboxKeyFile beside the database, which is created on first
	// use. A file named here must exist before anything is sealed
	// (RotateOutboxKey makes it).
	OutboxKey string

	// Existing opens only a database that is already there, and creates
	// nothing: not the directory, not the file (an error wrapping
	// ErrNoDatabase says so), not the key file (made by the first write
	// that seals mail, as always). For commands that only read: run in the
	// wrong place, they must not leave an empty database behind for the
	// next one to find. The schema is still brought up to date, as by
	// every start (so a database from before outbox bodies were sealed
	// still gets its key file from migration 8, which seals its waiting
	// mail).
	Existing bool
}

// ErrNoDatabase is what Open with Options.Existing reports (wrapped in an
// *Error, code ENOTFOUND) when there is no database file at the path.
var ErrNoDatabase = errors.New("no database")

// Open opens (creating if needed) the database at path and brings its schema up
// to date. Outbox bodies are sealed with the key file beside it.
func Open(path string) (*DB, error) {
	return OpenWith(path, Options{})
}

// OpenWith is Open with options.
func OpenWith(path string, o Options) (*DB, error) {
	return open(path, o, latestVersion)
}

func open(path string, o Options, upTo int) (*DB, error) {
	if o.Existing {
		if err := existingFile(path); err != nil {
			return nil, err
		}
	} else if err := createFile(path); err != nil {
		return nil, err
	}
	keys := &keyring{path: o.OutboxKey}
	if keys.path == "" {
		keys.path, keys.mayCreate = filepath.Join(filepath.Dir(path), OutboxKeyFile), true
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
	db := &DB{path: path, write: w, keys: keys, existing: o.Existing, Now: time.Now}
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
	r.SetMaxOpenConns(max(4, runtime.NumCPU()*2))
	r.SetMaxIdleConns(max(4, runtime.NumCPU()*2))
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

func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code()&0xff == sqlite3.SQLITE_BUSY || se.Code()&0xff == sqlite3.SQLITE_LOCKED)
}

// Path is the database file's path.
func (db *DB) Path() string { return db.path }

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
	return errors.Join(errs...)
}

// Tx is a write transaction: the only way to change the database. Its
// methods are the writes; the reads of DB are available on it too and see
// the transaction's own changes.
type Tx struct {
	conn
}

// Tx runs fn in a write transaction (BEGIN IMMEDIATE), committing if fn
// returns nil and rolling back otherwise. Transactions are short: the writer
// is one connection, and every other writer of this process waits for it.
// Never call Tx from inside fn.
func (db *DB) Tx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return wrapBusy(err)
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

// view runs fn in a read transaction on the reader pool: several reads that
// must see one snapshot.
func (db *DB) view(ctx context.Context, fn func(c conn) error) error {
	sqlTx, err := db.read.BeginTx(ctx, nil)
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

// isConstraint reports whether err is a UNIQUE or other constraint violation.
func isConstraint(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}

// Backup writes a consistent copy of the live database to dst, which must not
// exist. VACUUM INTO reads one snapshot, so it is safe while other processes
// write. The copy is created private (0600), like the database; it holds
// outbox bodies only sealed, and the outbox key file is not part of it.
func (db *DB) Backup(ctx context.Context, dst string) error {
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
func (db *DB) CheckPrivate() error {
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

// Package store is frontdesk's store contract: the domain types (Org, Staff,
// Customer, Invite, Booking, Payment, Subscription, OutboxMessage,
// AuditEntry), the error codes every layer shares (errors.go), the states a
// customer and an invite can be in (state.go), and every query.
//
// There is one way in for each kind of work:
//
//   - Reads are methods of *DB, which run on a pool of read-only
//     connections, and of *Tx, which see the transaction's own writes:
//     db.Customer(ctx, orgID, id), tx.Customer(ctx, orgID, id).
//   - Writes are methods of *Tx only, so every write runs inside DB.Tx, in
//     one transaction with its audit row and whatever else must stand or
//     fall with it.
//   - Both go through conn (stmt.go), which keeps the prepared statements:
//     SQLite, in modernc's translation, spends more time parsing a statement
//     than running it on an indexed row.
//
// Two engines share this contract, chosen by what OpenWith is given
// (IsPostgres): a file path is SQLite, the embedded default; a PostgreSQL
// connection string is a server several frontdesk processes share.
//
//   - SQLite, through modernc.org/sqlite: one writer connection taking its
//     lock up front (BEGIN IMMEDIATE, so busy_timeout applies to a second
//     process) and a read pool, WAL, foreign keys, secure_delete.
//   - PostgreSQL, through pgx (pgxpool, and database/sql on its stdlib
//     connector, postgres.go): the same writer and read pool. The queries
//     are written once, in SQLite's placeholders (? and ?N), rewritten below
//     database/sql (pgconn.go), which also passes Go bools as 0/1: the
//     schema keeps flags as 0/1 integers on both. DB.Tx takes one advisory
//     lock first, so writes run one at a time over every node, as on one
//     SQLite file; reads run alongside.
//
// What differs is each in one named place: dialect (engine.go) holds the
// SQL only one engine takes (the search, id lists, random hex, index
// hints, the outbox lease's SKIP LOCKED); changes_sqlite.go and
// changes_postgres.go the change detector (PRAGMA data_version polled;
// LISTEN/NOTIFY on a connection of its own); isBusy and isConstraint both
// engines' errors; bulkload.go and bulkload_postgres.go the bulk-load door
// (multi-row INSERTs on SQLite, COPY on PostgreSQL, behind one API; MoveData
// uses its COPY to move a SQLite database into PostgreSQL); Backup and
// CheckPrivate are SQLite's (PostgreSQL: pg_dump, the server's roles).
// Everything else is SQL both accept: ON CONFLICT, RETURNING,
// CAST, coalesce.
//
// The schema is the numbered files in migrations/, one set per engine,
// applied on open (on PostgreSQL under an advisory lock, so nodes starting
// together migrate once); a released file is never edited. SQLite's are
// NNNN_name_sqlite.sql. PostgreSQL's begin with one baseline,
// NNNN_baseline_postgres.sql, which makes the schema of the SQLite
// migrations it folds in (pgBaselineFolds), applies first and records them
// all. The rule for a new migration: write NNNN_name_sqlite.sql and its twin
// NNNN_name_postgres.sql under the same number, making the same change
// (plpgsql for triggers, BIGINT for times and ids, BYTEA for blobs, COLLATE
// "C" for text compared or sorted as SQLite does); a twin applies after the
// baseline even when its number is lower (0016 landing after 0019).
// A change only PostgreSQL needs (0021: the change log's notification;
// 0022-0026: how its search runs) is a
// NNNN_name_postgres.sql alone, under a number SQLite never uses.
// TestMigrationsForBothEngines refuses a SQLite number without its twin,
// and TestBothEnginesHaveTheSameSchema a twin that makes another schema.
// Outbox bodies, which carry live links, are sealed with a key kept outside
// the database (seal.go), on either engine.
//
// Tests run on both: bothEngines/parallelEngines make subtests sqlite and
// postgres; the PostgreSQL half takes a fresh database per test from
// FRONTDESK_TEST_POSTGRES (pgtest; storetest.Postgres for other packages)
// and skips without it, unless FRONTDESK_REQUIRE_POSTGRES=1.
//
// Sub-packages: csvio (CSV import and export), demo (the demo organization),
// format (money, dates and labels as every surface writes them), storetest
// (raw SQL on either engine and PostgreSQL databases for tests in other
// packages), pgtest (the test databases themselves).
package store

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
// The engine is SQLite through modernc.org/sqlite: one writer connection
// taking its lock up front (BEGIN IMMEDIATE, so busy_timeout applies to a
// second process) and a read pool, WAL, foreign keys, secure_delete. The
// schema is the numbered files in migrations/, applied on open; a released
// file is never edited. Outbox bodies, which carry live links, are sealed
// with a key kept outside the database (seal.go).
//
// Sub-packages: csvio (CSV import and export), demo (the demo organization),
// format (money, dates and labels as every surface writes them), storetest
// (raw SQL for tests in other packages).
package store

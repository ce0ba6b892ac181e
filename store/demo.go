package store

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
	// The demo organization lives in Europe/London; embedding the zone data
	// keeps `frontdesk demo` working on a machine without /usr/share/zoneinfo.
	_ "time/tzdata"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// DemoOptions configures GenerateDemo.
type DemoOptions struct {
	Customers int                   // default 500
	Seed      int64                 // default 1 (0 means 1)
	Progress  func(done, total int) // may be nil; called every few thousand customers
}

const (
	demoOrgName = "Harbor Yoga"
	demoOrgSlug = "harbor-yoga"

	// demoPasswordHash is not a PHC string, so no password verifies against
	// it: demo customers look claimed but nobody can sign in as them.
	demoPasswordHash = "!demo"

	// Up to this many customers everyone gets a long history; beyond it the
	// history thins out so a million customers stay under a minute.
	demoRichMax       = 5_000
	demoProgressEvery = 5_000
	// Customers per message from the generating goroutine to the writing one.
	demoBlock = 500
)

// Customers per transaction. Each commit writes every page the transaction
// touched, which includes much of the customer indexes whatever its size, so
// commits should be few; each also bounds the WAL, which holds one
// transaction's pages (a few hundred megabytes at this size) until the
// checkpoint that follows it.
const demoTxCustomers = 200_000

var demoStaff = []Staff{
	{Name: "Maya Harbor", Email: "owner@harbor-yoga.example", Role: RoleOwner},
	{Name: "Sam Rivera", Email: "admin@harbor-yoga.example", Role: RoleAdmin},
	{Name: "Jo Front", Email: "desk@harbor-yoga.example", Role: RoleStaff},
}

// GenerateDemo creates the demo organization (Harbor Yoga, slug harbor-yoga)
// with its staff, or refills it if it exists: its customers and everything
// hanging off them are deleted, then opt.Customers new ones are generated. The
// same seed and count give the same customers. Customers come in every status,
// with custom fields, bookings, payments, subscriptions and invite history;
// no invite can be redeemed (nobody holds the tokens) and no claimed customer
// can sign in.
//
// It holds the writer connection for the whole run (other goroutines of this
// process wait for it), committing every demoTxCustomers customers so that
// other processes can write in between.
func (db *DB) GenerateDemo(ctx context.Context, opt DemoOptions) (*Org, error) {
	if opt.Customers <= 0 {
		opt.Customers = 500
	}
	if opt.Seed == 0 {
		opt.Seed = 1
	}
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return nil, wrapBusy(err)
	}
	defer conn.Close()
	restore, err := demoTune(ctx, conn)
	if err != nil {
		return nil, err
	}
	defer restore()

	g := &demoGen{db: db, opt: opt}
	if err := db.demoOrg(ctx, conn, g); err != nil {
		return nil, err
	}
	if err := db.demoClear(ctx, conn, g.org.ID); err != nil {
		return nil, fmt.Errorf("demo: removing the old demo customers: %w", err)
	}
	g.start()
	w := newDemoWriter()
	if w.triggers, err = demoTriggers(ctx, conn, "INSERT"); err != nil {
		return nil, err
	}
	for _, t := range w.triggers {
		if t.name == "customers_fts_insert" {
			if w.automerge, err = demoAutomerge(ctx, conn); err != nil {
				return nil, err
			}
		}
	}
	total := opt.Customers
	for done := 0; done < total; {
		n := min(demoTxCustomers, total-done)
		err := demoTx(ctx, conn, func(tx *sql.Tx) error {
			if err := w.batch(ctx, conn, tx, g, done, n); err != nil {
				return err
			}
			if done+n < total {
				return nil
			}
			return db.bulkTx(tx).Audit(ctx, g.org.ID, SystemActor("frontdesk demo"), "demo.generate", 0,
				fmt.Sprintf("generated %d demo customers (seed %d)", total, opt.Seed))
		})
		if err != nil {
			return nil, fmt.Errorf("demo: generating customers: %w", err)
		}
		done += n
		if opt.Progress != nil {
			opt.Progress(done, total)
		}
	}
	// Fold the WAL back into the database so the file on disk is the whole
	// demo and the next reader does not replay hundreds of megabytes. Busy
	// readers only make it partial, which is harmless.
	if _, err := conn.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return nil, err
	}
	return g.org, nil
}

// demoTune sets up the writer connection for a bulk load, and returns the
// func that puts it back before it returns to the pool:
//   - a cache big enough to hold the indexes a million customers insert into
//     in random order; with SQLite's 2 MB default nearly every such insert
//     misses;
//   - foreign keys off. With them on, every multi-row INSERT into a child
//     table (all but customers and outbox) needs a statement journal (see
//     demoTables) besides a parent look-up per row. The generator writes
//     only rows whose parents it writes in the same transaction and deletes
//     dependent rows itself (demoClear); the tests run foreign_key_check on
//     the result;
//   - statement journals, where still needed, in memory rather than spilled
//     to temporary files.
func demoTune(ctx context.Context, conn *sql.Conn) (func(), error) {
	var cache, temp int64
	if err := conn.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&cache); err != nil {
		return nil, err
	}
	if err := conn.QueryRowContext(ctx, `PRAGMA temp_store`).Scan(&temp); err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY; PRAGMA foreign_keys = OFF`); err != nil {
		return nil, err
	}
	return func() {
		_, err := conn.ExecContext(context.Background(), fmt.Sprintf(`PRAGMA cache_size = %d; PRAGMA temp_store = %d; PRAGMA foreign_keys = ON`, cache, temp))
		if err != nil {
			// A writer without foreign keys must never serve the app: drop it
			// and let the pool open a fresh one.
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}, nil
}

// bulkTx is a Tx on a transaction the demo generator began on its own tuned
// connection; its statements run unprepared.
func (db *DB) bulkTx(tx *sql.Tx) *Tx { return &Tx{conn{db: db, tx: tx}} }

// demoTx runs fn in a write transaction on conn.
func demoTx(ctx context.Context, conn *sql.Conn, fn func(tx *sql.Tx) error) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return wrapBusy(err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return wrapBusy(tx.Commit())
}

// demoOrg finds or creates the demo organization, its staff and custom
// fields, and fills in g's organization, invite senders and field ids.
func (db *DB) demoOrg(ctx context.Context, conn *sql.Conn, g *demoGen) error {
	return demoTx(ctx, conn, func(tx *sql.Tx) error {
		org, err := db.bulkTx(tx).OrgBySlug(ctx, demoOrgSlug)
		if ErrorCode(err) == ENOTFOUND {
			org = &Org{
				Name:           demoOrgName,
				Slug:           demoOrgSlug,
				TimeZone:       "Europe/London",
				WalkthroughURL: "https://harbor-yoga.example/getting-started",
				PaymentsURL:    "https://harbor-yoga.example/account/payment-methods",
				ReplyTo:        "hello@harbor-yoga.example",
				Notifications:  true,
			}
			if err := db.bulkTx(tx).CreateOrg(ctx, org); err != nil {
				return err
			}
			for _, s := range demoStaff {
				s.OrgID = org.ID
				if err := db.bulkTx(tx).CreateStaff(ctx, &s); err != nil {
					return fmt.Errorf("demo staff %s: %w", s.Email, err)
				}
			}
		} else if err != nil {
			return err
		}
		g.org = org

		// Invites are sent by whoever may send them now: on a refill the
		// owner may have changed the team since the first run.
		staff, err := db.bulkTx(tx).StaffList(ctx, org.ID)
		if err != nil {
			return err
		}
		for _, s := range staff {
			if s.Role.CanManageCustomers() {
				g.senders = append(g.senders, s.ID)
			}
		}
		if len(g.senders) == 0 {
			return Errorf(EINVALID, "the demo organization has no owner or admin to send its invites; add one with `frontdesk staff add --org %s`", demoOrgSlug)
		}

		for i, name := range []string{"Membership level", "Emergency contact", "Injuries / notes"} {
			err := tx.QueryRowContext(ctx, `INSERT INTO custom_fields (org_id, name, position)
				VALUES (?, ?, (SELECT coalesce(max(position), 0) + 1 FROM custom_fields WHERE org_id = ?))
				ON CONFLICT (org_id, name) DO UPDATE SET name = excluded.name RETURNING id`, org.ID, name, org.ID).Scan(&g.fields[i])
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// demoClear deletes an organization's customers and everything about them.
// Foreign keys are off (see demoTune), so nothing cascades: every dependent
// row is deleted explicitly.
func (db *DB) demoClear(ctx context.Context, conn *sql.Conn, orgID int64) error {
	var lo, hi sql.NullInt64
	var others bool
	if err := conn.QueryRowContext(ctx, `SELECT min(id), max(id), EXISTS (SELECT 1 FROM customers WHERE org_id <> ?1) FROM customers WHERE org_id = ?1`, orgID).Scan(&lo, &hi, &others); err != nil {
		return err
	}
	if !lo.Valid {
		return nil
	}
	if !others {
		triggers, err := demoTriggers(ctx, conn, "DELETE")
		if err != nil {
			return err
		}
		if triggers != nil {
			return demoTx(ctx, conn, func(tx *sql.Tx) error { return demoClearAll(ctx, tx, orgID, triggers) })
		}
	}
	// Other organizations' customers stay, so a window of the
	// organization's ids per transaction, the triggers doing their part.
	const ids = `(SELECT id FROM customers WHERE id BETWEEN ?1 AND ?2 AND org_id = ?3)`
	stmts := []string{
		`DELETE FROM outbox WHERE id IN (SELECT outbox_id FROM invites WHERE customer_id IN ` + ids + `)`,
		`DELETE FROM invites WHERE customer_id IN ` + ids,
		`DELETE FROM audit WHERE customer_id IN ` + ids,
		`DELETE FROM custom_field_values WHERE customer_id IN ` + ids,
		`DELETE FROM bookings WHERE customer_id IN ` + ids,
		`DELETE FROM payments WHERE customer_id IN ` + ids,
		`DELETE FROM subscriptions WHERE customer_id IN ` + ids,
		`DELETE FROM sessions WHERE customer_id IN ` + ids, // ids are reused: a session left over would sign in as the next owner
		`DELETE FROM customers WHERE id BETWEEN ?1 AND ?2 AND org_id = ?3`,
	}
	for from := lo.Int64; from <= hi.Int64; from += int64(demoTxCustomers) {
		to := from + int64(demoTxCustomers) - 1
		err := demoTx(ctx, conn, func(tx *sql.Tx) error {
			for _, s := range stmts {
				if _, err := tx.ExecContext(ctx, s, from, to, orgID); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	// Messages that no invite pointed at (none today, but the outbox is the
	// organization's and the demo owns all of it).
	return demoTx(ctx, conn, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE org_id = ?`, orgID)
		return err
	})
}

// demoClearAll empties the customer tables when every customer is the
// organization's, in one transaction. A DELETE with no WHERE on a table
// without triggers drops its pages wholesale instead of deleting row by row
// (SQLite's truncate optimization), so the DELETE triggers are dropped and
// stood in for, as generation does with the INSERT ones: a million customers
// go in seconds instead of a minute.
func demoClearAll(ctx context.Context, tx *sql.Tx, orgID int64, triggers []demoTrigger) error {
	var otherMail bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM outbox WHERE org_id <> ?)`, orgID).Scan(&otherMail); err != nil {
		return err
	}
	outbox := `DELETE FROM outbox`
	if otherMail {
		outbox += ` WHERE org_id = ?1`
	}
	for _, t := range triggers {
		if _, err := tx.ExecContext(ctx, `DROP TRIGGER `+t.name); err != nil {
			return err
		}
	}
	for _, q := range []string{
		outbox,
		`DELETE FROM invites`,
		`DELETE FROM audit WHERE customer_id IS NOT NULL`,
		`DELETE FROM custom_field_values`,
		`DELETE FROM bookings`,
		`DELETE FROM payments`,
		`DELETE FROM subscriptions`,
		`DELETE FROM sessions`,
		`DELETE FROM customers`,
	} {
		if _, err := tx.ExecContext(ctx, q, orgID); err != nil {
			return err
		}
	}
	for _, t := range triggers {
		if _, err := tx.ExecContext(ctx, t.bulk, 0, 0, orgID); err != nil {
			return fmt.Errorf("standing in for trigger %s: %w", t.name, err)
		}
		if _, err := tx.ExecContext(ctx, t.ddl); err != nil {
			return err
		}
	}
	return nil
}

// The tables the generator writes, in the order of demoTables.
const (
	dtCustomers = iota
	dtOutbox
	dtInvites
	dtValues
	dtBookings
	dtPayments
	dtSubs
	dtCount
)

// demoTables says how each table is written: in INSERTs of a few hundred
// rows, which is what makes a million customers fit in a minute (a statement
// costs more than a row). SQLite gives a multi-row INSERT a statement journal
// (a copy of every page it is about to change, made first) when a row can
// fail halfway through with the statement's changes to be undone: a NOT
// NULL or CHECK failing under the default ON CONFLICT ABORT (hence INSERT OR
// FAIL: the whole transaction is rolled back on any error anyway), an
// explicit INTEGER PRIMARY KEY, a trigger, or a CHECK or index expression
// calling a function (customers' lower(email) index, invites'
// length(token_hash) check). Customers and invites still have one, which is
// cheap only because their rows arrive in index order (see demoGen.people and
// demoWriter.sortTokenHashes): a statement then touches a few pages, not one
// per row per index.
var demoTables = [dtCount]struct {
	table, columns string
	rows           int // per statement
}{
	dtCustomers: {"customers", "id, org_id, first_name, last_name, sort_name, email, phone, phone_keys, created_at, updated_at, claimed_at, password_hash, archived, state, invite_sent_at, invite_expires_at, funnel", 400},
	dtOutbox:    {"outbox", "org_id, customer_id, kind, to_addr, from_name, reply_to, subject, status, attempts, next_attempt_at, last_error, reply, message_id, created_at, sent_at", 400},
	dtInvites:   {"invites", "org_id, customer_id, purpose, token_hash, email, created_by, created_at, expires_at, used_at, revoked_at, revoke_reason, outbox_id, opened_at", 400},
	dtValues:    {"custom_field_values", "customer_id, field_id, value", 400},
	dtBookings:  {"bookings", "customer_id, kind, title, starts_at, ends_at, status", 400},
	dtPayments:  {"payments", "customer_id, amount_cents, currency, description, paid_at, status", 400},
	dtSubs:      {"subscriptions", "customer_id, plan, price_cents, currency, interval, status, started_at, renews_at, ended_at", 400},
}

// demoChunk is demoBlock customers' rows, table by table, as the generator
// hands them to the writer.
type demoChunk struct {
	customers int
	args      [dtCount][]any
}

// demoWriter writes the generated rows in one transaction at a time.
type demoWriter struct {
	triggers  []demoTrigger // stood in for; nil: left alone
	automerge int           // the search index's own setting; 0: not tuned

	// The rows go through the driver directly (see batch).
	dc      driver.ConnPrepareContext
	stmts   [dtCount]map[int]driver.Stmt // by row count
	nv      []driver.NamedValue
	pending [dtCount][]any
	ncol    [dtCount]int
	nextOut int64 // rowid SQLite is expected to give the next outbox row
	free    chan *demoChunk
}

func newDemoWriter() *demoWriter {
	w := &demoWriter{free: make(chan *demoChunk, 8)}
	for i, t := range demoTables {
		w.ncol[i] = strings.Count(t.columns, ",") + 1
	}
	return w
}

// Customers' triggers (the search index, the roster counts) run inside
// each customer's INSERT, which makes every such statement one with a
// statement journal (see demoTables), at whose start FTS5 also flushes its
// buffered terms as a new segment. That was a small segment per statement
// to write and merge again and again, and every page the triggers touched
// copied first: most of a million-customer run. So each generation
// transaction drops the INSERT triggers, does their work for all its
// customers with one statement each at the end, and recreates them; no
// other connection ever sees them missing. Clearing an organization that
// has the database's only customers does the same with the DELETE triggers
// (see demoClear).
//
// demoStandIns says what the generator does instead of each trigger (?1 and
// ?2 are the range of new customers' ids, ?3 the organization), and the
// trigger's SQL it was written against, whitespace collapsed. If customers
// has a trigger for the event not listed here as it is, the generator leaves
// that event's triggers alone: correct, only slower.
var demoStandIns = map[string]struct{ trigger, bulk string }{
	"customers_fts_insert": {
		`CREATE TRIGGER customers_fts_insert AFTER INSERT ON customers BEGIN INSERT INTO customers_fts (rowid, name, email, phone) VALUES ( new.id, new.first_name || ' ' || new.last_name, new.email, new.phone_keys); END`,
		`INSERT INTO customers_fts (rowid, name, email, phone)
			SELECT id, first_name || ' ' || last_name, email, phone_keys FROM customers WHERE id BETWEEN ?1 AND ?2`,
	},
	"customers_count_insert": {
		`CREATE TRIGGER customers_count_insert AFTER INSERT ON customers WHEN new.archived = 0 BEGIN INSERT INTO roster_counts (org_id, state, n) VALUES (new.org_id, new.state, 1) ON CONFLICT (org_id, state) DO UPDATE SET n = n + 1; END`,
		`INSERT INTO roster_counts (org_id, state, n)
			SELECT org_id, state, count(*) FROM customers WHERE id BETWEEN ?1 AND ?2 AND archived = 0 GROUP BY org_id, state
			ON CONFLICT (org_id, state) DO UPDATE SET n = n + excluded.n`,
	},
	"customers_funnel_insert": {
		`CREATE TRIGGER customers_funnel_insert AFTER INSERT ON customers WHEN new.archived = 0 AND new.funnel > 0 BEGIN INSERT INTO funnel_counts (org_id, stage, n) VALUES (new.org_id, new.funnel, 1) ON CONFLICT (org_id, stage) DO UPDATE SET n = n + 1; END`,
		`INSERT INTO funnel_counts (org_id, stage, n)
			SELECT org_id, funnel, count(*) FROM customers WHERE id BETWEEN ?1 AND ?2 AND archived = 0 AND funnel > 0 GROUP BY org_id, funnel
			ON CONFLICT (org_id, stage) DO UPDATE SET n = n + excluded.n`,
	},
	"customers_fts_delete": {
		`CREATE TRIGGER customers_fts_delete AFTER DELETE ON customers BEGIN DELETE FROM customers_fts WHERE rowid = old.id; END`,
		`INSERT INTO customers_fts (customers_fts) VALUES ('delete-all')`,
	},
	"customers_count_delete": {
		`CREATE TRIGGER customers_count_delete AFTER DELETE ON customers WHEN old.archived = 0 BEGIN UPDATE roster_counts SET n = n - 1 WHERE org_id = old.org_id AND state = old.state; END`,
		`UPDATE roster_counts SET n = 0 WHERE org_id = ?3`,
	},
	"customers_funnel_delete": {
		`CREATE TRIGGER customers_funnel_delete AFTER DELETE ON customers WHEN old.archived = 0 AND old.funnel > 0 BEGIN UPDATE funnel_counts SET n = n - 1 WHERE org_id = old.org_id AND stage = old.funnel; END`,
		`UPDATE funnel_counts SET n = 0 WHERE org_id = ?3`,
	},
}

// demoTrigger is a trigger on customers the generator stands in for.
type demoTrigger struct {
	name, ddl, bulk string
}

// demoTriggers returns customers' triggers for event (INSERT or DELETE)
// with their stand-ins, or nil if any of them has none.
func demoTriggers(ctx context.Context, conn *sql.Conn, event string) ([]demoTrigger, error) {
	rows, err := conn.QueryContext(ctx, `SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'customers' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []demoTrigger
	unknown := false
	for rows.Next() {
		var name, ddl string
		if err := rows.Scan(&name, &ddl); err != nil {
			return nil, err
		}
		flat := strings.Join(strings.Fields(ddl), " ")
		if !strings.Contains(strings.ToUpper(flat), " "+event+" ON CUSTOMERS ") {
			continue
		}
		si, ok := demoStandIns[name]
		if !ok || si.trigger != flat {
			unknown = true
			continue
		}
		out = append(out, demoTrigger{name, ddl, si.bulk})
	}
	if err := rows.Err(); err != nil || unknown {
		return nil, err
	}
	return out, nil
}

// demoFTSAutomerge is FTS5's automerge setting while the generator writes:
// FTS5 merges segments a level at a time once this many have piled up, and
// at the default (4) a million customers' index is rewritten six or seven
// times over, a third of its cost. At 16 it is rewritten half as often, and
// searches are as fast (measured: a few more segments to look in, each
// larger). Each transaction sets it and puts the index's own setting back
// before it commits.
const demoFTSAutomerge = 16

// demoAutomerge returns the search index's automerge setting.
func demoAutomerge(ctx context.Context, conn *sql.Conn) (int, error) {
	n := 4 // FTS5's default, in force while the config table has no row
	err := conn.QueryRowContext(ctx, `SELECT v FROM customers_fts_config WHERE k = 'automerge'`).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	return n, err
}

// batch generates n customers (done already exist) and writes them in tx.
// The generator runs in its own goroutine, a block of customers ahead of the
// writer: SQLite keeps one core busy, and generating is a tenth of the work.
func (w *demoWriter) batch(ctx context.Context, conn *sql.Conn, tx *sql.Tx, g *demoGen, done, n int) error {
	// The driver watches a cancellable context with a goroutine and a
	// progress handler per statement, which over the tens of thousands of
	// statements here adds up; cancellation is checked between blocks
	// instead (and the transaction itself stays bound to ctx).
	cancel := ctx
	ctx = context.WithoutCancel(ctx)

	// Parent ids are fixed before the rows are generated so children can
	// name them: customers get explicit ids, outbox rows the ones SQLite
	// will give them (max + 1, one after another; flush checks), which
	// spares their INSERTs a statement journal. The transaction holds the
	// write lock, so nobody else can take them meanwhile.
	var firstCustomer, firstOutbox int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM customers`).Scan(&firstCustomer); err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM outbox`).Scan(&firstOutbox); err != nil {
		return err
	}
	for _, t := range w.triggers {
		if _, err := tx.ExecContext(ctx, `DROP TRIGGER `+t.name); err != nil {
			return err
		}
	}
	if err := w.setAutomerge(ctx, tx, demoFTSAutomerge); err != nil {
		return err
	}
	w.nextOut = firstOutbox

	chunks := make(chan *demoChunk, 4)
	stop := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		defer close(chunks)
		g.generate(firstCustomer, firstOutbox, n, w.free, chunks, stop)
	}()
	defer func() {
		close(stop)
		for range chunks {
		}
		<-finished
	}()

	// The rows are written through the driver's connection, inside tx (the
	// connection's open transaction), not through database/sql: it would
	// convert every argument and allocate a slice for them on each call,
	// garbage by the gigabyte at a million customers. tx must not be used
	// until Raw returns.
	err := conn.Raw(func(dc any) error {
		w.dc = dc.(driver.ConnPrepareContext)
		for i := range w.stmts {
			w.stmts[i] = map[int]driver.Stmt{}
		}
		defer func() {
			for _, m := range w.stmts {
				for _, s := range m {
					s.Close()
				}
			}
			w.dc = nil
		}()
		written := 0
		for c := range chunks {
			if err := cancel.Err(); err != nil {
				return err
			}
			if err := w.write(ctx, c, false); err != nil {
				return err
			}
			before := written
			written += c.customers
			select {
			case w.free <- c:
			default:
			}
			if p := g.opt.Progress; p != nil && written < n && (done+written)/demoProgressEvery > (done+before)/demoProgressEvery {
				p(done+written, g.opt.Customers)
			}
		}
		return w.write(ctx, nil, true)
	})
	if err != nil {
		return err
	}
	for _, t := range w.triggers {
		if _, err := tx.ExecContext(ctx, t.bulk, firstCustomer, firstCustomer+int64(n)-1, g.org.ID); err != nil {
			return fmt.Errorf("standing in for trigger %s: %w", t.name, err)
		}
		if _, err := tx.ExecContext(ctx, t.ddl); err != nil {
			return err
		}
	}
	return w.setAutomerge(ctx, tx, w.automerge)
}

// setAutomerge sets the search index's automerge, if the generator indexes
// customers itself (else the index may not be the one it knows).
func (w *demoWriter) setAutomerge(ctx context.Context, tx *sql.Tx, n int) error {
	if w.automerge == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO customers_fts (customers_fts, rank) VALUES ('automerge', ?)`, n)
	return err
}

// write adds c's rows to what is pending and writes every full statement's
// worth, or everything when all is set. Foreign keys are off, so the order
// of tables does not matter.
func (w *demoWriter) write(ctx context.Context, c *demoChunk, all bool) error {
	for i := range dtCount {
		if c != nil {
			w.pending[i] = append(w.pending[i], c.args[i]...)
		}
		if i == dtInvites {
			if !all {
				continue
			}
			w.sortTokenHashes()
		}
		if err := w.flush(ctx, i, all); err != nil {
			return err
		}
	}
	return nil
}

// demoInviteToken is the token_hash column of invites in demoTables.
const demoInviteToken = 3

// sortTokenHashes deals the transaction's invites their token hashes in
// ascending order. The hashes are of random tokens nobody holds, so which
// invite gets which is arbitrary; in order, the unique index on them takes
// each insert next to the last instead of on a random page (and out of the
// statement journal). Invites are therefore written at the end of the
// transaction.
func (w *demoWriter) sortTokenHashes() {
	args, ncol := w.pending[dtInvites], w.ncol[dtInvites]
	hashes := make([][]byte, 0, len(args)/ncol)
	for i := demoInviteToken; i < len(args); i += ncol {
		hashes = append(hashes, args[i].([]byte))
	}
	slices.SortFunc(hashes, bytes.Compare)
	for k, i := 0, demoInviteToken; i < len(args); k, i = k+1, i+ncol {
		args[i] = hashes[k]
	}
}

func (w *demoWriter) flush(ctx context.Context, table int, all bool) error {
	t, ncol := demoTables[table], w.ncol[table]
	args := w.pending[table]
	done := 0
	for left := len(args) - done; left >= t.rows*ncol || (all && left > 0); left = len(args) - done {
		rows := min(left/ncol, t.rows)
		s, err := w.stmt(ctx, table, rows)
		if err != nil {
			return err
		}
		w.nv = w.nv[:0]
		for i, a := range args[done : done+rows*ncol] {
			if v, ok := a.(int); ok {
				a = int64(v) // what database/sql would have done
			}
			w.nv = append(w.nv, driver.NamedValue{Ordinal: i + 1, Value: a})
		}
		res, err := s.(driver.StmtExecContext).ExecContext(ctx, w.nv)
		if err != nil {
			return fmt.Errorf("writing %s: %w", t.table, err)
		}
		if table == dtOutbox {
			w.nextOut += int64(rows)
			if last, err := res.LastInsertId(); err != nil || last != w.nextOut-1 {
				return fmt.Errorf("writing outbox: got rowid %d, expected %d (%v)", last, w.nextOut-1, err)
			}
		}
		done += rows * ncol
	}
	k := copy(args, args[done:])
	clear(args[k:])
	w.pending[table] = args[:k]
	return nil
}

func (w *demoWriter) stmt(ctx context.Context, table, rows int) (driver.Stmt, error) {
	if s := w.stmts[table][rows]; s != nil {
		return s, nil
	}
	t := demoTables[table]
	var b strings.Builder
	b.WriteString(`INSERT OR FAIL INTO ` + t.table + ` (` + t.columns + `) VALUES `)
	row := "(?" + strings.Repeat(", ?", w.ncol[table]-1) + ")"
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	s, err := w.dc.PrepareContext(ctx, b.String())
	if err != nil {
		return nil, err
	}
	w.stmts[table][rows] = s
	return s, nil
}

// Customer statuses as drawn, before they become state columns.
const (
	dsNoEmail = iota
	dsBadEmail
	dsClaimed
	dsInvited
	dsExpired
	dsFailed
	dsNone
)

// demoGen generates the demo customers. Everything random comes from two
// RNGs seeded from the seed, names from names and the rest from r, each drawn
// in a fixed order, so a seed and a count give one roster.
type demoGen struct {
	db      *DB
	opt     DemoOptions
	org     *Org
	senders []int64  // staff who send invites
	fields  [3]int64 // membership, emergency contact, notes

	r     *rand.Rand
	names *rand.Rand // for demoGen.people
	// prefetched delivers the next transaction's people, drawn while this
	// one is written.
	prefetched chan []demoPerson
	rich       bool
	loc        *time.Location
	now        int64 // Unix seconds
	today      time.Time
	ttl        int64
	seq        int                 // customers generated so far
	emails     map[string]struct{} // addresses used without a number
	subject    map[string]string   // outbox subject by kind

	cur                      *demoChunk
	nextCustomer, nextOutbox int64
}

func (g *demoGen) start() {
	g.r = rand.New(rand.NewPCG(uint64(g.opt.Seed), 0x68617262_6f72796f))     // "harboryo"
	g.names = rand.New(rand.NewPCG(uint64(g.opt.Seed), 0x6e616d65_73000000)) // "names"
	g.rich = g.opt.Customers <= demoRichMax
	g.loc = g.org.Location()
	now := g.db.Now().In(g.loc)
	g.now = now.Unix()
	g.today = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, g.loc)
	g.ttl = int64(g.org.InviteTTL / time.Second)
	g.emails = map[string]struct{}{}
	g.subject = map[string]string{
		"invite": "Claim your " + g.org.Name + " account",
		"reset":  "Reset your " + g.org.Name + " password",
	}
}

// generate makes n customers whose ids start at customer (and whose outbox
// messages' ids start at outbox), sending them demoBlock at a time on out
// until done or told to stop. Chunks come from free when the writer has
// returned some.
func (g *demoGen) generate(customer, outbox int64, n int, free <-chan *demoChunk, out chan<- *demoChunk, stop <-chan struct{}) {
	g.nextCustomer, g.nextOutbox = customer, outbox
	var people []demoPerson
	if g.prefetched != nil {
		people, g.prefetched = <-g.prefetched, nil
	} else {
		people = g.people(n)
	}
	if next := min(demoTxCustomers, g.opt.Customers-g.seq-n); next > 0 {
		// Draw the next transaction's names meanwhile: the writer would
		// otherwise wait for them when it starts it. Nothing else uses
		// g.names until they are received.
		ch := make(chan []demoPerson, 1)
		g.prefetched = ch
		go func() { ch <- g.people(next) }()
	}
	for n > 0 {
		select {
		case g.cur = <-free:
			g.cur.customers = 0
			for i := range g.cur.args {
				g.cur.args[i] = g.cur.args[i][:0]
			}
		default:
			g.cur = &demoChunk{}
		}
		k := min(n, demoBlock)
		for _, p := range people[:k] {
			g.customer(p)
		}
		people = people[k:]
		g.cur.customers = k
		n -= k
		select {
		case out <- g.cur:
		case <-stop:
			return
		}
	}
}

// demoPerson is a customer's name, drawn before the rest of the customer.
type demoPerson struct {
	culture     *demoCulture
	first, last demoName
	native      *demoName // written the customer's way: family name first, one field
	sortName    string
	seq         int // drawn seq-th
}

// people draws the names of the next n customers and puts them in order of
// name. Customers get their ids in that order: then the three customer
// indexes that lead with the name (or the email, which mostly follows it, or
// the id within a status) take each insert next to the previous one instead
// of on a random page, which makes writing them a third faster at a million
// customers. So ids run alphabetically within each transaction's customers, as
// after an import of a roster sorted by name. The names have an RNG of
// their own, so everything else drawn per customer is the same whatever the
// order.
func (g *demoGen) people(n int) []demoPerson {
	out := make([]demoPerson, n)
	for i := range out {
		p := &out[i]
		p.seq = i
		p.culture = demoCultures.pick(g.names)
		p.first = p.culture.first[g.names.IntN(len(p.culture.first))]
		p.last = p.culture.last[g.names.IntN(len(p.culture.last))]
		p.sortName = SortName(p.first.text, p.last.text)
		if len(p.culture.native) > 0 && g.names.IntN(100) < 40 {
			p.native = &p.culture.native[g.names.IntN(len(p.culture.native))]
			p.sortName = SortName(p.native.text, "")
		}
	}
	slices.SortFunc(out, func(a, b demoPerson) int {
		return cmp.Or(strings.Compare(a.sortName, b.sortName), cmp.Compare(a.seq, b.seq))
	})
	return out
}

// add appends a row (its values in demoTables' column order) to the chunk.
func (g *demoGen) add(table int, vals ...any) {
	g.cur.args[table] = append(g.cur.args[table], vals...)
}

func (g *demoGen) intn(n int) int { return g.r.IntN(n) }

// richOr is a percentage for small rosters or for large ones.
func (g *demoGen) richOr(small, large int) int {
	if g.rich {
		return small
	}
	return large
}

// chance is true p percent of the time.
func (g *demoGen) chance(p int) bool { return g.r.IntN(100) < p }

// between returns a number in [lo, hi].
func (g *demoGen) between(lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + g.r.Int64N(hi-lo+1)
}

func demoNull(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

const day = 86400

// customer generates one customer and all its rows.
func (g *demoGen) customer(p demoPerson) {
	g.seq++
	id := g.nextCustomer
	g.nextCustomer++
	c, first, last, firstName, lastName := p.culture, p.first, p.last, p.first.text, p.last.text
	if p.native != nil {
		firstName, lastName = p.native.text, ""
		first, last = demoName{ascii: p.native.given}, demoName{ascii: p.native.ascii}
	}

	st := g.status()
	email := ""
	switch st {
	case dsNoEmail:
	case dsBadEmail:
		email = g.badEmail(first.ascii, last.ascii)
	default:
		email = g.email(first.ascii, last.ascii)
	}
	phone := ""
	if g.chance(90) {
		phone = g.phone()
	}

	// Member since: up to six years ago, never today (so "past" bookings
	// after joining exist for all but the newest).
	ageDays := g.between(1, 6*365)
	if st == dsClaimed {
		ageDays = g.between(14, 6*365)
	}
	created := g.today.Unix() - ageDays*day + g.between(7*3600, 21*3600)
	updated := created
	var claimed, sent, expires int64
	state := StateNone
	funnel := 0 // how far towards claiming (customers.funnel)
	var hash any = ""
	archived := 0

	switch st {
	case dsNoEmail:
		state = StateNoEmail
	case dsClaimed:
		at := created + g.between(3600, (g.now-created)*3/4)
		use := at + min(g.between(600, 3*day), g.ttl*9/10, (g.now-at)/2)
		g.invite(id, "claim", email, at, use, 0, "", true, usedOpened(at, use))
		claimed, updated, hash, state, funnel = use, use, demoPasswordHash, StateClaimed, 3
		if g.chance(g.richOr(8, 1)) && g.now-use > 2*day {
			// Forgot the password later; most used the reset link.
			r := g.between(use+day, g.now-3600)
			used := int64(0)
			if g.chance(70) {
				used = r + g.between(60, 1800)
			}
			g.reset(id, email, r, used)
		}
	case dsInvited, dsExpired, dsFailed:
		var at int64
		switch st {
		case dsInvited:
			at = g.now - g.between(600, g.ttl*9/10)
		case dsExpired:
			at = g.now - g.ttl - g.between(3600, 90*day)
		default:
			at = g.now - g.between(600, 30*day)
		}
		if created > at-3600 {
			created = at - g.between(3600, 30*day)
			updated = created
		}
		if g.chance(g.richOr(15, 3)) {
			// Resent: the earlier link was superseded by the current one.
			prev := at - g.between(g.ttl+day, 60*day)
			if prev > created {
				g.invite(id, "claim", email, prev, 0, at, RevokeSuperseded, true, 0)
			}
		}
		// Some opened the link and stopped at the password. Chosen by id,
		// not by the random source: the same seed gives the same customers
		// as before opened_at existed.
		var opened int64
		switch {
		case st == dsInvited && id%3 == 0:
			opened = at + (g.now-at)/3
		case st == dsExpired && id%4 == 0:
			opened = at + g.ttl/5
		}
		sent, expires = at, g.invite(id, "claim", email, at, 0, 0, "", st != dsFailed, opened)
		state, funnel = StatePending, 1
		if opened != 0 {
			funnel = 2
		}
		if st == dsFailed {
			state = StateFailed
		}
	case dsNone:
		if g.chance(g.richOr(5, 1)) && g.now-created > 30*day {
			// Invited at an old address; changing the email cancelled it.
			at := created + g.between(day, (g.now-created)/2)
			old := g.email(first.ascii, last.ascii)
			changed := at + g.between(3600, 10*day)
			g.invite(id, "claim", old, at, 0, changed, RevokeEmailChanged, true, 0)
			updated, funnel = changed, 1
		}
		if g.chance(1) {
			archived = 1
		}
	}

	g.add(dtCustomers, id, g.org.ID, firstName, lastName, SortName(firstName, lastName), email, phone, PhoneKeys(phone),
		created, updated, demoNull(claimed), hash, archived, string(state), demoNull(sent), demoNull(expires), funnel)

	g.customFields(id, c, lastName, ageDays)
	g.history(id, created, ageDays, st == dsClaimed)
}

func (g *demoGen) status() int {
	switch x := g.intn(1000); {
	case x < 50:
		return dsNoEmail
	case x < 55:
		return dsBadEmail
	case x < 305:
		return dsClaimed
	case x < 445:
		return dsInvited
	case x < 535:
		return dsExpired
	case x < 565:
		return dsFailed
	}
	return dsNone
}

// invite records a claim invite and the message that carried it, and
// returns when the link expires: when the mail failed for an undelivered one,
// as MarkFailed ends it. opened is when its link was first opened, 0 never.
func (g *demoGen) invite(customer int64, purpose, email string, at, used, revoked int64, reason RevokeReason, delivered bool, opened int64) int64 {
	outbox, failed := g.message(customer, purpose, email, at, delivered)
	expires := at + g.ttl
	if !delivered {
		expires = min(expires, failed)
	}
	g.add(dtInvites, g.org.ID, customer, purpose, g.tokenHash(), email, g.senders[g.intn(len(g.senders))],
		at, expires, demoNull(used), demoNull(revoked), string(reason), outbox, demoNull(opened))
	return expires
}

// reset records a password-reset link the customer asked for (no sender).
func (g *demoGen) reset(customer int64, email string, at, used int64) {
	outbox, _ := g.message(customer, "reset", email, at, true)
	g.add(dtInvites, g.org.ID, customer, "reset", g.tokenHash(), email, nil,
		at, at+3600, demoNull(used), nil, "", outbox, demoNull(usedOpened(at, used)))
}

// usedOpened is when a link used at used (sent at at) was first opened:
// halfway between. 0 for a link never used (whether it was opened is
// chosen elsewhere).
func usedOpened(at, used int64) int64 {
	if used == 0 {
		return 0
	}
	return at + (used-at)/2
}

// tokenHash hashes a token that is thrown away: the link was "sent" and
// nobody will ever hold it.
func (g *demoGen) tokenHash() []byte {
	var tok [32]byte
	for i := 0; i < 32; i += 8 {
		v := g.r.Uint64()
		for j := range 8 {
			tok[i+j] = byte(v >> (8 * j))
		}
	}
	h := sha256.Sum256(tok[:])
	return h[:]
}

// message records an already-delivered (or permanently failed) email, and
// when it failed. Its bodies are empty, as the worker leaves them once a
// message is done with.
func (g *demoGen) message(customer int64, purpose, to string, at int64, delivered bool) (id, failed int64) {
	id = g.nextOutbox
	g.nextOutbox++
	kind := "invite"
	if purpose == "reset" {
		kind = "reset"
	}
	// As the worker names messages (AssignMessageIDs) and as servers answer.
	mid := "outbox-" + strconv.FormatInt(id, 10) + "." + g.hex(20) + "@harbor-yoga.example"
	if delivered {
		reply := "250 2.0.0 Ok: queued as " + strings.ToUpper(g.hex(10))
		if g.chance(40) {
			reply = "250 2.0.0 OK  " + strconv.FormatInt(at, 10) + " " + g.hex(12) + " - gsmtp"
		}
		g.add(dtOutbox, g.org.ID, customer, kind, to, g.org.Name, g.org.ReplyTo, g.subject[kind], OutboxSent, 1, at, "", reply, mid, at, at+g.between(1, 20))
		return id, 0
	}
	f := demoFailures[g.intn(len(demoFailures))]
	g.add(dtOutbox, g.org.ID, customer, kind, to, g.org.Name, g.org.ReplyTo, g.subject[kind], OutboxFailed, f.attempts,
		at+f.span, strings.ReplaceAll(f.err, "{to}", to), "", mid, at, nil)
	return id, at + f.span
}

const demoHexDigits = "0123456789abcdef"

// hex returns n random lower-case hex digits.
func (g *demoGen) hex(n int) string {
	b := make([]byte, n)
	var v uint64
	for i := range b {
		if i%16 == 0 {
			v = g.r.Uint64()
		}
		b[i] = demoHexDigits[v&15]
		v >>= 4
	}
	return string(b)
}

var demoFailures = []struct {
	err      string
	attempts int
	span     int64 // from first attempt to giving up
}{
	{"550 5.1.1 <{to}>: Recipient address rejected: User unknown in virtual mailbox table", 1, 0},
	{"550 5.1.1 <{to}>: Recipient address rejected: User unknown", 1, 0},
	{"550 5.1.1 The email account that you tried to reach does not exist.", 1, 0},
	{"552 5.2.2 <{to}>: Mailbox full", 1, 0},
	{"554 5.7.1 <{to}>: Relay access denied", 1, 0},
	{"550 5.7.1 Message rejected as spam by Content Filtering.", 1, 0},
	// Temporary failures, retried until the worker's day-long window ran out.
	{"451 4.4.1 Host not reachable: connection timed out", 9, 23 * 3600},
	{"421 4.7.0 Try again later, closing connection.", 9, 23 * 3600},
}

var demoDomains = demoWeighted[string]{
	{30, "example.com"}, {10, "example.org"}, {8, "example.net"}, {14, "mail.example"},
	{8, "gmail.example"}, {6, "outlook.example"}, {5, "icloud.example"}, {4, "yahoo.example"},
	{4, "proton.example"}, {3, "btinternet.example"}, {3, "fastmail.example"}, {2, "uni.example"},
}

// email makes a plausible, unique address from the name. Only .example and
// example.* domains (RFC 2606): demo mail can never reach a real person.
// Addresses with a number end in this customer's sequence number and those
// without are checked against the ones already used, so no two collide.
func (g *demoGen) email(first, last string) string {
	domain := demoDomains.pick(g.r)
	num := strconv.Itoa(g.seq)
	var local string
	plain := false
	switch g.intn(10) {
	case 0, 1, 2:
		local, plain = first+"."+last, true
	case 3:
		local, plain = first+last, true
	case 4:
		local, plain = first[:1]+last, true
	case 5:
		local = first + "_" + last + num
	case 6:
		local = first + num
	case 7:
		local = first + "." + last + num
	case 8:
		local, plain = last+"."+first, true
	default:
		local = first[:1] + "." + last + num
	}
	local = strings.Trim(local, ".-_")
	if plain {
		key := local + "@" + domain
		if _, taken := g.emails[key]; taken {
			local += num
		} else {
			g.emails[key] = struct{}{}
		}
	}
	if g.chance(2) {
		// Some people type their address capitalized.
		local = strings.ToUpper(local[:1]) + local[1:]
	}
	return local + "@" + domain
}

// badEmail is an address as mistyped at the front desk: it fails
// ValidateEmail, so the customer cannot be invited until staff fix it.
func (g *demoGen) badEmail(first, last string) string {
	num := strconv.Itoa(g.seq)
	switch g.intn(6) {
	case 0:
		return first + num + "@gmail"
	case 1:
		return first + num + "@@example.com"
	case 2:
		return first + "." + last + num + "@example..com"
	case 3:
		return first + num + "@example,com"
	case 4:
		return first + " " + last + num + "@example.com"
	}
	return first + "." + last + num + ".@example.co"
}

func (g *demoGen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.intn(10))
	}
	return string(b)
}

// phone writes a number the way people hand them over: UK mobiles and
// landlines with and without the country code, and a few foreign ones.
func (g *demoGen) phone() string {
	switch x := g.intn(20); {
	case x < 8:
		return "07" + g.digits(3) + " " + g.digits(6)
	case x < 11:
		return "+44 7" + g.digits(3) + " " + g.digits(6)
	case x < 12:
		return "+447" + g.digits(9)
	case x < 14:
		return "020 7" + g.digits(3) + " " + g.digits(4)
	case x < 15:
		return "(0161) 496 " + g.digits(4)
	case x < 16:
		return "0117 496 " + g.digits(4)
	case x < 17:
		return "07" + g.digits(3) + "-" + g.digits(3) + "-" + g.digits(3)
	case x < 18:
		return "+353 87 " + g.digits(3) + " " + g.digits(4)
	case x < 19:
		return "+1 (555) " + g.digits(3) + "-" + g.digits(4)
	}
	return "+49 151 " + g.digits(8)
}

var demoLevels = demoWeighted[string]{{40, "Bronze"}, {30, "Silver"}, {22, "Gold"}, {8, "Founding"}}

var demoRelations = []string{"partner", "partner", "husband", "wife", "mother", "father", "sister", "brother", "friend", "daughter", "son", "flatmate"}

var demoNotes = []string{
	"Lower back pain; avoid deep backbends",
	"Pregnant, due in March. Cleared by midwife for gentle classes",
	"Recovering from ACL surgery (left knee). No kneeling poses for now",
	"Asthma; inhaler in bag",
	"Prefers no hands-on adjustments",
	"Shoulder impingement (right side)",
	"Hypermobile: go gently at end range",
	"High blood pressure: no hot yoga, no long inversions",
	"Wrist sprain; use fists or forearms",
	"Beginner, nervous about inversions",
	"Vertigo: careful with quick transitions",
	"Type 1 diabetic; keeps juice by the mat",
	"Sciatica flares after long drives",
	"Hard of hearing: face them when cueing",
	"Plantar fasciitis, may skip standing balances",
}

func (g *demoGen) customFields(id int64, c *demoCulture, lastName string, ageDays int64) {
	if g.chance(85) {
		level := demoLevels.pick(g.r)
		if level == "Founding" && ageDays < 4*365 {
			level = "Gold" // founding members joined when the studio opened
		}
		g.add(dtValues, id, g.fields[0], level)
	}
	if g.chance(75) {
		rel := demoRelations[g.intn(len(demoRelations))]
		name := c.first[g.intn(len(c.first))].text
		if lastName != "" && rel != "friend" && rel != "flatmate" && g.chance(70) {
			name += " " + lastName
		} else {
			name += " " + c.last[g.intn(len(c.last))].text
		}
		g.add(dtValues, id, g.fields[1], name+" ("+rel+") "+g.phone())
	}
	if g.chance(g.richOr(8, 3)) {
		g.add(dtValues, id, g.fields[2], demoNotes[g.intn(len(demoNotes))])
	}
}

type demoSlot struct{ hour, min, length int }

var demoClassSlots = []demoSlot{{7, 0, 60}, {8, 15, 45}, {9, 30, 75}, {12, 30, 45}, {17, 30, 60}, {18, 45, 75}, {20, 0, 60}}
var demoApptSlots = []demoSlot{{10, 0, 60}, {11, 30, 60}, {14, 0, 90}, {15, 30, 30}, {16, 0, 60}}
var demoEventSlots = []demoSlot{{10, 0, 180}, {14, 0, 120}, {19, 0, 120}, {19, 30, 90}}

var demoClasses = []string{"Vinyasa Flow", "Hot Yoga", "Pilates Reformer", "Yin Yoga", "Ashtanga Mysore", "Power Yoga",
	"Restorative Yoga", "Mat Pilates", "Barre", "Meditation & Breathwork", "Beginners' Yoga", "Prenatal Yoga", "Hatha Yoga", "Slow Flow"}
var demoAppointments = []string{"Private session with Maya", "Private session with Sam", "Private session with Priya",
	"Reformer 1:1 with Léa", "Sports massage with Tom", "Physio assessment with Dr Ana Costa", "Posture review with Kenji"}
var demoEvents = []string{"Full Moon Workshop", "Sound Bath", "Inversions Workshop", "Yoga Nidra Evening",
	"Arm Balances Masterclass", "New Moon Yin & Journaling", "Weekend Retreat: Dartmoor", "Teacher Training Open Evening"}

// at is a wall-clock time in the studio's zone, days from today.
func (g *demoGen) at(days int64, s demoSlot) (int64, int64) {
	t := time.Date(g.today.Year(), g.today.Month(), g.today.Day()+int(days), s.hour, s.min, 0, 0, g.loc)
	return t.Unix(), t.Unix() + int64(s.length)*60
}

// history adds bookings, payments and subscriptions. Claimed customers are
// the regulars: they always have some of each.
func (g *demoGen) history(id, created, ageDays int64, regular bool) {
	var past, upcoming int
	switch {
	case g.rich && regular:
		past, upcoming = 4+g.intn(17), 1+g.intn(5)
	case g.rich:
		past, upcoming = g.intn(11), g.intn(4)
	case regular:
		past, upcoming = 1+g.intn(3), g.intn(2)
	default:
		past = g.intn(3)
		if g.chance(20) {
			upcoming = 1
		}
	}
	if ageDays < 2 {
		past = 0
	}
	for range past {
		g.booking(id, -g.between(1, min(ageDays-1, 540)), true)
	}
	for range upcoming {
		g.booking(id, g.between(1, 45), false)
	}

	var pays int
	switch {
	case g.rich && regular:
		pays = 3 + g.intn(10)
	case g.rich:
		pays = g.intn(7)
	case regular:
		pays = 1 + g.intn(3)
	default:
		pays = g.intn(3)
	}
	for range pays {
		g.payment(id, created)
	}

	subs := 0
	switch {
	case regular && g.chance(80):
		subs = 1
		if g.rich && g.chance(25) {
			subs = 2
		}
	case !regular && g.chance(27):
		subs = 1
	}
	for range subs {
		g.subscription(id, created)
	}
}

func (g *demoGen) booking(id, days int64, past bool) {
	var kind, title string
	var slot demoSlot
	switch x := g.intn(10); {
	case x < 7:
		kind, title, slot = "class", demoClasses[g.intn(len(demoClasses))], demoClassSlots[g.intn(len(demoClassSlots))]
	case x < 9:
		kind, title, slot = "appointment", demoAppointments[g.intn(len(demoAppointments))], demoApptSlots[g.intn(len(demoApptSlots))]
	default:
		kind, title, slot = "event", demoEvents[g.intn(len(demoEvents))], demoEventSlots[g.intn(len(demoEventSlots))]
	}
	if title == "Weekend Retreat: Dartmoor" {
		slot = demoSlot{16, 0, 2*24*60 + 2*60} // Friday tea to Sunday lunch, near enough
	}
	start, end := g.at(days, slot)
	status := "booked"
	if past {
		switch x := g.intn(100); {
		case x < 78:
			status = "attended"
		case x < 93:
			status = "cancelled"
		default:
			status = "no_show"
		}
	} else if g.chance(8) {
		status = "cancelled"
	}
	g.add(dtBookings, id, kind, title, start, end, status)
}

type demoProduct struct {
	desc   string
	amount int64
}

var demoProducts = demoWeighted[demoProduct]{
	{20, demoProduct{"Drop-in class", 1500}},
	{14, demoProduct{"10-class pass", 12000}},
	{8, demoProduct{"5-class pass", 6500}},
	{22, demoProduct{"Unlimited Monthly", 11500}},
	{8, demoProduct{"Private session", 6500}},
	{6, demoProduct{"Full Moon Workshop", 3500}},
	{6, demoProduct{"Intro offer: 2 weeks unlimited", 3000}},
	{5, demoProduct{"Mat hire", 300}},
	{4, demoProduct{"Gift card", 5000}},
	{3, demoProduct{"Founding Member Annual", 99000}},
	{4, demoProduct{"Sound Bath", 2500}},
}

func (g *demoGen) payment(id, created int64) {
	p := demoProducts.pick(g.r)
	at := g.between(created, g.now-600)
	desc := p.desc
	if desc == "Unlimited Monthly" {
		desc += " (" + time.Unix(at, 0).In(g.loc).Format("January 2006") + ")"
	}
	status := "paid"
	switch x := g.intn(100); {
	case x < 4:
		status = "refunded"
	case x < 8:
		status = "failed"
	case x < 10 && g.now-at < 3*day:
		status = "pending"
	}
	g.add(dtPayments, id, p.amount, "GBP", desc, at, status)
}

type demoPlan struct {
	name     string
	price    int64
	interval string
	period   int64 // the interval in seconds, near enough
}

var demoPlans = demoWeighted[demoPlan]{
	{30, demoPlan{"Unlimited Monthly", 11500, "month", 30 * day}},
	{20, demoPlan{"8 Classes a Month", 8900, "month", 30 * day}},
	{12, demoPlan{"Off-Peak Monthly", 6900, "month", 30 * day}},
	{10, demoPlan{"Student Unlimited", 7500, "month", 30 * day}},
	{10, demoPlan{"Weekly Drop-in Bundle", 2800, "week", 7 * day}},
	{8, demoPlan{"Reformer Monthly", 14900, "month", 30 * day}},
	{5, demoPlan{"Founding Member Annual", 99000, "year", 365 * day}},
}

var demoSubStatus = demoWeighted[string]{{66, "active"}, {9, "paused"}, {7, "past_due"}, {18, "cancelled"}}

func (g *demoGen) subscription(id, created int64) {
	p := demoPlans.pick(g.r)
	started := g.between(created, g.now-day)
	status := demoSubStatus.pick(g.r)
	var renews, ended int64
	switch status {
	case "active":
		renews = g.now + g.between(3600, p.period)
	case "past_due":
		renews = g.now - g.between(day, 10*day)
		if renews < started {
			renews = started
		}
	case "cancelled":
		ended = g.between(started, g.now-600)
	}
	g.add(dtSubs, id, p.name, p.price, "GBP", p.interval, status, started, demoNull(renews), demoNull(ended))
}

// demoWeighted is a list to draw from with weights.
type demoWeighted[T any] []struct {
	w int
	v T
}

func (ws demoWeighted[T]) pick(r *rand.Rand) T {
	total := 0
	for _, w := range ws {
		total += w.w
	}
	x := r.IntN(total)
	for _, w := range ws {
		if x < w.w {
			return w.v
		}
		x -= w.w
	}
	return ws[len(ws)-1].v
}

// demoName is a name as written and as it goes into an email address.
type demoName struct {
	text  string
	ascii string
	given string // native-order names only: the given name's romanization
}

type demoCulture struct {
	first, last []demoName
	// Full names written family name first in one field (王芳), for
	// customers who type their name in their own script.
	native []demoName
}

type demoCultureList []struct {
	w int
	c *demoCulture
}

func (cs demoCultureList) pick(r *rand.Rand) *demoCulture {
	total := 0
	for _, c := range cs {
		total += c.w
	}
	x := r.IntN(total)
	for _, c := range cs {
		if x < c.w {
			return c.c
		}
		x -= c.w
	}
	return cs[0].c
}

// demoNames parses "José|María|…"; an entry "王芳=wang.fang" gives the
// romanization (family.given) instead of folding.
func demoNames(s string) []demoName {
	var out []demoName
	for _, e := range strings.Split(s, "|") {
		text, ascii, ok := strings.Cut(e, "=")
		if !ok {
			out = append(out, demoName{text: text, ascii: demoFold(text)})
			continue
		}
		family, given, _ := strings.Cut(ascii, ".")
		out = append(out, demoName{text: text, ascii: family, given: given})
	}
	return out
}

func demoCultureOf(first, last, native string) *demoCulture {
	c := &demoCulture{first: demoNames(first), last: demoNames(last)}
	if native != "" {
		c.native = demoNames(native)
	}
	return c
}

var demoFoldExtra = map[rune]string{'ø': "o", 'ł': "l", 'đ': "d", 'ß': "ss", 'æ': "ae", 'œ': "oe", 'þ': "th", 'ð': "d", 'ı': "i"}

// demoFold turns a name into the letters people use for it in an email
// address: José → jose, Øyvind → oyvind, O'Brien → obrien, Smith-Jones stays
// hyphenated.
func demoFold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(strings.ToLower(s)) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		default:
			// Letters NFKD does not decompose; anything else (apostrophes,
			// spaces, other scripts) is dropped.
			b.WriteString(demoFoldExtra[r])
		}
	}
	if b.Len() == 0 {
		return "member"
	}
	return b.String()
}

var demoCultures = demoCultureList{
	{38, demoCultureOf(
		"Oliver|Amelia|George|Isla|Harry|Olivia|Jack|Emily|Charlotte|Thomas|Sophie|James|Lucy|William|Grace|Daniel|Hannah|Samuel|Chloe|Joseph|Ella|Benjamin|Megan|Lily|Alfie|Freya|Rhys|Niamh|Siobhán|Aoife|Ciarán|Seán|Eilidh|Callum|Bethan|Dylan|Zoë|Ann|Tom|Kate|Anne-Marie|Rosie|Poppy|Harriet|Imogen|Oscar|Arthur|Mary-Jane|Gráinne|Mairéad",
		"Smith|Jones|Taylor|Brown|Williams|Wilson|Johnson|Davies|Robinson|Wright|Thompson|Evans|Walker|White|Roberts|Green|Hall|Wood|Jackson|Clarke|O'Brien|O'Connor|Murphy|McCarthy|MacDonald|Fitzgerald|Smith-Jones|Hughes|Campbell|Stewart|Llewellyn|Lee|Ó Súilleabháin|Fraser|Bennett|Cooper-Hale|Price|Ellis|Marshall|Doyle",
		"")},
	{8, demoCultureOf(
		"José|María|Lucía|Javier|Sofía|Mateo|Carmen|Andrés|Inés|Álvaro|Camila|Martín|Ramón|Begoña|Íñigo",
		"García|Rodríguez|Fernández|López|Martínez|Sánchez|Pérez|Gómez|de la Cruz|Muñoz|Núñez|Ortiz|Castillo|Ibáñez",
		"")},
	{5, demoCultureOf(
		"Jürgen|Lena|Lukas|Anja|Matthias|Sophie|Jonas|Käthe|Felix|Annelie|Günther|Jörg",
		"Müller|Schäfer|Schröder|Weiß|Köhler|Becker|Hoffmann|Groß|Meyer|Fuchs|Krüger|Schmidt-Rötter",
		"")},
	{4, demoCultureOf(
		"Øyvind|Åsa|Sigrún|Bjørn|Ingrid|Lars|Maja|Søren|Freja|Linnéa|Sæunn|Ólafur",
		"Hansen|Johansson|Nilsson|Ødegård|Sørensen|Lindqvist|Berg|Åberg|Jóhannsdóttir|Þórsson|Kristiansen",
		"")},
	{4, demoCultureOf(
		"Łukasz|Małgorzata|Zofia|Wojciech|Agnieszka|Paweł|Katarzyna|Jiří|Tereza|Bożena|Michał",
		"Nowak|Kowalski|Wiśniewska|Wójcik|Dvořák|Novák|Kamińska|Lewandowski|Szymańska|Zieliński|Čapek",
		"")},
	{4, demoCultureOf(
		"Chloé|Théo|Élodie|Benoît|Camille|Léa|François|Hélène|Noël|Maëlle|Jérôme|Amélie",
		"Dubois|Lefèvre|Moreau|Girard|Rousseau|Fontaine|Mercier|Bérenger|Lemaître|Chevalier",
		"")},
	{4, demoCultureOf(
		"Giulia|Lorenzo|Francesca|Matteo|Chiara|João|Inês|Gonçalo|Niccolò|Beatriz",
		"Rossi|Bianchi|Esposito|Ricci|Conti|D'Angelo|Silva|Gonçalves|Conceição|De Luca",
		"")},
	{3, demoCultureOf(
		"Minh Anh|Thảo|Đức|Huy|Linh|Phương|Quang|Ngọc Lan",
		"Nguyễn|Trần|Lê|Phạm|Hoàng|Võ|Đặng",
		"")},
	{4, demoCultureOf(
		"Wei|Fang|Jing|Hao|Xiu Ying|Li Na|Yu|Mei|Zhi Hao",
		"Wang|Li|Zhang|Liu|Chen|Yang|Huang|Zhou",
		"王芳=wang.fang|李娜=li.na|张伟=zhang.wei|刘洋=liu.yang|陈静=chen.jing|杨帆=yang.fan|黄磊=huang.lei|周杰=zhou.jie|吴敏=wu.min")},
	{3, demoCultureOf(
		"Yuki|Haruto|Sakura|Ren|Aiko|Min-jun|Ji-woo|Seo-yeon|Hina|Sora",
		"Tanaka|Suzuki|Sato|Watanabe|Kim|Park|Lee|Choi|Yamamoto|Nakamura",
		"田中由紀=tanaka.yuki|佐藤健=sato.ken|김민준=kim.minjun|박서연=park.seoyeon")},
	{7, demoCultureOf(
		"Priya|Arjun|Aisha|Rohan|Ananya|Imran|Fatima|Sanjay|Deepika|Harpreet|Zara|Aarav|Nadia",
		"Patel|Shah|Singh|Khan|Sharma|Gupta|Begum|Hussain|Chaudhry|Kaur|Iyer|D'Souza",
		"")},
	{5, demoCultureOf(
		"Chiamaka|Oluwaseun|Kwame|Amara|Tunde|Ngozi|Kofi|Abena|Chidi|Adaeze|Yaw",
		"Okafor|Adeyemi|Mensah|Boateng|Okonkwo|Eze|Asante|Campbell-Brown|Owusu|Adébáyọ̀",
		"")},
	{4, demoCultureOf(
		"Omar|Layla|Yusuf|Mariam|Zeynep|Emre|Eleni|Dimitris|Selin|Nikos|Yasmin",
		"Haddad|Al-Sayed|Nasser|Yılmaz|Öztürk|Çelik|Papadopoulos|Georgiou|Şahin|Karagiannis",
		"")},
	{3, demoCultureOf(
		"Daan|Sanne|Pieter|Femke|Anouk|Jeroen",
		"van der Berg|de Vries|Jansen|van Dijk|Bakker|Visser",
		"")},
}

// Package demo generates the demo organization, Harbor Yoga: staff, custom
// fields and any number of customers in every status, with bookings,
// payments, subscriptions and invite histories, the same ones for the same
// seed. It says who the people are and what happened to them; how the rows
// reach the database (a million customers in under a minute) is the store's
// bulk-load door, store.BulkLoader.
package demo

import (
	"cmp"
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	// The demo organization lives in Europe/London; embedding the zone data
	// keeps `frontdesk demo` working on a machine without /usr/share/zoneinfo.
	_ "time/tzdata"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"frontdesk/store"
)

// Options configures Generate.
type Options struct {
	Customers int                   // default 500
	Seed      int64                 // default 1 (0 means 1)
	Progress  func(done, total int) // may be nil; called every few thousand customers
}

const (
	orgName = "Harbor Yoga"
	orgSlug = "harbor-yoga"

	// passwordHash is not a PHC string, so no password verifies against it:
	// demo customers look claimed but nobody can sign in as them.
	passwordHash = "!demo"

	// Up to this many customers everyone gets a long history; beyond it the
	// history thins out so a million customers stay under a minute.
	richMax       = 5_000
	progressEvery = 5_000
	// Customers per message from the generating goroutine to the writing one.
	block = 500
	// Blocks the generator may be ahead of the writer: 20,000 customers,
	// the rows of a COPY on PostgreSQL. The writer waits while the server
	// takes a COPY (and makes its search documents); meanwhile the
	// generator makes the next COPY's rows, so the server never waits for
	// them. With 4 blocks it did: a million demo customers took 161 s; with
	// 40, 145 s, for 80 MB more memory (BENCHMARKS.md).
	ahead = 40
)

var team = []store.Staff{
	{Name: "Maya Harbor", Email: "owner@harbor-yoga.example", Role: store.RoleOwner},
	{Name: "Sam Rivera", Email: "admin@harbor-yoga.example", Role: store.RoleAdmin},
	{Name: "Jo Front", Email: "desk@harbor-yoga.example", Role: store.RoleStaff},
}

// Generate creates the demo organization (Harbor Yoga, slug harbor-yoga)
// with its staff, or refills it if it exists: its customers and everything
// hanging off them are deleted, then opt.Customers new ones are generated. The
// same seed and count give the same customers. Customers come in every status,
// with custom fields, bookings, payments, subscriptions and invite history;
// no invite can be redeemed (nobody holds the tokens) and no claimed customer
// can sign in.
//
// It holds the writer connection for the whole run (other goroutines of this
// process wait for it; see store.DB.BulkLoad), committing every
// store.BulkTxCustomers customers so that other processes can write in
// between.
//
// Meanwhile the garbage collector runs less often (lessGC).
func Generate(ctx context.Context, db *store.DB, opt Options) (*store.Org, error) {
	if opt.Customers <= 0 {
		opt.Customers = 500
	}
	defer lessGC()()
	if opt.Seed == 0 {
		opt.Seed = 1
	}
	g := &gen{db: db, opt: opt, free: make(chan *chunk, ahead+8)}
	err := db.BulkLoad(ctx, func(l *store.BulkLoader) error {
		if err := l.Tx(ctx, func(tx *store.Tx) error { return g.setup(ctx, tx) }); err != nil {
			return err
		}
		if err := l.DeleteCustomers(ctx, g.org.ID); err != nil {
			return fmt.Errorf("demo: removing the old demo customers: %w", err)
		}
		for i, t := range tables {
			var err error
			if g.rows[i], err = l.Rows(t.name, t.columns...); err != nil {
				return err
			}
		}
		g.start()
		err := l.Load(ctx, opt.Customers, func(tx *store.BulkTx, done, n int) error { return g.fill(ctx, tx, done, n) })
		if err != nil {
			return fmt.Errorf("demo: generating customers: %w", err)
		}
		if opt.Progress != nil {
			opt.Progress(opt.Customers, opt.Customers)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return g.org, nil
}

// lessGC has the garbage collector run a quarter as often (GOGC 400) until
// the function it returns is called, by every caller that asked. The
// generator allocates its rows value by value, and collecting them took
// the CPU the database server needs on a small machine: a million
// customers into PostgreSQL on 2 cores took 44-47 s of frontdesk's CPU
// instead of 49-55 s, and 104-117 s instead of 115-121 s, for a peak RSS
// of 800-830 MB instead of 350-360 (BENCHMARKS.md).
func lessGC() (restore func()) {
	gc.Lock()
	defer gc.Unlock()
	if gc.users == 0 {
		gc.before = debug.SetGCPercent(400)
	}
	gc.users++
	return func() {
		gc.Lock()
		defer gc.Unlock()
		if gc.users--; gc.users == 0 {
			debug.SetGCPercent(gc.before)
		}
	}
}

// gc is lessGC's count of the generators running and the setting from
// before the first of them.
var gc struct {
	sync.Mutex
	users, before int
}

// setup finds or creates the demo organization, its staff and custom
// fields, and fills in g's organization, invite senders and field ids.
func (g *gen) setup(ctx context.Context, tx *store.Tx) error {
	org, err := tx.OrgBySlug(ctx, orgSlug)
	if store.ErrorCode(err) == store.ENOTFOUND {
		org = &store.Org{
			Name:           orgName,
			Slug:           orgSlug,
			TimeZone:       "Europe/London",
			Country:        "GB",
			WalkthroughURL: "https://harbor-yoga.example/getting-started",
			PaymentsURL:    "https://harbor-yoga.example/account/payment-methods",
			ReplyTo:        "hello@harbor-yoga.example",
			Notifications:  true,
		}
		if err := tx.CreateOrg(ctx, org); err != nil {
			return err
		}
		for _, s := range team {
			s.OrgID = org.ID
			if err := tx.CreateStaff(ctx, &s); err != nil {
				return fmt.Errorf("demo staff %s: %w", s.Email, err)
			}
		}
	} else if err != nil {
		return err
	}
	g.org = org

	// Invites are sent by whoever may send them now: on a refill the
	// owner may have changed the team since the first run.
	staff, err := tx.StaffList(ctx, org.ID)
	if err != nil {
		return err
	}
	for _, s := range staff {
		if s.Role.CanManageCustomers() {
			g.senders = append(g.senders, s.ID)
		}
	}
	if len(g.senders) == 0 {
		return store.Errorf(store.EINVALID, "the demo organization has no owner or admin to send its invites; add one with `frontdesk staff add --org %s`", orgSlug)
	}

	for i, name := range []string{"Membership level", "Emergency contact", "Injuries / notes"} {
		if g.fields[i], err = tx.DeclareCustomField(ctx, org.ID, name); err != nil {
			return err
		}
	}
	// The studio keeps the membership level and its notes; customers keep
	// their emergency contact up to date themselves.
	_, err = tx.SetCustomFieldEditable(ctx, org.ID, "Emergency contact", true)
	return err
}

// The tables the generator writes, in the order of tables.
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

// tables are the tables the generator writes and, for each, the columns its
// rows give in order (the rest take their defaults).
var tables = [dtCount]struct {
	name    string
	columns []string
}{
	dtCustomers: {"customers", []string{"id", "org_id", "first_name", "last_name", "sort_name", "name_keys", "email", "phone", "phone_keys",
		"created_at", "updated_at", "claimed_at", "password_hash", "archived", "state", "invite_sent_at", "invite_expires_at", "password_rehashes", "funnel"}},
	dtOutbox: {"outbox", []string{"id", "org_id", "kind", "to_addr", "from_name", "reply_to", "subject", "body_text", "body_html", "status",
		"attempts", "next_attempt_at", "lease_owner", "lease_until", "last_error", "message_id", "created_at", "sent_at", "reply", "retry_from", "customer_id"}},
	dtInvites: {"invites", []string{"org_id", "customer_id", "purpose", "token_hash", "email", "created_by",
		"created_at", "expires_at", "used_at", "revoked_at", "revoke_reason", "outbox_id", "opened_at"}},
	dtValues:   {"custom_field_values", []string{"customer_id", "field_id", "value"}},
	dtBookings: {"bookings", []string{"customer_id", "kind", "title", "starts_at", "ends_at", "status"}},
	dtPayments: {"payments", []string{"customer_id", "amount_cents", "currency", "description", "paid_at", "status"}},
	dtSubs:     {"subscriptions", []string{"customer_id", "plan", "price_cents", "currency", "interval", "status", "started_at", "renews_at", "ended_at"}},
}

// chunk is block customers' rows, table by table, as the generator hands
// them to the writer.
type chunk struct {
	customers int
	rows      [dtCount]*store.BulkRows
}

// fill generates the n customers of one transaction of the load (done exist
// already) and writes them. The generator runs in its own goroutine, up to
// ahead blocks of customers ahead of the writer.
func (g *gen) fill(ctx context.Context, tx *store.BulkTx, done, n int) error {
	if p := g.opt.Progress; p != nil && done > 0 {
		p(done, g.opt.Customers) // the transaction before this one is committed
	}
	// Parent ids are fixed before the rows are generated so children can
	// name them.
	firstCustomer, err := tx.FirstID(ctx, "customers")
	if err != nil {
		return err
	}
	firstOutbox, err := tx.FirstID(ctx, "outbox")
	if err != nil {
		return err
	}

	chunks := make(chan *chunk, ahead)
	stop := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		defer close(chunks)
		g.generate(firstCustomer, firstOutbox, n, chunks, stop)
	}()
	defer func() {
		close(stop)
		for range chunks {
		}
		<-finished
	}()

	written := 0
	for c := range chunks {
		if err := tx.Write(ctx, c.rows[:]...); err != nil {
			return err
		}
		before := written
		written += c.customers
		select {
		case g.free <- c:
		default:
		}
		if p := g.opt.Progress; p != nil && written < n && (done+written)/progressEvery > (done+before)/progressEvery {
			p(done+written, g.opt.Customers)
		}
	}
	if done+n < g.opt.Customers {
		return nil
	}
	return tx.Audit(ctx, g.org.ID, store.SystemActor("frontdesk demo"), "demo.generate", 0,
		fmt.Sprintf("generated %d demo customers (seed %d)", g.opt.Customers, g.opt.Seed))
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

// gen generates the demo customers. Everything random comes from two
// RNGs seeded from the seed, names from names and the rest from r, each drawn
// in a fixed order, so a seed and a count give one roster.
type gen struct {
	db      *store.DB
	opt     Options
	org     *store.Org
	senders []int64  // staff who send invites
	fields  [3]int64 // membership, emergency contact, notes

	r     *rand.Rand
	names *rand.Rand // for gen.people
	// prefetched delivers the next transaction's people, drawn while this
	// one is written.
	prefetched chan []person
	rich       bool
	loc        *time.Location
	now        int64 // Unix seconds
	today      time.Time
	ttl        int64
	seq        int                 // customers generated so far
	emails     map[string]struct{} // addresses used without a number
	subject    map[string]string   // outbox subject by kind

	// rows are empty collections, one per table, to make chunks' from.
	rows [dtCount]*store.BulkRows
	// free are chunks the writer is done with, for the generator to reuse.
	free                     chan *chunk
	cur                      *chunk
	nextCustomer, nextOutbox int64
}

func (g *gen) start() {
	g.r = rand.New(rand.NewPCG(uint64(g.opt.Seed), 0x68617262_6f72796f))     // "harboryo"
	g.names = rand.New(rand.NewPCG(uint64(g.opt.Seed), 0x6e616d65_73000000)) // "names"
	g.rich = g.opt.Customers <= richMax
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
// messages' ids start at outbox), sending them block at a time on out
// until done or told to stop. Chunks come from g.free when the writer has
// returned some.
func (g *gen) generate(customer, outbox int64, n int, out chan<- *chunk, stop <-chan struct{}) {
	g.nextCustomer, g.nextOutbox = customer, outbox
	var people []person
	if g.prefetched != nil {
		people, g.prefetched = <-g.prefetched, nil
	} else {
		people = g.people(n)
	}
	if next := min(store.BulkTxCustomers, g.opt.Customers-g.seq-n); next > 0 {
		// Draw the next transaction's names meanwhile: the writer would
		// otherwise wait for them when it starts it. Nothing else uses
		// g.names until they are received.
		ch := make(chan []person, 1)
		g.prefetched = ch
		go func() { ch <- g.people(next) }()
	}
	for n > 0 {
		select {
		case g.cur = <-g.free:
			g.cur.customers = 0
			for _, r := range g.cur.rows {
				r.Reset()
			}
		default:
			g.cur = &chunk{}
			for i, r := range g.rows {
				g.cur.rows[i] = r.New()
			}
		}
		k := min(n, block)
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

// person is a customer's name, drawn before the rest of the customer.
type person struct {
	culture     *culture
	first, last personName
	native      *personName // written the customer's way: family name first, one field
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
func (g *gen) people(n int) []person {
	out := make([]person, n)
	for i := range out {
		p := &out[i]
		p.seq = i
		p.culture = cultures.pick(g.names)
		p.first = p.culture.first[g.names.IntN(len(p.culture.first))]
		p.last = p.culture.last[g.names.IntN(len(p.culture.last))]
		p.sortName = store.SortName(p.first.text, p.last.text)
		if len(p.culture.native) > 0 && g.names.IntN(100) < 40 {
			p.native = &p.culture.native[g.names.IntN(len(p.culture.native))]
			p.sortName = store.SortName(p.native.text, "")
		}
	}
	slices.SortFunc(out, func(a, b person) int {
		return cmp.Or(strings.Compare(a.sortName, b.sortName), cmp.Compare(a.seq, b.seq))
	})
	return out
}

// add appends a row to the chunk: every column of the table, in the
// schema's order (see store.BulkLoader).
func (g *gen) add(table int, vals ...any) {
	g.cur.rows[table].Add(vals...)
}

func (g *gen) intn(n int) int { return g.r.IntN(n) }

// richOr is a percentage for small rosters or for large ones.
func (g *gen) richOr(small, large int) int {
	if g.rich {
		return small
	}
	return large
}

// chance is true p percent of the time.
func (g *gen) chance(p int) bool { return g.r.IntN(100) < p }

// between returns a number in [lo, hi].
func (g *gen) between(lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + g.r.Int64N(hi-lo+1)
}

func null(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

const day = 86400

// customer generates one customer and all its rows.
func (g *gen) customer(p person) {
	g.seq++
	id := g.nextCustomer
	g.nextCustomer++
	c, first, last, firstName, lastName := p.culture, p.first, p.last, p.first.text, p.last.text
	if p.native != nil {
		firstName, lastName = p.native.text, ""
		first, last = personName{ascii: p.native.given}, personName{ascii: p.native.ascii}
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
	state := store.StateNone
	funnel := 0 // how far towards claiming (customers.funnel)
	var hash any = ""
	archived := 0

	switch st {
	case dsNoEmail:
		state = store.StateNoEmail
	case dsClaimed:
		at := created + g.between(3600, (g.now-created)*3/4)
		use := at + min(g.between(600, 3*day), g.ttl*9/10, (g.now-at)/2)
		g.invite(id, "claim", email, at, use, 0, "", true, usedOpened(at, use))
		claimed, updated, hash, state, funnel = use, use, passwordHash, store.StateClaimed, 3
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
				g.invite(id, "claim", email, prev, 0, at, store.RevokeSuperseded, true, 0)
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
		state, funnel = store.StatePending, 1
		if opened != 0 {
			funnel = 2
		}
		if st == dsFailed {
			state = store.StateFailed
		}
	case dsNone:
		if g.chance(g.richOr(5, 1)) && g.now-created > 30*day {
			// Invited at an old address; changing the email cancelled it.
			at := created + g.between(day, (g.now-created)/2)
			old := g.email(first.ascii, last.ascii)
			changed := at + g.between(3600, 10*day)
			g.invite(id, "claim", old, at, 0, changed, store.RevokeEmailChanged, true, 0)
			updated, funnel = changed, 1
		}
		if g.chance(1) {
			archived = 1
		}
	}

	// The derived columns are the store's own functions of the row, as every
	// other write computes them (TestDemoSearchKeysMatchTheStore).
	g.add(dtCustomers, id, g.org.ID, firstName, lastName, store.SortName(firstName, lastName), store.NameKeys(firstName, lastName),
		email, phone, store.PhoneKeys(phone, g.org.Country),
		created, updated, null(claimed), hash, archived, string(state), null(sent), null(expires), 0, funnel)

	g.customFields(id, c, lastName, ageDays)
	g.history(id, created, ageDays, st == dsClaimed)
}

func (g *gen) status() int {
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
func (g *gen) invite(customer int64, purpose, email string, at, used, revoked int64, reason store.RevokeReason, delivered bool, opened int64) int64 {
	outbox, failed := g.message(customer, purpose, email, at, delivered)
	expires := at + g.ttl
	if !delivered {
		expires = min(expires, failed)
	}
	g.add(dtInvites, g.org.ID, customer, purpose, g.tokenHash(), email, g.senders[g.intn(len(g.senders))],
		at, expires, null(used), null(revoked), string(reason), outbox, null(opened))
	return expires
}

// reset records a password-reset link the customer asked for (no sender).
func (g *gen) reset(customer int64, email string, at, used int64) {
	outbox, _ := g.message(customer, "reset", email, at, true)
	g.add(dtInvites, g.org.ID, customer, "reset", g.tokenHash(), email, nil,
		at, at+3600, null(used), nil, "", outbox, null(usedOpened(at, used)))
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
func (g *gen) tokenHash() []byte {
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
func (g *gen) message(customer int64, purpose, to string, at int64, delivered bool) (id, failed int64) {
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
		g.add(dtOutbox, id, g.org.ID, kind, to, g.org.Name, g.org.ReplyTo, g.subject[kind], "", "", store.OutboxSent, 1, at, "", 0,
			"", mid, at, at+g.between(1, 20), reply, nil, customer)
		return id, 0
	}
	f := failures[g.intn(len(failures))]
	g.add(dtOutbox, id, g.org.ID, kind, to, g.org.Name, g.org.ReplyTo, g.subject[kind], "", "", store.OutboxFailed, f.attempts, at+f.span, "", 0,
		strings.ReplaceAll(f.err, "{to}", to), mid, at, nil, "", nil, customer)
	return id, at + f.span
}

const hexDigits = "0123456789abcdef"

// hex returns n random lower-case hex digits.
func (g *gen) hex(n int) string {
	b := make([]byte, n)
	var v uint64
	for i := range b {
		if i%16 == 0 {
			v = g.r.Uint64()
		}
		b[i] = hexDigits[v&15]
		v >>= 4
	}
	return string(b)
}

var failures = []struct {
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

var domains = weighted[string]{
	{30, "example.com"}, {10, "example.org"}, {8, "example.net"}, {14, "mail.example"},
	{8, "gmail.example"}, {6, "outlook.example"}, {5, "icloud.example"}, {4, "yahoo.example"},
	{4, "proton.example"}, {3, "btinternet.example"}, {3, "fastmail.example"}, {2, "uni.example"},
}

// email makes a plausible, unique address from the name. Only .example and
// example.* domains (RFC 2606): demo mail can never reach a real person.
// Addresses with a number end in this customer's sequence number and those
// without are checked against the ones already used, so no two collide.
func (g *gen) email(first, last string) string {
	domain := domains.pick(g.r)
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
func (g *gen) badEmail(first, last string) string {
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

func (g *gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.intn(10))
	}
	return string(b)
}

// phone writes a number the way people hand them over: UK mobiles and
// landlines with and without the country code, and a few foreign ones.
func (g *gen) phone() string {
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

var levels = weighted[string]{{40, "Bronze"}, {30, "Silver"}, {22, "Gold"}, {8, "Founding"}}

var relations = []string{"partner", "partner", "husband", "wife", "mother", "father", "sister", "brother", "friend", "daughter", "son", "flatmate"}

var notes = []string{
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

func (g *gen) customFields(id int64, c *culture, lastName string, ageDays int64) {
	if g.chance(85) {
		level := levels.pick(g.r)
		if level == "Founding" && ageDays < 4*365 {
			level = "Gold" // founding members joined when the studio opened
		}
		g.add(dtValues, id, g.fields[0], level)
	}
	if g.chance(75) {
		rel := relations[g.intn(len(relations))]
		name := c.first[g.intn(len(c.first))].text
		if lastName != "" && rel != "friend" && rel != "flatmate" && g.chance(70) {
			name += " " + lastName
		} else {
			name += " " + c.last[g.intn(len(c.last))].text
		}
		g.add(dtValues, id, g.fields[1], name+" ("+rel+") "+g.phone())
	}
	if g.chance(g.richOr(8, 3)) {
		g.add(dtValues, id, g.fields[2], notes[g.intn(len(notes))])
	}
}

type timeSlot struct{ hour, min, length int }

var classSlots = []timeSlot{{7, 0, 60}, {8, 15, 45}, {9, 30, 75}, {12, 30, 45}, {17, 30, 60}, {18, 45, 75}, {20, 0, 60}}
var apptSlots = []timeSlot{{10, 0, 60}, {11, 30, 60}, {14, 0, 90}, {15, 30, 30}, {16, 0, 60}}
var eventSlots = []timeSlot{{10, 0, 180}, {14, 0, 120}, {19, 0, 120}, {19, 30, 90}}

var classes = []string{"Vinyasa Flow", "Hot Yoga", "Pilates Reformer", "Yin Yoga", "Ashtanga Mysore", "Power Yoga",
	"Restorative Yoga", "Mat Pilates", "Barre", "Meditation & Breathwork", "Beginners' Yoga", "Prenatal Yoga", "Hatha Yoga", "Slow Flow"}
var appointments = []string{"Private session with Maya", "Private session with Sam", "Private session with Priya",
	"Reformer 1:1 with Léa", "Sports massage with Tom", "Physio assessment with Dr Ana Costa", "Posture review with Kenji"}
var events = []string{"Full Moon Workshop", "Sound Bath", "Inversions Workshop", "Yoga Nidra Evening",
	"Arm Balances Masterclass", "New Moon Yin & Journaling", "Weekend Retreat: Dartmoor", "Teacher Training Open Evening"}

// at is a wall-clock time in the studio's zone, days from today.
func (g *gen) at(days int64, s timeSlot) (int64, int64) {
	t := time.Date(g.today.Year(), g.today.Month(), g.today.Day()+int(days), s.hour, s.min, 0, 0, g.loc)
	return t.Unix(), t.Unix() + int64(s.length)*60
}

// history adds bookings, payments and subscriptions. Claimed customers are
// the regulars: they always have some of each.
func (g *gen) history(id, created, ageDays int64, regular bool) {
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

func (g *gen) booking(id, days int64, past bool) {
	var kind, title string
	var slot timeSlot
	switch x := g.intn(10); {
	case x < 7:
		kind, title, slot = "class", classes[g.intn(len(classes))], classSlots[g.intn(len(classSlots))]
	case x < 9:
		kind, title, slot = "appointment", appointments[g.intn(len(appointments))], apptSlots[g.intn(len(apptSlots))]
	default:
		kind, title, slot = "event", events[g.intn(len(events))], eventSlots[g.intn(len(eventSlots))]
	}
	if title == "Weekend Retreat: Dartmoor" {
		slot = timeSlot{16, 0, 2*24*60 + 2*60} // Friday tea to Sunday lunch, near enough
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

type product struct {
	desc   string
	amount int64
}

var products = weighted[product]{
	{20, product{"Drop-in class", 1500}},
	{14, product{"10-class pass", 12000}},
	{8, product{"5-class pass", 6500}},
	{22, product{"Unlimited Monthly", 11500}},
	{8, product{"Private session", 6500}},
	{6, product{"Full Moon Workshop", 3500}},
	{6, product{"Intro offer: 2 weeks unlimited", 3000}},
	{5, product{"Mat hire", 300}},
	{4, product{"Gift card", 5000}},
	{3, product{"Founding Member Annual", 99000}},
	{4, product{"Sound Bath", 2500}},
}

func (g *gen) payment(id, created int64) {
	p := products.pick(g.r)
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

type plan struct {
	name     string
	price    int64
	interval string
	period   int64 // the interval in seconds, near enough
}

var plans = weighted[plan]{
	{30, plan{"Unlimited Monthly", 11500, "month", 30 * day}},
	{20, plan{"8 Classes a Month", 8900, "month", 30 * day}},
	{12, plan{"Off-Peak Monthly", 6900, "month", 30 * day}},
	{10, plan{"Student Unlimited", 7500, "month", 30 * day}},
	{10, plan{"Weekly Drop-in Bundle", 2800, "week", 7 * day}},
	{8, plan{"Reformer Monthly", 14900, "month", 30 * day}},
	{5, plan{"Founding Member Annual", 99000, "year", 365 * day}},
}

var subStatuses = weighted[string]{{66, "active"}, {9, "paused"}, {7, "past_due"}, {18, "cancelled"}}

func (g *gen) subscription(id, created int64) {
	p := plans.pick(g.r)
	started := g.between(created, g.now-day)
	status := subStatuses.pick(g.r)
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
	g.add(dtSubs, id, p.name, p.price, "GBP", p.interval, status, started, null(renews), null(ended))
}

// weighted is a list to draw from with weights.
type weighted[T any] []struct {
	w int
	v T
}

func (ws weighted[T]) pick(r *rand.Rand) T {
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

// personName is a name as written and as it goes into an email address.
type personName struct {
	text  string
	ascii string
	given string // native-order names only: the given name's romanization
}

type culture struct {
	first, last []personName
	// Full names written family name first in one field (王芳), for
	// customers who type their name in their own script.
	native []personName
}

type cultureList []struct {
	w int
	c *culture
}

func (cs cultureList) pick(r *rand.Rand) *culture {
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

// parseNames parses "José|María|…"; an entry "王芳=wang.fang" gives the
// romanization (family.given) instead of folding.
func parseNames(s string) []personName {
	var out []personName
	for _, e := range strings.Split(s, "|") {
		text, ascii, ok := strings.Cut(e, "=")
		if !ok {
			out = append(out, personName{text: text, ascii: fold(text)})
			continue
		}
		family, given, _ := strings.Cut(ascii, ".")
		out = append(out, personName{text: text, ascii: family, given: given})
	}
	return out
}

func cultureOf(first, last, native string) *culture {
	c := &culture{first: parseNames(first), last: parseNames(last)}
	if native != "" {
		c.native = parseNames(native)
	}
	return c
}

var foldExtra = map[rune]string{'ø': "o", 'ł': "l", 'đ': "d", 'ß': "ss", 'æ': "ae", 'œ': "oe", 'þ': "th", 'ð': "d", 'ı': "i"}

// fold turns a name into the letters people use for it in an email
// address: José → jose, Øyvind → oyvind, O'Brien → obrien, Smith-Jones stays
// hyphenated.
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(strings.ToLower(s)) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		default:
			// Letters NFKD does not decompose; anything else (apostrophes,
			// spaces, other scripts) is dropped.
			b.WriteString(foldExtra[r])
		}
	}
	if b.Len() == 0 {
		return "member"
	}
	return b.String()
}

var cultures = cultureList{
	{38, cultureOf(
		"Oliver|Amelia|George|Isla|Harry|Olivia|Jack|Emily|Charlotte|Thomas|Sophie|James|Lucy|William|Grace|Daniel|Hannah|Samuel|Chloe|Joseph|Ella|Benjamin|Megan|Lily|Alfie|Freya|Rhys|Niamh|Siobhán|Aoife|Ciarán|Seán|Eilidh|Callum|Bethan|Dylan|Zoë|Ann|Tom|Kate|Anne-Marie|Rosie|Poppy|Harriet|Imogen|Oscar|Arthur|Mary-Jane|Gráinne|Mairéad",
		"Smith|Jones|Taylor|Brown|Williams|Wilson|Johnson|Davies|Robinson|Wright|Thompson|Evans|Walker|White|Roberts|Green|Hall|Wood|Jackson|Clarke|O'Brien|O'Connor|Murphy|McCarthy|MacDonald|Fitzgerald|Smith-Jones|Hughes|Campbell|Stewart|Llewellyn|Lee|Ó Súilleabháin|Fraser|Bennett|Cooper-Hale|Price|Ellis|Marshall|Doyle",
		"")},
	{8, cultureOf(
		"José|María|Lucía|Javier|Sofía|Mateo|Carmen|Andrés|Inés|Álvaro|Camila|Martín|Ramón|Begoña|Íñigo",
		"García|Rodríguez|Fernández|López|Martínez|Sánchez|Pérez|Gómez|de la Cruz|Muñoz|Núñez|Ortiz|Castillo|Ibáñez",
		"")},
	{5, cultureOf(
		"Jürgen|Lena|Lukas|Anja|Matthias|Sophie|Jonas|Käthe|Felix|Annelie|Günther|Jörg",
		"Müller|Schäfer|Schröder|Weiß|Köhler|Becker|Hoffmann|Groß|Meyer|Fuchs|Krüger|Schmidt-Rötter",
		"")},
	{4, cultureOf(
		"Øyvind|Åsa|Sigrún|Bjørn|Ingrid|Lars|Maja|Søren|Freja|Linnéa|Sæunn|Ólafur",
		"Hansen|Johansson|Nilsson|Ødegård|Sørensen|Lindqvist|Berg|Åberg|Jóhannsdóttir|Þórsson|Kristiansen",
		"")},
	{4, cultureOf(
		"Łukasz|Małgorzata|Zofia|Wojciech|Agnieszka|Paweł|Katarzyna|Jiří|Tereza|Bożena|Michał",
		"Nowak|Kowalski|Wiśniewska|Wójcik|Dvořák|Novák|Kamińska|Lewandowski|Szymańska|Zieliński|Čapek",
		"")},
	{4, cultureOf(
		"Chloé|Théo|Élodie|Benoît|Camille|Léa|François|Hélène|Noël|Maëlle|Jérôme|Amélie",
		"Dubois|Lefèvre|Moreau|Girard|Rousseau|Fontaine|Mercier|Bérenger|Lemaître|Chevalier",
		"")},
	{4, cultureOf(
		"Giulia|Lorenzo|Francesca|Matteo|Chiara|João|Inês|Gonçalo|Niccolò|Beatriz",
		"Rossi|Bianchi|Esposito|Ricci|Conti|D'Angelo|Silva|Gonçalves|Conceição|De Luca",
		"")},
	{3, cultureOf(
		"Minh Anh|Thảo|Đức|Huy|Linh|Phương|Quang|Ngọc Lan",
		"Nguyễn|Trần|Lê|Phạm|Hoàng|Võ|Đặng",
		"")},
	{4, cultureOf(
		"Wei|Fang|Jing|Hao|Xiu Ying|Li Na|Yu|Mei|Zhi Hao",
		"Wang|Li|Zhang|Liu|Chen|Yang|Huang|Zhou",
		"王芳=wang.fang|李娜=li.na|张伟=zhang.wei|刘洋=liu.yang|陈静=chen.jing|杨帆=yang.fan|黄磊=huang.lei|周杰=zhou.jie|吴敏=wu.min")},
	{3, cultureOf(
		"Yuki|Haruto|Sakura|Ren|Aiko|Min-jun|Ji-woo|Seo-yeon|Hina|Sora",
		"Tanaka|Suzuki|Sato|Watanabe|Kim|Park|Lee|Choi|Yamamoto|Nakamura",
		"田中由紀=tanaka.yuki|佐藤健=sato.ken|김민준=kim.minjun|박서연=park.seoyeon")},
	{7, cultureOf(
		"Priya|Arjun|Aisha|Rohan|Ananya|Imran|Fatima|Sanjay|Deepika|Harpreet|Zara|Aarav|Nadia",
		"Patel|Shah|Singh|Khan|Sharma|Gupta|Begum|Hussain|Chaudhry|Kaur|Iyer|D'Souza",
		"")},
	{5, cultureOf(
		"Chiamaka|Oluwaseun|Kwame|Amara|Tunde|Ngozi|Kofi|Abena|Chidi|Adaeze|Yaw",
		"Okafor|Adeyemi|Mensah|Boateng|Okonkwo|Eze|Asante|Campbell-Brown|Owusu|Adébáyọ̀",
		"")},
	{4, cultureOf(
		"Omar|Layla|Yusuf|Mariam|Zeynep|Emre|Eleni|Dimitris|Selin|Nikos|Yasmin",
		"Haddad|Al-Sayed|Nasser|Yılmaz|Öztürk|Çelik|Papadopoulos|Georgiou|Şahin|Karagiannis",
		"")},
	{3, cultureOf(
		"Daan|Sanne|Pieter|Femke|Anouk|Jeroen",
		"van der Berg|de Vries|Jansen|van Dijk|Bakker|Visser",
		"")},
}

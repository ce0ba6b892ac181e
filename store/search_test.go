package store

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// found reports whether searching q finds customer id, also at every
// keystroke on the way when typing is set (search as you type: each prefix
// of what is typed must keep the customer in the results).
func found(t *testing.T, db *DB, org *Org, id int64, q string, typing bool) {
	t.Helper()
	ctx := context.Background()
	from := len(q)
	if typing {
		from = 1
	}
	for i := from; i <= len(q); i++ {
		rows, err := db.RosterPage(ctx, org.ID, RosterQuery{Search: q[:i], Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(rows, func(r RosterRow) bool { return r.ID == id }) {
			t.Errorf("search %q (typing %q) does not find customer %d", q[:i], q, id)
			return
		}
		n, err := db.RosterMatches(ctx, org.ID, RosterQuery{Search: q[:i]}, 1000)
		if err != nil || n < 1 {
			t.Errorf("RosterMatches(%q) = %d, %v", q[:i], n, err)
		}
	}
}

func notFound(t *testing.T, db *DB, org *Org, id int64, q string) {
	t.Helper()
	rows, err := db.RosterPage(context.Background(), org.ID, RosterQuery{Search: q, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(rows, func(r RosterRow) bool { return r.ID == id }) {
		t.Errorf("search %q finds customer %d, and should not", q, id)
	}
}

func withPhone(t *testing.T, db *DB, org *Org, first, last, phone string) *Customer {
	t.Helper()
	c := &Customer{OrgID: org.ID, FirstName: first, LastName: last, Phone: phone}
	if err := db.Tx(context.Background(), func(tx *Tx) error { return tx.CreateCustomer(context.Background(), c) }); err != nil {
		t.Fatal(err)
	}
	return c
}

func setCountry(t *testing.T, db *DB, org *Org, country string) {
	t.Helper()
	org.Country = country
	if err := db.Tx(context.Background(), func(tx *Tx) error { return tx.UpdateOrg(context.Background(), org) }); err != nil {
		t.Fatal(err)
	}
}

// Phone numbers are found in their national and international forms,
// however they are grouped, as staff type them.
func TestPhoneSearchAcrossForms(t *testing.T) { bothEngines(t, testPhoneSearchAcrossForms) }

func testPhoneSearchAcrossForms(t *testing.T) {
	db, _ := newStoreForTest(t)
	de := mustOrg(t, db, "Berlin Yoga")
	setCountry(t, db, de, "de")
	if de.Country != "DE" {
		t.Fatalf("country stored as %q", de.Country)
	}
	anna := withPhone(t, db, de, "Anna", "Schmidt", "+49 151 62185557")
	other := withPhone(t, db, de, "Otto", "Weber", "+49 30 901820")
	for _, q := range []string{"+49 151 62185557", "0151 62185557", "151-621-85557", "015162185557", "0049 151 62185557", "(0151) 621 855 57", "62185557"} {
		found(t, db, de, anna.ID, q, true)
		notFound(t, db, de, other.ID, q)
	}
	// Written nationally, found internationally.
	berta := withPhone(t, db, de, "Berta", "Klein", "0151 11122233")
	found(t, db, de, berta.ID, "+49 151 111 222 33", true)
	found(t, db, de, berta.ID, "+4915111122233", true)

	gb := mustOrg(t, db, "Harbor Yoga")
	setCountry(t, db, gb, "GB")
	jo := withPhone(t, db, gb, "Jo", "Lee", "(0161) 496 8466")
	for _, q := range []string{"+44 161 496 8466", "0161 496 8466", "01614968466", "161 496 8466", "4968466"} {
		found(t, db, gb, jo.ID, q, true)
	}
	// Another organization's customers stay out of every form.
	notFound(t, db, de, jo.ID, "+44 161 496 8466")
	notFound(t, db, gb, anna.ID, "0151 62185557")
}

// The organization's country is what reads a number written without a
// +code; setting it re-reads the numbers already stored.
func TestPhoneSearchFollowsCountry(t *testing.T) { bothEngines(t, testPhoneSearchFollowsCountry) }

func testPhoneSearchFollowsCountry(t *testing.T) {
	db, _ := newStoreForTest(t)
	org := mustOrg(t, db, "Harbor Yoga")
	jo := withPhone(t, db, org, "Jo", "Lee", "(0161) 496 8466")
	notFound(t, db, org, jo.ID, "+44 161 496 8466")
	found(t, db, org, jo.ID, "0161 496 8466", true)
	setCountry(t, db, org, "GB")
	found(t, db, org, jo.ID, "+44 161 496 8466", true)
	// A customer added afterwards is read the same way.
	sam := withPhone(t, db, org, "Sam", "Lee", "020 7946 0958")
	found(t, db, org, sam.ID, "+44 20 7946 0958", true)
	// And one who edits the number on the web too.
	err := db.Tx(context.Background(), func(tx *Tx) error {
		return tx.UpdateCustomerProfile(context.Background(), org.ID, sam.ID, ProfileUpdate{FirstName: "Sam", LastName: "Lee", Phone: "07700 900123"})
	})
	if err != nil {
		t.Fatal(err)
	}
	found(t, db, org, sam.ID, "+44 7700 900123", true)
	notFound(t, db, org, sam.ID, "020 7946")
}

func TestCheckCountry(t *testing.T) {
	for in, want := range map[string]string{"DE": "DE", " gb ": "GB", "us": "US", "": ""} {
		if got, err := CheckCountry(in); err != nil || got != want {
			t.Errorf("CheckCountry(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, says := range map[string]string{
		"UK":      "the United Kingdom is GB",
		"XX":      `"XX" is not an ISO 3166 country code`,
		"DEU":     "give two letters",
		"Germany": "give two letters",
	} {
		_, err := CheckCountry(in)
		if ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), says) {
			t.Errorf("CheckCountry(%q) = %v, want EINVALID saying %q", in, err, says)
		}
	}
}

// Names are found without their punctuation, as staff type them.
func TestNameSearchWithoutPunctuation(t *testing.T) { bothEngines(t, testNameSearchWithoutPunctuation) }

func testNameSearchWithoutPunctuation(t *testing.T) {
	db, _ := newStoreForTest(t)
	org := mustOrg(t, db, "Harbor Yoga")
	priya := mustCustomer(t, db, org, "Priya", "D'Souza", "")
	sean := mustCustomer(t, db, org, "Seán", "O’Brien", "") // a typographic apostrophe
	jl := mustCustomer(t, db, org, "Jean-Luc", "Picard", "")
	plain := mustCustomer(t, db, org, "Dana", "Souza", "")
	for _, c := range []struct {
		id int64
		q  string
	}{
		{priya.ID, "dsouza"}, {priya.ID, "d'souza"}, {priya.ID, "souza"}, {priya.ID, "priya dsou"},
		{sean.ID, "obrien"}, {sean.ID, "o'brien"}, {sean.ID, "sean obr"},
		{jl.ID, "jean-luc"}, {jl.ID, "jeanluc"}, {jl.ID, "luc"}, {jl.ID, "jeanluc picard"},
	} {
		found(t, db, org, c.id, c.q, true)
	}
	notFound(t, db, org, plain.ID, "dsouza")
	// A name changed on the web is indexed the same way.
	err := db.Tx(context.Background(), func(tx *Tx) error {
		return tx.UpdateCustomerProfile(context.Background(), org.ID, plain.ID, ProfileUpdate{FirstName: "Dana", LastName: "D'Arcy"})
	})
	if err != nil {
		t.Fatal(err)
	}
	found(t, db, org, plain.ID, "darcy", true)
}

func TestPhoneKeys(t *testing.T) {
	for _, c := range []struct {
		phone, country string
		has, hasNot    []string
	}{
		{"", "", nil, nil},
		{"0142", "", []string{"0142", "014"}, nil},
		{"+1 555-0142", "", []string{"15550142", "5550142", "155", "1555"}, nil},
		{"(020) 7946 0958", "", []string{"02079460958", "79460958", "0958", "095"}, []string{"442079460958"}},
		{"(020) 7946 0958", "GB", []string{"442079460958", "2079460958", "02079460958", "442", "4420", "44207"}, []string{"442079", "4420794"}},
		{"+49 151 62185557", "", []string{"4915162185557", "15162185557", "015162185557", "0151", "15162"}, nil},
		{"ext. none", "", nil, nil},
	} {
		got := PhoneKeys(c.phone, c.country)
		if !strings.HasPrefix(got, c.phone) {
			t.Errorf("PhoneKeys(%q, %q) = %q, want the number as written first", c.phone, c.country, got)
		}
		words := strings.Fields(got)
		for _, k := range c.has {
			if !slices.Contains(words, k) {
				t.Errorf("PhoneKeys(%q, %q) = %q, want key %s", c.phone, c.country, got, k)
			}
		}
		for _, k := range c.hasNot {
			if slices.Contains(words, k) {
				t.Errorf("PhoneKeys(%q, %q) = %q, want no key %s", c.phone, c.country, got, k)
			}
		}
	}
}

// Migration 0017 rebuilds the keys of customers stored before it: their
// names without punctuation and their numbers in other forms are found.
func TestMigrationRebuildsSearchKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "frontdesk.db")
	old, err := open(path, Options{}, 13)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var orgID, id int64
	err = old.Tx(ctx, func(tx *Tx) error {
		if err := tx.tx.QueryRowContext(ctx, `INSERT INTO orgs (name, slug, created_at) VALUES ('Harbor Yoga', 'harbor-yoga', 0) RETURNING id`).Scan(&orgID); err != nil {
			return err
		}
		// As the version before wrote a customer: phone keys of digit runs only.
		return tx.tx.QueryRowContext(ctx, `INSERT INTO customers (org_id, first_name, last_name, sort_name, email, phone, phone_keys, created_at, updated_at, state)
			VALUES (?, 'Priya', 'D''Souza', 'priya d''souza', '', '+49 151 62185557', '+49 151 62185557 4915162185557 15162185557', 0, 0, 'no_email') RETURNING id`, orgID).Scan(&id)
	})
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	org, err := db.Org(ctx, orgID)
	if err != nil {
		t.Fatal(err)
	}
	found(t, db, org, id, "dsouza", true)
	found(t, db, org, id, "0151 62185557", true)
}

// Migration 0017's Go step, on either engine, rebuilds stale keys and the
// search index or documents with them (on PostgreSQL the migration cannot
// be opened half-way: its twin comes with the baseline).
func TestSearchKeysStepRebuildsStaleKeys(t *testing.T) {
	bothEngines(t, testSearchKeysStepRebuildsStaleKeys)
}

func testSearchKeysStepRebuildsStaleKeys(t *testing.T) {
	db, _ := newStoreForTest(t)
	ctx := context.Background()
	org := mustOrg(t, db, "Harbor Yoga")
	var id int64
	err := db.Tx(ctx, func(tx *Tx) error {
		// As the version before 0017 wrote a customer: no name keys, phone
		// keys of digit runs only.
		var err error
		id, err = tx.insert(ctx, `INSERT INTO customers (org_id, first_name, last_name, sort_name, email, phone, phone_keys, created_at, updated_at, state)
			VALUES (?, 'Priya', 'D''Souza', 'priya d''souza', '', '+49 151 62185557', '+49 151 62185557 4915162185557 15162185557', 0, 0, 'no_email')`, org.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	notFound(t, db, org, id, "dsouza")
	notFound(t, db, org, id, "0151 62185557")
	if err := db.Tx(ctx, func(tx *Tx) error { return rebuildAllSearchKeys(ctx, db, tx) }); err != nil {
		t.Fatal(err)
	}
	found(t, db, org, id, "dsouza", true)
	found(t, db, org, id, "0151 62185557", true)
	// The triggers it set aside are back: an edit is searchable again.
	if err := db.Tx(ctx, func(tx *Tx) error {
		return tx.UpdateCustomer(ctx, org.ID, id, CustomerUpdate{LastName: ptr("O'Neil")})
	}); err != nil {
		t.Fatal(err)
	}
	found(t, db, org, id, "oneil", true)
}

// A country change in one organization re-indexes its customers, a few of
// them row by row when they are a small part of the index, and leaves the
// other organizations' search as it was.
func TestCountryChangeKeepsOtherOrganizations(t *testing.T) {
	bothEngines(t, testCountryChangeKeepsOtherOrganizations)
}

func testCountryChangeKeepsOtherOrganizations(t *testing.T) {
	db, _ := newStoreForTest(t)
	big := mustOrg(t, db, "Big Gym")
	var theirs []*Customer
	for i := range 12 {
		theirs = append(theirs, withPhone(t, db, big, "Member", "Nr"+string(rune('a'+i)), "+44 20 7946 09"+string(rune('0'+i%10))+"1"))
	}
	small := mustOrg(t, db, "Small Studio")
	jo := withPhone(t, db, small, "Jo", "O'Neil", "(0161) 496 8466")
	setCountry(t, db, small, "GB")
	found(t, db, small, jo.ID, "+44 161 496 8466", true)
	found(t, db, small, jo.ID, "oneil", true)
	for _, c := range theirs {
		found(t, db, big, c.ID, c.Phone, true)
		found(t, db, big, c.ID, "0"+strings.TrimPrefix(c.Phone, "+44 "), false)
	}
	var n int
	if err := db.queryRow(context.Background(), `SELECT count(*) FROM `+db.d.search.page("", "ASC"), db.d.search.args(db.d.search.query("4420"), nil)...).Scan(&n); err != nil || n != len(theirs) {
		t.Errorf("index rows for 4420: %d, %v", n, err)
	}
}

// A country change re-reads every number of the organization: screens that
// show its roster hear of it once, as one change of all its customers, not
// once per customer, and a later edit is a change of its own again (the
// rebuild puts the change log's trigger back).
func TestCountryChangeIsOneChange(t *testing.T) { bothEngines(t, testCountryChangeIsOneChange) }

func testCountryChangeIsOneChange(t *testing.T) {
	db, _ := newStoreForTest(t)
	ctx := context.Background()
	org := mustOrg(t, db, "Big Gym")
	var last *Customer
	for i := range 20 {
		last = withPhone(t, db, org, "Member", "Nr"+string(rune('a'+i)), "020 7946 09"+string(rune('0'+i%10))+"1")
	}
	changes, cancel := db.Subscribe(org.ID)
	defer cancel()
	count := func() (n int) {
		if err := db.queryRow(ctx, `SELECT count(*) FROM changes WHERE org_id = ?`, org.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	setCountry(t, db, org, "GB")
	found(t, db, org, last.ID, "+44 "+strings.TrimPrefix(last.Phone, "0"), false)
	if n := count() - before; n != 2 {
		t.Errorf("a country change over 20 customers logged %d changes; want 2 (the settings, and all its customers at once)", n)
	}
	deadline := time.After(10 * time.Second)
	for roster := false; !roster; {
		select {
		case batch := <-changes:
			for _, c := range batch {
				roster = roster || (c.ConcernsRoster() && c.CustomerID == 0)
			}
		case <-deadline:
			t.Fatal("no roster change reached a subscriber after the country change")
		}
	}
	before = count()
	if err := db.Tx(ctx, func(tx *Tx) error {
		return tx.UpdateCustomerProfile(ctx, org.ID, last.ID, ProfileUpdate{FirstName: "Renamed", LastName: last.LastName, Phone: last.Phone})
	}); err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := db.queryRow(ctx, `SELECT customer_id FROM changes WHERE org_id = ? ORDER BY seq DESC LIMIT 1`, org.ID).Scan(&id); err != nil || id != last.ID || count() == before {
		t.Errorf("an edit after the rebuild logged no change of its customer (last change's customer %d, %v)", id, err)
	}
}

// PostgreSQL keeps the search's words (migration 0024) by triggers on the
// documents, whatever writes them: after a new customer, an edit, an
// archive, a country change's rebuild, the bulk-load door's load and its
// delete, the words are exactly the maximal words of the documents. A word
// missing is a customer search cannot find; a word left over is a
// candidate every later search reads and throws away.
func TestSearchWordsFollowTheDocuments(t *testing.T) {
	t.Run(string(Postgres), func(t *testing.T) {
		db, _ := newStoreForTest(t)
		ctx := context.Background()
		org := mustOrg(t, db, "Harbor Yoga")
		check := func(after string) {
			t.Helper()
			var missing, extra int
			if err := db.queryRow(ctx, `WITH want AS (SELECT w AS word, s.id FROM customers_search s, customers_search_words(s.doc) AS w)
				SELECT (SELECT count(*) FROM (SELECT * FROM want EXCEPT SELECT word, id FROM customers_search_words) m),
					(SELECT count(*) FROM (SELECT word, id FROM customers_search_words EXCEPT SELECT * FROM want) e)`).Scan(&missing, &extra); err != nil {
				t.Fatal(err)
			}
			if missing != 0 || extra != 0 {
				t.Errorf("after %s: %d words missing, %d left over", after, missing, extra)
			}
		}
		jo := withPhone(t, db, org, "Jo", "O'Neil", "020 7946 0958")
		mustCustomer(t, db, org, "Maria", "Lee", "maria.lee@example.com")
		check("adding customers")
		if err := db.Tx(ctx, func(tx *Tx) error {
			return tx.UpdateCustomer(ctx, org.ID, jo.ID, CustomerUpdate{LastName: ptr("Brennan"), Phone: ptr("0161 496 8466")})
		}); err != nil {
			t.Fatal(err)
		}
		check("an edit")
		found(t, db, org, jo.ID, "brennan", true)
		notFound(t, db, org, jo.ID, "oneil")
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.ArchiveCustomer(ctx, org.ID, jo.ID) }); err != nil {
			t.Fatal(err)
		}
		check("archiving")
		setCountry(t, db, org, "GB")
		check("a country change")
		now := db.Now().Unix()
		// In COPYs of 7 rows: the documents are made COPY by COPY
		// (pgBulkEachCopy), the last of them short.
		defer func(n int) { pgCopyRows = n }(pgCopyRows)
		pgCopyRows = 7
		if err := bulkLoadCustomers(db, 30, func(id int64) []any {
			return bulkCustomerRow(id, org.ID, "Zoë", fmt.Sprint("Nguyen ", id), "", StateNoEmail, now)
		}); err != nil {
			t.Fatal(err)
		}
		check("a bulk load")
		if n := queryInt(t, db, `SELECT count(*) FROM customers c WHERE NOT EXISTS (SELECT 1 FROM customers_search s WHERE s.id = c.id)`); n != 0 {
			t.Errorf("after a bulk load in COPYs of 7, %d customers have no search document", n)
		}
		if n, err := db.RosterMatches(ctx, org.ID, RosterQuery{Search: "zoe ngu"}, 1000); err != nil || n != 30 {
			t.Errorf("after a bulk load of 30, %q matches %d (%v)", "zoe ngu", n, err)
		}
		if err := db.BulkLoad(ctx, func(l *BulkLoader) error { return l.DeleteCustomers(ctx, org.ID) }); err != nil {
			t.Fatal(err)
		}
		check("deleting the organization's customers")
	})
}

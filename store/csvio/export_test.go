package csvio

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"testing"

	"frontdesk/store"
)

func export(t testing.TB, db *store.DB, org *store.Org) (string, int) {
	t.Helper()
	var b bytes.Buffer
	n, err := Export(context.Background(), db, org, &b, ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return b.String(), n
}

// Round trip: customers made through the store, with every awkward value a
// roster can hold, exported, imported into a fresh organization and exported
// again come out the same.
func TestExportImportRoundTrip(t *testing.T) {
	db, org := newDB(t)
	ctx := context.Background()
	other := newOrg(t, db, "Other Studio")
	people := []store.Customer{
		{FirstName: "Jane", LastName: "Doe", Email: "Jane.Doe@Example.com", Phone: "+1 (555) 014-2",
			Fields: []store.Field{{Name: "Notes, private", Value: "likes mornings,\nhates \"Mondays\""}, {Name: "Level", Value: "Gold"}}},
		{FirstName: "Zoë", LastName: "Ångström-Ørsted", Email: "zoe@bücher.example", Phone: "07700 900123",
			Fields: []store.Field{{Name: "Level", Value: " padded "}, {Name: `Say "hi"`, Value: "\t tab first"}}},
		{FirstName: `"Quoted"`, LastName: "Smith, Jr.", Phone: "=1+2",
			Fields: []store.Field{{Name: "Notes, private", Value: "=HYPERLINK(\"http://evil.example\")"}, {Name: "Level", Value: `\.`}}},
		{FirstName: "O'Neil", Email: "oneil@example.com", Fields: []store.Field{{Name: "Level", Value: "-5"}, {Name: "Empty everywhere", Value: ""}}},
		{LastName: "@Only", Email: "only@example.com", Phone: "+44 20 7946 0958", Fields: []store.Field{{Name: "Level", Value: "a\rb"}}},
		{FirstName: "🧘 Yogi", LastName: "Bear", Email: "yogi+class@example.co.uk"},
	}
	create := func(o *store.Org, c store.Customer) *store.Customer {
		c.OrgID = o.ID
		if err := db.Tx(ctx, func(tx *store.Tx) error { return tx.CreateCustomer(ctx, &c) }); err != nil {
			t.Fatal(err)
		}
		return &c
	}
	create(other, store.Customer{FirstName: "Not", LastName: "Mine", Email: "jane.doe@example.com"})
	for i, p := range people {
		create(org, p)
		if i == 2 {
			gone := create(org, store.Customer{FirstName: "Archived", LastName: "Person", Email: "gone@example.com"})
			if err := db.Tx(ctx, func(tx *store.Tx) error { return tx.ArchiveCustomer(ctx, org.ID, gone.ID) }); err != nil {
				t.Fatal(err)
			}
			create(other, store.Customer{FirstName: "Also", LastName: "Not mine"})
		}
	}

	first, n := export(t, db, org)
	if n != len(people) {
		t.Errorf("exported %d customers, want %d", n, len(people))
	}
	header, _, _ := strings.Cut(first, "\n")
	if want := `first_name,last_name,email,phone,"Notes, private",Level,"Say ""hi""",Empty everywhere`; header != want {
		t.Errorf("header = %s\nwant     %s", header, want)
	}
	for _, s := range []string{"Archived", "Not mine", "Mine"} {
		if strings.Contains(first, s) {
			t.Errorf("export contains %q:\n%s", s, first)
		}
	}
	// Formula-looking values are neutralized with a leading quote (see
	// Export), and the import below takes it off again.
	for _, cell := range []string{`"'=HYPERLINK(""http://evil.example"")"`, `'=1+2`, `'-5`, `'@Only`, `'+44 20 7946 0958`, "'\t tab first"} {
		if !strings.Contains(first, cell) {
			t.Errorf("export lacks the neutralized cell %s:\n%s", cell, first)
		}
	}

	fresh := newOrg(t, db, "Fresh Studio")
	rep, err := Import(ctx, db, fresh, strings.NewReader(first), ImportOptions{})
	if err != nil || rep.Imported != len(people) {
		t.Fatalf("re-import: %+v, %v", rep, err)
	}
	second, _ := export(t, db, fresh)
	if second != first {
		t.Errorf("round trip changed the export:\n%s\n---\n%s", first, second)
	}

	// And customer by customer, through the store.
	rows, err := db.RosterPage(ctx, fresh.ID, store.RosterQuery{Limit: 100})
	if err != nil || len(rows) != len(people) {
		t.Fatalf("roster: %d rows, %v", len(rows), err)
	}
	byName := map[string]*store.Customer{}
	for _, r := range rows {
		c, err := db.Customer(ctx, fresh.ID, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		byName[c.Name()] = c
	}
	for _, p := range people {
		got := byName[p.Name()]
		if got == nil {
			t.Errorf("%s missing after the round trip", p.Name())
			continue
		}
		if got.FirstName != p.FirstName || got.LastName != p.LastName || got.Email != p.Email || got.Phone != p.Phone {
			t.Errorf("round trip: got %q %q %q %q, want %q %q %q %q", got.FirstName, got.LastName, got.Email, got.Phone, p.FirstName, p.LastName, p.Email, p.Phone)
		}
		want := map[string]string{}
		for _, f := range p.Fields {
			if f.Value != "" {
				want[f.Name] = f.Value
			}
		}
		if g := fieldMap(got); fmt.Sprint(g) != fmt.Sprint(want) {
			t.Errorf("%s's fields: got %q, want %q", p.Name(), g, want)
		}
	}
}

// CSV injection (OWASP): a cell a spreadsheet would run as a formula, one
// starting with = + - @ tab or CR, is exported behind a single quote, and so
// is one that starts with a quote, so that import can take exactly one
// quote off and every value comes back as it was.
func TestExportNeutralizesFormulas(t *testing.T) {
	db, org := newDB(t)
	ctx := context.Background()
	values := []string{
		`=HYPERLINK("http://x","y")`, "+1 555 0100", "-2+3", "@SUM(A1:A9)", "\tcmd", "\rcmd",
		"'hello", "'", "''", "'=already quoted", "plain", "a=b", "",
	}
	fields := make([]store.Field, len(values))
	for i, v := range values {
		fields[i] = store.Field{Name: fmt.Sprintf("f%02d", i), Value: v}
	}
	people := []*store.Customer{
		{OrgID: org.ID, FirstName: `=HYPERLINK("http://x","y")`, LastName: "'hello", Phone: "+44 20 7946 0958", Fields: fields},
		{OrgID: org.ID, FirstName: "-Dash", LastName: "@At", Email: "-dash@example.com", Phone: "'0142"},
	}
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		for _, c := range people {
			if err := tx.CreateCustomer(ctx, c); err != nil {
				return err
			}
		}
		// A custom field's name is a header cell like any other.
		return tx.CreateCustomer(ctx, &store.Customer{OrgID: org.ID, FirstName: "Fields", Fields: []store.Field{{Name: "=cmd|' /C calc'!A0", Value: "x"}}})
	}); err != nil {
		t.Fatal(err)
	}
	out, _ := export(t, db, org)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, rec := range recs {
		for j, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("row %d column %d starts a formula: %q", i+1, j+1, cell)
			}
		}
	}
	if !strings.Contains(out, `"'=HYPERLINK(""http://x"",""y"")"`) || !strings.Contains(out, ",'-dash@example.com,") || !strings.Contains(out, `'=cmd|' /C calc'!A0`) {
		t.Errorf("export:\n%s", out)
	}

	fresh := newOrg(t, db, "Fresh Studio")
	if rep, err := Import(ctx, db, fresh, strings.NewReader(out), ImportOptions{}); err != nil || rep.Imported != 3 {
		t.Fatalf("re-import: %+v, %v", rep, err)
	}
	if again, _ := export(t, db, fresh); again != out {
		t.Errorf("round trip changed the export:\n%s\n---\n%s", out, again)
	}
	got := customerByEmail(t, db, fresh, "-dash@example.com")
	if got.FirstName != "-Dash" || got.LastName != "@At" || got.Phone != "'0142" {
		t.Errorf("imported back as %q %q %q", got.FirstName, got.LastName, got.Phone)
	}
	rows, _ := db.RosterPage(ctx, fresh.ID, store.RosterQuery{Search: "hello", Limit: 5})
	if len(rows) != 1 {
		t.Fatalf("search 'hello: %d rows", len(rows))
	}
	first, _ := db.Customer(ctx, fresh.ID, rows[0].ID)
	if first.FirstName != `=HYPERLINK("http://x","y")` || first.LastName != "'hello" || first.Phone != "+44 20 7946 0958" {
		t.Errorf("imported back as %q %q %q", first.FirstName, first.LastName, first.Phone)
	}
	m := fieldMap(first)
	for i, v := range values {
		if m[fmt.Sprintf("f%02d", i)] != v {
			t.Errorf("field %d: imported back as %q, want %q", i, m[fmt.Sprintf("f%02d", i)], v)
		}
	}
}

// A hand-written file may quote a formula the same way: the import takes
// one quote off only before a formula character or another quote, so an
// apostrophe that begins a value is kept.
func TestImportUndoesOneFormulaQuote(t *testing.T) {
	db, org := newDB(t)
	rep, err := importString(t, db, org, "first_name,last_name,phone,Notes\n"+
		"'=Ann,'hello,'+44 20 7946 0958,''quoted\n"+
		"'Bob,O'Neil,0142,'\n", ImportOptions{})
	if err != nil || rep.Imported != 2 {
		t.Fatalf("import: %+v, %v", rep, err)
	}
	rows, _ := db.RosterPage(context.Background(), org.ID, store.RosterQuery{Limit: 5})
	got := map[string]*store.Customer{}
	for _, r := range rows {
		c, _ := db.Customer(context.Background(), org.ID, r.ID)
		got[c.FirstName] = c
	}
	if c := got["=Ann"]; c == nil || c.LastName != "'hello" || c.Phone != "+44 20 7946 0958" || fieldMap(c)["Notes"] != "'quoted" {
		t.Errorf("first row: %+v", c)
	}
	if c := got["'Bob"]; c == nil || c.LastName != "O'Neil" || fieldMap(c)["Notes"] != "'" {
		t.Errorf("second row: %+v", c)
	}
}

// Paging: more than one page, other organizations' and archived customers
// in between, and the output is exactly what genCSV writes (id order).
func TestExportPagesInIDOrder(t *testing.T) {
	db, org := newDB(t)
	ctx := context.Background()
	other := newOrg(t, db, "Other Studio")
	split := store.ExportPageSize + 37
	total := 2*store.ExportPageSize + 101
	if _, err := Import(ctx, db, other, bytes.NewReader(genCSVRange(0, 300)), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Import(ctx, db, org, bytes.NewReader(genCSVRange(0, split)), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	gone := &store.Customer{OrgID: org.ID, FirstName: "Archived", Email: "gone@example.com", Fields: []store.Field{{Name: "Membership", Value: "Gold"}}}
	if err := db.Tx(ctx, func(tx *store.Tx) error { return tx.CreateCustomer(ctx, gone) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Tx(ctx, func(tx *store.Tx) error { return tx.ArchiveCustomer(ctx, org.ID, gone.ID) }); err != nil {
		t.Fatal(err)
	}
	if _, err := Import(ctx, db, other, bytes.NewReader(genCSVRange(300, 1500)), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Import(ctx, db, org, bytes.NewReader(genCSVRange(split, total)), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	got, n := export(t, db, org)
	if n != total {
		t.Errorf("exported %d, want %d", n, total)
	}
	if want := string(genCSV(total)); got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("line %d: got %q, want %q (lines %d vs %d)", i+1, gl[i], wl[i], len(gl), len(wl))
			}
		}
		t.Fatalf("got %d lines, want %d", len(gl), len(wl))
	}
}

func TestExportEmptyOrg(t *testing.T) {
	db, org := newDB(t)
	got, n := export(t, db, org)
	if n != 0 || got != "first_name,last_name,email,phone\n" {
		t.Errorf("empty export = %d, %q", n, got)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestExportWriteError(t *testing.T) {
	db, org := newDB(t)
	if _, err := Import(context.Background(), db, org, bytes.NewReader(genCSV(3000)), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Export(context.Background(), db, org, failingWriter{}, ExportOptions{}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("err = %v", err)
	}
}

package csvio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"

	"frontdesk/store"
)

// snapshot is what an import could change; "nothing written" means it is
// the same afterwards.
type snapshot struct {
	customers int
	fields    string
	audit     int
}

func snap(t testing.TB, db *store.DB, org *store.Org) snapshot {
	t.Helper()
	ctx := context.Background()
	counts, err := db.RosterCounts(ctx, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	var s snapshot
	for _, n := range counts {
		s.customers += n
	}
	names, err := db.CustomFieldNames(ctx, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	s.fields = strings.Join(names, "|")
	log, err := db.AuditLog(ctx, org.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	s.audit = len(log)
	return s
}

func importString(t testing.TB, db *store.DB, org *store.Org, csv string, opt ImportOptions) (*Report, error) {
	t.Helper()
	return Import(context.Background(), db, org, strings.NewReader(csv), opt)
}

func customerByEmail(t testing.TB, db *store.DB, org *store.Org, email string) *store.Customer {
	t.Helper()
	c, err := db.CustomerByEmail(context.Background(), org.ID, email)
	if err != nil {
		t.Fatalf("customer %s: %v", email, err)
	}
	return c
}

func fieldMap(c *store.Customer) map[string]string {
	m := map[string]string{}
	for _, f := range c.Fields {
		m[f.Name] = f.Value
	}
	return m
}

func TestImportHappyPath(t *testing.T) {
	db, org := newDB(t)
	ctx := context.Background()
	const file = "First_Name , LAST_NAME,Email,phone,Membership level,Notes\n" +
		"Jane,Doe, Jane.Doe@Example.com ,+1 (555) 014-2,Gold,\"likes mornings, hates Mondays\"\n" +
		"Ann,Lee,,,,\n" +
		"Zoë,Ångström,zoe@example.org,07700 900123,,\"two\nlines\"\n"
	var progress [][2]int
	rep, err := importString(t, db, org, file, ImportOptions{
		Actor:    store.SystemActor("tester"),
		Source:   "members.csv",
		Progress: func(done, total int) { progress = append(progress, [2]int{done, total}) },
	})
	if err != nil {
		t.Fatalf("import: %v (%+v)", err, rep)
	}
	if rep.Rows != 3 || rep.Imported != 3 || rep.Skipped != 0 || len(rep.Problems) != 0 {
		t.Fatalf("report = %+v", rep)
	}
	if len(progress) == 0 || progress[len(progress)-1] != [2]int{3, 3} {
		t.Errorf("progress calls = %v, want the last to be {3 3}", progress)
	}

	names, _ := db.CustomFieldNames(ctx, org.ID)
	if !slices.Equal(names, []string{"Membership level", "Notes"}) {
		t.Errorf("custom fields = %q", names)
	}
	jane := customerByEmail(t, db, org, "jane.doe@example.com")
	if jane.FirstName != "Jane" || jane.LastName != "Doe" || jane.Email != "Jane.Doe@Example.com" || jane.Phone != "+1 (555) 014-2" {
		t.Errorf("jane = %+v", jane)
	}
	if jane.Status != store.StatusNotInvited || !jane.CreatedAt.Equal(db.Now()) {
		t.Errorf("jane status %s created %v", jane.Status, jane.CreatedAt)
	}
	if got := fieldMap(jane); got["Membership level"] != "Gold" || got["Notes"] != "likes mornings, hates Mondays" {
		t.Errorf("jane's fields = %v", got)
	}
	zoe := customerByEmail(t, db, org, "zoe@example.org")
	if got := fieldMap(zoe); got["Notes"] != "two\nlines" || len(got) != 1 {
		t.Errorf("zoë's fields = %v", got)
	}

	// Ann has no email, so the "No email" status; search finds people by
	// name and by the digits of their phone (sort_name and phone_keys).
	counts, _ := db.RosterCounts(ctx, org.ID)
	if counts[store.StatusNoEmail] != 1 || counts[store.StatusNotInvited] != 2 {
		t.Errorf("counts = %v", counts)
	}
	for q, want := range map[string]string{"0142": "Jane Doe", "5550142": "Jane Doe", "ångström": "Zoë Ångström", "lee": "Ann Lee"} {
		rows, err := db.RosterPage(ctx, org.ID, store.RosterQuery{Search: q, Limit: 10})
		if err != nil || len(rows) != 1 || rows[0].Name() != want {
			t.Errorf("search %q = %v, %v; want %s", q, rows, err, want)
		}
	}
	rows, _ := db.RosterPage(ctx, org.ID, store.RosterQuery{Limit: 10})
	var order []string
	for _, r := range rows {
		order = append(order, r.Name())
	}
	if !slices.Equal(order, []string{"Ann Lee", "Jane Doe", "Zoë Ångström"}) {
		t.Errorf("roster order = %q", order)
	}

	log, _ := db.AuditLog(ctx, org.ID, 0, 10)
	if len(log) != 1 || log[0].Action != "customers.import" || log[0].Detail != "imported 3 customers from members.csv" || log[0].Actor.Name != "tester" {
		t.Errorf("audit = %+v", log)
	}
}

// Joiners stay where a script or an emoji needs them, and a notes column
// keeps its lines and tabs: the text rule refuses lookalikes, not languages.
func TestImportAcceptsJoinersWhereNeeded(t *testing.T) {
	db, org := newDB(t)
	const file = "first_name,last_name,email,Notes\n" +
		"می‌خواهم,کتاب‌ها,persian@example.com,\"line one\n\tline two\"\n" +
		"क्‍षितिज,Rao,devanagari@example.com,\n" +
		"👨‍👩‍👧,Family,family@example.com,\n"
	rep, err := importString(t, db, org, file, ImportOptions{})
	if err != nil || rep.Imported != 3 {
		t.Fatalf("import: %+v, %v", rep, err)
	}
	p := customerByEmail(t, db, org, "persian@example.com")
	if p.FirstName != "می‌خواهم" || fieldMap(p)["Notes"] != "line one\n\tline two" {
		t.Errorf("stored %q, %q", p.FirstName, fieldMap(p)["Notes"])
	}
	if d := customerByEmail(t, db, org, "devanagari@example.com"); d.FirstName != "क्‍षितिज" {
		t.Errorf("stored %q", d.FirstName)
	}
}

func TestImportBOMAndCRLF(t *testing.T) {
	db, org := newDB(t)
	file := "\ufeff\"first_name\",last_name,email,Notes\r\nJane,Doe,jane@example.com,\r\n\r\n\"Ann\",\"Lee\",ann@example.com,\"two\r\nlines\"\r\n"
	rep, err := importString(t, db, org, file, ImportOptions{})
	if err != nil || rep.Imported != 2 {
		t.Fatalf("import = %+v, %v", rep, err)
	}
	ann := customerByEmail(t, db, org, "ann@example.com")
	// A CRLF inside a quoted value is read as LF, as encoding/csv does.
	if got := fieldMap(ann)["Notes"]; ann.LastName != "Lee" || got != "two\nlines" {
		t.Errorf("ann = %q, notes %q", ann.LastName, got)
	}
	if names, _ := db.CustomFieldNames(context.Background(), org.ID); !slices.Equal(names, []string{"Notes"}) {
		t.Errorf("fields = %q (the BOM must not stick to a column name)", names)
	}

	// Line numbers stay physical with CRLF endings, blank lines and values
	// spanning lines.
	file = "first_name,email,Notes\r\n\r\nA,a@example.com,\r\nB,b@example.com,\"x\r\ny\"\r\n\r\nC,not-an-email,\r\n"
	rep, err = importString(t, db, org, file, ImportOptions{})
	if err == nil || len(rep.Problems) != 1 || rep.Problems[0].Line != 7 {
		t.Fatalf("report = %+v, %v; want one problem on line 7", rep, err)
	}
}

func TestImportRefusesBadFiles(t *testing.T) {
	cases := []struct {
		name     string
		file     string
		line     int
		contains string
	}{
		{"bare quote", "first_name,last_name,email\nAnn,Lee,ann@example.com\nBob,O\"Neil,bob@example.com\n", 3, `a quote (") appears in the last_name column`},
		{"text after closing quote", "first_name,last_name\nAnn,\"Lee\"x\n", 2, "is not closed properly"},
		{"unclosed quote", "first_name,last_name\nAnn,Lee\nBob,\"Neil\nCy,Doe\n", 3, "a closing quote is probably missing"},
		{"too many values", "first_name,last_name,email\nAnn,Lee,ann@example.com,extra\n", 2, "has 4 values but the header has 3"},
		{"too few values", "first_name,last_name,email\nAnn,Lee,ann@example.com\nBob\n", 3, "has 1 value but the header has 3"},
		{"invalid UTF-8", "first_name,last_name,email\nAnn,Lee,ann@example.com\nJos\xe9,Lee,jose@example.com\n", 3, "the first_name value is not valid UTF-8"},
		{"NUL byte", "first_name,last_name\nAnn,L\x00ee\n", 2, "NUL byte"},
		{"duplicate in file", "first_name,email\nAnn,ann@example.com\nBob,bob@example.com\nAnnie,ANN@example.com\n", 4, "email ANN@example.com is also on line 2"},
		{"duplicate on roster", "first_name,email\nAnn,ann@example.com\nBob,ROSTER@example.com\n", 3, "email ROSTER@example.com already belongs to Rosa Ster"},
		{"duplicate on roster, archived", "first_name,email\nAnn,archived@example.com\n", 2, "already belongs to Archie Ved (archived)"},
		{"invalid email", "first_name,email\nAnn,ann@example\n", 2, `email domain "example" has no dot (did you mean example.com?): "ann@example"`},
		{"no name", "first_name,last_name,email\n , ,ann@example.com\n", 2, "has no first or last name"},
		{"escape in name", "first_name,last_name\nAnn,\x1b[2JLee\n", 2, "name contains a control character"},
		{"C1 in phone", "first_name,phone\nAnn,555\u009b1\n", 2, "phone contains a control character"},
		// The one text rule (store.CheckText), cell by cell, with its caps.
		{"zero-width space in name", "first_name,last_name\nAnn,Lee\nBob,Ch\u200ben\n", 3, "last_name contains an invisible character (U+200B); remove it"},
		{"bidi override in name", "first_name,last_name\nAnn,\u202eeeL\n", 2, "last_name contains an invisible character (U+202E)"},
		{"ZWJ between Latin letters", "first_name\nJa\u200dne\n", 2, "first_name contains an invisible character (U+200D)"},
		{"line break in name", "first_name,last_name\nAnn,\"Lee\nJr\"\n", 2, "last_name contains a line break"},
		{"name too long", "first_name\n" + strings.Repeat("é", store.MaxNameLen+1) + "\n", 2, "first_name is too long (101 characters); use at most 100"},
		{"phone too long", "first_name,phone\nAnn," + strings.Repeat("1", store.MaxPhoneLen+1) + "\n", 2, "phone is too long"},
		{"escape in custom value", "first_name,Notes\nAnn,\"hi\x1b[2J\"\n", 2, "Notes contains a control character (U+001B)"},
		{"zero-width in custom value", "first_name,Level\nAnn,Go\u200bld\n", 2, "Level contains an invisible character (U+200B)"},
		{"custom value too long", "first_name,Notes\nAnn," + strings.Repeat("n", store.MaxFieldLen+1) + "\n", 2, "Notes is too long (501 characters); use at most 500"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db, org := newDB(t)
			ctx := context.Background()
			rosa := &store.Customer{OrgID: org.ID, FirstName: "Rosa", LastName: "Ster", Email: "roster@example.com"}
			archie := &store.Customer{OrgID: org.ID, FirstName: "Archie", LastName: "Ved", Email: "archived@example.com"}
			for _, c := range []*store.Customer{rosa, archie} {
				if err := db.Tx(ctx, func(tx *store.Tx) error { return tx.CreateCustomer(ctx, c) }); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Tx(ctx, func(tx *store.Tx) error { return tx.ArchiveCustomer(ctx, org.ID, archie.ID) }); err != nil {
				t.Fatal(err)
			}
			before := snap(t, db, org)
			for _, dry := range []bool{true, false} {
				rep, err := importString(t, db, org, tc.file, ImportOptions{DryRun: dry})
				if store.ErrorCode(err) != store.EINVALID {
					t.Fatalf("dry run %v: err = %v, want EINVALID", dry, err)
				}
				if rep.Imported != 0 || len(rep.Problems) == 0 {
					t.Fatalf("dry run %v: report = %+v", dry, rep)
				}
				p := rep.Problems[0]
				if p.Line != tc.line || !strings.Contains(p.Reason, tc.contains) {
					t.Errorf("dry run %v: problem = line %d: %s\nwant line %d containing %q", dry, p.Line, p.Reason, tc.line, tc.contains)
				}
				if !strings.Contains(err.Error(), fmt.Sprintf("line %d:", tc.line)) {
					t.Errorf("error %q does not name line %d", err, tc.line)
				}
				if after := snap(t, db, org); after != before {
					t.Errorf("dry run %v wrote something: %+v → %+v", dry, before, after)
				}
			}
		})
	}
}

// repeatReader is n bytes of b, without holding them.
type repeatReader struct {
	b byte
	n int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.n)
	for i := range p[:n] {
		p[i] = r.b
	}
	r.n -= n
	return n, nil
}

func TestImportLongLines(t *testing.T) {
	cases := []struct {
		name     string
		r        io.Reader
		line     int
		contains string
	}{
		{"10 MB line", io.MultiReader(strings.NewReader("first_name,last_name\nAnn,Lee\nBob,"), &repeatReader{'x', 10 << 20}, strings.NewReader("\nCy,Doe\n")),
			3, "the line is longer than 1 MiB"},
		{"10 MB header", &repeatReader{'x', 10 << 20}, 1, "longer than 1 MiB"},
		{"quote left open", io.MultiReader(strings.NewReader("first_name,last_name\nAnn,Lee\nBob,\"Doe\n"), &repeatReader{'\n', 3 << 20}),
			3, "still open on line"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db, org := newDB(t)
			before := snap(t, db, org)
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			rep, err := Import(context.Background(), db, org, tc.r, ImportOptions{SkipInvalid: true})
			runtime.ReadMemStats(&m1)
			if store.ErrorCode(err) != store.EINVALID || !strings.Contains(err.Error(), tc.contains) {
				t.Fatalf("err = %v", err)
			}
			if !strings.HasPrefix(err.Error(), fmt.Sprintf("line %d", tc.line)) {
				t.Errorf("err = %v, want it to start with line %d", err, tc.line)
			}
			if tc.line > 1 && (len(rep.Problems) == 0 || rep.Problems[len(rep.Problems)-1].Line != tc.line) {
				t.Errorf("problems = %+v", rep.Problems)
			}
			// The limit is 1 MiB; csv.Reader's buffers double on the way
			// there. Ten megabytes would mean the line was buffered whole.
			if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > 8<<20 {
				t.Errorf("import allocated %d MiB", alloc>>20)
			}
			if after := snap(t, db, org); after != before {
				t.Errorf("wrote something even with SkipInvalid: %+v → %+v", before, after)
			}
		})
	}

	// Just under the limit, the line is read whole; what refuses the row is
	// then the cap on a name, and the rows after it are still read.
	db, org := newDB(t)
	long := strings.Repeat("n", MaxLine-len("Ann,"))
	rep, err := importString(t, db, org, "first_name,last_name\r\nAnn,"+long+"\r\nBob,Lee\r\n", ImportOptions{SkipInvalid: true})
	if err != nil || rep.Imported != 1 || len(rep.Problems) != 1 || rep.Problems[0].Line != 2 ||
		!strings.Contains(rep.Problems[0].Reason, fmt.Sprintf("last_name is too long (%d characters)", len(long))) {
		t.Fatalf("a line of exactly MaxLine: %+v, %v", rep, err)
	}
}

func TestImportFileLevelErrors(t *testing.T) {
	cases := []struct{ name, file, contains string }{
		{"empty", "", "the file is empty"},
		{"blank lines only", "\n\r\n\n", "the file is empty"},
		{"no name column", "email,phone\nann@example.com,555\n", "no first_name or last_name column"},
		{"semicolons", "first_name;last_name;email\nAnn;Lee;ann@example.com\n", "semicolons or tabs"},
		{"empty column name", "first_name,last_name,,email\n", "column 3 has no name"},
		{"duplicate column", "first_name,Email,last_name,email\n", "column 4, email, repeats column 2"},
		{"duplicate custom column", "first_name,Level,level\n", "column 3, level, repeats column 2"},
		{"header bad quoting", "first_name,\"last_name\n", "line 1 (the header)"},
		{"UTF-16", "\xff\xfef\x00i\x00", "UTF-16"},
		{"xlsx", "PK\x03\x04rest", "spreadsheet workbook"},
		{"header not UTF-8", "first_name,Ni\xf1o\n", "not valid UTF-8"},
		{"invisible in a field name", "first_name,Le\u200bvel\n", "line 1 (the header): the name of column 2 contains an invisible character (U+200B)"},
		{"bidi override in a field name", "first_name,\u202elevel\n", "column 2 contains an invisible character (U+202E)"},
		{"field name too long", "first_name," + strings.Repeat("f", store.MaxFieldNameLen+1) + "\n", "the name of column 2 is too long (101 characters); use at most 100"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db, org := newDB(t)
			before := snap(t, db, org)
			rep, err := importString(t, db, org, tc.file, ImportOptions{SkipInvalid: true})
			var se *store.Error
			if !errors.As(err, &se) || se.Code != store.EINVALID || !strings.Contains(se.Message, tc.contains) {
				t.Fatalf("err = %#v, want EINVALID containing %q", err, tc.contains)
			}
			if rep == nil || rep.Imported != 0 {
				t.Errorf("report = %+v", rep)
			}
			if after := snap(t, db, org); after != before {
				t.Errorf("wrote something: %+v → %+v", before, after)
			}
		})
	}

	// A header with no rows is not an error, and changes nothing.
	db, org := newDB(t)
	rep, err := importString(t, db, org, "first_name,last_name\n", ImportOptions{})
	if err != nil || rep.Rows != 0 || rep.Imported != 0 {
		t.Errorf("header only: %+v, %v", rep, err)
	}
	if s := snap(t, db, org); s != (snapshot{}) {
		t.Errorf("header only wrote %+v", s)
	}
}

func TestImportSkipInvalid(t *testing.T) {
	db, org := newDB(t)
	ctx := context.Background()
	taken := &store.Customer{OrgID: org.ID, FirstName: "Ann", LastName: "Lee", Email: "taken@example.com"}
	if err := db.Tx(ctx, func(tx *store.Tx) error { return tx.CreateCustomer(ctx, taken) }); err != nil {
		t.Fatal(err)
	}
	file := "first_name,last_name,email,Level\n" +
		"Good,One,one@example.com,Gold\n" + // 2
		",,nobody@example.com,\n" + // 3: no name
		"Good,Two,two@example.com,\n" + // 4
		"Dup,Two,TWO@example.com,\n" + // 5: duplicate of line 4
		"Bad,\"Quote\"x,bq@example.com,\n" + // 6
		"Taken,Three,Taken@Example.com,\n" + // 7: on the roster
		",,,\n" + // 8: blank, not counted
		"Good,Three,,Silver\n" // 9
	rep, err := importString(t, db, org, file, ImportOptions{SkipInvalid: true, Source: "mixed.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != 7 || rep.Imported != 3 || rep.Skipped != 4 {
		t.Errorf("report = %+v", rep)
	}
	var lines []int
	for _, p := range rep.Problems {
		lines = append(lines, p.Line)
	}
	if !slices.Equal(lines, []int{3, 5, 6, 7}) {
		t.Errorf("problem lines = %v (%+v)", lines, rep.Problems)
	}
	if want := "email TWO@example.com is also on line 4"; rep.Problems[1].Reason != want {
		t.Errorf("line 5: %q, want %q", rep.Problems[1].Reason, want)
	}
	if want := "email Taken@Example.com already belongs to Ann Lee"; rep.Problems[3].Reason != want {
		t.Errorf("line 7: %q, want %q", rep.Problems[3].Reason, want)
	}
	if s := snap(t, db, org); s.customers != 4 || s.fields != "Level" || s.audit != 1 {
		t.Errorf("after: %+v", s)
	}
	log, _ := db.AuditLog(ctx, org.ID, 0, 1)
	if want := "imported 3 customers from mixed.csv (4 rows skipped)"; log[0].Detail != want {
		t.Errorf("audit detail %q, want %q", log[0].Detail, want)
	}

	// Without SkipInvalid the same file writes nothing and says why.
	db2, org2 := newDB(t)
	rep, err = importString(t, db2, org2, file, ImportOptions{})
	if store.ErrorCode(err) != store.EINVALID || rep.Imported != 0 || rep.Skipped != 3 {
		t.Errorf("without SkipInvalid: %+v, %v", rep, err)
	}
	if !strings.Contains(err.Error(), "3 of 7 rows have problems") || !strings.Contains(err.Error(), "line 3: has no first or last name") {
		t.Errorf("error = %v", err)
	}
	if s := snap(t, db2, org2); s != (snapshot{}) {
		t.Errorf("wrote %+v", s)
	}
}

func TestImportDryRun(t *testing.T) {
	db, org := newDB(t)
	ctx := context.Background()
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		return tx.CreateCustomer(ctx, &store.Customer{OrgID: org.ID, FirstName: "Ann", Email: "ann@example.com"})
	}); err != nil {
		t.Fatal(err)
	}
	before := snap(t, db, org)
	file := "first_name,email,Level\nBob,bob@example.com,Gold\nAnnie,ANN@example.com,\nCy,,\n"

	rep, err := importString(t, db, org, file, ImportOptions{DryRun: true})
	if store.ErrorCode(err) != store.EINVALID || !strings.Contains(err.Error(), "the import would be refused") {
		t.Errorf("dry run: %v", err)
	}
	if rep.Rows != 3 || rep.Skipped != 1 || rep.Imported != 0 || rep.Problems[0].Line != 3 {
		t.Errorf("dry run report = %+v", rep)
	}
	rep, err = importString(t, db, org, file, ImportOptions{DryRun: true, SkipInvalid: true})
	if err != nil || rep.Imported != 2 || rep.Skipped != 1 {
		t.Errorf("dry run, skip invalid: %+v, %v", rep, err)
	}
	if after := snap(t, db, org); after != before {
		t.Errorf("dry run wrote: %+v → %+v", before, after)
	}
	// And the dry run's verdict is what the real import does.
	rep, err = importString(t, db, org, file, ImportOptions{SkipInvalid: true})
	if err != nil || rep.Imported != 2 || rep.Skipped != 1 {
		t.Errorf("import: %+v, %v", rep, err)
	}
}

// A conflict with the roster is found when a batch is flushed, possibly long
// after the row was read; it must still be reported at its line, in order,
// and counted out of Imported.
func TestImportConflictsAcrossBatches(t *testing.T) {
	db, org := newDB(t)
	ctx := context.Background()
	n := store.WriterBatch*2 + 10
	for _, i := range []int{5, store.WriterBatch + 7, n - 1} {
		c := &store.Customer{OrgID: org.ID, FirstName: "Existing", LastName: fmt.Sprint(i), Email: fmt.Sprintf("person%d@example.com", i)}
		if err := db.Tx(ctx, func(tx *store.Tx) error { return tx.CreateCustomer(ctx, c) }); err != nil {
			t.Fatal(err)
		}
	}
	data := genCSV(n)
	rep, err := Import(ctx, db, org, bytes.NewReader(data), ImportOptions{SkipInvalid: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Imported != n-3 || rep.Skipped != 3 {
		t.Errorf("report: rows %d imported %d skipped %d", rep.Rows, rep.Imported, rep.Skipped)
	}
	var lines []int
	for _, p := range rep.Problems {
		lines = append(lines, p.Line)
	}
	// genCSV's row i is on line i+2.
	if want := []int{7, store.WriterBatch + 9, n + 1}; !slices.Equal(lines, want) {
		t.Errorf("lines %v, want %v", lines, want)
	}
	if s := snap(t, db, org); s.customers != n {
		t.Errorf("%d customers, want %d", s.customers, n)
	}
}

func TestImportProblemsCapped(t *testing.T) {
	db, org := newDB(t)
	var b strings.Builder
	b.WriteString("first_name,email\n")
	for i := range MaxProblems + 500 {
		fmt.Fprintf(&b, "P%d,not-an-email-%d\n", i, i)
	}
	rep, err := importString(t, db, org, b.String(), ImportOptions{})
	if err == nil || rep.Skipped != MaxProblems+500 || len(rep.Problems) != MaxProblems {
		t.Errorf("skipped %d, kept %d problems, err %v", rep.Skipped, len(rep.Problems), err)
	}
}

func TestImportUsesExistingFieldSpelling(t *testing.T) {
	db, org := newDB(t)
	ctx := context.Background()
	c := &store.Customer{OrgID: org.ID, FirstName: "Ann", Fields: []store.Field{{Name: "Level", Value: "Gold"}}}
	if err := db.Tx(ctx, func(tx *store.Tx) error { return tx.CreateCustomer(ctx, c) }); err != nil {
		t.Fatal(err)
	}
	if _, err := importString(t, db, org, "first_name, level ,Shoe size\nBob,Silver,44\n", ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	names, _ := db.CustomFieldNames(ctx, org.ID)
	if !slices.Equal(names, []string{"Level", "Shoe size"}) {
		t.Errorf("fields = %q", names)
	}
}

func TestImportCancelled(t *testing.T) {
	db, org := newDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Import(ctx, db, org, bytes.NewReader(genCSV(10)), ImportOptions{})
	if err == nil {
		t.Fatal("import with a cancelled context succeeded")
	}
	if s := snap(t, db, org); s != (snapshot{}) {
		t.Errorf("wrote %+v", s)
	}
}

func TestImportProgress(t *testing.T) {
	db, org := newDB(t)
	const n = 3*ProgressEvery + 10
	var calls [][2]int
	_, err := Import(context.Background(), db, org, bytes.NewReader(genCSV(n)), ImportOptions{
		Progress: func(done, total int) { calls = append(calls, [2]int{done, total}) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 4 || calls[len(calls)-1] != [2]int{n, n} {
		t.Fatalf("calls = %v", calls)
	}
	for _, c := range calls[:3] {
		// The estimate from the file size is close: the rows are alike.
		if c[1] < c[0] || c[1] < n*9/10 || c[1] > n*11/10 {
			t.Errorf("progress %d of %d, want a total near %d", c[0], c[1], n)
		}
	}
	// Through a pipe the size is unknown: total stays 0 until the end.
	calls = nil
	db2, org2 := newDB(t)
	_, err = Import(context.Background(), db2, org2, io.MultiReader(bytes.NewReader(genCSV(n))), ImportOptions{
		Progress: func(done, total int) { calls = append(calls, [2]int{done, total}) },
	})
	if err != nil || calls[0][1] != 0 || calls[len(calls)-1] != [2]int{n, n} {
		t.Errorf("unknown size: %v, %v", calls, err)
	}
}

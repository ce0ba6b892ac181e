package csvio

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"frontdesk/store"
)

// roster makes customers through the store, with fields, and returns them
// by first name.
func roster(t *testing.T, db *store.DB, org *store.Org, cs ...store.Customer) map[string]*store.Customer {
	t.Helper()
	ctx := context.Background()
	out := map[string]*store.Customer{}
	for _, c := range cs {
		c.OrgID = org.ID
		if err := db.Tx(ctx, func(tx *store.Tx) error { return tx.CreateCustomer(ctx, &c) }); err != nil {
			t.Fatal(err)
		}
		out[c.FirstName] = &c
	}
	return out
}

func reload(t *testing.T, db *store.DB, c *store.Customer) *store.Customer {
	t.Helper()
	got, err := db.Customer(context.Background(), c.OrgID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func searchFinds(t *testing.T, db *store.DB, org *store.Org, q string) []int64 {
	t.Helper()
	rows, err := db.RosterPage(context.Background(), org.ID, store.RosterQuery{Search: q, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	return ids
}

// --update matches rows by email, updates what the file gives, adds who is
// new, and leaves alone what the file does not name; each updated customer
// has an audit row saying what changed, and search finds the new values.
func TestImportUpdateByEmail(t *testing.T) {
	db, org := newDB(t)
	ctx := context.Background()
	cs := roster(t, db, org,
		store.Customer{FirstName: "Jane", LastName: "Doe", Email: "jane@example.com", Phone: "555-0100",
			Fields: []store.Field{{Name: "Level", Value: "Gold"}, {Name: "Notes", Value: "kept"}}},
		store.Customer{FirstName: "Ann", LastName: "Lee", Email: "ann@example.com", Phone: "555-0101", Fields: []store.Field{{Name: "Level", Value: "Silver"}}},
		store.Customer{FirstName: "Bob", LastName: "Ray", Email: "bob@example.com", Phone: "555-0102", Fields: []store.Field{{Name: "Level", Value: "Bronze"}}},
	)
	file := "E-mail,First Name,Mobile,Level,Locker\n" +
		"JANE@example.com,Janet,0151 62185557,Platinum,12\n" + // 2: updated (email in another case still matches)
		"ann@example.com,Ann,555-0101,Silver,\n" + // 3: unchanged
		"bob@example.com,Bob,,,\n" + // 4: phone and level cleared
		"new@example.com,Newt,555-0199,Gold,3\n" // 5: added
	rep, err := importString(t, db, org, file, ImportOptions{Update: true, Source: "update.csv", Actor: store.SystemActor("tester")})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != 4 || rep.Added != 1 || rep.Updated != 2 || rep.Unchanged != 1 || rep.Imported != 3 || rep.Skipped != 0 {
		t.Errorf("report = %+v", rep)
	}
	jane := reload(t, db, cs["Jane"])
	if jane.FirstName != "Janet" || jane.LastName != "Doe" || jane.Email != "jane@example.com" || jane.Phone != "0151 62185557" {
		t.Errorf("Jane after update: %q %q %q %q", jane.FirstName, jane.LastName, jane.Email, jane.Phone)
	}
	if f := fieldMap(jane); f["Level"] != "Platinum" || f["Notes"] != "kept" || f["Locker"] != "12" {
		t.Errorf("Jane's fields: %v", f)
	}
	bob := reload(t, db, cs["Bob"])
	if f := fieldMap(bob); bob.Phone != "" || len(f) != 0 {
		t.Errorf("Bob after clearing: phone %q, fields %v", bob.Phone, f)
	}
	if ann := reload(t, db, cs["Ann"]); !ann.UpdatedAt.Equal(cs["Ann"].UpdatedAt) {
		t.Errorf("unchanged Ann was written: updated %v → %v", cs["Ann"].UpdatedAt, ann.UpdatedAt)
	}
	newt := customerByEmail(t, db, org, "new@example.com")
	if f := fieldMap(newt); newt.FirstName != "Newt" || f["Level"] != "Gold" || f["Locker"] != "3" {
		t.Errorf("Newt: %+v %v", newt, f)
	}
	// The search index follows: the new name and number find Jane, the old
	// ones no longer do.
	if ids := searchFinds(t, db, org, "janet"); !slices.Equal(ids, []int64{jane.ID}) {
		t.Errorf("search janet: %v", ids)
	}
	if ids := searchFinds(t, db, org, "62185557"); !slices.Equal(ids, []int64{jane.ID}) {
		t.Errorf("search by the new phone: %v", ids)
	}
	if ids := searchFinds(t, db, org, "555-0100"); len(ids) != 0 {
		t.Errorf("search by Jane's old phone still finds %v", ids)
	}
	// Audit: what changed, per customer, and the import as a whole.
	log, err := db.AuditLog(ctx, org.ID, jane.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) == 0 || log[0].Action != "customer.update" || log[0].Actor.Name != "tester" ||
		log[0].Detail != `updated by import of update.csv: name "Jane Doe" → "Janet Doe"; phone "555-0100" → "0151 62185557"; Level "Gold" → "Platinum"; Locker "" → "12"` {
		t.Errorf("Jane's audit: %+v", log)
	}
	if log, _ := db.AuditLog(ctx, org.ID, cs["Ann"].ID, 10); len(log) != 0 {
		t.Errorf("unchanged Ann has audit rows: %+v", log)
	}
	all, _ := db.AuditLog(ctx, org.ID, 0, 1)
	if want := "imported update.csv with --update: 1 added, 2 updated, 1 unchanged"; all[0].Action != "customers.import" || all[0].Detail != want {
		t.Errorf("import audit: %+v, want %q", all[0], want)
	}

	// The same file again changes nothing and writes nothing.
	before := snap(t, db, org)
	rep, err = importString(t, db, org, file, ImportOptions{Update: true, Source: "update.csv"})
	if err != nil || rep.Added != 0 || rep.Updated != 0 || rep.Unchanged != 4 {
		t.Errorf("second run: %+v, %v", rep, err)
	}
	if after := snap(t, db, org); after != before {
		t.Errorf("second run wrote: %+v → %+v", before, after)
	}
}

// Every row the roster refuses is reported at its line, and one such row
// stops the whole import: nothing is updated or added.
func TestImportUpdateRefusals(t *testing.T) {
	db, org := newDB(t)
	ctx := context.Background()
	cs := roster(t, db, org,
		store.Customer{FirstName: "Jane", LastName: "Doe", Email: "jane@example.com"},
		store.Customer{FirstName: "Ann", LastName: "Lee", Email: "ann@example.com"},
		store.Customer{FirstName: "Gone", LastName: "Away", Email: "gone@example.com"},
		store.Customer{FirstName: "Nomail", LastName: "Person"},
		store.Customer{FirstName: "Cy", Email: "cy@example.com"},
	)
	if err := db.Tx(ctx, func(tx *store.Tx) error { return tx.ArchiveCustomer(ctx, org.ID, cs["Gone"].ID) }); err != nil {
		t.Fatal(err)
	}
	other := newOrg(t, db, "Other Studio")
	theirs := roster(t, db, other, store.Customer{FirstName: "Theirs", Email: "theirs@example.com"})["Theirs"]

	file := "id,first_name,last_name,email,phone\n" +
		fmt.Sprintf("%d,Jane,Doe,jane.doe@elsewhere.example,555\n", cs["Jane"].ID) + // 2: email change
		fmt.Sprintf("%d,Theirs,,theirs@example.com,\n", theirs.ID) + // 3: another organization's id
		",Gone,Away,gone@example.com,\n" + // 4: archived
		fmt.Sprintf("%d,,,cy@example.com,\n", cs["Cy"].ID) + // 5: no name left
		"x12,Bad,Id,,\n" + // 6: not an id
		fmt.Sprintf("%d,Ann,Lee,ann@example.com,\n", cs["Ann"].ID) + // 7: fine on its own
		",Annie,Lee,ANN@example.com,\n" + // 8: the same customer again, by email
		fmt.Sprintf("%d,Nomail,Person,,0777\n", cs["Nomail"].ID) + // 9: fine: no email stays no email
		fmt.Sprintf("%d,Nomail,Person,nomail@example.com,\n", cs["Nomail"].ID) + // 10: the id again
		",Walk,In,,\n" // 11: fine: new, without email
	before := snap(t, db, org)
	for _, dry := range []bool{true, false} {
		rep, err := importString(t, db, org, file, ImportOptions{Update: true, DryRun: dry, Source: "edits.csv"})
		if store.ErrorCode(err) != store.EINVALID {
			t.Fatalf("dry %v: err = %v, want EINVALID", dry, err)
		}
		if !strings.Contains(err.Error(), "(first: edits.csv:2: the email (jane.doe@elsewhere.example) is not the email of customer") {
			t.Errorf("dry %v: err = %v", dry, err)
		}
		got := map[int]string{}
		for _, p := range rep.Problems {
			got[p.Line] = p.Reason
		}
		for line, want := range map[int]string{
			2:  fmt.Sprintf("the email (jane.doe@elsewhere.example) is not the email of customer %d, Jane Doe (jane@example.com); import does not change emails", cs["Jane"].ID),
			3:  fmt.Sprintf("no customer of this organization has id %d; leave the id empty to add a new customer", theirs.ID),
			4:  "matches Gone Away, who is archived; restore the customer first",
			5:  fmt.Sprintf("would leave customer %d without a first or last name", cs["Cy"].ID),
			6:  `the id "x12" is not a customer id`,
			8:  "email ANN@example.com is also on line 7",
			10: fmt.Sprintf("customer id %d is also on line 9", cs["Nomail"].ID),
		} {
			if !strings.Contains(got[line], want) {
				t.Errorf("dry %v: line %d: %q, want it to contain %q", dry, line, got[line], want)
			}
			delete(got, line)
		}
		if len(got) != 0 {
			t.Errorf("dry %v: unexpected problems %v", dry, got)
		}
		if after := snap(t, db, org); after != before {
			t.Errorf("dry %v: a refused import wrote: %+v → %+v", dry, before, after)
		}
	}
	if theirs := reload(t, db, theirs); theirs.FirstName != "Theirs" {
		t.Errorf("another organization's customer changed: %+v", theirs)
	}

	// With --skip-invalid the good rows go in.
	rep, err := importString(t, db, org, file, ImportOptions{Update: true, SkipInvalid: true})
	if err != nil || rep.Added != 1 || rep.Updated != 1 || rep.Unchanged != 1 || rep.Skipped != 7 || rep.Imported != 2 {
		t.Errorf("skip invalid: %+v, %v", rep, err)
	}
	if n := reload(t, db, cs["Nomail"]); n.Phone != "0777" || n.Email != "" {
		t.Errorf("Nomail: %+v", n)
	}
	if j := reload(t, db, cs["Jane"]); j.Email != "jane@example.com" {
		t.Errorf("Jane's email changed to %s", j.Email)
	}
}

// Without an id column, a row with no email cannot be matched: it is
// refused rather than added again on every import of an export.
func TestImportUpdateNeedsAKey(t *testing.T) {
	db, org := newDB(t)
	roster(t, db, org, store.Customer{FirstName: "Nomail", LastName: "Person"})
	before := snap(t, db, org)
	rep, err := importString(t, db, org, "first_name,last_name,email\nNomail,Person,\n", ImportOptions{Update: true})
	if store.ErrorCode(err) != store.EINVALID || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].Reason, "has no email to match a customer by") {
		t.Errorf("%+v, %v", rep, err)
	}
	if after := snap(t, db, org); after != before {
		t.Errorf("wrote %+v → %+v", before, after)
	}
	// Without --update, the same row is a new customer, as it always was.
	if rep, err := importString(t, db, org, "first_name,last_name,email\nNomail,Person,\n", ImportOptions{}); err != nil || rep.Added != 1 {
		t.Errorf("without --update: %+v, %v", rep, err)
	}
	// An update file may leave the names out: it matches by email.
	roster(t, db, org, store.Customer{FirstName: "Jo", Email: "jo@example.com"})
	if rep, err := importString(t, db, org, "Email address,Phone number\njo@example.com,0161 496 8466\n", ImportOptions{Update: true}); err != nil || rep.Updated != 1 {
		t.Errorf("email and phone only: %+v, %v", rep, err)
	}
	// But a new customer still needs a name.
	rep, err = importString(t, db, org, "email,phone\nnew@example.com,0161 496 8466\n", ImportOptions{Update: true})
	if store.ErrorCode(err) != store.EINVALID || len(rep.Problems) != 1 || rep.Problems[0].Reason != "has no first or last name" {
		t.Errorf("new without a name: %+v, %v", rep, err)
	}
}

// An export with --with-status carries the id, status and dates; imported
// back with --update it changes nothing, and imported into another
// organization without --update its frontdesk columns are left out.
func TestExportWithStatusRoundTrip(t *testing.T) {
	db, org := newDB(t)
	ctx := context.Background()
	org.TimeZone = "Europe/Berlin"
	if err := db.Tx(ctx, func(tx *store.Tx) error { return tx.UpdateOrg(ctx, org) }); err != nil {
		t.Fatal(err)
	}
	cs := roster(t, db, org,
		store.Customer{FirstName: "Jane", LastName: "Doe", Email: "jane@example.com", Phone: "+49 151 62185557", Fields: []store.Field{{Name: "Level", Value: "Gold"}}},
		store.Customer{FirstName: "Nomail", LastName: "Person", Phone: "=1+2"},
		store.Customer{FirstName: "Ann", LastName: "Lee", Email: "ann@example.com", Fields: []store.Field{{Name: "Level", Value: "-5"}}},
	)
	hash := []byte(strings.Repeat("h", 32))
	err := db.Tx(ctx, func(tx *store.Tx) error {
		m := &store.OutboxMessage{OrgID: org.ID, CustomerID: cs["Jane"].ID, Kind: store.MessageInvite, To: "jane@example.com", Subject: "Claim"}
		if err := tx.EnqueueMessage(ctx, m); err != nil {
			return err
		}
		return tx.CreateInvite(ctx, &store.Invite{OrgID: org.ID, CustomerID: cs["Jane"].ID, Purpose: store.PurposeClaim, Email: "jane@example.com",
			ExpiresAt: db.Now().Add(store.DefaultInviteTTL), TokenHash: hash, OutboxID: m.ID})
	})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if _, err := Export(ctx, db, org, &b, ExportOptions{WithStatus: true}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	want := "id,first_name,last_name,email,phone,Level,status,invited_at,claimed_at\n" +
		fmt.Sprintf("%d,Jane,Doe,jane@example.com,'+49 151 62185557,Gold,Invited,2025-03-01 10:00,\n", cs["Jane"].ID) +
		fmt.Sprintf("%d,Nomail,Person,,'=1+2,,No email,,\n", cs["Nomail"].ID) +
		fmt.Sprintf("%d,Ann,Lee,ann@example.com,,'-5,Not invited,,\n", cs["Ann"].ID)
	if out != want {
		t.Errorf("export --with-status:\n%s\nwant\n%s", out, want)
	}

	before := snap(t, db, org)
	rep, err := importString(t, db, org, out, ImportOptions{Update: true})
	if err != nil || rep.Unchanged != 3 || rep.Added+rep.Updated != 0 || !slices.Equal(rep.Ignored, []string{"status", "invited_at", "claimed_at"}) {
		t.Errorf("round trip: %+v, %v", rep, err)
	}
	if after := snap(t, db, org); after != before {
		t.Errorf("round trip wrote: %+v → %+v", before, after)
	}

	// Edited in a spreadsheet: the status column says nothing to import.
	edited := strings.Replace(out, "Invited,2025-03-01 10:00", "Claimed,2020-01-01 00:00", 1)
	edited = strings.Replace(edited, ",Person,,", ",Persson,,", 1)
	rep, err = importString(t, db, org, edited, ImportOptions{Update: true})
	if err != nil || rep.Updated != 1 || rep.Unchanged != 2 {
		t.Errorf("edited: %+v, %v", rep, err)
	}
	if j := reload(t, db, cs["Jane"]); j.Status != store.StatusInvited || !j.ClaimedAt.IsZero() {
		t.Errorf("the status column changed Jane: %s", j.Status)
	}
	if n := reload(t, db, cs["Nomail"]); n.LastName != "Persson" {
		t.Errorf("Nomail's last name: %q", n.LastName)
	}

	// Into another organization, without --update: new customers, and no
	// custom field made of id, status or the dates.
	fresh := newOrg(t, db, "Fresh Studio")
	rep, err = importString(t, db, fresh, out, ImportOptions{})
	if err != nil || rep.Added != 3 || !slices.Equal(rep.Ignored, []string{"id", "status", "invited_at", "claimed_at"}) {
		t.Errorf("into another organization: %+v, %v", rep, err)
	}
	if names, _ := db.CustomFieldNames(ctx, fresh.ID); !slices.Equal(names, []string{"Level"}) {
		t.Errorf("fields made: %v", names)
	}
}

// Headers as people write them, one table of aliases; an organization's
// own field of an alias's name keeps its values.
func TestImportHeaderAliases(t *testing.T) {
	db, org := newDB(t)
	for _, h := range []string{
		"First Name,Surname,E-mail,Mobile",
		"first name,last name,Email address,Phone number",
		"FIRST_NAME,Family name,email,Telephone",
		"Given name,Last,Mail,Cell phone",
	} {
		t.Run(h, func(t *testing.T) {
			email := strings.ToLower(strings.ReplaceAll(h, " ", "")) + "@example.com"
			email = strings.NewReplacer(",", ".", "_", "").Replace(email)
			rep, err := importString(t, db, org, h+"\nAnn,Lee,"+email+",0161 496 8466\n", ImportOptions{})
			if err != nil || rep.Added != 1 {
				t.Fatalf("%+v, %v", rep, err)
			}
			c := customerByEmail(t, db, org, email)
			if c.FirstName != "Ann" || c.LastName != "Lee" || c.Phone != "0161 496 8466" || len(c.Fields) != 0 {
				t.Errorf("%+v", c)
			}
		})
	}
	if names, _ := db.CustomFieldNames(context.Background(), org.ID); len(names) != 0 {
		t.Errorf("aliases made custom fields: %v", names)
	}
	_, err := importString(t, db, org, "first_name,Phone,Mobile\nAnn,1,2\n", ImportOptions{Source: "two.csv"})
	if store.ErrorCode(err) != store.EINVALID || !strings.Contains(err.Error(), "two.csv:1: in the header, column 3, Mobile, is a second phone column (column 2 is Phone)") {
		t.Errorf("two phone columns: %v", err)
	}

	// An organization that imported "mobile" as a field before the aliases
	// keeps it.
	db2, org2 := newDB(t)
	if err := db2.Tx(context.Background(), func(tx *store.Tx) error {
		_, err := tx.DeclareCustomField(context.Background(), org2.ID, "mobile")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	rep, err := importString(t, db2, org2, "first_name,Mobile,phone\nBob,07700 900999,0161 496 8466\n", ImportOptions{})
	if err != nil || rep.Added != 1 {
		t.Fatalf("%+v, %v", rep, err)
	}
	rows, _ := db2.RosterPage(context.Background(), org2.ID, store.RosterQuery{Search: "bob"})
	bob, _ := db2.Customer(context.Background(), org2.ID, rows[0].ID)
	if bob.Phone != "0161 496 8466" || fieldMap(bob)["mobile"] != "07700 900999" {
		t.Errorf("Bob: phone %q, fields %v", bob.Phone, fieldMap(bob))
	}
}

// Errors name the file and the line, as FILE:LINE: reason.
func TestImportErrorsNameFileAndLine(t *testing.T) {
	db, org := newDB(t)
	for _, c := range []struct{ file, want string }{
		{"first_name,email\nAnn,ann@example.com\nBob,bob@example\n", "roster.csv:3: "},
		{"first_name,,email\n", "roster.csv:1: in the header, column 2 has no name"},
		{"email,phone\n", "roster.csv:1: in the header, there is no first_name or last_name column"},
		{"", "roster.csv: the file is empty"},
		{"\xff\xfe", "roster.csv: the file is UTF-16"},
	} {
		_, err := importString(t, db, org, c.file, ImportOptions{Source: "roster.csv"})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want %q", c.file, err, c.want)
		}
	}
}

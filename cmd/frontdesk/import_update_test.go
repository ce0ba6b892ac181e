package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"frontdesk/store/storetest"
)

// customers export --with-status, edited, then import --update: the edit
// lands, the rest is unchanged, and a refused row names FILE:LINE.
func TestImportUpdateThroughCLI(t *testing.T) {
	c := newCLI(t)
	c.ok("org", "add", "--name", "Harbor Yoga")
	first := filepath.Join(c.dir, "first.csv")
	os.WriteFile(first, []byte("First Name,Surname,E-mail,Mobile\nAnn,Lee,ann@example.com,0161 496 8466\nBo,Chen,bo@example.com,\n"), 0o600)
	if out := c.ok("customers", "import", first); !strings.Contains(out, "Imported 2 customers") {
		t.Fatalf("import: %q", out)
	}
	exported := filepath.Join(c.dir, "status.csv")
	c.ok("customers", "export", exported, "--with-status")
	b, _ := os.ReadFile(exported)
	if !strings.HasPrefix(string(b), "id,first_name,last_name,email,phone,status,invited_at,claimed_at\n") || !strings.Contains(string(b), ",Ann,Lee,ann@example.com,0161 496 8466,Not invited,,\n") {
		t.Fatalf("export --with-status:\n%s", b)
	}
	out := c.ok("customers", "import", exported, "--update")
	if !strings.Contains(out, "0 added, 0 updated, 2 unchanged") {
		t.Fatalf("round trip: %q", out)
	}
	edited := strings.Replace(string(b), ",Bo,Chen,bo@example.com,,", ",Bo,Chen,bo@example.com,07700 900123,", 1)
	edited += ",Cy,Dee,cy@example.com,,,,\n"
	os.WriteFile(exported, []byte(edited), 0o600)
	out = c.ok("customers", "import", exported, "--update")
	if !strings.Contains(out, "1 added, 1 updated, 1 unchanged") {
		t.Fatalf("edited: %q", out)
	}
	if n := c.count(`audit WHERE action = 'customer.update'`); n != 1 {
		t.Fatalf("%d customer.update audit rows, want 1", n)
	}

	// An email changed in the file is refused at its line; nothing changes.
	changed := strings.Replace(edited, "ann@example.com", "ann@elsewhere.example", 1)
	changed = strings.Replace(changed, "07700 900123", "07700 900999", 1)
	os.WriteFile(exported, []byte(changed), 0o600)
	code, _, errs := c.run("customers", "import", exported, "--update")
	if code != 1 || !strings.Contains(errs, exported+":2: the email (ann@elsewhere.example) is not the email of customer") {
		t.Fatalf("email change: exit %d\n%s", code, errs)
	}
	if n := c.count(`customers WHERE phone = '07700 900999'`); n != 0 {
		t.Fatal("a refused import updated a customer")
	}

	// Without --update, the id column is named as not imported.
	fresh := filepath.Join(c.dir, "fresh.csv")
	os.WriteFile(fresh, []byte("id,first_name,email\n7,Di,di@example.com\n"), 0o600)
	_, _, errs = c.run("customers", "import", fresh)
	if !strings.Contains(errs, "Not imported: column(s) id") || !strings.Contains(errs, "Member ID") {
		t.Fatalf("id column without --update: %q", errs)
	}
}

// org set --country is validated, shown, and makes numbers findable in
// their international form.
func TestOrgSetCountry(t *testing.T) {
	c := newCLI(t)
	c.ok("org", "add", "--name", "Harbor Yoga")
	f := filepath.Join(c.dir, "in.csv")
	os.WriteFile(f, []byte("first_name,phone\nJo,(0161) 496 8466\n"), 0o600)
	c.ok("customers", "import", f)
	if out := c.ok("customers", "list", "--search", "+44 161 496 8466"); strings.Contains(out, "Jo") {
		t.Fatalf("found without a country: %q", out)
	}
	code, _, errs := c.run("org", "set", "--country", "UK")
	if code != 1 || !strings.Contains(errs, "the United Kingdom is GB") {
		t.Fatalf("--country UK: exit %d %q", code, errs)
	}
	if out := c.ok("org", "set", "--country", "gb"); !strings.Contains(out, "country") || !strings.Contains(out, "GB") {
		t.Fatalf("org set --country: %q", out)
	}
	if out := c.ok("customers", "list", "--search", "+44 161 496 8466"); !strings.Contains(out, "Jo") {
		t.Fatalf("not found with country GB: %q", out)
	}
}

// import --update on PostgreSQL: the batch update of names and phone types
// its ids there too, and writes the search keys with the organization's
// country, so the new number is found in international form.
func TestImportUpdateOnPostgres(t *testing.T) {
	c := newCLI(t)
	c.env["FRONTDESK_DATABASE"] = storetest.Postgres(t)
	c.ok("org", "add", "--name", "Harbor Yoga")
	c.ok("org", "set", "--country", "GB")
	file := filepath.Join(c.dir, "people.csv")
	os.WriteFile(file, []byte("First Name,Surname,E-mail,Mobile\nAnn,Lee,ann@example.com,0161 496 8466\nBo,Chen,bo@example.com,\n"), 0o600)
	c.ok("customers", "import", file)
	os.WriteFile(file, []byte("First Name,Surname,E-mail,Mobile\nAnn,O'Lee,ann@example.com,0161 496 8466\nBo,Chen,bo@example.com,07700 900123\n"), 0o600)
	if out := c.ok("customers", "import", file, "--update"); !strings.Contains(out, "0 added, 2 updated, 0 unchanged") {
		t.Fatalf("update: %q", out)
	}
	for q, want := range map[string]string{"+44 7700 900123": "Bo Chen", "olee": "Ann O'Lee", "+44 161 496 8466": "Ann O'Lee"} {
		if out := c.ok("customers", "list", "--search", q); !strings.Contains(out, want) {
			t.Errorf("search %q after import --update: %q", q, out)
		}
	}
}

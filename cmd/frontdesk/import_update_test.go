package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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

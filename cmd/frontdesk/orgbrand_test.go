package main

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// org set --logo and --accent: checked, stored, shown and audited; a
// failing colour or a file that is not a safe image is refused with what to
// do; none removes either.
func TestOrgSetLogoAndAccent(t *testing.T) {
	c := newCLI(t)
	c.ok("org", "add", "--name", "Harbor Yoga")

	var b bytes.Buffer
	png.Encode(&b, image.NewNRGBA(image.Rect(0, 0, 120, 40)))
	logo := filepath.Join(t.TempDir(), "logo.png")
	os.WriteFile(logo, b.Bytes(), 0o644)

	out := c.ok("org", "set", "--logo", logo, "--accent", "#0B6B3A")
	for _, want := range []string{"image/png 120×40", "#0b6b3a"} {
		if !strings.Contains(out, want) {
			t.Errorf("org set printed no %q:\n%s", want, out)
		}
	}
	var stored int
	c.sqlite().QueryRow(`SELECT length(data) FROM org_logos`).Scan(&stored)
	if stored == 0 {
		t.Fatal("no logo stored")
	}
	var detail string
	c.sqlite().QueryRow(`SELECT detail FROM audit WHERE action = 'org.set' ORDER BY id DESC LIMIT 1`).Scan(&detail)
	if !strings.Contains(detail, "logo") || !strings.Contains(detail, "accent #0b6b3a") {
		t.Errorf("audit detail %q", detail)
	}

	svg := filepath.Join(t.TempDir(), "logo.svg")
	os.WriteFile(svg, []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--accent", "#ffee00"}, 1, "#ffee00 on white (links, and white text on buttons) is 1.2:1, below the 4.5:1 WCAG AA asks for text; choose a darker colour"},
		{[]string{"--accent", "blue"}, 1, `"blue" is not a colour`},
		{[]string{"--logo", svg}, 1, "logo.svg is an SVG"},
		{[]string{"--logo", filepath.Join(t.TempDir(), "missing.png")}, 1, "cannot read the logo"},
		{[]string{"--logo", ""}, 2, "--logo needs a PNG or JPEG file"},
	} {
		code, _, errs := c.run(append([]string{"org", "set"}, tc.args...)...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("org set %v: exit %d, %q; want %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
	// The refusals changed nothing.
	if out := c.ok("org", "list"); !strings.Contains(out, "harbor-yoga") {
		t.Fatal(out)
	}
	var accent string
	c.sqlite().QueryRow(`SELECT accent FROM orgs`).Scan(&accent)
	if accent != "#0b6b3a" {
		t.Errorf("accent after refusals %q", accent)
	}

	out = squash(c.ok("org", "set", "--logo", "none", "--accent", "none"))
	if !strings.Contains(out, "logo none\naccent none") {
		t.Errorf("org set printed:\n%s", out)
	}
	if n := c.count("org_logos"); n != 0 {
		t.Errorf("%d logos after --logo none", n)
	}
	c.sqlite().QueryRow(`SELECT accent FROM orgs`).Scan(&accent)
	if accent != "" {
		t.Errorf("accent after --accent none: %q", accent)
	}
}

// org field set/list: every field is staff-only until opened; the setting
// is audited.
func TestOrgFieldCommands(t *testing.T) {
	c := newCLI(t)
	c.ok("org", "add", "--name", "Harbor Yoga")
	if out := c.ok("org", "field", "list"); !strings.Contains(out, "No custom fields yet") {
		t.Errorf("no fields: %q", out)
	}
	csv := filepath.Join(t.TempDir(), "roster.csv")
	os.WriteFile(csv, []byte("first_name,last_name,email,Membership level,Emergency contact\nJane,Doe,jane@example.com,Gold,Sam\n"), 0o644)
	c.ok("customers", "import", csv)

	out := squash(c.ok("org", "field", "list"))
	for _, want := range []string{"Membership level staff-only", "Emergency contact staff-only"} {
		if !strings.Contains(out, want) {
			t.Errorf("fields after import lack %q:\n%s", want, out)
		}
	}
	if out := c.ok("org", "field", "set", "emergency contact", "--customer-editable"); !strings.Contains(out, "Emergency contact: customers may change it") {
		t.Errorf("set said %q", out)
	}
	if out := squash(c.ok("org", "field", "list")); !strings.Contains(out, "Emergency contact may change it") || !strings.Contains(out, "Membership level staff-only") {
		t.Errorf("list after set:\n%s", out)
	}
	c.ok("org", "field", "set", "Emergency contact", "--customer-editable=false")
	if out := squash(c.ok("org", "field", "list")); !strings.Contains(out, "Emergency contact staff-only") {
		t.Errorf("list after closing:\n%s", out)
	}
	if code, _, errs := c.run("org", "field", "set", "Shoe size", "--customer-editable"); code != 1 || !strings.Contains(errs, "the fields are: Membership level, Emergency contact") {
		t.Errorf("unknown field: %d %q", code, errs)
	}
	if code, _, errs := c.run("org", "field", "set", "Emergency contact"); code != 2 || !strings.Contains(errs, "--customer-editable") {
		t.Errorf("no flag: %d %q", code, errs)
	}
	if n := c.count(`audit WHERE action = 'org.field'`); n != 2 {
		t.Errorf("%d org.field audit rows, want 2", n)
	}
}

// squash is a table with its columns' padding reduced to one space.
func squash(s string) string {
	return regexp.MustCompile(` {2,}`).ReplaceAllString(s, " ")
}

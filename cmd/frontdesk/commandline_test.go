package main

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// org set with a value its setting cannot take (0 included, which used to
// mean "the default" and changed nothing while exiting 0) is refused with
// the allowed range, and nothing is written.
func TestOrgSetRefusesOutOfRange(t *testing.T) {
	c := newCLI(t)
	c.ok("org", "add", "--name", "Harbor Yoga")
	c.ok("org", "set", "--invite-ttl", "3d", "--min-password-length", "12")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--invite-ttl", "0s"}, "use 1 hour to 90 days"},
		{[]string{"--invite-ttl", "0"}, "use 1 hour to 90 days"},
		{[]string{"--invite-ttl", "91d"}, "use 1 hour to 90 days"},
		{[]string{"--min-password-length", "0"}, "use 8 to 64"},
		{[]string{"--min-password-length", "65"}, "use 8 to 64"},
	} {
		code, out, errs := c.run(append([]string{"org", "set"}, tc.args...)...)
		if code != 2 || !strings.Contains(errs, tc.want) || !strings.Contains(errs, tc.args[0]) {
			t.Errorf("org set %v: exit %d, stdout %q, stderr %q; want exit 2 naming %s and %q", tc.args, code, out, errs, tc.args[0], tc.want)
		}
	}
	var ttl, minPw int
	c.sqlite().QueryRow(`SELECT invite_ttl_seconds, min_password_length FROM orgs`).Scan(&ttl, &minPw)
	if ttl != 3*86400 || minPw != 12 {
		t.Errorf("after the refusals: invite lifetime %ds, min password length %d; want 3 days and 12", ttl, minPw)
	}
	if n := c.count(`audit WHERE action = 'org.set'`); n != 1 {
		t.Errorf("%d org.set audit rows, want the 1 change", n)
	}
}

// Durations are typed with days and printed in words.
func TestDurationsInDays(t *testing.T) {
	c := newCLI(t)
	c.ok("org", "add", "--name", "Harbor Yoga")
	out := c.ok("org", "set", "--invite-ttl", "7d")
	if !regexp.MustCompile(`(?m)^invite lifetime\s+7 days$`).MatchString(out) {
		t.Errorf("org set --invite-ttl 7d printed:\n%s", out)
	}
	out = c.ok("org", "set", "--invite-ttl", "36h", "--remind-after", "1d")
	if !regexp.MustCompile(`(?m)^invite lifetime\s+1 day 12 hours$`).MatchString(out) || !regexp.MustCompile(`(?m)^remind after\s+1 day$`).MatchString(out) {
		t.Errorf("org set --invite-ttl 36h --remind-after 1d printed:\n%s", out)
	}
	if out := c.ok("org", "list"); !strings.Contains(out, "1 day 12 hours") || strings.Contains(out, "36h") {
		t.Errorf("org list:\n%s", out)
	}
	// The process-wide override, from the flag and from the environment.
	c.ok("org", "list", "--invite-ttl", "2d")
	c.env["FRONTDESK_SMTP_TIMEOUT"] = "1m"
	c.env["FRONTDESK_INVITE_TTL"] = "1d12h"
	c.ok("org", "list")
}

// Every duration flag of every command takes days, including flags added
// later: a pflag DurationVar would refuse "7d" and fail here.
func TestEveryDurationFlagTakesDays(t *testing.T) {
	var walk func(cmd *cobra.Command)
	n := 0
	walk = func(cmd *cobra.Command) {
		for _, fs := range []*pflag.FlagSet{cmd.LocalNonPersistentFlags(), cmd.PersistentFlags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				if f.Value.Type() != "duration" {
					return
				}
				n++
				if err := f.Value.Set("7d"); err != nil {
					t.Errorf("%s --%s 7d: %v", cmd.CommandPath(), f.Name, err)
				}
				if s := f.Value.String(); s != "7d" {
					t.Errorf("%s --%s 7d reads back as %q", cmd.CommandPath(), f.Name, s)
				}
			})
		}
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(&App{}))
	if n < 6 {
		t.Errorf("found %d duration flags; the walk missed some", n)
	}
}

// startsAt is the display column (terminal cells) at which cell begins in
// line; -1 if it is not there.
func startsAt(line, cell string) int {
	i := strings.Index(line, cell)
	if i < 0 {
		return -1
	}
	return ansi.StringWidth(line[:i])
}

// fromCell is line from display column col on (the names before it may be
// wider or narrower in bytes than in cells).
func fromCell(line string, col int) string {
	return ansi.Cut(line, col, ansi.StringWidth(line))
}

// Tables align by the cells a terminal gives each character: wide (CJK,
// emoji) names keep the columns after them in line.
func TestTablesAlignByDisplayWidth(t *testing.T) {
	c := newCLI(t)
	c.ok("org", "add", "--name", "札幌ヨガ", "--slug", "sapporo")
	c.ok("org", "add", "--name", "Harbor Yoga")
	file := filepath.Join(t.TempDir(), "people.csv")
	people := [][2]string{
		{"山田 太郎", "taro@example.com"},
		{"Ann Lee", "ann@example.com"},
		{"🧘 Mia Ng", "mia@example.com"},
		{"Zoë Åberg", "zoe@example.com"},
	}
	csv := "first_name,last_name,email\n"
	for _, p := range people {
		first, last, _ := strings.Cut(p[0], " ")
		if strings.HasPrefix(p[0], "🧘") {
			first, last = "🧘 Mia", "Ng"
		}
		csv += first + "," + last + "," + p[1] + "\n"
	}
	if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("customers", "import", "--org", "sapporo", file)

	out := c.ok("customers", "list", "--org", "sapporo")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	email, status := startsAt(lines[0], "EMAIL"), startsAt(lines[0], "STATUS")
	for _, p := range people {
		var line string
		for _, l := range lines {
			if strings.Contains(l, p[1]) {
				line = l
			}
		}
		if startsAt(line, p[1]) != email || startsAt(line, "Not invited") != status {
			t.Errorf("%s is out of line:\n%s", p[0], out)
		}
	}
	for _, l := range lines {
		if strings.HasSuffix(l, " ") {
			t.Errorf("trailing spaces in %q", l)
		}
	}

	out = c.ok("org", "list")
	lines = strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	col := startsAt(lines[0], "CUSTOMERS")
	for _, l := range lines[1:] {
		count := "  4  " // sapporo's customers
		if strings.HasPrefix(l, "harbor-yoga") {
			count = "  0  "
		}
		if startsAt(l, count)+2 != col {
			t.Errorf("org list is out of line:\n%s", out)
		}
	}
}

// outbox list --limit 0 lists every message, as customers list --limit 0
// does; a sent message's time is in its own column, not under NEXT ATTEMPT.
func TestOutboxListAll(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "300")
	total := c.count("outbox")
	if total <= 100 {
		t.Fatalf("the demo made %d messages; the test needs more than 100", total)
	}
	lines := strings.Split(strings.TrimSuffix(c.ok("outbox", "list", "--limit", "0"), "\n"), "\n")
	if len(lines)-1 != total {
		t.Errorf("--limit 0 listed %d messages of %d", len(lines)-1, total)
	}
	if out := c.ok("outbox", "list", "--limit", "120"); strings.Count(out, "\n")-1 != 120 {
		t.Errorf("--limit 120 listed %d", strings.Count(out, "\n")-1)
	}
	if out := c.ok("outbox", "list"); strings.Count(out, "\n")-1 != 50 {
		t.Errorf("outbox list listed %d by default, want 50", strings.Count(out, "\n")-1)
	}
	if code, _, errs := c.run("outbox", "list", "--limit", "-1"); code != 2 || !strings.Contains(errs, "--limit") {
		t.Errorf("--limit -1: exit %d, %q", code, errs)
	}

	next, sent := startsAt(lines[0], "NEXT ATTEMPT"), startsAt(lines[0], "SENT")
	if sent < 0 {
		t.Fatalf("no SENT column:\n%s", lines[0])
	}
	var sentRows, failedRows int
	for _, l := range lines[1:] {
		switch strings.Fields(l)[1] {
		case "sent":
			sentRows++
			if !strings.HasPrefix(fromCell(l, next), "- ") || !regexp.MustCompile(`^\w{3} \d+ \w{3} \d{4}`).MatchString(fromCell(l, sent)) {
				t.Errorf("a sent message reads:\n%s\n%s", lines[0], l)
			}
		case "failed":
			failedRows++
			if !strings.HasPrefix(fromCell(l, sent), "- ") {
				t.Errorf("a failed message reads:\n%s\n%s", lines[0], l)
			}
		}
	}
	if sentRows == 0 || failedRows == 0 {
		t.Errorf("%d sent and %d failed messages listed; the demo has both", sentRows, failedRows)
	}
}

// backup writes a private file, says in words when its folder is missing,
// and replaces an existing file only with --force, as export does.
func TestBackupFolderAndForce(t *testing.T) {
	defer syscall.Umask(syscall.Umask(0)) // the file is private by its own mode, not the umask
	c := newCLI(t)
	c.ok("demo", "--customers", "20")
	dir := t.TempDir()

	missing := filepath.Join(dir, "nightly", "copy.db")
	code, out, errs := c.run("backup", missing)
	if code != 1 || !strings.Contains(errs, "the folder "+filepath.Join(dir, "nightly")+" does not exist") || strings.Contains(errs, "(14)") {
		t.Errorf("backup into a missing folder: exit %d, stdout %q, stderr %q", code, out, errs)
	}

	dst := filepath.Join(dir, "copy.db")
	if err := os.WriteFile(dst, []byte("last night's"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs = c.run("backup", dst)
	if code != 1 || !strings.Contains(errs, "already exists") || !strings.Contains(errs, "--force") {
		t.Errorf("backup over a file: exit %d, %q", code, errs)
	}
	if b, _ := os.ReadFile(dst); string(b) != "last night's" {
		t.Fatal("backup without --force changed the file")
	}
	c.ok("backup", "--force", dst)
	st, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("the backup has mode %v; want 0600", st.Mode().Perm())
	}
	var n int
	cp, err := sql.Open("sqlite", "file:"+dst+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if err := cp.QueryRow(`SELECT count(*) FROM customers`).Scan(&n); err != nil || n != 20 {
		t.Errorf("the replaced backup holds %d customers (%v); want 20", n, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
		t.Errorf("temporary files left beside the backup: %v", left)
	}
}

// A progress bar never says 100% for an import that imported nothing, and
// counts agree with their nouns ("1 customer", "2 rows").
func TestImportProgressAndCounts(t *testing.T) {
	c := newCLI(t)
	c.ok("org", "add", "--name", "Harbor Yoga")
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("first_name,last_name,email\nAnn,Lee,ann@example.com\nBo,Chen,bo@example\nCy,Dee,cy@example.com\n"), 0o600)
	one := filepath.Join(dir, "one.csv")
	os.WriteFile(one, []byte("first_name,last_name,email\nAnn,Lee,ann@example.com\n"), 0o600)

	for _, args := range [][]string{{"customers", "import", bad}, {"customers", "import", "--dry-run", bad}} {
		code, out, errs := c.run(args...)
		if code != 1 || strings.Contains(errs, "100%") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 1 and no 100%%", args, code, out, errs)
		}
	}
	if n := c.count("customers"); n != 0 {
		t.Fatalf("%d customers imported from a refused file", n)
	}
	if out := c.ok("customers", "import", "--dry-run", one); !strings.Contains(out, "1 row,") || strings.Contains(out, "1 rows") {
		t.Errorf("dry run of one row: %q", out)
	}
	if out := c.ok("customers", "import", one); !strings.Contains(out, "Imported 1 customer into") {
		t.Errorf("import of one row: %q", out)
	}
	if _, _, errs := c.run("customers", "export", filepath.Join(dir, "out.csv")); !strings.Contains(errs, "Exported 1 customer of") {
		t.Errorf("export of one customer: %q", errs)
	}
	code, out, errs := c.run("customers", "import", "--skip-invalid", bad)
	if code != 0 || !strings.Contains(out, "Imported 1 customer into") || !strings.Contains(out, "skipped 2 rows with problems") {
		t.Errorf("--skip-invalid: exit %d, %q, %q", code, out, errs)
	}
	c.ok("staff", "add", "--email", "maya@harbor.example", "--name", "Maya", "--role", "owner")
	c.queueInvite()
	if out := c.ok("outbox", "rotate-key"); !strings.Contains(out, "1 message re-encrypted") {
		t.Errorf("rotate-key: %q", out)
	}
}

// A refusal about a named customer names them once.
func TestInviteNamesTheCustomerOnce(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "60")
	var claimed []struct {
		Email     string `json:"email"`
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
	}
	if err := json.Unmarshal([]byte(c.ok("customers", "list", "--json", "--status", "claimed", "--limit", "1")), &claimed); err != nil || len(claimed) == 0 {
		t.Fatalf("no claimed customer: %v", err)
	}
	name := claimed[0].FirstName + " " + claimed[0].LastName
	code, out, _ := c.run("invite", claimed[0].Email)
	if code != 1 || !strings.HasPrefix(out, name+": already claimed their account on ") || strings.Count(out, name) != 1 {
		t.Errorf("inviting %s, who claimed: exit %d, %q", name, code, out)
	}
	for _, arg := range []string{"nobody@example.com", "99999"} {
		code, out, _ := c.run("invite", arg)
		if code != 1 || strings.Count(out, arg) != 1 {
			t.Errorf("invite %s: exit %d, %q; want the customer named once", arg, code, out)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

type cli struct {
	t   *testing.T
	dir string
	env map[string]string
}

func newCLI(t *testing.T) *cli {
	// No test asks the machine's DNS: those of the email check point
	// FRONTDESK_EMAIL_DNS at an in-process server.
	return &cli{t: t, dir: t.TempDir(), env: map[string]string{"FRONTDESK_EMAIL_DNS": "off"}}
}

// run runs frontdesk in-process against the test's data directory.
func (c *cli) run(args ...string) (code int, stdout, stderr string) {
	c.t.Helper()
	var out, errb bytes.Buffer
	env := map[string]string{"FRONTDESK_DATA_DIR": c.dir}
	for k, v := range c.env {
		env[k] = v
	}
	code = Run(context.Background(), args, strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

// ok runs and fails the test unless the command succeeds.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	code, out, errs := c.run(args...)
	if code != 0 {
		c.t.Fatalf("frontdesk %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func (c *cli) sqlite() *sql.DB {
	c.t.Helper()
	// A busy timeout: a reader can meet SQLITE_BUSY while the last
	// connection of the command just run checkpoints the WAL as it closes.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(c.dir, "frontdesk.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { db.Close() })
	return db
}

func (c *cli) count(table string) int {
	c.t.Helper()
	var n int
	if err := c.sqlite().QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		c.t.Fatal(err)
	}
	return n
}

// TestDemoDatabaseIsHealthy is the README's first run: a demo on a fresh data
// directory leaves a database the sqlite3 shell would call healthy.
func TestDemoDatabaseIsHealthy(t *testing.T) {
	c := newCLI(t)
	out := c.ok("demo", "--customers", "300")
	if !strings.Contains(out, "Harbor Yoga") || !strings.Contains(out, "300 customers") {
		t.Fatalf("demo said %q", out)
	}
	// The roster leaves out the archived: the demo says how many, so that
	// its smaller count is explained.
	archived := c.count(`customers WHERE archived = 1`)
	if want := fmt.Sprintf("%d of them archived (the roster shows the other %d)", archived, 300-archived); archived == 0 || !strings.Contains(out, want) {
		t.Errorf("demo said %q; want %q", out, want)
	}
	db := c.sqlite()
	var mode, check string
	db.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
	db.QueryRow(`PRAGMA integrity_check`).Scan(&check)
	if mode != "wal" || check != "ok" {
		t.Fatalf("journal_mode=%s integrity_check=%s", mode, check)
	}
	rows, err := db.Query(`PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	if rows.Next() {
		t.Fatal("foreign_key_check reports violations")
	}
	rows.Close()

	// Refill, not duplicate.
	c.ok("demo", "--customers", "100")
	if n := c.count(`customers`); n != 100 {
		t.Fatalf("after refill with 100: %d customers", n)
	}
	if n := c.count(`staff`); n != 3 {
		t.Fatalf("after refill: %d staff, want 3", n)
	}
}

func TestCustomersListJSON(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "200")
	var all []map[string]any
	if err := json.Unmarshal([]byte(c.ok("customers", "list", "--json")), &all); err != nil {
		t.Fatal(err)
	}
	// Every live customer; the demo archives a few, which the roster hides.
	if live := c.count(`customers WHERE archived = 0`); len(all) != live || live < 190 {
		t.Fatalf("list --json gave %d customers, want the %d live ones of 200", len(all), live)
	}
	statuses := map[string]int{}
	for _, cu := range all {
		for _, k := range []string{"id", "first_name", "last_name", "email", "status"} {
			if _, ok := cu[k]; !ok {
				t.Fatalf("customer %v lacks %q", cu, k)
			}
		}
		statuses[cu["status"].(string)]++
	}
	// The status values are the words --status takes: each gives back
	// the customers that carry it.
	for _, s := range []string{"claimed", "invited", "expired", "failed", "not-invited", "no-email"} {
		if statuses[s] == 0 {
			t.Errorf("no %s customer in the demo: %v", s, statuses)
		}
		var some []map[string]any
		if err := json.Unmarshal([]byte(c.ok("customers", "list", "--json", "--status", s)), &some); err != nil || len(some) != statuses[s] {
			t.Errorf("--status %s gave %d customers (%v), want %d", s, len(some), err, statuses[s])
		}
	}
	if len(statuses) != 6 {
		t.Errorf("status values %v; want only the six words --status takes", statuses)
	}
	first := all[0]["first_name"].(string)
	var found []map[string]any
	json.Unmarshal([]byte(c.ok("customers", "list", "--json", "--search", first)), &found)
	if len(found) == 0 {
		t.Errorf("--search %q found nobody", first)
	}
	if out := c.ok("customers", "list", "--limit", "5"); strings.Count(out, "\n") != 6 {
		t.Errorf("--limit 5 printed:\n%s", out)
	}
	if code, _, errs := c.run("customers", "list", "--status", "sleeping"); code != 2 || !strings.Contains(errs, "not-invited") {
		t.Errorf("bad --status: exit %d, %s", code, errs)
	}
}

func TestOrgCommands(t *testing.T) {
	c := newCLI(t)
	if code, _, errs := c.run("customers", "list"); code != 1 || !strings.Contains(errs, "org add") {
		t.Fatalf("no org yet: exit %d, %q", code, errs)
	}
	out := c.ok("org", "add", "--name", "Café Zoë")
	if !strings.Contains(out, "cafe-zoe") {
		t.Fatalf("org add said %q", out)
	}
	out = c.ok("org", "set", "--invite-ttl", "72h", "--time-zone", "Europe/Paris", "--notifications", "off")
	if !strings.Contains(out, "3 days") || !strings.Contains(out, "Europe/Paris") || !strings.Contains(out, "off") {
		t.Fatalf("org set printed %q", out)
	}
	for _, bad := range [][]string{
		{"org", "set", "--time-zone", "Mars/Olympus"},
		{"org", "set", "--min-password-length", "6"},
		{"org", "set", "--invite-ttl", "10m"},
		{"org", "add", "--name", "Other", "--slug", "Bad Slug"},
	} {
		if code, _, errs := c.run(bad...); code == 0 || errs == "" {
			t.Errorf("%v accepted", bad)
		}
	}
	if code, _, errs := c.run("org", "set"); code != 2 || !strings.Contains(errs, "nothing to change") {
		t.Errorf("org set without changes: %d %q", code, errs)
	}
	c.ok("org", "add", "--name", "Summit Gym")
	if code, _, errs := c.run("staff", "list"); code != 1 || !strings.Contains(errs, "cafe-zoe, summit-gym") {
		t.Errorf("two orgs without --org: %d %q", code, errs)
	}
	c.ok("staff", "list", "--org", "summit-gym")
	c.env["FRONTDESK_ORG"] = "summit-gym"
	if out := c.ok("staff", "list"); !strings.Contains(out, "Summit Gym") {
		t.Errorf("FRONTDESK_ORG not applied: %q", out)
	}
	out = c.ok("org", "list")
	if !strings.Contains(out, "cafe-zoe") || !strings.Contains(out, "summit-gym") {
		t.Errorf("org list: %q", out)
	}
	// Every org change is audited.
	if n := c.count(`audit WHERE action LIKE 'org.%'`); n != 3 {
		t.Errorf("%d org audit rows, want 3", n)
	}
}

// Organization and staff names follow the one text rule: a control or
// invisible character is refused with exit 1 and a message saying what to
// do, and names already stored with one (an older frontdesk, a manual edit)
// are printed inert by org set, org list and staff list.
func TestNamesRefuseControlCharacters(t *testing.T) {
	c := newCLI(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"org", "add", "--name", "Bell\x07Studio"}, "organization name contains a control character (U+0007); remove it"},
		{[]string{"org", "add", "--name", "Harbor\u202eYoga"}, "organization name contains an invisible character (U+202E); remove it"},
	} {
		code, out, errs := c.run(tc.args...)
		if code != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 1 and %q", tc.args, code, out, errs, tc.want)
		}
		if strings.ContainsAny(errs, "\x07\u202e") {
			t.Errorf("%q: the refusal echoes the character raw: %q", tc.args, errs)
		}
	}
	if n := c.count("orgs"); n != 0 {
		t.Fatalf("%d organizations created from refused names", n)
	}
	c.ok("org", "add", "--name", "Harbor Yoga")
	if code, _, errs := c.run("org", "set", "--name", "Zero\u200bWidth"); code != 1 || !strings.Contains(errs, "invisible character (U+200B)") {
		t.Errorf("org set --name with U+200B: exit %d, %q", code, errs)
	}
	if code, _, errs := c.run("staff", "add", "--email", "jo@harbor.example", "--name", "Jo\x1b[2J", "--role", "staff"); code != 1 || !strings.Contains(errs, "staff name contains a control character (U+001B)") {
		t.Errorf("staff add --name with ESC: exit %d, %q", code, errs)
	}
	c.ok("staff", "add", "--email", "jo@harbor.example", "--name", "Jo Front", "--role", "owner")

	// Stored before the rule existed.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(c.dir, "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE orgs SET name = 'Harbor' || char(27) || '[2J' || char(8238) || 'Yoga'; UPDATE staff SET name = 'Jo' || char(27) || ']52;c;ZXZpbA==' || char(7) || 'Front'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, args := range [][]string{{"org", "list"}, {"staff", "list"}} {
		out := c.ok(args...)
		if strings.ContainsAny(out, "\x1b\x07\u202e") {
			t.Errorf("%q printed a stored control character raw: %q", args, out)
		}
		if args[0] == "org" && !strings.Contains(out, `Harbor\x1b[2J\u202eYoga`) {
			t.Errorf("%q does not show the stored name inert: %q", args, out)
		}
		if args[0] == "staff" && !strings.Contains(out, `Jo\x1b]52;c;ZXZpbA==\x07Front`) {
			t.Errorf("%q does not show the stored name inert: %q", args, out)
		}
	}
	// Any other change first needs the name fixed, and says so.
	if code, _, errs := c.run("org", "set", "--time-zone", "Europe/London"); code != 1 || !strings.Contains(errs, "organization name contains a control character (U+001B)") {
		t.Errorf("org set with a stored control character in the name: exit %d, %q", code, errs)
	}
	out := c.ok("org", "set", "--name", "Harbor Yoga", "--walkthrough-url", "https://video.example/\x1b[2Jintro")
	if strings.ContainsRune(out, '\x1b') || !strings.Contains(out, `https://video.example/\x1b[2Jintro`) {
		t.Errorf("org set printed %q", out)
	}
}

func TestEnvironmentAndFlagErrors(t *testing.T) {
	c := newCLI(t)
	c.env["FRONTDESK_INVITE_TTL"] = "a week"
	code, _, errs := c.run("org", "list")
	if code != 2 || !strings.Contains(errs, "FRONTDESK_INVITE_TTL") {
		t.Fatalf("bad env duration: exit %d, %q", code, errs)
	}
	delete(c.env, "FRONTDESK_INVITE_TTL")
	if code, _, errs := c.run("org", "list", "--invite-ttl", "soon"); code != 2 || !strings.Contains(errs, "--invite-ttl") {
		t.Fatalf("bad flag duration: exit %d, %q", code, errs)
	}
	if code, _, errs := c.run("org", "list", "--smtp-tls", "maybe"); code != 2 || !strings.Contains(errs, "starttls") {
		t.Fatalf("bad --smtp-tls: exit %d, %q", code, errs)
	}
	file := filepath.Join(c.dir, "afile")
	os.WriteFile(file, nil, 0o600)
	if code, _, errs := c.run("org", "list", "--data-dir", file); code != 2 || !strings.Contains(errs, "--data-dir") {
		t.Fatalf("--data-dir is a file: exit %d, %q", code, errs)
	}
	if code, _, _ := c.run("no-such-command"); code == 0 {
		t.Fatal("unknown command succeeded")
	}
	if code, out, _ := c.run("--help"); code != 0 || !strings.Contains(out, "FRONTDESK_SMTP_HOST") || !strings.Contains(out, "customers") {
		t.Fatalf("--help: %d %q", code, out)
	}
}

func TestStaffCommands(t *testing.T) {
	c := newCLI(t)
	c.ok("org", "add", "--name", "Harbor Yoga")
	keyFile := filepath.Join(c.dir, "desk.pub")
	const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ desk@laptop"
	os.WriteFile(keyFile, []byte(key+"\n"), 0o600)
	c.ok("staff", "add", "--email", "maya@harbor.example", "--name", "Maya", "--role", "owner")
	out := c.ok("staff", "add", "--email", "jo@harbor.example", "--name", "Jo", "--role", "staff", "--key-file", keyFile)
	if !strings.Contains(out, "SHA256:") {
		t.Fatalf("staff add with key: %q", out)
	}
	if code, _, errs := c.run("staff", "add", "--email", "x@harbor.example", "--name", "X", "--role", "boss"); code != 2 || !strings.Contains(errs, "owner, admin or staff") {
		t.Fatalf("bad role: %d %q", code, errs)
	}
	if code, _, errs := c.run("staff", "key", "add", "maya@harbor.example", key); code != 1 || !strings.Contains(errs, "already registered") {
		t.Fatalf("same key twice: %d %q", code, errs)
	}
	if code, _, _ := c.run("staff", "key", "add", "maya@harbor.example", "ssh-rsa garbage"); code != 1 {
		t.Fatal("garbage key accepted")
	}
	out = c.ok("staff", "list")
	if !strings.Contains(out, "jo@harbor.example") || !strings.Contains(out, "SHA256:") {
		t.Fatalf("staff list: %q", out)
	}
	if code, _, errs := c.run("staff", "remove", "maya@harbor.example"); code != 1 || !strings.Contains(errs, "last owner") {
		t.Fatalf("removing the last owner: %d %q", code, errs)
	}
	c.ok("staff", "remove", "jo@harbor.example")
	if n := c.count(`staff_keys`); n != 0 {
		t.Fatalf("removed staff still has %d keys", n)
	}
	if n := c.count(`audit WHERE action LIKE 'staff.%'`); n != 3 {
		t.Fatalf("%d staff audit rows, want 3", n)
	}
}

func TestImportExportThroughCLI(t *testing.T) {
	c := newCLI(t)
	c.ok("org", "add", "--name", "Harbor Yoga")
	good := filepath.Join(c.dir, "good.csv")
	os.WriteFile(good, []byte("\ufefffirst_name,last_name,email,phone,Membership level\r\nAnn,Lee,ann@example.com,0142,Gold\r\nZoë,Ng,,,\r\n"), 0o600)
	bad := filepath.Join(c.dir, "bad.csv")
	os.WriteFile(bad, []byte("first_name,last_name,email\nBo,Chen,bo@example\nCy,Dee,ann@example.com\nEd,Fu,ed@example.com\n"), 0o600)

	if out := c.ok("customers", "import", good, "--dry-run"); !strings.Contains(out, "nothing was imported") {
		t.Fatalf("dry run: %q", out)
	}
	if n := c.count(`customers`); n != 0 {
		t.Fatalf("dry run wrote %d customers", n)
	}
	c.ok("customers", "import", good)
	code, _, errs := c.run("customers", "import", bad)
	if code != 1 || !strings.Contains(errs, "bad.csv:2:") || !strings.Contains(errs, "bad.csv:3:") || !strings.Contains(errs, "Ann Lee") {
		t.Fatalf("bad import: exit %d\n%s", code, errs)
	}
	if n := c.count(`customers`); n != 2 {
		t.Fatalf("failed import left %d customers, want the 2 from before", n)
	}
	out := c.ok("customers", "import", bad, "--skip-invalid")
	if !strings.Contains(out, "Imported 1") {
		t.Fatalf("--skip-invalid: %q", out)
	}

	exported := filepath.Join(c.dir, "out.csv")
	c.ok("customers", "export", exported)
	if code, _, errs := c.run("customers", "export", exported); code != 1 || !strings.Contains(errs, "--force") {
		t.Fatalf("export over an existing file: %d %q", code, errs)
	}
	b, _ := os.ReadFile(exported)
	if got := string(b); !strings.HasPrefix(got, "first_name,last_name,email,phone,Membership level\n") || !strings.Contains(got, "Ann,Lee,ann@example.com,0142,Gold\n") {
		t.Fatalf("export:\n%s", got)
	}
	if stdout := c.ok("customers", "export"); stdout != string(b) {
		t.Fatalf("export to stdout differs from export to file")
	}
}

func TestBackupCommand(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "50")
	dst := filepath.Join(t.TempDir(), "copy.db")
	if out := c.ok("backup", dst); !strings.Contains(out, dst) {
		t.Fatalf("backup said %q", out)
	}
	cp, err := sql.Open("sqlite", "file:"+dst+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	var n int
	cp.QueryRow(`SELECT count(*) FROM customers`).Scan(&n)
	if n != 50 {
		t.Fatalf("backup has %d customers, want 50", n)
	}
	if code, _, _ := c.run("backup", dst); code != 1 {
		t.Fatal("backup overwrote an existing file")
	}
}

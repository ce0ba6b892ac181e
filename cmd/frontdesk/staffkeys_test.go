package main

import (
	"encoding/json"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// auditRows are the organization's audit rows of action: actor kind, actor
// name and detail, oldest first.
func (c *cli) auditRows(action string) [][3]string {
	c.t.Helper()
	rows, err := c.sqlite().Query(`SELECT actor_kind, actor_name, detail FROM audit WHERE action = ? ORDER BY id`, action)
	if err != nil {
		c.t.Fatal(err)
	}
	defer rows.Close()
	var out [][3]string
	for rows.Next() {
		var r [3]string
		if err := rows.Scan(&r[0], &r[1], &r[2]); err != nil {
			c.t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// cliActor is the audit's name for a command run by this test's user.
func cliActor(t *testing.T) string {
	u, err := user.Current()
	if err != nil {
		return "cli"
	}
	return "cli:" + u.Username
}

// keyJSON is an element of `staff key list --json`, every field as the
// README lists it.
type keyJSON struct {
	Fingerprint string     `json:"fingerprint"`
	Type        string     `json:"type"`
	Comment     string     `json:"comment"`
	Email       string     `json:"email"`
	Name        string     `json:"name"`
	AddedAt     *time.Time `json:"added_at"`
	LastUsedAt  *time.Time `json:"last_used_at"`
}

// keyList is `staff key list --json` with args, checked to carry exactly
// the documented fields.
func (c *cli) keyList(args ...string) []keyJSON {
	c.t.Helper()
	out := c.ok(append([]string{"staff", "key", "list", "--json"}, args...)...)
	var raw []map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		c.t.Fatalf("staff key list --json is not JSON: %v\n%s", err, out)
	}
	want := []string{"added_at", "comment", "email", "fingerprint", "last_used_at", "name", "type"}
	for _, el := range raw {
		var got []string
		for k := range el {
			got = append(got, k)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			c.t.Fatalf("staff key list --json fields %v, want %v", got, want)
		}
	}
	var keys []keyJSON
	json.Unmarshal([]byte(out), &keys)
	return keys
}

// keysUsed waits until every key of email was last used at or after since
// (a session records it beside its start) and returns them.
func (c *cli) keysUsed(email string, since time.Time) []keyJSON {
	c.t.Helper()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		keys := c.keyList(email)
		used := 0
		for _, k := range keys {
			if k.LastUsedAt != nil && !k.LastUsedAt.Before(since.Truncate(time.Second)) {
				used++
			}
		}
		if used == len(keys) {
			return keys
		}
		select {
		case <-deadline:
			c.t.Fatalf("keys of %s not all used since %s: %+v", email, since, keys)
		case <-tick.C:
		}
	}
}

func TestStaffKeyListAndRemove(t *testing.T) {
	c := newCLI(t)
	c.ok("org", "add", "--name", "Harbor Yoga")
	c.ok("staff", "add", "--email", "maya@harbor.example", "--name", "Maya", "--role", "owner")
	c.ok("staff", "add", "--email", "jo@harbor.example", "--name", "Jo", "--role", "staff")
	if out := c.ok("staff", "key", "list"); !strings.Contains(out, "Harbor Yoga's staff have no SSH keys") || !strings.Contains(out, "--data-dir") {
		t.Fatalf("no keys yet: %q", out)
	}
	if keys := c.keyList(); len(keys) != 0 {
		t.Fatalf("no keys yet, JSON: %+v", keys)
	}
	_, laptop := newKey(t)
	_, phone := newKey(t)
	_, maya := newKey(t)
	// A comment is the key maker's text: an escape in it must reach the
	// terminal inert.
	c.ok("staff", "key", "add", "jo@harbor.example", laptop+" jo@old-laptop")
	c.ok("staff", "key", "add", "jo@harbor.example", phone+" jo\x1b[2Jphone")
	c.ok("staff", "key", "add", "maya@harbor.example", maya)

	out := c.ok("staff", "key", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !regexp.MustCompile(`^EMAIL +FINGERPRINT +TYPE +COMMENT +ADDED +LAST USED$`).MatchString(lines[0]) {
		t.Fatalf("staff key list:\n%s", out)
	}
	if strings.Contains(out, "\x1b") || !strings.Contains(out, "jo@old-laptop") {
		t.Fatalf("the comments are not shown inert:\n%q", out)
	}
	for _, l := range lines[1:] {
		if !strings.Contains(l, "SHA256:") || !strings.Contains(l, "ssh-ed25519") || !strings.HasSuffix(l, "never") {
			t.Errorf("row %q: want a fingerprint, the type and last used \"never\"", l)
		}
	}
	// The organization's owners first, as staff list orders them.
	if !strings.HasPrefix(lines[1], "maya@harbor.example") {
		t.Errorf("first row %q, want the owner's", lines[1])
	}

	keys := c.keyList("jo@harbor.example")
	if len(keys) != 2 || keys[0].Comment != "jo@old-laptop" || keys[0].Email != "jo@harbor.example" || keys[0].Name != "Jo" ||
		keys[0].Type != "ssh-ed25519" || keys[0].AddedAt == nil || keys[0].LastUsedAt != nil || !strings.HasPrefix(keys[0].Fingerprint, "SHA256:") {
		t.Fatalf("Jo's keys: %+v", keys)
	}
	if all := c.keyList(); len(all) != 3 {
		t.Fatalf("the organization's keys: %+v", all)
	}

	// Unknown, too short, MD5: refused in words, nothing removed.
	for _, bad := range []struct{ arg, says string }{
		{"SHA256:nosuchkeynosuchkeynosuchkeynosuchkeynosuch", "no registered key"},
		{"SHA256:ab", "too short"},
		{"16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48", "MD5"},
	} {
		if code, _, errs := c.run("staff", "key", "remove", bad.arg); code != 1 || !strings.Contains(errs, bad.says) {
			t.Errorf("staff key remove %s: exit %d, %q; want 1 saying %q", bad.arg, code, errs, bad.says)
		}
	}
	if n := c.count("staff_keys"); n != 3 {
		t.Fatalf("%d keys after refused removals, want 3", n)
	}

	// As printed, then without "SHA256:".
	out = c.ok("staff", "key", "remove", keys[0].Fingerprint)
	if !strings.Contains(out, "Removed key "+keys[0].Fingerprint+" of Jo <jo@harbor.example>") || strings.Contains(out, "no SSH key left") {
		t.Fatalf("staff key remove: %q", out)
	}
	out = c.ok("staff", "key", "remove", strings.TrimPrefix(keys[1].Fingerprint, "SHA256:"))
	if !strings.Contains(out, "Jo <jo@harbor.example> has no SSH key left") || !strings.Contains(out, "staff key add jo@harbor.example KEY.pub --data-dir") {
		t.Fatalf("removing Jo's last key: %q", out)
	}
	if left := c.keyList(); len(left) != 1 || left[0].Email != "maya@harbor.example" {
		t.Fatalf("left: %+v", left)
	}
	if code, _, errs := c.run("staff", "key", "remove", keys[0].Fingerprint); code != 1 || !strings.Contains(errs, "no registered key") {
		t.Fatalf("removing it again: %d %q", code, errs)
	}
	rows := c.auditRows("staff.key.remove")
	if len(rows) != 2 {
		t.Fatalf("audit rows %v, want 2", rows)
	}
	for i, r := range rows {
		if r[0] != "system" || r[1] != cliActor(t) || !strings.Contains(r[2], keys[i].Fingerprint) || !strings.Contains(r[2], "jo@harbor.example") {
			t.Errorf("audit row %v", r)
		}
	}
	if code, _, errs := c.run("staff", "key", "list", "nobody@harbor.example"); code != 1 || !strings.Contains(errs, "no staff member with email") {
		t.Fatalf("an unknown email: %d %q", code, errs)
	}
}

func TestStaffSet(t *testing.T) {
	c := newCLI(t)
	c.ok("org", "add", "--name", "Harbor Yoga")
	c.ok("org", "add", "--name", "Other Studio")
	c.ok("staff", "add", "--org", "harbor-yoga", "--email", "maya@harbor.example", "--name", "Maya", "--role", "owner")
	c.ok("staff", "add", "--org", "harbor-yoga", "--email", "sam@harbor.example", "--name", "Sam", "--role", "admin")
	c.ok("staff", "add", "--org", "other-studio", "--email", "lee@other.example", "--name", "Lee", "--role", "owner")
	role := func(email string) string {
		var r string
		if err := c.sqlite().QueryRow(`SELECT role FROM staff WHERE email = ? AND removed_at IS NULL`, email).Scan(&r); err != nil {
			t.Fatal(err)
		}
		return r
	}

	// The last owner: neither demoted nor removed, and told what to do.
	for _, args := range [][]string{{"staff", "set", "maya@harbor.example", "--role", "admin"}, {"staff", "remove", "maya@harbor.example"}} {
		code, _, errs := c.run(args...)
		if code != 1 || !strings.Contains(errs, "last owner") || !strings.Contains(errs, "add another owner first") {
			t.Errorf("%v: exit %d, %q", args, code, errs)
		}
	}
	if role("maya@harbor.example") != "owner" {
		t.Fatal("the last owner was demoted")
	}

	for _, bad := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"staff", "set", "sam@harbor.example"}, 2, "--role, --name or both"},
		{[]string{"staff", "set", "sam@harbor.example", "--role", "boss"}, 2, "owner, admin or staff"},
		{[]string{"staff", "set", "sam@harbor.example", "--name", "Sam\x1b]0;pwned\x07"}, 1, "control character"},
		{[]string{"staff", "set", "sam@harbor.example", "--name", " "}, 1, "name is empty"},
		{[]string{"staff", "set", "nobody@harbor.example", "--role", "staff"}, 1, "no staff member with email"},
		{[]string{"staff", "set", "lee@other.example", "--role", "staff", "--org", "harbor-yoga"}, 1, "not on the staff of Harbor Yoga"},
	} {
		if code, _, errs := c.run(bad.args...); code != bad.code || !strings.Contains(errs, bad.says) {
			t.Errorf("%v: exit %d, %q; want %d saying %q", bad.args, code, errs, bad.code, bad.says)
		}
	}
	if n := len(c.auditRows("staff.set")); n != 0 {
		t.Fatalf("%d audit rows after refusals", n)
	}

	out := c.ok("staff", "set", "sam@harbor.example", "--role", "owner", "--name", "Sam Rivera")
	if !strings.Contains(out, "Sam Rivera <sam@harbor.example> is now owner (was admin)") || !strings.Contains(out, "Renamed Sam to Sam Rivera") {
		t.Fatalf("staff set: %q", out)
	}
	// With a second owner, the first may step down.
	c.ok("staff", "set", "maya@harbor.example", "--role", "staff")
	if role("maya@harbor.example") != "staff" || role("sam@harbor.example") != "owner" {
		t.Fatal("roles not written")
	}
	if out := c.ok("staff", "set", "maya@harbor.example", "--role", "staff"); !strings.Contains(out, "Nothing to change") {
		t.Fatalf("the same role again: %q", out)
	}
	rows := c.auditRows("staff.set")
	want := []string{`sam@harbor.example: role admin → owner; name "Sam" → "Sam Rivera"`, "maya@harbor.example: role owner → staff"}
	if len(rows) != len(want) {
		t.Fatalf("audit rows %v, want %d", rows, len(want))
	}
	for i, r := range rows {
		if r[0] != "system" || r[1] != cliActor(t) || r[2] != want[i] {
			t.Errorf("audit row %v, want system %s %q", r, cliActor(t), want[i])
		}
	}
	if out := c.ok("staff", "list", "--org", "harbor-yoga"); !regexp.MustCompile(`sam@harbor.example +Sam Rivera +owner`).MatchString(out) {
		t.Fatalf("staff list after set:\n%s", out)
	}
}

// The new staff commands create no database where there is none.
func TestStaffCommandsCreateNoDatabase(t *testing.T) {
	c := newCLI(t)
	for _, args := range [][]string{
		{"staff", "key", "list"},
		{"staff", "key", "remove", "SHA256:AbCdEfGhIjKLMNOPQRSTUVWXYZabcdefghijklmnopq"},
		{"staff", "set", "jo@harbor.example", "--role", "admin"},
	} {
		if code, _, errs := c.run(args...); code != 1 || !strings.Contains(errs, "frontdesk demo") {
			t.Errorf("%v without a database: exit %d, %q", args, code, errs)
		}
	}
	if entries, _ := os.ReadDir(c.dir); len(entries) != 0 {
		t.Fatalf("the data directory has %d entries, want none", len(entries))
	}
}

// `staff add` without a key prints the line that registers one for this
// very data directory.
func TestStaffAddHintNamesDataDir(t *testing.T) {
	c := newCLI(t)
	c.ok("org", "add", "--name", "Harbor Yoga")
	out := c.ok("staff", "add", "--email", "jo@harbor.example", "--name", "Jo", "--role", "staff")
	dir, _ := filepath.Abs(c.dir)
	if want := "frontdesk staff key add jo@harbor.example their_key.pub --data-dir " + shellQuote(dir); !strings.Contains(out, want) {
		t.Fatalf("staff add: %q, want %q", out, want)
	}
}

// Over real SSH clients: removing one of a person's keys ends the session
// that key opened, at once and saying why, while their session of another
// key goes on, and that key still signs in; each key's last use is listed.
func TestServeKeyRemovalEndsThatKeysSession(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "5")
	lost, lostLine := newKey(t)
	kept, keptLine := newKey(t)
	c.ok("staff", "key", "add", demoDesk, lostLine+" jo@lost-laptop")
	c.ok("staff", "key", "add", demoDesk, keptLine+" jo@desk")
	s := c.serve()
	before := time.Now().Add(-time.Second)
	onLost, onKept := s.login(lost, 100, 30), s.login(kept, 100, 30)
	onLost.wait("Jo Front (staff)")
	onKept.wait("Jo Front (staff)")

	var fp string
	for _, k := range c.keysUsed(demoDesk, before) {
		if k.Comment == "jo@lost-laptop" {
			fp = k.Fingerprint
		}
	}
	if fp != gossh.FingerprintSHA256(lost.PublicKey()) {
		t.Fatalf("listed %q for the lost key", fp)
	}

	onKept.watch()
	start := time.Now()
	c.ok("staff", "key", "remove", fp)
	if err := onLost.closed(15 * time.Second); err != nil {
		t.Fatalf("closing: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the session ended %s after the removal, want at once", took.Round(time.Millisecond))
	}
	if !strings.Contains(onLost.screen(), "your access changed: the SSH key this session signed in with was removed") ||
		!strings.Contains(onLost.screen(), "Connect with another key") {
		t.Fatalf("the client was not told why:\n%s", onLost.screen())
	}
	// The other session goes on: it still answers keys.
	onKept.send("\t")
	onKept.wait("[Not invited")
	select {
	case err := <-onKept.exited:
		t.Fatalf("the other key's session ended too: %v\n%s", err, onKept.screen())
	default:
	}
	if _, err := dialSSH(t, s.ssh, s.dataDir, gossh.PublicKeys(lost)); err == nil {
		t.Fatal("the removed key still signs in")
	}
	s.login(kept, 100, 30).wait("Jo Front (staff)")
	if _, ok := s.stderr.waitFor(0, 5*time.Second, func(l string) bool {
		return strings.Contains(l, `msg="session end"`) && strings.Contains(l, `reason="key removed"`)
	}); !ok {
		t.Errorf("the server log does not say why the session ended:\n%s", s.stderr)
	}
}

// Over a real SSH client: an admin demoted to staff has their open session
// ended at once with the reason, and the session they open again cannot
// invite.
func TestServeDemotionEndsSessionAtOnce(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "20")
	key := c.withKey(demoAdmin)
	s := c.serve()
	tm := s.login(key, 120, 30)
	tm.wait("Sam Rivera (admin)")
	start := time.Now()
	c.ok("staff", "set", demoAdmin, "--role", "staff")
	if err := tm.closed(15 * time.Second); err != nil {
		t.Fatalf("closing: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the session ended %s after the demotion, want at once", took.Round(time.Millisecond))
	}
	if !strings.Contains(tm.screen(), "your access changed: your role changed from admin to staff") {
		t.Fatalf("the client was not told why:\n%s", tm.screen())
	}
	again := s.login(key, 120, 30)
	again.wait("Sam Rivera (staff)")
	again.send("\ti")
	again.wait("Your role cannot manage customers")
	if n := c.count("invites WHERE created_at > strftime('%s','now') - 60"); n != 0 {
		t.Fatalf("%d invites written after the demotion", n)
	}
	if rows := c.auditRows("staff.set"); len(rows) != 1 || rows[0][2] != demoAdmin+": role admin → staff" {
		t.Fatalf("audit rows %v", rows)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"frontdesk/claim"
	"frontdesk/store"
)

// listed is a customer as customers list --json prints them.
type listed struct {
	ID        int64  `json:"id"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email"`
}

func (l listed) name() string { return strings.TrimSpace(l.FirstName + " " + l.LastName) }

func (c *cli) listStatus(status string) []listed {
	c.t.Helper()
	var out []listed
	if err := json.Unmarshal([]byte(c.ok("customers", "list", "--json", "--status", status)), &out); err != nil {
		c.t.Fatal(err)
	}
	return out
}

// writes is a count of everything an invite writes.
func (c *cli) writes() [3]int {
	return [3]int{c.count("outbox"), c.count("invites"), c.count("audit")}
}

// eligible splits customers into those an invite can go to and those it
// cannot (an address that is not valid).
func eligible(cs []listed) (will, skip []listed) {
	for _, cu := range cs {
		if store.ValidateEmail(cu.Email) == nil {
			will = append(will, cu)
		} else {
			skip = append(skip, cu)
		}
	}
	return will, skip
}

// invite --all without a terminal to ask on goes ahead only with --yes;
// --dry-run says who would get an invite and who is skipped and why, and
// writes nothing.
func TestInviteAllDryRunAndYes(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "80")
	before := c.writes()
	will, skip := eligible(append(c.listStatus("not-invited"), c.listStatus("expired")...))
	if len(will) == 0 || len(skip) == 0 {
		t.Fatalf("the demo has %d customers to invite and %d to skip; the test needs both", len(will), len(skip))
	}

	code, out, errs := c.run("invite", "--all")
	if code != 2 || !strings.Contains(errs, "--yes") || !strings.Contains(errs, "--dry-run") {
		t.Errorf("invite --all without a terminal or --yes: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if c.writes() != before {
		t.Fatal("invite --all without --yes wrote")
	}

	out = c.ok("invite", "--all", "--dry-run")
	if !strings.Contains(out, "Dry run: "+customers(len(will))+" would get an invite") || !strings.Contains(out, "nothing was sent") {
		t.Errorf("dry run said:\n%s", out)
	}
	for _, cu := range will {
		if !strings.Contains(out, cu.name()+" <"+cu.Email+">") {
			t.Errorf("the dry run does not name %s <%s>:\n%s", cu.name(), cu.Email, out)
		}
	}
	for _, cu := range skip {
		if !regexp.MustCompile(`(?m)^  skipped \d+, email not valid: .*` + regexp.QuoteMeta(cu.name())).MatchString(out) {
			t.Errorf("the dry run does not say why %s is skipped:\n%s", cu.name(), out)
		}
	}
	if c.writes() != before {
		t.Fatal("the dry run wrote")
	}

	out = c.ok("invite", "--all", "--yes")
	if !strings.Contains(out, "Invites: "+strconv.Itoa(len(will))+" sent") {
		t.Errorf("invite --all --yes said:\n%s", out)
	}
	if out := c.ok("invite", "--all", "--yes"); !strings.Contains(out, "Invites: 0 sent") && !strings.Contains(out, "Nobody to invite") {
		t.Errorf("a second run said:\n%s", out)
	}
	for _, bad := range [][]string{{"invite", "--dry-run", "x@example.com"}, {"invite", "--yes", "x@example.com"}} {
		if code, _, _ := c.run(bad...); code != 2 {
			t.Errorf("%v: exit %d; --dry-run and --yes go with --all", bad, code)
		}
	}
}

// customers is n customers, as a person would write it.
func customers(n int) string {
	if n == 1 {
		return "1 customer"
	}
	return strconv.Itoa(n) + " customers"
}

// On a terminal, invite --all asks first: how many, and who, by a sample.
func TestInviteAllAsksOnATerminal(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "80")
	will, _ := eligible(append(c.listStatus("not-invited"), c.listStatus("expired")...))
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	go io.Copy(io.Discard, ptmx) // the terminal's echo

	ask := func(answer string) (int, string, string) {
		t.Helper()
		env := map[string]string{"FRONTDESK_DATA_DIR": c.dir, "FRONTDESK_EMAIL_DNS": "off"}
		var out bytes.Buffer
		errs := newWatched()
		done := make(chan int, 1)
		go func() {
			done <- Run(context.Background(), []string{"invite", "--all"}, tty, &out, errs, func(k string) string { return env[k] })
		}()
		prompt, ok := errs.waitFor(0, 15*time.Second, func(s string) bool { return strings.Contains(s, "[y/N]") })
		if !ok {
			t.Fatalf("no question on the terminal:\n%s", prompt)
		}
		if _, err := ptmx.Write([]byte(answer + "\n")); err != nil {
			t.Fatal(err)
		}
		select {
		case code := <-done:
			return code, out.String(), prompt
		case <-time.After(30 * time.Second):
			t.Fatalf("invite --all still running after %q", answer)
			return 0, "", ""
		}
	}

	before := c.writes()
	code, out, prompt := ask("n")
	if !strings.Contains(prompt, "Invite "+customers(len(will))+" of Harbor Yoga") {
		t.Errorf("the question does not say how many:\n%s", prompt)
	}
	for _, cu := range will[:5] {
		if !strings.Contains(prompt, cu.name()) {
			t.Errorf("the question does not name %s among the first five:\n%s", cu.name(), prompt)
		}
	}
	if !strings.Contains(prompt, "and "+strconv.Itoa(len(will)-5)+" more") || strings.Contains(prompt, will[5].name()) {
		t.Errorf("the question names more than a sample:\n%s", prompt)
	}
	if code != 1 || c.writes() != before {
		t.Errorf("answered n: exit %d, stdout %q; want exit 1 and nothing written", code, out)
	}

	code, out, _ = ask("y")
	if code != 0 || !strings.Contains(out, "Invites: "+strconv.Itoa(len(will))+" sent") {
		t.Errorf("answered y: exit %d, %q", code, out)
	}
}

// --status failed sends again to customers whose invite could not be
// delivered; one whose email was fixed since is not-invited again, and the
// default --all reaches them.
func TestInviteAllFailed(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "200")
	failed := c.listStatus("failed")
	if len(failed) < 2 {
		t.Fatalf("the demo has %d failed deliveries; the test needs 2", len(failed))
	}

	// Fix the first one's address, as staff would in the TUI.
	db, err := store.Open(filepath.Join(c.dir, "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	owner, err := db.StaffByEmail(ctx, "owner@harbor-yoga.example")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&claim.Service{DB: db}).ChangeEmail(ctx, owner, failed[0].ID, "fixed.address@example.com"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	out := c.ok("invite", "--all", "--status", "failed", "--dry-run")
	if strings.Contains(out, failed[0].name()) {
		t.Errorf("the customer whose email was fixed is still listed as failed:\n%s", out)
	}
	for _, cu := range failed[1:] {
		if !strings.Contains(out, cu.name()+" <"+cu.Email+">") {
			t.Errorf("--status failed does not reach %s:\n%s", cu.name(), out)
		}
	}
	if out := c.ok("invite", "--all", "--dry-run"); !strings.Contains(out, failed[0].name()+" <fixed.address@example.com>") {
		t.Errorf("the default --all does not reach the fixed address:\n%s", out)
	}

	out = c.ok("invite", "--all", "--status", "failed", "--yes")
	if !strings.Contains(out, "Invites: "+strconv.Itoa(len(failed)-1)+" sent") {
		t.Errorf("--status failed --yes said:\n%s", out)
	}
	if left := c.listStatus("failed"); len(left) != 0 {
		t.Errorf("%d customers still failed after the re-send", len(left))
	}
}

package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"frontdesk/store/storetest"
)

// customerOut is the --json of add, set, archive and restore.
type customerOut struct {
	ID        int64             `json:"id"`
	FirstName string            `json:"first_name"`
	LastName  string            `json:"last_name"`
	Email     string            `json:"email"`
	Phone     string            `json:"phone"`
	Status    string            `json:"status"`
	Archived  bool              `json:"archived"`
	Fields    map[string]string `json:"fields"`
}

func (c *cli) customerJSON(args ...string) customerOut {
	c.t.Helper()
	var got customerOut
	out := c.ok(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		c.t.Fatalf("frontdesk %s --json printed %q: %v", strings.Join(args, " "), out, err)
	}
	return got
}

// audit lists the actions audited about customer id, oldest first.
func (c *cli) audit(id int64) string {
	c.t.Helper()
	rows, err := c.sqlite().Query(`SELECT action || ' by ' || actor_name FROM audit WHERE customer_id = ? ORDER BY id`, id)
	if err != nil {
		c.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

// customers add and customers set: the customer form's rules and words on
// the command line, each refusal naming its flag, --json for scripts, and
// only the flags given changed.
func TestCustomersAddAndSet(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "60")
	_, taken := c.firstWith("claimed")

	code, out, errs := c.run("customers", "add", "--first-name", "Walk", "--last-name", "In", "--email", "walk.in@example.com",
		"--phone", "0161 496 8466", "--field", "membership level=Gold")
	if code != 0 || !strings.HasPrefix(out, "Walk In was added (id ") || !strings.Contains(out, "Invite them to claim their account: frontdesk invite ") {
		t.Fatalf("add: exit %d, %q %q", code, out, errs)
	}
	walk := c.customerJSON("customers", "set", "walk.in@example.com", "--last-name", "Inn")
	if walk.FirstName != "Walk" || walk.LastName != "Inn" || walk.Phone != "0161 496 8466" || walk.Fields["Membership level"] != "Gold" || walk.Status != "not_invited" || walk.Archived {
		t.Errorf("after set --last-name: %+v", walk)
	}
	id := strconv.FormatInt(walk.ID, 10)
	if got := c.audit(walk.ID); got != "customer.add by Maya Harbor, customer.edit by Maya Harbor" {
		t.Errorf("audit: %s", got)
	}
	// Found by the new name, as the TUI's search finds it.
	if out := c.ok("customers", "list", "--search", "walk inn"); !strings.Contains(out, "Walk Inn") {
		t.Errorf("search for the new name: %q", out)
	}
	out = c.ok("customers", "set", id, "--phone", "0161 496 8466")
	if out != "Nothing to change: Walk Inn (id "+id+") already has these details.\n" {
		t.Errorf("set to the same value: %q", out)
	}
	out = c.ok("customers", "set", id, "--field", "Membership level=", "--email", "walk@new.example")
	if !strings.Contains(out, "Saved Walk Inn (id "+id+"): Membership level.") || !strings.Contains(out, "Email of Walk Inn (id "+id+") changed to walk@new.example.") {
		t.Errorf("set a field and the email: %q", out)
	}

	users := c.count("customers")
	audits := c.count("audit")
	for _, bad := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"customers", "add", "--first-name", "Jo", "--email", strings.ToUpper(taken)}, 1, "already uses this email"},
		{[]string{"customers", "add", "--first-name", "Jo\u200b", "--phone", "call me", "--email", "jo@gmail"}, 1,
			`--email: Not valid: email domain "gmail" has no dot (did you mean gmail.com?). --first-name: First name contains an invisible character (U+200B); remove it. --phone: Phone has no digits; enter a number or leave it empty.`},
		{[]string{"customers", "add", "--last-name", " "}, 1, "--first-name: Enter a first or last name."},
		{[]string{"customers", "add", "--first-name", "Jo", "--field", "Shoe size=42"}, 1, `There is no custom field "Shoe size"; the fields are: Membership level, Emergency contact, Injuries / notes.`},
		{[]string{"customers", "add", "--first-name", "Jo", "--field", "Shoe size"}, 2, `--field "Shoe size": give NAME=VALUE`},
		{[]string{"customers", "set", id}, 2, "give what to change"},
		{[]string{"customers", "set", "nobody@example.com", "--first-name", "X"}, 1, "no customer with email nobody@example.com"},
		{[]string{"customers", "set", id, "--first-name", "X", "--as", "desk@harbor-yoga.example"}, 1, "Your role cannot manage customers; ask an owner or admin to change customers' details."},
	} {
		code, out, errs := c.run(bad.args...)
		if code != bad.code || !strings.Contains(errs, bad.want) || out != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d and %q", strings.Join(bad.args, " "), code, out, errs, bad.code, bad.want)
		}
	}
	if c.count("customers") != users || c.count("audit") != audits {
		t.Errorf("refusals wrote: %d→%d customers, %d→%d audit rows", users, c.count("customers"), audits, c.count("audit"))
	}
}

// A claimed customer's new address through customers set is their new
// sign-in, and both addresses hear of it, as from the email editor.
func TestCustomersSetClaimedEmailNotifies(t *testing.T) {
	mail := startMailServer(t)
	c := newCLI(t)
	c.ok("demo", "--customers", "60")
	c.useSMTP(mail.addr)
	id, email := c.firstWith("claimed")
	sid := strconv.FormatInt(id, 10)
	out := c.ok("customers", "set", sid, "--email", "moved@example.net")
	if !strings.Contains(out, "They sign in with the new address; a notice of the change goes to both addresses (sent).") {
		t.Errorf("set said %q", out)
	}
	var to []string
	for _, m := range mail.received() {
		for _, addr := range []string{email, "moved@example.net"} {
			if strings.Contains(m, "To: <"+addr+">") {
				to = append(to, addr)
			}
		}
	}
	if len(to) != 2 {
		t.Errorf("notices went to %v, want both addresses", to)
	}
	code, _, errs := c.run("customers", "set", sid, "--email", "")
	if code != 1 || !strings.Contains(errs, "signs in with this address, so it cannot be removed") {
		t.Errorf("removing the sign-in address: exit %d, %q", code, errs)
	}
}

// customers archive and restore: off the roster and back, with the
// invite rules following (an archived customer is not invited), and both
// idempotent.
func TestCustomersArchiveAndRestore(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "60")
	id, email := c.firstWith("invited")
	sid := strconv.FormatInt(id, 10)

	out := c.ok("customers", "archive", email)
	if !strings.HasSuffix(out, "was archived: off the roster, 1 link stopped working — frontdesk customers restore "+sid+" brings them back.\n") {
		t.Errorf("archive said %q", out)
	}
	if out := c.ok("customers", "list", "--search", email); strings.Contains(out, email) {
		t.Errorf("an archived customer listed: %q", out)
	}
	if out := c.ok("customers", "list", "--archived", "--search", email); !strings.Contains(out, email) {
		t.Errorf("not in the archived list: %q", out)
	}
	if out := c.ok("customers", "archive", sid); !strings.HasSuffix(out, "is already archived.\n") {
		t.Errorf("archive again: %q", out)
	}
	code, out, _ := c.run("invite", sid)
	if code != 1 || !strings.Contains(out, "is archived — restore them first (frontdesk customers restore).") {
		t.Errorf("inviting an archived customer: exit %d, %q", code, out)
	}
	code, _, errs := c.run("customers", "set", sid, "--phone", "1")
	if code != 1 || !strings.Contains(errs, "is archived — restore them first") {
		t.Errorf("changing an archived customer: exit %d, %q", code, errs)
	}

	got := c.customerJSON("customers", "restore", sid)
	if got.Archived || got.Status != "not_invited" || got.ID != id {
		t.Errorf("restored: %+v", got)
	}
	if out := c.ok("customers", "restore", sid); !strings.HasSuffix(out, "is on the roster already; there is nothing to restore.\n") {
		t.Errorf("restore again: %q", out)
	}
	if got := c.audit(id); !strings.HasSuffix(got, "customer.archive by Maya Harbor, customer.restore by Maya Harbor") {
		t.Errorf("audit: %s", got)
	}
	c.ok("invite", sid) // invitable again
	code, _, errs = c.run("customers", "archive", sid, "--as", "desk@harbor-yoga.example")
	if code != 1 || !strings.Contains(errs, "Your role cannot manage customers") {
		t.Errorf("the staff role archiving: exit %d, %q", code, errs)
	}
}

// customers add and customers set write the search keys with the names and
// phone, read with the organization's country: a number given in national
// form is found as staff type it in international form, and a name with an
// apostrophe without it, on both engines.
func TestCustomersAddAndSetFoundByPhone(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			c := newCLI(t)
			if engine == "postgres" {
				c.env["FRONTDESK_DATABASE"] = storetest.Postgres(t)
			}
			c.ok("org", "add", "--name", "Harbor Yoga")
			c.ok("org", "set", "--country", "GB")
			c.ok("staff", "add", "--email", "owner@harbor.example", "--name", "Olga Owner", "--role", "owner")
			c.ok("customers", "add", "--first-name", "Walk", "--last-name", "In", "--phone", "0161 496 8466")
			c.ok("customers", "add", "--first-name", "Sam", "--last-name", "Lee", "--phone", "020 7946 0000", "--email", "sam@example.com")
			search := func(q string) string { return c.ok("customers", "list", "--search", q) }
			if out := search("+44 161 496 8466"); !strings.Contains(out, "Walk In") || strings.Contains(out, "Sam Lee") {
				t.Errorf("search +44 161 496 8466 after add: %q", out)
			}
			c.ok("customers", "set", "sam@example.com", "--last-name", "O'Brien", "--phone", "020 7946 0958")
			for _, q := range []string{"+44 20 7946 0958", "0044 20 7946 0958", "207-946-0958", "obrien"} {
				if out := search(q); !strings.Contains(out, "Sam O'Brien") || strings.Contains(out, "Walk In") {
					t.Errorf("search %q after set: %q", q, out)
				}
			}
			if out := search("+44 20 7946 0000"); strings.Contains(out, "Sam") {
				t.Errorf("the old number still finds the customer: %q", out)
			}
		})
	}
}

package main

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// rowSays waits until the terminal draws, after the last send, a line with
// name that says want (the row's status), and returns how long it waited.
func (tm *sshTerm) rowSays(name, want string) time.Duration {
	tm.t.Helper()
	start := time.Now()
	text, ok := tm.out.waitFor(tm.mark, 15*time.Second, func(s string) bool {
		for _, l := range strings.Split(ansi.Strip(s), "\n") {
			if strings.Contains(l, name) && strings.Contains(l, want) {
				return true
			}
		}
		return false
	})
	if !ok {
		tm.t.Fatalf("no row of %s saying %q; the terminal shows:\n%s", name, want, ansi.Strip(text))
	}
	return time.Since(start)
}

// watch makes later waits look only at what the server draws from now on,
// without a key press.
func (tm *sshTerm) watch() { tm.mark = tm.out.Len() }

// Issue 12's "done when", over real SSH clients, SMTP and HTTP: two admins
// at the Not invited list; one invites the first customer, and the other,
// pressing nothing, sees Invited within a second; the customer claims in
// the browser, and both see Claimed within a second.
func TestServeLiveAcrossSessions(t *testing.T) {
	mail := startMailServer(t)
	c := newCLI(t)
	c.useSMTP(mail.addr)
	c.ok("demo", "--customers", "40")
	s := c.serve()
	owner, admin := s.login(c.withKey("owner@harbor-yoga.example"), 120, 30), s.login(c.withKey(demoAdmin), 120, 30)
	for _, tm := range []*sshTerm{owner, admin} {
		tm.wait("Harbor Yoga", "Not invited")
		tm.send("\t")
		tm.wait("[Not invited")
	}
	_, email := c.firstWith("not-invited")
	name := c.nameOf(email)

	admin.watch()
	owner.send("i")
	owner.wait("to claim their account?")
	owner.send("y")
	owner.wait("Invite sent to " + email)
	if took := admin.rowSays(name, "Invited"); took > time.Second {
		t.Errorf("the other session showed Invited %s after the sender's outcome, want within a second", took.Round(time.Millisecond))
	}
	admin.wait("no longer listed") // still under its cursor, out of the list

	link := claimLink.FindString(mail.received()[0])
	if link == "" {
		t.Fatalf("no claim link in:\n%s", mail.received()[0])
	}
	claimOnWeb(t, link, s.http, func() {
		owner.watch()
		admin.watch()
	})
	for _, tm := range []*sshTerm{owner, admin} {
		if took := tm.rowSays(name, "Claimed"); took > time.Second {
			t.Errorf("a session showed Claimed %s after the claim, want within a second", took.Round(time.Millisecond))
		}
	}
}

// claimOnWeb does with a mailed claim link what the customer's browser
// does, on the web at addr (a served node's): opens the link, then sets a
// password; it fails the test unless the claim is taken. armed runs
// between the two, just before the claim.
func claimOnWeb(t *testing.T, link, addr string, armed func()) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	res, err := client.Get(strings.Replace(link, "https://desk.example", "http://"+addr, 1))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	armed()
	pw := "a quiet harbour at dawn 42"
	res, err = client.PostForm("http://"+addr+"/claim", url.Values{"password": {pw}, "confirm": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST /claim on %s: %d", addr, res.StatusCode)
	}
}

// nameOf is the demo customer's full name.
func (c *cli) nameOf(email string) string {
	c.t.Helper()
	var first, last string
	if err := c.sqlite().QueryRow(`SELECT first_name, last_name FROM customers WHERE email = ?`, email).Scan(&first, &last); err != nil {
		c.t.Fatal(err)
	}
	return strings.TrimSpace(first + " " + last)
}

// `frontdesk staff remove` in another process ends the removed member's open
// session at once: by the change feed, not the access check's 30-second
// tick (left at its default here).
func TestServeEndsSessionAtOnceWhenStaffRemoved(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "5")
	s := c.serve()
	tm := s.login(c.withKey(demoDesk), 100, 30)
	tm.wait("Jo Front (staff)")
	start := time.Now()
	c.ok("staff", "remove", demoDesk)
	if err := tm.closed(15 * time.Second); err != nil {
		t.Fatalf("closing: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the session ended %s after the removal, want at once", took.Round(time.Millisecond))
	}
	if !strings.Contains(tm.screen(), "your access changed") {
		t.Fatalf("the client was not told:\n%s", tm.screen())
	}
}

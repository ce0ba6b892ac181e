package main

import (
	"database/sql"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"frontdesk/claim/dnstest"
	"frontdesk/store/format"
)

// org set --remind-after: days parse, the range is the organization's,
// mistakes say what to type, and org set and org list print the setting.
func TestOrgRemindAfter(t *testing.T) {
	c := newCLI(t)
	c.ok("org", "add", "--name", "Harbor Yoga")
	if out := c.ok("org", "list"); !regexp.MustCompile(`REMIND AFTER\n.*\boff\n`).MatchString(out) {
		t.Errorf("org list before any setting:\n%s", out)
	}
	out := c.ok("org", "set", "--remind-after", "3d")
	if !regexp.MustCompile(`(?m)^remind after\s+3 days$`).MatchString(out) {
		t.Errorf("org set printed:\n%s", out)
	}
	if out := c.ok("org", "list"); !regexp.MustCompile(`harbor-yoga .* 3 days\n`).MatchString(out) {
		t.Errorf("org list:\n%s", out)
	}
	if out := c.ok("org", "set", "--remind-after", "1d12h"); !strings.Contains(out, "1 day 12 hours") {
		t.Errorf("1d12h printed:\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--remind-after", "three days"}, 2, `--remind-after: "three days" is not a duration; use a number with d, h or m, such as 3d, 36h or 1d12h, or off`},
		{[]string{"--remind-after", "-1d"}, 2, "is not a duration"},
		{[]string{"--remind-after", ""}, 2, "no duration given"},
		{[]string{"--remind-after", "30m"}, 1, "reminder delay 30m is too short; use at least 1h (3d is usual), or off"},
		{[]string{"--remind-after", "7d"}, 1, "reminder delay 7d is not shorter than the invite lifetime 7d, so no reminder would ever go"},
		{[]string{"--invite-ttl", "24h"}, 1, "reminder delay 1d12h is not shorter than the invite lifetime 1d"},
	} {
		code, _, errs := c.run(append([]string{"org", "set"}, tc.args...)...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("org set %v: exit %d, %q; want exit %d with %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
	// Refusals change nothing; off turns reminders off.
	var stored int64
	c.sqlite().QueryRow(`SELECT remind_after_seconds FROM orgs`).Scan(&stored)
	if stored != 36*3600 {
		t.Errorf("stored %ds after the refusals, want 1d12h", stored)
	}
	if out := c.ok("org", "set", "--remind-after", "off"); !regexp.MustCompile(`(?m)^remind after\s+off$`).MatchString(out) {
		t.Errorf("off printed:\n%s", out)
	}
	// The environment does not change an organization's settings.
	c.env["FRONTDESK_REMIND_AFTER"] = "3d"
	c.ok("org", "set", "--name", "Harbor Yoga Studio")
	if out := c.ok("org", "list"); !regexp.MustCompile(`Harbor Yoga Studio .* off\n`).MatchString(out) {
		t.Errorf("FRONTDESK_REMIND_AFTER changed the setting:\n%s", out)
	}
	if n := c.count(`audit WHERE action = 'org.set' AND detail LIKE '%remind-after%'`); n != 3 {
		t.Errorf("%d audited changes of remind-after, want 3", n)
	}
}

// setupHarbor makes an organization with an owner and the given customers
// ("First Last <email>"), through the CLI.
func (c *cli) setupHarbor(customers ...string) {
	c.t.Helper()
	c.ok("org", "add", "--name", "Harbor Yoga")
	c.ok("org", "set", "--time-zone", "Europe/London")
	c.ok("staff", "add", "--email", "maya@harbor.example", "--name", "Maya Harbor", "--role", "owner")
	var csv strings.Builder
	csv.WriteString("first_name,last_name,email\n")
	for _, cu := range customers {
		name, email, _ := strings.Cut(strings.TrimSuffix(cu, ">"), " <")
		first, last, _ := strings.Cut(name, " ")
		csv.WriteString(first + "," + last + "," + email + "\n")
	}
	path := filepath.Join(c.dir, "customers.csv")
	if err := os.WriteFile(path, []byte(csv.String()), 0o600); err != nil {
		c.t.Fatal(err)
	}
	c.ok("customers", "import", path)
}

// writable opens the test's database for a change no command makes:
// moving an invite back in time.
func (c *cli) writable() *sql.DB {
	c.t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(c.dir, "frontdesk.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { db.Close() })
	return db
}

// waitMail waits until the SMTP server has n messages.
func (m *mailServer) waitMail(t *testing.T, n int, limit time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if got := m.received(); len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("the SMTP server has %d messages after %s; want %d", len(m.received()), limit, n)
		}
		<-tick.C
	}
}

// frontdesk serve sends the reminders that are due when it starts: the
// invite sent four days ago gets one, through the outbox worker and the
// SMTP server, with a link that works and the invite's own expiry; the one
// sent yesterday gets none yet.
func TestServeSendsDueReminders(t *testing.T) {
	mail := startMailServer(t)
	c := newCLI(t)
	c.useSMTP(mail.addr)
	c.env["FRONTDESK_BASE_URL"] = "http://desk.example"
	c.setupHarbor("Jane Doe <jane@example.com>", "Ann Lee <ann@example.com>")
	c.ok("invite", "jane@example.com", "ann@example.com")
	first := mail.waitMail(t, 2, 10*time.Second)
	firstLink := regexp.MustCompile(`http://desk\.example/claim/[A-Za-z0-9_-]{43}`).FindString(decodedMessage(t, strings.NewReader(first[0])))
	if firstLink == "" || !strings.Contains(first[0], "jane@example.com") {
		t.Fatalf("no invite to jane first:\n%s", first[0])
	}
	w := c.writable()
	for email, days := range map[string]int{"jane@example.com": 4, "ann@example.com": 1} {
		if _, err := w.Exec(`UPDATE invites SET created_at = created_at - ? WHERE email = ?`, days*86400, email); err != nil {
			t.Fatal(err)
		}
	}
	var expires int64
	w.QueryRow(`SELECT expires_at FROM invites WHERE email = 'jane@example.com'`).Scan(&expires)
	c.ok("org", "set", "--remind-after", "3d")

	s := c.serve()
	got := mail.waitMail(t, 3, 15*time.Second)
	body := decodedMessage(t, strings.NewReader(got[2]))
	london, _ := time.LoadLocation("Europe/London")
	wantExpiry := format.Expiry(time.Unix(expires, 0), london)
	for _, want := range []string{"To: <jane@example.com>", "Subject: Reminder: claim your Harbor Yoga account"} {
		if !strings.Contains(got[2], want) {
			t.Errorf("the reminder lacks %q:\n%s", want, got[2])
		}
	}
	if !strings.Contains(body, "A reminder: your invite from Harbor Yoga expires on "+wantExpiry+".") {
		t.Errorf("the reminder lacks the invite's expiry %s:\n%s", wantExpiry, body)
	}
	link := regexp.MustCompile(`http://desk\.example/claim/[A-Za-z0-9_-]{43}`).FindString(body)
	if link == "" || link == firstLink {
		t.Fatalf("the reminder's link %q (the invite's was %q)", link, firstLink)
	}

	// The reminder's link opens the claim form; the invite's no longer
	// works and says a newer one was sent.
	base := "http://" + s.http
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(strings.Replace(link, "http://desk.example", base, 1))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/claim" {
		t.Fatalf("opening the reminder's link: %d to %q; want 303 to /claim", res.StatusCode, res.Header.Get("Location"))
	}
	if page := get(t, client, base+"/claim"); !strings.Contains(page, "jane@example.com") || !strings.Contains(page, "password") {
		t.Fatalf("the claim form:\n%.400s", page)
	}
	oldJar, _ := cookiejar.New(nil)
	old := &http.Client{Jar: oldJar}
	if page := get(t, old, strings.Replace(firstLink, "http://desk.example", base, 1)); !strings.Contains(page, "A newer invite was sent") {
		t.Errorf("the invite's first link:\n%.400s", page)
	}

	if code, _ := s.stop(30 * time.Second); code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, s.stderr)
	}
	if n := len(mail.received()); n != 3 {
		t.Errorf("the SMTP server received %d messages, want the 2 invites and 1 reminder", n)
	}
	if n := c.count(`outbox WHERE kind = 'reminder' AND status = 'sent' AND to_addr = 'jane@example.com'`); n != 1 {
		t.Errorf("%d reminders sent to jane in the outbox", n)
	}
	if n := c.count(`audit WHERE action = 'invite.remind'`); n != 1 {
		t.Errorf("%d reminder audit rows", n)
	}
	if !strings.Contains(s.stderr.String(), `msg="reminders queued" part=reminders count=1`) {
		t.Errorf("the server log lacks the reminder:\n%s", s.stderr)
	}
}

// invite prints the email check's warnings before the invites go (and
// sends them regardless); --email-dns names the DNS server it asks.
func TestInviteWarnsOfAddresses(t *testing.T) {
	dns := dnstest.Start(t, map[string]dnstest.Domain{"harbor.example": {MX: []string{"mx.harbor.example"}}})
	c := newCLI(t)
	c.setupHarbor("Jane Doe <jane@gmial.com>", "Ann Lee <ann@harbor.example>", "Bo Chen <bo@nowhere.example>")
	c.env["FRONTDESK_EMAIL_DNS"] = dns.Addr()
	code, out, errs := c.run("invite", "jane@gmial.com", "ann@harbor.example", "bo@nowhere.example")
	if code != 0 || strings.Count(out, "Invite sent to") != 3 {
		t.Fatalf("invite: exit %d\n%s\n%s", code, out, errs)
	}
	want := "warning: Jane Doe: gmial.com looks like a typo: did you mean gmail.com?\n" +
		"warning: Jane Doe: gmial.com has no mail server (no MX or address record in DNS): email to it cannot arrive.\n" +
		"warning: Bo Chen: nowhere.example has no mail server (no MX or address record in DNS): email to it cannot arrive.\n"
	if errs != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", errs, want)
	}
	if dns.Queries() == 0 {
		t.Error("the DNS server named by FRONTDESK_EMAIL_DNS was not asked")
	}

	// Off: typos only, no lookups.
	c.env["FRONTDESK_EMAIL_DNS"] = "off"
	before := dns.Queries()
	_, _, errs = c.run("invite", "jane@gmial.com")
	if errs != "warning: Jane Doe: gmial.com looks like a typo: did you mean gmail.com?\n" || dns.Queries() != before {
		t.Errorf("with --email-dns off: %q, %d queries", errs, dns.Queries()-before)
	}
	for _, bad := range []string{"nowhere", "127.0.0.1", "127.0.0.1:dns", ":53", "127.0.0.1:70000"} {
		if code, _, errs := c.run("org", "list", "--email-dns", bad); code != 2 || !strings.Contains(errs, "give a DNS server as HOST:PORT") {
			t.Errorf("--email-dns %q: exit %d, %q", bad, code, errs)
		}
	}
}

package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/emersion/go-smtp"
	gossh "golang.org/x/crypto/ssh"
)

// withKey registers a new SSH key for the staff member and returns it.
func (c *cli) withKey(email string) gossh.Signer {
	c.t.Helper()
	k, line := newKey(c.t)
	c.ok("staff", "key", "add", email, line)
	return k
}

const (
	demoAdmin = "admin@harbor-yoga.example" // Sam Rivera
	demoDesk  = "desk@harbor-yoga.example"  // Jo Front, role staff
)

func TestServeAdminInvitesOverSSH(t *testing.T) {
	mail := startMailServer(t)
	c := newCLI(t)
	c.useSMTP(mail.addr)
	c.ok("demo", "--customers", "40")
	key := c.withKey(demoAdmin)
	s := c.serve()

	tm := s.login(key, 120, 30)
	tm.wait("Harbor Yoga · Sam Rivera (admin)", "Not invited")
	tm.send("\t") // the not-invited customers
	tm.wait("[Not invited")
	tm.send("i")
	tm.wait("to claim their account?")
	tm.send("y")
	screen := tm.wait("Invite sent to ")
	to := strings.Fields(screen[strings.LastIndex(screen, "Invite sent to ")+len("Invite sent to "):])[0]
	if got := mail.received(); len(got) != 1 || !strings.Contains(got[0], to) {
		t.Fatalf("the SMTP server received %d messages %v; want one to %s", len(got), got, to)
	}
	tm.send("q")
	if err := tm.closed(10 * time.Second); err != nil {
		t.Fatalf("quitting the TUI: %v", err)
	}
	if code, _ := s.stop(30 * time.Second); code != 0 {
		t.Fatalf("serve exit %d; log:\n%s", code, s.stderr)
	}
	log := s.stderr.String()
	for _, want := range []string{`msg="session start"`, "staff=" + demoAdmin, "remote=127.0.0.1", `msg="session end"`, "reason=quit", "msg=stopped"} {
		if !strings.Contains(log, want) {
			t.Errorf("the server log lacks %q:\n%s", want, log)
		}
	}
}

// An invite the mail server refuses, seen from an SSH session: the outbox
// screen (o) shows it failed, what the refusal means and the server's
// words, and offers the fix.
func TestServeOutboxScreenOverSSH(t *testing.T) {
	mail := startMailServer(t)
	mail.reject = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "User unknown"}
	c := newCLI(t)
	c.useSMTP(mail.addr)
	c.ok("demo", "--customers", "40")
	s := c.serve()
	tm := s.login(c.withKey(demoAdmin), 120, 30)
	tm.wait("Harbor Yoga · Sam Rivera (admin)", "Not invited")
	tm.send("\t")
	tm.wait("[Not invited")
	tm.send("i")
	tm.wait("to claim their account?")
	tm.send("y")
	tm.wait("failed: ")
	tm.send("o")
	tm.wait("Outbox", "Failed", "The address does not exist", "550 5.1.1 User unknown", "fix the email, then")
}

func TestServeStaffRoleSeesRefusal(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "20")
	s := c.serve()
	tm := s.login(c.withKey(demoDesk), 120, 30)
	tm.wait("Jo Front (staff)")
	tm.send("\ti")
	tm.wait("Your role cannot manage customers")
	if n := c.count("invites WHERE created_at > strftime('%s','now') - 60"); n != 0 {
		t.Fatalf("%d invites written by a staff-role session", n)
	}
}

func TestServeRefusesUnknownKey(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "5")
	s := c.serve()
	stranger, _ := newKey(t)
	var shown string
	_, err := dialSSH(t, s.ssh, c.dir, gossh.PublicKeys(stranger),
		gossh.KeyboardInteractive(func(_, instruction string, questions []string, _ []bool) ([]string, error) {
			shown += instruction
			return make([]string, len(questions)), nil
		}))
	if err == nil {
		t.Fatal("an unregistered key got in")
	}
	fp := gossh.FingerprintSHA256(stranger.PublicKey())
	for _, want := range []string{fp, "frontdesk staff key add YOUR_EMAIL", strings.Fields(string(gossh.MarshalAuthorizedKey(stranger.PublicKey())))[1]} {
		if !strings.Contains(shown, want) {
			t.Errorf("the client was shown %q; want it to include %q", shown, want)
		}
	}
	if log := s.stderr.String(); !strings.Contains(log, `msg="key refused"`) || !strings.Contains(log, "fingerprint="+fp) {
		t.Errorf("the refusal is not logged with the fingerprint:\n%s", log)
	}
	if strings.Contains(s.stderr.String(), "session start") {
		t.Error("a session started for an unknown key")
	}
}

// offeredOnly offers a public key it cannot sign with: the server answers
// the query ("would this key do?") with PK_OK, and the client never proves it.
type offeredOnly struct{ pub gossh.PublicKey }

func (o offeredOnly) PublicKey() gossh.PublicKey { return o.pub }
func (o offeredOnly) Sign(io.Reader, []byte) (*gossh.Signature, error) {
	return nil, errors.New("no private key")
}

// offerThenAuthenticate is the client of the soft-serve class of bypass: on
// one connection it offers someone else's public key (the server answers
// that it would do), then authenticates with its own. A server that takes the
// session's identity from any key its auth callback was asked about, rather
// than from the key the client proved, hands this client the other person's
// session. (x/crypto since 0.31 re-asks about the proved key last, which
// hides the "last key asked" variant; this catches any other.)
func offerThenAuthenticate(offered gossh.PublicKey, own gossh.Signer) *gossh.ClientConfig {
	steps := []gossh.AuthMethod{gossh.PublicKeys(offeredOnly{offered}), gossh.PublicKeys(own)}
	return &gossh.ClientConfig{AuthCallback: func(*gossh.ClientAuthContext) (gossh.AuthMethod, error) {
		if len(steps) == 0 {
			return nil, errors.New("no more ways in")
		}
		next := steps[0]
		steps = steps[1:]
		return next, nil
	}}
}

func TestServeOfferedKeyIsNotTheSession(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "10")
	admin := c.withKey(demoAdmin)
	desk := c.withKey(demoDesk)
	s := c.serve()

	// A staff-role member offers the admin's key first (and the server
	// says it would do), then signs with their own: the session is theirs.
	client, err := dialSSHConfig(t, s.ssh, c.dir, offerThenAuthenticate(admin.PublicKey(), desk))
	if err != nil {
		t.Fatalf("the desk key should still get in: %v", err)
	}
	defer client.Close()
	tm := openTerm(t, client, 120, 30)
	screen := tm.wait("Harbor Yoga · ", "(staff)")
	if strings.Contains(screen, "Sam Rivera") || strings.Contains(screen, "(admin)") {
		t.Fatalf("the session took the offered admin key's identity:\n%s", screen)
	}
	tm.wait("Jo Front (staff)")

	// Someone with no key of their own gets nothing from offering one.
	stranger, _ := newKey(t)
	if _, err := dialSSHConfig(t, s.ssh, c.dir, offerThenAuthenticate(admin.PublicKey(), stranger)); err == nil {
		t.Fatal("offering an admin's public key without its private key got a session")
	}
}

func TestServeOtherOrganizationInvisible(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "20")
	c.ok("org", "add", "--name", "Other Studio", "--slug", "other")
	otherKey, otherLine := newKey(t)
	c.ok("staff", "add", "--org", "other", "--email", "olive@other.example", "--name", "Olive Other", "--role", "owner", "--key", otherLine)
	csv := filepath.Join(t.TempDir(), "other.csv")
	os.WriteFile(csv, []byte("first_name,last_name,email\nZed,Otherly,zed@other.example\n"), 0o600)
	c.ok("customers", "import", csv, "--org", "other")
	adminKey := c.withKey(demoAdmin)
	s := c.serve()

	other := s.login(otherKey, 120, 30)
	screen := other.wait("Other Studio · Olive Other (owner)", "Zed Otherly", "1-1 of 1")
	if strings.Contains(screen, "Harbor Yoga") {
		t.Fatalf("the other organization's session shows Harbor Yoga:\n%s", screen)
	}
	other.send("/example.org")
	other.wait(`No customers match "example.org"`)

	harbor := s.login(adminKey, 120, 30)
	harbor.wait("Harbor Yoga · Sam Rivera (admin)")
	harbor.send("/Otherly")
	harbor.wait(`No customers match "Otherly"`)
}

func TestServeFollowsResize(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "60")
	s := c.serve()
	tm := s.login(c.withKey(demoAdmin), 120, 40)
	before := shownRows(tm.wait("Sam Rivera", " of "))
	tm.mark = tm.out.Len()
	if err := tm.sess.WindowChange(16, 80); err != nil {
		t.Fatal(err)
	}
	text, ok := tm.out.waitFor(tm.mark, 15*time.Second, func(s string) bool {
		n := shownRows(s)
		return n > 0 && n < before
	})
	if !ok {
		t.Fatalf("after resizing from 40 to 16 rows the roster still shows %d rows:\n%s", before, text)
	}
}

func TestServeIdleTimeoutClosesSession(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "5")
	s := c.serve("--idle-timeout", "1s")
	tm := s.login(c.withKey(demoAdmin), 100, 30)
	tm.wait("Sam Rivera")
	if err := tm.closed(15 * time.Second); err != nil {
		t.Fatalf("idle close: %v", err)
	}
	if !strings.Contains(tm.screen(), "closed after 1s without a key press") {
		t.Fatalf("the client was not told why:\n%s", tm.screen())
	}
	// The log line follows the client's notice.
	if text, ok := s.stderr.waitFor(0, 5*time.Second, func(l string) bool { return strings.Contains(l, "reason=idle") }); !ok {
		t.Fatalf("the log lacks the reason:\n%s", text)
	}
}

func TestServeShutdownWithSessionsOpen(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "30")
	key := c.withKey(demoAdmin)
	s := c.serve("--shutdown-timeout", "10s")
	var terms []*sshTerm
	for range 3 {
		tm := s.login(key, 100, 30)
		tm.wait("Sam Rivera")
		terms = append(terms, tm)
	}
	code, took := s.stop(30 * time.Second)
	if code != 0 {
		t.Fatalf("serve exit %d after the signal; log:\n%s", code, s.stderr)
	}
	if took >= 10*time.Second {
		t.Fatalf("shutdown took %s, past its 10s timeout", took)
	}
	for i, tm := range terms {
		if err := tm.closed(5 * time.Second); err != nil {
			t.Errorf("session %d: %v", i, err)
		}
		if !strings.Contains(tm.screen(), "the server is shutting down") {
			t.Errorf("session %d was not told:\n%s", i, tm.screen())
		}
	}
	// Nothing left half-done: no outbox row still leased by the stopped
	// worker, and the database opens for the next command.
	if n := c.count("outbox WHERE lease_owner <> ''"); n != 0 {
		t.Fatalf("%d outbox rows still leased after shutdown", n)
	}
	c.ok("customers", "list", "--status", "claimed")
	if _, err := dialSSH(t, s.ssh, c.dir, gossh.PublicKeys(key)); err == nil {
		t.Fatal("the server still accepts connections after shutdown")
	}
}

func TestServeNeedsTerminal(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "5")
	key := c.withKey(demoAdmin)
	s := c.serve()
	client, err := dialSSH(t, s.ssh, c.dir, gossh.PublicKeys(key))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.CombinedOutput("customers list")
	var exit *gossh.ExitError
	if !errors.As(err, &exit) || exit.ExitStatus() != 1 {
		t.Fatalf("a command without a terminal: err %v, want exit status 1", err)
	}
	if !strings.Contains(string(out), "frontdesk is a terminal app: connect with `ssh -t`") {
		t.Fatalf("it was told %q", out)
	}
}

func TestServeHostKeyAndHealth(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "5")
	s := c.serve()
	path := filepath.Join(c.dir, hostKeyFile)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("host key mode %v, want 0600", st.Mode().Perm())
	}
	first, _ := os.ReadFile(path)
	if log := s.stderr.String(); !strings.Contains(log, `frontdesk staff key add owner@harbor-yoga.example`) {
		t.Errorf("a server nobody can reach does not say how to add a key:\n%s", log)
	}
	res, err := http.Get("http://" + s.http + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || strings.TrimSpace(string(body)) != "ok" {
		t.Fatalf("/healthz: %d %q", res.StatusCode, body)
	}
	s.stop(30 * time.Second)

	// The second start reuses the key: known_hosts entries stay valid.
	key := c.withKey(demoAdmin)
	s = c.serve()
	again, _ := os.ReadFile(path)
	if string(again) != string(first) {
		t.Fatal("the host key changed across a restart")
	}
	if _, err := dialSSH(t, s.ssh, c.dir, gossh.PublicKeys(key)); err != nil {
		t.Fatalf("the restarted server does not present the stored host key: %v", err)
	}
	if strings.Contains(s.stderr.String(), "no staff member has an SSH key") {
		t.Errorf("the key hint shows although a key is registered")
	}

	// A key others can read is refused, as sshd refuses it.
	s.stop(30 * time.Second)
	os.Chmod(path, 0o644)
	code, _, errs := c.run("serve", "--ssh-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errs, "chmod 600") {
		t.Fatalf("serve with a 0644 host key: exit %d, %s", code, errs)
	}
}

func TestServeBadConfiguration(t *testing.T) {
	c := newCLI(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--ssh-addr", busy.Addr().String(), "--http-addr", "127.0.0.1:0"}, nil, "--ssh-addr " + busy.Addr().String() + ": bind: address already in use"},
		{[]string{"--ssh-addr", "127.0.0.1:0", "--http-addr", busy.Addr().String()}, nil, "--http-addr " + busy.Addr().String() + ": bind: address already in use"},
		{[]string{"--idle-timeout", "ten"}, nil, `invalid argument "ten" for "--idle-timeout"`},
		{[]string{"--max-session", "-1h"}, nil, "--max-session -1h is negative"},
		{nil, map[string]string{"FRONTDESK_SHUTDOWN_TIMEOUT": "soon"}, `FRONTDESK_SHUTDOWN_TIMEOUT="soon"`},
		{[]string{"--trusted-proxies", "10.0.0.0/8,proxy.lan"}, nil, `--trusted-proxies: "proxy.lan" is neither an address nor a prefix`},
		{nil, map[string]string{"FRONTDESK_BOUNCE_SECRET": "hunter2"}, "--bounce-secret is 7 characters; use at least 16"},
		{[]string{"--bounce-sns-topics", "arn:aws:sns:us-west-2:123456789012:ses-bounces, ses-bounces"}, nil, `--bounce-sns-topics: "ses-bounces" is not an SNS topic ARN`},
	} {
		for k, v := range tc.env {
			c.env[k] = v
		}
		code, _, errs := c.run(append([]string{"serve"}, tc.args...)...)
		for k := range tc.env {
			delete(c.env, k)
		}
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("serve %v %v: exit %d, stderr %q; want exit 2 and %q", tc.args, tc.env, code, errs, tc.want)
		}
	}
}

func TestServeEndsSessionWhenAccessRemoved(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "5")
	key := c.withKey(demoDesk)
	addr, _ := c.serveWith(ServeConfig{AccessCheck: 50 * time.Millisecond})
	client, err := dialSSH(t, addr, c.dir, gossh.PublicKeys(key))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	tm := openTerm(t, client, 100, 30)
	tm.wait("Jo Front (staff)")
	c.ok("staff", "remove", demoDesk)
	if err := tm.closed(15 * time.Second); err != nil {
		t.Fatalf("closing: %v", err)
	}
	if !strings.Contains(tm.screen(), "your access changed") {
		t.Fatalf("the client was not told:\n%s", tm.screen())
	}
}

// Two servers on one data directory (a restart overlapping the old process,
// or two front doors) share the database and the outbox: each invite is
// mailed once.
func TestTwoServersShareOneDatabase(t *testing.T) {
	mail := startMailServer(t)
	c := newCLI(t)
	c.useSMTP(mail.addr)
	c.ok("demo", "--customers", "40")
	key := c.withKey(demoAdmin)
	a, b := c.serve(), c.serve()
	for i, s := range []*served{a, b} {
		tm := s.login(key, 120, 30)
		tm.wait("Sam Rivera (admin)", "Not invited")
		tm.send("\t")
		tm.wait("[Not invited")
		tm.send(strings.Repeat("j", i) + "i")
		tm.wait("to claim their account?")
		tm.send("y")
		tm.wait("Invite sent to ")
	}
	for _, s := range []*served{a, b} {
		if code, _ := s.stop(30 * time.Second); code != 0 {
			t.Fatalf("serve exit %d:\n%s", code, s.stderr)
		}
	}
	got := mail.received()
	if len(got) != 2 || got[0] == got[1] {
		t.Fatalf("the SMTP server received %d messages; want 2 different ones", len(got))
	}
	if n := c.count("outbox WHERE status = 'sent'"); n < 2 {
		t.Fatalf("%d outbox rows sent", n)
	}
}

// Every goroutine a session starts (the program's, the watcher, the
// connection's) ends with it.
func TestServeSessionsLeaveNoGoroutines(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "10")
	key := c.withKey(demoAdmin)
	s := c.serve()
	// One session first, so lazily started pools (database connections,
	// the worker's timers) count in the baseline.
	warm := s.login(key, 100, 30)
	warm.wait("Sam Rivera")
	warm.send("q")
	warm.closed(10 * time.Second)
	warm.client.Close()
	baseline := steadyGoroutines()

	for range 5 {
		tm := s.login(key, 100, 30)
		tm.wait("Sam Rivera")
		tm.send("q")
		if err := tm.closed(10 * time.Second); err != nil {
			t.Fatal(err)
		}
		tm.client.Close()
	}
	if n := settledGoroutines(baseline); n > baseline {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines after 5 sessions ended, %d before:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
	}
}

// steadyGoroutines is the goroutine count once it has stopped changing for
// 100 ms (the last session's goroutines winding down).
func steadyGoroutines() int {
	n := runtime.NumGoroutine()
	for range 50 {
		time.Sleep(100 * time.Millisecond) // see settledGoroutines
		m := runtime.NumGoroutine()
		if m == n {
			break
		}
		n = m
	}
	return n
}

// settledGoroutines waits (up to 5 s) for the goroutine count to fall to
// target, and returns it.
func settledGoroutines(target int) int {
	deadline := time.Now().Add(5 * time.Second)
	n := runtime.NumGoroutine()
	for n > target && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // goroutines exiting send no event to wait on
		n = runtime.NumGoroutine()
	}
	return n
}

// The customers' web is served by `serve`: an invite's link, opened, moves
// the token into a cookie; the password form claims the account; the
// customer signs in and sees their account.
func TestServeCustomerClaimsThroughWeb(t *testing.T) {
	mail := startMailServer(t)
	c := newCLI(t)
	c.ok("demo", "--customers", "40")
	c.useSMTP(mail.addr)
	c.env["FRONTDESK_BASE_URL"] = "http://desk.example"
	_, email := c.firstWith("not-invited")
	c.ok("invite", email)
	link := regexp.MustCompile(`http://desk\.example/claim/[A-Za-z0-9_-]{43}`).FindString(mail.received()[0])
	if link == "" {
		t.Fatalf("no claim link in:\n%s", mail.received()[0])
	}
	s := c.serve()
	base := "http://" + s.http
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	res, err := client.Get(strings.Replace(link, "http://desk.example", base, 1))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/claim" {
		t.Fatalf("opening the link: %d to %q; want 303 to /claim", res.StatusCode, res.Header.Get("Location"))
	}
	if n := c.count("invites WHERE opened_at IS NOT NULL AND lower(email) = lower('" + email + "')"); n != 1 {
		t.Errorf("the first opening of the link was not recorded (%d)", n)
	}
	page := func(res *http.Response, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return fmt.Sprintf("%d %s", res.StatusCode, b)
	}
	if got := page(client.Get(base + "/claim")); !strings.HasPrefix(got, "200") || !strings.Contains(got, email) || !strings.Contains(got, "Harbor Yoga") {
		t.Fatalf("GET /claim: %.300s", got)
	}
	pw := "a quiet harbour at dawn 42"
	res, err = client.PostForm(base+"/claim", url.Values{"password": {pw}, "confirm": {pw}})
	if got := page(res, err); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account?m=claimed" {
		t.Fatalf("POST /claim: %.400s", got)
	}
	// Signed in by the claim, told where to sign in next time.
	if got := page(client.Get(base + "/account?m=claimed")); !strings.HasPrefix(got, "200") || !strings.Contains(got, email) || !strings.Contains(got, "http://desk.example/login?org=") {
		t.Fatalf("GET /account after claiming: %.400s", got)
	}
	res, err = client.PostForm(base+"/login", url.Values{"email": {email}, "password": {pw}})
	if got := page(res, err); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /login: %.400s", got)
	}
	if got := page(client.Get(base + "/account")); !strings.HasPrefix(got, "200") || !strings.Contains(got, email) {
		t.Fatalf("GET /account: %.400s", got)
	}
	if n := c.count("customers WHERE email = '" + email + "' AND claimed_at IS NOT NULL"); n != 1 {
		t.Fatalf("the customer is not claimed (%d)", n)
	}
}

func TestServeMaxSessionClosesBusySession(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "5")
	s := c.serve("--idle-timeout", "0", "--max-session", "1s")
	tm := s.login(c.withKey(demoAdmin), 100, 30)
	tm.wait("Sam Rivera")
	// Typing keeps a session from being idle, not from its maximum.
	deadline := time.After(15 * time.Second)
	for {
		select {
		case err := <-tm.exited:
			if !strings.Contains(ansi.Strip(tm.out.String()), "sessions last at most 1s") {
				t.Fatalf("closed (%v) without the reason:\n%s", err, tm.screen())
			}
			return
		case <-deadline:
			t.Fatalf("a typing session outlived --max-session 1s:\n%s", tm.screen())
		case <-time.After(100 * time.Millisecond):
			tm.in.Write([]byte("j")) // may race the close; the close is what is checked

		}
	}
}

// Behind a trusted proxy each customer has their own rate limit; without
// --trusted-proxies everyone shares the proxy's.
func TestServeRateLimitsTheClientBehindAProxy(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "5")
	signIns := func(s *served) (limited int) {
		for i := range 15 {
			req, _ := http.NewRequest("POST", "http://"+s.http+"/login", strings.NewReader(url.Values{
				"email": {fmt.Sprintf("nobody%d@example.com", i)}, "password": {"wrong password"},
			}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode == http.StatusTooManyRequests {
				limited++
			}
		}
		return limited
	}
	proxied := c.serve("--trusted-proxies", "127.0.0.1")
	if n := signIns(proxied); n != 0 {
		t.Fatalf("15 customers behind the proxy: %d sign-ins refused as too many", n)
	}
	proxied.stop(30 * time.Second)
	if n := signIns(c.serve()); n == 0 {
		t.Fatal("without --trusted-proxies, 15 sign-ins from one address were never limited (the test proves nothing)")
	}
}

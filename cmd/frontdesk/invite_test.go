package main

import (
	"database/sql"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/emersion/go-smtp"

	"frontdesk/store"
)

// mailServer is a real SMTP server on loopback that keeps what it accepts, or
// refuses everything with reject when set.
type mailServer struct {
	mu     sync.Mutex
	msgs   []string
	rcpts  []string
	reject *smtp.SMTPError
	// rejectData, when set, is answered to the end of DATA: the server has
	// the whole message (kept in msgs) and still refuses it.
	rejectData *smtp.SMTPError
	addr       string
}

func (m *mailServer) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{srv: m}, nil }

type mailSession struct {
	srv *mailServer
	to  string
}

func (s *mailSession) Reset()        {}
func (s *mailSession) Logout() error { return nil }
func (s *mailSession) Mail(string, *smtp.MailOptions) error {
	return nil
}
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	if s.srv.reject != nil {
		return s.srv.reject
	}
	s.to = to
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	s.srv.msgs = append(s.srv.msgs, string(b))
	s.srv.rcpts = append(s.srv.rcpts, s.to)
	if s.srv.rejectData != nil {
		return s.srv.rejectData
	}
	return nil
}

func startMailServer(t *testing.T) *mailServer {
	t.Helper()
	m := &mailServer{}
	srv := smtp.NewServer(m)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m.addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return m
}

func (m *mailServer) received() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.msgs...)
}

// useSMTP points the CLI at addr without TLS.
func (c *cli) useSMTP(addr string) {
	host, port, _ := net.SplitHostPort(addr)
	c.env["FRONTDESK_SMTP_HOST"] = host
	c.env["FRONTDESK_SMTP_PORT"] = port
	c.env["FRONTDESK_SMTP_TLS"] = "none"
	c.env["FRONTDESK_BASE_URL"] = "https://desk.example"
}

// firstWith returns a demo customer's email with that status.
func (c *cli) firstWith(status string) (id int64, email string) {
	c.t.Helper()
	var list []struct {
		ID    int64  `json:"id"`
		Email string `json:"email"`
	}
	if err := json.Unmarshal([]byte(c.ok("customers", "list", "--json", "--status", status, "--limit", "1")), &list); err != nil || len(list) == 0 {
		c.t.Fatalf("no %s customer: %v", status, err)
	}
	return list[0].ID, list[0].Email
}

var claimLink = regexp.MustCompile(`https://desk\.example/claim/[A-Za-z0-9_-]{43}`)

func TestInviteDeliversOverSMTP(t *testing.T) {
	mail := startMailServer(t)
	c := newCLI(t)
	c.ok("demo", "--customers", "60")
	c.useSMTP(mail.addr)

	_, email := c.firstWith("not-invited")
	out := c.ok("invite", email)
	if !regexp.MustCompile(`: Invite sent to ` + regexp.QuoteMeta(email) + ` — link expires \w{3} \d+ \w{3} \d{4} at \d\d:\d\d`).MatchString(out) {
		t.Fatalf("invite said %q", out)
	}
	got := mail.received()
	if len(got) != 1 || !strings.Contains(got[0], "Subject: Claim your Harbor Yoga account") {
		t.Fatalf("server received %d messages: %v", len(got), got)
	}
	first := claimLink.FindString(got[0])
	if first == "" {
		t.Fatalf("no claim link in the email:\n%s", got[0])
	}

	// A resend says the earlier link stops, and sends a different link.
	out = c.ok("invite", email)
	if !strings.Contains(out, "earlier link no longer works") {
		t.Errorf("resend said %q", out)
	}
	if second := claimLink.FindString(mail.received()[1]); second == "" || second == first {
		t.Errorf("resend link %q, first %q", second, first)
	}
	// The body, with its live link, is gone from the outbox once sent.
	var bodies int
	c.sqlite().QueryRow(`SELECT count(*) FROM outbox WHERE body_text <> '' AND status = 'sent'`).Scan(&bodies)
	if bodies != 0 {
		t.Errorf("%d sent messages still hold their body", bodies)
	}

	// Refusals: a sentence, a hint, a non-zero exit, and nothing sent.
	noEmailID, _ := c.firstWith("no-email")
	code, out, _ := c.run("invite", strconv.FormatInt(noEmailID, 10))
	if code != 1 || !strings.Contains(out, "has no email address — fix the email first") {
		t.Errorf("no email: exit %d, %q", code, out)
	}
	_, claimed := c.firstWith("claimed")
	code, out, _ = c.run("invite", claimed)
	if code != 1 || !strings.Contains(out, "already claimed their account on") {
		t.Errorf("claimed: exit %d, %q", code, out)
	}
	_, other := c.firstWith("not-invited")
	code, _, stderr := c.run("invite", other, "--as", "desk@harbor-yoga.example")
	if code != 1 || !strings.Contains(stderr, "Your role cannot manage customers") {
		t.Errorf("staff role: exit %d, %q", code, stderr)
	}
	code, out, _ = c.run("invite", "nobody@example.com")
	if code != 1 || !strings.Contains(out, "no customer with email nobody@example.com") {
		t.Errorf("unknown customer: exit %d, %q", code, out)
	}
	if n := len(mail.received()); n != 2 {
		t.Errorf("refusals sent mail: %d messages", n)
	}
	if code, _, _ := c.run("invite"); code != 2 {
		t.Errorf("invite without customers: exit %d", code)
	}
}

func TestInviteQueuedWhenServerDownThenRetried(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "40")
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	deadAddr := l.Addr().String()
	l.Close() // nothing listens there now
	c.useSMTP(deadAddr)

	_, email := c.firstWith("not-invited")
	out := c.ok("invite", email) // exit 0: nothing is lost
	if !strings.Contains(out, " is queued: ") || !strings.Contains(out, "will retry") {
		t.Fatalf("server down: %q", out)
	}
	list := c.ok("outbox", "list")
	if !strings.Contains(list, "queued") || !strings.Contains(list, email) || !strings.Contains(list, "refused") {
		t.Fatalf("outbox list:\n%s", list)
	}
	var id int64
	c.sqlite().QueryRow(`SELECT id FROM outbox WHERE to_addr = ?`, email).Scan(&id)

	mail := startMailServer(t)
	c.useSMTP(mail.addr)
	if out := c.ok("outbox", "retry", strconv.FormatInt(id, 10)); !strings.Contains(out, "sent") {
		t.Fatalf("retry: %q", out)
	}
	if got := mail.received(); len(got) != 1 || !claimLink.MatchString(got[0]) {
		t.Fatalf("after retry the server has %d messages", len(got))
	}
	if code, _, errs := c.run("outbox", "retry", strconv.FormatInt(id, 10)); code != 1 || !strings.Contains(errs, "already sent") {
		t.Errorf("retrying a sent message: %d %q", code, errs)
	}
}

func TestInviteRejectedByServer(t *testing.T) {
	mail := startMailServer(t)
	mail.reject = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "User unknown"}
	c := newCLI(t)
	c.ok("demo", "--customers", "40")
	c.useSMTP(mail.addr)
	_, email := c.firstWith("not-invited")
	code, out, _ := c.run("invite", email)
	if code != 1 || !strings.Contains(out, "User unknown") {
		t.Fatalf("550: exit %d, %q", code, out)
	}
	if list := c.ok("outbox", "list"); !strings.Contains(list, "failed") || !strings.Contains(list, "550") {
		t.Fatalf("outbox list after 550:\n%s", list)
	}
	if list := c.ok("customers", "list", "--status", "failed", "--search", email); !strings.Contains(list, "Delivery failed") {
		t.Fatalf("customer not shown as delivery failed:\n%s", list)
	}

	// The list names the customer and says what the reply means, beside
	// the reply, in columns that a name with a tab or an escape sequence
	// (stored by an older version, or by hand) cannot shift.
	rw, err := sql.Open("sqlite", "file:"+filepath.Join(c.dir, "frontdesk.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	if _, err := rw.Exec(`UPDATE customers SET first_name = 'Evil' || char(9) || 'Tab' || char(27) || '[2J' WHERE lower(email) = lower(?)`, email); err != nil {
		t.Fatal(err)
	}
	list := c.ok("outbox", "list")
	lines := strings.Split(strings.TrimSpace(list), "\n")
	head, row := lines[0], lines[1]
	if strings.ContainsRune(list, 0x1b) || !strings.Contains(row, `Evil\x09Tab\x1b[2J`) {
		t.Errorf("the customer's name is not shown inert:\n%s", list)
	}
	// Columns in characters (the names here are not double-width).
	col := func(line, s string) int {
		i := strings.Index(line, s)
		if i < 0 {
			return -1
		}
		return utf8.RuneCountInString(line[:i])
	}
	what, reply := col(head, "WHAT HAPPENED"), col(head, "LAST REPLY")
	if what < 0 || reply < 0 || col(row, "the address does not exist — check the address with the customer") != what ||
		col(row, "550 5.1.1") < reply {
		t.Errorf("what happened and the reply are not in their columns:\n%s", list)
	}
}

func TestInviteAllAndFileTransport(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "80")
	var before []map[string]any
	json.Unmarshal([]byte(c.ok("customers", "list", "--json", "--status", "not-invited")), &before)
	out := c.ok("invite", "--all", "--status", "not-invited", "--yes")
	want := "Invites: "
	if !strings.Contains(out, want) || !strings.Contains(out, "sent") {
		t.Fatalf("--all said %q", out)
	}
	// Invalid demo addresses are skipped with the reason.
	files, err := filepath.Glob(filepath.Join(c.dir, "outbox", "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	var after []map[string]any
	json.Unmarshal([]byte(c.ok("customers", "list", "--json", "--status", "not-invited")), &after)
	sent := len(before) - len(after)
	if sent == 0 || len(files) != sent {
		t.Fatalf("%d not-invited before, %d after, %d .eml files", len(before), len(after), len(files))
	}
	// Whoever is still not invited was skipped for a reason the summary names.
	for _, a := range after {
		if store.ValidateEmail(a["email"].(string)) == nil {
			t.Errorf("%v was neither invited nor skipped", a)
		}
	}
	if len(after) > 0 && !strings.Contains(out, "email not valid") {
		t.Errorf("summary does not name the skipped: %q", out)
	}
	b, err := os.ReadFile(files[0])
	if err != nil || !strings.Contains(string(b), "/claim/") {
		t.Fatalf("eml file: %v\n%s", err, b)
	}
	if st, _ := os.Stat(files[0]); st.Mode().Perm() != 0o600 {
		t.Errorf("eml file mode %v: it holds a live link", st.Mode().Perm())
	}
	if out := c.ok("invite", "--all", "--status", "not-invited", "--yes"); !strings.Contains(out, "sent") && !strings.Contains(out, "Nobody") {
		t.Errorf("second --all: %q", out)
	}
	if code, _, _ := c.run("invite", "--all", "--status", "claimed"); code != 2 {
		t.Errorf("--all --status claimed: exit %d", code)
	}
}

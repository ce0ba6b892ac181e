package tui

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/emersion/go-smtp"

	"frontdesk/claim"
	"frontdesk/claim/web"
	"frontdesk/mailer"
	"frontdesk/store"
	"frontdesk/store/storetest"
)

// mailServer is a real SMTP server on loopback (go-smtp) that refuses RCPT
// for the addresses in refuse, with the reply given there, and keeps every
// message it accepts.
type mailServer struct {
	addr string

	mu     sync.Mutex
	refuse map[string]*smtp.SMTPError
	got    []string // the messages accepted, whole
	to     []string // their recipients
}

func startMailServer(t *testing.T, refuse map[string]*smtp.SMTPError) *mailServer {
	t.Helper()
	m := &mailServer{refuse: refuse}
	srv := smtp.NewServer(m)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m.addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return m
}

func (m *mailServer) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{srv: m}, nil }

func (m *mailServer) received() (to, msgs []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.to...), append([]string(nil), m.got...)
}

type mailSession struct {
	srv *mailServer
	to  string
}

func (s *mailSession) Reset()                               {}
func (s *mailSession) Logout() error                        { return nil }
func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	if e := s.srv.refuse[strings.ToLower(to)]; e != nil {
		return e
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
	s.srv.got = append(s.srv.got, string(b))
	s.srv.to = append(s.srv.to, s.to)
	return nil
}

// useSMTP has the fixture deliver through srv with the real SMTP transport.
func (f *fixture) useSMTP(t *testing.T, srv *mailServer) {
	t.Helper()
	host, port, _ := net.SplitHostPort(srv.addr)
	var p int
	fmt.Sscan(port, &p)
	tr, err := mailer.NewSMTP(mailer.Config{Host: host, Port: p, From: "frontdesk@harbor-yoga.example", TLS: mailer.TLSNone, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	f.worker = &mailer.Worker{DB: f.db, Transport: tr, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// flat is a view as one line of words, without the boxes' borders: what a
// wrapped sentence says, wherever it was cut.
func flat(view string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(view, "|", " ")), " ")
}

func outboxOf(t *testing.T, m *Model) *outboxScreen {
	t.Helper()
	o, ok := m.top().(*outboxScreen)
	if !ok {
		t.Fatalf("the top screen is %T, not the outbox:\n%s", m.top(), m.View())
	}
	return o
}

// The outbox screen, drawn at 80x24 (and wide) in ASCII, as goldens: all
// messages, and only those needing attention with the fix for the selected
// one.
func TestOutboxGolden(t *testing.T) {
	f := newFixture(t, 60)
	for _, tc := range []struct {
		name   string
		w, h   int
		script []string
	}{
		{"80x24", 80, 24, []string{"o"}},
		{"attention_80x24", 80, 24, []string{"o", "<tab>"}},
		{"attention_160x30", 160, 30, []string{"o", "<tab>", "j"}},
		{"narrow_40x12", 40, 12, []string{"o"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := f.model(f.owner, tc.w, tc.h)
			drive(t, m, tea.WindowSizeMsg{Width: tc.w, Height: tc.h})
			drive(t, m, keys(tc.script...)...)
			golden.RequireEqual(t, []byte(m.View()))
		})
	}
}

// The outbox is paged from the database newest first: walking down and up
// across pages, paging, and jumping to either end select the messages in
// the outbox's order, each page asks for one screenful, and the model never
// holds more than a page.
func TestOutboxPaging(t *testing.T) {
	f := newFixture(t, 500)
	ctx := context.Background()
	var want []int64
	rows, err := storetest.Raw(t, f.db).QueryContext(ctx, `SELECT id FROM outbox WHERE org_id = ? ORDER BY id DESC`, f.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		want = append(want, id)
	}
	rows.Close()
	if len(want) < 60 {
		t.Fatalf("only %d messages in the demo", len(want))
	}
	pager := &countingOutbox{Roster: f.db}
	m := New(Common{Ctx: ctx, Styles: asciiStyles(), Org: f.org, Staff: f.owner, Width: 80, Height: 24},
		Deps{Roster: pager, Invites: f.svc, Now: f.db.Now})
	drive(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	drive(t, m, keys("o")...)
	o := outboxOf(t, m)
	at := func(i int, how string) {
		t.Helper()
		if r := o.current(); r == nil || r.ID != want[i] {
			t.Fatalf("%s: on message %v, want the %dth newest, %d\n%s", how, r, i+1, want[i], m.View())
		}
		if len(o.rows) > o.visible+2 {
			t.Fatalf("%s: holding %d rows for %d on screen", how, len(o.rows), o.visible)
		}
	}
	at(0, "opened")
	for i := 1; i < 40; i++ {
		drive(t, m, keys("j")...)
		at(i, fmt.Sprintf("%d down", i))
	}
	for i := 38; i >= 5; i-- {
		drive(t, m, keys("k")...)
		at(i, fmt.Sprintf("back up to %d", i))
	}
	pos := 5
	drive(t, m, keys("<pgdown>")...)
	pos += o.visible
	at(pos, "page down")
	drive(t, m, keys("<pgup>")...)
	at(pos-o.visible, "page up")
	drive(t, m, keys("G")...)
	at(len(want)-1, "end")
	if !strings.Contains(m.View(), "Queued") {
		t.Fatalf("the last page:\n%s", m.View())
	}
	drive(t, m, keys("k")...)
	at(len(want)-2, "up from the end")
	drive(t, m, keys("g")...)
	at(0, "home")
	if got := pager.maxLimit; got > 24 {
		t.Errorf("a page asked for %d rows on a 24-line terminal", got)
	}
	if pager.pages > 40 {
		t.Errorf("%d page queries for %d moves", pager.pages, 80)
	}
}

// countingOutbox counts the outbox pages asked for and their size.
type countingOutbox struct {
	Roster
	pages, maxLimit int
}

func (c *countingOutbox) OutboxPage(ctx context.Context, orgID int64, q store.OutboxQuery) ([]store.OutboxRow, error) {
	c.pages++
	c.maxLimit = max(c.maxLimit, q.Limit)
	return c.Roster.OutboxPage(ctx, orgID, q)
}

// The desk's whole repair of a mistyped address, through a real SMTP server
// that answers 550 5.1.1: the invite fails; the roster says Delivery
// failed; the outbox screen shows it with the server's words and what they
// mean; resending to the same address first asks whether it is right;
// e fixes the email from the outbox screen and i sends a fresh invite,
// which arrives with a working link while the failed one stays dead.
func TestOutboxFixAFailedInvite(t *testing.T) {
	const typo, fixed = "wanda.quill@exmaple.com", "wanda.quill@example.com"
	srv := startMailServer(t, map[string]*smtp.SMTPError{
		typo: {Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<" + typo + ">: Recipient address rejected: User unknown in virtual mailbox table"},
	})
	f := newFixture(t, 60)
	f.useSMTP(t, srv)
	ctx := context.Background()
	wanda := &store.Customer{OrgID: f.org.ID, FirstName: "Wanda", LastName: "Quill", Email: typo}
	if err := f.db.Tx(ctx, func(tx *store.Tx) error { return tx.CreateCustomer(ctx, wanda) }); err != nil {
		t.Fatal(err)
	}
	funnelBefore, _ := f.db.ClaimFunnel(ctx, f.org.ID)

	m := f.model(f.owner, 100, 30)
	drive(t, m, tea.WindowSizeMsg{Width: 100, Height: 30})
	drive(t, m, keys("/", "wanda quill", "<enter>", "i")...)
	if v := m.View(); !strings.Contains(v, "Invite Wanda Quill to claim their account?") {
		t.Fatalf("no confirmation:\n%s", v)
	}
	drive(t, m, keys("y")...)
	if n := m.top().Note().text; !strings.Contains(n, "Invite to "+typo+" failed: ") || !strings.Contains(n, "User unknown") {
		t.Fatalf("outcome: %q", n)
	}
	if v := m.View(); !strings.Contains(v, "Delivery failed") {
		t.Fatalf("the roster does not say Delivery failed:\n%s", v)
	}
	if fu, _ := f.db.ClaimFunnel(ctx, f.org.ID); fu.Invited != funnelBefore.Invited+1 {
		t.Errorf("funnel %+v after inviting, before %+v", fu, funnelBefore)
	}
	if !strings.Contains(m.View(), fmt.Sprintf("%d invited", funnelBefore.Invited+1)) {
		t.Errorf("the header's funnel did not follow:\n%s", m.View())
	}

	drive(t, m, keys("<esc>", "o")...)
	o := outboxOf(t, m)
	if r := o.current(); r == nil || r.To != typo || r.Delivery() != store.DeliveryFailed {
		t.Fatalf("the outbox's newest message: %+v\n%s", r, m.View())
	}
	v := flat(m.View())
	for _, want := range []string{"Failed", "The address does not exist", "550 5.1.1 <" + typo + ">: Recipient address rejected: User unknown",
		"e fix the email, then i send a fresh invite"} {
		if !strings.Contains(v, want) {
			t.Errorf("the outbox screen lacks %q:\n%s", want, v)
		}
	}

	// Sending to the same address again asks first.
	drive(t, m, keys("i")...)
	v = flat(m.View())
	for _, want := range []string{"Send Wanda Quill a new invite?", "failed: the address does not exist", "Is " + typo + " right?", "Server said"} {
		if !strings.Contains(v, want) {
			t.Errorf("the confirmation lacks %q:\n%s", want, v)
		}
	}
	drive(t, m, keys("n")...)
	outboxOf(t, m)

	// e: the email editor, from the outbox screen.
	drive(t, m, keys("e")...)
	if v := m.View(); !strings.Contains(v, "Edit email") {
		t.Fatalf("e on the outbox screen:\n%s", v)
	}
	drive(t, m, keys("<ctrl+u>", fixed, "<enter>")...)
	o = outboxOf(t, m)
	if n := o.Note().text; !strings.Contains(n, "Email changed to "+fixed) {
		t.Errorf("after the edit: %q", n)
	}
	if v := flat(m.View()); !strings.Contains(v, "The email is now "+fixed+": i sends a fresh invite there.") {
		t.Errorf("the fix line after the edit:\n%s", v)
	}

	// i: a fresh invite to the fixed address, without the question.
	drive(t, m, keys("i")...)
	if v := m.View(); strings.Contains(v, "right?") || !strings.Contains(v, fixed) {
		t.Errorf("the confirmation after the fix:\n%s", v)
	}
	drive(t, m, keys("y")...)
	if n := m.top().Note().text; !strings.HasPrefix(n, "Invite sent to "+fixed) {
		t.Fatalf("outcome after the fix: %q", n)
	}
	o = outboxOf(t, m)
	if top := o.rows[0]; top.To != fixed || top.Delivery() != store.DeliverySent || !strings.Contains(m.View(), "Sent") {
		t.Errorf("the outbox's newest message after the fix: %+v\n%s", top, m.View())
	}
	to, msgs := srv.received()
	if len(msgs) != 1 || to[0] != fixed {
		t.Fatalf("the server accepted %v", to)
	}
	link := regexp.MustCompile(`/claim/([A-Za-z0-9_-]{43})`).FindStringSubmatch(strings.ReplaceAll(msgs[0], "=\r\n", ""))
	if link == nil {
		t.Fatalf("no link in the email:\n%s", msgs[0])
	}
	l, err := f.svc.Lookup(ctx, store.PurposeClaim, link[1])
	if err != nil || l.State != claim.LinkValid || l.Customer.ID != wanda.ID {
		t.Fatalf("the fresh link: %+v %v", l, err)
	}
	p, err := f.db.Profile(ctx, f.org.ID, wanda.ID)
	if err != nil || len(p.Invites) != 2 {
		t.Fatal(p, err)
	}
	if st, _ := p.Invites[1].State(&p.Customer, f.db.Now()); st != store.InviteFailed {
		t.Errorf("the failed invite is %s, want failed (its link no longer works)", st)
	}
	if p.Status != store.StatusInvited {
		t.Errorf("Wanda is %s, want invited", p.Status)
	}
}

// The third invite within an hour asks whether the customer checked their
// spam folder.
func TestConfirmAsksAboutSpamOnTheThirdSend(t *testing.T) {
	f := newFixture(t, 60)
	c := f.customer(t, store.StatusNotInvited)
	for range 2 {
		if _, err := f.svc.Send(context.Background(), f.owner, []int64{c.ID}, claim.SendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	m := f.model(f.owner, 80, 24)
	drive(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	drive(t, m, keys("/", c.Email, "<enter>", "i")...)
	v := flat(m.View())
	if !strings.Contains(v, "This is the 3rd invite to "+c.Name()+" within an hour. Have they checked their spam or junk folder?") {
		t.Errorf("the confirmation does not ask about the spam folder:\n%s", m.View())
	}
}

// A real GET of the emailed link, at the customers' web, shows on the
// profile as the first opening, with the password still to set.
func TestProfileShowsFirstOpened(t *testing.T) {
	f := newFixture(t, 60)
	ctx := context.Background()
	c := f.customer(t, store.StatusNotInvited)
	out, err := f.svc.Send(ctx, f.owner, []int64{c.ID}, claim.SendOptions{})
	if err != nil || out[0].Result != claim.Delivered {
		t.Fatalf("send: %+v %v", out, err)
	}
	files, _ := filepath.Glob(filepath.Join(f.mailDir, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("%d emails written", len(files))
	}
	eml, _ := os.ReadFile(files[0])
	link := regexp.MustCompile(`/claim/[A-Za-z0-9_-]{43}`).FindString(strings.ReplaceAll(string(eml), "=\r\n", ""))
	if link == "" {
		t.Fatalf("no link in\n%s", eml)
	}
	srv := httptest.NewServer(web.New(web.Options{Service: f.svc}))
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(srv.URL + link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET %s: %s", link, resp.Status)
	}

	m := f.model(f.owner, 120, 40)
	drive(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	drive(t, m, keys("/", c.Email, "<enter>", "<enter>")...)
	v := m.View()
	if !strings.Contains(v, "opened Mon 23 Nov 2026, 14:05, password not set yet") || !strings.Contains(v, "link live, expires Mon 30 Nov 2026 at 14:05 GMT") {
		t.Errorf("the profile does not show the first opening:\n%s", v)
	}
	if !strings.Contains(v, "mail sent Mon 23 Nov 2026, 14:05 (written to") {
		t.Errorf("the profile does not show the delivery with the reply:\n%s", v)
	}
}

package tui

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"frontdesk/claim/web"
	"frontdesk/store"
	"frontdesk/store/storetest"
	"frontdesk/tui/qrscan"
)

// decodeQR reads the QR code off a drawn screen (see qrscan).
func decodeQR(t *testing.T, view string, ascii, darkTerminal bool) (string, error) {
	t.Helper()
	return qrscan.Read(view, ascii, darkTerminal)
}

// clock is a test clock the model and the store share.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func quickTicks(t *testing.T) {
	old := qrTickEvery
	qrTickEvery = time.Millisecond
	t.Cleanup(func() { qrTickEvery = old })
}

// claimHere opens the first not-invited customer's profile and presses c.
func claimHere(t *testing.T, f *fixture, m *Model, w, h int) store.RosterRow {
	t.Helper()
	c := f.customer(t, store.StatusNotInvited)
	drive(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	drive(t, m, keys("<tab>", "<enter>", "c")...)
	if _, ok := m.top().(*qrScreen); !ok {
		t.Fatalf("c on a profile opened %T, note %q", m.top(), m.top().Note().text)
	}
	return c
}

// openClaimLink GETs link through the customers' web handler, as the
// customer's phone does, and returns the page it ends on.
func openClaimLink(t *testing.T, f *fixture, link string) (int, string) {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.New(web.Options{Service: f.svc}))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	resp, err := (&http.Client{Jar: jar}).Get(srv.URL + u.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// c on a profile: a confirmation that says the new link replaces any
// earlier one and how long the code and the link last; then the code, at
// 80×24 in colour, whole and dark on an explicitly light ground, which
// decodes to a working claim link; no email is queued.
func TestClaimHereShowsAWorkingCode(t *testing.T) {
	quickTicks(t)
	f := newFixture(t, 60)
	m := f.modelWith(colorStyles(), f.owner, 80, 24)
	cust := claimHere(t, f, m, 80, 24)

	confirm := ansi.Strip(m.View())
	for _, want := range []string{"Show " + cust.Name() + " a claim code to scan here?", cust.Email,
		"A new link replaces any earlier one", "5 minutes at most", "the link works until it expires", "None is sent"} {
		if !strings.Contains(strings.Join(strings.Fields(confirm), " "), want) {
			t.Errorf("confirmation lacks %q:\n%s", want, confirm)
		}
	}
	outbox := storetest.Int(t, f.db, `SELECT count(*) FROM outbox`)

	drive(t, m, keys("y")...)
	q, ok := m.top().(*qrScreen)
	if !ok || q.phase != qrShown {
		t.Fatalf("after y: %T, note %q", m.top(), m.top().Note().text)
	}
	view := m.View()
	lines := strings.Split(view, "\n")
	if len(lines) != 24 {
		t.Fatalf("%d lines at 80×24", len(lines))
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > 80 {
			t.Fatalf("line %d is %d columns wide", i, w)
		}
	}
	link, err := decodeQR(t, view, false, true)
	if err != nil {
		t.Fatalf("the screen's code does not decode: %v\n%s", err, ansi.Strip(view))
	}
	if !strings.HasPrefix(link, "http://localhost:8080/claim/") {
		t.Fatalf("decoded %q", link)
	}
	status, page := openClaimLink(t, f, link)
	if status != http.StatusOK || !strings.Contains(page, `autocomplete="new-password"`) || !strings.Contains(page, cust.Email) {
		t.Fatalf("the decoded link opens %d:\n%s", status, page)
	}
	// Dark modules on light, both set, whatever the terminal's colours.
	for _, sgr := range []string{"38;2;0;0;0", "48;2;255;255;255"} {
		if !strings.Contains(view, sgr) {
			t.Errorf("the code is not drawn with %s", sgr)
		}
	}
	if n := storetest.Int(t, f.db, `SELECT count(*) FROM outbox`); n != outbox {
		t.Errorf("showing the code queued %d email(s)", n-outbox)
	}
	got, _ := f.db.Customer(context.Background(), f.org.ID, cust.ID)
	if got.Status != store.StatusInvited {
		t.Errorf("status after the code: %s", got.Status)
	}
	if !strings.Contains(ansi.Strip(view), "No email was sent") || !strings.Contains(ansi.Strip(view), "hides in 5:00") {
		t.Errorf("the code's words:\n%s", ansi.Strip(view))
	}

	// esc closes it; the profile under it already shows the invite.
	drive(t, m, keys("<esc>")...)
	p, ok := m.top().(*profileScreen)
	if !ok || !strings.HasPrefix(p.note.text, "Claim code closed. The link works once, until") {
		t.Fatalf("after esc: %T %q", m.top(), m.top().Note().text)
	}
	if !strings.Contains(m.View(), "Invited") {
		t.Errorf("the profile does not show the new invite:\n%s", m.View())
	}
	// Its history says where the link went: no email, the desk's screen.
	if v := strings.Join(strings.Fields(ansi.Strip(m.View())), " "); !strings.Contains(v, "no email: shown at the desk as a QR code") {
		t.Errorf("the invite history does not say the link was shown at the desk:\n%s", m.View())
	}
}

// The code is drawn the same in a light and a dark terminal: the colours
// are set, not adaptive.
func TestClaimCodeSameInLightAndDark(t *testing.T) {
	mods, err := qrModules("http://localhost:8080/claim/q5T1bC3uPr4n2kW8dZ0yXaHfLmNvJ6sE9gRtYiUoKpA")
	if err != nil {
		t.Fatal(err)
	}
	draw := func(dark bool) string {
		r := lipgloss.NewRenderer(io.Discard)
		r.SetColorProfile(termenv.ANSI)
		r.SetHasDarkBackground(dark)
		return strings.Join(drawQR(NewStyles(r), mods, 2), "\n")
	}
	if draw(true) != draw(false) {
		t.Error("the code differs between light and dark terminals")
	}
}

// Without colour (NO_COLOR, TERM=dumb) the code is drawn with '#', in the
// polarity that keeps it dark on light; it needs more room than 80×24, and
// says how much.
func TestClaimCodeASCII(t *testing.T) {
	quickTicks(t)
	for _, dark := range []bool{true, false} {
		f := newFixture(t, 60)
		r := lipgloss.NewRenderer(io.Discard)
		r.SetColorProfile(termenv.Ascii)
		r.SetHasDarkBackground(dark)
		m := f.modelWith(NewStyles(r), f.owner, 80, 24)
		claimHere(t, f, m, 80, 24)
		drive(t, m, keys("y")...)
		if v := m.View(); !strings.Contains(v, "too small to show the code: it needs") || strings.Contains(v, "##") {
			t.Fatalf("ASCII at 80x24:\n%s", v)
		}
		drive(t, m, tea.WindowSizeMsg{Width: 100, Height: 48})
		link, err := decodeQR(t, m.View(), true, dark)
		if err != nil {
			t.Fatalf("dark %v: the ASCII code does not decode: %v\n%s", dark, err, m.View())
		}
		if status, _ := openClaimLink(t, f, link); status != http.StatusOK {
			t.Errorf("dark %v: the decoded link opens %d", dark, status)
		}
	}
}

// The code goes after 5 minutes by the clock, and the screen says so; the
// link keeps its lifetime.
func TestClaimCodeHidesAfterFiveMinutes(t *testing.T) {
	quickTicks(t)
	f := newFixture(t, 60)
	clk := &clock{t: fixedNow}
	f.db.Now = clk.now
	m := f.modelWith(colorStyles(), f.owner, 80, 24)
	cust := claimHere(t, f, m, 80, 24)
	drive(t, m, keys("y")...)
	q := m.top().(*qrScreen)
	tick := routed{to: q, msg: qrTickMsg{}}

	clk.add(qrShowFor - time.Second)
	drive(t, m, tick)
	if q.phase != qrShown || !strings.Contains(m.View(), "hides in 0:01") {
		t.Fatalf("a second before the end:\n%s", ansi.Strip(m.View()))
	}
	if _, err := decodeQR(t, m.View(), false, true); err != nil {
		t.Fatalf("a second before the end the code is gone: %v", err)
	}
	clk.add(time.Second)
	drive(t, m, tick)
	v := ansi.Strip(m.View())
	if q.phase != qrHidden || q.modules != nil || strings.ContainsAny(v, "█▀▄") {
		t.Fatalf("after 5 minutes the code is still there:\n%s", v)
	}
	if !strings.Contains(v, "The code was hidden after 5 minutes") || !strings.Contains(v, "The link still works once, until Mon 30 Nov 2026") {
		t.Errorf("after 5 minutes:\n%s", v)
	}
	got, _ := f.db.Customer(context.Background(), f.org.ID, cust.ID)
	if got.Status != store.StatusInvited {
		t.Errorf("the link died with the code: %s", got.Status)
	}
}

// Cancelling the confirmation changes nothing; the staff role and a
// claimed customer are refused with the reason, before any confirmation.
func TestClaimHereRefusals(t *testing.T) {
	f := newFixture(t, 60)
	m := f.model(f.owner, 80, 24)
	claimHere(t, f, m, 80, 24)
	invites := storetest.Int(t, f.db, `SELECT count(*) FROM invites`)
	drive(t, m, keys("n")...)
	if p, ok := m.top().(*profileScreen); !ok || p.note.text != "No claim code shown; nothing changed." {
		t.Fatalf("after n: %T %q", m.top(), m.top().Note().text)
	}
	if n := storetest.Int(t, f.db, `SELECT count(*) FROM invites`); n != invites {
		t.Errorf("cancelling made %d invite(s)", n-invites)
	}

	staff := f.model(f.desk, 80, 24)
	drive(t, staff, tea.WindowSizeMsg{Width: 80, Height: 24})
	drive(t, staff, keys("<enter>", "c")...)
	if _, ok := staff.top().(*profileScreen); !ok || !strings.Contains(staff.top().Note().text, "cannot show claim codes") {
		t.Errorf("staff role: %T %q", staff.top(), staff.top().Note().text)
	}

	claimed := f.model(f.owner, 80, 24)
	drive(t, claimed, tea.WindowSizeMsg{Width: 80, Height: 24})
	drive(t, claimed, keys("<shift+tab>", "<shift+tab>", "<shift+tab>", "<enter>")...) // the Claimed filter, past Archived and No email
	p, ok := claimed.top().(*profileScreen)
	if !ok || p.p == nil || p.p.Status != store.StatusClaimed {
		t.Fatalf("not on a claimed customer's profile: %T", claimed.top())
	}
	drive(t, claimed, keys("c")...)
	if claimed.top() != p || !strings.Contains(p.note.text, "already claimed their account") {
		t.Errorf("claimed customer: %T %q", claimed.top(), claimed.top().Note().text)
	}
}

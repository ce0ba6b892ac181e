package tui

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"frontdesk/claim"
	"frontdesk/mailer"
	"frontdesk/store"
	"frontdesk/store/demo"
)

// fixedNow is the tests' clock: demo data, expiries and goldens depend on it.
var fixedNow = time.Date(2026, 11, 23, 14, 5, 0, 0, time.UTC)

// fixture is a real store (SQLite file), the real invite service and a real
// outbox worker writing .eml files: the TUI is tested against the parts it
// runs with.
type fixture struct {
	db                 *store.DB
	org                *store.Org
	owner, admin, desk *store.Staff
	svc                *claim.Service
	worker             *mailer.Worker
	mailDir            string
	roster             *countingRoster
}

// countingRoster counts the queries the TUI makes.
type countingRoster struct {
	Roster
	pages, counts, matches, profiles, customers atomic.Int64
	maxLimit                                    atomic.Int64
}

func (c *countingRoster) RosterPage(ctx context.Context, orgID int64, rq store.RosterQuery) ([]store.RosterRow, error) {
	c.pages.Add(1)
	for {
		old := c.maxLimit.Load()
		if int64(rq.Limit) <= old || c.maxLimit.CompareAndSwap(old, int64(rq.Limit)) {
			break
		}
	}
	return c.Roster.RosterPage(ctx, orgID, rq)
}

func (c *countingRoster) RosterCounts(ctx context.Context, orgID int64) (map[store.Status]int, error) {
	c.counts.Add(1)
	return c.Roster.RosterCounts(ctx, orgID)
}

func (c *countingRoster) RosterMatches(ctx context.Context, orgID int64, rq store.RosterQuery, limit int) (int, error) {
	c.matches.Add(1)
	return c.Roster.RosterMatches(ctx, orgID, rq, limit)
}

func (c *countingRoster) Profile(ctx context.Context, orgID, id int64) (*store.Profile, error) {
	c.profiles.Add(1)
	return c.Roster.Profile(ctx, orgID, id)
}

func (c *countingRoster) CustomersByID(ctx context.Context, orgID int64, ids []int64) ([]*store.Customer, error) {
	c.customers.Add(1)
	return c.Roster.CustomersByID(ctx, orgID, ids)
}

func (c *countingRoster) queries() int64 {
	return c.pages.Load() + c.counts.Load() + c.matches.Load() + c.profiles.Load() + c.customers.Load()
}

// demoCache keeps one generated database per size for the whole test run;
// each test copies it, so tests stay independent and fast.
var demoCache sync.Map

// generating serializes demo.Generate: one demo database is built at a
// time.
var generating sync.Mutex

type demoEntry struct {
	once sync.Once
	path string
	err  error
}

func demoFile(t testing.TB, n int) string {
	t.Helper()
	v, _ := demoCache.LoadOrStore(n, &demoEntry{})
	e := v.(*demoEntry)
	e.once.Do(func() {
		dir, err := os.MkdirTemp("", "frontdesk-tui-test")
		if err != nil {
			e.err = err
			return
		}
		e.path = filepath.Join(dir, "frontdesk.db")
		db, err := store.Open(e.path)
		if err != nil {
			e.err = err
			return
		}
		db.Now = func() time.Time { return fixedNow }
		generating.Lock()
		_, err = demo.Generate(context.Background(), db, demo.Options{Customers: n, Seed: 1})
		generating.Unlock()
		if err != nil {
			e.err = err
		}
		// demo.Generate checkpoints the WAL and closing the last connection
		// removes it: the file copies whole.
		if err := db.Close(); err != nil && e.err == nil {
			e.err = err
		}
	})
	if e.err != nil {
		t.Fatal(e.err)
	}
	return e.path
}

func TestMain(m *testing.M) {
	// The big roster takes a while to generate; start now, while the
	// other tests run (not under -bench: it would skew the figures).
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		go demoFile(nopTB{}, bigRoster)
	}
	code := m.Run()
	demoCache.Range(func(_, v any) bool {
		if e := v.(*demoEntry); e.path != "" {
			os.RemoveAll(filepath.Dir(e.path))
		}
		return true
	})
	os.Exit(code)
}

// nopTB lets TestMain warm the cache; a failure shows again in the test.
type nopTB struct{ testing.TB }

func (nopTB) Helper()           {}
func (nopTB) Fatal(args ...any) {}

func newFixture(t testing.TB, n int) *fixture {
	t.Helper()
	src := demoFile(t, n)
	dir := t.TempDir()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "frontdesk.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return fixedNow }
	ctx := context.Background()
	f := &fixture{db: db, mailDir: filepath.Join(dir, "outbox")}
	if f.org, err = db.OrgBySlug(ctx, "harbor-yoga"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		p     **store.Staff
		email string
	}{{&f.owner, "owner@harbor-yoga.example"}, {&f.admin, "admin@harbor-yoga.example"}, {&f.desk, "desk@harbor-yoga.example"}} {
		if *s.p, err = db.StaffByEmail(ctx, s.email); err != nil {
			t.Fatal(err)
		}
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.worker = &mailer.Worker{DB: db, Transport: mailer.NewFileTransport(f.mailDir, logger), Logger: logger}
	f.svc = &claim.Service{DB: db, BaseURL: "http://localhost:8080", Mail: f.worker}
	f.roster = &countingRoster{Roster: db}
	return f
}

// asciiStyles are the styles of an ASCII terminal (TERM=dumb): goldens are
// plain text.
func asciiStyles() *Styles {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	r.SetHasDarkBackground(true)
	return NewStyles(r)
}

// colorStyles are a true-colour terminal's.
func colorStyles() *Styles {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.TrueColor)
	r.SetHasDarkBackground(true)
	return NewStyles(r)
}

func (f *fixture) model(staff *store.Staff, w, h int) *Model {
	return f.modelWith(asciiStyles(), staff, w, h)
}

func (f *fixture) modelWith(s *Styles, staff *store.Staff, w, h int) *Model {
	f.svc.Mail = f.worker // a test may have swapped the worker's transport
	return New(Common{Ctx: context.Background(), Styles: s, Org: f.org, Staff: staff, Width: w, Height: h},
		Deps{Roster: f.roster, Invites: f.svc, Now: f.db.Now})
}

// customer returns the first customer (in roster order) with status st.
func (f *fixture) customer(t testing.TB, st store.Status) store.RosterRow {
	t.Helper()
	rows, err := f.db.RosterPage(context.Background(), f.org.ID, store.RosterQuery{Status: st, Limit: 1})
	if err != nil || len(rows) == 0 {
		t.Fatalf("no %s customer: %v", st, err)
	}
	return rows[0]
}

// --- driving a model without a program ---------------------------------

// booted remembers the models drive has run Init for.
var booted sync.Map

// drive feeds msgs to m and runs the commands they return, synchronously,
// until there is nothing left to run: a deterministic stand-in for the
// program loop in tests that count or order things. Spinner ticks and the
// QR code's countdown ticks are dropped (they would tick forever); a test
// moves the clock and sends a qrTickMsg itself.
func drive(t testing.TB, m *Model, msgs ...tea.Msg) (quit bool) {
	t.Helper()
	var queue []tea.Cmd
	feed := func(msg tea.Msg) {
		_, cmd := m.Update(msg)
		queue = append(queue, cmd)
	}
	run := func() {
		for len(queue) > 0 {
			cmd := queue[0]
			queue = queue[1:]
			if cmd == nil {
				continue
			}
			switch msg := cmd().(type) {
			case nil, spinner.TickMsg:
			case routed:
				if _, tick := msg.msg.(qrTickMsg); !tick {
					feed(msg)
				}
			case tea.BatchMsg:
				queue = append(queue, msg...)
			case tea.QuitMsg:
				quit = true
			default:
				feed(msg)
			}
		}
	}
	if _, done := booted.LoadOrStore(m, true); !done {
		queue = append(queue, m.Init())
		run()
	}
	for _, msg := range msgs {
		feed(msg)
		run()
	}
	return quit
}

// keys turns a script into key messages: single characters, or names in
// angle brackets (<esc>, <enter>, <pgdown>, <tab>, <shift+tab>, <space>).
func keys(script ...string) []tea.Msg {
	named := map[string]tea.KeyType{
		"esc": tea.KeyEsc, "enter": tea.KeyEnter, "pgdown": tea.KeyPgDown, "pgup": tea.KeyPgUp,
		"tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab, "space": tea.KeySpace, "up": tea.KeyUp,
		"down": tea.KeyDown, "home": tea.KeyHome, "end": tea.KeyEnd, "ctrl+c": tea.KeyCtrlC,
		"ctrl+u": tea.KeyCtrlU, "ctrl+a": tea.KeyCtrlA, "backspace": tea.KeyBackspace,
	}
	var out []tea.Msg
	for _, s := range script {
		if strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">") {
			k, ok := named[s[1:len(s)-1]]
			if !ok {
				panic("unknown key " + s)
			}
			out = append(out, tea.KeyMsg{Type: k})
			continue
		}
		for _, r := range s {
			if r == ' ' {
				out = append(out, tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}})
				continue
			}
			out = append(out, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
		}
	}
	return out
}

// --- teatest helpers ----------------------------------------------------

// session is a program under teatest that keeps everything it wrote.
type session struct {
	*teatest.TestModel
	out  bytes.Buffer
	mark int // where the output of the last keys sent starts
}

func startTUI(t *testing.T, m *Model, w, h int) *session {
	t.Helper()
	s := &session{TestModel: teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h))}
	t.Cleanup(func() { s.Quit() })
	return s
}

func (s *session) drain() { io.Copy(&s.out, s.Output()) }

// waitFor waits until the program has written all of wants since the last
// keys were sent. The renderer writes only lines that changed, so wait for
// text on a line the step changes.
func waitFor(t *testing.T, s *session, wants ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.drain()
		got := s.out.Bytes()[s.mark:]
		ok := true
		for _, w := range wants {
			ok = ok && bytes.Contains(got, []byte(w))
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %q; output since the last keys:\n%s", wants, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// typeKeys sends keys; later waits look only at what they caused.
func typeKeys(s *session, script ...string) {
	s.drain()
	s.mark = s.out.Len()
	for _, k := range keys(script...) {
		s.Send(k)
	}
}

// finalView quits (ctrl+c works on every screen) and returns the last frame
// the model would draw.
func finalView(t *testing.T, s *session) string {
	t.Helper()
	s.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	m := s.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(*Model)
	s.drain()
	return m.View()
}

// live is how many customers the roster shows (the demo archives a few).
func (f *fixture) live(t *testing.T) int {
	t.Helper()
	counts, err := f.db.RosterCounts(context.Background(), f.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

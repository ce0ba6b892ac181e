package tui

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"frontdesk/store"
)

func TestRosterGolden(t *testing.T) {
	for _, size := range []struct{ w, h int }{{80, 24}, {200, 50}} {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			f := newFixture(t, 60)
			m := f.model(f.owner, size.w, size.h)
			drive(t, m, tea.WindowSizeMsg{Width: size.w, Height: size.h})
			golden.RequireEqual(t, []byte(m.View()))
		})
	}
}

func TestRosterTeatest(t *testing.T) {
	f := newFixture(t, 60)
	first := f.customer(t, "")
	tm := startTUI(t, f.model(f.owner, 80, 24), 80, 24)
	waitFor(t, tm, "Harbor Yoga", first.Name(), fmt.Sprintf("1-17 of %d", f.live(t)))
	golden.RequireEqual(t, []byte(finalView(t, tm)))
}

// The roster pages rows in as the cursor moves; what it asks of the
// database for a walk through the list is the same for a small roster and
// one fifty times larger, and drawing a frame asks nothing.
func TestRosterWorkIndependentOfSize(t *testing.T) {
	t.Parallel()
	script := keys("jjjjj", "<pgdown>", "<pgdown>", "<pgdown>", "kk", "<pgup>", "G", "<pgup>", "kkk", "<pgup>", "g", "<tab>", "jj", "<shift+tab>", "<end>", "<home>")
	type work struct{ pages, counts, matches, total, maxLimit, maxRows int64 }
	measure := func(n int) work {
		f := newFixture(t, n)
		m := f.model(f.owner, 80, 24)
		var w work
		msgs := append([]tea.Msg{tea.WindowSizeMsg{Width: 80, Height: 24}}, script...)
		for _, msg := range msgs {
			drive(t, m, msg)
			w.maxRows = max(w.maxRows, int64(len(m.roster.rows)))
			before := f.roster.queries()
			for range 3 {
				m.View()
			}
			if after := f.roster.queries(); after != before {
				t.Fatalf("View queried the database (%d queries)", after-before)
			}
		}
		w.pages, w.counts, w.matches = f.roster.pages.Load(), f.roster.counts.Load(), f.roster.matches.Load()
		w.total, w.maxLimit = f.roster.queries(), f.roster.maxLimit.Load()
		return w
	}
	small, big := measure(100), measure(bigRoster)
	if small != big {
		t.Fatalf("database work differs with roster size:\n  100 customers: %+v\n  %d customers: %+v", small, bigRoster, big)
	}
	// Never the whole roster: a window of a few screens (17 rows here).
	if big.maxRows > 100 || big.maxLimit > 50 {
		t.Fatalf("window too large: %+v", big)
	}
	t.Logf("work for the walk: %+v", big)
}

func TestRosterPagingReachesEnds(t *testing.T) {
	t.Parallel()
	f := newFixture(t, bigRoster)
	m := f.model(f.owner, 80, 24)
	drive(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	ctx := context.Background()
	last, err := f.db.RosterPage(ctx, f.org.ID, store.RosterQuery{Backward: true, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	drive(t, m, keys("G")...)
	if row := m.roster.current(); row == nil || row.ID != last[0].ID {
		t.Fatalf("G: cursor on %+v, want the last customer %s", row, last[0].Name())
	}
	counts, err := f.db.RosterCounts(ctx, f.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	if !strings.Contains(m.View(), num(total-16)+"-"+num(total)+" of "+num(total)) {
		t.Fatalf("position missing:\n%s", m.View())
	}
	// Page down through the whole roster one screen at a time: every row
	// is reached in order, with the window never holding more than a few
	// screens.
	drive(t, m, keys("g")...)
	seen := 0
	prev := int64(0)
	for range 400 {
		row := m.roster.current()
		if row.ID == prev {
			break
		}
		prev = row.ID
		seen++
		drive(t, m, keys("<pgdown>")...)
		if len(m.roster.rows) > 100 {
			t.Fatalf("window holds %d rows", len(m.roster.rows))
		}
	}
	if row := m.roster.current(); row.ID != last[0].ID {
		t.Fatalf("paging down ended on %s, want %s", row.Name(), last[0].Name())
	}
	if want := total/m.roster.visible + 1; seen < want-1 || seen > want+1 {
		t.Fatalf("took %d pages, want about %d", seen, want)
	}
}

// Results answer the query they were asked for: a slow answer to "a" that
// arrives after the answer to "al" is dropped.
func TestStaleSearchResultDropped(t *testing.T) {
	f := newFixture(t, 100)
	m := f.model(f.owner, 80, 24)
	drive(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	drive(t, m, keys("/")...)
	collect := func(cmd tea.Cmd) []tea.Msg {
		var out []tea.Msg
		queue := []tea.Cmd{cmd}
		for len(queue) > 0 {
			c := queue[0]
			queue = queue[1:]
			if c == nil {
				continue
			}
			switch msg := c().(type) {
			case tea.BatchMsg:
				queue = append(queue, msg...)
			case nil:
			default:
				out = append(out, msg)
			}
		}
		return out
	}
	_, c1 := m.Update(keys("a")[0])
	_, c2 := m.Update(keys("l")[0])
	newer, older := collect(c2), collect(c1)
	for _, msg := range append(newer, older...) {
		m.Update(msg)
	}
	want, err := f.db.RosterPage(context.Background(), f.org.ID, store.RosterQuery{Search: "al", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.roster.rows) != len(want) {
		t.Fatalf("rows for %q: got %d, want %d (the stale answer for \"a\" won)", m.roster.query, len(m.roster.rows), len(want))
	}
	for i := range want {
		if m.roster.rows[i].ID != want[i].ID {
			t.Fatalf("row %d is %s, want %s", i, m.roster.rows[i].Name(), want[i].Name())
		}
	}
}

func TestSearchFiltersLive(t *testing.T) {
	f := newFixture(t, 60)
	target := f.customer(t, store.StatusNotInvited)
	part := strings.Fields(target.Name())[1][:3]
	tm := startTUI(t, f.model(f.owner, 100, 30), 100, 30)
	waitFor(t, tm, "Harbor Yoga")
	typeKeys(tm, "/", strings.ToLower(part))
	waitFor(t, tm, target.Name(), "/ "+strings.ToLower(part)+"|")
	// Status filter on top of the search, then back to All.
	typeKeys(tm, "<tab>")
	waitFor(t, tm, "[Not invited")
	typeKeys(tm, "<shift+tab>", "<enter>")
	waitFor(t, tm, "(esc clears)")
	typeKeys(tm, "<esc>")
	// The whole roster again: the position line says so once its first
	// page has arrived.
	waitFor(t, tm, "/ to search", fmt.Sprintf("1-23 of %d", f.live(t)))
}

func TestEscNeverQuitsRoster(t *testing.T) {
	f := newFixture(t, 60)
	rows, err := f.db.RosterPage(context.Background(), f.org.ID, store.RosterQuery{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	tm := startTUI(t, f.model(f.owner, 80, 24), 80, 24)
	waitFor(t, tm, rows[0].Name())
	typeKeys(tm, "<esc>", "<esc>", "n", "<esc>", "j")
	waitFor(t, tm, ">  "+rows[1].Name())
	// q in the search is a letter, then esc leaves the search, then q quits.
	typeKeys(tm, "/", "q")
	waitFor(t, tm, "/ q|")
	typeKeys(tm, "<esc>", "q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

func TestCtrlCQuitsWhileTyping(t *testing.T) {
	f := newFixture(t, 60)
	tm := startTUI(t, f.model(f.owner, 80, 24), 80, 24)
	waitFor(t, tm, "Harbor Yoga")
	typeKeys(tm, "/", "ab", "<ctrl+c>")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

// Every screen fits the terminal at every size, including resizes while
// it is open: no line wider than the terminal, never more lines than rows.
func TestResize(t *testing.T) {
	f := newFixture(t, 60)
	sizes := []struct{ w, h int }{{80, 24}, {200, 50}, {100, 30}, {40, 12}, {24, 8}, {1000, 300}, {80, 24}}
	screens := []struct {
		name   string
		script []string
	}{
		{"roster", nil},
		{"search", []string{"/", "a"}},
		{"profile", []string{"<enter>"}},
		{"help", []string{"?"}},
		{"email", []string{"<enter>", "e"}},
		{"confirm", []string{"<tab>", "i"}},
		{"bulk", []string{"<tab>", " ", " ", "I"}},
	}
	for _, sc := range screens {
		t.Run(sc.name, func(t *testing.T) {
			m := f.model(f.owner, 80, 24)
			drive(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
			drive(t, m, keys(sc.script...)...)
			for _, sz := range sizes {
				drive(t, m, tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
				view := m.View()
				lines := strings.Split(view, "\n")
				if len(lines) > sz.h {
					t.Errorf("%dx%d: %d lines", sz.w, sz.h, len(lines))
				}
				for i, l := range lines {
					if w := ansi.StringWidth(l); w > sz.w {
						t.Errorf("%dx%d: line %d is %d wide: %q", sz.w, sz.h, i, w, l)
					}
				}
			}
		})
	}
}

// The cursor's row is drawn by wrapping it in the Selected style's
// sequences, taken once; that must be exactly what Render draws, in every
// colour profile and on either background.
func TestSelectedRowMatchesRender(t *testing.T) {
	for _, p := range []termenv.Profile{termenv.TrueColor, termenv.ANSI256, termenv.ANSI, termenv.Ascii} {
		for _, dark := range []bool{true, false} {
			r := lipgloss.NewRenderer(io.Discard)
			r.SetColorProfile(p)
			r.SetHasDarkBackground(dark)
			s := NewStyles(r)
			rs := &rosterScreen{c: &Common{Styles: s}}
			for _, line := range []string{">  Ann Lee   ann@example.com   Invited   expires Mon 30 Nov", "> *Zoë Ödegård  王小明@example.com  ", " ", ""} {
				if got, want := rs.selected(line), s.Selected.Render(line); got != want {
					t.Errorf("profile %v, dark %v: %q drawn as %q, Render gives %q", p, dark, line, got, want)
				}
			}
		}
	}
}

// Colours resolved once for the terminal draw exactly what the adaptive
// colours drew when lipgloss converted them at every Render.
func TestStylesResolveColoursAsLipgloss(t *testing.T) {
	for _, p := range []termenv.Profile{termenv.TrueColor, termenv.ANSI256, termenv.ANSI, termenv.Ascii} {
		for _, dark := range []bool{true, false} {
			r := lipgloss.NewRenderer(io.Discard)
			r.SetColorProfile(p)
			r.SetHasDarkBackground(dark)
			s := NewStyles(r)
			for name, c := range map[string]struct {
				got   lipgloss.Style
				light string
				dark  string
			}{
				"title":    {s.Title, "#5A3FC0", "#B7A6FF"},
				"subtle":   {s.Subtle, "#6B6B6B", "#9A9A9A"},
				"claimed":  {s.Status[store.StatusClaimed], "#1E7B34", "#5FD787"},
				"error":    {s.Error, "#B3261E", "#FF7B72"},
				"selected": {s.Selected, "#000000", "#FFFFFF"},
			} {
				want := c.got.Foreground(lipgloss.AdaptiveColor{Light: c.light, Dark: c.dark})
				if name == "selected" {
					want = want.Background(lipgloss.AdaptiveColor{Light: "#DCD3FF", Dark: "#3B2F73"})
				}
				if g, w := c.got.Render("Ann Lee"), want.Render("Ann Lee"); g != w {
					t.Errorf("%s, profile %v, dark %v: %q, adaptive colours give %q", name, p, dark, g, w)
				}
			}
		}
	}
}

package tui

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"frontdesk/store"
	"frontdesk/store/demo"
)

// Benchmarks at 100 customers always; at 1,000,000 with FRONTDESK_BENCH_1M=1.
// The million-customer database is the store benchmarks' cached one
// ($TMPDIR/frontdesk-bench-1000000-v<migrations>.db), generated on first use
// (a minute or so).
func benchSizes() []int {
	sizes := []int{100}
	if os.Getenv("FRONTDESK_BENCH_1M") == "1" {
		sizes = append(sizes, 1_000_000)
	}
	return sizes
}

// benchFixture is a fixture over a shared database: benchmarks only read
// (the search and view ones) or build models.
func benchFixture(b *testing.B, n int) *fixture {
	b.Helper()
	if n < 1_000_000 {
		return newFixture(b, n)
	}
	migrations, _ := filepath.Glob(filepath.Join("..", "store", "migrations", "*.sql"))
	path := filepath.Join(os.TempDir(), "frontdesk-bench-"+strconv.Itoa(n)+"-v"+strconv.Itoa(len(migrations))+".db")
	db, err := store.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	ctx := context.Background()
	org, err := db.OrgBySlug(ctx, "harbor-yoga")
	if err != nil {
		b.Logf("generating %d demo customers into %s", n, path)
		generating.Lock()
		org, err = demo.Generate(ctx, db, demo.Options{Customers: n, Seed: 1})
		generating.Unlock()
		if err != nil {
			b.Fatal(err)
		}
	}
	f := &fixture{db: db, org: org}
	if f.owner, err = db.FirstOwner(ctx, org.ID); err != nil {
		b.Fatal(err)
	}
	f.roster = &countingRoster{Roster: db}
	return f
}

func benchModel(b *testing.B, f *fixture, w, h int) *Model {
	m := f.modelWith(asciiStyles(), f.owner, w, h)
	drive(b, m, tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

// BenchmarkRosterView: one frame of the roster at 200x50 (DESIGN §9: under
// 1 ms, the same at 100 and at 1,000,000 customers). The cursor sits mid-
// screen, on a window paged in from the middle of the roster.
func BenchmarkRosterView(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			f := benchFixture(b, n)
			m := benchModel(b, f, 200, 50)
			drive(b, m, keys("<pgdown>", "jjjjjjjjjj")...)
			before := f.roster.queries()
			for b.Loop() {
				_ = m.View()
			}
			if f.roster.queries() != before {
				b.Fatal("View queried the database")
			}
		})
	}
}

// BenchmarkRosterViewColor is the same frame in a true-colour terminal:
// styles cost more when they emit escape codes.
func BenchmarkRosterViewColor(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			f := benchFixture(b, n)
			m := f.modelWith(colorStyles(), f.owner, 200, 50)
			drive(b, m, tea.WindowSizeMsg{Width: 200, Height: 50})
			drive(b, m, keys("<pgdown>", "jjjjjjjjjj")...)
			for b.Loop() {
				_ = m.View()
			}
		})
	}
}

// BenchmarkRosterMove: a key press that moves the cursor, including any page
// it brings in, and the frame after it.
func BenchmarkRosterMove(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			f := benchFixture(b, n)
			m := benchModel(b, f, 200, 50)
			down, up := keys("j")[0], keys("k")[0]
			i := 0
			for b.Loop() {
				// Down two screens, back up: pages come and go.
				k := down
				if (i/100)%2 == 1 {
					k = up
				}
				i++
				drive(b, m, k)
				_ = m.View()
			}
		})
	}
}

// BenchmarkSearchKeystroke: from the key that completes a search to its
// first page of results on screen (DESIGN §9: p95 under 10 ms at
// 1,000,000). The match count runs in its own command, off this path.
func BenchmarkSearchKeystroke(b *testing.B) {
	queries := []string{"j", "ja", "jan", "m", "mar", "smi", "sarah", "o'c", "wil", "nguy", "07", "gmail", "chen", "a", "ell", "zo"}
	for _, n := range benchSizes() {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			f := benchFixture(b, n)
			m := benchModel(b, f, 200, 50)
			drive(b, m, keys("/")...)
			var lat []time.Duration
			i := 0
			for b.Loop() {
				q := queries[i%len(queries)]
				i++
				// Type all but the last letter without timing it.
				b.StopTimer()
				drive(b, m, keys("<ctrl+u>")...)
				if len(q) > 1 {
					drive(b, m, keys(q[:len(q)-1])...)
				}
				b.StartTimer()
				t0 := time.Now()
				_, cmd := m.Update(keys(q[len(q)-1:])[0])
				queue := []tea.Cmd{cmd}
				shown := false
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
					case routed:
						_, next := m.Update(msg)
						if _, page := msg.msg.(pageMsg); page {
							_ = m.View()
							if !shown {
								lat = append(lat, time.Since(t0))
								shown = true
								b.StopTimer()
							}
						}
						queue = append(queue, next)
					default:
						_, next := m.Update(msg)
						queue = append(queue, next)
					}
				}
				b.StartTimer()
				if m.roster.query != q {
					b.Fatalf("query %q, want %q", m.roster.query, q)
				}
			}
			slices.Sort(lat)
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
				b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
			}
		})
	}
}

// BenchmarkModelHeap: heap held by one TUI session's model with its first
// page loaded (DESIGN §9 budgets 0.5 MiB per idle SSH session; the issue
// 8 MiB at 1,000,000).
func BenchmarkModelHeap(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			f := benchFixture(b, n)
			var models []*Model
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for b.Loop() {
				// Each session has its own renderer and styles.
				m := f.modelWith(colorStyles(), f.owner, 200, 50)
				drive(b, m, tea.WindowSizeMsg{Width: 200, Height: 50})
				models = append(models, m)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			per := (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(len(models))
			b.ReportMetric(per/1024, "KiB/model")
			runtime.KeepAlive(models)
		})
	}
}

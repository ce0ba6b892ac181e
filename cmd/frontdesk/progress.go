package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/x/term"
)

// progress draws a progress bar on stderr for long work (demo generation,
// imports). On a terminal it redraws one line; elsewhere (CI logs, pipes) it
// prints a line per tenth so logs stay readable.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	label   string
	tty     bool
	start   time.Time
	lastPct int
	drawn   bool
}

func newProgress(w io.Writer, label string) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(f.Fd())
	}
	return &progress{w: w, label: label, tty: tty, start: time.Now(), lastPct: -1}
}

// Update is a DemoOptions/ImportOptions Progress callback.
func (p *progress) Update(done, total int) {
	if total <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pct := done * 100 / total
	elapsed := time.Since(p.start).Round(100 * time.Millisecond)
	if p.tty {
		if pct == p.lastPct && done != total {
			return
		}
		const width = 30
		fill := pct * width / 100
		bar := strings.Repeat("=", fill) + strings.Repeat(" ", width-fill)
		fmt.Fprintf(p.w, "\r%s [%s] %3d%%  %d/%d  %s ", p.label, bar, pct, done, total, elapsed)
		p.drawn = true
	} else if pct/10 != p.lastPct/10 || (done == total && p.lastPct != 100) {
		fmt.Fprintf(p.w, "%s: %d%% (%d/%d) %s\n", p.label, pct, done, total, elapsed)
	}
	p.lastPct = pct
}

// Done ends the bar's line.
func (p *progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

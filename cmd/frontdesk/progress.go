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
// imports, bulk invites). On a terminal it redraws one line; elsewhere (CI
// logs, pipes) it prints a line per tenth so logs stay readable.
//
// The last step (done == total) is held until Done says whether the work
// came to anything: the reader takes "100%" for "done", and an import that
// checked every row and then imported none was not.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	label   string
	tty     bool
	start   time.Time
	lastPct int
	drawn   bool
	final   [2]int // the held last step: done, total
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
	if done >= total {
		p.final = [2]int{done, total}
		return
	}
	p.draw(done, total)
}

func (p *progress) draw(done, total int) {
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

// Done ends the bar: at its last step when ok (the work came to
// something), otherwise where it stood, so the error after it reads as the
// end.
func (p *progress) Done(ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ok && p.final[1] > 0 {
		p.draw(p.final[0], p.final[1])
	}
	p.final = [2]int{}
	if p.tty && p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

package tui

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"
)

// pager scrolls pre-rendered lines (a profile, the help, a bulk summary).
// The lines are laid out once per content or width change; drawing a frame
// only joins the visible ones.
type pager struct {
	lines  []string
	off, h int
}

func (p *pager) SetLines(lines []string) {
	p.lines = lines
	p.clamp()
}

func (p *pager) SetHeight(h int) {
	p.h = max(h, 1)
	p.clamp()
}

func (p *pager) clamp() {
	p.off = min(max(p.off, 0), max(len(p.lines)-p.h, 0))
}

func (p *pager) scroll(n int) {
	p.off += n
	p.clamp()
}

// handle scrolls for the movement keys and reports whether msg was one.
func (p *pager) handle(msg tea.KeyMsg, k KeyMap) bool {
	switch k.movement(msg, false) {
	case moveUp:
		p.scroll(-1)
	case moveDown:
		p.scroll(1)
	case movePageUp:
		p.scroll(-p.h)
	case movePageDown:
		p.scroll(p.h)
	case moveFirst:
		p.off = 0
	case moveLast:
		p.off = len(p.lines)
		p.clamp()
	default:
		return false
	}
	return true
}

func (p *pager) canScroll() bool { return len(p.lines) > p.h }

// more says whether there is content below the view.
func (p *pager) more() bool { return p.off+p.h < len(p.lines) }

// View is exactly h lines, so what follows it stays put.
func (p *pager) View() string {
	end := min(p.off+p.h, len(p.lines))
	v := strings.Join(p.lines[p.off:end], "\n")
	if n := p.h - (end - p.off); n > 0 {
		v += strings.Repeat("\n", n)
	}
	return v
}

package main

import (
	"io"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// table writes the command line's tables: columns padded to the widest
// cell by the cells a terminal gives each character (ansi.StringWidth, as
// the TUI measures), so CJK and emoji names keep the columns after them in
// line; text/tabwriter counts runes. Every list command writes through one.
// Cells are printed as given: callers make customer text inert first.
//
// Rows are held until Flush, or until a block of tableBlock rows is full:
// a list streamed from the database (customers list, outbox list --limit
// 0) stays in bounded memory. A column widens for a later block if it must,
// and never narrows, so blocks stay in line with the widths seen so far.
type table struct {
	w      io.Writer
	rows   [][]string
	widths []int
	err    error
}

// tableBlock is how many rows a table holds before it writes them.
const tableBlock = 1000

// tableGap is the space between columns.
const tableGap = 2

// newTable is a table whose first row is header (none for a key/value
// table).
func newTable(w io.Writer, header ...string) *table {
	t := &table{w: w}
	if len(header) > 0 {
		t.Row(header...)
	}
	return t
}

// Row adds a row of cells.
func (t *table) Row(cells ...string) {
	for i, c := range cells {
		if i == len(t.widths) {
			t.widths = append(t.widths, 0)
		}
		t.widths[i] = max(t.widths[i], ansi.StringWidth(c))
	}
	t.rows = append(t.rows, cells)
	if len(t.rows) >= tableBlock {
		t.write()
	}
}

// Flush writes the rows held and returns the first write error.
func (t *table) Flush() error {
	t.write()
	return t.err
}

func (t *table) write() {
	var b strings.Builder
	for _, row := range t.rows {
		b.Reset()
		for i, c := range row {
			if i == len(row)-1 {
				b.WriteString(c) // the last cell is not padded
				break
			}
			b.WriteString(c)
			b.WriteString(strings.Repeat(" ", t.widths[i]-ansi.StringWidth(c)+tableGap))
		}
		if t.err == nil {
			_, t.err = io.WriteString(t.w, strings.TrimRight(b.String(), " ")+"\n")
		}
	}
	t.rows = t.rows[:0]
}

package tui

import (
	"context"
	"slices"

	tea "github.com/charmbracelet/bubbletea"

	"frontdesk/store"
)

// fetchKind says what a page of rows is for.
type fetchKind int

const (
	fetchFirst  fetchKind = iota // the first page of a query
	fetchLast                    // the last page (end, G)
	fetchReload                  // the window again, in place, after a change
	fetchNext                    // more rows after the window
	fetchPrev                    // more rows before it
)

// pageMsg is rows for the window's request of generation gen. The generation
// goes up with every new search, filter or jump, so a result for an older
// one (a slow query for "ja" arriving after "jan") is dropped.
type pageMsg struct {
	gen    int
	kind   fetchKind
	anchor int64 // next/prev: the edge row the page continues from
	keep   int64 // reload: the row the cursor was on
	limit  int
	rows   []store.RosterRow
	// kept is the reload's keep row when the change took it out of the
	// query's rows: it stays under the cursor, saying what it is now.
	kept *store.RosterRow
	err  error
}

// pageSource reads one page of rows. The window calls it inside a command,
// never in Update, with the context of the request's generation. seq is
// the change feed's position a reload answers (0: none; see shared).
type pageSource func(ctx context.Context, seq int64, rq store.RosterQuery) ([]store.RosterRow, error)

// window is a paged view of a query's rows, which may be far more than a
// session should hold: the rows around the cursor, two or three screens
// tall, paged in from the source as the cursor nears an edge and trimmed
// behind it. Its cost per move is the same for a hundred rows and a million.
// It knows nothing of drawing: the screen that embeds it sets visible and
// draws rows[top:top+visible].
type window struct {
	ctx    context.Context // the session's; every generation's derives from it
	source pageSource
	// byID reads rows by id whatever the query: the cursor's row after a
	// reload left it out.
	byID func(ctx context.Context, ids []int64) ([]store.RosterRow, error)
	// size is how many rows the query has, and whether that is exact: it
	// places the last page in the whole result. Nil: unknown.
	size func() (int, bool)

	q        store.RosterQuery // the query's filters; each request adds its page
	gen      int               // of the latest request
	firstGen int               // of the latest first page: the query started over
	// qctx bounds the requests of generation gen; qcancel ends them.
	qctx    context.Context
	qcancel context.CancelFunc

	rows           []store.RosterRow
	offset         int // index of rows[0] in the whole result
	offsetKnown    bool
	cursor, top    int // indexes into rows
	visible        int // rows on screen
	atStart, atEnd bool
	loaded         bool // some first page has arrived
	loading        bool // a first, last or reload page is on its way
	fetching       bool // a next or previous page is on its way
	pending        int  // moves past the window's edge, made when rows arrive
	err            string
	// stale is the row under the cursor that no longer matches the query
	// (a change elsewhere, or this session's own write, moved it out): it
	// stays, saying so, until the cursor leaves it or the query starts
	// over, so a row never vanishes from under someone about to act on it.
	stale int64
}

// page is how many rows one request brings in.
func (w *window) page() int { return max(w.visible, 10) }

func (w *window) current() *store.RosterRow {
	if w.cursor < 0 || w.cursor >= len(w.rows) {
		return nil
	}
	return &w.rows[w.cursor]
}

// apply makes a movement the keys asked for.
func (w *window) apply(mv movement) tea.Cmd {
	switch mv {
	case moveUp:
		return w.move(-1, false)
	case moveDown:
		return w.move(1, false)
	case movePageUp:
		return w.move(-w.visible, true)
	case movePageDown:
		return w.move(w.visible, true)
	case moveFirst:
		return w.home()
	case moveLast:
		return w.end()
	}
	return nil
}

// --- moving -----------------------------------------------------------

// move moves the cursor delta rows; paging keeps it on the same screen row.
// A move past the rows held is remembered and finished when they arrive.
func (w *window) move(delta int, paging bool) tea.Cmd {
	if len(w.rows) == 0 {
		return nil
	}
	screenRow := w.cursor - w.top
	target := w.cursor + delta
	switch {
	case target < 0:
		if !w.atStart {
			w.pending = target
		}
		target = 0
	case target >= len(w.rows):
		if !w.atEnd {
			w.pending = target - (len(w.rows) - 1)
		}
		target = len(w.rows) - 1
	default:
		w.pending = 0
	}
	w.cursor = target
	if paging {
		w.top = w.cursor - screenRow
	}
	w.dropStale()
	w.scrollIntoView()
	return w.ensure()
}

// dropStale takes the stale row out once the cursor is on another row.
func (w *window) dropStale() {
	if w.stale == 0 {
		return
	}
	i := slices.IndexFunc(w.rows, func(r store.RosterRow) bool { return r.ID == w.stale })
	if i < 0 {
		w.stale = 0
		return
	}
	if i == w.cursor {
		return
	}
	w.stale = 0
	w.rows = slices.Delete(slices.Clone(w.rows), i, i+1)
	if w.cursor > i {
		w.cursor--
	}
	if w.top > i {
		w.top--
	}
}

// isStale is whether rows[i] is the stale row.
func (w *window) isStale(i int) bool { return w.stale != 0 && w.rows[i].ID == w.stale }

func (w *window) scrollIntoView() {
	maxTop := max(0, len(w.rows)-w.visible)
	if w.cursor < w.top {
		w.top = w.cursor
	}
	if w.cursor >= w.top+w.visible {
		w.top = w.cursor - w.visible + 1
	}
	w.top = min(max(w.top, 0), maxTop)
}

func (w *window) home() tea.Cmd {
	w.pending = 0
	if w.atStart {
		w.cursor, w.top = 0, 0
		w.dropStale()
		return nil
	}
	return w.first(w.q)
}

func (w *window) end() tea.Cmd {
	w.pending = 0
	if w.atEnd {
		w.cursor = max(len(w.rows)-1, 0)
		w.dropStale()
		w.cursor = max(len(w.rows)-1, 0)
		w.scrollIntoView()
		return nil
	}
	w.newGen()
	w.loading, w.fetching = true, false
	return w.fetch(fetchLast, store.RosterQuery{Backward: true, Limit: 2 * w.page()}, 0, 0)
}

// --- loading ----------------------------------------------------------

// first starts query q over from its first page. The old rows stay on
// screen until the new ones arrive.
func (w *window) first(q store.RosterQuery) tea.Cmd {
	w.q = q
	w.newGen()
	w.firstGen = w.gen
	w.loading, w.fetching, w.pending = true, false, 0
	return w.fetch(fetchFirst, store.RosterQuery{Limit: 2 * w.page()}, 0, 0)
}

// newGen starts a new generation of requests and cancels the old one's: a
// search typed fast leaves no stale queries competing with the current one.
func (w *window) newGen() {
	w.gen++
	if w.qcancel != nil {
		w.qcancel()
	}
	w.qctx, w.qcancel = context.WithCancel(w.ctx)
}

// reload reads the rows the window holds again, in place, after a change
// (seq: the change feed's position, or 0 after this session's own write):
// the cursor stays on its row, and the old rows stay on screen until the
// new ones arrive. It returns the read for a command to run.
func (w *window) reload(seq int64) func() pageMsg {
	if len(w.rows) == 0 {
		w.newGen()
		w.firstGen = w.gen
		w.loading, w.fetching, w.pending = true, false, 0
		return w.fetchFn(fetchFirst, store.RosterQuery{Limit: 2 * w.page()}, 0, 0, seq)
	}
	rq, keep := w.reloadQuery()
	w.newGen()
	w.loading, w.fetching, w.pending = true, false, 0
	return w.fetchFn(fetchReload, rq, 0, keep, seq)
}

// reloadQuery is what reload reads when the window holds rows: as many
// again, from just before the first (ids are integers and the order is by
// (name, id) or by id, so the page starts with it) or, at the start, from
// the start (a new row may now come first); and the cursor's row, to keep.
func (w *window) reloadQuery() (rq store.RosterQuery, keep int64) {
	rq = store.RosterQuery{Search: w.q.Search, Status: w.q.Status, Limit: min(max(len(w.rows), 2*w.page()), 1000)}
	if !w.atStart {
		first := w.rows[0].Cursor()
		first.ID--
		rq.After = &first
	}
	if row := w.current(); row != nil {
		keep = row.ID
	}
	return rq, keep
}

func (w *window) fetch(kind fetchKind, rq store.RosterQuery, anchor, keep int64) tea.Cmd {
	read := w.fetchFn(kind, rq, anchor, keep, 0)
	return func() tea.Msg { return read() }
}

func (w *window) fetchFn(kind fetchKind, rq store.RosterQuery, anchor, keep, seq int64) func() pageMsg {
	rq.Search, rq.Status, rq.Archived = w.q.Search, w.q.Status, w.q.Archived
	if w.qctx == nil {
		w.newGen()
	}
	gen, ctx, rd := w.gen, w.qctx, w.reader()
	return func() pageMsg {
		return rd.read(ctx, pageMsg{gen: gen, kind: kind, anchor: anchor, keep: keep}, rq, seq)
	}
}

// pageReader is how a window reads, with nothing of its state: it may run
// in any goroutine.
type pageReader struct {
	source pageSource
	byID   func(ctx context.Context, ids []int64) ([]store.RosterRow, error)
}

func (w *window) reader() pageReader { return pageReader{w.source, w.byID} }

// read fills msg with the page rq selects, and the row to keep when the
// page left it out.
func (rd pageReader) read(ctx context.Context, msg pageMsg, rq store.RosterQuery, seq int64) pageMsg {
	msg.limit = rq.Limit
	msg.rows, msg.err = rd.source(ctx, seq, rq)
	keep := msg.keep
	if msg.err == nil && keep != 0 && rd.byID != nil && !slices.ContainsFunc(msg.rows, func(r store.RosterRow) bool { return r.ID == keep }) {
		// The cursor's row left the query; read what it is now. Gone
		// altogether (archived, deleted), it goes.
		if kept, err := rd.byID(ctx, []int64{keep}); err == nil && len(kept) == 1 {
			msg.kept = &kept[0]
		}
	}
	return msg
}

// ensure pages in rows when the cursor is within a page of the window's
// edge, one request at a time.
func (w *window) ensure() tea.Cmd {
	if !w.loaded || w.loading || w.fetching || len(w.rows) == 0 {
		return nil
	}
	p := w.page()
	if !w.atEnd && len(w.rows)-(w.top+w.visible) < p {
		last := w.rows[len(w.rows)-1]
		c := last.Cursor()
		w.fetching = true
		return w.fetch(fetchNext, store.RosterQuery{After: &c, Limit: p}, last.ID, 0)
	}
	if !w.atStart && w.top < p {
		first := w.rows[0]
		c := first.Cursor()
		w.fetching = true
		return w.fetch(fetchPrev, store.RosterQuery{Before: &c, Limit: p}, first.ID, 0)
	}
	return nil
}

// got takes in a page; ok says it was taken (it answers the current
// generation and read without error). The command finishes a pending move
// and pages in more if the cursor is still near an edge.
func (w *window) got(msg pageMsg) (cmd tea.Cmd, ok bool) {
	if msg.gen != w.gen {
		return nil, false
	}
	switch msg.kind {
	case fetchNext, fetchPrev:
		w.fetching = false
	default:
		w.loading = false
	}
	if msg.err != nil {
		w.err = say(msg.err)
		return nil, false
	}
	w.err = ""
	n := len(msg.rows)
	switch msg.kind {
	case fetchFirst:
		w.stale = 0
		w.rows, w.loaded = msg.rows, true
		w.atStart, w.atEnd = true, n < msg.limit
		w.offset, w.offsetKnown = 0, true
		w.cursor, w.top = 0, 0
	case fetchLast:
		w.stale = 0
		w.rows, w.loaded = msg.rows, true
		w.atStart, w.atEnd = n < msg.limit, true
		w.cursor = max(n-1, 0)
		w.top = max(n-w.visible, 0)
		var total int
		var exact bool
		if w.size != nil {
			total, exact = w.size()
		}
		w.offset, w.offsetKnown = max(total-n, 0), exact || w.atStart
		if w.atStart {
			w.offset = 0
		}
	case fetchReload:
		old := w.cursor - w.top
		w.rows = msg.rows
		w.atEnd = n < msg.limit
		w.stale = 0
		if k := msg.kept; k != nil {
			// In its place in the order, where the cursor finds it.
			i, _ := slices.BinarySearchFunc(w.rows, k, func(r store.RosterRow, k *store.RosterRow) int {
				if w.q.Less(&r, k) {
					return -1
				}
				return 1
			})
			w.rows = slices.Insert(slices.Clip(w.rows), i, *k)
			w.stale = k.ID
		}
		w.cursor = min(w.cursor, max(n-1, 0))
		for i := range w.rows {
			if w.rows[i].ID == msg.keep {
				w.cursor = i
				break
			}
		}
		w.top = w.cursor - old
	case fetchNext:
		if len(w.rows) == 0 || w.rows[len(w.rows)-1].ID != msg.anchor {
			return w.ensure(), false // the window moved meanwhile
		}
		// A new array: the rows may be shared with other sessions (shared).
		w.rows = append(slices.Clip(w.rows), msg.rows...)
		w.atEnd = n < msg.limit
		w.trim()
	case fetchPrev:
		if len(w.rows) == 0 || w.rows[0].ID != msg.anchor {
			return w.ensure(), false
		}
		rows := make([]store.RosterRow, 0, n+len(w.rows))
		w.rows = append(append(rows, msg.rows...), w.rows...)
		w.cursor += n
		w.top += n
		w.offset -= n
		w.atStart = n < msg.limit
		if w.atStart {
			w.offset, w.offsetKnown = 0, true
		}
		w.trim()
	}
	w.scrollIntoView()
	if p := w.pending; p != 0 {
		w.pending = 0
		if cmd := w.move(p, false); cmd != nil {
			return cmd, true
		}
	}
	return w.ensure(), true
}

// trim drops rows more than a page beyond the visible ones, so the window
// stays a few screens tall however far the cursor travels.
func (w *window) trim() {
	p := w.page()
	if len(w.rows) <= w.visible+3*p {
		return
	}
	if drop := w.top - p; drop > 0 {
		w.rows = append([]store.RosterRow(nil), w.rows[drop:]...)
		w.cursor -= drop
		w.top -= drop
		w.offset += drop
		w.atStart = false
	}
	if keep := w.top + w.visible + p; keep < len(w.rows) {
		w.rows = append([]store.RosterRow(nil), w.rows[:keep]...)
		w.atEnd = false
	}
}

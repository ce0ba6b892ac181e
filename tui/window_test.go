package tui

import (
	"context"
	"slices"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"frontdesk/store"
)

// testWindow is a window over the fixture's roster, five rows tall, so a
// hundred customers are many pages.
func testWindow(t *testing.T, f *fixture, q store.RosterQuery) (*window, []store.RosterRow) {
	t.Helper()
	ctx := context.Background()
	all, err := f.db.RosterPage(ctx, f.org.ID, store.RosterQuery{Search: q.Search, Status: q.Status, Limit: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	w := &window{
		ctx: ctx,
		source: func(ctx context.Context, _ int64, rq store.RosterQuery) ([]store.RosterRow, error) {
			return f.roster.RosterPage(ctx, f.org.ID, rq)
		},
		byID: func(ctx context.Context, ids []int64) ([]store.RosterRow, error) {
			return f.roster.RosterRowsByID(ctx, f.org.ID, ids)
		},
		size:    func() (int, bool) { return len(all), true },
		visible: 5,
	}
	settle(t, w, w.first(q))
	return w, all
}

// settle runs the window's requests and takes their pages in until it asks
// for nothing more, as the program loop would.
func settle(t *testing.T, w *window, cmd tea.Cmd) {
	t.Helper()
	for cmd != nil {
		msg, ok := cmd().(pageMsg)
		if !ok {
			t.Fatalf("window command returned %T, want a page", msg)
		}
		if msg.err != nil {
			t.Fatal(msg.err)
		}
		cmd, _ = w.got(msg)
	}
}

// at checks that the cursor is on row i of the whole result and that the
// window knows where it is.
func at(t *testing.T, w *window, all []store.RosterRow, i int) {
	t.Helper()
	row := w.current()
	if row == nil || row.ID != all[i].ID {
		t.Fatalf("cursor on %+v, want row %d (%s)", row, i, all[i].Name())
	}
	if !w.offsetKnown || w.offset+w.cursor != i {
		t.Fatalf("window places the cursor at %d (known %v), want %d", w.offset+w.cursor, w.offsetKnown, i)
	}
	if w.cursor < w.top || w.cursor >= w.top+w.visible {
		t.Fatalf("cursor %d off screen (top %d, %d visible)", w.cursor, w.top, w.visible)
	}
	if limit := w.visible + 4*w.page(); len(w.rows) > limit {
		t.Fatalf("window holds %d rows, want at most %d", len(w.rows), limit)
	}
}

// Row by row across every page edge, down from the first row and up from
// the last: every row comes in order, and the window stays a few pages.
func TestWindowWalksAcrossPages(t *testing.T) {
	f := newFixture(t, 100)
	w, all := testWindow(t, f, store.RosterQuery{})
	if len(all) < 8*w.page() {
		t.Fatalf("only %d customers: too few pages to cross", len(all))
	}
	for i := range all {
		at(t, w, all, i)
		settle(t, w, w.move(1, false))
	}
	if !w.atEnd {
		t.Fatal("at the last row, the window does not know it is at the end")
	}
	at(t, w, all, len(all)-1)

	// Home, end, then up to the first row.
	settle(t, w, w.home())
	at(t, w, all, 0)
	settle(t, w, w.end())
	for i := len(all) - 1; i >= 0; i-- {
		at(t, w, all, i)
		settle(t, w, w.move(-1, false))
	}
	if !w.atStart {
		t.Fatal("at the first row, the window does not know it is at the start")
	}
}

// A jump past the rows held is finished when they arrive, however many
// pages that takes.
func TestWindowFinishesMovesPastItsEdge(t *testing.T) {
	f := newFixture(t, 100)
	w, all := testWindow(t, f, store.RosterQuery{})
	jump := len(w.rows) + w.page() + 3
	cmd := w.move(jump, false)
	if cmd == nil || w.pending == 0 {
		t.Fatalf("a move %d rows down with %d held asks for nothing (pending %d)", jump, len(w.rows), w.pending)
	}
	settle(t, w, cmd)
	at(t, w, all, jump)
	if w.pending != 0 {
		t.Fatalf("pending %d after the rows arrived", w.pending)
	}
}

// After an invite takes a customer above the cursor out of a status filter,
// the reload keeps the cursor on its customer and on its screen row.
func TestWindowReloadKeepsTheCursorRow(t *testing.T) {
	f := newFixture(t, 100)
	w, all := testWindow(t, f, store.RosterQuery{Status: store.StatusNotInvited})
	if len(all) < 15 {
		t.Fatalf("only %d customers not invited", len(all))
	}
	for range 12 {
		settle(t, w, w.move(1, false))
	}
	at(t, w, all, 12)
	keep, screenRow := w.current().ID, w.cursor-w.top
	gone := w.rows[w.cursor-2].ID
	if _, err := f.svc.Issue(context.Background(), f.owner, gone, store.PurposeClaim); err != nil {
		t.Fatal(err)
	}

	settle(t, w, reloadCmd(w))
	if row := w.current(); row == nil || row.ID != keep {
		t.Fatalf("after the reload the cursor is on %+v, want customer %d", row, keep)
	}
	if w.cursor-w.top != screenRow {
		t.Fatalf("cursor moved from screen row %d to %d", screenRow, w.cursor-w.top)
	}
	for _, r := range w.rows {
		if r.ID == gone {
			t.Fatalf("the invited customer %d is still in the Not invited window", gone)
		}
	}
	if w.offset+w.cursor != 11 {
		t.Fatalf("cursor placed at %d of the result, want 11", w.offset+w.cursor)
	}
}

// reloadCmd is the window's reload as a command.
func reloadCmd(w *window) tea.Cmd {
	read := w.reload(0)
	return func() tea.Msg { return read() }
}

// A change that takes the cursor's own row out of the filter leaves it
// where it is, with its new status, until the cursor moves off it; then it
// goes and the cursor is on the row that followed it.
func TestWindowKeepsTheCursorRowThatLeftTheFilter(t *testing.T) {
	f := newFixture(t, 100)
	w, all := testWindow(t, f, store.RosterQuery{Status: store.StatusNotInvited})
	for range 5 {
		settle(t, w, w.move(1, false))
	}
	at(t, w, all, 5)
	gone, next, screenRow := all[5].ID, all[6].ID, w.cursor-w.top
	if _, err := f.svc.Issue(context.Background(), f.owner, gone, store.PurposeClaim); err != nil {
		t.Fatal(err)
	}
	settle(t, w, reloadCmd(w))
	row := w.current()
	if row == nil || row.ID != gone || w.stale != gone || !w.isStale(w.cursor) {
		t.Fatalf("after the reload the cursor is on %+v (stale %d), want the invited customer %d kept", row, w.stale, gone)
	}
	if row.Status != store.StatusInvited || w.cursor-w.top != screenRow {
		t.Fatalf("kept row says %s on screen row %d, want Invited on %d", row.Status, w.cursor-w.top, screenRow)
	}
	if w.rows[w.cursor+1].ID != next || w.rows[w.cursor-1].ID != all[4].ID {
		t.Fatalf("kept row is not in its place: neighbours %d and %d", w.rows[w.cursor-1].ID, w.rows[w.cursor+1].ID)
	}
	// Another reload while the cursor is still on it keeps it.
	settle(t, w, reloadCmd(w))
	if row := w.current(); row == nil || row.ID != gone || w.stale != gone {
		t.Fatalf("a second reload dropped the kept row: cursor on %+v", row)
	}
	settle(t, w, w.move(1, false))
	if row := w.current(); row == nil || row.ID != next {
		t.Fatalf("moving down from the kept row lands on %+v, want customer %d", row, next)
	}
	if w.stale != 0 || slices.ContainsFunc(w.rows, func(r store.RosterRow) bool { return r.ID == gone }) {
		t.Fatal("the kept row stayed after the cursor left it")
	}
	if w.offset+w.cursor != 5 {
		t.Fatalf("the next customer is placed at %d of the result, want 5", w.offset+w.cursor)
	}
}

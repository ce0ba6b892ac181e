package tui

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"frontdesk/claim"
	"frontdesk/store"
	"frontdesk/tui/inert"
)

// fetchKind says what a page of rows is for.
type fetchKind int

const (
	fetchFirst  fetchKind = iota // the first page of a query
	fetchLast                    // the last page (end, G)
	fetchReload                  // the window again, in place, after a write
	fetchNext                    // more rows after the window
	fetchPrev                    // more rows before it
)

// pageMsg is rows of the roster for the query of generation gen. The
// generation goes up with every new search, filter or jump, so a result for
// an older one (a slow query for "ja" arriving after "jan") is dropped.
type pageMsg struct {
	gen    int
	kind   fetchKind
	anchor int64 // next/prev: the edge row the page continues from
	keep   int64 // reload: the row the cursor was on
	limit  int
	rows   []store.RosterRow
	err    error
}

type countsMsg struct {
	counts map[store.Status]int
	err    error
}

type matchesMsg struct {
	gen int
	n   int
	err error
}

// checkMsg answers "may I invite this customer?" for the screen that asked.
type checkMsg struct {
	at       where
	customer *store.Customer
	expiry   time.Time
	err      error
}

// matchLimit is where counting search matches stops ("1,000+ matches").
const matchLimit = 1000

// The roster's fixed columns, in cells.
const (
	prefixW = 3 // cursor, mark, space
	gapW    = 2
	statusW = 15 // "Delivery failed"
	inviteW = 18 // "expires Mon 30 Nov"
)

type columns struct{ name, email, status, invite int }

// layoutColumns shares the width out: status and invite date keep their
// size, name and email split the rest, and narrow terminals drop the least
// needed columns first.
func layoutColumns(w int) columns {
	rest := w - prefixW
	var c columns
	switch {
	case rest >= 30+3*gapW+statusW+inviteW:
		c.status, c.invite = statusW, inviteW
		rest -= 2*gapW + statusW + inviteW
	case rest >= 24+2*gapW+statusW:
		c.status = statusW
		rest -= gapW + statusW
	}
	if rest < 24 {
		c.name = max(rest, 0)
		return c
	}
	rest -= gapW
	c.name = min(max(rest*2/5, 12), 40)
	c.email = min(rest-c.name, 56)
	return c
}

// rosterScreen is the customer list. It holds a window of rows around the
// cursor, two or three screens tall, and pages more from the database as the
// cursor nears an edge: its cost per key press and per frame is the same for
// a hundred customers and a million.
type rosterScreen struct {
	c    *Common
	deps Deps

	search textinput.Model
	typing bool
	query  string // the search the rows answer
	filter int    // 0: all; i: store.Statuses[i-1]
	gen    int
	// qctx bounds the queries of generation gen; qcancel ends them.
	qctx    context.Context
	qcancel context.CancelFunc

	rows           []store.RosterRow
	offset         int // index of rows[0] in the whole result
	offsetKnown    bool
	cursor, top    int // indexes into rows
	atStart, atEnd bool
	loaded         bool // some first page has arrived
	loading        bool // a first, last or reload page is on its way
	fetching       bool // a next or previous page is on its way
	pending        int  // moves past the window's edge, made when rows arrive
	checking       bool // an invite check is on its way
	err            string

	counts       map[store.Status]int
	matches      int
	matchesKnown bool

	marks marks

	note note

	w, h     int
	tabLines []string
	visible  int
	cols     columns
	status   map[store.Status]string // rendered status cells
	header   string
}

func newRoster(c *Common, deps Deps) *rosterScreen {
	r := &rosterScreen{c: c, deps: deps}
	r.search = c.Styles.TextInput()
	r.search.Prompt = "/ "
	r.search.Placeholder = "name, email or phone"
	r.search.CharLimit = 200
	r.status = map[store.Status]string{}
	for _, s := range store.Statuses {
		r.status[s] = c.Styles.Status[s].Render(cell(s.Label(), statusW, ""))
	}
	return r
}

// Init loads the first page and the counts.
func (r *rosterScreen) Init() tea.Cmd {
	return tea.Batch(r.reset(), r.loadCounts())
}

// busy: the rows keys would act on are on their way, or an invite check.
func (r *rosterScreen) busy() bool { return (r.loading || !r.loaded || r.checking) && !r.typing }

func (r *rosterScreen) Note() note     { return r.note }
func (r *rosterScreen) setNote(n note) { r.note = n }
func (r *rosterScreen) Typing() bool   { return r.typing }
func (r *rosterScreen) statusFilter() store.Status {
	if r.filter == 0 {
		return ""
	}
	return store.Statuses[r.filter-1]
}

func (r *rosterScreen) ShortHelp() []key.Binding {
	k := r.c.KeyMap
	if r.typing {
		return []key.Binding{k.KeepSearch, with(k.ClearInput, "clear search"), k.Arrows, k.NextFilter, k.ForceQuit}
	}
	inv, bulk := k.Invite, k.BulkInvite
	if !r.c.CanManage() {
		inv, bulk = with(inv, "invite (owner/admin)"), with(bulk, "bulk (owner/admin)")
	}
	return []key.Binding{k.Search, k.Open, inv, k.Mark, bulk, k.Help, k.NextFilter, k.Quit}
}

func (r *rosterScreen) FullHelp() [][]key.Binding {
	k := r.c.KeyMap
	return [][]key.Binding{
		{k.Search, with(k.KeepSearch, "keep the search, back to the list"), with(k.ClearInput, "clear the search"), k.NextFilter, k.PrevFilter},
		r.c.KeyMap.scrollKeys(),
		{k.Open, with(k.Mark, "mark / unmark for bulk invite"), with(k.BulkInvite, "invite all marked"), with(k.Invite, "invite or resend")},
	}
}

// SetSize lays the screen out again; it needs no I/O (ensure, on the next
// message, pages in rows if the window became taller than what is loaded).
func (r *rosterScreen) SetSize(w, h int) {
	r.w, r.h = w, h
	r.cols = layoutColumns(w)
	r.search.Width = max(w-4-len(r.search.Prompt)-24, 10)
	r.layoutTabs()
	r.header = r.c.Styles.TableHeader.Render(r.headerLine())
	r.scrollIntoView()
}

func (r *rosterScreen) layoutTabs() {
	s := r.c.Styles
	var items []string
	total := 0
	for _, n := range r.counts {
		total += n
	}
	label := func(i int, name string, n int) string {
		t := name
		if r.counts != nil {
			t += " " + num(n)
		}
		if i == r.filter {
			return s.TabActive.Render("[" + t + "]")
		}
		return s.Tab.Render(" " + t + " ")
	}
	items = append(items, label(0, "All", total))
	for i, st := range store.Statuses {
		items = append(items, label(i+1, st.Label(), r.counts[st]))
	}
	r.tabLines = r.tabLines[:0]
	line, lw := "", 0
	for _, it := range items {
		iw := ansiWidth(it)
		if lw > 0 && lw+1+iw > r.w {
			r.tabLines = append(r.tabLines, line)
			line, lw = "", 0
		}
		if lw > 0 {
			line += " "
			lw++
		}
		line += it
		lw += iw
	}
	r.tabLines = append(r.tabLines, clip(line, r.w))
	if len(r.tabLines) > 2 || r.h < 12 {
		// No room for every filter: show the one in force.
		r.tabLines = append(r.tabLines[:0], clip(items[r.filter]+s.Subtle.Render(" tab: next status"), r.w))
	}
	// title, tabs, search, table header
	r.visible = max(1, r.h-3-len(r.tabLines))
}

func (r *rosterScreen) headerLine() string {
	c := r.cols
	var b strings.Builder
	b.WriteString(spaces(prefixW))
	b.WriteString(pad("Name", c.name))
	if c.email > 0 {
		b.WriteString(spaces(gapW) + pad("Email", c.email))
	}
	if c.status > 0 {
		b.WriteString(spaces(gapW) + pad("Status", c.status))
	}
	if c.invite > 0 {
		b.WriteString(spaces(gapW) + pad("Invite", c.invite))
	}
	return clip(b.String(), r.w)
}

func (r *rosterScreen) page() int { return max(r.visible, 10) }

func (r *rosterScreen) current() *store.RosterRow {
	if r.cursor < 0 || r.cursor >= len(r.rows) {
		return nil
	}
	return &r.rows[r.cursor]
}

func (r *rosterScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		if r.typing {
			return r.updateSearch(msg)
		}
		return r.updateKey(msg)
	case pageMsg:
		return r.gotPage(msg)
	case countsMsg:
		if msg.err != nil {
			r.note = note{"Could not count customers: " + say(msg.err), toneError}
			return nil
		}
		r.counts = msg.counts
		r.layoutTabs()
		return r.ensure()
	case matchesMsg:
		if msg.gen == r.gen && msg.err == nil {
			r.matches, r.matchesKnown = msg.n, true
		}
	case checkMsg:
		if msg.at == onRoster {
			return r.checked(msg)
		}
	case changedMsg:
		return tea.Batch(r.reload(), r.loadCounts())
	case marksDoneMsg:
		r.marks.Remove(msg.ids...)
	}
	return nil
}

func (r *rosterScreen) updateKey(msg tea.KeyMsg) tea.Cmd {
	k := r.c.KeyMap
	switch {
	case key.Matches(msg, k.Search):
		r.typing = true
		r.note = note{}
		r.search.SetValue(r.query)
		r.search.CursorEnd()
		return r.search.Focus()
	case key.Matches(msg, k.Back):
		r.note = note{}
		if r.query != "" {
			r.search.SetValue("")
			return r.setQuery("")
		}
	case key.Matches(msg, k.NextFilter):
		return r.cycleFilter(+1)
	case key.Matches(msg, k.PrevFilter):
		return r.cycleFilter(-1)
	case key.Matches(msg, k.Up):
		return r.move(-1, false)
	case key.Matches(msg, k.Down):
		return r.move(1, false)
	case key.Matches(msg, k.PageUp):
		return r.move(-r.visible, true)
	case key.Matches(msg, k.PageDown):
		return r.move(r.visible, true)
	case key.Matches(msg, k.Home):
		return r.home()
	case key.Matches(msg, k.End):
		return r.end()
	case key.Matches(msg, k.Open):
		if row := r.current(); row != nil {
			r.note = note{}
			p := newProfile(r.c, r.deps, row.ID)
			r.c.nav.push(p)
			return p.load()
		}
	case key.Matches(msg, k.Mark):
		if row := r.current(); row != nil {
			r.marks.Toggle(row.ID)
			return r.move(1, false)
		}
	case key.Matches(msg, k.BulkInvite):
		if r.marks.Len() == 0 {
			r.note = note{"Nobody is marked: mark customers with space, then press I.", toneInfo}
			return nil
		}
		b := newBulk(r.c, r.deps, r.marks.IDs())
		r.c.nav.push(b)
		return b.Init()
	case key.Matches(msg, k.Invite):
		if row := r.current(); row != nil {
			r.note = note{"Checking " + inert.String(row.Name()) + r.c.Styles.Glyphs.Ellipsis, toneInfo}
			r.checking = true
			return checkInvite(r.c, r.deps, row.ID, onRoster)
		}
	}
	return nil
}

// Arrow keys still move the list while typing a search; j and k are letters
// then.
var (
	arrowUp   = key.NewBinding(key.WithKeys("up"))
	arrowDown = key.NewBinding(key.WithKeys("down"))
	pageUp    = key.NewBinding(key.WithKeys("pgup"))
	pageDown  = key.NewBinding(key.WithKeys("pgdown"))
)

func (r *rosterScreen) updateSearch(msg tea.KeyMsg) tea.Cmd {
	k := r.c.KeyMap
	switch {
	case key.Matches(msg, k.KeepSearch):
		r.typing = false
		r.search.Blur()
		return nil
	case key.Matches(msg, k.ClearInput):
		r.typing = false
		r.search.Blur()
		r.search.SetValue("")
		return r.setQuery("")
	case key.Matches(msg, k.NextFilter):
		return r.cycleFilter(+1)
	case key.Matches(msg, k.PrevFilter):
		return r.cycleFilter(-1)
	case key.Matches(msg, arrowUp):
		return r.move(-1, false)
	case key.Matches(msg, arrowDown):
		return r.move(1, false)
	case key.Matches(msg, pageUp):
		return r.move(-r.visible, true)
	case key.Matches(msg, pageDown):
		return r.move(r.visible, true)
	}
	var cmd tea.Cmd
	r.search, cmd = r.search.Update(msg)
	if v := r.search.Value(); v != r.query {
		return tea.Batch(cmd, r.setQuery(v))
	}
	return cmd
}

func (r *rosterScreen) setQuery(q string) tea.Cmd {
	r.query = q
	return r.reset()
}

// cycleFilter moves to the next (+1) or previous (-1) status filter, "All"
// included, wrapping around.
func (r *rosterScreen) cycleFilter(delta int) tea.Cmd {
	n := len(store.Statuses) + 1
	r.filter = ((r.filter+delta)%n + n) % n
	return r.refilter()
}

func (r *rosterScreen) refilter() tea.Cmd {
	r.layoutTabs()
	r.note = note{}
	return r.reset()
}

// total is how many rows the current query has, and whether that is exact.
func (r *rosterScreen) total() (int, bool) {
	if r.query != "" {
		return r.matches, r.matchesKnown && r.matches < matchLimit
	}
	if r.counts == nil {
		return 0, false
	}
	if st := r.statusFilter(); st != "" {
		return r.counts[st], true
	}
	n := 0
	for _, c := range r.counts {
		n += c
	}
	return n, true
}

// --- moving -----------------------------------------------------------

func (r *rosterScreen) move(delta int, paging bool) tea.Cmd {
	if len(r.rows) == 0 {
		return nil
	}
	screenRow := r.cursor - r.top
	target := r.cursor + delta
	switch {
	case target < 0:
		if !r.atStart {
			r.pending = target
		}
		target = 0
	case target >= len(r.rows):
		if !r.atEnd {
			r.pending = target - (len(r.rows) - 1)
		}
		target = len(r.rows) - 1
	default:
		r.pending = 0
	}
	r.cursor = target
	if paging {
		r.top = r.cursor - screenRow
	}
	r.scrollIntoView()
	return r.ensure()
}

func (r *rosterScreen) scrollIntoView() {
	maxTop := max(0, len(r.rows)-r.visible)
	if r.cursor < r.top {
		r.top = r.cursor
	}
	if r.cursor >= r.top+r.visible {
		r.top = r.cursor - r.visible + 1
	}
	r.top = min(max(r.top, 0), maxTop)
}

func (r *rosterScreen) home() tea.Cmd {
	r.pending = 0
	if r.atStart {
		r.cursor, r.top = 0, 0
		return nil
	}
	return r.reset()
}

func (r *rosterScreen) end() tea.Cmd {
	r.pending = 0
	if r.atEnd {
		r.cursor = max(len(r.rows)-1, 0)
		r.scrollIntoView()
		return nil
	}
	r.newGen()
	r.loading, r.fetching = true, false
	return r.fetch(fetchLast, store.RosterQuery{Backward: true, Limit: 2 * r.page()}, 0, 0)
}

// --- loading ----------------------------------------------------------

// reset starts a new query: the first page, and the match count when
// searching. The old rows stay on screen until the new ones arrive.
func (r *rosterScreen) reset() tea.Cmd {
	r.newGen()
	r.loading, r.fetching, r.pending = true, false, 0
	r.matchesKnown = false
	return r.fetch(fetchFirst, store.RosterQuery{Limit: 2 * r.page()}, 0, 0)
}

// newGen starts a new generation of queries and cancels the old one's: a
// search typed fast leaves no stale queries competing with the current one.
func (r *rosterScreen) newGen() {
	r.gen++
	if r.qcancel != nil {
		r.qcancel()
	}
	r.qctx, r.qcancel = context.WithCancel(r.c.Ctx)
}

// countMatches counts the search's matches once its first page is shown:
// the count is secondary, so it never delays the rows.
func (r *rosterScreen) countMatches() tea.Cmd {
	gen, ctx, org, roster := r.gen, r.qctx, r.c.Org.ID, r.deps.Roster
	rq := store.RosterQuery{Search: r.query, Status: r.statusFilter()}
	return func() tea.Msg {
		n, err := roster.RosterMatches(ctx, org, rq, matchLimit)
		return matchesMsg{gen: gen, n: n, err: err}
	}
}

// reload reads the window again from its first row, after a write changed
// some customers' status.
func (r *rosterScreen) reload() tea.Cmd {
	if len(r.rows) == 0 {
		return r.reset()
	}
	first := r.rows[0].Cursor()
	// Just before the first row, so the page starts with it (ids are
	// integers and the order is by (name, id) or by id).
	first.ID--
	keep := int64(0)
	if row := r.current(); row != nil {
		keep = row.ID
	}
	r.newGen()
	r.loading, r.fetching, r.pending = true, false, 0
	limit := min(max(len(r.rows), 2*r.page()), 1000)
	return r.fetch(fetchReload, store.RosterQuery{After: &first, Limit: limit}, 0, keep)
}

func (r *rosterScreen) loadCounts() tea.Cmd {
	ctx, org, roster := r.c.Ctx, r.c.Org.ID, r.deps.Roster
	return func() tea.Msg {
		c, err := roster.RosterCounts(ctx, org)
		return countsMsg{c, err}
	}
}

func (r *rosterScreen) fetch(kind fetchKind, rq store.RosterQuery, anchor, keep int64) tea.Cmd {
	rq.Search, rq.Status = r.query, r.statusFilter()
	if r.qctx == nil {
		r.newGen()
	}
	gen, ctx, org, roster := r.gen, r.qctx, r.c.Org.ID, r.deps.Roster
	return func() tea.Msg {
		rows, err := roster.RosterPage(ctx, org, rq)
		return pageMsg{gen: gen, kind: kind, anchor: anchor, keep: keep, limit: rq.Limit, rows: rows, err: err}
	}
}

// ensure pages in rows when the cursor is within a page of the window's
// edge, one request at a time.
func (r *rosterScreen) ensure() tea.Cmd {
	if !r.loaded || r.loading || r.fetching || len(r.rows) == 0 {
		return nil
	}
	p := r.page()
	if !r.atEnd && len(r.rows)-(r.top+r.visible) < p {
		last := r.rows[len(r.rows)-1]
		c := last.Cursor()
		r.fetching = true
		return r.fetch(fetchNext, store.RosterQuery{After: &c, Limit: p}, last.ID, 0)
	}
	if !r.atStart && r.top < p {
		first := r.rows[0]
		c := first.Cursor()
		r.fetching = true
		return r.fetch(fetchPrev, store.RosterQuery{Before: &c, Limit: p}, first.ID, 0)
	}
	return nil
}

func (r *rosterScreen) gotPage(msg pageMsg) tea.Cmd {
	if msg.gen != r.gen {
		return nil
	}
	switch msg.kind {
	case fetchNext, fetchPrev:
		r.fetching = false
	default:
		r.loading = false
	}
	if msg.err != nil {
		r.err = say(msg.err)
		return nil
	}
	r.err = ""
	n := len(msg.rows)
	switch msg.kind {
	case fetchFirst:
		r.rows, r.loaded = msg.rows, true
		r.atStart, r.atEnd = true, n < msg.limit
		r.offset, r.offsetKnown = 0, true
		r.cursor, r.top = 0, 0
	case fetchLast:
		r.rows, r.loaded = msg.rows, true
		r.atStart, r.atEnd = n < msg.limit, true
		r.cursor = max(n-1, 0)
		r.top = max(n-r.visible, 0)
		total, exact := r.total()
		r.offset, r.offsetKnown = max(total-n, 0), exact || r.atStart
		if r.atStart {
			r.offset = 0
		}
	case fetchReload:
		old := r.cursor - r.top
		r.rows = msg.rows
		r.atEnd = n < msg.limit
		r.cursor = min(r.cursor, max(n-1, 0))
		for i := range r.rows {
			if r.rows[i].ID == msg.keep {
				r.cursor = i
				break
			}
		}
		r.top = r.cursor - old
	case fetchNext:
		if len(r.rows) == 0 || r.rows[len(r.rows)-1].ID != msg.anchor {
			return r.ensure() // the window moved meanwhile
		}
		r.rows = append(r.rows, msg.rows...)
		r.atEnd = n < msg.limit
		r.trim()
	case fetchPrev:
		if len(r.rows) == 0 || r.rows[0].ID != msg.anchor {
			return r.ensure()
		}
		rows := make([]store.RosterRow, 0, n+len(r.rows))
		r.rows = append(append(rows, msg.rows...), r.rows...)
		r.cursor += n
		r.top += n
		r.offset -= n
		r.atStart = n < msg.limit
		if r.atStart {
			r.offset, r.offsetKnown = 0, true
		}
		r.trim()
	}
	r.scrollIntoView()
	var count tea.Cmd
	if msg.kind == fetchFirst && r.query != "" {
		count = r.countMatches()
	}
	if p := r.pending; p != 0 {
		r.pending = 0
		if cmd := r.move(p, false); cmd != nil {
			return tea.Batch(count, cmd)
		}
	}
	return tea.Batch(count, r.ensure())
}

// trim drops rows more than a page beyond the visible ones, so the window
// stays a few screens tall however far the cursor travels.
func (r *rosterScreen) trim() {
	p := r.page()
	if len(r.rows) <= r.visible+3*p {
		return
	}
	if drop := r.top - p; drop > 0 {
		r.rows = append([]store.RosterRow(nil), r.rows[drop:]...)
		r.cursor -= drop
		r.top -= drop
		r.offset += drop
		r.atStart = false
	}
	if keep := r.top + r.visible + p; keep < len(r.rows) {
		r.rows = append([]store.RosterRow(nil), r.rows[:keep]...)
		r.atEnd = false
	}
}

// --- invites ----------------------------------------------------------

// checkInvite asks the invite rules, with fresh data, whether the customer
// can be invited; the answer opens the confirmation or says why not.
func checkInvite(c *Common, deps Deps, id int64, at where) tea.Cmd {
	ctx, staff, org, inv := c.Ctx, c.Staff, c.Org, deps.Invites
	return func() tea.Msg {
		cust, err := inv.Check(ctx, staff, id)
		return checkMsg{at: at, customer: cust, expiry: inv.ExpiryFor(org), err: err}
	}
}

func (r *rosterScreen) checked(msg checkMsg) tea.Cmd {
	r.checking = false
	if n, ok := refusalNote(msg.err, onRoster, r.c.Styles.Glyphs); ok {
		r.note = n
		return nil
	}
	r.note = note{}
	r.c.nav.push(newConfirm(r.c, r.deps, msg.customer, msg.expiry, onRoster))
	return nil
}

// refusalNote words a failed check; ok is false when there was no error.
func refusalNote(err error, at where, g Glyphs) (note, bool) {
	if err == nil {
		return note{}, false
	}
	if r, ok := err.(*claim.Refusal); ok {
		return note{refusalText(r, at, g), toneWarning}, true
	}
	return note{"Cannot invite: " + say(err), toneError}, true
}

// --- drawing ----------------------------------------------------------

func (r *rosterScreen) View() string {
	s := r.c.Styles
	var b strings.Builder
	b.Grow((r.w + 16) * (r.h + 1))

	// Title: organization, who is at the keyboard, marks.
	who := inert.String(r.c.Staff.Name) + " (" + string(r.c.Staff.Role) + ")"
	left := s.Title.Render(inert.String(r.c.Org.Name)) + s.Subtle.Render(s.Glyphs.Sep+who)
	right := ""
	if n := r.marks.Len(); n > 0 {
		right = s.MarkGlyph.Render(num(n) + " marked" + s.Glyphs.Sep + "I invites them")
	}
	b.WriteString(spread(left, right, r.w))
	for _, l := range r.tabLines {
		b.WriteByte('\n')
		b.WriteString(l)
	}

	// Search line with the position in the result.
	b.WriteByte('\n')
	var sl string
	switch {
	case r.typing:
		sl = inputView(&r.search, s)
	case r.query != "":
		sl = s.Key.Render("/ ") + s.Input.Render(inert.String(r.query)) + s.Subtle.Render("  (esc clears)")
	default:
		sl = s.Subtle.Render("/ to search by name, email or phone")
	}
	b.WriteString(spread(sl, s.Subtle.Render(r.position()), r.w))

	b.WriteByte('\n')
	b.WriteString(r.header)

	lines := 0
	switch {
	case r.err != "" && len(r.rows) == 0:
		b.WriteString("\n" + clip(s.Error.Render(r.err), r.w))
		lines++
	case !r.loaded:
		b.WriteString("\n" + s.Subtle.Render("Loading"+s.Glyphs.Ellipsis))
		lines++
	case len(r.rows) == 0 && !r.loading:
		b.WriteString("\n" + clip(s.Subtle.Render(r.emptyText()), r.w))
		lines++
	}
	end := min(r.top+r.visible, len(r.rows))
	for i := r.top; i < end && lines < r.visible; i++ {
		b.WriteByte('\n')
		b.WriteString(r.rowLine(i))
		lines++
	}
	if r.h < 4+len(r.tabLines) {
		return fit(b.String(), r.w, r.h)
	}
	return b.String()
}

func (r *rosterScreen) emptyText() string {
	switch {
	case r.query != "" && r.filter != 0:
		return "No " + strings.ToLower(r.statusFilter().Label()) + " customers match \"" + inert.String(r.query) + "\"."
	case r.query != "":
		return "No customers match \"" + inert.String(r.query) + "\"."
	case r.filter != 0:
		return "No customers with status " + r.statusFilter().Label() + "."
	}
	return "No customers yet: import them with frontdesk customers import FILE.csv."
}

// position is "41-57 of 500": where the visible rows sit in the result.
func (r *rosterScreen) position() string {
	total, exact := r.total()
	t := num(total)
	if !exact && r.query != "" && r.matchesKnown {
		t = num(total) + "+"
	}
	if len(r.rows) == 0 {
		if r.query != "" && r.matchesKnown {
			return t + " matches"
		}
		return ""
	}
	if r.query != "" && !r.matchesKnown {
		t = "?"
	}
	if !r.offsetKnown {
		return "of " + t
	}
	first := r.offset + r.top + 1
	last := r.offset + min(r.top+r.visible, len(r.rows))
	return num(first) + "-" + num(last) + " of " + t
}

func (r *rosterScreen) rowLine(i int) string {
	s := r.c.Styles
	row := &r.rows[i]
	c := r.cols
	sel := i == r.cursor
	var b strings.Builder
	b.Grow(r.w + 32)
	if sel {
		b.WriteByte('>')
	} else {
		b.WriteByte(' ')
	}
	mark := r.marks.Has(row.ID)
	switch {
	case mark && sel:
		b.WriteByte('*')
	case mark:
		b.WriteString(s.MarkGlyph.Render("*"))
	default:
		b.WriteByte(' ')
	}
	b.WriteByte(' ')
	b.WriteString(cell(row.Name(), c.name, s.Glyphs.Ellipsis))
	if c.email > 0 {
		b.WriteString(spaces(gapW))
		b.WriteString(cell(row.Email, c.email, s.Glyphs.Ellipsis))
	}
	if c.status > 0 {
		b.WriteString(spaces(gapW))
		if sel {
			b.WriteString(cell(row.Status.Label(), c.status, ""))
		} else {
			b.WriteString(r.status[row.Status])
		}
	}
	if c.invite > 0 {
		b.WriteString(spaces(gapW))
		b.WriteString(cell(inviteCell(row, r.c.loc()), c.invite, s.Glyphs.Ellipsis))
	}
	if sel {
		used := prefixW + c.name
		if c.email > 0 {
			used += gapW + c.email
		}
		if c.status > 0 {
			used += gapW + c.status
		}
		if c.invite > 0 {
			used += gapW + c.invite
		}
		b.WriteString(spaces(r.w - used))
		return s.Selected.Render(b.String())
	}
	return b.String()
}

// inviteCell is the roster's "invite date or expiry".
func inviteCell(row *store.RosterRow, loc *time.Location) string {
	switch row.Status {
	case store.StatusInvited:
		return "expires " + dayShort(row.InviteExpiresAt, loc)
	case store.StatusExpired:
		return "expired " + dayShort(row.InviteExpiresAt, loc)
	case store.StatusFailed:
		return "sent " + dayShort(row.InviteSentAt, loc)
	case store.StatusClaimed:
		if !row.ClaimedAt.IsZero() {
			return "claimed " + row.ClaimedAt.In(loc).Format("Jan 2006")
		}
	}
	return ""
}

// spread puts left and right on one line of width w, cutting left first.
func spread(left, right string, w int) string {
	lw, rw := ansiWidth(left), ansiWidth(right)
	if rw >= w {
		return clip(left, w)
	}
	if lw+1+rw > w {
		left = clip(left, w-rw-1)
		lw = ansiWidth(left)
	}
	if right == "" {
		return left
	}
	return left + spaces(w-lw-rw) + right
}

// num writes n with thousands separators: 1,000,000.
func num(n int) string {
	s := strconv.Itoa(n)
	if n < 0 || len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

package tui

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"frontdesk/store"
	"frontdesk/store/format"
	"frontdesk/tui/inert"
)

type countsMsg struct {
	counts   map[store.Status]int
	archived int
	funnel   store.Funnel
	err      error
}

// allMsg is the ids of every customer a search and filter select, for
// "mark all" (see findAll).
type allMsg struct {
	gen    int
	query  string
	filter int
	ids    []int64
	err    error
}

type matchesMsg struct {
	gen int
	n   int
	err error
}

// refreshedMsg is what the roster shows, read again after a change: the
// rows, the counts and, with a search, its match count, in one message so
// a change redraws the screen once.
type refreshedMsg struct {
	plan    livePlan // read ahead of the change's message (see prefetch); zero otherwise
	page    pageMsg
	counts  countsMsg
	matches *matchesMsg
}

// matchLimit is where counting search matches stops ("1,000+ matches").
const matchLimit = 1000

// The roster's columns, in cells.
const (
	prefixW   = 3  // cursor, mark, space
	gapW      = 2  // between columns
	statusW   = 15 // "Delivery failed"
	inviteW   = 18 // "expires Mon 30 Nov"
	visitW    = 15 // "Mon 16 Nov 2026"
	nameMinW  = 12 // a first name and an initial: the name's share before the email
	nameMaxW  = 40
	emailMinW = 12
	// emailFirstW is as much of an email as comes before the status: at 80
	// columns (DESIGN §4's least) a 44-cell email and the status both fit
	// beside the shortest name. A longer email is cut there rather than
	// push the status off the screen; wider terminals show it whole.
	emailFirstW = 44
	emailMaxW   = 64
	phoneMaxW   = 20
)

// columns are the roster's column widths; 0 is a column not shown.
type columns struct{ name, email, status, invite, phone, visit int }

// width is the cells a row's columns take, the prefix included.
func (c columns) width() int {
	w := prefixW + c.name
	for _, n := range []int{c.email, c.status, c.invite, c.phone, c.visit} {
		if n > 0 {
			w += gapW + n
		}
	}
	return w
}

// fitWidths are the widest name, email and phone among the rows the roster
// holds (0: none known): columns are as wide as what they show.
type fitWidths struct{ name, email, phone int }

// textWidth is the cells customer text takes once made inert.
func textWidth(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return ansiWidth(inert.String(s))
		}
	}
	return len(s)
}

// measure widens f to fit rows.
func measure(rows []store.RosterRow, f fitWidths) fitWidths {
	for i := range rows {
		r := &rows[i]
		f.name = max(f.name, textWidth(r.FirstName)+1+textWidth(r.LastName))
		f.email = max(f.email, textWidth(r.Email))
		f.phone = max(f.phone, textWidth(r.Phone))
	}
	return f
}

// layoutColumns shares the width out by priority, so that what matters
// most is never cut for what matters less: the name at its least, then the
// email whole (up to emailFirstW), then the status, the invite date, the
// phone and the last visit, each only where it fits whole; then the name
// and the email grow to what they show. Narrow terminals lose the last of
// these first; wide ones show them all instead of empty space.
func layoutColumns(w int, f fitWidths) columns {
	want := func(fit, def, lo, hi int) int {
		if fit == 0 {
			fit = def
		}
		return min(max(fit, lo), hi)
	}
	nameW, emailW := want(f.name, 20, nameMinW, nameMaxW), want(f.email, 30, emailMinW, emailMaxW)
	var c columns
	rest := w - prefixW
	c.name = min(nameMinW, max(rest, 0))
	rest -= c.name
	if rest >= gapW+emailMinW {
		c.email = min(emailW, emailFirstW, rest-gapW)
		rest -= gapW + c.email
	}
	add := func(n int) int {
		if rest < gapW+n {
			return 0
		}
		rest -= gapW + n
		return n
	}
	if c.email == min(emailW, emailFirstW) {
		if c.status = add(statusW); c.status > 0 {
			c.invite = add(inviteW)
		}
		// No column for phones nobody on the list has.
		if c.invite > 0 && f.phone > 0 {
			c.phone = add(want(f.phone, 16, len("Phone"), phoneMaxW))
		}
		if c.invite > 0 && (c.phone > 0 || f.phone == 0) {
			c.visit = add(visitW)
		}
	}
	grow := func(n *int, to int) {
		g := max(min(rest, to-*n), 0)
		*n += g
		rest -= g
	}
	grow(&c.name, nameW)
	if c.email > 0 {
		grow(&c.email, emailW)
	}
	return c
}

// rosterScreen is the customer list: a window of rows paged in from the
// database (see window), the search and status filters over it, the marks
// for a bulk invite, and the drawing of it all. Its cost per key press and
// per frame is the same for a hundred customers and a million.
type rosterScreen struct {
	c    *Common
	deps Deps
	window

	search   textinput.Model
	typing   bool
	query    string // the search the rows answer
	filter   int    // 0: all; i: store.Statuses[i-1]; archivedFilter: the archived customers
	checking bool   // an invite check is on its way

	counts     map[store.Status]int
	archived   int           // archived customers, the last filter's count
	funnel     *store.Funnel // the header's invited, opened, claimed; nil until read
	matches    int
	matchesGen int // the first-page generation the match count answers

	marks  marks
	allGen int // of the latest "mark all"; older answers are dropped
	note   note

	reads reads
	// dirty: a change arrived while a read was under way, which may have
	// started before it; the roster reads again (at dirtySeq) once it is in.
	dirty    bool
	dirtySeq int64
	// staleNote is the note that explains the stale row, cleared with it.
	staleNote string

	w, h     int
	tabLines []string
	cols     columns
	fit      fitWidths               // of the rows held (see refit)
	status   map[store.Status]string // rendered status cells
	header   string
	drawn    string // the last View, "" when it must be drawn again
	lines    map[lineKey]string
	// The title and search lines as last drawn, with what they show.
	title struct {
		key  titleKey
		line string
	}
	searchLine struct {
		key  searchKey
		line string
	}
	ahead     *prefetch // the last prefetch made, and what it reads
	aheadPlan livePlan
	sel       struct {
		pre, post string // around the cursor's row (see selected)
		ok        bool
	}
}

func newRoster(c *Common, deps Deps) *rosterScreen {
	r := &rosterScreen{c: c, deps: deps, reads: deps.reads(c.Org.ID)}
	org, roster, rd := c.Org.ID, deps.Roster, r.reads
	r.window = window{
		ctx:    c.Ctx,
		source: rd.page,
		byID: func(ctx context.Context, ids []int64) ([]store.RosterRow, error) {
			return roster.RosterRowsByID(ctx, org, ids)
		},
		size: r.total,
	}
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
	return tea.Batch(r.requery(), r.loadCounts())
}

// busy: the rows keys would act on are on their way, or an invite check.
func (r *rosterScreen) busy() bool { return (r.loading || !r.loaded || r.checking) && !r.typing }

func (r *rosterScreen) Note() note     { return r.note }
func (r *rosterScreen) setNote(n note) { r.note, r.drawn = n, "" }
func (r *rosterScreen) Typing() bool   { return r.typing }
func (r *rosterScreen) statusFilter() store.Status {
	if r.filter == 0 || r.filter == archivedFilter {
		return ""
	}
	return store.Statuses[r.filter-1]
}

// archivedFilter is the last filter: the archived customers, whom no other
// filter shows.
var archivedFilter = len(store.Statuses) + 1

func (r *rosterScreen) ShortHelp() []key.Binding {
	k := r.c.KeyMap
	if r.typing {
		return []key.Binding{k.KeepSearch, with(k.ClearInput, "clear search"), k.Arrows, k.NextFilter, k.ForceQuit}
	}
	// "bulk" rather than "bulk invite", so that at 80 columns the outbox
	// and help still fit.
	inv, bulk := k.Invite, with(k.BulkInvite, "bulk")
	if !r.c.CanManage() {
		inv, bulk = with(inv, "invite (owner/admin)"), with(bulk, "bulk (owner/admin)")
	}
	return []key.Binding{k.Search, k.Open, inv, k.Outbox, k.Mark, bulk, k.Help, k.NextFilter, k.Quit}
}

func (r *rosterScreen) FullHelp() [][]key.Binding {
	k := r.c.KeyMap
	return [][]key.Binding{
		{k.Search, with(k.KeepSearch, "keep the search, back to the list"), with(k.ClearInput, "clear the search"), k.NextFilter, k.PrevFilter},
		r.c.KeyMap.scrollKeys(),
		{k.Open, with(k.Mark, "mark / unmark for bulk invite"), with(k.MarkAll, "mark all the search and filter select"), with(k.ClearMarks, "unmark all"),
			with(k.BulkInvite, "invite all marked"), with(k.Invite, "invite or resend"),
			with(k.Outbox, "the outbox: what was sent, what failed, and the fix"), with(k.Add, "add a customer"),
			with(k.Restore, "restore (on the Archived filter)")},
	}
}

// SetSize lays the screen out again; it needs no I/O (ensure, on the next
// message, pages in rows if the window became taller than what is loaded).
func (r *rosterScreen) SetSize(w, h int) {
	r.drawn = ""
	if w != r.w {
		r.lines = nil
	}
	r.w, r.h = w, h
	r.cols = layoutColumns(w, r.fit)
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
	items = append(items, label(archivedFilter, "Archived", r.archived))
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
	if c.phone > 0 {
		b.WriteString(spaces(gapW) + pad("Phone", c.phone))
	}
	if c.visit > 0 {
		b.WriteString(spaces(gapW) + pad("Last visit", c.visit))
	}
	return clip(b.String(), r.w)
}

// refit lays the columns out again for the rows held, when they need it:
// columns widen as wider rows come in, and narrow again only when a new
// list starts (reset: a search, a filter, a jump to an end), so they do not
// shift under the cursor while it moves through one list.
func (r *rosterScreen) refit(reset bool) {
	f := r.fit
	if reset {
		f = fitWidths{}
	}
	if f = measure(r.rows, f); f == r.fit {
		return
	}
	r.fit = f
	if c := layoutColumns(r.w, f); c != r.cols {
		r.cols, r.lines = c, nil
		r.header = r.c.Styles.TableHeader.Render(r.headerLine())
	}
}

func (r *rosterScreen) Update(msg tea.Msg) tea.Cmd {
	if _, live := msg.(liveMsg); !live || len(r.rows) == 0 {
		r.drawn = ""
	}
	switch msg := msg.(type) {
	case tea.KeyMsg:
		if mv := r.c.KeyMap.movement(msg, r.typing); mv != noMove {
			cmd := r.apply(mv)
			r.staleGone()
			return cmd
		}
		if r.typing {
			return r.updateSearch(msg)
		}
		return r.updateKey(msg)
	case pageMsg:
		cmd, ok := r.got(msg)
		if ok {
			r.refit(msg.kind == fetchFirst || msg.kind == fetchLast)
		}
		r.staleCame()
		// A reload follows a write, which may have moved customers in or
		// out of the search (an archive, a restore): count again.
		if ok && (msg.kind == fetchFirst || msg.kind == fetchReload) && r.query != "" {
			cmd = tea.Batch(r.countMatches(), cmd)
		}
		return tea.Batch(cmd, r.again())
	case refreshedMsg:
		cmd, ok := r.got(msg.page)
		if ok {
			r.refit(false)
		}
		r.staleCame()
		if ok && msg.matches != nil && msg.matches.err == nil {
			r.matches, r.matchesGen = msg.matches.n, r.firstGen
		}
		if msg.counts.err == nil && (r.counts == nil || !maps.Equal(r.counts, msg.counts.counts)) {
			r.counts = msg.counts.counts
			r.layoutTabs()
		}
		if msg.counts.err == nil && msg.counts.archived != r.archived {
			r.archived = msg.counts.archived
			r.layoutTabs()
		}
		if msg.counts.err == nil && (r.funnel == nil || *r.funnel != msg.counts.funnel) {
			r.funnel = &msg.counts.funnel
		}
		return tea.Batch(cmd, r.again())
	case liveMsg:
		if !slices.ContainsFunc(msg.changes, store.Change.ConcernsRoster) {
			return nil
		}
		// Read ahead for the roster as it still is: taken as it came.
		if m, ok := msg.ahead.(*refreshedMsg); ok {
			if p, ok := r.plan(); ok && p.same(m.plan) {
				return r.Update(*m)
			}
		}
		return r.refresh(msg.seq)
	case countsMsg:
		if msg.err != nil {
			r.note = note{"Could not count customers: " + say(msg.err), toneError}
			return nil
		}
		r.counts, r.archived, r.funnel = msg.counts, msg.archived, &msg.funnel
		r.layoutTabs()
		return r.ensure()
	case matchesMsg:
		if msg.gen == r.gen && msg.err == nil {
			// Counted for the rows on screen: the first page's, or a
			// reload's of the same query.
			r.matches, r.matchesGen = msg.n, r.firstGen
		}
	case checkMsg:
		return r.checked(msg)
	case allMsg:
		return r.foundAll(msg)
	case doneMsg: // a restore
		r.checking = false
		var cmd tea.Cmd
		r.note, cmd = done(r.c, msg)
		return cmd
	case changedMsg:
		return r.refresh(0)
	case marksDoneMsg:
		r.marks.Remove(msg.ids...)
	case orgMsg:
		r.lines = nil // dates in the organization's (new) time zone
	}
	return nil
}

// refresh reads what the roster shows again, in place (the rows the window
// holds, the counts, a search's match count), after a change: seq is the
// change feed's position, 0 after this session's own write. While another
// read is under way it waits for it (again).
func (r *rosterScreen) refresh(seq int64) tea.Cmd {
	if r.loading || r.fetching || !r.loaded {
		r.dirty, r.dirtySeq = true, max(r.dirtySeq, seq)
		return nil
	}
	page := r.reload(seq)
	rd, ctx, q, search := r.reads, r.qctx, r.q, r.query != ""
	return func() tea.Msg {
		msg := refreshedMsg{page: page()}
		msg.counts, msg.matches = rd.liveCounts(ctx, seq, q, search)
		return msg
	}
}

// liveCounts reads the counts and, with a search, its match count, after
// the change at seq.
func (rd reads) liveCounts(ctx context.Context, seq int64, q store.RosterQuery, search bool) (countsMsg, *matchesMsg) {
	c := rd.counts(ctx, seq)
	if !search {
		return c, nil
	}
	n, err := rd.matches(ctx, seq, store.RosterQuery{Search: q.Search, Status: q.Status, Archived: q.Archived}, matchLimit)
	return c, &matchesMsg{n: n, err: err}
}

// livePlan is the read a change would make the roster start now (see
// reloadQuery): which rows, the cursor's row to keep, the counts and a
// search's match count. Two plans are the same read when same says so.
type livePlan struct {
	gen      int
	rq       store.RosterQuery // without After: after, when hasAfter
	after    store.Cursor
	hasAfter bool
	keep     int64
	search   bool
}

func (p livePlan) same(q livePlan) bool {
	return p.gen == q.gen && p.keep == q.keep && p.search == q.search && p.hasAfter == q.hasAfter && p.after == q.after &&
		p.rq.Search == q.rq.Search && p.rq.Status == q.rq.Status && p.rq.Limit == q.rq.Limit
}

func (p livePlan) query() store.RosterQuery {
	rq := p.rq
	if p.hasAfter {
		after := p.after
		rq.After = &after
	}
	return rq
}

// plan is the roster's read for a change now; false while a read is under
// way (the change waits for it: see dirty) or there are no rows (the query
// starts over instead).
func (r *rosterScreen) plan() (livePlan, bool) {
	if r.loading || r.fetching || !r.loaded || len(r.rows) == 0 {
		return livePlan{}, false
	}
	rq, keep := r.reloadQuery()
	p := livePlan{gen: r.gen, rq: rq, keep: keep, search: r.query != ""}
	if rq.After != nil {
		p.after, p.hasAfter, p.rq.After = *rq.After, true, nil
	}
	return p, true
}

// prefetch is the roster's read for the next change, for the goroutine
// that waits for changes to run the moment one comes (see Model.listen):
// the change then reaches the screen in one message, the read's answer,
// instead of two. Hundreds of sessions redraw for each change, so the
// message saved is a good part of what a change costs them. It is made
// again only when the plan changes.
func (r *rosterScreen) prefetch() *prefetch {
	p, ok := r.plan()
	if !ok {
		return nil
	}
	if r.ahead != nil && r.aheadPlan.same(p) {
		return r.ahead
	}
	rd, pr, ctx, q := r.reads, r.reader(), r.c.Ctx, r.q
	r.aheadPlan = p
	r.ahead = &prefetch{run: func(changes []store.Change, seq int64) any {
		if !slices.ContainsFunc(changes, store.Change.ConcernsRoster) {
			return nil
		}
		m := refreshedMsg{plan: p, page: pr.read(ctx, pageMsg{gen: p.gen, kind: fetchReload, keep: p.keep}, p.query(), seq)}
		m.counts, m.matches = rd.liveCounts(ctx, seq, q, p.search)
		return &m
	}}
	return r.ahead
}

// again is the refresh a change asked for while a read was under way.
func (r *rosterScreen) again() tea.Cmd {
	if !r.dirty || r.loading || r.fetching || !r.loaded {
		return nil
	}
	seq := r.dirtySeq
	r.dirty, r.dirtySeq = false, 0
	return r.refresh(seq)
}

// staleCame says so in the footer when a reload left the cursor's row
// outside the list.
func (r *rosterScreen) staleCame() {
	row := r.current()
	if r.stale == 0 || row == nil || row.ID != r.stale {
		r.staleGone()
		return
	}
	where := "this list"
	switch {
	case r.query != "" && r.filter != 0:
		where = "the " + r.statusFilter().Label() + " customers matching the search"
	case r.query != "":
		where = "the search"
	case r.filter != 0:
		where = "the " + r.statusFilter().Label() + " filter"
	}
	text := inert.String(row.Name()) + " is now " + row.Status.Label() + " and no longer in " + where + r.c.Styles.Glyphs.Dash + "the row goes when the cursor leaves it."
	// A note already there (the outcome of this session's own invite)
	// says more; the row's marker says the rest.
	if r.note.text == "" || r.note.text == r.staleNote {
		r.note = note{text, toneInfo}
	}
	r.staleNote = text
}

// staleGone clears the stale row's note once the row has gone.
func (r *rosterScreen) staleGone() {
	if r.stale != 0 || r.staleNote == "" {
		return
	}
	if r.note.text == r.staleNote {
		r.note = note{}
	}
	r.staleNote = ""
}

// matchesKnown is whether the match count answers the search on screen.
func (r *rosterScreen) matchesKnown() bool { return r.firstGen > 0 && r.matchesGen == r.firstGen }

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
	case key.Matches(msg, k.Open):
		if row := r.current(); row != nil {
			r.note = note{}
			p := newProfile(r.c, r.deps, row.ID)
			return r.c.nav.push(p, p.load())
		}
	case key.Matches(msg, k.Mark):
		if row := r.current(); row != nil {
			r.marks.Toggle(row.ID)
			return r.move(1, false)
		}
	case key.Matches(msg, k.MarkAll):
		return r.findAll()
	case key.Matches(msg, k.ClearMarks):
		if n := r.marks.Len(); n > 0 {
			r.marks.Clear()
			r.note = note{"Unmarked " + plural(n, "customer") + ".", toneInfo}
		} else {
			r.note = note{"Nobody is marked.", toneInfo}
		}
	case key.Matches(msg, k.Outbox):
		r.note = note{}
		ob := newOutbox(r.c, r.deps)
		return r.c.nav.push(ob, ob.Init())
	case key.Matches(msg, k.BulkInvite):
		if r.marks.Len() == 0 {
			r.note = note{"Nobody is marked: mark customers with space (" + k.MarkAll.Help().Key + " marks all the list shows), then press I.", toneInfo}
			return nil
		}
		b := newBulk(r.c, r.deps, r.marks.IDs())
		return r.c.nav.push(b, b.Init())
	case key.Matches(msg, k.Invite):
		if row := r.current(); row != nil {
			r.note = note{"Checking " + inert.String(row.Name()) + r.c.Styles.Glyphs.Ellipsis, toneInfo}
			r.checking = true
			return checkInvite(r.c, r.deps, row.ID)
		}
	case key.Matches(msg, k.Add):
		var cmd tea.Cmd
		r.note, cmd = addCustomer(r.c, r.deps)
		return cmd
	case key.Matches(msg, k.Restore):
		return r.restore()
	}
	return nil
}

// restore brings the selected customer of the Archived filter back.
func (r *rosterScreen) restore() tea.Cmd {
	row := r.current()
	switch {
	case r.filter != archivedFilter:
		r.note = note{"R restores archived customers: tab to the Archived filter, the last, to find them.", toneInfo}
		return nil
	case !r.c.CanManage():
		r.note = note{forbiddenText("restore customers", r.c.Styles.Glyphs), toneWarning}
		return nil
	case row == nil:
		return nil
	}
	r.note = note{"Restoring " + inert.String(row.Name()) + r.c.Styles.Glyphs.Ellipsis, toneInfo}
	r.checking = true
	return restore(r.c, r.deps, row.ID, onRoster)
}

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
	return r.requery()
}

// requery starts the roster's query (search and status filter) over; its
// match count is asked when the first page is in.
func (r *rosterScreen) requery() tea.Cmd {
	return r.first(store.RosterQuery{Search: r.query, Status: r.statusFilter(), Archived: r.filter == archivedFilter})
}

// cycleFilter moves to the next (+1) or previous (-1) status filter, "All"
// and "Archived" included, wrapping around.
func (r *rosterScreen) cycleFilter(delta int) tea.Cmd {
	n := archivedFilter + 1
	r.filter = ((r.filter+delta)%n + n) % n
	return r.refilter()
}

func (r *rosterScreen) refilter() tea.Cmd {
	r.layoutTabs()
	r.note = note{}
	return r.requery()
}

// total is how many rows the current query has, and whether that is exact.
func (r *rosterScreen) total() (int, bool) {
	if r.query != "" {
		return r.matches, r.matchesKnown() && r.matches < matchLimit
	}
	if r.counts == nil {
		return 0, false
	}
	if r.filter == archivedFilter {
		return r.archived, true
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

// --- loading ----------------------------------------------------------

// countMatches counts the search's matches once its first page is shown:
// the count is secondary, so it never delays the rows.
func (r *rosterScreen) countMatches() tea.Cmd {
	gen, ctx, rd, rq := r.gen, r.qctx, r.reads, r.q
	return func() tea.Msg {
		n, err := rd.matches(ctx, 0, rq, matchLimit)
		return matchesMsg{gen: gen, n: n, err: err}
	}
}

func (r *rosterScreen) loadCounts() tea.Cmd {
	ctx, rd := r.c.Ctx, r.reads
	return func() tea.Msg {
		return rd.counts(ctx, 0)
	}
}

// --- marking all ------------------------------------------------------

// findAll reads the ids of every customer the search and filter select:
// not the rows (the list may be a million long), and not the window's rows
// (a few screens of them). The answer asks before it marks them.
func (r *rosterScreen) findAll() tea.Cmd {
	if r.filter == archivedFilter {
		// Marks are for invites, which archived customers do not get.
		r.note = note{"Archived customers get no invites, so there is nothing to mark here: R restores one first.", toneInfo}
		return nil
	}
	r.allGen++
	r.note = note{"Finding the customers to mark" + r.c.Styles.Glyphs.Ellipsis, toneInfo}
	gen, ctx, org, roster, q, filter, st := r.allGen, r.c.Ctx, r.c.Org.ID, r.deps.Roster, r.query, r.filter, r.statusFilter()
	return func() tea.Msg {
		var sts []store.Status
		if st != "" {
			sts = append(sts, st)
		}
		ids, err := roster.CustomerIDs(ctx, org, q, sts...)
		return allMsg{gen: gen, query: q, filter: filter, ids: ids, err: err}
	}
}

// foundAll asks whether to mark the customers findAll found, saying how
// many and what selected them. An answer for a search or filter no longer
// on screen is dropped: staff confirm what they see.
func (r *rosterScreen) foundAll(msg allMsg) tea.Cmd {
	if msg.gen != r.allGen || msg.query != r.query || msg.filter != r.filter {
		return nil
	}
	what := r.selection()
	switch {
	case msg.err != nil:
		r.note = note{"Could not find the customers to mark: " + say(msg.err), toneError}
		return nil
	case len(msg.ids) == 0:
		r.note = note{"Nobody to mark: no " + what + ".", toneInfo}
		return nil
	}
	already := 0
	for _, id := range msg.ids {
		if r.marks.Has(id) {
			already++
		}
	}
	n := len(msg.ids)
	if already == n {
		r.note = note{"Nothing to mark: the " + what + " are all marked already.", toneInfo}
		return nil
	}
	r.note = note{}
	question := "Mark all " + num(n) + " " + what + "?"
	if n == 1 {
		question = "Mark the 1 " + what + "?"
	}
	var details []string
	if already > 0 {
		details = append(details, num(already)+" of them "+isAre(already)+" marked already.")
	}
	k := r.c.KeyMap
	details = append(details, "Marks stay when the search or filter changes: "+k.BulkInvite.Help().Key+" invites everyone marked, "+k.ClearMarks.Help().Key+" clears the marks.")
	ids := msg.ids
	a := newAsk(r.c, question, "mark them", "Nothing marked.", nil, nil)
	a.details = details
	a.now = func() tea.Cmd {
		added := r.marks.Add(ids)
		r.drawn = ""
		return r.c.nav.pop(&note{"Marked " + plural(added, "customer") + r.c.Styles.Glyphs.Sep + num(r.marks.Len()) + " marked in all.", toneSuccess}, false)
	}
	return r.c.nav.push(a)
}

// selection names what the search and filter select, for a sentence:
// "customers matching 'gmail' in Not invited".
func (r *rosterScreen) selection() string {
	what := "customers"
	if r.query != "" {
		what += " matching '" + inert.String(r.query) + "'"
	}
	if r.filter != 0 {
		what += " in " + r.statusFilter().Label()
	}
	return what
}

// --- invites ----------------------------------------------------------

func (r *rosterScreen) checked(msg checkMsg) tea.Cmd {
	r.checking = false
	var cmd tea.Cmd
	r.note, cmd = answer(r.c, r.deps, msg, onRoster)
	return cmd
}

// --- drawing ----------------------------------------------------------

// View draws the screen, or returns the last drawing when nothing it
// draws can have changed since: a change elsewhere wakes every session at
// once, and the liveMsg that starts a session's read changes nothing on
// screen (the old rows stay until the new ones come). Everything that
// changes what View draws goes through Update, SetSize or setNote, which
// clear drawn.
func (r *rosterScreen) View() string {
	if r.drawn == "" {
		r.drawn = r.draw()
	}
	return r.drawn
}

func (r *rosterScreen) draw() string {
	s := r.c.Styles
	var b strings.Builder
	b.Grow((r.w + 16) * (r.h + 1))

	// Title: organization, who is at the keyboard, marks.
	tk := titleKey{org: r.c.Org, marks: r.marks.Len(), w: r.w, funnel: r.funnel}
	if tk != r.title.key {
		who := inert.String(r.c.Staff.Name) + " (" + string(r.c.Staff.Role) + ")"
		left := s.Title.Render(inert.String(r.c.Org.Name)) + s.Subtle.Render(s.Glyphs.Sep+who)
		right := ""
		if n := tk.marks; n > 0 {
			right = s.MarkGlyph.Render(num(n) + " marked" + s.Glyphs.Sep + "I invites them" + s.Glyphs.Sep + r.c.KeyMap.ClearMarks.Help().Key + " clears")
		} else if f := r.funnelText(); f != "" && ansiWidth(left)+2+ansiWidth(f) <= r.w {
			// Only where it fits whole: the organization's name comes first.
			right = s.Subtle.Render(f)
		}
		r.title.key, r.title.line = tk, spread(left, right, r.w)
	}
	b.WriteString(r.title.line)
	for _, l := range r.tabLines {
		b.WriteByte('\n')
		b.WriteString(l)
	}

	// Search line with the position in the result.
	b.WriteByte('\n')
	sk := searchKey{query: r.query, position: r.position(), w: r.w, drawn: true}
	if r.typing || sk != r.searchLine.key {
		var sl string
		switch {
		case r.typing:
			sl = inputView(&r.search, s)
		case r.query != "":
			sl = s.Key.Render("/ ") + s.Input.Render(inert.String(r.query)) + s.Subtle.Render("  (esc clears)")
		default:
			sl = s.Subtle.Render("/ to search by name, email or phone")
		}
		r.searchLine.key, r.searchLine.line = sk, spread(sl, s.Subtle.Render(sk.position), r.w)
		if r.typing {
			r.searchLine.key = searchKey{} // the input draws itself each time
		}
	}
	b.WriteString(r.searchLine.line)

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
		b.WriteString(r.cachedRowLine(i))
		lines++
	}
	if r.h < 4+len(r.tabLines) {
		return fit(b.String(), r.w, r.h)
	}
	return b.String()
}

// funnelText is the claim funnel (store.Funnel): "31 invited > 20 opened >
// 13 claimed", each count including the next.
func (r *rosterScreen) funnelText() string {
	if r.funnel == nil || r.funnel.Invited == 0 {
		return ""
	}
	f, arrow := r.funnel, " > "
	if !r.c.Styles.ASCII {
		arrow = " → "
	}
	return num(f.Invited) + " invited" + arrow + num(f.Opened) + " opened" + arrow + num(f.Claimed) + " claimed"
}

func (r *rosterScreen) emptyText() string {
	switch {
	case r.filter == archivedFilter && r.query != "":
		return "No archived customers match \"" + inert.String(r.query) + "\"."
	case r.filter == archivedFilter:
		return "No archived customers: A on a profile archives one."
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
	if !exact && r.query != "" && r.matchesKnown() {
		t = num(total) + "+"
	}
	// The stale row (the cursor's, no longer matching) is on screen but
	// not in the count: the position counts the rows that are listed.
	stale := slices.IndexFunc(r.rows, func(x store.RosterRow) bool { return r.stale != 0 && x.ID == r.stale })
	listed := len(r.rows)
	if stale >= 0 {
		listed--
	}
	if listed == 0 {
		if r.query != "" && r.matchesKnown() {
			return t + " matches"
		}
		return ""
	}
	if r.query != "" && !r.matchesKnown() {
		t = "?"
	}
	if !r.offsetKnown {
		return "of " + t
	}
	first := r.offset + r.top + 1
	last := r.offset + min(r.top+r.visible, len(r.rows))
	switch {
	case stale < 0:
	case stale < r.top:
		first, last = first-1, last-1
	case stale < r.top+r.visible:
		last--
	}
	if last < first {
		return "of " + t
	}
	return num(first) + "-" + num(last) + " of " + t
}

type titleKey struct {
	org    *store.Org    // replaced, never changed, when the settings change
	funnel *store.Funnel // replaced with each count
	marks  int
	w      int
}

type searchKey struct {
	query, position string
	w               int
	drawn           bool // false: nothing drawn yet
}

// lineKey is everything a row's line depends on besides the screen's
// layout (width, columns, styles, the organization's time zone), which
// empties the cache when it changes.
type lineKey struct {
	row                store.RosterRow
	sel, marked, stale bool
}

// cachedRowLine is rowLine, kept from the frames before: a change redraws
// the one row it changed, not the screen's worth.
func (r *rosterScreen) cachedRowLine(i int) string {
	k := lineKey{row: r.rows[i], sel: i == r.cursor, marked: r.marks.Has(r.rows[i].ID), stale: r.isStale(i)}
	if l, ok := r.lines[k]; ok {
		return l
	}
	if r.lines == nil || len(r.lines) > 4*max(r.visible, 10) {
		r.lines = make(map[lineKey]string, 2*r.visible)
	}
	l := r.rowLine(i)
	r.lines[k] = l
	return l
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
	stale := r.isStale(i)
	if stale {
		// No longer in the list: the footer says why.
		b.WriteByte('~')
	} else {
		b.WriteByte(' ')
	}
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
		if stale {
			b.WriteString(cell("no longer listed", c.invite, s.Glyphs.Ellipsis))
		} else {
			b.WriteString(cell(inviteCell(row, r.c.loc()), c.invite, s.Glyphs.Ellipsis))
		}
	}
	if c.phone > 0 {
		b.WriteString(spaces(gapW))
		b.WriteString(cell(row.Phone, c.phone, s.Glyphs.Ellipsis))
	}
	if c.visit > 0 {
		b.WriteString(spaces(gapW))
		visit := ""
		if !row.LastVisit.IsZero() {
			visit = format.Date(row.LastVisit, r.c.loc())
		}
		b.WriteString(cell(visit, c.visit, ""))
	}
	if sel {
		b.WriteString(spaces(r.w - c.width()))
		return r.selected(b.String())
	}
	return b.String()
}

// selected is line in the cursor row's style: what Selected.Render gives for
// one plain line, the style's opening and closing sequences around it, taken
// from rendering a placeholder once. Render itself measures and walks the
// line each time, and the cursor's row is the one drawn again most.
func (r *rosterScreen) selected(line string) string {
	if !r.sel.ok {
		out := r.c.Styles.Selected.Render("X")
		i := strings.Index(out, "X")
		r.sel.pre, r.sel.post, r.sel.ok = out[:i], out[i+1:], true
	}
	return r.sel.pre + line + r.sel.post
}

// inviteCell is the roster's "invite date or expiry".
func inviteCell(row *store.RosterRow, loc *time.Location) string {
	switch row.Status {
	case store.StatusInvited:
		return "expires " + format.Day(row.InviteExpiresAt, loc)
	case store.StatusExpired:
		return "expired " + format.Day(row.InviteExpiresAt, loc)
	case store.StatusFailed:
		return "sent " + format.Day(row.InviteSentAt, loc)
	case store.StatusClaimed:
		if !row.ClaimedAt.IsZero() {
			return "claimed " + format.Month(row.ClaimedAt, loc)
		}
	}
	return ""
}

package tui

import (
	"context"
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

type matchesMsg struct {
	gen int
	n   int
	err error
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

	marks marks
	note  note

	w, h     int
	tabLines []string
	cols     columns
	status   map[store.Status]string // rendered status cells
	header   string
}

func newRoster(c *Common, deps Deps) *rosterScreen {
	r := &rosterScreen{c: c, deps: deps}
	org, roster := c.Org.ID, deps.Roster
	r.window = window{
		ctx: c.Ctx,
		source: func(ctx context.Context, rq store.RosterQuery) ([]store.RosterRow, error) {
			return roster.RosterPage(ctx, org, rq)
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
func (r *rosterScreen) setNote(n note) { r.note = n }
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
		{k.Open, with(k.Mark, "mark / unmark for bulk invite"), with(k.BulkInvite, "invite all marked"), with(k.Invite, "invite or resend"),
			with(k.Outbox, "the outbox: what was sent, what failed, and the fix"), with(k.Add, "add a customer"),
			with(k.Restore, "restore (on the Archived filter)")},
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
	return clip(b.String(), r.w)
}

func (r *rosterScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		if mv := r.c.KeyMap.movement(msg, r.typing); mv != noMove {
			return r.apply(mv)
		}
		if r.typing {
			return r.updateSearch(msg)
		}
		return r.updateKey(msg)
	case pageMsg:
		cmd, ok := r.got(msg)
		// A reload follows a write, which may have moved customers in or
		// out of the search (an archive, a restore): count again.
		if ok && (msg.kind == fetchFirst || msg.kind == fetchReload) && r.query != "" {
			return tea.Batch(r.countMatches(), cmd)
		}
		return cmd
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
	case doneMsg: // a restore
		r.checking = false
		var cmd tea.Cmd
		r.note, cmd = done(r.c, msg)
		return cmd
	case changedMsg:
		return tea.Batch(r.reload(), r.loadCounts())
	case marksDoneMsg:
		r.marks.Remove(msg.ids...)
	}
	return nil
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
	case key.Matches(msg, k.Outbox):
		r.note = note{}
		ob := newOutbox(r.c, r.deps)
		return r.c.nav.push(ob, ob.Init())
	case key.Matches(msg, k.BulkInvite):
		if r.marks.Len() == 0 {
			r.note = note{"Nobody is marked: mark customers with space, then press I.", toneInfo}
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
	gen, ctx, org, roster, rq := r.gen, r.qctx, r.c.Org.ID, r.deps.Roster, r.q
	return func() tea.Msg {
		n, err := roster.RosterMatches(ctx, org, rq, matchLimit)
		return matchesMsg{gen: gen, n: n, err: err}
	}
}

func (r *rosterScreen) loadCounts() tea.Cmd {
	ctx, org, roster := r.c.Ctx, r.c.Org.ID, r.deps.Roster
	return func() tea.Msg {
		c, err := roster.RosterCounts(ctx, org)
		if err != nil {
			return countsMsg{err: err}
		}
		a, err := roster.ArchivedCount(ctx, org)
		if err != nil {
			return countsMsg{err: err}
		}
		f, err := roster.ClaimFunnel(ctx, org)
		return countsMsg{counts: c, archived: a, funnel: f, err: err}
	}
}

// --- invites ----------------------------------------------------------

func (r *rosterScreen) checked(msg checkMsg) tea.Cmd {
	r.checking = false
	var cmd tea.Cmd
	r.note, cmd = answer(r.c, r.deps, msg, onRoster)
	return cmd
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
	} else if f := r.funnelText(); f != "" && ansiWidth(left)+2+ansiWidth(f) <= r.w {
		// Only where it fits whole: the organization's name comes first.
		right = s.Subtle.Render(f)
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
	if len(r.rows) == 0 {
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

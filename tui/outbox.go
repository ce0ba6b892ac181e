package tui

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"frontdesk/claim"
	"frontdesk/mailer"
	"frontdesk/store"
	"frontdesk/store/format"
	"frontdesk/tui/inert"
)

// outboxMsg is a page of the outbox for request gen.
type outboxMsg struct {
	gen    int
	kind   fetchKind
	keep   int64 // fetchReload: the message the cursor was on
	cursor int   // where the cursor goes: an index into the page, -1 the last row
	limit  int
	rows   []store.OutboxRow
	err    error
}

// outboxProfileMsg is the profile the email editor starts from (e).
type outboxProfileMsg struct {
	p   *store.Profile
	err error
}

// outboxScreen is the organization's outbox, newest first: one page of
// messages at a time from the database (keyset on id, store.DB.OutboxPage),
// and the selected message in full below them, with the fix for one that
// failed or bounced: e edits the customer's email, i sends a fresh link
// (claim.Service.Send, as everywhere; the failed link no longer works).
// Its cost per key and per frame is the same for ten messages and a
// million.
type outboxScreen struct {
	c    *Common
	deps Deps

	attention bool // tab: only what failed, bounced or is being retried

	rows           []store.OutboxRow // the page on screen, newest first
	cursor         int
	offset         int // how many messages come before rows[0], when known
	offsetKnown    bool
	atStart, atEnd bool // rows[0] is the newest; the last row is the oldest
	loaded         bool
	loading        bool // a page is on its way: keys wait for it
	gen            int  // of the latest request; older answers are dropped
	err            string

	waiting bool // an invite check, or the profile for e, is on its way
	note    note

	w, h    int
	visible int // rows on a page
	detailH int // lines of the selected message's details
	cols    outboxCols
}

// outboxStart asks for the first page once the screen is on the stack and
// knows its height (a page is one screenful).
type outboxStart struct{}

// newOutbox makes the screen; push it with its Init, which loads the first
// page. Keys wait until it is in.
func newOutbox(c *Common, deps Deps) *outboxScreen {
	o := &outboxScreen{c: c, deps: deps, loading: true}
	o.SetSize(c.Width, c.Height)
	return o
}

func (o *outboxScreen) Init() tea.Cmd { return func() tea.Msg { return outboxStart{} } }

func (o *outboxScreen) busy() bool     { return o.loading || o.waiting }
func (o *outboxScreen) Note() note     { return o.note }
func (o *outboxScreen) setNote(n note) { o.note = n }
func (o *outboxScreen) Typing() bool   { return false }

func (o *outboxScreen) ShortHelp() []key.Binding {
	k := o.c.KeyMap
	filter := with(k.NextFilter, "problems")
	if o.attention {
		filter = with(k.NextFilter, "all")
	}
	edit, resend := with(k.EditEmail, "edit email"), with(k.Invite, "resend")
	if !o.c.CanManage() {
		edit, resend = with(edit, "edit email (owner/admin)"), with(resend, "resend (owner/admin)")
	}
	return []key.Binding{with(k.Open, "profile"), edit, resend, filter, with(k.Back, "back"), k.Help}
}

func (o *outboxScreen) FullHelp() [][]key.Binding {
	k := o.c.KeyMap
	return [][]key.Binding{
		{with(k.Open, "open the customer's profile"), with(k.EditEmail, "edit the customer's email"),
			with(k.Invite, "send a fresh link of the message's kind"), with(k.Reset, "send a password-reset link")},
		{with(k.NextFilter, "all messages / only those needing attention"), with(k.Back, "back to the roster")},
		k.scrollKeys(),
	}
}

// The outbox table's fixed columns, in cells.
const (
	obWhenW  = 16 // "Mon 30 Nov 14:05"
	obKindW  = 8  // "Reminder"
	obStateW = 8  // "Retrying"
)

type outboxCols struct{ when, to, customer, kind, state, what int }

// layoutOutbox shares the width out: the time, kind and state keep their
// size, the address and the customer split what is left, and a wide
// terminal adds what happened.
func layoutOutbox(w int) outboxCols {
	c := outboxCols{when: obWhenW, kind: obKindW, state: obStateW}
	rest := w - prefixW - obWhenW - obKindW - obStateW - 4*gapW
	if rest < 20 {
		c.kind = 0
		rest += obKindW + gapW
	}
	if rest < 20 {
		c.when = 0
		rest += obWhenW + gapW
	}
	if rest >= 110 {
		c.what = rest - 70 - gapW
		rest = 70
	}
	c.customer = max(min(rest*2/5, 28), 0)
	c.to = max(rest-c.customer, 0)
	return c
}

// SetSize lays the screen out; a page size that changed reloads the page.
func (o *outboxScreen) SetSize(w, h int) {
	if w == o.w && h == o.h {
		return
	}
	o.w, o.h = w, h
	o.cols = layoutOutbox(w)
	switch {
	case h >= 20:
		o.detailH = 8
	case h >= 12:
		o.detailH = 5
	default:
		o.detailH = 0
	}
	// title, table header, the details
	o.visible = max(1, h-2-o.detailH)
}

// --- loading ----------------------------------------------------------

// fetch asks for a page; cursor says where the cursor goes when it comes.
func (o *outboxScreen) fetch(kind fetchKind, q store.OutboxQuery, keep int64, cursor int) tea.Cmd {
	o.gen++
	o.loading = true
	q.Attention, q.Limit = o.attention, o.visible
	gen, ctx, org, src := o.gen, o.c.Ctx, o.c.Org.ID, o.deps.Roster
	return func() tea.Msg {
		rows, err := src.OutboxPage(ctx, org, q)
		return outboxMsg{gen: gen, kind: kind, keep: keep, cursor: cursor, limit: q.Limit, rows: rows, err: err}
	}
}

// first loads the newest page.
func (o *outboxScreen) first() tea.Cmd { return o.fetch(fetchFirst, store.OutboxQuery{}, 0, 0) }

// reload reads the page on screen again (after a write, or a resize); the
// cursor stays on its message. At the top of the outbox the page starts at
// the newest message, so one just sent shows.
func (o *outboxScreen) reload() tea.Cmd {
	if len(o.rows) == 0 || o.atStart {
		keep := int64(0)
		if r := o.current(); r != nil {
			keep = r.ID
		}
		return o.fetch(fetchReload, store.OutboxQuery{}, keep, o.cursor)
	}
	return o.fetch(fetchReload, store.OutboxQuery{Before: o.rows[0].ID + 1}, o.current().ID, o.cursor)
}

func (o *outboxScreen) next(cursor int) tea.Cmd {
	return o.fetch(fetchNext, store.OutboxQuery{Before: o.rows[len(o.rows)-1].ID}, 0, cursor)
}

func (o *outboxScreen) prev(cursor int) tea.Cmd {
	return o.fetch(fetchPrev, store.OutboxQuery{After: o.rows[0].ID}, 0, cursor)
}

func (o *outboxScreen) last() tea.Cmd {
	return o.fetch(fetchLast, store.OutboxQuery{Oldest: true}, 0, -1)
}

func (o *outboxScreen) current() *store.OutboxRow {
	if o.cursor < 0 || o.cursor >= len(o.rows) {
		return nil
	}
	return &o.rows[o.cursor]
}

// got takes a page in.
func (o *outboxScreen) got(msg outboxMsg) {
	if msg.gen != o.gen {
		return
	}
	o.loading = false
	if msg.err != nil {
		o.err = say(msg.err)
		return
	}
	o.err = ""
	n, full := len(msg.rows), len(msg.rows) == msg.limit
	old := o.rows
	switch msg.kind {
	case fetchFirst:
		o.rows, o.atStart, o.atEnd = msg.rows, true, !full
		o.offset, o.offsetKnown = 0, true
	case fetchReload:
		o.rows, o.atEnd = msg.rows, !full
		if o.atStart {
			o.offset, o.offsetKnown = 0, true
		}
	case fetchNext:
		if n == 0 {
			o.atEnd = true
			o.cursor = len(o.rows) - 1
			return
		}
		o.offset += len(old)
		o.rows, o.atStart, o.atEnd = msg.rows, false, !full
	case fetchPrev:
		if full {
			o.rows, o.atStart, o.atEnd = msg.rows, false, false
			o.offset -= n
			break
		}
		// Fewer than a page newer than this one: the newest page, topped
		// up from the page that was on screen, the cursor as far up from
		// its row as the key asked (-1: one row).
		keep := old[:min(len(old), msg.limit-n)]
		o.rows = append(append(make([]store.OutboxRow, 0, n+len(keep)), msg.rows...), keep...)
		o.atStart, o.atEnd = true, o.atEnd && len(keep) == len(old)
		o.offset, o.offsetKnown = 0, true
		if msg.cursor < 0 {
			msg.cursor = max(n-1, 0)
		} else {
			msg.cursor = max(n+o.cursor-msg.limit, 0)
		}
	case fetchLast:
		o.rows, o.atEnd, o.atStart = msg.rows, true, !full
		o.offsetKnown = !full
		o.offset = 0
	}
	o.loaded = true
	o.cursor = msg.cursor
	if msg.cursor < 0 {
		o.cursor = len(o.rows) - 1
	}
	if msg.keep != 0 {
		for i := range o.rows {
			if o.rows[i].ID == msg.keep {
				o.cursor = i
				break
			}
		}
	}
	o.cursor = min(max(o.cursor, 0), max(len(o.rows)-1, 0))
}

// --- keys -------------------------------------------------------------

func (o *outboxScreen) Update(msg tea.Msg) tea.Cmd {
	k := o.c.KeyMap
	switch msg := msg.(type) {
	case tea.KeyMsg:
		if mv := k.movement(msg, false); mv != noMove {
			o.note = note{}
			return o.move(mv)
		}
		switch {
		case key.Matches(msg, k.Back):
			return o.c.nav.pop(nil, false)
		case key.Matches(msg, k.NextFilter), key.Matches(msg, k.PrevFilter):
			o.attention = !o.attention
			o.note = note{}
			return o.first()
		case key.Matches(msg, k.Open):
			if r := o.customerRow(); r != nil {
				o.note = note{}
				p := newProfile(o.c, o.deps, r.CustomerID)
				return o.c.nav.push(p, p.load())
			}
		case key.Matches(msg, k.EditEmail):
			if !o.c.CanManage() {
				o.note = note{forbiddenText("change emails", o.c.Styles.Glyphs), toneWarning}
				return nil
			}
			if r := o.customerRow(); r != nil {
				o.note = note{"Opening " + inert.String(r.CustomerName) + o.c.Styles.Glyphs.Ellipsis, toneInfo}
				o.waiting = true
				ctx, org, id, src := o.c.Ctx, o.c.Org.ID, r.CustomerID, o.deps.Roster
				return func() tea.Msg {
					p, err := src.Profile(ctx, org, id)
					return outboxProfileMsg{p, err}
				}
			}
		case key.Matches(msg, k.Invite):
			return o.resend()
		case key.Matches(msg, k.Reset):
			if r := o.customerRow(); r != nil {
				return o.check(r, store.PurposeReset)
			}
		}
	case outboxStart:
		return o.first()
	case outboxMsg:
		o.got(msg)
	case outboxProfileMsg:
		o.waiting = false
		if msg.err != nil {
			o.note = note{"Could not open the customer: " + say(msg.err), toneError}
			return nil
		}
		o.note = note{}
		e := newEmailEditor(o.c, o.deps, msg.p)
		return o.c.nav.push(e, e.Init())
	case checkMsg:
		o.waiting = false
		var cmd tea.Cmd
		o.note, cmd = answer(o.c, o.deps, msg, onOutbox)
		return cmd
	case changedMsg:
		return o.reload()
	}
	return nil
}

// customerRow is the selected message, if it is about a customer who is
// still on the roster; otherwise the note says why nothing happens.
func (o *outboxScreen) customerRow() *store.OutboxRow {
	r := o.current()
	switch {
	case r == nil:
		return nil
	case r.CustomerID == 0:
		o.note = note{"The customer this message was about has been deleted.", toneInfo}
		return nil
	}
	return r
}

// resend sends a fresh link of the selected message's kind to its
// customer: through the same check and confirmation as everywhere, which
// ask first when the last link failed or three went out within the hour.
func (o *outboxScreen) resend() tea.Cmd {
	r := o.customerRow()
	if r == nil {
		return nil
	}
	if r.Purpose == "" {
		o.note = note{fmt.Sprintf("This %s carries no link to send again; frontdesk outbox retry %d sends it as it was.",
			strings.ToLower(kindWord(r.Kind)), r.ID), toneInfo}
		return nil
	}
	return o.check(r, r.Purpose)
}

func (o *outboxScreen) check(r *store.OutboxRow, purpose store.Purpose) tea.Cmd {
	o.note = note{"Checking " + inert.String(r.CustomerName) + o.c.Styles.Glyphs.Ellipsis, toneInfo}
	o.waiting = true
	if purpose == store.PurposeReset {
		return checkReset(o.c, o.deps, r.CustomerID)
	}
	return checkInvite(o.c, o.deps, r.CustomerID)
}

// move makes a movement; past the page's edge it brings the next page in,
// the cursor on the row the key asked for.
func (o *outboxScreen) move(mv movement) tea.Cmd {
	n := len(o.rows)
	if n == 0 {
		return nil
	}
	switch mv {
	case moveUp:
		if o.cursor > 0 {
			o.cursor--
		} else if !o.atStart {
			return o.prev(-1)
		}
	case moveDown:
		if o.cursor < n-1 {
			o.cursor++
		} else if !o.atEnd {
			return o.next(0)
		}
	case movePageDown:
		if !o.atEnd {
			return o.next(o.cursor)
		}
		o.cursor = n - 1
	case movePageUp:
		if !o.atStart {
			return o.prev(o.cursor)
		}
		o.cursor = 0
	case moveFirst:
		if !o.atStart {
			return o.first()
		}
		o.cursor = 0
	case moveLast:
		if !o.atEnd {
			return o.last()
		}
		o.cursor = n - 1
	}
	return nil
}

// --- drawing ----------------------------------------------------------

func (o *outboxScreen) View() string {
	s := o.c.Styles
	var b strings.Builder
	b.Grow((o.w + 16) * (o.h + 1))
	what := "all messages, newest first"
	if o.attention {
		what = "failed, bounced or being retried, newest first"
	}
	b.WriteString(spread(s.Title.Render("Outbox")+s.Subtle.Render(s.Glyphs.Sep+what), s.Subtle.Render(o.position()), o.w))
	b.WriteByte('\n')
	b.WriteString(s.TableHeader.Render(o.headerLine()))
	lines := 0
	switch {
	case o.err != "" && len(o.rows) == 0:
		b.WriteString("\n" + clip(s.Error.Render(o.err), o.w))
		lines++
	case !o.loaded:
		b.WriteString("\n" + s.Subtle.Render("Loading"+s.Glyphs.Ellipsis))
		lines++
	case len(o.rows) == 0:
		empty := "No email has been sent yet."
		if o.attention {
			empty = "Nothing needs attention: no message failed, bounced or is waiting for another attempt."
		}
		b.WriteString("\n" + clip(s.Subtle.Render(empty), o.w))
		lines++
	}
	for i := o.top(); i < len(o.rows) && lines < o.visible; i++ {
		b.WriteByte('\n')
		b.WriteString(o.rowLine(i))
		lines++
	}
	for ; lines < o.visible; lines++ {
		b.WriteByte('\n')
	}
	if o.detailH > 0 {
		for _, l := range o.details() {
			b.WriteByte('\n')
			b.WriteString(l)
		}
	}
	return fit(b.String(), o.w, o.h)
}

// top is the first row drawn: a page taller than the screen (the terminal
// shrank) scrolls so that the cursor's row stays in view.
func (o *outboxScreen) top() int { return max(0, o.cursor-o.visible+1) }

// position is "14-26", where the rows on screen sit among the messages
// (when known), and whether there are more.
func (o *outboxScreen) position() string {
	if len(o.rows) == 0 {
		return ""
	}
	t := ""
	if o.offsetKnown {
		top := o.top()
		t = num(o.offset+top+1) + "-" + num(o.offset+min(top+o.visible, len(o.rows)))
	}
	if !o.atEnd || o.top()+o.visible < len(o.rows) {
		if t != "" {
			t += ", "
		}
		t += "more below"
	}
	return t
}

func (o *outboxScreen) headerLine() string {
	c := o.cols
	var b strings.Builder
	b.WriteString(spaces(prefixW - 1))
	if c.when > 0 {
		b.WriteString(pad("Queued", c.when) + spaces(gapW))
	}
	b.WriteString(pad("To", c.to))
	b.WriteString(spaces(gapW) + pad("Customer", c.customer))
	if c.kind > 0 {
		b.WriteString(spaces(gapW) + pad("Kind", c.kind))
	}
	b.WriteString(spaces(gapW) + pad("State", c.state))
	if c.what > 0 {
		b.WriteString(spaces(gapW) + pad("What happened", c.what))
	}
	return clip(b.String(), o.w)
}

// deliveryStyle colours a delivery's label; the word carries the meaning.
func (o *outboxScreen) deliveryStyle(d store.Delivery, text string) string {
	s := o.c.Styles
	switch d {
	case store.DeliverySent:
		return s.Success.Render(text)
	case store.DeliveryFailed, store.DeliveryBounced:
		return s.Error.Render(text)
	case store.DeliveryRetrying:
		return s.Warning.Render(text)
	}
	return s.Subtle.Render(text)
}

func (o *outboxScreen) rowLine(i int) string {
	s, c, r := o.c.Styles, o.cols, &o.rows[i]
	sel := i == o.cursor
	d := r.Delivery()
	var b strings.Builder
	b.Grow(o.w + 32)
	if sel {
		b.WriteString(">")
	} else {
		b.WriteString(" ")
	}
	b.WriteString(spaces(prefixW - 2))
	if c.when > 0 {
		b.WriteString(pad(format.DayTime(r.CreatedAt, o.c.loc()), c.when) + spaces(gapW))
	}
	b.WriteString(cell(r.To, c.to, s.Glyphs.Ellipsis))
	name := r.CustomerName
	if r.CustomerID == 0 {
		name = "(deleted)"
	}
	b.WriteString(spaces(gapW) + cell(name, c.customer, s.Glyphs.Ellipsis))
	if c.kind > 0 {
		b.WriteString(spaces(gapW) + cell(kindWord(r.Kind), c.kind, s.Glyphs.Ellipsis))
	}
	state := cell(d.Label(), c.state, "")
	if !sel {
		state = o.deliveryStyle(d, state)
	}
	b.WriteString(spaces(gapW) + state)
	if c.what > 0 {
		b.WriteString(spaces(gapW) + cell(o.whatHappened(r), c.what, s.Glyphs.Ellipsis))
	}
	line := b.String()
	if sel {
		return s.Selected.Render(pad(line, o.w))
	}
	return line
}

// kindWord is the kind of email in one short word, for the table; the
// details name it in full (format.Label).
func kindWord(kind string) string {
	switch kind {
	case store.MessageReset:
		return "Reset"
	case store.MessageEmailChange:
		return "Notice"
	}
	return format.Label(kind)
}

// whatHappened is the message's delivery in staff words.
func (o *outboxScreen) whatHappened(r *store.OutboxRow) string {
	return mailer.ExplainDelivery(&r.OutboxMessage, o.c.Styles.Glyphs.Dash)
}

// details are the selected message in full, exactly detailH lines: what
// happened in staff words with the server's words beside it, the fix for a
// link that never arrived, and the attempts. Each part is capped (two
// lines, one on a short terminal) so that a long reply never pushes the
// fix off the screen.
func (o *outboxScreen) details() []string {
	s := o.c.Styles
	b := &block{w: o.w, s: s}
	per := 2
	if o.detailH < 8 {
		per = 1
	}
	field := func(label, value string) {
		from := len(b.lines)
		b.field(label, value)
		if len(b.lines)-from > per {
			b.lines = b.lines[:from+per]
			last := &b.lines[len(b.lines)-1]
			*last = clip(*last, o.w-len(s.Glyphs.Ellipsis)) + s.Glyphs.Ellipsis
		}
	}
	r := o.current()
	if r == nil {
		b.section("Message")
	} else {
		title := format.Label(r.Kind) + " to " + inert.String(r.To)
		if r.CustomerName != "" {
			title = format.Label(r.Kind) + " for " + inert.String(r.CustomerName)
		}
		b.section(title + fmt.Sprintf(" (message %d)", r.ID))
		d := r.Delivery()
		field("What happened", o.deliveryStyle(d, sentence(o.whatHappened(r))))
		said := r.LastError
		if d == store.DeliverySent {
			said = r.Reply
		}
		if said != "" {
			field("Server said", inert.String(said))
		}
		if fix := o.fixText(r); fix != "" {
			field("Fix", fix)
		}
		field("Delivery", o.deliveryText(r))
	}
	lines := b.lines[1:] // the section's blank line
	if len(lines) > o.detailH {
		lines = lines[:o.detailH]
	}
	for len(lines) < o.detailH {
		lines = append(lines, "")
	}
	return lines
}

// deliveryText is when it was queued and sent, how many attempts, the next
// one, and whether its link was opened.
func (o *outboxScreen) deliveryText(r *store.OutboxRow) string {
	loc, sep := o.c.loc(), o.c.Styles.Glyphs.Sep
	t := "queued " + format.DateTime(r.CreatedAt, loc)
	switch d := r.Delivery(); d {
	case store.DeliverySent:
		t += sep + "sent " + format.DateTime(r.SentAt, loc)
	case store.DeliveryRetrying:
		t += sep + attempts(r.Attempts) + sep + "next attempt " + format.DateTime(r.NextAttemptAt, loc)
	case store.DeliveryFailed:
		t += sep + attempts(r.Attempts) + ", then it failed for good"
	case store.DeliveryBounced:
		t += sep + "accepted, then bounced"
	default:
		t += sep + "first attempt " + format.DateTime(r.NextAttemptAt, loc)
	}
	switch {
	case r.Purpose == "":
	case !r.LinkOpenedAt.IsZero():
		t += sep + "link opened " + format.DateTime(r.LinkOpenedAt, loc)
	case r.Delivery() == store.DeliverySent:
		t += sep + "link not opened yet"
	}
	return t
}

func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}

// fixText is what staff can do about a message whose link never arrived.
func (o *outboxScreen) fixText(r *store.OutboxRow) string {
	s, k := o.c.Styles, o.c.KeyMap
	if !r.Delivery().Undelivered() {
		return ""
	}
	what := strings.ToLower(claim.What(r.Purpose))
	switch {
	case r.Purpose == "":
		return fmt.Sprintf("frontdesk outbox retry %d sends it again as it was.", r.ID)
	case r.CustomerID == 0:
		return "Nothing: the customer has been deleted."
	case r.Newer:
		return "Nothing: a newer " + what + " went to " + inert.String(r.CustomerName) + " since."
	case !strings.EqualFold(r.CustomerEmail, r.To):
		return "The email is now " + inert.String(r.CustomerEmail) + ": " + s.Key.Render(k.Invite.Help().Key) + " sends a fresh " + what + " there."
	}
	return s.Key.Render(k.EditEmail.Help().Key) + " fix the email, then " + s.Key.Render(k.Invite.Help().Key) +
		" send a fresh " + what + s.Glyphs.Dash + "the failed link no longer works."
}

// sentence starts text with a capital and ends it with a full stop.
func sentence(text string) string {
	if text == "" {
		return ""
	}
	r, n := utf8.DecodeRuneInString(text)
	text = string(unicode.ToUpper(r)) + text[n:]
	if !strings.HasSuffix(text, ".") && !strings.HasSuffix(text, ")") {
		text += "."
	}
	return text
}

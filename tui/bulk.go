package tui

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/progress"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"frontdesk/claim"
	"frontdesk/store"
	"frontdesk/store/format"
	"frontdesk/tui/inert"
)

type bulkState int

const (
	bulkChecking bulkState = iota
	bulkSummary
	bulkSending
	bulkDone
)

// bulkCheckedMsg is a step of the summary's check: the customers of
// ids[start:start+n] that are still there.
type bulkCheckedMsg struct {
	start, n  int
	customers []*store.Customer
	expiry    time.Time
	err       error
}

// bulkEvent is a step of a running bulk invite, from its goroutine: a
// progress report, or the outcomes of one claim.Send call (with err, what
// stopped it).
type bulkEvent struct {
	progress *claim.Progress
	outcomes []claim.Outcome
	err      error
}

type bulkEventMsg struct {
	ev     bulkEvent
	ok     bool // false: the run is over
	events <-chan bulkEvent
}

// marksDoneMsg tells the roster which marks a bulk invite has dealt with.
type marksDoneMsg struct{ ids []int64 }

// A bulk invite may be of every customer a million-customer roster holds
// ("mark all"): it reads, sends and tallies in steps, and keeps counts and
// the first names of each group rather than a customer or an outcome per
// mark.
const (
	// bulkCheckChunk customers are read and sorted per step of the check.
	bulkCheckChunk = 1000
	// deskDelivery is the largest run whose first delivery attempt is made
	// at the desk, as one invite's is: staff wait a few seconds for
	// "sent" or the server's refusal. A larger run is queued for the
	// outbox worker, which sends it in the background: a desk should not
	// wait minutes on a mail server, and "bulk invite of 10,000 queued
	// under 2 s" (DESIGN §9) is what staff wait for.
	deskDelivery = 250
	// bulkSendChunk customers go to one claim.Send of a queued run; its
	// outcomes are tallied and let go before the next.
	bulkSendChunk = 1000
	// listCap names are listed per group (the summary's invitees, each
	// reason skipped, what was not delivered); the rest are counted.
	listCap = 200
)

// skips are customers a run leaves out, grouped by reason (typed, so never
// by their sentences): how many, and the first listCap names of each.
type skips struct {
	order []claim.Reason
	n     map[claim.Reason]int
	names map[claim.Reason][]string
	total int
}

func (s *skips) add(r claim.Reason, name string) {
	if s.n == nil {
		s.n, s.names = map[claim.Reason]int{}, map[claim.Reason][]string{}
	}
	if s.n[r] == 0 {
		s.order = append(s.order, r)
	}
	s.n[r]++
	s.total++
	if len(s.names[r]) < listCap {
		s.names[r] = append(s.names[r], name)
	}
}

// bulkScreen invites the marked customers: a summary of who gets an invite
// and who is skipped and why, a confirmation, a progress bar while the
// invites are queued and delivered, and a tally.
type bulkScreen struct {
	c    *Common
	deps Deps
	ids  []int64 // the marks, in marking order; read, never changed
	// ctx is the screen's: closing it stops a check or a run under way.
	ctx    context.Context
	cancel context.CancelFunc

	state   bulkState
	err     string
	checked int // of ids, how many the check has sorted
	expiry  time.Time

	will     []int64  // who gets an invite, in marking order
	willList []string // the first listCap of them, as the summary lists them
	// names are the invitees' names, for the tally's lines: a run
	// delivered at the desk only (deskDelivery), nil for a queued one.
	names   map[int64]string
	live    int // of will, how many have a link that stops working
	skipped skips
	queue   bool // too many for the desk: queued for the outbox worker

	events   <-chan bulkEvent
	stopping bool
	progress claim.Progress
	reached  int // of will, how many Send has dealt with
	sent     int
	queued   int
	failed   int
	refused  skips
	problems []string // the first listCap not delivered
	unlisted int      // not delivered past those
	stopped  string

	bar  progress.Model
	spin spinner.Model
	pg   pager
	w, h int
}

func newBulk(c *Common, deps Deps, ids []int64) *bulkScreen {
	b := &bulkScreen{c: c, deps: deps, ids: ids, spin: c.Styles.Spinner(), w: c.Width, h: c.Height}
	b.ctx, b.cancel = context.WithCancel(c.Ctx)
	b.bar = c.Styles.Progress(40)
	return b
}

// Init starts reading the marked customers, fresh, to sort them into
// invited and skipped with the same rules Send applies.
func (b *bulkScreen) Init() tea.Cmd {
	b.render()
	return b.checkNext()
}

// checkNext reads the next step's customers.
func (b *bulkScreen) checkNext() tea.Cmd {
	ctx, org, roster, inv := b.ctx, b.c.Org, b.deps.Roster, b.deps.Invites
	start := b.checked
	chunk := b.ids[start:min(start+bulkCheckChunk, len(b.ids))]
	return func() tea.Msg {
		cs, err := roster.CustomersByID(ctx, org.ID, chunk)
		return bulkCheckedMsg{start: start, n: len(chunk), customers: cs, expiry: inv.ExpiryFor(org), err: err}
	}
}

// busy until the first step of the check is in (for up to bulkCheckChunk
// marks, the whole check): keys typed ahead (I then y) wait for the
// summary. A longer check takes keys as it goes, so esc stops it.
func (b *bulkScreen) busy() bool   { return b.state == bulkChecking && b.checked == 0 && b.err == "" }
func (b *bulkScreen) Note() note   { return note{} }
func (b *bulkScreen) Typing() bool { return false }
func (b *bulkScreen) helpKey() string {
	return fmt.Sprint(b.state, b.stopping)
}

func (b *bulkScreen) close() { b.cancel() }

func (b *bulkScreen) ShortHelp() []key.Binding {
	k := b.c.KeyMap
	switch b.state {
	case bulkSummary:
		if len(b.will) > 0 {
			return []key.Binding{with(k.Confirm, "send"), with(k.Back, "cancel"), with(k.Arrows, "scroll"), k.Help}
		}
		return []key.Binding{with(k.Back, "back"), with(k.Arrows, "scroll"), k.Help}
	case bulkSending:
		return []key.Binding{with(k.Back, "stop"), k.ForceQuit}
	case bulkDone:
		return []key.Binding{with(k.Confirm, "close"), with(k.Arrows, "scroll"), k.Quit}
	}
	return []key.Binding{with(k.Back, "cancel")}
}

func (b *bulkScreen) FullHelp() [][]key.Binding {
	k := b.c.KeyMap
	return [][]key.Binding{
		{with(k.Confirm, "send the invites / close the tally"), with(k.Back, "cancel, or stop a run (queued invites stay queued)")},
		k.scrollKeys(),
	}
}

func (b *bulkScreen) SetSize(w, h int) {
	b.w, b.h = w, h
	b.bar.Width = min(max(w-4, 10), 60)
	b.render()
}

func (b *bulkScreen) Update(msg tea.Msg) tea.Cmd {
	k := b.c.KeyMap
	switch msg := msg.(type) {
	case tea.KeyMsg:
		switch b.state {
		case bulkChecking:
			if key.Matches(msg, k.Back) {
				return b.c.nav.pop(&note{"No invites sent; the marks stay.", toneInfo}, false)
			}
		case bulkSummary:
			switch {
			case key.Matches(msg, k.Confirm) && len(b.will) > 0:
				return b.start()
			case key.Matches(msg, k.Back):
				return b.c.nav.pop(&note{"No invites sent; the marks stay.", toneInfo}, false)
			default:
				b.pg.handle(msg, k)
			}
		case bulkSending:
			if key.Matches(msg, k.Back) && !b.stopping {
				b.stopping = true
				b.cancel()
				b.render()
			}
		case bulkDone:
			switch {
			case key.Matches(msg, k.Confirm), key.Matches(msg, k.Back):
				n := note{b.tallyLine(), toneSuccess}
				if b.failed > 0 || b.stopped != "" {
					n.tone = toneWarning
				}
				return b.c.nav.pop(&n, false)
			default:
				b.pg.handle(msg, k)
			}
		}
	case bulkCheckedMsg:
		if b.state != bulkChecking || msg.start != b.checked {
			return nil
		}
		if msg.err != nil {
			b.err = say(msg.err)
			b.state = bulkSummary
			b.render()
			return nil
		}
		b.sort(b.ids[msg.start:msg.start+msg.n], msg.customers)
		b.checked += msg.n
		b.expiry = msg.expiry
		if b.checked < len(b.ids) {
			b.render()
			return b.checkNext()
		}
		b.state = bulkSummary
		b.queue = len(b.will) > deskDelivery
		if b.queue {
			b.names = nil
		}
		b.render()
	case bulkEventMsg:
		if msg.events != b.events {
			return nil
		}
		if !msg.ok {
			return b.finish()
		}
		b.apply(msg.ev)
		b.render()
		return b.wait()
	case spinner.TickMsg:
		if b.state == bulkSending {
			var cmd tea.Cmd
			b.spin, cmd = b.spin.Update(msg)
			b.render()
			return cmd
		}
	}
	return nil
}

// sort splits one step's customers (cs, those of ids still there) by
// claim.CanInvite, the rule Send applies again when it runs.
func (b *bulkScreen) sort(ids []int64, cs []*store.Customer) {
	byID := make(map[int64]*store.Customer, len(cs))
	for _, c := range cs {
		byID[c.ID] = c
	}
	s := b.c.Styles
	nameW := min(max(b.w/3, 12), 32)
	for _, id := range ids {
		c, ok := byID[id]
		if !ok {
			b.skipped.add(claim.ReasonGone, fmt.Sprintf("Customer %d", id))
			continue
		}
		if r := claim.CanInvite(b.c.Staff, b.c.Org, c); r != nil {
			b.skipped.add(r.Reason, inert.String(c.Name()))
			continue
		}
		b.will = append(b.will, c.ID)
		if len(b.will) <= deskDelivery {
			if b.names == nil {
				b.names = map[int64]string{}
			}
			b.names[c.ID] = inert.String(c.Name())
		}
		if c.HasLiveInvite() {
			b.live++
		}
		if len(b.willList) < listCap {
			extra := ""
			if c.HasLiveInvite() || c.Status == store.StatusExpired {
				extra = "  (resend)"
			}
			b.willList = append(b.willList, "  "+cell(c.Name(), nameW, s.Glyphs.Ellipsis)+" "+inert.String(c.Email)+s.Subtle.Render(extra))
		}
	}
}

// start runs the invites in a goroutine: one claim.Send with the desk's
// delivery attempt for a run of at most deskDelivery, steps of
// bulkSendChunk queued for the outbox worker for a larger one.
func (b *bulkScreen) start() tea.Cmd {
	b.state = bulkSending
	b.progress = claim.Progress{Phase: claim.Issuing, Total: len(b.will)}
	events := make(chan bulkEvent, 16)
	b.events = events
	ctx, staff, inv, session, ids, queue := b.ctx, b.c.Staff, b.deps.Invites, b.c.Ctx, b.will, b.queue
	step := len(ids)
	if queue {
		step = bulkSendChunk
	}
	go func() {
		defer close(events)
		for start := 0; start < len(ids); start += step {
			if ctx.Err() != nil {
				return // stopped between steps
			}
			part := ids[start:min(start+step, len(ids))]
			opt := claim.SendOptions{Window: deliverTimeout, QueueOnly: queue, Progress: func(p claim.Progress) {
				if queue {
					p.Done, p.Total = start+p.Done, len(ids)
				}
				select {
				case events <- bulkEvent{progress: &p}:
				case <-ctx.Done():
				}
			}}
			outs, err := inv.Send(ctx, staff, part, opt)
			// Reported even when stopping (the invites that were issued
			// are real); only the end of the session drops it.
			select {
			case events <- bulkEvent{outcomes: outs, err: err}:
			case <-session.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	b.render()
	return tea.Batch(b.spin.Tick, b.wait())
}

func (b *bulkScreen) wait() tea.Cmd {
	events := b.events
	return func() tea.Msg {
		ev, ok := <-events
		return bulkEventMsg{ev: ev, ok: ok, events: events}
	}
}

// name is how the tally names a customer of the run.
func (b *bulkScreen) name(o *claim.Outcome) string {
	if n, ok := b.names[o.CustomerID]; ok {
		return n
	}
	if o.Refusal != nil && o.Refusal.Who != "" {
		return inert.String(o.Refusal.Who)
	}
	return fmt.Sprintf("Customer %d", o.CustomerID)
}

func (b *bulkScreen) problem(line string) {
	if len(b.problems) < listCap {
		b.problems = append(b.problems, line)
		return
	}
	b.unlisted++
}

func (b *bulkScreen) apply(ev bulkEvent) {
	if ev.progress != nil {
		b.progress = *ev.progress
		return
	}
	b.reached += len(ev.outcomes)
	words := b.c.words(onRoster)
	for i := range ev.outcomes {
		o := &ev.outcomes[i]
		switch o.Result {
		case claim.Delivered:
			b.sent++
		case claim.Failed:
			b.failed++
			b.problem(b.name(o) + ": " + inert.String(words.Outcome(o)))
		case claim.Queued:
			b.queued++
			if !b.queue {
				b.problem(b.name(o) + ": " + inert.String(words.Outcome(o)))
			}
		case claim.Refused:
			b.refused.add(o.Refusal.Reason, b.name(o))
		}
	}
	if ev.err != nil && !(b.stopping && errors.Is(ev.err, context.Canceled)) {
		b.stopped = "Sending stopped: " + say(ev.err) + " Invites already issued are sent by the outbox worker."
	}
}

func (b *bulkScreen) finish() tea.Cmd {
	b.state = bulkDone
	if b.stopping && b.stopped == "" {
		b.stopped = "Stopped; invites already queued are sent by the outbox worker."
	}
	b.render()
	// Marks are done with, except for customers the run never reached:
	// Send deals with ids in order, so those are the end of will.
	var unreached marks
	unreached.Add(b.will[min(b.reached, len(b.will)):])
	done := make([]int64, 0, len(b.ids)-unreached.Len())
	for _, id := range b.ids {
		if !unreached.Has(id) {
			done = append(done, id)
		}
	}
	return tea.Batch(b.c.nav.broadcast(marksDoneMsg{done}), b.c.nav.broadcast(changedMsg{}))
}

// tallyLine is the outcome in one sentence, for the roster's footer too.
func (b *bulkScreen) tallyLine() string {
	g := b.c.Styles.Glyphs
	parts := []string{"Sent " + num(b.sent)}
	if b.queued > 0 {
		parts = append(parts, "queued "+num(b.queued))
	}
	parts = append(parts, "failed "+num(b.failed), "skipped "+num(b.skipped.total+b.refused.total))
	return "Bulk invite: " + strings.Join(parts, g.Sep) + "."
}

// render lays out the scrolling part of the screen for its state.
func (b *bulkScreen) render() {
	s := b.c.Styles
	w := &block{w: b.w, s: s}
	loc := b.c.loc()
	switch b.state {
	case bulkChecking:
		w.line(s.Subtle.Render("Checking " + plural(len(b.ids), "marked customer") + s.Glyphs.Ellipsis))
		if len(b.ids) > bulkCheckChunk {
			w.line(b.bar.ViewAs(float64(b.checked) / float64(len(b.ids))))
			w.line(s.Subtle.Render(num(b.checked) + " of " + num(len(b.ids))))
		}
	case bulkSummary:
		if b.err != "" {
			w.wrapped(s.Error.Render("Could not read the marked customers: "+b.err), 2)
			break
		}
		if !b.c.CanManage() {
			w.wrapped(s.Warning.Render(forbiddenText("send invites", s.Glyphs)), 2)
			w.line("")
		}
		if len(b.will) == 0 {
			w.line(s.Bold.Render("Nobody to invite: every marked customer is skipped."))
		} else {
			w.wrapped(fmt.Sprintf("%s will get an invite; links expire %s.", plural(len(b.will), "customer"), format.Expiry(b.expiry, loc)), 2)
			if b.live > 0 {
				w.wrapped(s.Warning.Render(fmt.Sprintf("%s of them %s a live invite; the earlier link stops working.", num(b.live), hasHave(b.live))), 2)
			}
			if b.queue {
				w.wrapped(fmt.Sprintf("More than %s invites are queued for the outbox worker, which sends them in the background; o on the roster shows how they go.", num(deskDelivery)), 2)
			}
		}
		w.line("")
		if len(b.will) > 0 {
			w.line(s.Section.Render(fmt.Sprintf("Will get an invite (%s)", num(len(b.will)))))
			for _, l := range b.willList {
				w.line(l)
			}
			if more := len(b.will) - len(b.willList); more > 0 {
				w.line(s.Subtle.Render("  and " + num(more) + " more"))
			}
		}
		b.skipLines(w, "Skipped", &b.skipped)
	case bulkSending:
		p := b.progress
		frac := 0.0
		label := "Queueing invites"
		if p.Total > 0 {
			frac = float64(p.Done) / float64(p.Total)
		}
		switch {
		case b.queue:
		case p.Phase == claim.Delivering:
			label = "Delivering"
			frac = 0.5 + frac/2
		default:
			frac /= 2
		}
		w.line(b.spin.View() + " " + label + " " + num(p.Done) + "/" + num(p.Total))
		w.line(b.bar.ViewAs(frac))
		if b.stopping {
			w.line(s.Warning.Render("Stopping after the current step" + s.Glyphs.Ellipsis))
		}
	case bulkDone:
		tone := s.Success
		if b.failed > 0 || b.stopped != "" {
			tone = s.Warning
		}
		w.wrapped(tone.Render(b.tallyLine()), 2)
		if b.queue && b.queued > 0 {
			w.wrapped("The outbox worker sends the queued invites in the background; o on the roster shows how they go.", 2)
		}
		if b.stopped != "" {
			w.wrapped(s.Warning.Render(b.stopped), 2)
		}
		if len(b.problems) > 0 {
			w.line("")
			w.line(s.Section.Render("Not delivered"))
			for _, p := range b.problems {
				w.wrapped("  "+p, 4)
			}
			if b.unlisted > 0 {
				w.line(s.Subtle.Render("  and " + num(b.unlisted) + " more: the outbox (o on the roster) lists them"))
			}
		}
		b.skipLines(w, "Skipped", &b.skipped, &b.refused)
	}
	b.pg.SetHeight(b.h - 2)
	b.pg.SetLines(w.lines)
}

// skipLines lists skipped customers grouped by reason, so "12 already
// claimed" reads as one line of names rather than twelve sentences.
func (b *bulkScreen) skipLines(w *block, title string, groups ...*skips) {
	var all skips
	for _, g := range groups {
		for _, r := range g.order {
			if all.n == nil {
				all.n, all.names = map[claim.Reason]int{}, map[claim.Reason][]string{}
			}
			if all.n[r] == 0 {
				all.order = append(all.order, r)
			}
			all.n[r] += g.n[r]
			all.total += g.n[r]
			all.names[r] = append(all.names[r], g.names[r]...)
		}
	}
	if all.total == 0 {
		return
	}
	s := b.c.Styles
	sort.SliceStable(all.order, func(i, j int) bool { return all.n[all.order[i]] > all.n[all.order[j]] })
	w.line("")
	w.line(s.Section.Render(fmt.Sprintf("%s (%s)", title, num(all.total))))
	for _, k := range all.order {
		names := all.names[k]
		if len(names) > listCap {
			names = names[:listCap]
		}
		list := strings.Join(names, ", ")
		if more := all.n[k] - len(names); more > 0 {
			list += " and " + num(more) + " more"
		}
		w.wrapped("  "+s.Warning.Render(num(all.n[k])+" "+k.Label())+": "+list, 4)
	}
}

func (b *bulkScreen) View() string {
	s := b.c.Styles
	title := s.Title.Render("Bulk invite") + s.Subtle.Render(s.Glyphs.Sep+plural(len(b.ids), "marked customer"))
	var action string
	k := b.c.KeyMap
	switch b.state {
	case bulkSummary:
		if len(b.will) > 0 {
			action = s.Key.Render(k.Confirm.Help().Key) + " send " + plural(len(b.will), "invite") + s.Glyphs.Sep + s.Key.Render(k.Back.Help().Key) + " cancel"
		} else {
			action = s.Key.Render(k.Back.Help().Key) + " back"
		}
	case bulkSending:
		action = s.Key.Render("esc") + " stop (queued invites stay queued)"
	case bulkDone:
		action = s.Key.Render(k.Confirm.Help().Key) + " close"
	}
	more := ""
	if b.pg.more() {
		more = s.Subtle.Render("more below")
	}
	return fit(title+"\n"+b.pg.View()+"\n"+spread(action, more, b.w), b.w, b.h)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return num(n) + " " + word + "s"
}

func hasHave(n int) string {
	if n == 1 {
		return "has"
	}
	return "have"
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

package tui

import (
	"context"
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

type bulkCheckedMsg struct {
	customers []*store.Customer
	expiry    time.Time
	err       error
}

// bulkEvent is a step of a running bulk invite, from its goroutine: a
// progress report, or (done) the outcomes.
type bulkEvent struct {
	progress claim.Progress
	done     bool
	outcomes []claim.Outcome
	err      error // what stopped the issuing, with done
}

type bulkEventMsg struct {
	ev     bulkEvent
	ok     bool // false: the run is over
	events <-chan bulkEvent
}

// marksDoneMsg tells the roster which marks a bulk invite has dealt with.
type marksDoneMsg struct{ ids []int64 }

// skip is a customer the run leaves out, and why: typed, so skips are
// grouped by reason, never by their sentences.
type skip struct {
	name   string
	reason claim.Reason
}

// bulkScreen invites the marked customers: a summary of who gets an invite
// and who is skipped and why, a confirmation, a progress bar while the
// invites are queued and delivered, and a tally.
type bulkScreen struct {
	c    *Common
	deps Deps
	ids  []int64

	state    bulkState
	err      string
	byID     map[int64]*store.Customer
	will     []*store.Customer
	skipped  []skip
	live     int // of will, how many have a link that stops working
	expiry   time.Time
	events   <-chan bulkEvent
	cancel   context.CancelFunc
	stopping bool

	progress claim.Progress
	outcomes []claim.Outcome
	sent     int
	queued   int
	failed   int
	refused  []skip
	problems []string
	stopped  string

	bar  progress.Model
	spin spinner.Model
	pg   pager
	w, h int
}

func newBulk(c *Common, deps Deps, ids []int64) *bulkScreen {
	b := &bulkScreen{c: c, deps: deps, ids: ids, spin: c.Styles.Spinner(), w: c.Width, h: c.Height}
	b.bar = c.Styles.Progress(40)
	return b
}

// Init reads the marked customers, fresh, to sort them into invited and
// skipped with the same rules Send applies.
func (b *bulkScreen) Init() tea.Cmd {
	ctx, org, ids, roster, inv := b.c.Ctx, b.c.Org, b.ids, b.deps.Roster, b.deps.Invites
	b.render()
	return func() tea.Msg {
		cs, err := roster.CustomersByID(ctx, org.ID, ids)
		return bulkCheckedMsg{customers: cs, expiry: inv.ExpiryFor(org), err: err}
	}
}

func (b *bulkScreen) busy() bool   { return b.state == bulkChecking }
func (b *bulkScreen) Note() note   { return note{} }
func (b *bulkScreen) Typing() bool { return false }
func (b *bulkScreen) helpKey() string {
	return fmt.Sprint(b.state, b.stopping)
}

func (b *bulkScreen) close() {
	if b.cancel != nil {
		b.cancel()
	}
}

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
				return b.c.nav.pop(nil, false)
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
		if msg.err != nil {
			b.err = say(msg.err)
		} else {
			b.sort(msg.customers)
			b.expiry = msg.expiry
		}
		b.state = bulkSummary
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

// sort splits the marked customers by claim.CanInvite, the rule Send
// applies again when it runs.
func (b *bulkScreen) sort(cs []*store.Customer) {
	b.byID = make(map[int64]*store.Customer, len(cs))
	for _, c := range cs {
		b.byID[c.ID] = c
	}
	for _, id := range b.ids {
		c, ok := b.byID[id]
		if !ok {
			b.skipped = append(b.skipped, skip{fmt.Sprintf("Customer %d", id), claim.ReasonGone})
			continue
		}
		if r := claim.CanInvite(b.c.Staff, b.c.Org, c); r != nil {
			b.skipped = append(b.skipped, skip{inert.String(c.Name()), r.Reason})
			continue
		}
		b.will = append(b.will, c)
		if c.HasLiveInvite() {
			b.live++
		}
	}
}

func (b *bulkScreen) start() tea.Cmd {
	ctx, cancel := context.WithCancel(b.c.Ctx)
	b.cancel = cancel
	b.state = bulkSending
	b.progress = claim.Progress{Phase: claim.Issuing, Total: len(b.will)}
	ids := make([]int64, len(b.will))
	for i, c := range b.will {
		ids[i] = c.ID
	}
	events := make(chan bulkEvent, 16)
	b.events = events
	staff, inv, session := b.c.Staff, b.deps.Invites, b.c.Ctx
	go func() {
		defer close(events)
		opt := claim.SendOptions{Window: deliverTimeout, Progress: func(p claim.Progress) {
			select {
			case events <- bulkEvent{progress: p}:
			case <-ctx.Done():
			}
		}}
		outs, err := inv.Send(ctx, staff, ids, opt)
		// Reported even when stopping (the invites that were issued are
		// real); only the end of the session drops it.
		select {
		case events <- bulkEvent{done: true, outcomes: outs, err: err}:
		case <-session.Done():
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

func (b *bulkScreen) apply(ev bulkEvent) {
	if !ev.done {
		b.progress = ev.progress
		return
	}
	b.outcomes = ev.outcomes
	words := b.c.words(onRoster)
	for i := range ev.outcomes {
		o := &ev.outcomes[i]
		name := fmt.Sprintf("Customer %d", o.CustomerID)
		if c := b.byID[o.CustomerID]; c != nil {
			name = inert.String(c.Name())
		}
		switch o.Result {
		case claim.Delivered:
			b.sent++
		case claim.Failed:
			b.failed++
			b.problems = append(b.problems, name+": "+inert.String(words.Outcome(o)))
		case claim.Queued:
			b.queued++
			b.problems = append(b.problems, name+": "+inert.String(words.Outcome(o)))
		case claim.Refused:
			b.refused = append(b.refused, skip{name, o.Refusal.Reason})
		}
	}
	if ev.err != nil {
		b.stopped = "Sending stopped: " + say(ev.err) + " Invites already issued are sent by the outbox worker."
	}
}

func (b *bulkScreen) finish() tea.Cmd {
	b.state = bulkDone
	if b.stopping && b.stopped == "" {
		b.stopped = "Stopped; invites already queued are sent by the outbox worker."
	}
	b.render()
	// Marks are done with, except for customers the run never reached.
	done := make([]int64, 0, len(b.ids))
	reached := map[int64]bool{}
	for _, o := range b.outcomes {
		reached[o.CustomerID] = true
	}
	for _, id := range b.ids {
		c, ok := b.byID[id]
		if !ok || reached[id] || claim.CanInvite(b.c.Staff, b.c.Org, c) != nil {
			done = append(done, id)
		}
	}
	return tea.Batch(b.c.nav.broadcast(marksDoneMsg{done}), b.c.nav.broadcast(changedMsg{}))
}

// tallyLine is the outcome in one sentence, for the roster's footer too.
func (b *bulkScreen) tallyLine() string {
	g := b.c.Styles.Glyphs
	parts := []string{fmt.Sprintf("Sent %d", b.sent)}
	if b.queued > 0 {
		parts = append(parts, fmt.Sprintf("queued %d", b.queued))
	}
	parts = append(parts, fmt.Sprintf("failed %d", b.failed), fmt.Sprintf("skipped %d", len(b.skipped)+len(b.refused)))
	return "Bulk invite: " + strings.Join(parts, g.Sep) + "."
}

// render lays out the scrolling part of the screen for its state.
func (b *bulkScreen) render() {
	s := b.c.Styles
	w := &block{w: b.w, s: s}
	loc := b.c.loc()
	switch b.state {
	case bulkChecking:
		w.line(s.Subtle.Render("Checking " + num(len(b.ids)) + " marked customers" + s.Glyphs.Ellipsis))
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
		}
		w.line("")
		if len(b.will) > 0 {
			w.line(s.Section.Render(fmt.Sprintf("Will get an invite (%d)", len(b.will))))
			nameW := min(max(b.w/3, 12), 32)
			for _, c := range b.will {
				extra := ""
				if c.HasLiveInvite() || c.Status == store.StatusExpired {
					extra = "  (resend)"
				}
				w.line("  " + cell(c.Name(), nameW, s.Glyphs.Ellipsis) + " " + inert.String(c.Email) + s.Subtle.Render(extra))
			}
		}
		b.skipLines(w, "Skipped", b.skipped)
	case bulkSending:
		p := b.progress
		frac := 0.0
		label := "Queueing invites"
		if p.Total > 0 {
			frac = float64(p.Done) / float64(p.Total)
		}
		if p.Phase == claim.Delivering {
			label = "Delivering"
			frac = 0.5 + frac/2
		} else {
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
		if b.stopped != "" {
			w.wrapped(s.Warning.Render(b.stopped), 2)
		}
		if len(b.problems) > 0 {
			w.line("")
			w.line(s.Section.Render("Not delivered"))
			for _, p := range b.problems {
				w.wrapped("  "+p, 4)
			}
		}
		all := append(append([]skip(nil), b.skipped...), b.refused...)
		b.skipLines(w, "Skipped", all)
	}
	b.pg.SetHeight(b.h - 2)
	b.pg.SetLines(w.lines)
}

// skipLines lists skipped customers grouped by reason, so "12 already
// claimed" reads as one line of names rather than twelve sentences.
func (b *bulkScreen) skipLines(w *block, title string, skips []skip) {
	if len(skips) == 0 {
		return
	}
	s := b.c.Styles
	groups := map[claim.Reason][]string{}
	var order []claim.Reason
	for _, sk := range skips {
		if _, ok := groups[sk.reason]; !ok {
			order = append(order, sk.reason)
		}
		groups[sk.reason] = append(groups[sk.reason], sk.name)
	}
	sort.SliceStable(order, func(i, j int) bool { return len(groups[order[i]]) > len(groups[order[j]]) })
	w.line("")
	w.line(s.Section.Render(fmt.Sprintf("%s (%d)", title, len(skips))))
	for _, k := range order {
		names := groups[k]
		w.wrapped("  "+s.Warning.Render(fmt.Sprintf("%d %s", len(names), k.Label()))+": "+strings.Join(names, ", "), 4)
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

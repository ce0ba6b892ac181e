package tui

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"frontdesk/store"
)

// screen is one layer of the stack: the roster at the bottom, then a
// profile, an editor, a confirmation, help. Key presses go to the top one;
// what a screen's commands return comes back to that screen (see routed);
// only what concerns every screen is broadcast.
type screen interface {
	Update(msg tea.Msg) tea.Cmd
	// View draws the screen into the size last given to SetSize.
	View() string
	SetSize(w, h int)
	// Note is the sentence for the footer ("Invite sent to …").
	Note() note
	// Typing is true while an input has the keyboard: q is then a letter.
	Typing() bool
	help.KeyMap
}

// What a screen may have besides: Model asks for these by interface.

// closer is a screen that holds something to let go of when it leaves the
// stack: a bulk invite stops its run.
type closer interface{ close() }

// noteTaker is a screen that shows the sentence the screen above it leaves
// when it closes ("Invite sent to …", "Email not changed.").
type noteTaker interface{ setNote(note) }

// busier is a screen that has asked for what keys act on (a page, a
// profile, an invite check) and does not have it yet: keys wait, in order,
// until it has.
type busier interface{ busy() bool }

// quitTaker is a screen that takes the quit key (q) itself rather than
// quitting: a profile goes back (the roster and its marks are one esc
// away, and staff press q to leave what they read); a question ignores it.
type quitTaker interface{ takesQuit() }

// helpKeyer is a screen whose short help changes with its state (sending,
// stopping): helpKey changes with it, so the footer is laid out again.
type helpKeyer interface{ helpKey() string }

var (
	_ closer    = (*bulkScreen)(nil)
	_ noteTaker = (*rosterScreen)(nil)
	_ noteTaker = (*profileScreen)(nil)
	_ busier    = (*rosterScreen)(nil)
	_ busier    = (*profileScreen)(nil)
	_ busier    = (*confirmScreen)(nil)
	_ busier    = (*bulkScreen)(nil)
	_ busier    = (*emailScreen)(nil)
	_ helpKeyer = (*confirmScreen)(nil)
	_ helpKeyer = (*bulkScreen)(nil)
	_ helpKeyer = (*emailScreen)(nil)
	_ quitTaker = (*profileScreen)(nil)
	_ quitTaker = (*askScreen)(nil)
)

// navigator changes the stack of screens. Screens call it from Update, so
// a key typed right after enter or esc already goes to the new top screen
// (a navigation message would leave it to the old one).
type navigator interface {
	// push puts s on top; cmds are s's first (its load), and what they
	// return comes back to s.
	push(s screen, cmds ...tea.Cmd) tea.Cmd
	// pop closes the top screen, leaving n (if any) on the one below;
	// changed reloads what every screen shows (see changedMsg).
	pop(n *note, changed bool) tea.Cmd
	// broadcast gives msg to every screen on the stack: only for what
	// concerns them all (changedMsg, marksDoneMsg).
	broadcast(msg tea.Msg) tea.Cmd
}

// changedMsg says customers changed (an invite, an email): screens reload
// what they show and the roster its counts.
type changedMsg struct{}

// liveMsg is what changed in the organization, made anywhere (Deps.Live).
// Model gives it to the screen on view; a screen under it gets what it
// missed once it is on top again (see Model.missed). Each screen decides
// what concerns it (store.Change's Concerns methods) and reads only that.
type liveMsg struct {
	changes []store.Change
	// seq is the latest change's position: sessions that read because of
	// the same change share the reads (see shared).
	seq int64
	// ahead is what the top screen's prefetch read for these changes, or
	// nil; the screen takes it if it still shows what it read for.
	ahead any
}

// prefetcher is a screen that can say, after each Update, what it would
// read for a change (prefetch): the goroutine that waits for changes reads
// it as one comes.
type prefetcher interface{ prefetch() *prefetch }

// prefetch is a screen's read for the next change, made in Update and run
// in the goroutine waiting for changes: run must use nothing of the
// screen's state but what it was made with. It returns nil when the changes
// do not concern the screen.
type prefetch struct {
	run func(changes []store.Change, seq int64) any
}

var _ prefetcher = (*rosterScreen)(nil)

func newLiveMsg(changes []store.Change) liveMsg {
	msg := liveMsg{changes: changes}
	for _, c := range changes {
		msg.seq = max(msg.seq, c.Seq)
	}
	return msg
}

// merge is a and then b, as the feed merges what a subscriber has not
// taken yet (what was read ahead is for the top screen only, and goes).
func (a liveMsg) merge(b liveMsg, org int64) liveMsg {
	return liveMsg{changes: store.MergeChanges(org, a.changes, b.changes), seq: max(a.seq, b.seq)}
}

// orgMsg is the organization's settings, read again after they changed.
type orgMsg struct {
	org *store.Org
	err error
}

// routed is what a screen's command returned, addressed to that screen.
// Model delivers it only while that screen is on the stack: the profile a
// check was asked for gets the answer, not the roster under it, and the
// answer for a closed screen finds no one. The screen itself is the
// address: a screen opened again is a new one.
type routed struct {
	to  screen
	msg tea.Msg
}

// route addresses what cmd returns to s, a batch command by command. A
// result already addressed (the first load of a screen s pushed) keeps its
// address, and so does the program's quit (the answer to "quit anyway?"):
// addressed, it would never reach the program.
func route(s screen, cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	return func() tea.Msg {
		switch msg := cmd().(type) {
		case nil, routed, tea.QuitMsg:
			return msg
		case tea.BatchMsg:
			cmds := make(tea.BatchMsg, len(msg))
			for i, c := range msg {
				cmds[i] = route(s, c)
			}
			return cmds
		default:
			return routed{to: s, msg: msg}
		}
	}
}

// maxNoteLines bounds the footer's sentence; the rest of the screen keeps
// its rows.
const maxNoteLines = 3

// Model is one session of the staff TUI.
type Model struct {
	c      *Common
	deps   Deps
	cancel context.CancelFunc
	stack  []screen
	roster *rosterScreen
	help   help.Model

	// live delivers the organization's changes (nil without Deps.Live);
	// missed are those the screens under the top one have not seen yet.
	live   <-chan []store.Change
	missed map[screen]liveMsg
	ahead  atomic.Pointer[prefetch] // the top screen's, published after each Update

	// pending are keys typed while the top screen was busy (a page, a
	// profile or a check on its way): they apply, in order, once it is
	// not, so "tab space" marks a row of the filtered list however fast
	// it is typed.
	pending []tea.KeyMsg

	footer      string // note and short help, rendered when they change
	footerLines int
	footerKey   footerKey
}

type footerKey struct {
	top    screen
	note   note
	typing bool
	width  int
	extra  string
}

// New builds the TUI for one session. The Model owns c from here on.
func New(c Common, deps Deps) *Model {
	if c.Ctx == nil {
		c.Ctx = context.Background()
	}
	ctx, cancel := context.WithCancel(c.Ctx)
	c.Ctx = ctx
	if c.Styles == nil {
		// Only right for a local terminal; over SSH the caller passes
		// styles built from the session's renderer.
		c.Styles = NewStyles(lipgloss.DefaultRenderer())
	}
	if c.KeyMap.Quit.Keys() == nil {
		c.KeyMap = DefaultKeyMap(c.Styles.ASCII)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if c.Width == 0 {
		c.Width, c.Height = 80, 24
	}
	m := &Model{c: &c, deps: deps, cancel: cancel, help: c.Styles.Help(), missed: map[screen]liveMsg{}}
	m.c.nav = m
	if deps.Live != nil && c.Org != nil {
		// Before the first page is read, so no change after it is missed.
		ch, stop := deps.Live.Subscribe(c.Org.ID)
		context.AfterFunc(ctx, stop)
		m.live = ch
	}
	m.roster = newRoster(m.c, deps)
	m.stack = []screen{m.roster}
	m.layout()
	return m
}

// Init loads the first page of the roster and its counts, and starts
// listening for changes.
func (m *Model) Init() tea.Cmd { return tea.Batch(route(m.roster, m.roster.Init()), m.listen()) }

// listen waits for the next batch of changes; Update asks again each time.
func (m *Model) listen() tea.Cmd {
	ch, ctx, ahead := m.live, m.c.Ctx, &m.ahead
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		select {
		case <-ctx.Done():
			return nil
		case b, ok := <-ch:
			if !ok {
				return nil
			}
			msg := newLiveMsg(b)
			if p := ahead.Load(); p != nil {
				msg.ahead = p.run(b, msg.seq)
			}
			return msg
		}
	}
}

// onLive gives a batch of changes to the screen on view, and keeps it for
// the others until they are.
func (m *Model) onLive(msg liveMsg) tea.Cmd {
	cmds := []tea.Cmd{m.listen()}
	if m.c.StaffChanged != nil && slices.ContainsFunc(msg.changes, store.Change.ConcernsStaff) {
		select {
		case m.c.StaffChanged <- struct{}{}:
		default: // a check is already due
		}
	}
	if slices.ContainsFunc(msg.changes, store.Change.ConcernsOrg) {
		ctx, id, roster := m.c.Ctx, m.c.Org.ID, m.deps.Roster
		cmds = append(cmds, func() tea.Msg {
			o, err := roster.Org(ctx, id)
			return orgMsg{o, err}
		})
	}
	for _, s := range m.stack[:len(m.stack)-1] {
		m.missed[s] = m.missed[s].merge(msg, m.c.Org.ID)
	}
	cmds = append(cmds, m.deliver(m.top(), msg))
	return tea.Batch(cmds...)
}

func (m *Model) top() screen { return m.stack[len(m.stack)-1] }

func (m *Model) push(s screen, cmds ...tea.Cmd) tea.Cmd {
	m.stack = append(m.stack, s)
	m.footerKey = footerKey{}
	m.layout()
	return route(s, tea.Batch(cmds...))
}

func (m *Model) pop(n *note, changed bool) tea.Cmd {
	if len(m.stack) > 1 {
		if c, ok := m.top().(closer); ok {
			c.close()
		}
		delete(m.missed, m.top())
		m.stack = m.stack[:len(m.stack)-1]
	}
	if n != nil {
		if s, ok := m.top().(noteTaker); ok {
			s.setNote(*n)
		}
	}
	m.footerKey = footerKey{}
	m.layout()
	if changed {
		// Every screen reads again: that covers what they missed.
		clear(m.missed)
		return m.broadcast(changedMsg{})
	}
	if missed, ok := m.missed[m.top()]; ok {
		delete(m.missed, m.top())
		return m.deliver(m.top(), missed)
	}
	return nil
}

func (m *Model) quit() tea.Cmd {
	m.cancel()
	return tea.Quit
}

// quitAsking quits, first asking when customers are marked: marks live only
// in the session, and a q meant for another screen would lose thousands of
// them. ctrl+c (DESIGN §4) still quits at once.
func (m *Model) quitAsking() tea.Cmd {
	n := m.roster.marks.Len()
	if n == 0 {
		return m.quit()
	}
	g := m.c.Styles.Glyphs
	a := newAsk(m.c, plural(n, "marked customer")+" will not be invited"+g.Dash+"quit anyway?", "quit", "Not quitting; the marks stay.", nil, nil)
	a.details = []string{"Marks last only as long as this session: " + m.c.KeyMap.BulkInvite.Help().Key + " on the roster invites them."}
	a.now = m.quit
	return m.push(a)
}

// Update routes a message and keeps the layout in step with the footer.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	m.layout()
	if len(m.pending) > 0 {
		cmd = tea.Batch(cmd, m.replay())
	}
	if m.live != nil {
		var next *prefetch
		if p, ok := m.top().(prefetcher); ok {
			next = p.prefetch()
		}
		m.ahead.Store(next)
	}
	return m, cmd
}

// busy is whether keys should wait: the top screen has asked for what they
// act on and it is not there yet.
func (m *Model) busy() bool {
	b, ok := m.top().(busier)
	return ok && b.busy()
}

func (m *Model) replay() tea.Cmd {
	var cmds []tea.Cmd
	for len(m.pending) > 0 && !m.busy() {
		k := m.pending[0]
		m.pending = m.pending[1:]
		cmds = append(cmds, m.key(k))
		m.layout()
	}
	return tea.Batch(cmds...)
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	km := &m.c.KeyMap
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.c.Width, m.c.Height = msg.Width, msg.Height
		m.footerKey = footerKey{} // force a re-layout of every screen
		for _, s := range m.stack {
			s.SetSize(m.c.Width, m.bodyHeight())
		}
		return route(m.roster, m.roster.ensure())
	case tea.KeyMsg:
		if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
			// Keys that arrive in one read (a script, tmux send-keys, a
			// fast typist over SSH) come as one message; each is a key of
			// the key map.
			var cmds []tea.Cmd
			for _, r := range msg.Runes {
				k := tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt}
				if r == ' ' {
					k.Type = tea.KeySpace
				}
				cmds = append(cmds, m.update(k))
				m.layout()
			}
			return tea.Batch(cmds...)
		}
		if key.Matches(msg, km.ForceQuit) {
			return m.quit()
		}
		if len(m.pending) > 0 || m.busy() {
			m.pending = append(m.pending, msg)
			return nil
		}
		return m.key(msg)
	case routed:
		if slices.Contains(m.stack, msg.to) {
			return m.deliver(msg.to, msg.msg)
		}
		return nil // its screen has closed
	case changedMsg, marksDoneMsg:
		return m.broadcast(msg)
	case liveMsg:
		return m.onLive(msg)
	case orgMsg:
		if msg.err != nil || msg.org == nil || msg.org.ID != m.c.Org.ID {
			return nil // the settings shown stay; the next change tries again
		}
		// A new value, never a write to the old one: commands under way
		// hold the old pointer.
		m.c.Org = msg.org
		return m.broadcast(msg)
	}
	// Nothing else is for a screen: their results come routed.
	return nil
}

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	km := &m.c.KeyMap
	top := m.top()
	if !top.Typing() {
		_, takes := top.(quitTaker)
		switch {
		case key.Matches(msg, km.Quit) && !takes:
			return m.quitAsking()
		case key.Matches(msg, km.Help):
			if _, ok := top.(*helpScreen); !ok {
				return m.push(newHelp(m.c, top))
			}
		}
	}
	return m.deliver(top, msg)
}

// deliver gives msg to s; what s asks for in return comes back to s.
func (m *Model) deliver(s screen, msg tea.Msg) tea.Cmd { return route(s, s.Update(msg)) }

func (m *Model) broadcast(msg tea.Msg) tea.Cmd {
	var cmds []tea.Cmd
	for _, s := range slices.Clone(m.stack) {
		if cmd := m.deliver(s, msg); cmd != nil {
			cmds = append(cmds, cmd)
		}
	}
	return tea.Batch(cmds...)
}

func (m *Model) bodyHeight() int { return max(1, m.c.Height-1-m.footerLines) }

// layout renders the footer when what it shows changed, and resizes the top
// screen when the footer's height did: View itself must stay a pure read.
func (m *Model) layout() {
	top := m.top()
	n := top.Note()
	k := footerKey{top: top, note: n, typing: top.Typing(), width: m.c.Width}
	if h, ok := top.(helpKeyer); ok {
		k.extra = h.helpKey()
	}
	if k == m.footerKey {
		return
	}
	m.footerKey = k
	s := m.c.Styles
	var lines []string
	if n.text != "" {
		for _, l := range wrap(n.text, m.c.Width) {
			if len(lines) == maxNoteLines {
				break
			}
			lines = append(lines, s.note(note{l, n.tone}))
		}
	}
	if len(lines) == 0 {
		lines = []string{""}
	}
	m.help.Width = m.c.Width
	// The help bubble always shows its first item, even when that does not
	// fit a very narrow terminal.
	lines = append(lines, clip(m.help.ShortHelpView(top.ShortHelp()), m.c.Width))
	m.footer = strings.Join(lines, "\n")
	m.footerLines = len(lines) - 1
	for _, s := range m.stack {
		s.SetSize(m.c.Width, m.bodyHeight())
	}
}

// View draws the top screen and the footer. It does no I/O and allocates
// little: it runs after every message.
func (m *Model) View() string {
	body := m.top().View()
	// Screens draw to their height; a short body is padded so the footer
	// stays at the bottom.
	if n := m.bodyHeight() - (strings.Count(body, "\n") + 1); n > 0 {
		body += strings.Repeat("\n", n)
	}
	return body + "\n" + m.footer
}

var _ tea.Model = (*Model)(nil)

package tui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// KeyMap is DESIGN §4's key map. People and scripts rely on these keys, so
// changing one is a design change, not a tweak.
type KeyMap struct {
	Search     key.Binding // roster: focus the search
	KeepSearch key.Binding // search: keep the filter, back to the table
	ClearInput key.Binding // search: clear it; editor: cancel
	NextFilter key.Binding
	PrevFilter key.Binding

	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Home     key.Binding
	End      key.Binding
	Arrows   key.Binding // up and down only: the list keys that are no letters

	Open       key.Binding // roster: open the profile
	Mark       key.Binding // roster: mark/unmark for bulk invite
	MarkAll    key.Binding // roster: mark every customer the search and filter select
	ClearMarks key.Binding // roster: unmark everyone
	BulkInvite key.Binding // roster: invite the marked customers
	Invite     key.Binding // roster row, profile: invite (or resend)
	EditEmail  key.Binding // profile
	Reset      key.Binding // profile: send a password-reset link (claimed customers)
	ClaimHere  key.Binding // profile: show a claim link as a QR code at the desk
	Outbox     key.Binding // roster: the outbox screen
	Add        key.Binding // roster: add a customer
	Edit       key.Binding // profile: edit the customer's details
	Archive    key.Binding // profile: archive the customer
	Restore    key.Binding // profile, roster's Archived filter: restore an archived customer
	Withdraw   key.Binding // profile: withdraw the outstanding invite
	NextField  key.Binding // customer form
	PrevField  key.Binding // customer form
	Confirm    key.Binding // confirmation: send / save
	Save       key.Binding // email editor: save (y is a letter there)
	Suggest    key.Binding // email editor: take the address a typo warning suggests
	Back       key.Binding // cancel, close, go back; never quits the roster
	Help       key.Binding
	Quit       key.Binding // not while typing; on a profile, back; asks first with marks set
	ForceQuit  key.Binding // always
}

// DefaultKeyMap returns the key map with help labels for the terminal: arrows
// where Unicode is safe, words where it is not.
func DefaultKeyMap(ascii bool) KeyMap {
	up, down, arrows := "↑/k", "↓/j", "↑/↓"
	if ascii {
		up, down, arrows = "up/k", "down/j", "up/down"
	}
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return KeyMap{
		Search:     b([]string{"/"}, "/", "search"),
		KeepSearch: b([]string{"enter"}, "enter", "keep filter"),
		ClearInput: b([]string{"esc"}, "esc", "clear"),
		NextFilter: b([]string{"tab"}, "tab", "status"),
		PrevFilter: b([]string{"shift+tab"}, "shift+tab", "previous status"),

		Up:       b([]string{"up", "k"}, up, "up"),
		Down:     b([]string{"down", "j"}, down, "down"),
		PageUp:   b([]string{"pgup"}, "pgup", "page up"),
		PageDown: b([]string{"pgdown"}, "pgdn", "page down"),
		Home:     b([]string{"home", "g"}, "home/g", "first"),
		End:      b([]string{"end", "G"}, "end/G", "last"),
		Arrows:   b([]string{"up", "down"}, arrows, "move"),

		Open: b([]string{"enter"}, "enter", "open"),
		Mark: b([]string{" "}, "space", "mark"),
		// ctrl+a, not a letter: the customer form's keys take A for
		// archive, and marking thousands should not be one slip away.
		MarkAll:    b([]string{"ctrl+a"}, "ctrl+a", "mark all"),
		ClearMarks: b([]string{"U"}, "U", "clear marks"),
		BulkInvite: b([]string{"I"}, "I", "bulk invite"),
		Invite:     b([]string{"i"}, "i", "invite"),
		EditEmail:  b([]string{"e"}, "e", "edit email"),
		Reset:      b([]string{"r"}, "r", "reset password"),
		ClaimHere:  b([]string{"c"}, "c", "claim here"),
		Outbox:     b([]string{"o"}, "o", "outbox"),
		Add:        b([]string{"a"}, "a", "add customer"),
		Edit:       b([]string{"E"}, "E", "edit details"),
		Archive:    b([]string{"A"}, "A", "archive"),
		Restore:    b([]string{"R"}, "R", "restore"),
		Withdraw:   b([]string{"X"}, "X", "withdraw invite"),
		NextField:  b([]string{"tab", "down"}, "tab", "next field"),
		PrevField:  b([]string{"shift+tab", "up"}, "shift+tab", "previous field"),
		Confirm:    b([]string{"enter", "y"}, "enter/y", "send"),
		Save:       b([]string{"enter"}, "enter", "save"),
		Suggest:    b([]string{"tab"}, "tab", "use the suggestion"),
		Back:       b([]string{"esc", "n"}, "esc/n", "back"),
		Help:       b([]string{"?"}, "?", "help"),
		Quit:       b([]string{"q"}, "q", "quit"),
		ForceQuit:  b([]string{"ctrl+c"}, "ctrl+c", "quit"),
	}
}

// with returns b with another help description: the same key means "cancel"
// on a confirmation and "back" on a profile.
func with(b key.Binding, desc string) key.Binding {
	b.SetHelp(b.Help().Key, desc)
	return b
}

// scrollKeys are the list movements, for help.
func (k KeyMap) scrollKeys() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End}
}

// movement is what a movement key asks of a list: the roster's window and
// every pager (profile, help, bulk summary) apply the same ones, each in its
// own way.
type movement int

const (
	noMove movement = iota
	moveUp
	moveDown
	movePageUp
	movePageDown
	moveFirst
	moveLast
)

// movement is the one place movement keys are read: a new movement key is
// added to the key map and here, and every list and pager follows. While
// typing, letters (j, k, g, G) are text and home and end move the input's
// cursor, so only the arrows and the page keys move the list.
func (k KeyMap) movement(msg tea.KeyMsg, typing bool) movement {
	if typing && msg.Type == tea.KeyRunes {
		return noMove
	}
	var mv movement
	switch {
	case key.Matches(msg, k.Up):
		mv = moveUp
	case key.Matches(msg, k.Down):
		mv = moveDown
	case key.Matches(msg, k.PageUp):
		mv = movePageUp
	case key.Matches(msg, k.PageDown):
		mv = movePageDown
	case key.Matches(msg, k.Home):
		mv = moveFirst
	case key.Matches(msg, k.End):
		mv = moveLast
	default:
		return noMove
	}
	if typing && (mv == moveFirst || mv == moveLast) {
		return noMove
	}
	return mv
}

package tui

import "github.com/charmbracelet/bubbles/key"

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
	BulkInvite key.Binding // roster: invite the marked customers
	Invite     key.Binding // roster row, profile: invite (or resend)
	EditEmail  key.Binding // profile
	Reset      key.Binding // profile: send a password-reset link (claimed customers)
	Confirm    key.Binding // confirmation: send / save
	Save       key.Binding // email editor: save (y is a letter there)
	Back       key.Binding // cancel, close, go back; never quits the roster
	Help       key.Binding
	Quit       key.Binding // not while typing
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

		Open:       b([]string{"enter"}, "enter", "open"),
		Mark:       b([]string{" "}, "space", "mark"),
		BulkInvite: b([]string{"I"}, "I", "bulk invite"),
		Invite:     b([]string{"i"}, "i", "invite"),
		EditEmail:  b([]string{"e"}, "e", "edit email"),
		Reset:      b([]string{"r"}, "r", "reset password"),
		Confirm:    b([]string{"enter", "y"}, "enter/y", "send"),
		Save:       b([]string{"enter"}, "enter", "save"),
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

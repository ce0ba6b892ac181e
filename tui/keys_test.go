package tui

import (
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// The movement keys are read in one place: browsing, every key of the key
// map moves; while typing, letters and home/end belong to the input.
func TestMovementKeys(t *testing.T) {
	k := DefaultKeyMap(false)
	for _, c := range []struct {
		key            string
		browse, typing movement
	}{
		{"<up>", moveUp, moveUp}, {"k", moveUp, noMove},
		{"<down>", moveDown, moveDown}, {"j", moveDown, noMove},
		{"<pgup>", movePageUp, movePageUp}, {"<pgdown>", movePageDown, movePageDown},
		{"<home>", moveFirst, noMove}, {"g", moveFirst, noMove},
		{"<end>", moveLast, noMove}, {"G", moveLast, noMove},
		{"x", noMove, noMove}, {"<enter>", noMove, noMove}, {"<space>", noMove, noMove},
	} {
		msg := keys(c.key)[0].(tea.KeyMsg)
		if got := k.movement(msg, false); got != c.browse {
			t.Errorf("%s browsing: %v, want %v", c.key, got, c.browse)
		}
		if got := k.movement(msg, true); got != c.typing {
			t.Errorf("%s typing: %v, want %v", c.key, got, c.typing)
		}
	}
}

package tui

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"

	"frontdesk/store"
)

// Mark two customers who can be invited, one who claimed and one without an
// email; the summary says who is skipped and why, the run sends two, and
// the roster shows them invited with the marks gone.
func TestBulkWithSkips(t *testing.T) {
	f := newFixture(t, 60)
	ctx := context.Background()
	before, err := f.db.RosterCounts(ctx, f.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	claimed := f.customer(t, store.StatusClaimed)
	noEmail := f.customer(t, store.StatusNoEmail)
	s := startTUI(t, f.model(f.owner, 120, 40), 120, 40)
	waitFor(t, s, "Harbor Yoga")
	// Not invited: mark the first two. Claimed: the first. No email: the
	// first. Past Archived, back to All.
	typeKeys(s, "<tab>", " ", " ", "<tab>", "<tab>", "<tab>", "<tab>", " ", "<tab>", " ", "<tab>", "<tab>")
	waitFor(t, s, "4 marked | I invites them")
	typeKeys(s, "I")
	waitFor(t, s, "Bulk invite | 4 marked customers", "2 customers will get an invite; links expire Mon 30 Nov 2026 at 14:05 GMT.",
		"Skipped (2)", "1 already claimed: "+claimed.Name(), "1 no email address: "+noEmail.Name(), "enter/y send 2 invites")
	typeKeys(s, "y")
	waitFor(t, s, "Bulk invite: Sent 2 | failed 0 | skipped 2.")
	typeKeys(s, "<enter>")
	waitFor(t, s, "Bulk invite: Sent 2 | failed 0 | skipped 2.", fmt.Sprintf("[All %d]", f.live(t)))
	view := finalView(t, s)
	if strings.Contains(view, "marked") {
		t.Fatalf("marks left after the run:\n%s", view)
	}
	after, err := f.db.RosterCounts(ctx, f.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after[store.StatusInvited] != before[store.StatusInvited]+2 || after[store.StatusNotInvited] != before[store.StatusNotInvited]-2 {
		t.Fatalf("counts before %v, after %v", before, after)
	}
	if files, _ := filepath.Glob(filepath.Join(f.mailDir, "*.eml")); len(files) != 2 {
		t.Fatalf("%d messages written, want 2", len(files))
	}
}

// The screens, drawn at 80x24 in ASCII, as goldens.
func TestScreensGolden(t *testing.T) {
	f := newFixture(t, 60)
	invited := f.customer(t, store.StatusInvited)
	for _, tc := range []struct {
		name   string
		staff  func() *store.Staff
		script []string
	}{
		{"profile", func() *store.Staff { return f.owner }, []string{"<enter>"}},
		{"profile_scrolled", func() *store.Staff { return f.owner }, []string{"<enter>", "<pgdown>"}},
		{"profile_staff_role", func() *store.Staff { return f.desk }, []string{"<enter>", "e"}},
		{"email_editor", func() *store.Staff { return f.owner }, []string{"<enter>", "e", "<ctrl+u>", "ann@example"}},
		{"email_editor_pending_invite", func() *store.Staff { return f.owner }, []string{"/", strings.ToLower(invited.Email), "<enter>", "<enter>", "e", "<backspace>", "g"}},
		{"confirm", func() *store.Staff { return f.owner }, []string{"<tab>", "i"}},
		{"confirm_resend", func() *store.Staff { return f.owner }, []string{"/", strings.ToLower(invited.Email), "<enter>", "i"}},
		{"bulk_summary", func() *store.Staff { return f.owner }, []string{"<tab>", " ", " ", "<shift+tab>", "<shift+tab>", "<shift+tab>", " ", "I"}},
		{"search", func() *store.Staff { return f.owner }, []string{"/", "har"}},
		{"filter_expired", func() *store.Staff { return f.owner }, []string{"<tab>", "<tab>", "<tab>"}},
		{"refusal_no_email", func() *store.Staff { return f.owner }, []string{"<shift+tab>", "<shift+tab>", "i"}},
		{"mark_all_ask", func() *store.Staff { return f.owner }, []string{"/", "gmail", "<enter>", "<tab>", "<ctrl+a>"}},
		{"mark_all_done", func() *store.Staff { return f.owner }, []string{"/", "gmail", "<enter>", "<tab>", "<ctrl+a>", "<enter>"}},
		{"quit_with_marks", func() *store.Staff { return f.owner }, []string{" ", " ", "q"}},
		{"narrow_40x12", func() *store.Staff { return f.owner }, []string{"<resize 40x12>"}},
		{"customer_form_add", func() *store.Staff { return f.owner }, []string{"a", "Jo", "<tab>", "<tab>", "jo@gmial.com"}},
		{"customer_form_edit", func() *store.Staff { return f.owner }, []string{"/", strings.ToLower(invited.Email), "<enter>", "<enter>", "E", "<tab>", "<tab>", "<backspace>", "g"}},
		{"archive_confirm", func() *store.Staff { return f.owner }, []string{"/", strings.ToLower(invited.Email), "<enter>", "<enter>", "A"}},
		{"withdraw_confirm", func() *store.Staff { return f.owner }, []string{"/", strings.ToLower(invited.Email), "<enter>", "<enter>", "X"}},
		{"archived_filter", func() *store.Staff { return f.owner }, []string{"<shift+tab>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := f.model(tc.staff(), 80, 24)
			drive(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
			for _, k := range tc.script {
				if k == "<resize 40x12>" {
					drive(t, m, tea.WindowSizeMsg{Width: 40, Height: 12})
					continue
				}
				drive(t, m, keys(k)...)
			}
			golden.RequireEqual(t, []byte(m.View()))
		})
	}
}

package tui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"frontdesk/store"
	"frontdesk/store/storetest"
)

// filterTabs is how many tab presses put the roster's filter on a status
// (from All).
var filterTabs = map[store.Status]int{store.StatusNotInvited: 1, store.StatusInvited: 2, store.StatusClaimed: 5}

// openProfile drives a fresh model to the profile of the first customer
// with status st.
func (f *fixture) openProfile(t *testing.T, staff *store.Staff, st store.Status) (*Model, store.RosterRow) {
	t.Helper()
	c := f.customer(t, st)
	m := f.model(staff, 120, 40)
	drive(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	for range filterTabs[st] {
		drive(t, m, keys("<tab>")...)
	}
	drive(t, m, keys("<enter>")...)
	if v := m.View(); !strings.Contains(v, "Member since") || !strings.Contains(v, c.Name()) {
		t.Fatalf("profile of %s not open:\n%s", c.Name(), v)
	}
	return m, c
}

// rows counts what staff writes leave: invites, outbox messages, audit rows.
func (f *fixture) rows(t *testing.T) [3]int {
	t.Helper()
	var n [3]int
	err := storetest.Raw(t, f.db).QueryRowContext(context.Background(), `SELECT (SELECT count(*) FROM invites), (SELECT count(*) FROM outbox), (SELECT count(*) FROM audit)`).
		Scan(&n[0], &n[1], &n[2])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) mails(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(f.mailDir, "*.eml"))
	var out []string
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

// For a customer who has not claimed, changing the email cancels the live
// invite and says so, as before.
func TestEmailChangeWordingUnclaimed(t *testing.T) {
	f := newFixture(t, 60)
	m, c := f.openProfile(t, f.owner, store.StatusInvited)
	drive(t, m, keys("e")...)
	drive(t, m, keys("<ctrl+u>", "new.address@example.com")...)
	if v := m.View(); !strings.Contains(v, "Saving cancels the outstanding invite") || strings.Contains(v, "notice") {
		t.Fatalf("editor's warning for an invited customer:\n%s", v)
	}
	drive(t, m, keys("<enter>")...)
	if got, want := m.top().Note().text, "Email changed to new.address@example.com. The outstanding invite was cancelled - press i to send one to the new address."; got != want {
		t.Fatalf("after saving:\n got: %s\nwant: %s", got, want)
	}
	if mails := f.mails(t); len(mails) != 0 {
		t.Fatalf("%d messages sent for an unclaimed customer's email change, want none", len(mails))
	}
	got, _ := f.db.Customer(context.Background(), f.org.ID, c.ID)
	if got.Status != store.StatusNotInvited {
		t.Errorf("status %s, want not invited", got.Status)
	}
}

// For a customer who has claimed, the address is their sign-in: the editor
// says beforehand what will happen, and afterwards what did: they sign in
// with the new address, both addresses got a notice, and a reset link to
// the old one stopped working. The status stays Claimed.
func TestEmailChangeWordingClaimed(t *testing.T) {
	f := newFixture(t, 60)
	ctx := context.Background()
	c := f.customer(t, store.StatusClaimed)
	if _, err := f.svc.Issue(ctx, f.owner, c.ID, store.PurposeReset); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(f.mailDir) // the reset email is not what this test reads
	m, _ := f.openProfile(t, f.admin, store.StatusClaimed)
	name := c.Name()

	drive(t, m, keys("e", "<ctrl+u>")...)
	if v := m.View(); !strings.Contains(v, name+" signs in with this address, so it cannot be removed") {
		t.Fatalf("emptying a claimed customer's address:\n%s", v)
	}
	drive(t, m, keys("<enter>")...)
	if got := m.top().Note().text; !strings.HasPrefix(got, "Not saved: "+name+" signs in with this address") {
		t.Fatalf("saving an empty address: %s", got)
	}

	drive(t, m, keys("moved@example.net")...)
	want := "Email will change; " + name + " will sign in with the new address. A notice will go to both addresses. The outstanding password-reset link will be cancelled."
	if v := strings.Join(strings.Fields(m.View()), " "); !strings.Contains(v, want) {
		t.Fatalf("editor's warning lacks %q:\n%s", want, m.View())
	}
	drive(t, m, keys("<enter>")...)
	want = "Email changed; " + name + " signs in with the new address. A notice went to both addresses. The outstanding password-reset link was cancelled - it went to the old address."
	if got := m.top().Note().text; got != want {
		t.Fatalf("after saving:\n got: %s\nwant: %s", got, want)
	}
	if v := m.View(); !strings.Contains(v, "Claimed on") || !strings.Contains(v, "moved@example.net") {
		t.Errorf("profile after the change:\n%s", v)
	}
	got, _ := f.db.Customer(ctx, f.org.ID, c.ID)
	if got.Status != store.StatusClaimed || got.Email != "moved@example.net" {
		t.Errorf("customer now %s %s, want claimed with the new address", got.Email, got.Status)
	}
	var toOld, toNew int
	for _, eml := range f.mails(t) {
		switch {
		case strings.Contains(eml, "To: <"+c.Email+">"):
			toOld++
		case strings.Contains(eml, "To: <moved@example.net>"):
			toNew++
		}
		if strings.Contains(eml, "/reset/") || strings.Contains(eml, "/claim/") {
			t.Errorf("a notice carries a token link:\n%s", eml)
		}
	}
	if toOld != 1 || toNew != 1 {
		t.Errorf("notices written: %d to the old address, %d to the new; want one each", toOld, toNew)
	}
}

// r on a claimed customer's profile: a confirmation naming the address and
// the hour the link works, then the outcome in words; the history shows it.
func TestResetFromProfile(t *testing.T) {
	f := newFixture(t, 60)
	m, c := f.openProfile(t, f.owner, store.StatusClaimed)
	drive(t, m, keys("r")...)
	v := m.View()
	for _, want := range []string{"Send " + c.Name() + " a password-reset link?", c.Email, "Mon 23 Nov 2026 at 15:05 GMT", "Any reset link sent before stops working"} {
		if !strings.Contains(v, want) {
			t.Fatalf("confirmation lacks %q:\n%s", want, v)
		}
	}
	drive(t, m, keys("n")...)
	if got := m.top().Note().text; got != "Password-reset link not sent." {
		t.Fatalf("after n: %s", got)
	}
	if len(f.mails(t)) != 0 {
		t.Fatal("n sent something")
	}
	drive(t, m, keys("r", "y")...)
	if got, want := m.top().Note().text, "Password-reset link sent to "+c.Email+" - link expires Mon 23 Nov 2026 at 15:05 GMT."; got != want {
		t.Fatalf("outcome\n got: %s\nwant: %s", got, want)
	}
	if v := m.View(); !strings.Contains(v, "Password reset by Maya Harbor to "+c.Email) {
		t.Errorf("history lacks the reset:\n%s", v)
	}
	mails := f.mails(t)
	if len(mails) != 1 || !strings.Contains(mails[0], "/reset/") || !strings.Contains(mails[0], "Harbor Yoga sent you this email") {
		t.Fatalf("reset emails written: %q", mails)
	}

	// Not for a customer who has not claimed: that is what i is for.
	m, c = f.openProfile(t, f.owner, store.StatusNotInvited)
	before := f.rows(t)
	drive(t, m, keys("r")...)
	if got, want := m.top().Note().text, c.Name()+" has not claimed their account yet, so there is no password to reset - press i to invite them to claim it."; got != want {
		t.Fatalf("r on an unclaimed customer\n got: %s\nwant: %s", got, want)
	}
	if f.rows(t) != before {
		t.Error("a refused reset wrote something")
	}
}

// The staff role sees r, disabled with the reason, like i and e.
func TestResetRefusedForStaffRole(t *testing.T) {
	f := newFixture(t, 60)
	m, _ := f.openProfile(t, f.desk, store.StatusClaimed)
	before := f.rows(t)
	drive(t, m, keys("r")...)
	if got, want := m.top().Note().text, "Your role cannot manage customers, so it cannot send password-reset links - ask an owner or admin."; got != want {
		t.Fatalf("r as staff\n got: %s\nwant: %s", got, want)
	}
	if v := m.View(); !strings.Contains(v, "r reset (owner/admin)") {
		t.Errorf("short help lacks the disabled r:\n%s", v)
	}
	if f.rows(t) != before || len(f.mails(t)) != 0 {
		t.Error("a refused reset wrote something")
	}
}

// A member removed, or demoted to staff, while their session is open is
// refused at the next write, with what changed, and nothing is written:
// the session's *store.Staff is not trusted.
func TestAccessChangedRefusedAtOnce(t *testing.T) {
	for _, change := range []struct {
		name, want string
		apply      func(t *testing.T, f *fixture)
	}{
		{"removed", "Your access changed: you are no longer on this organization's staff, so you cannot send the invite. Nothing was sent or saved; ask an owner if this is a mistake.",
			func(t *testing.T, f *fixture) {
				if err := f.db.Tx(context.Background(), func(tx *store.Tx) error { return tx.RemoveStaff(context.Background(), f.org.ID, f.admin.ID) }); err != nil {
					t.Fatal(err)
				}
			}},
		{"demoted", "Your access changed: your role is now staff, which cannot manage customers, so you cannot send the invite. Nothing was sent or saved; ask an owner or admin.",
			func(t *testing.T, f *fixture) {
				if _, err := storetest.Raw(t, f.db).ExecContext(context.Background(), `UPDATE staff SET role = 'staff' WHERE id = ?`, f.admin.ID); err != nil {
					t.Fatal(err)
				}
			}},
	} {
		t.Run(change.name, func(t *testing.T) {
			f := newFixture(t, 60)
			c := f.customer(t, store.StatusNotInvited)
			m := f.model(f.admin, 120, 40)
			drive(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
			// The confirmation is open when the change happens.
			drive(t, m, keys("<tab>", "i")...)
			if v := m.View(); !strings.Contains(v, "Invite "+c.Name()+" to claim their account?") {
				t.Fatalf("confirmation not open:\n%s", v)
			}
			change.apply(t, f)
			before := f.rows(t)
			drive(t, m, keys("y")...)
			if got, want := m.top().Note().text, "Not sent: "+change.want; got != want {
				t.Fatalf("sending after the change\n got: %s\nwant: %s", got, want)
			}
			// And i is refused at once, before any confirmation.
			drive(t, m, keys("i")...)
			if got := m.top().Note().text; got != change.want {
				t.Fatalf("i after the change\n got: %s\nwant: %s", got, change.want)
			}
			// So are the email editor and r.
			drive(t, m, keys("<enter>", "e", "<ctrl+u>", "other@example.com", "<enter>")...)
			if got := m.top().Note().text; !strings.HasPrefix(got, "Not saved: Your access changed: ") || !strings.Contains(got, "so you cannot change the email.") {
				t.Fatalf("email change after the change: %s", got)
			}
			drive(t, m, keys("<esc>", "r")...)
			if got := m.top().Note().text; !strings.HasPrefix(got, "Your access changed: ") || !strings.Contains(got, "so you cannot send a password-reset link.") {
				t.Fatalf("r after the change: %s", got)
			}
			if after := f.rows(t); after != before {
				t.Fatalf("invites, outbox, audit rows went from %v to %v", before, after)
			}
			if len(f.mails(t)) != 0 {
				t.Fatal("a message was written")
			}
			got, _ := f.db.Customer(context.Background(), f.org.ID, c.ID)
			if got.Email != c.Email || got.Status != store.StatusNotInvited {
				t.Fatalf("customer now %s %s", got.Email, got.Status)
			}
		})
	}
}

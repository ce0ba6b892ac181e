package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"

	"frontdesk/store"
	"frontdesk/store/storetest"
)

// actions is the customer's audit log, newest first, as "action: detail".
func (f *fixture) actions(t *testing.T, id int64) []string {
	t.Helper()
	log, err := f.db.AuditLog(context.Background(), f.org.ID, id, 20)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range log {
		out = append(out, e.Action+": "+e.Detail)
	}
	return out
}

// A walk-in added at the desk: the form checks as it is typed (the phone's
// digits, the address's typo with tab taking the fix), refuses an address
// another customer has in the email editor's words, and on saving opens
// the new customer's profile saying what to do next.
func TestAddWalkIn(t *testing.T) {
	f := newFixture(t, 60)
	other := f.customer(t, store.StatusClaimed)
	before := f.live(t)
	s := startTUI(t, f.model(f.owner, 80, 24), 80, 24)
	waitFor(t, s, "Harbor Yoga")

	typeKeys(s, "a")
	waitFor(t, s, "Add a customer", "Membership level", "Injuries / notes")
	typeKeys(s, "Walk", "<tab>", "In", "<tab>", strings.ToUpper(other.Email[:1])+other.Email[1:])
	waitFor(t, s, "Looks valid.")
	typeKeys(s, "<tab>", "call me")
	waitFor(t, s, "Phone has no digits; enter a number or leave it empty.")
	typeKeys(s, "<enter>")
	waitFor(t, s, "Not saved: fix what is marked.")
	typeKeys(s, "<ctrl+u>", "0161 496 8466", "<tab>", "Gold", "<enter>")
	waitFor(t, s, "Not saved: Another customer, "+other.Name()+", already uses this email")

	// The save put the cursor on the address.
	typeKeys(s, "<ctrl+u>", "walk.in@gmial.com")
	waitFor(t, s, "gmial.com looks like a typo", "tab to use walk.in@gmail.com")
	typeKeys(s, "<tab>")
	waitFor(t, s, "walk.in@gmail.com|")
	typeKeys(s, "<enter>")
	waitFor(t, s, "Walk In was added. Press i to invite them", "Membership level  Gold")
	golden.RequireEqual(t, []byte(finalView(t, s)))

	ctx := context.Background()
	rows, err := f.db.RosterPage(ctx, f.org.ID, store.RosterQuery{Search: "walk in"})
	if err != nil || len(rows) != 1 {
		t.Fatalf("the walk-in on the roster: %v, %v", rows, err)
	}
	c, err := f.db.Customer(ctx, f.org.ID, rows[0].ID)
	if err != nil || c.Email != "walk.in@gmail.com" || c.Phone != "0161 496 8466" || len(c.Fields) != 1 || c.Fields[0].Value != "Gold" || c.Status != store.StatusNotInvited {
		t.Errorf("the walk-in: %+v, %v", c, err)
	}
	if got := f.actions(t, c.ID); len(got) != 1 || !strings.HasPrefix(got[0], `customer.add: added "Walk In": email walk.in@gmail.com`) {
		t.Errorf("audit: %q", got)
	}
	if f.live(t) != before+1 {
		t.Errorf("roster of %d, want %d", f.live(t), before+1)
	}
}

// Editing from the profile: only what changed is saved, the email as the
// email editor saves it (the outstanding invite cancelled, said before and
// after), and the profile shows the result.
func TestEditCustomer(t *testing.T) {
	f := newFixture(t, 60)
	m, c := f.openProfile(t, f.owner, store.StatusInvited)
	drive(t, m, keys("E")...)
	if v := m.View(); !strings.Contains(v, "Edit customer") || !strings.Contains(v, "> "+c.FirstName) {
		t.Fatalf("the form:\n%s", v)
	}
	drive(t, m, keys("<ctrl+u>", "Renata", "<tab>", "<tab>", "<ctrl+u>", "renata@new.example")...)
	if v := strings.Join(strings.Fields(m.View()), " "); !strings.Contains(v, "Saving cancels the outstanding invite sent") {
		t.Fatalf("no warning of the invite a new address cancels:\n%s", m.View())
	}
	drive(t, m, keys("<tab>", "<ctrl+u>", "ask")...)
	if v := m.View(); !strings.Contains(v, "Phone has no digits") {
		t.Fatalf("no live check of the phone:\n%s", v)
	}
	drive(t, m, keys("<ctrl+u>", "0151 62185557", "<enter>")...)
	want := "Saved: first name, phone. Email changed to renata@new.example. The outstanding invite was cancelled - press i to send one to the new address."
	if got := m.top().Note().text; got != want {
		t.Fatalf("after saving:\n got: %s\nwant: %s", got, want)
	}
	if v := m.View(); !strings.Contains(v, "Renata "+c.LastName) || !strings.Contains(v, "0151 62185557") || !strings.Contains(v, "Not invited") {
		t.Errorf("profile after the edit:\n%s", v)
	}
	got := f.actions(t, c.ID)
	if !strings.HasPrefix(got[0], "customer.email: email "+c.Email+" → renata@new.example; 1 outstanding link(s) revoked") ||
		!strings.HasPrefix(got[1], `customer.edit: name "`+c.Name()+`" → "Renata `+c.LastName+`"; phone`) {
		t.Errorf("audit: %q", got[:2])
	}
	if rows, _ := f.db.RosterPage(context.Background(), f.org.ID, store.RosterQuery{Search: "renata 62185557"}); len(rows) != 1 || rows[0].ID != c.ID {
		t.Errorf("search by the new name and phone: %v", rows)
	}

	n := f.rows(t)
	drive(t, m, keys("E", "<enter>")...)
	if got := m.top().Note().text; got != "Nothing changed." {
		t.Errorf("saving an untouched form: %q", got)
	}
	drive(t, m, keys("E", "x", "<esc>")...)
	if got := m.top().Note().text; got != "Nothing changed." {
		t.Errorf("cancelling the form: %q", got)
	}
	if f.rows(t) != n {
		t.Errorf("an unchanged form wrote")
	}
}

// Archiving from the profile asks first and says what it did; the customer
// leaves the roster for the Archived filter (the last, with its count),
// where R brings them back.
func TestArchiveAndRestore(t *testing.T) {
	f := newFixture(t, 60)
	ctx := context.Background()
	c := f.customer(t, store.StatusInvited)
	counts, _ := f.db.RosterCounts(ctx, f.org.ID)
	archived, _ := f.db.ArchivedCount(ctx, f.org.ID)
	s := startTUI(t, f.model(f.owner, 80, 24), 80, 24)
	waitFor(t, s, "Harbor Yoga", fmt.Sprintf("Archived %d", archived))
	typeKeys(s, "<tab>", "<tab>")
	waitFor(t, s, "[Invited", ">  "+c.Name())
	typeKeys(s, "<enter>")
	waitFor(t, s, "Member since")

	typeKeys(s, "A")
	waitFor(t, s, "Archive "+c.Name()+"?", "The invite sent", "R brings them back")
	typeKeys(s, "n")
	waitFor(t, s, "Not archived.")
	typeKeys(s, "A")
	waitFor(t, s, "Archive "+c.Name()+"?")
	typeKeys(s, "y")
	waitFor(t, s, c.Name()+" was archived: off the roster, 1 link stopped working - press R", "Not on the roster")

	typeKeys(s, "<esc>")
	waitFor(t, s, fmt.Sprintf("[Invited %d]", counts[store.StatusInvited]-1))
	typeKeys(s, "<shift+tab>", "<shift+tab>", "<shift+tab>")
	waitFor(t, s, fmt.Sprintf("[Archived %d]", archived+1), c.Name())
	typeKeys(s, "/", strings.ToLower(c.Name()), "<enter>")
	waitFor(t, s, "1-1 of 1")
	typeKeys(s, "R")
	waitFor(t, s, c.Name()+" is back on the roster (Not invited). Links sent before they were", fmt.Sprintf("[Archived %d]", archived))
	golden.RequireEqual(t, []byte(finalView(t, s)))

	got, err := f.db.Customer(ctx, f.org.ID, c.ID)
	if err != nil || got.Archived || got.Status != store.StatusNotInvited {
		t.Errorf("restored customer: %+v, %v", got, err)
	}
	invs, _ := f.db.Invites(ctx, f.org.ID, c.ID)
	if st, why := invs[0].State(got, fixedNow); st != store.InviteRevoked || why != store.RevokeArchived {
		t.Errorf("the invite after restoring: %s %s", st, why)
	}
	actions := f.actions(t, c.ID)
	if !strings.HasPrefix(actions[0], "customer.restore:") || !strings.HasPrefix(actions[1], "customer.archive:") {
		t.Errorf("audit: %q", actions[:2])
	}
}

// Withdrawing the outstanding invite asks first, naming it; the history
// then says it was withdrawn; a customer without one is told so.
func TestWithdrawInviteFromProfile(t *testing.T) {
	f := newFixture(t, 60)
	m, c := f.openProfile(t, f.admin, store.StatusInvited)
	drive(t, m, keys("X")...)
	if v := m.View(); !strings.Contains(v, "Withdraw the invite to "+c.Name()+"?") || !strings.Contains(v, "Its page will say that Harbor Yoga withdrew") {
		t.Fatalf("the question:\n%s", v)
	}
	drive(t, m, keys("n")...)
	if got := m.top().Note().text; got != "Invite not withdrawn." {
		t.Errorf("cancelled: %q", got)
	}
	drive(t, m, keys("X", "y")...)
	want := "The invite sent to " + c.Email + " on "
	if got := m.top().Note().text; !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "was withdrawn: its link no longer works, and its page tells them to ask Harbor Yoga. Press i to send a new one.") {
		t.Errorf("after withdrawing: %q", got)
	}
	if v := m.View(); !strings.Contains(v, "withdrawn by staff") || !strings.Contains(v, "Not invited") {
		t.Errorf("profile after withdrawing:\n%s", v)
	}
	reason := ""
	storetest.Scan(t, f.db, `SELECT revoke_reason FROM invites WHERE customer_id = ? ORDER BY id DESC LIMIT 1`, []any{c.ID}, &reason)
	if reason != string(store.RevokeWithdrawn) {
		t.Errorf("revoke reason %q", reason)
	}
	if got := f.actions(t, c.ID); !strings.HasPrefix(got[0], "invite.revoke: invite to "+c.Email) {
		t.Errorf("audit: %q", got[0])
	}
	n := f.rows(t)
	drive(t, m, keys("X")...)
	if got := m.top().Note().text; got != c.Name()+" has no outstanding invite." {
		t.Errorf("nothing left to withdraw: %q", got)
	}
	if f.rows(t) != n {
		t.Errorf("a refused withdrawal wrote")
	}
}

// The staff role sees the keys and hears why they do nothing; nothing is
// written.
func TestStaffRoleCannotKeepTheRoster(t *testing.T) {
	f := newFixture(t, 60)
	n := f.rows(t)
	m, _ := f.openProfile(t, f.desk, store.StatusInvited)
	for _, c := range []struct{ key, what string }{
		{"E", "change customers' details"}, {"A", "archive customers"}, {"R", "restore customers"}, {"X", "withdraw invites"},
	} {
		drive(t, m, keys(c.key)...)
		if got, want := m.top().Note().text, "Your role cannot manage customers, so it cannot "+c.what+" - ask an owner or admin."; got != want {
			t.Errorf("%s: %q, want %q", c.key, got, want)
		}
	}
	drive(t, m, keys("<esc>", "a")...)
	if got := m.top().Note().text; got != "Your role cannot manage customers, so it cannot add customers - ask an owner or admin." {
		t.Errorf("a: %q", got)
	}
	drive(t, m, keys("R")...)
	if got := m.top().Note().text; !strings.HasPrefix(got, "R restores archived customers") {
		t.Errorf("R off the Archived filter: %q", got)
	}
	if f.rows(t) != n {
		t.Errorf("the staff role wrote")
	}
}

// What the form cannot show as it is stays as it is: a name with a control
// character an old import let through is shown escaped and not saved back
// unless staff change it, and a custom field of several lines is not
// edited in a one-line input.
func TestEditKeepsWhatItCannotShow(t *testing.T) {
	f := newFixture(t, 60)
	ctx := context.Background()
	c := f.customer(t, store.StatusNotInvited)
	storetest.Exec(t, f.db, `UPDATE customers SET last_name = last_name || char(27) || '[31m' WHERE id = ?`, c.ID)
	storetest.Exec(t, f.db, `INSERT INTO custom_field_values (customer_id, field_id, value)
		SELECT ?, id, 'left knee'||char(10)||'lower back' FROM custom_fields WHERE org_id = ? AND name = 'Injuries / notes'
		ON CONFLICT (customer_id, field_id) DO UPDATE SET value = excluded.value`, c.ID, f.org.ID)
	m := f.model(f.owner, 100, 30)
	drive(t, m, keys("/", strings.ToLower(c.Email), "<enter>", "<enter>", "E")...)
	v := m.View()
	if !strings.Contains(v, `> `+c.LastName+`\x1b[31m`) || strings.Contains(v, "\x1b") || !strings.Contains(v, "left knee... (several lines: not edited here)") {
		t.Fatalf("the form:\n%s", v)
	}
	drive(t, m, keys("<tab>", "<tab>", "<tab>", "<ctrl+u>", "0151 2345", "<enter>")...)
	if got := m.top().Note().text; got != "Saved: phone." {
		t.Fatalf("after saving: %q", got)
	}
	got, err := f.db.Customer(ctx, f.org.ID, c.ID)
	if err != nil || got.LastName != c.LastName+"\x1b[31m" || got.Phone != "0151 2345" {
		t.Errorf("customer after the edit: %q %q, %v", got.LastName, got.Phone, err)
	}
	for _, fv := range got.Fields {
		if fv.Name == "Injuries / notes" && fv.Value != "left knee\nlower back" {
			t.Errorf("the field of several lines became %q", fv.Value)
		}
	}
}

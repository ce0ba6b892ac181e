package tui

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"

	"frontdesk/mailer"
	"frontdesk/store"
)

// badEmailCustomer adds a customer whose stored email is invalid (an
// import let it through), as front desks meet them.
func badEmailCustomer(t *testing.T, f *fixture) *store.Customer {
	t.Helper()
	c := &store.Customer{OrgID: f.org.ID, FirstName: "Wanda", LastName: "Quill", Email: "wanda.quill@example", Phone: "07700 900123"}
	if err := f.db.Tx(context.Background(), func(tx *store.Tx) error { return tx.CreateCustomer(context.Background(), c) }); err != nil {
		t.Fatal(err)
	}
	if store.ValidateEmail(c.Email) == nil {
		t.Fatal("the email was meant to be invalid")
	}
	return c
}

// The newcomer's path: find a customer by part of the name, open the
// profile, fix the invalid email (meeting the duplicate check on the way),
// send an invite and read the outcome; roster and profile show the new
// status at once.
func TestSearchOpenEditInvite(t *testing.T) {
	f := newFixture(t, 60)
	c := badEmailCustomer(t, f)
	other := f.customer(t, store.StatusClaimed)
	s := startTUI(t, f.model(f.owner, 120, 40), 120, 40)
	waitFor(t, s, "Harbor Yoga")

	typeKeys(s, "/", strings.ToLower(c.Name()))
	waitFor(t, s, ">  "+c.Name())
	typeKeys(s, "<enter>", "<enter>")
	waitFor(t, s, "Member since", "invalid: ")

	typeKeys(s, "e")
	waitFor(t, s, "Edit email", "Not valid: ")
	typeKeys(s, "<ctrl+u>")
	waitFor(t, s, "Saving an empty email removes it")
	typeKeys(s, strings.ToUpper(other.Email[:1])+other.Email[1:], "<enter>")
	waitFor(t, s, "Not saved: Another customer, "+other.Name()+", already uses this email")

	const fixed = "fixed.address@example.com"
	typeKeys(s, "<ctrl+u>", fixed)
	waitFor(t, s, "> "+fixed+"|")
	typeKeys(s, "<enter>")
	waitFor(t, s, "Email changed to "+fixed+". Press i to send an invite.")

	typeKeys(s, "i")
	waitFor(t, s, "Invite "+c.Name()+" to claim their account?", fixed, "Mon 30 Nov 2026 at 14:05 GMT")
	typeKeys(s, "y")
	waitFor(t, s, "Invite sent to "+fixed+" - link expires Mon 30 Nov 2026 at 14:05 GMT")
	waitFor(t, s, "Invited - link expires Mon 30 Nov 2026 at 14:05 GMT")

	// Back on the roster the row shows the new status, and the header the
	// new counts.
	ctx := context.Background()
	counts, err := f.db.RosterCounts(ctx, f.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	typeKeys(s, "<esc>")
	waitFor(t, s, "Invited          expires Mon 30 Nov", fmt.Sprintf("Invited %d ", counts[store.StatusInvited]))
	golden.RequireEqual(t, []byte(finalView(t, s)))

	got, err := f.db.Customer(ctx, f.org.ID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != fixed || got.Status != store.StatusInvited {
		t.Fatalf("customer now %q %s, want %q invited", got.Email, got.Status, fixed)
	}
	files, _ := filepath.Glob(filepath.Join(f.mailDir, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("%d messages written, want 1", len(files))
	}
	if eml, _ := os.ReadFile(files[0]); !strings.Contains(string(eml), fixed) {
		t.Fatalf("message not to %s:\n%s", fixed, eml)
	}
	log, err := f.db.AuditLog(ctx, f.org.ID, c.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action)
	}
	if a := strings.Join(actions, " "); !strings.Contains(a, "customer.email") || !strings.Contains(a, "invite.send") {
		t.Fatalf("audit log: %s", a)
	}
}

// Resending names the link that stops working, and the history shows the
// superseded invite.
func TestResend(t *testing.T) {
	f := newFixture(t, 60)
	// A server with a fixed reply: the history quotes it, and the file
	// transport's names a file in the test's temporary directory.
	f.worker = &mailer.Worker{DB: f.db, Transport: fakeServer{reply: "250 2.0.0 Ok: queued as 4F2A1C0B9"}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	c := f.customer(t, store.StatusInvited)
	s := startTUI(t, f.model(f.admin, 120, 40), 120, 40)
	waitFor(t, s, "Harbor Yoga")
	typeKeys(s, "<tab>", "<tab>")
	waitFor(t, s, "[Invited", ">  "+c.Name())
	typeKeys(s, "<enter>")
	waitFor(t, s, "Member since")
	typeKeys(s, "i")
	waitFor(t, s, "Send "+c.Name()+" a new invite?", "stops working.")
	typeKeys(s, "n")
	waitFor(t, s, "Invite not sent.")
	typeKeys(s, "i")
	waitFor(t, s, "Send "+c.Name()+" a new invite?")
	typeKeys(s, "<enter>")
	waitFor(t, s, "Invite sent to ", "The earlier link no longer works.")
	waitFor(t, s, "revoked Mon 23 Nov 2026, 14:05: a newer invite was sent")
	golden.RequireEqual(t, []byte(finalView(t, s)))
}

func TestRefusals(t *testing.T) {
	t.Run("staff role", func(t *testing.T) {
		f := newFixture(t, 60)
		first := f.customer(t, "")
		s := startTUI(t, f.model(f.desk, 120, 40), 120, 40)
		waitFor(t, s, "Jo Front (staff)", first.Name(), "i invite (owner/admin)")
		typeKeys(s, "i")
		waitFor(t, s, "Your role cannot manage customers; ask an owner or admin to send the invite.")
		typeKeys(s, "<enter>")
		waitFor(t, s, "Member since", "Your role cannot manage customers; ask an owner or admin to send the invite.", "e edit email (owner/admin)")
		typeKeys(s, "e")
		waitFor(t, s, "Your role cannot manage customers, so it cannot change emails - ask an owner or admin.")
		typeKeys(s, "<esc>", " ", "I")
		waitFor(t, s, "Bulk invite", "Nobody to invite", "so it cannot send invites")
		finalView(t, s)
	})
	t.Run("claimed", func(t *testing.T) {
		f := newFixture(t, 60)
		c := f.customer(t, store.StatusClaimed)
		s := startTUI(t, f.model(f.owner, 120, 40), 120, 40)
		waitFor(t, s, "Harbor Yoga")
		typeKeys(s, "<tab>", "<tab>", "<tab>", "<tab>", "<tab>")
		waitFor(t, s, "[Claimed")
		typeKeys(s, "i")
		waitFor(t, s, c.Name()+" already claimed their account on ")
		finalView(t, s)
	})
	t.Run("no email", func(t *testing.T) {
		f := newFixture(t, 60)
		c := f.customer(t, store.StatusNoEmail)
		s := startTUI(t, f.model(f.owner, 120, 40), 120, 40)
		waitFor(t, s, "Harbor Yoga")
		typeKeys(s, "<shift+tab>", "<shift+tab>") // past Archived
		waitFor(t, s, "[No email", ">  "+c.Name())
		typeKeys(s, "i")
		waitFor(t, s, c.Name()+" has no email address - open the profile (enter) and press e to fix the email.")
		typeKeys(s, "<enter>")
		waitFor(t, s, "has no email address - press e to fix the email.")
		finalView(t, s)
	})
}

func TestHelp(t *testing.T) {
	f := newFixture(t, 60)
	s := startTUI(t, f.model(f.owner, 80, 40), 80, 40)
	waitFor(t, s, "Harbor Yoga")
	typeKeys(s, "?")
	waitFor(t, s, "Keys", "never quits from the roster", "esc/n close")
	typeKeys(s, "<esc>")
	waitFor(t, s, "/ search")
	typeKeys(s, "?")
	waitFor(t, s, "Keys")
	golden.RequireEqual(t, []byte(finalView(t, s)))
}

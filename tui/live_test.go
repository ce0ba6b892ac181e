package tui

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest"

	"frontdesk/claim"
	"frontdesk/mailer"
	"frontdesk/store"
)

// liveModel is a session that follows the change feed of the fixture's
// database, as `frontdesk serve` and `frontdesk tui` run it. deps, when
// given, are shared with other sessions (one process).
func (f *fixture) liveModel(t *testing.T, staff *store.Staff, w, h int, deps ...Deps) *Model {
	t.Helper()
	f.svc.Mail = f.worker
	d := Deps{Roster: f.roster, Invites: f.svc, Now: f.db.Now}.WithLive(f.db)
	if len(deps) > 0 {
		d = deps[0]
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return New(Common{Ctx: ctx, Styles: asciiStyles(), Org: f.org, Staff: staff, Width: w, Height: h}, d)
}

// elsewhere is another process on the fixture's database file: its own
// store.DB (own connections, own change detector), invite service and
// outbox worker.
type elsewhere struct {
	db     *store.DB
	svc    *claim.Service
	worker *mailer.Worker
}

func (f *fixture) elsewhere(t *testing.T) *elsewhere {
	t.Helper()
	db, err := store.Open(f.db.Path())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = f.db.Now
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := &mailer.Worker{DB: db, Transport: mailer.NewFileTransport(t.TempDir(), logger), Logger: logger}
	return &elsewhere{db: db, svc: &claim.Service{DB: db, BaseURL: "http://localhost:8080"}, worker: w}
}

func (e *elsewhere) invite(t *testing.T, by *store.Staff, id int64) {
	t.Helper()
	if _, err := e.svc.Issue(context.Background(), by, id, store.PurposeClaim); err != nil {
		t.Fatal(err)
	}
}

func (e *elsewhere) setEmail(t *testing.T, org, id int64, email string) {
	t.Helper()
	if err := e.db.Tx(context.Background(), func(tx *store.Tx) error { return tx.SetCustomerEmail(context.Background(), org, id, email) }); err != nil {
		t.Fatal(err)
	}
}

// watchFrom makes later waits look only at what the program draws from
// now on, without a key press.
func watchFrom(s *session) {
	s.drain()
	s.mark = s.out.Len()
}

// within fails unless the program draws all of wants within d (the live
// promise is a second), without a key press.
func within(t *testing.T, s *session, d time.Duration, wants ...string) {
	t.Helper()
	start := time.Now()
	waitFor(t, s, wants...)
	if took := time.Since(start); took > d {
		t.Fatalf("%q took %s to show, want under %s", wants, took.Round(time.Millisecond), d)
	}
}

// A change made in another process while staff work the roster (a filter,
// a search, two rows marked, the cursor on the fifth row) shows within a
// second with no key press: a row's new email in place, a row invited
// elsewhere leaving the Not invited list, the header's counts; the cursor,
// the search, the filter and the marks stay, and nothing says Loading.
func TestLiveRosterFollowsChangesElsewhere(t *testing.T) {
	f := newFixture(t, 100)
	other := f.elsewhere(t)
	ctx := context.Background()
	s := startTUI(t, f.liveModel(t, f.owner, 120, 30), 120, 30)
	waitFor(t, s, "Harbor Yoga")
	typeKeys(s, "<tab>", "/", "example", "<enter>")
	waitFor(t, s, "[Not invited", "(esc clears)")

	rows, err := f.db.RosterPage(ctx, f.org.ID, store.RosterQuery{Search: "example", Status: store.StatusNotInvited, Limit: 100})
	if err != nil || len(rows) < 10 {
		t.Fatalf("%d not-invited customers match: %v", len(rows), err)
	}
	typeKeys(s, "<space>", "<space>", "jj")
	waitFor(t, s, "2 marked")
	counts, err := f.db.RosterCounts(ctx, f.org.ID)
	if err != nil {
		t.Fatal(err)
	}

	watchFrom(s)
	other.setEmail(t, f.org.ID, rows[2].ID, "changed.elsewhere@example.com")
	other.invite(t, f.owner, rows[6].ID)
	within(t, s, time.Second, "changed.elsewhere@example.com",
		fmt.Sprintf("[Not invited %d]", counts[store.StatusNotInvited]-1), fmt.Sprintf(" Invited %d ", counts[store.StatusInvited]+1))

	// The cursor's own customer invited elsewhere: the row stays under the
	// cursor, saying what it is now, until the cursor leaves it.
	watchFrom(s)
	other.invite(t, f.owner, rows[4].ID)
	within(t, s, time.Second, "> ~"+rows[4].Name(), "no longer listed", rows[4].Name()+" is now Invited and no longer in the Not invited customers matching the search")
	if strings.Contains(s.out.String()[s.mark:], "Loading") {
		t.Error("the roster said Loading while it read the change")
	}
	typeKeys(s, "j")
	waitFor(t, s, ">  "+rows[5].Name())

	m := finalModel(t, s)
	r := m.roster
	if row := r.current(); row == nil || row.ID != rows[5].ID {
		t.Errorf("cursor on %+v, want %s", row, rows[5].Name())
	}
	if r.query != "example" || r.statusFilter() != store.StatusNotInvited {
		t.Errorf("search %q, filter %q after the changes", r.query, r.statusFilter())
	}
	if want := fmt.Sprintf("of %d", len(rows)-2); !strings.HasSuffix(r.position(), want) {
		t.Errorf("the roster says %q, want %q", r.position(), want)
	}
	if ids := r.marks.IDs(); !slices.Equal(ids, []int64{rows[0].ID, rows[1].ID}) {
		t.Errorf("marks %v, want %v", ids, []int64{rows[0].ID, rows[1].ID})
	}
	for _, row := range r.rows {
		if row.ID == rows[4].ID || row.ID == rows[6].ID {
			t.Errorf("%s, invited elsewhere, is still in the Not invited list", row.Name())
		}
		if row.ID == rows[2].ID && row.Email != "changed.elsewhere@example.com" {
			t.Errorf("%s shows %s", row.Name(), row.Email)
		}
	}
}

// finalModel quits and returns the model as the program left it.
func finalModel(t *testing.T, s *session) *Model {
	t.Helper()
	typeKeys(s, "<ctrl+c>")
	return s.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(*Model)
}

// An open profile follows its customer: an invite sent from another
// session shows in the history within a second, then its delivery.
func TestLiveProfileHistoryFollowsInvite(t *testing.T) {
	f := newFixture(t, 60)
	other := f.elsewhere(t)
	row := f.customer(t, store.StatusNotInvited)
	s := startTUI(t, f.liveModel(t, f.admin, 120, 40), 120, 40)
	waitFor(t, s, "Harbor Yoga")
	typeKeys(s, "/", row.Email, "<enter>", "<enter>")
	waitFor(t, s, "Member since", "No invites sent yet.")

	watchFrom(s)
	other.invite(t, f.owner, row.ID)
	within(t, s, time.Second, "Invite by Maya Harbor to "+row.Email, "mail queued", "link live")

	watchFrom(s)
	if _, err := other.worker.Deliver(context.Background(), f.outboxOf(t, row.ID)); err != nil {
		t.Fatal(err)
	}
	within(t, s, time.Second, "mail sent")
}

// outboxOf is the customer's latest message.
func (f *fixture) outboxOf(t *testing.T, customerID int64) int64 {
	t.Helper()
	p, err := f.db.Profile(context.Background(), f.org.ID, customerID)
	if err != nil || len(p.Invites) == 0 {
		t.Fatalf("no invite for %d: %v", customerID, err)
	}
	return p.Invites[0].OutboxID
}

// Only what is on view is read again: with a profile open, changes to
// other customers read nothing (neither the roster under it nor the
// profile); the roster catches up once it is back on view.
func TestLiveReadsOnlyWhatIsOnView(t *testing.T) {
	f := newFixture(t, 60)
	other := f.elsewhere(t)
	first := f.customer(t, "")
	target := f.customer(t, store.StatusNotInvited)
	s := startTUI(t, f.liveModel(t, f.admin, 120, 30), 120, 30)
	waitFor(t, s, "Harbor Yoga", first.Name())
	typeKeys(s, "<enter>")
	waitFor(t, s, "Member since")
	pages, counts, profiles := f.roster.pages.Load(), f.roster.counts.Load(), f.roster.profiles.Load()

	other.setEmail(t, f.org.ID, target.ID, "unseen@example.com")
	// Then a change to the open profile's customer, which it does read: by
	// the time it shows, the first change has been seen (and ignored).
	watchFrom(s)
	other.setEmail(t, f.org.ID, first.ID, "seen@example.com")
	within(t, s, time.Second, "seen@example.com")
	if d := f.roster.pages.Load() - pages; d != 0 {
		t.Errorf("the roster under the profile read %d pages", d)
	}
	if d := f.roster.counts.Load() - counts; d != 0 {
		t.Errorf("the roster under the profile counted %d times", d)
	}
	if d := f.roster.profiles.Load() - profiles; d != 1 {
		t.Errorf("the profile was read %d times for one change to its customer, want 1", d)
	}

	typeKeys(s, "<esc>")
	waitFor(t, s, "unseen@example.com")
}

// Sessions of one process showing the same thing read it once per change:
// two rosters on their first page cost one page query and one count.
func TestLiveSessionsShareReads(t *testing.T) {
	f := newFixture(t, 60)
	other := f.elsewhere(t)
	f.svc.Mail = f.worker
	deps := Deps{Roster: f.roster, Invites: f.svc, Now: f.db.Now}.WithLive(f.db)
	first := f.customer(t, "")
	var sessions []*session
	for range 2 {
		s := startTUI(t, f.liveModel(t, f.admin, 120, 30, deps), 120, 30)
		waitFor(t, s, "Harbor Yoga", first.Name())
		sessions = append(sessions, s)
	}
	pages, counts := f.roster.pages.Load(), f.roster.counts.Load()
	for _, s := range sessions {
		watchFrom(s)
	}
	other.setEmail(t, f.org.ID, first.ID, "shared@example.com")
	for _, s := range sessions {
		within(t, s, time.Second, "shared@example.com")
	}
	if d := f.roster.pages.Load() - pages; d != 1 {
		t.Errorf("two sessions read %d pages for one change, want 1", d)
	}
	if d := f.roster.counts.Load() - counts; d != 1 {
		t.Errorf("two sessions counted %d times for one change, want 1", d)
	}
}

// The organization's settings changed elsewhere (`frontdesk org set`) show
// at once too: the title says the new name.
func TestLiveOrgSettings(t *testing.T) {
	f := newFixture(t, 20)
	other := f.elsewhere(t)
	s := startTUI(t, f.liveModel(t, f.admin, 100, 30), 100, 30)
	waitFor(t, s, "Harbor Yoga")
	watchFrom(s)
	o := *f.org
	o.Name = "Harbour Yoga & Pilates"
	if err := other.db.Tx(context.Background(), func(tx *store.Tx) error { return tx.UpdateOrg(context.Background(), &o) }); err != nil {
		t.Fatal(err)
	}
	within(t, s, time.Second, "Harbour Yoga & Pilates")
}

// An open confirmation shows what a send would do now: the address fixed
// at another desk replaces the one shown, saying so; a customer who can no
// longer be invited (the email removed elsewhere) closes it with the reason.
func TestLiveConfirmationFollowsItsCustomer(t *testing.T) {
	f := newFixture(t, 60)
	other := f.elsewhere(t)
	row := f.customer(t, store.StatusNotInvited)
	s := startTUI(t, f.liveModel(t, f.admin, 120, 30), 120, 30)
	waitFor(t, s, "Harbor Yoga")
	typeKeys(s, "/", row.Email, "<enter>", "i")
	waitFor(t, s, "to claim their account?", row.Email)

	watchFrom(s)
	other.setEmail(t, f.org.ID, row.ID, "fixed.elsewhere@example.com")
	within(t, s, time.Second, "fixed.elsewhere@example.com", "Changed from "+row.Email, "check it before sending")

	watchFrom(s)
	other.setEmail(t, f.org.ID, row.ID, "")
	within(t, s, time.Second, "Invite not sent: ")
	if strings.Contains(s.out.String()[s.mark:], "Invite sent to") {
		t.Error("an invite went out")
	}
}

// The email editor's Current is what a save would replace: a change made
// at another desk while staff type shows, and what they typed stays.
func TestLiveEmailEditorFollowsItsCustomer(t *testing.T) {
	f := newFixture(t, 60)
	other := f.elsewhere(t)
	row := f.customer(t, store.StatusNotInvited)
	s := startTUI(t, f.liveModel(t, f.admin, 120, 30), 120, 30)
	waitFor(t, s, "Harbor Yoga")
	typeKeys(s, "/", row.Email, "<enter>", "<enter>")
	waitFor(t, s, "Member since")
	typeKeys(s, "e", "<ctrl+u>", "typed@example.com")
	waitFor(t, s, "> typed@example.com")

	watchFrom(s)
	other.setEmail(t, f.org.ID, row.ID, "fixed.elsewhere@example.com")
	within(t, s, time.Second, "fixed.elsewhere@example.com", "Changed elsewhere to fixed.elsewhere@example.com")
	m := finalModel(t, s)
	e, ok := m.top().(*emailScreen)
	if !ok {
		t.Fatalf("%T on top, want the email editor", m.top())
	}
	if e.input.Value() != "typed@example.com" || e.cust.Email != "fixed.elsewhere@example.com" {
		t.Fatalf("input %q, current %q; want what was typed kept and the new current address", e.input.Value(), e.cust.Email)
	}
}

package tui

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest"

	"frontdesk/store"
	"frontdesk/store/storetest"
)

// titleLine is the first line of what m draws: the roster's title, where
// the number marked is.
func titleLine(m *Model) string {
	v := m.View()
	if i := strings.IndexByte(v, '\n'); i >= 0 {
		return v[:i]
	}
	return v
}

// Mark every customer a search and a filter select (without paging through
// them), see the number marked stay in the title through other filters and
// searches, then invite them in bulk: the tally counts them all, the store
// has them invited, and the marks are gone.
func TestMarkAllSearchFilterThenBulkInvite(t *testing.T) {
	f := newFixture(t, 60)
	ctx := context.Background()
	want, err := f.db.CustomerIDs(ctx, f.org.ID, "gmail", store.StatusNotInvited)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) < 3 {
		t.Fatalf("the demo has %d not-invited gmail customers; the test needs a few", len(want))
	}
	m := f.model(f.owner, 80, 24)
	drive(t, m, keys("/", "gmail", "<enter>", "<tab>")...)
	pagesBefore := f.roster.pages.Load()
	drive(t, m, keys("<ctrl+a>")...)
	question := fmt.Sprintf("Mark all %d customers matching 'gmail' in Not invited?", len(want))
	if v := m.View(); !strings.Contains(v, question) {
		t.Fatalf("ctrl+a did not ask %q:\n%s", question, v)
	}
	if n := f.roster.pages.Load() - pagesBefore; n != 0 {
		t.Errorf("mark all read %d roster pages; it reads ids only", n)
	}
	if m.roster.marks.Len() != 0 {
		t.Fatal("marked before the answer")
	}
	drive(t, m, keys("<enter>")...)
	marked := fmt.Sprintf("%d marked", len(want))
	if l := titleLine(m); !strings.Contains(l, marked) {
		t.Fatalf("title after marking all: %q, want %q", l, marked)
	}
	if got := m.roster.marks.IDs(); !slices.Equal(got, want) {
		t.Fatalf("marked %v, want %v", got, want)
	}
	// Other filters and another search: the marks and their count stay.
	for _, step := range [][]string{{"<tab>"}, {"<tab>", "<tab>"}, {"/", "<ctrl+u>", "a", "<enter>"}, {"/", "<ctrl+u>", "<enter>"}} {
		drive(t, m, keys(step...)...)
		if l := titleLine(m); !strings.Contains(l, marked) {
			t.Fatalf("after %v the title is %q, want %q", step, l, marked)
		}
	}
	drive(t, m, keys("I")...)
	if v := m.View(); !strings.Contains(v, fmt.Sprintf("%d customers will get an invite", len(want))) {
		t.Fatalf("bulk summary:\n%s", v)
	}
	drive(t, m, keys("y")...)
	tally := fmt.Sprintf("Bulk invite: Sent %d | failed 0 | skipped 0.", len(want))
	if v := m.View(); !strings.Contains(v, tally) {
		t.Fatalf("want the tally %q:\n%s", tally, v)
	}
	drive(t, m, keys("<enter>")...)
	if l := titleLine(m); strings.Contains(l, "marked") {
		t.Fatalf("marks left after the run: %q", l)
	}
	left, err := f.db.CustomerIDs(ctx, f.org.ID, "gmail", store.StatusNotInvited)
	if err != nil || len(left) != 0 {
		t.Fatalf("not invited after the run: %v (%v)", left, err)
	}
	invited, err := f.db.CustomerIDs(ctx, f.org.ID, "", store.StatusInvited)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range want {
		if !slices.Contains(invited, id) {
			t.Errorf("customer %d is not invited", id)
		}
	}
	if files, _ := filepath.Glob(filepath.Join(f.mailDir, "*.eml")); len(files) != len(want) {
		t.Fatalf("%d messages written, want %d", len(files), len(want))
	}
}

// Marking all adds to the marks already set, says how many of the list
// were marked already, and cancelling marks nothing; U clears every mark.
func TestMarkAllCancelAndClear(t *testing.T) {
	f := newFixture(t, 60)
	live := f.live(t)
	m := f.model(f.owner, 80, 24)
	drive(t, m, keys(" ", " ", "<ctrl+a>")...)
	if v := m.View(); !strings.Contains(v, fmt.Sprintf("Mark all %d customers?", live)) || !strings.Contains(v, "2 of them are marked already.") {
		t.Fatalf("ctrl+a with two marked:\n%s", v)
	}
	drive(t, m, keys("<esc>")...)
	if v := m.View(); m.roster.marks.Len() != 2 || !strings.Contains(v, "Nothing marked.") {
		t.Fatalf("after cancelling, %d marked:\n%s", m.roster.marks.Len(), v)
	}
	drive(t, m, keys("<ctrl+a>", "y")...)
	if m.roster.marks.Len() != live || !strings.Contains(titleLine(m), num(live)+" marked") {
		t.Fatalf("after marking all, %d marked, title %q", m.roster.marks.Len(), titleLine(m))
	}
	drive(t, m, keys("U")...)
	if v := m.View(); m.roster.marks.Len() != 0 || strings.Contains(titleLine(m), "marked") || !strings.Contains(v, fmt.Sprintf("Unmarked %d customers.", live)) {
		t.Fatalf("after U, %d marked:\n%s", m.roster.marks.Len(), v)
	}
	// The Archived filter: archived customers get no invites, so there is
	// nothing to mark, and no question.
	drive(t, m, keys("<shift+tab>", "<ctrl+a>")...)
	if _, ok := m.top().(*rosterScreen); !ok || m.roster.marks.Len() != 0 || !strings.Contains(m.View(), "Archived customers get no invites") {
		t.Fatalf("mark all on the Archived filter: %T, %d marked:\n%s", m.top(), m.roster.marks.Len(), m.View())
	}
	drive(t, m, keys("<tab>")...)
	// A search that selects nobody has nothing to mark and asks nothing.
	drive(t, m, keys("/", "zzzzqx", "<enter>", "<ctrl+a>")...)
	if v := m.View(); !strings.Contains(v, "Nobody to mark: no customers matching 'zzzzqx'.") {
		t.Fatalf("mark all of nobody:\n%s", v)
	}
}

// q on a profile goes back to the roster, marks and all; on the roster
// with marks set it asks first, and n stays; ctrl+c quits at once.
func TestQuitKeepsMarks(t *testing.T) {
	f := newFixture(t, 60)
	m := f.model(f.owner, 80, 24)
	drive(t, m, keys(" ", "<up>", "<enter>")...)
	if _, ok := m.top().(*profileScreen); !ok {
		t.Fatalf("enter did not open the profile:\n%s", m.View())
	}
	if quit := drive(t, m, keys("q")...); quit {
		t.Fatal("q on a profile quit")
	}
	if _, ok := m.top().(*rosterScreen); !ok || m.roster.marks.Len() != 1 {
		t.Fatalf("q on a profile: want the roster with 1 mark, have %T with %d:\n%s", m.top(), m.roster.marks.Len(), m.View())
	}
	if quit := drive(t, m, keys("q")...); quit {
		t.Fatal("q with a mark set quit without asking")
	}
	if v := m.View(); !strings.Contains(v, "1 marked customer will not be invited - quit anyway?") {
		t.Fatalf("q with a mark set:\n%s", v)
	}
	if quit := drive(t, m, keys("q", "n")...); quit {
		t.Fatal("n quit")
	}
	if _, ok := m.top().(*rosterScreen); !ok || m.roster.marks.Len() != 1 {
		t.Fatalf("n: want the roster with its mark, have %T", m.top())
	}
	if quit := drive(t, m, keys("q", "y")...); !quit {
		t.Fatalf("y did not quit:\n%s", m.View())
	}
	m = f.model(f.owner, 80, 24)
	if quit := drive(t, m, keys(" ", "<ctrl+c>")...); !quit {
		t.Fatal("ctrl+c with a mark set did not quit at once")
	}
}

// The same, as staff type it into a running program: q on a profile, then
// q on the roster with no marks, quits.
func TestQuitFromProfileTeatest(t *testing.T) {
	f := newFixture(t, 60)
	s := startTUI(t, f.model(f.owner, 80, 24), 80, 24)
	waitFor(t, s, "Harbor Yoga")
	typeKeys(s, "<enter>")
	waitFor(t, s, "esc/n back")
	typeKeys(s, "q")
	waitFor(t, s, "/ search")
	typeKeys(s, "q")
	s.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

// A bulk invite too large to wait for at the desk (more than deskDelivery)
// is checked and issued in steps and queued for the outbox worker: no
// delivery attempt while staff wait, every invite issued, the tally says
// so, and the marks are done with.
func TestMarkAllBulkInviteQueuesALargeRun(t *testing.T) {
	f := newFixture(t, bigRoster)
	ctx := context.Background()
	ids, err := f.db.CustomerIDs(ctx, f.org.ID, "", store.StatusNotInvited)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) <= deskDelivery {
		t.Fatalf("%d not invited; the test needs more than %d", len(ids), deskDelivery)
	}
	before, err := f.db.RosterCounts(ctx, f.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	lastOutbox := storetest.Int(t, f.db, `SELECT coalesce(max(id), 0) FROM outbox`)
	m := f.model(f.owner, 100, 30)
	drive(t, m, keys("<tab>", "<ctrl+a>", "<enter>", "I")...)
	b, ok := m.top().(*bulkScreen)
	if !ok || b.state != bulkSummary {
		t.Fatalf("I: want the summary, have %T:\n%s", m.top(), m.View())
	}
	will, skipped := len(b.will), b.skipped.total
	if will+skipped != len(ids) || will <= deskDelivery || !strings.Contains(m.View(), "queued for the outbox worker") {
		t.Fatalf("summary of %d marks: %d will get an invite, %d skipped:\n%s", len(ids), will, skipped, m.View())
	}
	drive(t, m, keys("y")...)
	tally := fmt.Sprintf("Bulk invite: Sent 0 | queued %s | failed 0 | skipped %d.", num(will), skipped)
	if v := m.View(); !strings.Contains(v, tally) {
		t.Fatalf("want the tally %q:\n%s", tally, v)
	}
	drive(t, m, keys("<enter>")...)
	if l := titleLine(m); strings.Contains(l, "marked") {
		t.Fatalf("marks left after the run: %q", l)
	}
	after, err := f.db.RosterCounts(ctx, f.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after[store.StatusInvited] != before[store.StatusInvited]+will {
		t.Errorf("invited before %d, after %d; want %d more", before[store.StatusInvited], after[store.StatusInvited], will)
	}
	queued := storetest.Int(t, f.db, `SELECT count(*) FROM outbox WHERE id > ? AND status = 'queued' AND attempts = 0`, lastOutbox)
	if queued != will {
		t.Errorf("outbox: %d new emails queued untried; want %d", queued, will)
	}
	if files, _ := filepath.Glob(filepath.Join(f.mailDir, "*.eml")); len(files) != 0 {
		t.Errorf("%d messages delivered while staff waited; want none", len(files))
	}
}

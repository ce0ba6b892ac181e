package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// An invite staff withdrew: its link's page says so and whom to ask, over
// real HTTP, whether the link is opened afresh or its password form was
// already open; nothing is claimed. The page of an archived customer's
// link stays its own.
func TestWithdrawnInvitePage(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	jane := f.customer(f.org, "Jane", "Doe", "jane@example.com")
	token := f.invite(jane)

	// Jane opened the link before the invite was withdrawn: the form is up.
	early := f.browser()
	wantStatus(t, early.follow(early.get("/claim/"+token)), http.StatusOK)

	if _, err := f.svc.WithdrawInvite(ctx, f.owner, jane.ID); err != nil {
		t.Fatal(err)
	}
	late := f.browser()
	p := late.follow(late.get("/claim/" + token))
	wantStatus(t, p, http.StatusGone)
	mustContain(t, p, "This invite was withdrawn", "Harbor Yoga withdrew this invite, so its link no longer works.",
		"ask Harbor Yoga to send you a new invite", `href="mailto:hello@harbor-yoga.example"`)
	if p.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q on the withdrawn page", p.header.Get("Cache-Control"))
	}

	p = early.post("/claim", url.Values{"username": {"jane@example.com"}, "password": {goodPassword}, "confirm": {goodPassword}})
	wantStatus(t, p, http.StatusGone)
	mustContain(t, p, "This invite was withdrawn", "Harbor Yoga withdrew this invite")
	if got, _ := f.db.Customer(ctx, f.org.ID, jane.ID); !got.ClaimedAt.IsZero() {
		t.Fatal("a withdrawn invite claimed the account")
	}

	// Archived: the link is dead too, and its page does not say that
	// staff withdrew an invite.
	arlo := f.customer(f.org, "Arlo", "Archived", "arlo@example.com")
	arloToken := f.invite(arlo)
	if _, err := f.svc.ArchiveCustomer(ctx, f.owner, arlo.ID); err != nil {
		t.Fatal(err)
	}
	b := f.browser()
	p = b.follow(b.get("/claim/" + arloToken))
	wantStatus(t, p, http.StatusGone)
	mustContain(t, p, "This invite was withdrawn", "contact Harbor Yoga")
	if strings.Contains(p.body, "withdrew this invite") {
		t.Error("an archived customer's link says staff withdrew the invite")
	}
}

package claim

import (
	"context"
	"strings"
	"testing"
	"time"

	"frontdesk/store"
)

// Lookup (one joined query) judges every kind of link, for its own purpose
// only, and as time passes.
func TestLookupStates(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tokens := map[string]string{}

	valid := f.customer("Val", "Id", "val@example.com")
	tokens["valid"] = f.invite(valid).token
	sup := f.customer("Sue", "Per", "sue@example.com")
	tokens["superseded"] = f.invite(sup).token
	f.invite(sup)
	used := f.customer("Ursula", "Sed", "ursula@example.com")
	tokens["used"] = f.invite(used).token
	f.redeem(tokens["used"], goodPassword)
	moved := f.customer("Mo", "Ved", "mo@example.com")
	tokens["email_changed"] = f.invite(moved).token
	if _, err := f.svc.ChangeEmail(ctx, f.owner, moved.ID, "mo@new.example"); err != nil {
		t.Fatal(err)
	}
	arch := f.customer("Archie", "Ved", "archie@example.com")
	tokens["revoked"] = f.invite(arch).token
	if err := f.db.Tx(ctx, func(tx *store.Tx) error { return tx.ArchiveCustomer(ctx, f.org.ID, arch.ID) }); err != nil {
		t.Fatal(err)
	}
	tokens["unknown"] = strings.Repeat("A", 43)
	tokens["malformed"] = "nope"
	late := f.customer("Ed", "Late", "ed@example.com")
	tokens["expired"] = f.invite(late).token

	check := func(when string, want map[string]LinkState) {
		t.Helper()
		for name, tok := range tokens {
			l, err := f.svc.Lookup(ctx, store.PurposeClaim, tok)
			if err != nil {
				t.Fatal(err)
			}
			if l.State != want[name] {
				t.Errorf("%s, %s link: %s, want %s", when, name, l.State, want[name])
			}
			if l.State != LinkUnknown && (l.Org == nil || l.Org.Name != f.org.Name || l.Customer == nil || l.Invite == nil) {
				t.Errorf("%s, %s link: the page would not know whose it is: %+v", when, name, l)
			}
			if r, _ := f.svc.Lookup(ctx, store.PurposeReset, tok); r.State != LinkUnknown {
				t.Errorf("%s, %s claim link read as a reset link: %s", when, name, r.State)
			}
		}
	}
	want := map[string]LinkState{
		"valid": LinkValid, "superseded": LinkSuperseded, "used": LinkUsed, "email_changed": LinkEmailChanged,
		"revoked": LinkRevoked, "unknown": LinkUnknown, "malformed": LinkUnknown, "expired": LinkValid,
	}
	check("now", want)
	*f.now = f.now.Add(8 * 24 * time.Hour)
	want["valid"], want["expired"] = LinkExpired, LinkExpired
	check("a week later", want)
}

// Every path that changes the password signs the customer out everywhere
// (the trigger of migration 0005), and archiving does too.
func TestPasswordChangeEndsSessions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.customer("Jane", "Doe", "jane@example.com")
	f.redeem(f.invite(c).token, goodPassword)
	for i := 0; i < 2; i++ {
		if _, err := f.svc.SignIn(ctx, SignInRequest{Email: "jane@example.com", Password: goodPassword}, SessionLifetime{}); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int {
		n, err := f.db.CountCustomerSessions(ctx, f.org.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if count() != 2 {
		t.Fatalf("%d sessions, want 2", count())
	}
	hash, _ := HashPassword(ctx, "another long passphrase here")
	if err := f.db.Tx(ctx, func(tx *store.Tx) error { return tx.SetPassword(ctx, f.org.ID, c.ID, hash) }); err != nil {
		t.Fatal(err)
	}
	if count() != 0 {
		t.Fatalf("%d sessions after a password change", count())
	}
	in, err := f.svc.SignIn(ctx, SignInRequest{Email: "jane@example.com", Password: "another long passphrase here"}, SessionLifetime{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.Tx(ctx, func(tx *store.Tx) error { return tx.ArchiveCustomer(ctx, f.org.ID, c.ID) }); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Session(ctx, in.Token, SessionLifetime{}); !IsSessionError(err) {
		t.Fatalf("session of an archived customer: %v", err)
	}
	// And an archived customer cannot sign in again.
	if _, err := f.svc.SignIn(ctx, SignInRequest{Email: "jane@example.com", Password: "another long passphrase here"}, SessionLifetime{}); !IsSignInFailure(err) {
		t.Fatalf("archived sign-in: %v", err)
	}
}

package claim

import (
	"context"
	"strings"
	"testing"
	"time"

	"frontdesk/store"
)

// Peek (one query, for page views) must judge every link exactly as Lookup
// does.
func TestPeekAgreesWithLookup(t *testing.T) {
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
	if err := f.db.ArchiveCustomer(ctx, f.db.Write(), f.org.ID, arch.ID); err != nil {
		t.Fatal(err)
	}
	tokens["unknown"] = strings.Repeat("A", 43)
	tokens["malformed"] = "nope"
	late := f.customer("Ed", "Late", "ed@example.com")
	tokens["expired"] = f.invite(late).token

	check := func(when string) {
		for name, tok := range tokens {
			for _, p := range []store.Purpose{store.PurposeClaim, store.PurposeReset} {
				a, err := f.svc.Lookup(ctx, p, tok)
				if err != nil {
					t.Fatal(err)
				}
				b, err := f.svc.Peek(ctx, p, tok)
				if err != nil {
					t.Fatal(err)
				}
				if a.State != b.State {
					t.Errorf("%s %s (%s): Lookup %s, Peek %s", when, name, p, a.State, b.State)
				}
				if a.Org != nil && (b.Org == nil || b.Org.Name != a.Org.Name || b.Customer.Email != a.Customer.Email || b.Invite.ExpiresAt != a.Invite.ExpiresAt) {
					t.Errorf("%s %s: Peek read %+v, Lookup %+v", when, name, b, a)
				}
			}
		}
	}
	check("now")
	if f.state(tokens["valid"]) != LinkValid || f.state(tokens["expired"]) != LinkValid {
		t.Fatal("fixture: links not valid")
	}
	*f.now = f.now.Add(8 * 24 * time.Hour)
	check("a week later")
	if f.state(tokens["expired"]) != LinkExpired {
		t.Fatal("fixture: link did not expire")
	}
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
		n, err := f.db.CountCustomerSessions(ctx, f.db.Read(), f.org.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if count() != 2 {
		t.Fatalf("%d sessions, want 2", count())
	}
	hash, _ := HashPassword(ctx, "another long passphrase here")
	if err := f.db.SetPassword(ctx, f.db.Write(), f.org.ID, c.ID, hash); err != nil {
		t.Fatal(err)
	}
	if count() != 0 {
		t.Fatalf("%d sessions after a password change", count())
	}
	in, err := f.svc.SignIn(ctx, SignInRequest{Email: "jane@example.com", Password: "another long passphrase here"}, SessionLifetime{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.ArchiveCustomer(ctx, f.db.Write(), f.org.ID, c.ID); err != nil {
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

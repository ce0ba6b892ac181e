package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestInviteStates walks one customer's invites through every state and
// checks what the history says of each, as the profile and the link pages
// read it.
func TestInviteStates(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		db, now := newStoreForTest(t)
		ctx := context.Background()
		o := mustOrg(t, db, "Harbor Yoga")
		owner := mustStaff(t, db, o, "owner@harbor.example", RoleOwner)
		c := mustCustomer(t, db, o, "Jane", "Doe", "jane@example.com")

		state := func(inv *Invite) (InviteState, RevokeReason) {
			t.Helper()
			p, err := db.Profile(ctx, o.ID, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			for i := range p.Invites {
				if p.Invites[i].ID == inv.ID {
					return p.Invites[i].State(&p.Customer, db.Now())
				}
			}
			t.Fatalf("invite %d not in the history", inv.ID)
			return "", ""
		}

		first := mustInvite(t, db, c, owner, 7*24*time.Hour)
		if s, _ := state(first); s != InviteLive {
			t.Fatalf("fresh invite: %s", s)
		}
		// It runs out, then staff send a new one: the old link was dead before
		// the resend, so it stays "expired", not "revoked: a newer invite".
		*now = now.Add(8 * 24 * time.Hour)
		second := mustInvite(t, db, c, owner, 7*24*time.Hour)
		if err := db.Tx(ctx, func(tx *Tx) error {
			_, err := tx.RevokeInvites(ctx, c.ID, PurposeClaim, RevokeSuperseded)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if s, _ := state(first); s != InviteExpired {
			t.Errorf("expired, then a resend: %s, want expired", s)
		}
		if s, why := state(second); s != InviteRevoked || why != RevokeSuperseded {
			t.Errorf("live, then superseded: %s (%s), want revoked (superseded)", s, why)
		}

		// An invite whose email failed is never live, expired or not, and a
		// customer with only such an invite has nothing a resend would cancel.
		third := mustInvite(t, db, c, owner, 7*24*time.Hour)
		if _, err := db.write.ExecContext(ctx, `UPDATE outbox SET status = 'failed' WHERE id = ?`, third.OutboxID); err != nil {
			t.Fatal(err)
		}
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.refreshState(ctx, `id = ?`, c.ID) }); err != nil {
			t.Fatal(err)
		}
		if s, _ := state(third); s != InviteFailed {
			t.Errorf("undelivered: %s, want failed", s)
		}
		*now = now.Add(8 * 24 * time.Hour)
		if s, _ := state(third); s != InviteFailed {
			t.Errorf("undelivered, later expired: %s, want failed", s)
		}
		got, err := db.Customer(ctx, o.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != StatusFailed || got.HasLiveInvite() {
			t.Errorf("customer with a failed invite: status %s, live invite %v; want failed, none", got.Status, got.HasLiveInvite())
		}

		// The address changes without a revocation (an older version, a manual
		// edit): the link to the old address is dead all the same.
		fourth := mustInvite(t, db, c, owner, 7*24*time.Hour)
		if _, err := db.write.ExecContext(ctx, `UPDATE customers SET email = 'jane.doe@example.com' WHERE id = ?`, c.ID); err != nil {
			t.Fatal(err)
		}
		if s, _ := state(fourth); s != InviteOldEmail {
			t.Errorf("address changed under it: %s, want old_email", s)
		}
	})
}

// Status.Word is what --status takes and JSON prints: every status's word
// parses back to it, and none is written with an underscore.
func TestStatusWordParsesBack(t *testing.T) {
	for _, s := range Statuses {
		got, err := ParseStatus(s.Word())
		if err != nil || got != s || strings.Contains(s.Word(), "_") {
			t.Errorf("%q: Word %q parses to %q, %v", s, s.Word(), got, err)
		}
	}
}

package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// A role or a name changes in one write that returns before and after; the
// last owner keeps the role; a name follows the text rule; a change to
// nothing writes nothing.
func TestEditStaff(t *testing.T) {
	parallelEngines(t, func(t *testing.T) {
		db, _ := newStoreForTest(t)
		ctx := context.Background()
		o := mustOrg(t, db, "Harbor Yoga")
		other := mustOrg(t, db, "Other Studio")
		owner := mustStaff(t, db, o, "owner@harbor.example", RoleOwner)
		admin := mustStaff(t, db, o, "admin@harbor.example", RoleAdmin)
		mustStaff(t, db, other, "owner@other.example", RoleOwner)

		edit := func(id int64, e StaffEdit) (was, now *Staff, err error) {
			err = db.Tx(ctx, func(tx *Tx) error {
				var err error
				was, now, err = tx.EditStaff(ctx, o.ID, id, e)
				return err
			})
			return was, now, err
		}
		if _, _, err := edit(owner.ID, StaffEdit{Role: RoleAdmin}); ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), "last owner") ||
			!strings.Contains(err.Error(), "add another owner first") {
			t.Fatalf("demoting the last owner: %v", err)
		}
		// Another organization's owner does not count.
		if s, _ := db.StaffByID(ctx, owner.ID); s.Role != RoleOwner {
			t.Fatalf("the refused demotion wrote %s", s.Role)
		}
		was, now, err := edit(admin.ID, StaffEdit{Role: RoleOwner, Name: ptr("  Sam Rivera ")})
		if err != nil || was.Role != RoleAdmin || now.Role != RoleOwner || now.Name != "Sam Rivera" {
			t.Fatalf("promotion: %+v → %+v, %v", was, now, err)
		}
		if _, now, err := edit(owner.ID, StaffEdit{Role: RoleStaff}); err != nil || now.Role != RoleStaff {
			t.Fatalf("demoting one of two owners: %+v, %v", now, err)
		}
		if s, _ := db.StaffByID(ctx, owner.ID); s.Role != RoleStaff {
			t.Fatalf("the demotion was not written: %s", s.Role)
		}
		for _, e := range []StaffEdit{{Name: ptr("Sam\x1b[2JRivera")}, {Name: ptr("Sam\u202eRivera")}, {Name: ptr(strings.Repeat("S", MaxNameLen+1))}, {Name: ptr(" ")}, {Role: "boss"}} {
			if _, _, err := edit(admin.ID, e); ErrorCode(err) != EINVALID {
				t.Errorf("EditStaff(%q, %v) = %v, want refused", e.Role, e.Name, err)
			}
		}
		before := logEnd(t, db)
		if was, now, err := edit(admin.ID, StaffEdit{Role: RoleOwner, Name: ptr("Sam Rivera")}); err != nil || *was != *now {
			t.Fatalf("a change to nothing: %+v → %+v, %v", was, now, err)
		}
		if got := logSince(t, db, o, before); len(got) != 0 {
			t.Fatalf("a change to nothing was written: %v", got)
		}
		if _, _, err := edit(999, StaffEdit{Role: RoleStaff}); ErrorCode(err) != ENOTFOUND {
			t.Fatalf("an unknown staff member: %v", err)
		}
	})
}

// A key is named as `staff key list` prints it, without "SHA256:", or by a
// long enough start; a short, ambiguous, unknown or MD5 one names none.
func TestStaffKeyByFingerprint(t *testing.T) {
	parallelEngines(t, func(t *testing.T) {
		db, _ := newStoreForTest(t)
		ctx := context.Background()
		o := mustOrg(t, db, "Harbor Yoga")
		desk := mustStaff(t, db, o, "desk@harbor.example", RoleStaff)
		k, err := inTx(db, func(tx *Tx) (*StaffKey, error) { return tx.AddStaffKey(ctx, desk.ID, testKey(t)) })
		if err != nil {
			t.Fatal(err)
		}
		// Two keys whose fingerprints share their first ten characters.
		for _, fp := range []string{"SHA256:AbCdEfGhIjKLMNOPQRSTUVWXYZabcdefghijklmnopq", "SHA256:AbCdEfGhIjzyxwvutsrqponmlkjihgfedcbaZYXWV"} {
			if _, err := db.write.Exec(`INSERT INTO staff_keys (staff_id, public_key, fingerprint, created_at) VALUES (?, 'ssh-ed25519 AAAA', ?, 0)`, desk.ID, fp); err != nil {
				t.Fatal(err)
			}
		}
		body := strings.TrimPrefix(k.Fingerprint, "SHA256:")
		for _, text := range []string{k.Fingerprint, " " + k.Fingerprint + "\n", body, "sha256:" + body, body[:minFingerprintPrefix]} {
			got, err := db.StaffKeyByFingerprint(ctx, text)
			if err != nil || got.ID != k.ID || got.Comment() != "test@frontdesk" || got.Type() != "ssh-ed25519" {
				t.Errorf("StaffKeyByFingerprint(%q) = %+v, %v", text, got, err)
			}
		}
		for _, c := range []struct{ text, code, says string }{
			{"SHA256:AbCdEfGhIj", EINVALID, "more than one key"},
			{"SHA256:" + body[:minFingerprintPrefix-1], EINVALID, "too short"},
			{"SHA256:" + strings.ToLower(body), ENOTFOUND, "staff key list"},
			{"SHA256:", EINVALID, "give the key's fingerprint"},
			{"16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48", EINVALID, "MD5"},
			{"MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48", EINVALID, "MD5"},
		} {
			_, err := db.StaffKeyByFingerprint(ctx, c.text)
			if ErrorCode(err) != c.code || !strings.Contains(err.Error(), c.says) {
				t.Errorf("StaffKeyByFingerprint(%q) = %v, want %s saying %q", c.text, err, c.code, c.says)
			}
		}
		// The exact fingerprint wins over a longer one it starts.
		if got, err := db.StaffKeyByFingerprint(ctx, "SHA256:AbCdEfGhIjKLMNOPQRSTUVWXYZabcdefghijklmnopq"); err != nil || got.Fingerprint != "SHA256:AbCdEfGhIjKLMNOPQRSTUVWXYZabcdefghijklmnopq" {
			t.Errorf("exact fingerprint: %+v, %v", got, err)
		}
	})
}

// A key's last use is recorded, and listed; removing the key ends its use.
func TestKeyUseAndRemoval(t *testing.T) {
	parallelEngines(t, func(t *testing.T) {
		db, now := newStoreForTest(t)
		ctx := context.Background()
		o := mustOrg(t, db, "Harbor Yoga")
		desk := mustStaff(t, db, o, "desk@harbor.example", RoleStaff)
		k, err := inTx(db, func(tx *Tx) (*StaffKey, error) { return tx.AddStaffKey(ctx, desk.ID, testKey(t)) })
		if err != nil {
			t.Fatal(err)
		}
		if keys, _ := db.StaffKeys(ctx, desk.ID); len(keys) != 1 || !keys[0].LastUsedAt.IsZero() {
			t.Fatalf("a key never used: %+v", keys)
		}
		*now = now.Add(time.Hour)
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.RecordKeyUse(ctx, k.Fingerprint) }); err != nil {
			t.Fatal(err)
		}
		if keys, _ := db.StaffKeys(ctx, desk.ID); len(keys) != 1 || !keys[0].LastUsedAt.Equal(now.Truncate(time.Second)) {
			t.Fatalf("last used: %+v, want %s", keys, *now)
		}
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.RemoveStaffKey(ctx, k.ID) }); err != nil {
			t.Fatal(err)
		}
		if _, err := db.StaffByFingerprint(ctx, k.Fingerprint); ErrorCode(err) != ENOTFOUND {
			t.Fatalf("a removed key still signs in: %v", err)
		}
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.RemoveStaffKey(ctx, k.ID) }); ErrorCode(err) != ENOTFOUND {
			t.Fatalf("removing it twice: %v", err)
		}
		if s, err := db.StaffByID(ctx, desk.ID); err != nil || s.ID != desk.ID {
			t.Fatalf("removing a key removed its owner: %v", err)
		}
	})
}

// What an open session's check concludes, and in which words.
func TestAccessLost(t *testing.T) {
	parallelEngines(t, func(t *testing.T) {
		was := &Staff{ID: 7, OrgID: 1, Role: RoleAdmin, Name: "Sam"}
		same := *was
		renamed := *was
		renamed.Name = "Samuel"
		demoted := *was
		demoted.Role = RoleStaff
		moved := *was
		moved.OrgID = 2
		someone := *was
		someone.ID = 8
		for _, c := range []struct {
			name    string
			now     *Staff
			err     error
			keyKept bool
			want    AccessLoss
			says    string
		}{
			{"nothing changed", &same, nil, true, AccessKept, ""},
			{"a new name", &renamed, nil, true, AccessKept, ""},
			{"the database busy", nil, errors.New("database is locked"), false, AccessKept, ""},
			{"removed", nil, Errorf(ENOTFOUND, "staff member not found"), false, AccessRemoved, "removed from the organization's staff"},
			{"in another organization", &moved, nil, true, AccessRemoved, "removed"},
			{"someone else", &someone, nil, true, AccessRemoved, "removed"},
			{"the key removed", &same, nil, false, AccessKeyGone, "SSH key this session signed in with was removed"},
			{"demoted", &demoted, nil, true, AccessRole, "your role changed from admin to staff"},
			{"demoted, with the key removed", &demoted, nil, false, AccessKeyGone, "key"},
		} {
			loss, why := was.AccessLost(c.now, c.err, c.keyKept)
			if loss != c.want || !strings.Contains(why, c.says) || (c.says == "") != (why == "") {
				t.Errorf("%s: %q %q, want %q saying %q", c.name, loss, why, c.want, c.says)
			}
		}
	})
}

func ptr[T any](v T) *T { return &v }

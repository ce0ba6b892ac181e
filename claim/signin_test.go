package claim

import (
	"context"
	"encoding/base64"
	"frontdesk/store"
	"frontdesk/store/storetest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// A password change that lands while a sign-in with the old password is
// between checking it and creating its session must win: the trigger of
// migration 0005 has already deleted every session, so a session created
// afterwards from the old password would outlive the reset that was meant
// to lock out whoever knew it.
func TestSignInLosesRaceWithPasswordChange(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.customer("Jane", "Doe", "jane@example.com")
	f.redeem(f.invite(c).token, goodPassword)
	newHash, err := HashPassword(ctx, "another long passphrase here")
	if err != nil {
		t.Fatal(err)
	}

	// Hold every hashing slot, so SignIn reads its candidate (old hash
	// included) and then waits to verify the password.
	for range cap(hashSlots) {
		hashSlots <- struct{}{}
	}
	released := false
	release := func() {
		if !released {
			released = true
			for range cap(hashSlots) {
				<-hashSlots
			}
		}
	}
	defer release()
	now := *f.now
	read := make(chan struct{})
	var once sync.Once
	f.db.Now = func() time.Time { once.Do(func() { close(read) }); return now } // first call: SignIn has begun (the throttle check), the candidate read follows

	type result struct {
		in  *SignedIn
		err error
	}
	done := make(chan result, 1)
	go func() {
		in, err := f.svc.SignIn(ctx, SignInRequest{Email: "jane@example.com", Password: goodPassword}, SessionLifetime{})
		done <- result{in, err}
	}()
	<-read
	time.Sleep(100 * time.Millisecond) // let the candidate read finish; SignIn then blocks on a hashing slot
	if err := f.db.Tx(ctx, func(tx *store.Tx) error { return tx.SetPassword(ctx, f.org.ID, c.ID, newHash) }); err != nil {
		t.Fatal(err)
	}
	release()
	res := <-done
	if !IsSignInFailure(res.err) {
		t.Fatalf("sign-in with the password replaced under it: %v, %+v", res.err, res.in)
	}
	if n, _ := f.db.CountCustomerSessions(ctx, f.org.ID, c.ID); n != 0 {
		t.Fatalf("%d sessions survive the password change", n)
	}
}

// oldParamsHash encodes pw as an older frontdesk with other argon2id
// parameters would have (OWASP's alternative set: 12 MiB, 3 passes).
func oldParamsHash(pw string) string {
	salt := []byte("sixteen byte slt")
	key := argon2.IDKey([]byte(pw), salt, 3, 12*1024, 1, 32)
	b64 := base64.RawStdEncoding
	return "$argon2id$v=19$m=12288,t=3,p=1$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(key)
}

// A hash made with other argon2id parameters still verifies, and the next
// successful sign-in stores a hash with the current ones, without ending
// any of the customer's sessions: it is the same password.
func TestSignInUpgradesOldHash(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.customer("Jane", "Doe", "jane@example.com")
	f.redeem(f.invite(c).token, goodPassword)
	old := oldParamsHash(goodPassword)
	if err := f.db.Tx(ctx, func(tx *store.Tx) error { return tx.SetPassword(ctx, f.org.ID, c.ID, old) }); err != nil {
		t.Fatal(err)
	}
	if !needsRehash(old) {
		t.Fatal("an old-parameter hash is not due for a rehash")
	}
	// A device signed in before the upgrade.
	token, hash := newToken()
	if err := f.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.CreateSession(ctx, hash, f.org.ID, c.ID, old, f.db.Now().Add(time.Hour))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Session(ctx, token, SessionLifetime{}); err != nil {
		t.Fatalf("the earlier device's session: %v", err)
	}

	in, err := f.svc.SignIn(ctx, SignInRequest{OrgSlug: f.org.Slug, Email: "jane@example.com", Password: goodPassword, Addr: "192.0.2.7"}, SessionLifetime{})
	if err != nil {
		t.Fatalf("sign-in with an old-parameter hash: %v", err)
	}
	got, _ := f.db.Customer(ctx, f.org.ID, c.ID)
	if !strings.HasPrefix(got.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") || needsRehash(got.PasswordHash) {
		t.Fatalf("stored hash after sign-in: %q", got.PasswordHash)
	}
	if ok, _ := VerifyPassword(ctx, got.PasswordHash, goodPassword); !ok {
		t.Fatal("the upgraded hash does not verify the password")
	}
	for name, tok := range map[string]string{"earlier device": token, "this sign-in": in.Token} {
		if _, err := f.svc.Session(ctx, tok, SessionLifetime{}); err != nil {
			t.Errorf("%s's session ended by the rehash: %v", name, err)
		}
	}
	if n, _ := f.db.CountCustomerSessions(ctx, f.org.ID, c.ID); n != 2 {
		t.Errorf("%d sessions, want 2", n)
	}
	var audited int
	storetest.Raw(t, f.db).QueryRowContext(ctx, `SELECT count(*) FROM audit WHERE action = 'account.password_rehash' AND customer_id = ?`, c.ID).Scan(&audited)
	if audited != 1 {
		t.Errorf("%d rehash audit rows, want 1", audited)
	}

	// Signing in again changes nothing more.
	if _, err := f.svc.SignIn(ctx, SignInRequest{Email: "jane@example.com", Password: goodPassword}, SessionLifetime{}); err != nil {
		t.Fatal(err)
	}
	if again, _ := f.db.Customer(ctx, f.org.ID, c.ID); again.PasswordHash != got.PasswordHash {
		t.Error("a current hash was replaced again")
	}
	// A real password change still signs out everywhere.
	newHash, _ := HashPassword(ctx, "another long passphrase here")
	if err := f.db.Tx(ctx, func(tx *store.Tx) error { return tx.SetPassword(ctx, f.org.ID, c.ID, newHash) }); err != nil {
		t.Fatal(err)
	}
	if n, _ := f.db.CountCustomerSessions(ctx, f.org.ID, c.ID); n != 0 {
		t.Errorf("%d sessions survive a password change", n)
	}
}

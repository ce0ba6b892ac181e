package claim

import (
	"context"
	"frontdesk/store"
	"sync"
	"testing"
	"time"
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
	f.db.Now = func() time.Time { once.Do(func() { close(read) }); return now } // first call: the candidate is being read

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

package main

import (
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"frontdesk/store"
	"frontdesk/store/storetest"
)

// Two serve nodes on one PostgreSQL database, as behind a load balancer:
// node B has a data directory of its own and is given node A's SSH host key
// and outbox key by path (--host-key, --outbox-key), as docs/deploy says.
// An admin invites over node A's SSH; the message is delivered exactly
// once, with both nodes' workers running; node B's session shows Invited
// without a key press; the customer claims on node B's web and node A's
// roster shows Claimed without a key press. Then fifty browsers post one
// link at once, half to each node: one account.
func TestTwoNodesOnPostgres(t *testing.T) {
	dsn := storetest.Postgres(t)
	mail := startMailServer(t)
	a := newCLI(t)
	a.env["FRONTDESK_DATABASE"] = dsn
	a.useSMTP(mail.addr)
	a.ok("org", "add", "--name", "Harbor Yoga")
	a.ok("staff", "add", "--email", "owner@harbor.example", "--name", "Olga Owner", "--role", "owner")
	a.ok("staff", "add", "--email", "admin@harbor.example", "--name", "Sam Rivera", "--role", "admin")
	key := a.withKey("admin@harbor.example")
	a.ok("customers", "add", "--first-name", "Ingrid", "--last-name", "Bergström", "--email", "ingrid@example.com")
	a.ok("customers", "add", "--first-name", "Tomas", "--last-name", "Lindqvist", "--email", "tomas@example.com")
	// The outbox key, made once and copied (here: named) to every node.
	a.ok("outbox", "rotate-key")
	sa := a.serve()

	b := &cli{t: t, dir: t.TempDir(), env: maps.Clone(a.env)}
	b.env["FRONTDESK_HOST_KEY"] = filepath.Join(a.dir, hostKeyFile)
	b.env["FRONTDESK_OUTBOX_KEY"] = filepath.Join(a.dir, "outbox.key")
	sb := b.serve()
	for _, f := range []string{hostKeyFile, "outbox.key"} {
		if _, err := os.Stat(filepath.Join(b.dir, f)); err == nil {
			t.Errorf("node B made its own %s instead of using node A's", f)
		}
	}
	// Node B's sessions check the host key against node A's file: one
	// address for staff, whichever node the balancer picks.
	sb.dataDir = a.dir

	onA := sa.login(key, 120, 30)
	onB := sb.login(key, 120, 30)
	for _, tm := range []*sshTerm{onA, onB} {
		tm.wait("Harbor Yoga · Sam Rivera (admin)")
		tm.rowSays("Bergström", "Not invited")
	}

	// The invite, over node A's SSH, on the first row (Bergström sorts
	// before Lindqvist).
	onB.watch()
	onA.send("i")
	onA.wait("to claim their account?")
	onA.send("y")
	onA.wait("Invite sent to ingrid@example.com")
	took := onB.rowSays("Bergström", "Invited")
	t.Logf("node B showed Invited %s after node A's outcome", took.Round(time.Millisecond))
	if took > time.Second {
		t.Errorf("node B's session showed Invited %s after node A's outcome, want within a second", took.Round(time.Millisecond))
	}

	got := mail.received()
	if len(got) != 1 {
		t.Fatalf("the mail server received %d messages after one invite, want 1", len(got))
	}
	link := claimLink.FindString(got[0])
	if link == "" {
		t.Fatalf("no claim link in:\n%s", got[0])
	}

	// The claim, on node B's web.
	claimOnWeb(t, link, sb.http, onA.watch)
	took = onA.rowSays("Bergström", "Claimed")
	t.Logf("node A showed Claimed %s after the claim on node B", took.Round(time.Millisecond))
	if took > time.Second {
		t.Errorf("node A's roster showed Claimed %s after the claim on node B, want within a second", took.Round(time.Millisecond))
	}

	// Fifty browsers post one link at once, to both nodes.
	a.ok("invite", "tomas@example.com")
	got = mail.received()
	if len(got) != 2 {
		t.Fatalf("the mail server received %d messages after two invites, want 2", len(got))
	}
	token := claimLink.FindString(got[1])
	token = token[strings.LastIndexByte(token, '/')+1:]
	const n = 50
	pw := "a quiet harbour at dawn 42"
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		node := []*served{sa, sb}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", "http://"+node.http+"/claim", strings.NewReader(url.Values{"password": {pw}, "confirm": {pw}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(&http.Cookie{Name: "__Host-fd_claim", Value: token})
			res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			statuses <- res.StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[http.StatusSeeOther] != 1 || count[http.StatusGone] != n-1 {
		t.Fatalf("statuses %v, want one 303 (claimed, signed in) and %d 410", count, n-1)
	}

	// Both nodes stop; only then is "exactly once" final: neither worker
	// may have sent anything again meanwhile.
	for _, s := range []*served{sa, sb} {
		if code, _ := s.stop(30 * time.Second); code != 0 {
			t.Fatalf("serve exit %d; log:\n%s", code, s.stderr)
		}
	}
	if got := mail.received(); len(got) != 2 {
		t.Errorf("the mail server received %d messages in all, want 2 (one per invite)", len(got))
	}
	db, err := store.OpenWith(dsn, store.Options{Dir: a.dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := storetest.Int(t, db, `SELECT count(*) FROM outbox WHERE status = 'sent' AND attempts = 1`); n != 2 {
		t.Errorf("%d messages sent at the first attempt, want 2", n)
	}
	for _, email := range []string{"ingrid@example.com", "tomas@example.com"} {
		var claimed, sessions int
		storetest.Scan(t, db, `SELECT count(*) FROM customers WHERE email = ? AND claimed_at IS NOT NULL`, []any{email}, &claimed)
		storetest.Scan(t, db, `SELECT count(*) FROM sessions s JOIN customers c ON c.id = s.customer_id WHERE c.email = ?`, []any{email}, &sessions)
		if claimed != 1 || sessions != 1 {
			t.Errorf("%s: %d claimed, %d sessions; want one account, signed in once", email, claimed, sessions)
		}
	}
}

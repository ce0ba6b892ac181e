package store

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const plainText = "link: http://x/claim/secret"

// rawBodies reads a row's bodies as stored.
func (e *obEnv) rawBodies(t *testing.T, id int64) (text, html string) {
	t.Helper()
	if err := e.db.read.QueryRowContext(context.Background(), `SELECT body_text, body_html FROM outbox WHERE id = ?`, id).Scan(&text, &html); err != nil {
		t.Fatal(err)
	}
	return text, html
}

// leaseIDs leases exactly ids on db and gives them back.
func leaseIDs(t *testing.T, db *DB, ids ...int64) []*OutboxMessage {
	t.Helper()
	ctx := context.Background()
	var got []*OutboxMessage
	err := db.Tx(ctx, func(tx *Tx) error {
		var err error
		if got, err = tx.LeaseIDs(ctx, "peek", time.Minute, ids); err != nil {
			return err
		}
		_, err = tx.ReleaseLeases(ctx, "peek", ids)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestOutboxBodiesAreSealed(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		e := newObEnv(t)
		m, _ := e.invite(t, e.org)
		text, html := e.rawBodies(t, m.ID)
		for _, v := range []string{text, html} {
			if !strings.HasPrefix(v, "fdo1.") || strings.Contains(v, "secret") {
				t.Errorf("stored body %q; want it sealed", v)
			}
		}
		if text == html {
			t.Error("both bodies sealed alike")
		}
		// Cleared bodies are zeroed, not left in free space (SQLite's
		// setting: PostgreSQL's free space is the server's to manage).
		if engineOf(t) == SQLite {
			var secure int
			if err := e.db.read.QueryRowContext(context.Background(), `PRAGMA secure_delete`).Scan(&secure); err != nil || secure != 1 {
				t.Errorf("secure_delete = %d (%v), want 1", secure, err)
			}
		}
		key := filepath.Join(e.dir, OutboxKeyFile)
		st, err := os.Stat(key)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("key file beside the database: %v, %v; want it made on first use, mode 600", st, err)
		}
		got := leaseIDs(t, e.db, m.ID)
		if len(got) != 1 || got[0].BodyErr != nil || got[0].Text != plainText || !strings.Contains(got[0].HTML, "http://x/claim/secret") {
			t.Fatalf("leased %+v; want the bodies opened", got)
		}
		// Every other read leaves the bodies out.
		if listed := e.get(t, m.ID); listed.Text != "" || listed.HTML != "" {
			t.Error("OutboxMessage returned bodies")
		}
		// A second process on the same files opens them too.
		other, err := openTarget(e.path, e.dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		if got := leaseIDs(t, other, m.ID); len(got) != 1 || got[0].Text != plainText {
			t.Fatalf("second handle leased %+v", got)
		}
	})
}

func TestSealedBodyOpensOnlyInItsRow(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		e := newObEnv(t)
		ctx := context.Background()
		a, _ := e.invite(t, e.org)
		b, _ := e.invite(t, e.org)
		c, _ := e.invite(t, e.org)
		// A's body copied into B; C sent to another address.
		if _, err := e.db.write.ExecContext(ctx, `UPDATE outbox SET body_text = (SELECT body_text FROM outbox WHERE id = ?) WHERE id = ?`, a.ID, b.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.db.write.ExecContext(ctx, `UPDATE outbox SET to_addr = 'thief@example.com' WHERE id = ?`, c.ID); err != nil {
			t.Fatal(err)
		}
		got := leaseIDs(t, e.db, a.ID, b.ID, c.ID)
		if len(got) != 3 || got[0].BodyErr != nil || got[0].Text != plainText {
			t.Fatalf("untouched message: %+v", got[0])
		}
		for _, m := range got[1:] {
			if m.BodyErr == nil || m.Text != "" || m.HTML != "" || !strings.Contains(ErrorMessage(m.BodyErr), "does not belong to this message") {
				t.Errorf("message %d (moved body or changed recipient): text %q, err %v; want it refused", m.ID, m.Text, m.BodyErr)
			}
		}
	})
}

func TestWrongOutboxKeyLeavesTheMessageUnopened(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		e := newObEnv(t)
		m, _ := e.invite(t, e.org)
		otherKey := filepath.Join(t.TempDir(), "other.key")
		other, err := openTarget(e.path, e.dir, Options{OutboxKey: otherKey})
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		got := leaseIDs(t, other, m.ID)
		text, _ := e.rawBodies(t, m.ID)
		id, _ := sealedKeyID(text)
		if len(got) != 1 || got[0].BodyErr == nil || got[0].Text != "" {
			t.Fatalf("leased with the wrong key file: %+v", got)
		}
		if msg := ErrorMessage(got[0].BodyErr); !strings.Contains(msg, "outbox key "+id) || !strings.Contains(msg, otherKey) || !strings.Contains(msg, "--outbox-key") {
			t.Errorf("error %q; want it to name the key, the file and the flag", msg)
		}
		if _, err := os.Stat(otherKey); err == nil {
			t.Error("opening a message made a key file")
		}
		// The message is untouched for a process with the right key.
		if got := leaseIDs(t, e.db, m.ID); len(got) != 1 || got[0].Text != plainText {
			t.Fatalf("right key after the wrong one: %+v", got)
		}
	})
}

func TestOutboxKeyFileOthersCanReadIsRefused(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		e := newObEnv(t)
		e.invite(t, e.org)
		key := filepath.Join(e.dir, OutboxKeyFile)
		if err := os.Chmod(key, 0o640); err != nil {
			t.Fatal(err)
		}
		_, err := openTarget(e.path, e.dir, Options{})
		if err == nil || !strings.Contains(ErrorMessage(err), "chmod 600 "+key) {
			t.Fatalf("Open with a group-readable key file: %v; want a refusal with the chmod line", err)
		}
		os.Chmod(key, 0o600)
		os.WriteFile(key, []byte("fdk1 zz nonsense\n"), 0o600)
		if _, err := openTarget(e.path, e.dir, Options{}); err == nil || !strings.Contains(ErrorMessage(err), "damaged (line 1)") {
			t.Fatalf("Open with a damaged key file: %v", err)
		}
	})
}

func TestRotateOutboxKey(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		e := newObEnv(t)
		ctx := context.Background()
		other := &Org{Name: "Other Studio", Notifications: true}
		if err := e.db.Tx(ctx, func(tx *Tx) error { return tx.CreateOrg(ctx, other) }); err != nil {
			t.Fatal(err)
		}
		a, _ := e.invite(t, e.org)
		b, _ := e.invite(t, other)
		keyPath := filepath.Join(e.dir, OutboxKeyFile)
		oldFile, _ := os.ReadFile(keyPath)
		oldText, _ := e.rawBodies(t, a.ID)
		oldID, _ := sealedKeyID(oldText)

		// Another process has the old key in memory and keeps sealing.
		second, err := openTarget(e.path, e.dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer second.Close()
		leaseIDs(t, second, a.ID)

		r, err := e.db.RotateOutboxKey(ctx, SystemActor("cli:test"))
		if err != nil {
			t.Fatal(err)
		}
		if r.Key == oldID || r.Resealed != 2 || r.Unreadable != 0 || len(r.Retired) != 1 || r.Retired[0] != oldID {
			t.Fatalf("rotation: %+v; want 2 re-encrypted under a new key and %s retired", r, oldID)
		}
		file, _ := os.ReadFile(keyPath)
		if keys, err := parseKeys(keyPath, file); err != nil || len(keys) != 1 || keys[0].id != r.Key {
			t.Fatalf("key file after rotation holds %v (%v); want only %s", keys, err, r.Key)
		}
		if st, _ := os.Stat(keyPath); st.Mode().Perm() != 0o600 {
			t.Errorf("rotated key file mode %v", st.Mode().Perm())
		}
		for _, id := range []int64{a.ID, b.ID} {
			text, html := e.rawBodies(t, id)
			if k, _ := sealedKeyID(text); k != r.Key || text == oldText {
				t.Errorf("message %d: text sealed with %q after rotation", id, k)
			}
			if k, _ := sealedKeyID(html); k != r.Key {
				t.Errorf("message %d: html sealed with %q after rotation", id, k)
			}
		}
		// Still deliverable, by this process and by the one that had the old key.
		for _, db := range []*DB{e.db, second} {
			if got := leaseIDs(t, db, a.ID, b.ID); len(got) != 2 || got[0].Text != plainText || got[1].Text != plainText {
				t.Fatalf("after rotation: %+v", got)
			}
		}
		// What the other process seals now uses the new key.
		m := &OutboxMessage{OrgID: e.org.ID, CustomerID: a.CustomerID, Kind: "invite", To: "new@example.com", Subject: "s", Text: "t"}
		if err := second.Tx(ctx, func(tx *Tx) error { return tx.EnqueueMessage(ctx, m) }); err != nil {
			t.Fatal(err)
		}
		if text, _ := e.rawBodies(t, m.ID); !strings.HasPrefix(text, "fdo1."+r.Key+".") {
			t.Errorf("sealed after the rotation with %q", text)
		}
		// A leaked copy of the old key file opens nothing.
		leaked := filepath.Join(t.TempDir(), "leaked.key")
		os.WriteFile(leaked, oldFile, 0o600)
		thief, err := openTarget(e.path, e.dir, Options{OutboxKey: leaked})
		if err != nil {
			t.Fatal(err)
		}
		defer thief.Close()
		for _, m := range leaseIDs(t, thief, a.ID, b.ID) {
			if m.BodyErr == nil || m.Text != "" {
				t.Errorf("the old key opened message %d after rotation", m.ID)
			}
		}
		for _, o := range []*Org{e.org, other} {
			log, err := e.db.AuditLog(ctx, o.ID, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, a := range log {
				found = found || (a.Action == "outbox.rotate_key" && strings.Contains(a.Detail, "1 of this organization's") && strings.Contains(a.Detail, "retired key "+oldID))
			}
			if !found {
				t.Errorf("no rotation in %s's audit log: %+v", o.Name, log)
			}
		}
	})
}

func TestFailedMessageWithoutLinkKeepsItsBody(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		e := newObEnv(t)
		ctx := context.Background()
		// No invite points at it: a notice, not a link.
		m := &OutboxMessage{OrgID: e.org.ID, CustomerID: e.customer(t).ID, Kind: "invite", To: "n@example.com", Subject: "Notice", Text: "Your email was changed."}
		if err := e.db.Tx(ctx, func(tx *Tx) error { return tx.EnqueueMessage(ctx, m) }); err != nil {
			t.Fatal(err)
		}
		e.lease(t, "w", 1)
		e.mark(t, func(ctx context.Context, tx *Tx) (bool, error) {
			return tx.MarkFailed(ctx, m.ID, "w", "550 no")
		})
		if err := e.db.Tx(ctx, func(tx *Tx) error { return tx.RetryMessage(ctx, e.org.ID, m.ID) }); err != nil {
			t.Fatalf("retrying a failed message without a link: %v", err)
		}
		if got := e.lease(t, "w2", 1); len(got) != 1 || got[0].Text != "Your email was changed." {
			t.Fatalf("after retry: %+v", got)
		}
	})
}

// TestUpgradeSealsPlainBodies: a database written before bodies were sealed
// keeps its queued mail deliverable, loses the rest, and keeps no plain link
// anywhere in its file.
//
// SQLite only: migration 0008's sealing of plain bodies is SQLite's history.
func TestUpgradeSealsPlainBodies(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := open(path, Options{}, 5)
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	// Written as an older frontdesk did: plain bodies, no secure_delete.
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	_, err = raw.ExecContext(ctx, `
		INSERT INTO orgs (id, name, slug, created_at) VALUES (1, 'Old Studio', 'old-studio', 0);
		INSERT INTO customers (id, org_id, first_name, last_name, sort_name, email, phone, phone_keys, created_at, updated_at)
		VALUES (1, 1, 'A', 'A', 'a a', 'a@example.com', '', '', 0, 0), (2, 1, 'B', 'B', 'b b', 'b@example.com', '', '', 0, 0),
		       (3, 1, 'C', 'C', 'c c', 'c@example.com', '', '', 0, 0);
		INSERT INTO outbox (id, org_id, kind, to_addr, subject, body_text, body_html, status, next_attempt_at, created_at)
		VALUES (1, 1, 'invite', 'a@example.com', 's', 'queued TOKEN-QUEUED', '<p>TOKEN-QUEUED</p>', 'queued', ?1, ?1),
		       (2, 1, 'invite', 'b@example.com', 's', 'failed TOKEN-FAILED', '<p>TOKEN-FAILED</p>', 'failed', ?1, ?1),
		       (3, 1, 'invite', 'c@example.com', 's', 'sent TOKEN-SENT' || ?2, '', 'queued', ?1, ?1);
		INSERT INTO invites (org_id, customer_id, purpose, token_hash, email, created_at, expires_at, outbox_id)
		VALUES (1, 1, 'claim', randomblob(32), 'a@example.com', ?1, ?1 + 86400, 1),
		       (1, 2, 'claim', randomblob(32), 'b@example.com', ?1, ?1 + 86400, 2),
		       (1, 3, 'claim', randomblob(32), 'c@example.com', ?1, ?1 + 86400, 3);
		UPDATE customers SET state = 'failed', invite_sent_at = ?1, invite_expires_at = ?1 + 86400 WHERE id = 2`, now, strings.Repeat(" text of an email", 300))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `UPDATE outbox SET status = 'sent', body_text = '', body_html = '' WHERE id = 3`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if b, _ := os.ReadFile(path); !bytes.Contains(b, []byte("TOKEN-SENT")) {
		t.Fatal("the old database does not hold the cleared body: the test proves nothing")
	}

	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := leaseIDs(t, db, 1); len(got) != 1 || got[0].Text != "queued TOKEN-QUEUED" || got[0].HTML != "<p>TOKEN-QUEUED</p>" {
		t.Fatalf("queued message after the upgrade: %+v", *got[0])
	}
	var failedBody string
	var failedExpires int64
	db.read.QueryRowContext(ctx, `SELECT body_text || body_html FROM outbox WHERE id = 2`).Scan(&failedBody)
	db.read.QueryRowContext(ctx, `SELECT expires_at FROM invites WHERE outbox_id = 2`).Scan(&failedExpires)
	if failedBody != "" || failedExpires > time.Now().Unix() {
		t.Errorf("failed message after the upgrade: body %q, link expires %s", failedBody, time.Unix(failedExpires, 0))
	}
	if c, _ := db.Customer(ctx, 1, 2); c.Status != StatusFailed {
		t.Errorf("customer of the failed message is %s after the upgrade", c.Status)
	}
	db.Close()
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, tok := range []string{"TOKEN-QUEUED", "TOKEN-FAILED", "TOKEN-SENT"} {
			if bytes.Contains(b, []byte(tok)) {
				t.Errorf("%s still holds %s after the upgrade", filepath.Base(f), tok)
			}
		}
	}
}

// TestDatabaseFilesArePrivate: whatever the umask, the database and the
// files SQLite makes beside it, and a backup, are the owner's alone.
//
// SQLite only: file modes; a PostgreSQL database has no file.
func TestDatabaseFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "frontdesk.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	org := mustOrg(t, db, "Harbor Yoga")
	c := mustCustomer(t, db, org, "A", "B", "a@example.com")
	mustInvite(t, db, c, mustStaff(t, db, org, "o@example.com", RoleOwner), time.Hour)
	db.read.QueryRowContext(ctx, `SELECT count(*) FROM customers`).Scan(new(int))
	for _, p := range []string{dir, path, path + "-wal", path + "-shm", filepath.Join(dir, OutboxKeyFile)} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if perm := st.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s has mode %v; want nobody but the owner", filepath.Base(p), perm)
		}
	}
	backup := filepath.Join(t.TempDir(), "copy.db")
	if err := db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(backup); st.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v, want 600", st.Mode().Perm())
	}
	if err := db.Backup(ctx, backup); ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), "already exists") {
		t.Errorf("backup over an existing file: %v", err)
	}
	if err := db.CheckPrivate(); err != nil {
		t.Errorf("CheckPrivate on private files: %v", err)
	}
	os.Chmod(path, 0o644)
	err = db.CheckPrivate()
	if err == nil || !strings.Contains(ErrorMessage(err), "frontdesk.db is -rw-r--r--") || !strings.Contains(ErrorMessage(err), "chmod 600 "+path+"`") {
		t.Errorf("CheckPrivate on a 0644 database: %v", err)
	}
}

// TestNamedKeyFileIsNeverMadeBySealing: a key file named explicitly (a share
// for several machines) that is missing is an error, not a new key only this
// machine would have; rotate-key makes it.
func TestNamedKeyFileIsNeverMadeBySealing(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		e := newObEnv(t)
		ctx := context.Background()
		named := filepath.Join(t.TempDir(), "shared", "outbox.key")
		db, err := openTarget(e.path, e.dir, Options{OutboxKey: named})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		m := &OutboxMessage{OrgID: e.org.ID, CustomerID: e.customer(t).ID, Kind: "invite", To: "a@example.com", Subject: "s", Text: "t"}
		err = db.Tx(ctx, func(tx *Tx) error { return tx.EnqueueMessage(ctx, m) })
		if err == nil || !strings.Contains(ErrorMessage(err), "rotate-key --outbox-key "+named) {
			t.Fatalf("sealing with a missing named key file: %v", err)
		}
		if _, err := os.Stat(named); err == nil {
			t.Fatal("sealing made the named key file")
		}
		if n := len(e.lease(t, "w", 10)); n != 0 {
			t.Fatalf("the refused message was queued (%d leased)", n)
		}
		if _, err := db.RotateOutboxKey(ctx, SystemActor("cli:test")); err != nil {
			t.Fatal(err)
		}
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.EnqueueMessage(ctx, m) }); err != nil {
			t.Fatalf("after rotate-key made the file: %v", err)
		}
	})
}

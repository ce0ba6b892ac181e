package main

import (
	"bytes"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/emersion/go-smtp"
)

// anyLink finds claim and reset links in a raw email, across the soft line
// breaks of quoted-printable.
var anyLink = regexp.MustCompile(`https://desk\.example/(?:claim|reset)/([A-Za-z0-9_-]{43})`)

func linkTokens(t *testing.T, raw string) []string {
	t.Helper()
	raw = strings.NewReplacer("=\r\n", "", "=\n", "").Replace(raw)
	var out []string
	for _, m := range anyLink.FindAllStringSubmatch(raw, -1) {
		out = append(out, m[1])
	}
	if len(out) == 0 {
		t.Fatalf("no link in the email:\n%s", raw)
	}
	return out
}

// tokenForms are the ways a token could sit in a file: as sent, and its 32
// bytes in standard and URL base64 (padded or not) and in hex.
func tokenForms(t *testing.T, token string) map[string][]byte {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 32 {
		t.Fatalf("%q is not a token: %v", token, err)
	}
	return map[string][]byte{
		"token text":         []byte(token),
		"URL base64, padded": []byte(base64.URLEncoding.EncodeToString(raw)),
		"std base64":         []byte(base64.RawStdEncoding.EncodeToString(raw)),
		"std base64, padded": []byte(base64.StdEncoding.EncodeToString(raw)),
		"hex":                []byte(hex.EncodeToString(raw)),
		"HEX":                []byte(strings.ToUpper(hex.EncodeToString(raw))),
		"raw bytes":          raw,
	}
}

// assertNoToken fails for every form of every token found in the files.
func assertNoToken(t *testing.T, files map[string][]byte, tokens map[string]string) {
	t.Helper()
	for name, b := range files {
		for which, tok := range tokens {
			for form, needle := range tokenForms(t, tok) {
				if bytes.Contains(b, needle) {
					t.Errorf("%s holds the token of the %s invite (%s)", name, which, form)
				}
			}
		}
	}
}

func readFiles(t *testing.T, paths ...string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

// TestNoTokenAtRest: whatever state an invite's email is in (queued while
// the server is unreachable, refused with a 550, sent), no copy of the
// database files, WAL included, and no backup lets anyone read a live link.
// The tokens are taken from what left frontdesk (the SMTP server's copy, the
// file transport's .eml): the database no longer holds them.
func TestNoTokenAtRest(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "60")
	db := filepath.Join(c.dir, "frontdesk.db")

	// Hold the database open, as a running serve does, so that the WAL stays
	// on disk between the commands below.
	hold, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	hold.SetMaxIdleConns(1)
	if _, err := hold.Exec(`SELECT count(*) FROM outbox`); err != nil {
		t.Fatal(err)
	}

	// Queued: nothing listens at the SMTP address.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := l.Addr().String()
	l.Close()
	c.useSMTP(dead)
	_, queuedTo := c.firstWith("not-invited")
	if out := c.ok("invite", queuedTo); !strings.Contains(out, "queued") {
		t.Fatalf("invite with the server down: %q", out)
	}
	var queuedID int64
	if err := hold.QueryRow(`SELECT id FROM outbox WHERE to_addr = ?`, queuedTo).Scan(&queuedID); err != nil {
		t.Fatal(err)
	}

	// Failed: the server takes the whole message, then answers 550.
	refusing := startMailServer(t)
	refusing.rejectData = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Message refused"}
	c.useSMTP(refusing.addr)
	_, failedTo := c.firstWith("not-invited")
	if code, out, _ := c.run("invite", failedTo); code != 1 || !strings.Contains(out, "550") {
		t.Fatalf("invite refused with 550: exit %d, %q", code, out)
	}

	// Sent.
	mail := startMailServer(t)
	c.useSMTP(mail.addr)
	_, sentTo := c.firstWith("not-invited")
	if out := c.ok("invite", sentTo); !strings.Contains(out, "sent to") {
		t.Fatalf("invite: %q", out)
	}

	tokens := map[string]string{}
	if got := refusing.received(); len(got) != 1 {
		t.Fatalf("the refusing server saw %d messages", len(got))
	} else {
		tokens["refused"] = linkTokens(t, got[0])[0]
	}
	if got := mail.received(); len(got) != 1 {
		t.Fatalf("the server received %d messages", len(got))
	} else {
		tokens["sent"] = linkTokens(t, got[0])[0]
	}

	backup := filepath.Join(t.TempDir(), "copy.db")
	c.ok("backup", backup)
	wal := db + "-wal"
	if _, err := os.Stat(wal); err != nil {
		t.Fatalf("the WAL is not on disk while the database is open: %v", err)
	}
	// The files as they were while the first invite was still queued.
	snapshot := readFiles(t, db, wal, backup)

	// Now deliver the queued invite through the file transport, to learn
	// its token.
	delete(c.env, "FRONTDESK_SMTP_HOST")
	if out := c.ok("outbox", "retry", strconv.FormatInt(queuedID, 10)); !strings.Contains(out, "sent") {
		t.Fatalf("retry through the file transport: %q", out)
	}
	emls, _ := filepath.Glob(filepath.Join(c.dir, "outbox", "*.eml"))
	if len(emls) != 1 {
		t.Fatalf("%d .eml files, want the retried invite", len(emls))
	}
	eml, err := os.ReadFile(emls[0])
	if err != nil {
		t.Fatal(err)
	}
	tokens["queued"] = linkTokens(t, string(eml))[0]

	assertNoToken(t, snapshot, tokens)
	backup2 := filepath.Join(t.TempDir(), "copy2.db")
	c.ok("backup", backup2)
	now := readFiles(t, db, wal, backup2)
	assertNoToken(t, now, tokens)
}

// queueInvite invites a not-invited demo customer while no SMTP server
// listens, and returns the message id and the address.
func (c *cli) queueInvite() (int64, string) {
	c.t.Helper()
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := l.Addr().String()
	l.Close()
	c.useSMTP(dead)
	_, to := c.firstWith("not-invited")
	if out := c.ok("invite", to); !strings.Contains(out, "queued") {
		c.t.Fatalf("invite with the server down: %q", out)
	}
	var id int64
	if err := c.sqlite().QueryRow(`SELECT id FROM outbox WHERE to_addr = ? AND status = 'queued'`, to).Scan(&id); err != nil {
		c.t.Fatal(err)
	}
	return id, to
}

func (c *cli) outboxRow(id int64) (status, lastError string) {
	c.t.Helper()
	if err := c.sqlite().QueryRow(`SELECT status, last_error FROM outbox WHERE id = ?`, id).Scan(&status, &lastError); err != nil {
		c.t.Fatal(err)
	}
	return status, lastError
}

// TestWrongOutboxKeyCannotSend: a process given another key file (a second
// machine without the shared key, say) sends nothing, says which key it
// lacks, and leaves the message for one that has it.
func TestWrongOutboxKeyCannotSend(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "40")
	id, to := c.queueInvite()
	mail := startMailServer(t)
	c.useSMTP(mail.addr)
	other := filepath.Join(t.TempDir(), "other.key")
	out := c.ok("outbox", "retry", strconv.FormatInt(id, 10), "--outbox-key", other)
	if !strings.Contains(out, "queued") || !strings.Contains(out, "sealed with outbox key") || !strings.Contains(out, other) {
		t.Fatalf("retry with the wrong key file: %q", out)
	}
	if n := len(mail.received()); n != 0 {
		t.Fatalf("sent %d messages with the wrong key", n)
	}
	if status, lastErr := c.outboxRow(id); status != "queued" || !strings.Contains(lastErr, "--outbox-key") {
		t.Fatalf("after the wrong key: %s %q", status, lastErr)
	}
	// The same through the environment, as every flag.
	c.env["FRONTDESK_OUTBOX_KEY"] = other
	c.ok("outbox", "retry", strconv.FormatInt(id, 10))
	if n := len(mail.received()); n != 0 {
		t.Fatalf("sent %d messages with FRONTDESK_OUTBOX_KEY pointing at the wrong key", n)
	}
	delete(c.env, "FRONTDESK_OUTBOX_KEY")
	if out := c.ok("outbox", "retry", strconv.FormatInt(id, 10)); !strings.Contains(out, "sent") {
		t.Fatalf("retry with the right key: %q", out)
	}
	if got := mail.received(); len(got) != 1 || !strings.Contains(got[0], to) || !claimLink.MatchString(got[0]) {
		t.Fatalf("the server received %v", got)
	}
}

// TestRotateKeyKeepsQueuedMailDeliverable: after rotate-key the queued
// invite still goes out with its link, and a copy of the old key file opens
// nothing.
func TestRotateKeyKeepsQueuedMailDeliverable(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "40")
	id, _ := c.queueInvite()
	keyFile := filepath.Join(c.dir, "outbox.key")
	oldKey, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatalf("no key file beside the database after an invite: %v", err)
	}
	leaked := filepath.Join(t.TempDir(), "leaked.key")
	os.WriteFile(leaked, oldKey, 0o600)

	if help := c.ok("outbox", "rotate-key", "--help"); !strings.Contains(help, "may have leaked") {
		t.Errorf("rotate-key --help does not say when to use it:\n%s", help)
	}
	out := c.ok("outbox", "rotate-key")
	if !regexp.MustCompile(`Outbox key rotated: 1 message re-encrypted under key [0-9a-f]{8} in .*outbox.key; retired key [0-9a-f]{8}\.`).MatchString(out) {
		t.Fatalf("rotate-key said %q", out)
	}
	newKey, _ := os.ReadFile(keyFile)
	if bytes.Equal(newKey, oldKey) {
		t.Fatal("the key file did not change")
	}
	var audited int
	c.sqlite().QueryRow(`SELECT count(*) FROM audit WHERE action = 'outbox.rotate_key'`).Scan(&audited)
	if audited != 1 {
		t.Errorf("%d audit rows for the rotation, want one (one organization)", audited)
	}

	mail := startMailServer(t)
	c.useSMTP(mail.addr)
	if out := c.ok("outbox", "retry", strconv.FormatInt(id, 10), "--outbox-key", leaked); !strings.Contains(out, "queued") {
		t.Fatalf("retry with the old key: %q", out)
	}
	if n := len(mail.received()); n != 0 {
		t.Fatal("the retired key still opens the queued invite")
	}
	if out := c.ok("outbox", "retry", strconv.FormatInt(id, 10)); !strings.Contains(out, "sent") {
		t.Fatalf("retry after the rotation: %q", out)
	}
	if got := mail.received(); len(got) != 1 || !claimLink.MatchString(got[0]) {
		t.Fatalf("the server received %v", got)
	}
}

// TestRetryFailedInviteSendsAFreshLink: the CLI side of claim's
// RetryMessage: a 550'd invite is retried as a new link, not the dead one.
func TestRetryFailedInviteSendsAFreshLink(t *testing.T) {
	mail := startMailServer(t)
	mail.reject = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "User unknown"}
	c := newCLI(t)
	c.ok("demo", "--customers", "40")
	c.useSMTP(mail.addr)
	_, email := c.firstWith("not-invited")
	if code, _, _ := c.run("invite", email); code != 1 {
		t.Fatalf("invite refused with 550: exit %d", code)
	}
	var id int64
	c.sqlite().QueryRow(`SELECT id FROM outbox WHERE to_addr = ?`, email).Scan(&id)
	mail.mu.Lock()
	mail.reject = nil
	mail.mu.Unlock()
	out := c.ok("outbox", "retry", strconv.FormatInt(id, 10))
	if !strings.Contains(out, fmt.Sprintf("Message %d had failed and its link no longer works; a fresh invite for %s is message", id, email)) || !strings.Contains(out, "sent") {
		t.Fatalf("retry of a failed invite: %q", out)
	}
	if got := mail.received(); len(got) != 1 || !claimLink.MatchString(got[0]) {
		t.Fatalf("the server received %v", got)
	}
}

// TestFilesArePrivate: whatever the umask, the data directory, the database,
// the key file and a backup are the owner's alone, and serve refuses a
// database others can read.
func TestFilesArePrivate(t *testing.T) {
	defer syscall.Umask(syscall.Umask(0o022))
	c := newCLI(t)
	c.dir = filepath.Join(c.dir, "data") // made by frontdesk
	c.ok("demo", "--customers", "20")
	c.queueInvite()
	backup := filepath.Join(t.TempDir(), "copy.db")
	c.ok("backup", backup)
	for _, p := range []string{c.dir, filepath.Join(c.dir, "frontdesk.db"), filepath.Join(c.dir, "outbox.key"), backup} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v; want the owner's alone", p, st.Mode().Perm())
		}
	}

	db := filepath.Join(c.dir, "frontdesk.db")
	os.Chmod(db, 0o644)
	code, _, errs := c.run("serve", "--ssh-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errs, "can be read by others") || !strings.Contains(errs, "run `chmod 600 "+db) {
		t.Fatalf("serve on a 0644 database: exit %d\n%s", code, errs)
	}
	if strings.Contains(errs, "serving") {
		t.Fatal("serve started")
	}
}

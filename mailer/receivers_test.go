package mailer_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"frontdesk/claim"
	"frontdesk/mailer"
	"frontdesk/store"
	"frontdesk/store/storetest"
)

// Every kind of email frontdesk sends (the invite, the reminder, the reset
// link, both notices of a changed address), made by the claim service and
// delivered by the worker to a real SMTP server, carries what receiving
// servers check before they trust a message: a Message-ID on the sender's
// domain, a Date, Auto-Submitted (RFC 3834: no auto-replies), a plain-text
// part, and a DKIM signature for the sender's domain that a verifier
// accepts with the key published in (the test's) DNS.
func TestEveryEmailCarriesWhatReceiversCheck(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(filepath.Join(t.TempDir(), "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var mu sync.Mutex
	now := time.Now().UTC().Truncate(time.Second)
	db.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }

	org := &store.Org{Name: "Harbor Yoga", TimeZone: "Europe/London", ReplyTo: "desk@harbor.example", Notifications: true, RemindAfter: 24 * time.Hour}
	owner := &store.Staff{Email: "maya@harbor.example", Name: "Maya Harbor", Role: store.RoleOwner}
	ana := &store.Customer{FirstName: "Ana", LastName: "Lima", Email: "ana@example.com"}
	jane := &store.Customer{FirstName: "Jane", LastName: "Doe", Email: "jane@example.com"}
	storetest.Write(t, db, func(tx *store.Tx) (int, error) {
		if err := tx.CreateOrg(ctx, org); err != nil {
			return 0, err
		}
		owner.OrgID, ana.OrgID, jane.OrgID = org.ID, org.ID, org.ID
		if err := tx.CreateStaff(ctx, owner); err != nil {
			return 0, err
		}
		if err := tx.CreateCustomer(ctx, ana); err != nil {
			return 0, err
		}
		return 0, tx.CreateCustomer(ctx, jane)
	})
	storetest.Write(t, db, func(tx *store.Tx) (bool, error) {
		return tx.ClaimAccount(ctx, org.ID, jane.ID, "$argon2id$v=19$m=65536,t=1,p=1$c2FsdA$aGFzaA")
	})

	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "dkim.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	dk, err := mailer.LoadDKIM(keyFile, "desk1", "frontdesk@studio.example")
	if err != nil {
		t.Fatal(err)
	}
	record := "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))

	srv := mailer.StartTestSMTPServer(t)
	w := &mailer.Worker{DB: db, Transport: srv.TransportWithDKIM(t, dk), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	svc := &claim.Service{DB: db, BaseURL: "https://desk.example", Mail: w}

	send := func(c *store.Customer, purpose store.Purpose) {
		t.Helper()
		outs, err := svc.Send(ctx, owner, []int64{c.ID}, claim.SendOptions{Purpose: purpose})
		if err != nil || len(outs) != 1 || outs[0].Result != claim.Delivered {
			t.Fatalf("sending %s to %s: %+v, %v", purpose, c.Email, outs, err)
		}
	}
	deliver := func(ids []int64) {
		t.Helper()
		outs, err := w.Deliver(ctx, ids...)
		if err != nil || len(outs) != len(ids) {
			t.Fatalf("delivering %v: %+v, %v", ids, outs, err)
		}
		for _, o := range outs {
			if o.Status != store.OutboxSent {
				t.Fatalf("message %d: %+v", o.ID, o)
			}
		}
	}
	send(ana, store.PurposeClaim)
	send(jane, store.PurposeReset)
	ch, err := svc.ChangeEmail(ctx, owner, jane.ID, "jane.doe@newmail.example")
	if err != nil {
		t.Fatal(err)
	}
	deliver(ch.Notices)
	mu.Lock()
	now = now.Add(25 * time.Hour)
	mu.Unlock()
	reminders, err := svc.SendReminders(ctx)
	if err != nil || len(reminders) != 1 {
		t.Fatalf("reminders: %v, %v", reminders, err)
	}
	deliver(reminders)

	raw := srv.Raw()
	kinds := []string{"invite", "reset", "notice to the old address", "notice to the new address", "reminder"}
	if len(raw) != len(kinds) {
		t.Fatalf("the server received %d messages, want %d", len(raw), len(kinds))
	}
	ids := map[string]bool{}
	for i, data := range raw {
		kind := kinds[i]
		msg, err := mail.ReadMessage(strings.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		h := msg.Header
		subject, _ := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
		id := h.Get("Message-ID")
		if !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@studio.example>") || ids[id] {
			t.Errorf("%s (%s): Message-ID %q; want a new one on studio.example", kind, subject, id)
		}
		ids[id] = true
		if d, err := h.Date(); err != nil || time.Since(d).Abs() > 5*time.Minute {
			t.Errorf("%s: Date %q (%v); want the time it was sent", kind, h.Get("Date"), err)
		}
		if got := h.Get("Auto-Submitted"); got != "auto-generated" {
			t.Errorf("%s: Auto-Submitted %q", kind, got)
		}
		if from, err := mail.ParseAddress(h.Get("From")); err != nil || from.Address != "frontdesk@studio.example" || from.Name != "Harbor Yoga" {
			t.Errorf("%s: From %q", kind, h.Get("From"))
		}
		if !strings.Contains(data, "\r\nContent-Type: text/plain; charset=UTF-8\r\n") {
			t.Errorf("%s: no plain-text part", kind)
		}
		vs, err := dkim.VerifyWithOptions(strings.NewReader(data), &dkim.VerifyOptions{LookupTXT: func(name string) ([]string, error) {
			if name != "desk1._domainkey.studio.example" {
				return nil, errors.New("NXDOMAIN " + name)
			}
			return []string{record}, nil
		}})
		if err != nil || len(vs) != 1 || vs[0].Err != nil || vs[0].Domain != "studio.example" {
			t.Errorf("%s: DKIM %+v, %v", kind, vs, err)
		}
	}
}

package mailer_test

import (
	"context"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"path/filepath"
	"strings"
	"testing"

	"frontdesk/claim"
	"frontdesk/mailer"
	"frontdesk/store"
	"frontdesk/store/storetest"
)

// End to end: staff change a claimed customer's email through the claim
// service, and the outbox worker, running as `frontdesk serve` runs it,
// delivers both notices over SMTP (STARTTLS) to a real server, each to its
// own address, with the words the customer needs and no token.
func TestEmailChangeNoticesDelivered(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(filepath.Join(t.TempDir(), "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	org := &store.Org{Name: "Harbor Yoga", TimeZone: "Europe/London", ReplyTo: "desk@harbor.example", Notifications: true}
	if err := db.Tx(ctx, func(tx *store.Tx) error { return tx.CreateOrg(ctx, org) }); err != nil {
		t.Fatal(err)
	}
	owner := &store.Staff{OrgID: org.ID, Email: "maya@harbor.example", Name: "Maya Harbor", Role: store.RoleOwner}
	if err := db.Tx(ctx, func(tx *store.Tx) error { return tx.CreateStaff(ctx, owner) }); err != nil {
		t.Fatal(err)
	}
	jane := &store.Customer{OrgID: org.ID, FirstName: "Jane", LastName: "Doe", Email: "jane@example.com"}
	if err := db.Tx(ctx, func(tx *store.Tx) error { return tx.CreateCustomer(ctx, jane) }); err != nil {
		t.Fatal(err)
	}
	if !storetest.Write(t, db, func(tx *store.Tx) (bool, error) {
		return tx.ClaimAccount(ctx, org.ID, jane.ID, "$argon2id$v=19$m=65536,t=1,p=1$c2FsdA$aGFzaA")
	}) {
		t.Fatal("claiming: already claimed")
	}

	srv := mailer.StartTestSMTPServer(t)
	w := &mailer.Worker{DB: db, Transport: srv.Transport(t), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}

	svc := &claim.Service{DB: db, BaseURL: "https://desk.example"}
	ch, err := svc.ChangeEmail(ctx, owner, jane.ID, "jane.doe@newmail.example")
	if err != nil {
		t.Fatal(err)
	}
	// What the desk does right after the change (serve's worker would pick
	// them up at its next poll all the same).
	outs, err := w.Deliver(ctx, ch.Notices...)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if o.Status != store.OutboxSent {
			t.Fatalf("notice %d: %+v, want sent", o.ID, o)
		}
	}
	if n := len(srv.Received()); n != 2 {
		t.Fatalf("the server received %d messages, want the 2 notices", n)
	}

	got := map[string]string{} // recipient → subject and decoded text
	for _, r := range srv.Received() {
		if len(r.To) != 1 || !r.TLS {
			t.Fatalf("envelope to %v, TLS %v; want one recipient over TLS", r.To, r.TLS)
		}
		got[r.To[0]] = decodedText(t, r.Data)
	}
	old, neu := got["jane@example.com"], got["jane.doe@newmail.example"]
	for _, want := range []string{"Subject: Your Harbor Yoga sign-in address was changed", "j***@newmail.example", "desk@harbor.example"} {
		if !strings.Contains(old, want) {
			t.Errorf("notice to the old address lacks %q:\n%s", want, old)
		}
	}
	for _, want := range []string{"Subject: This is now your Harbor Yoga sign-in address", "https://desk.example/login?org=harbor-yoga"} {
		if !strings.Contains(neu, want) {
			t.Errorf("notice to the new address lacks %q:\n%s", want, neu)
		}
	}
	if strings.Contains(old, "jane.doe@newmail.example") {
		t.Error("the old address was told the new address unmasked")
	}
	for _, body := range []string{old, neu} {
		if strings.Contains(body, "/claim/") || strings.Contains(body, "/reset/") {
			t.Errorf("a notice carries a token link:\n%s", body)
		}
	}
	for _, id := range ch.Notices {
		m, err := db.OutboxMessage(ctx, org.ID, id)
		if err != nil || m.Status != store.OutboxSent || m.Kind != store.MessageEmailChange || m.CustomerID != jane.ID {
			t.Errorf("outbox %d after delivery: %+v (%v)", id, m, err)
		}
	}
}

// decodedText is a received message's subject and its parts, decoded.
func decodedText(t *testing.T, data string) string {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	out := "Subject: " + subject + "\n"
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = p
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			r = quotedprintable.NewReader(p)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		out += string(b) + "\n"
	}
}

package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"image"
	"image/png"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"frontdesk/store/brand"
)

// Fields that existed before migration 0018 (created by imports) become
// staff-only; fields created since are staff-only too until an owner opens
// one.
func TestCustomFieldsStaffOnlyByDefault(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "old.db")
		old, err := open(path, Options{}, 13)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := old.write.ExecContext(ctx, `INSERT INTO orgs (id, name, slug, created_at) VALUES (1, 'Old Studio', 'old-studio', 0);
			INSERT INTO custom_fields (org_id, name, position) VALUES (1, 'Membership level', 1)`); err != nil {
			t.Fatal(err)
		}
		old.Close()
		db, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		c := &Customer{OrgID: 1, FirstName: "Jane", Email: "jane@example.com", Fields: []Field{{Name: "Injuries", Value: "knee"}}}
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.CreateCustomer(ctx, c) }); err != nil {
			t.Fatal(err)
		}
		fields, err := db.CustomFields(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(fields) != 2 || fields[0].Name != "Membership level" || fields[1].Name != "Injuries" {
			t.Fatalf("fields %+v", fields)
		}
		for _, f := range fields {
			if f.CustomerEditable {
				t.Errorf("%s is customer-editable by default", f.Name)
			}
		}

		// The customer's own update may not touch a staff-only field.
		u := ProfileUpdate{FirstName: "Jane", Fields: []Field{{Name: "Injuries", Value: "none"}}}
		err = db.Tx(ctx, func(tx *Tx) error { return tx.UpdateCustomerProfile(ctx, 1, c.ID, u) })
		if ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), "Injuries is kept by the organization") {
			t.Fatalf("update of a staff-only field: %v", err)
		}
		if got, _ := db.Customer(ctx, 1, c.ID); got.Fields[0].Value != "knee" {
			t.Fatalf("a refused update changed the field to %q", got.Fields[0].Value)
		}

		// Opened by name, whatever its case; then the customer may change it.
		f, err := inTx(db, func(tx *Tx) (*CustomField, error) { return tx.SetCustomFieldEditable(ctx, 1, "injuries", true) })
		if err != nil || f.Name != "Injuries" || !f.CustomerEditable {
			t.Fatalf("SetCustomFieldEditable: %+v, %v", f, err)
		}
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.UpdateCustomerProfile(ctx, 1, c.ID, u) }); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.Customer(ctx, 1, c.ID); got.Fields[0].Value != "none" {
			t.Fatalf("field after an allowed update: %q", got.Fields[0].Value)
		}

		_, err = inTx(db, func(tx *Tx) (*CustomField, error) { return tx.SetCustomFieldEditable(ctx, 1, "Shoe size", true) })
		if ErrorCode(err) != ENOTFOUND || !strings.Contains(ErrorMessage(err), "the fields are: Membership level, Injuries") {
			t.Errorf("unknown field: %v", err)
		}
		// Another organization's field of the same name is not this one's.
		other := mustOrg(t, db, "Other Studio")
		if _, err := inTx(db, func(tx *Tx) (*CustomField, error) { return tx.SetCustomFieldEditable(ctx, other.ID, "Injuries", true) }); ErrorCode(err) != ENOTFOUND {
			t.Errorf("another organization's field: %v", err)
		}
	})
}

func TestOrgBrand(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		db, _ := newStoreForTest(t)
		ctx := context.Background()
		org := mustOrg(t, db, "Harbor Yoga")

		org.Accent = "#FFEE00"
		err := db.Tx(ctx, func(tx *Tx) error { return tx.UpdateOrg(ctx, org) })
		if ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), "#ffee00 on white") {
			t.Fatalf("a failing accent: %v", err)
		}
		org.Accent = "#0B6B3A"
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.UpdateOrg(ctx, org) }); err != nil {
			t.Fatal(err)
		}

		img := image.NewNRGBA(image.Rect(0, 0, 80, 20))
		var b bytes.Buffer
		png.Encode(&b, img)
		logo, err := brand.CheckLogo("logo.png", b.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.SetOrgLogo(ctx, org, logo) }); err != nil {
			t.Fatal(err)
		}
		got, err := db.OrgBySlug(ctx, "harbor-yoga")
		if err != nil {
			t.Fatal(err)
		}
		if got.Accent != "#0b6b3a" || got.LogoHash != logo.Hash || got.LogoType != "image/png" || got.LogoWidth != 80 || got.LogoHeight != 20 {
			t.Fatalf("org after branding: %+v", got)
		}
		data, typ, err := db.OrgLogo(ctx, org.ID)
		if err != nil || typ != "image/png" || !bytes.Equal(data, logo.Data) {
			t.Fatalf("OrgLogo: %d bytes, %q, %v", len(data), typ, err)
		}

		// A link's organization carries the brand too (the link pages show it).
		c := mustCustomer(t, db, org, "Jane", "Doe", "jane@example.com")
		inv := mustInvite(t, db, c, mustStaff(t, db, org, "maya@harbor.example", RoleOwner), time.Hour)
		_, lorg, _, err := db.LinkByTokenHash(ctx, inv.TokenHash)
		if err != nil || lorg.Accent != "#0b6b3a" || lorg.LogoHash != logo.Hash || lorg.LogoWidth != 80 {
			t.Fatalf("link's organization: %+v, %v", lorg, err)
		}

		// Removed: no bytes, no description.
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.SetOrgLogo(ctx, org, nil) }); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.OrgLogo(ctx, org.ID); ErrorCode(err) != ENOTFOUND {
			t.Errorf("logo after removal: %v", err)
		}
		if got, _ := db.Org(ctx, org.ID); got.LogoHash != "" || got.LogoType != "" {
			t.Errorf("org after removing the logo: %+v", got)
		}
		// Unchecked bytes are refused.
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.SetOrgLogo(ctx, org, &brand.Logo{Data: []byte("x")}) }); ErrorCode(err) != EINVALID {
			t.Errorf("unchecked logo: %v", err)
		}
	})
}

func TestRecentRenewals(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		db, now := newStoreForTest(t)
		ctx := context.Background()
		org := mustOrg(t, db, "Harbor Yoga")
		owner := mustStaff(t, db, org, "maya@harbor.example", RoleOwner)
		c := mustCustomer(t, db, org, "Jane", "Doe", "Jane@example.com")
		mustInvite(t, db, c, owner, time.Hour) // staff's: not counted
		renewal := func() {
			inv := &Invite{OrgID: org.ID, CustomerID: c.ID, Purpose: PurposeClaim, Email: c.Email, ExpiresAt: db.Now().Add(time.Hour)}
			// A random hash: one made from the clock repeated itself when
			// two renewals fell in the same 256 ns.
			inv.TokenHash = make([]byte, 32)
			rand.Read(inv.TokenHash)
			if err := db.Tx(ctx, func(tx *Tx) error { return tx.CreateInvite(ctx, inv) }); err != nil {
				t.Fatal(err)
			}
		}
		renewal()
		renewal()
		since := now.Add(-time.Hour)
		if n, err := db.RecentRenewals(ctx, c.ID, "", since); err != nil || n != 2 {
			t.Errorf("per customer: %d, %v", n, err)
		}
		if n, err := db.RecentRenewals(ctx, 0, "jane@EXAMPLE.com", since); err != nil || n != 2 {
			t.Errorf("per mailbox: %d, %v", n, err)
		}
		if n, _ := db.RecentRenewals(ctx, c.ID, "", now.Add(time.Second)); n != 0 {
			t.Errorf("renewals after now: %d", n)
		}
	})
}

package store

import (
	"context"
	"strings"
	"testing"
)

// The customers' web checks and words its refusals first (claim.UpdateProfile);
// the store is the backstop for any other caller: text that would reach the
// staff terminal as NUL, broken UTF-8 or a control sequence, or that is far
// longer than a profile field, is never stored.
func TestUpdateCustomerProfileRefusesBadText(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		db, _ := newStoreForTest(t)
		ctx := context.Background()
		org := mustOrg(t, db, "Harbor Yoga")
		c := &Customer{OrgID: org.ID, FirstName: "Jane", LastName: "Doe", Email: "jane@example.com", Fields: []Field{{Name: "Level", Value: "Beginner"}}}
		if err := db.Tx(ctx, func(tx *Tx) error {
			if err := tx.CreateCustomer(ctx, c); err != nil {
				return err
			}
			_, err := tx.SetCustomFieldEditable(ctx, org.ID, "Level", true)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		good := ProfileUpdate{FirstName: "Janet", LastName: "Doe", Phone: "+44 20 7946 0018", Fields: []Field{{Name: "Level", Value: "Improver"}}}
		cases := map[string]func(u *ProfileUpdate){
			"NUL in name":         func(u *ProfileUpdate) { u.FirstName = "Ja\x00net" },
			"invalid UTF-8":       func(u *ProfileUpdate) { u.LastName = "Doe\xff" },
			"escape sequence":     func(u *ProfileUpdate) { u.Phone = "0123\x1b[2J" },
			"NUL in field":        func(u *ProfileUpdate) { u.Fields = []Field{{Name: "Level", Value: "x\x00"}} },
			"broken field":        func(u *ProfileUpdate) { u.Fields = []Field{{Name: "Level", Value: "\xc3"}} },
			"long name":           func(u *ProfileUpdate) { u.FirstName = strings.Repeat("n", MaxNameLen+1) },
			"long phone":          func(u *ProfileUpdate) { u.Phone = strings.Repeat("1", MaxPhoneLen+1) },
			"long field":          func(u *ProfileUpdate) { u.Fields = []Field{{Name: "Level", Value: strings.Repeat("v", MaxFieldLen+1)}} },
			"undeclared field":    func(u *ProfileUpdate) { u.Fields = []Field{{Name: "Shoe size", Value: "42"}} },
			"megabyte of letters": func(u *ProfileUpdate) { u.LastName = strings.Repeat("é", 1<<20) },
		}
		for name, mutate := range cases {
			u := good
			u.Fields = append([]Field(nil), good.Fields...)
			mutate(&u)
			if err := db.Tx(ctx, func(tx *Tx) error { return tx.UpdateCustomerProfile(ctx, org.ID, c.ID, u) }); ErrorCode(err) != EINVALID {
				t.Errorf("%s: %v, want EINVALID", name, err)
			}
		}
		got, err := db.Customer(ctx, org.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.FirstName != "Jane" || got.LastName != "Doe" || got.Phone != "" || got.Fields[0].Value != "Beginner" {
			t.Fatalf("a refused update changed the customer: %+v", got)
		}
		// At the limits, in characters rather than bytes, it saves.
		u := good
		u.FirstName = strings.Repeat("é", MaxNameLen)
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.UpdateCustomerProfile(ctx, org.ID, c.ID, u) }); err != nil {
			t.Fatalf("a name of %d characters: %v", MaxNameLen, err)
		}
	})
}

// Another organization's id pair changes nothing.
func TestUpdateCustomerProfileOrgScoped(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		db, _ := newStoreForTest(t)
		ctx := context.Background()
		harbor, clinic := mustOrg(t, db, "Harbor Yoga"), mustOrg(t, db, "Seaside Clinic")
		jane := mustCustomer(t, db, harbor, "Jane", "Doe", "jane@example.com")
		err := db.Tx(ctx, func(tx *Tx) error {
			return tx.UpdateCustomerProfile(ctx, clinic.ID, jane.ID, ProfileUpdate{FirstName: "Mallory"})
		})
		if ErrorCode(err) != ENOTFOUND {
			t.Fatalf("update through another organization: %v", err)
		}
		if got, _ := db.Customer(ctx, harbor.ID, jane.ID); got.FirstName != "Jane" {
			t.Fatalf("changed through another organization: %+v", got)
		}
	})
}

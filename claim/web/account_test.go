package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"frontdesk/store"
)

func (f *fixture) activity(c *store.Customer) {
	f.t.Helper()
	ctx := context.Background()
	now := f.db.Now()
	err := f.db.Tx(ctx, func(tx *store.Tx) error {
		for _, b := range []store.Booking{
			{Kind: "class", Title: "Sunrise Flow", StartsAt: now.Add(48 * time.Hour), EndsAt: now.Add(49 * time.Hour), Status: "booked"},
			{Kind: "appointment", Title: "Physio check-in", StartsAt: now.Add(-72 * time.Hour), EndsAt: now.Add(-71 * time.Hour), Status: "attended"},
			{Kind: "event", Title: "Winter Retreat", StartsAt: now.Add(30 * 24 * time.Hour), EndsAt: now.Add(32 * 24 * time.Hour), Status: "booked"},
		} {
			if err := tx.AddBooking(ctx, c.ID, &b); err != nil {
				return err
			}
		}
		if err := tx.AddPayment(ctx, c.ID, &store.Payment{Amount: 123450, Currency: "GBP", Description: "10-class pass", PaidAt: now.Add(-24 * time.Hour), Status: "paid"}); err != nil {
			return err
		}
		return tx.AddSubscription(ctx, c.ID, &store.Subscription{Plan: "Unlimited monthly", Price: 8900, Currency: "GBP", Interval: "month", Status: "active", StartedAt: now.Add(-60 * 24 * time.Hour), RenewsAt: now.Add(5 * 24 * time.Hour)})
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

// customerWithFields creates a claimed customer with custom field values,
// which declares the fields for the organization, open to customers
// (staff-only is the default; see staffOnly).
func (f *fixture) customerWithFields(org *store.Org, first, email string, fields ...store.Field) *store.Customer {
	f.t.Helper()
	c := &store.Customer{OrgID: org.ID, FirstName: first, LastName: "Test", Email: email, Fields: fields}
	err := f.db.Tx(context.Background(), func(tx *store.Tx) error {
		if err := tx.CreateCustomer(context.Background(), c); err != nil {
			return err
		}
		for _, fl := range fields {
			if _, err := tx.SetCustomFieldEditable(context.Background(), org.ID, fl.Name, true); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.svc.Redeem(context.Background(), store.PurposeClaim, f.invite(c), goodPassword); err != nil {
		f.t.Fatal(err)
	}
	return c
}

func TestAccountPage(t *testing.T) {
	f := newFixture(t)
	jane := f.customerWithFields(f.org, "Jane", "jane@example.com", store.Field{Name: "Emergency contact", Value: "Sam 555-0100"})
	f.activity(jane)
	b := f.browser()
	b.signIn("harbor-yoga", "jane@example.com", goodPassword)
	p := b.get("/account")
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, "Harbor Yoga", "Hello, Jane", "jane@example.com",
		"Sunrise Flow", "Class", "Wed 25 Nov 2026, 14:05–15:05", // upcoming, in the studio's zone
		"Winter Retreat", "Physio check-in", "Attended",
		"£1,234.50", "10-class pass", "Unlimited monthly", "£89.00 a month", "renews",
		`<label for="field-0">Emergency contact</label>`, `value="Sam 555-0100"`,
		`autocomplete="given-name"`, `autocomplete="tel"`)
	if strings.Index(p.body, "Sunrise Flow") > strings.Index(p.body, "Physio check-in") {
		t.Error("upcoming bookings are not listed before past ones")
	}
	if strings.Contains(p.body, "Manage payment methods") {
		t.Error("payment methods link without a payments URL")
	}
	if p.header.Get("Cache-Control") != "no-store" {
		t.Error("account page may be cached")
	}

	f.org.PaymentsURL = "https://pay.example/harbor"
	if err := f.db.Tx(t.Context(), func(tx *store.Tx) error { return tx.UpdateOrg(t.Context(), f.org) }); err != nil {
		t.Fatal(err)
	}
	mustContain(t, b.get("/account"), `href="https://pay.example/harbor"`, "Manage payment methods")

	// Not signed in: to the sign-in page.
	if p := f.browser().get("/account"); p.status != http.StatusSeeOther || p.location() != "/login" {
		t.Fatalf("account without a session: %d %q", p.status, p.location())
	}
}

func TestAccountUpdate(t *testing.T) {
	f := newFixture(t)
	jane := f.customerWithFields(f.org, "Jane", "jane@example.com", store.Field{Name: "Emergency contact", Value: "Sam"}, store.Field{Name: "Injuries", Value: ""})
	b := f.browser()
	b.signIn("harbor-yoga", "jane@example.com", goodPassword)

	p := b.post("/account", url.Values{"first_name": {"Janet"}, "last_name": {"Doe-Ray"}, "phone": {"+44 20 7946 0018"}, "field.0": {"Alex 555-0199"}, "field.1": {"left knee"}})
	if p.status != http.StatusSeeOther || p.location() != "/account?m=saved" {
		t.Fatalf("save: %d %q\n%s", p.status, p.location(), p.body)
	}
	mustContain(t, b.follow(p), "Your details were saved.", `value="Janet"`, `value="left knee"`)
	got, _ := f.db.Customer(t.Context(), f.org.ID, jane.ID)
	if got.FirstName != "Janet" || got.LastName != "Doe-Ray" || got.Phone != "+44 20 7946 0018" || len(got.Fields) != 2 || got.Fields[0].Value != "Alex 555-0199" {
		t.Fatalf("saved %+v", got)
	}
	if f.auditCount("account.profile") != 1 {
		t.Error("profile change not audited")
	}
	// The roster search sees the new name and phone.
	ids, err := f.db.CustomersByID(t.Context(), f.org.ID, []int64{jane.ID})
	if err != nil || len(ids) != 1 || ids[0].Name() != "Janet Doe-Ray" {
		t.Fatalf("roster row %v %v", ids, err)
	}

	cases := []struct {
		name  string
		form  url.Values
		field string
		want  string
	}{
		{"no name", url.Values{"first_name": {" "}, "last_name": {""}}, "first_name", "Enter a first or last name."},
		{"escape sequence", url.Values{"first_name": {"Jane\x1b[2J"}, "last_name": {"Doe"}}, "first_name", "control character"},
		{"not text", url.Values{"first_name": {"Jane"}, "last_name": {"\xff\xfe"}}, "last_name", "not valid text"},
		{"zero-width space", url.Values{"first_name": {"Jane"}, "last_name": {"Do\u200be"}}, "last_name", "Last name contains an invisible character (U+200B); remove it."},
		{"bidi override in a field", url.Values{"first_name": {"Jane"}, "field.0": {"\u202eevil"}}, "field.0", "contains an invisible character (U+202E); remove it."},
		{"ZWJ between Latin letters", url.Values{"first_name": {"Ja\u200dne"}}, "first_name", "First name contains an invisible character (U+200D)"},
		{"long name", url.Values{"first_name": {strings.Repeat("é", 101)}}, "first_name", "First name is too long (101 characters); use at most 100 characters."},
		{"long field", url.Values{"first_name": {"Jane"}, "field.1": {strings.Repeat("x", 501)}}, "field.1", "at most 500 characters"},
		{"phone without digits", url.Values{"first_name": {"Jane"}, "phone": {"call me"}}, "phone", "Phone has no digits"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := b.post("/account", c.form)
			wantStatus(t, p, http.StatusUnprocessableEntity)
			id := strings.Replace(c.field, ".", "-", 1)
			mustContain(t, p, `id="`+id+`-error" role="alert">`, c.want)
		})
	}
	again, _ := f.db.Customer(t.Context(), f.org.ID, jane.ID)
	if again.FirstName != "Janet" {
		t.Fatal("a refused form changed the customer")
	}
}

// A customer's session reads and writes that customer only, whatever ids
// the form or the address carries.
func TestAccountIsolation(t *testing.T) {
	f := newFixture(t)
	clinic := f.newOrg("Seaside Clinic")
	jane := f.customerWithFields(f.org, "Jane", "jane@example.com", store.Field{Name: "Level", Value: "Beginner"})
	bob := f.customerWithFields(f.org, "Bob", "bob@example.com", store.Field{Name: "Level", Value: "Advanced"})
	cleo := f.customerWithFields(clinic, "Cleo", "cleo@example.com", store.Field{Name: "Level", Value: "Other org"})
	f.activity(bob)

	b := f.browser()
	b.signIn("harbor-yoga", "jane@example.com", goodPassword)
	for _, path := range []string{"/account?id=" + itoa(int(bob.ID)), "/account?customer_id=" + itoa(int(bob.ID)) + "&org_id=" + itoa(int(clinic.ID))} {
		p := b.get(path)
		wantStatus(t, p, http.StatusOK)
		if strings.Contains(p.body, "bob@example.com") || strings.Contains(p.body, "Sunrise Flow") || strings.Contains(p.body, "Advanced") {
			t.Fatalf("%s shows Bob's data", path)
		}
	}
	tamper := url.Values{
		"first_name": {"Mallory"}, "last_name": {"X"},
		"id": {itoa(int(bob.ID))}, "customer_id": {itoa(int(bob.ID))}, "org_id": {itoa(int(clinic.ID))}, "org": {"seaside-clinic"},
		"email": {"mallory@evil.example"}, "field.0": {"Expert"}, "field.7": {"new field?"}, "field.Level": {"x"},
	}
	p := b.post("/account?id="+itoa(int(bob.ID)), tamper)
	wantStatus(t, p, http.StatusSeeOther)
	for _, c := range []*store.Customer{bob, cleo} {
		got, _ := f.db.Customer(t.Context(), c.OrgID, c.ID)
		if got.FirstName != c.FirstName || got.Fields[0].Value == "Expert" {
			t.Errorf("%s changed through Jane's session: %+v", c.FirstName, got)
		}
	}
	got, _ := f.db.Customer(t.Context(), f.org.ID, jane.ID)
	if got.FirstName != "Mallory" || got.Email != "jane@example.com" || got.Fields[0].Value != "Expert" {
		t.Errorf("Jane's own change: %+v", got)
	}
	names, _ := f.db.CustomFieldNames(t.Context(), f.org.ID)
	if len(names) != 1 {
		t.Errorf("the form declared new custom fields: %v", names)
	}
	// A forged session cookie is no session.
	forged := f.browser()
	u, _ := url.Parse(f.srv.URL)
	forged.c.Jar.SetCookies(u, []*http.Cookie{{Name: "__Host-" + sessionCookie, Value: strings.Repeat("A", 43), Path: "/", Secure: true}})
	if p := forged.get("/account"); p.status != http.StatusSeeOther {
		t.Fatalf("forged session: %d", p.status)
	}
}

// staffOnly creates a claimed customer with a staff-only field,
// Membership level (staff-only is the default for a field), and an
// editable one, Emergency contact.
func (f *fixture) staffOnly(first, email string) *store.Customer {
	f.t.Helper()
	ctx := context.Background()
	c := &store.Customer{OrgID: f.org.ID, FirstName: first, LastName: "Test", Email: email,
		Fields: []store.Field{{Name: "Membership level", Value: "Gold"}, {Name: "Emergency contact", Value: "Sam 555-0100"}}}
	err := f.db.Tx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateCustomer(ctx, c); err != nil {
			return err
		}
		_, err := tx.SetCustomFieldEditable(ctx, f.org.ID, "Emergency contact", true)
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.svc.Redeem(ctx, store.PurposeClaim, f.invite(c), goodPassword); err != nil {
		f.t.Fatal(err)
	}
	return c
}

// A staff-only field is shown as text, never as an input; a form that
// changes it anyway is refused whole (403) and nothing is saved; sent back
// unchanged it is no change.
func TestAccountStaffOnlyField(t *testing.T) {
	f := newFixture(t)
	jane := f.staffOnly("Jane", "jane@example.com")
	b := f.browser()
	b.signIn("harbor-yoga", "jane@example.com", goodPassword)
	p := b.get("/account")
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, "<dt>Membership level</dt><dd>Gold</dd>", "Harbor Yoga keeps these details",
		`<label for="field-1">Emergency contact</label>`, `name="field.1"`)
	if strings.Contains(p.body, `name="field.0"`) || strings.Contains(p.body, `value="Gold"`) {
		t.Error("the staff-only field has an input")
	}

	p = b.post("/account", url.Values{"first_name": {"Janet"}, "field.0": {"Platinum"}, "field.1": {"Alex"}})
	wantStatus(t, p, http.StatusForbidden)
	mustContain(t, p, "Membership level is kept by Harbor Yoga, so it can&#39;t be changed here. Nothing was saved", `role="alert"`)
	got, _ := f.db.Customer(t.Context(), f.org.ID, jane.ID)
	if got.FirstName != "Jane" || got.Fields[0].Value != "Gold" || got.Fields[1].Value != "Sam 555-0100" {
		t.Fatalf("a refused form saved something: %+v", got)
	}
	if f.auditCount("account.profile") != 0 {
		t.Error("a refused form was audited as a change")
	}

	// The stored value sent back (a page from before the field was
	// closed): the rest is saved.
	p = b.post("/account", url.Values{"first_name": {"Janet"}, "field.0": {"Gold"}, "field.1": {"Alex"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("save with the staff-only value unchanged: %d\n%s", p.status, p.body)
	}
	got, _ = f.db.Customer(t.Context(), f.org.ID, jane.ID)
	if got.FirstName != "Janet" || got.Fields[0].Value != "Gold" || got.Fields[1].Value != "Alex" {
		t.Fatalf("after saving: %+v", got)
	}
}

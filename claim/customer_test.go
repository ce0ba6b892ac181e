package claim

import (
	"context"
	"errors"
	"strings"
	"testing"

	"frontdesk/store"
	"frontdesk/store/storetest"
)

func ptr(s string) *string { return &s }

// declare gives the organization custom fields, as a CSV import would.
func (f *fixture) declare(names ...string) {
	f.t.Helper()
	err := f.db.Tx(context.Background(), func(tx *store.Tx) error {
		for _, n := range names {
			if _, err := tx.DeclareCustomField(context.Background(), f.org.ID, n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

// fieldError is the message FieldErrors holds for key, "" when none.
func fieldError(err error, key string) string {
	var fe FieldErrors
	if !errors.As(err, &fe) {
		return ""
	}
	for _, e := range fe {
		if e.Field == key {
			return e.Message
		}
	}
	return ""
}

// audit is the customer's audit log, newest first, as "action: detail".
func (f *fixture) audit(id int64) []string {
	f.t.Helper()
	log, err := f.db.AuditLog(context.Background(), f.org.ID, id, 20)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, e := range log {
		out = append(out, e.Action+" by "+e.Actor.Name+": "+e.Detail)
	}
	return out
}

func (f *fixture) search(q string, archived bool) []string {
	f.t.Helper()
	rows, err := f.db.RosterPage(context.Background(), f.org.ID, store.RosterQuery{Search: q, Archived: archived})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, r.Name())
	}
	return out
}

// A walk-in is added at the desk with the same rules as everywhere: the
// text rule, a valid email, the email editor's words for an address
// another customer has (archived ones included, said so), the declared
// custom fields only, and an audit row. A refusal writes nothing.
func TestAddCustomer(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.declare("Membership level", "Emergency contact")
	ann := f.customer("Ann", "Lee", "ann@example.com")
	gone := f.customer("Gus", "Gone", "gus@example.com")
	if _, err := f.svc.ArchiveCustomer(ctx, f.owner, gone.ID); err != nil {
		t.Fatal(err)
	}
	inv, out, aud := f.counts()
	customers := func() int {
		return storetest.Int(t, f.db, `SELECT count(*) FROM customers`)
	}
	before := customers()

	for _, c := range []struct {
		name string
		v    CustomerValues
		key  string // FieldErrors key, or "" for another error
		want string
	}{
		{"no name", CustomerValues{Email: "x@example.com"}, KeyFirstName, "Enter a first or last name."},
		{"invisible character", CustomerValues{FirstName: "Ja\u200bne"}, KeyFirstName, "First name contains an invisible character (U+200B); remove it."},
		{"line break", CustomerValues{FirstName: "Jane", LastName: "Doe\nSmith"}, KeyLastName, "Last name contains a line break (U+000A); keep it on one line."},
		{"invalid email", CustomerValues{FirstName: "Jane", Email: "jane.example.com"}, KeyEmail, "Not valid: email has no @."},
		{"phone without digits", CustomerValues{FirstName: "Jane", Phone: "ask at desk"}, KeyPhone, "Phone has no digits; enter a number or leave it empty."},
		{"field too long", CustomerValues{FirstName: "Jane", Fields: []store.Field{{Name: "Emergency contact", Value: strings.Repeat("x", 501)}}}, FieldKey(0), "Emergency contact is too long (501 characters); use at most 500 characters."},
		{"email of another customer", CustomerValues{FirstName: "Jane", Email: "ANN@example.com"}, "", "Another customer, Ann Lee, already uses this email"},
		{"email of an archived customer", CustomerValues{FirstName: "Jane", Email: "gus@example.com"}, "", "Another customer, Gus Gone (archived), already uses this email"},
		{"unknown field", CustomerValues{FirstName: "Jane", Fields: []store.Field{{Name: "Shoe size", Value: "42"}}}, "", `There is no custom field "Shoe size"; the fields are: Membership level, Emergency contact.`},
	} {
		_, err := f.svc.AddCustomer(ctx, f.owner, c.v)
		got := fieldError(err, c.key)
		if c.key == "" {
			got = store.ErrorMessage(err)
		}
		if got != c.want {
			t.Errorf("%s: %v; want %q", c.name, err, c.want)
		}
	}
	if _, err := f.svc.AddCustomer(ctx, f.desk, CustomerValues{FirstName: "Jane"}); reason(err) != ReasonForbidden {
		t.Errorf("staff role: %v", err)
	}
	if i, o, a := f.counts(); i != inv || o != out || a != aud || customers() != before {
		t.Fatalf("refusals wrote: invites %d→%d, outbox %d→%d, audit %d→%d, customers %d→%d", inv, i, out, o, aud, a, before, customers())
	}

	c, err := f.svc.AddCustomer(ctx, f.owner, CustomerValues{FirstName: " Walk ", LastName: "In", Email: " Walk.In@Example.com ", Phone: "+44 161 496 8466",
		Fields: []store.Field{{Name: "membership LEVEL", Value: " Gold "}}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name() != "Walk In" || c.Email != "Walk.In@Example.com" || c.Status != store.StatusNotInvited || len(c.Fields) != 1 || c.Fields[0] != (store.Field{Name: "Membership level", Value: "Gold"}) {
		t.Errorf("added %+v", c)
	}
	if got := f.search("4968466", false); len(got) != 1 || got[0] != "Walk In" {
		t.Errorf("the new customer by phone: %v", got)
	}
	want := `customer.add by Maya Harbor: added "Walk In": email Walk.In@Example.com, phone "+44 161 496 8466", Membership level "Gold"`
	if got := f.audit(c.ID); len(got) != 1 || got[0] != want {
		t.Errorf("audit %q, want %q", got, want)
	}
	// Invitable at once, like any customer.
	if _, err := f.svc.Issue(ctx, f.owner, c.ID, store.PurposeClaim); err != nil {
		t.Errorf("inviting the walk-in: %v", err)
	}
	_ = ann
}

// Editing changes only the values given, keeps search and order right,
// audits what changed from what, changes the email exactly as the email
// editor does, and refuses what it must.
func TestUpdateCustomer(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.declare("Membership level")
	ann := f.customer("Ann", "Lee", "ann@example.com")
	sent := f.invite(ann)

	edit, err := f.svc.UpdateCustomer(ctx, f.owner, ann.ID, CustomerChange{FirstName: ptr("Anne "), Phone: ptr("0151 62185557"),
		Fields: []store.Field{{Name: "Membership level", Value: "Silver"}}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(edit.Changed, ", ") != "first name, phone, Membership level" || edit.Email != nil || edit.Customer.Name() != "Anne Lee" || edit.Customer.Phone != "0151 62185557" {
		t.Errorf("edit %+v, customer %+v", edit, edit.Customer)
	}
	if got := f.search("anne", false); len(got) != 1 {
		t.Errorf("search by the new name: %v", got)
	}
	if got := f.search("62185557", false); len(got) != 1 {
		t.Errorf("search by the new phone: %v", got)
	}
	if got := f.search("ann", false); len(got) != 1 || got[0] != "Anne Lee" {
		t.Errorf("prefix of the new name: %v", got)
	}
	if got := storetest.Int(t, f.db, `SELECT count(*) FROM customers WHERE sort_name = 'anne lee'`); got != 1 {
		t.Errorf("sort name not updated")
	}
	// The live invite still works: nothing about its address changed.
	if f.state(sent.token) != LinkValid {
		t.Errorf("invite after a name change: %s", f.state(sent.token))
	}
	want := `customer.edit by Maya Harbor: name "Ann Lee" → "Anne Lee"; phone "" → "0151 62185557"; Membership level "" → "Silver"`
	if got := f.audit(ann.ID); got[0] != want {
		t.Errorf("audit %q, want %q", got[0], want)
	}

	// The same values again: nothing changes, nothing is written.
	inv, out, aud := f.counts()
	edit, err = f.svc.UpdateCustomer(ctx, f.owner, ann.ID, CustomerChange{FirstName: ptr("Anne"), LastName: ptr("Lee"), Email: ptr(" ann@example.com "),
		Fields: []store.Field{{Name: "membership level", Value: "Silver"}}})
	if err != nil || !edit.Unchanged() {
		t.Errorf("unchanged values: %+v, %v", edit, err)
	}
	if i, o, a := f.counts(); i != inv || o != out || a != aud {
		t.Errorf("an unchanged edit wrote")
	}

	// A new address: ChangeEmail's work, in the same transaction.
	edit, err = f.svc.UpdateCustomer(ctx, f.owner, ann.ID, CustomerChange{LastName: ptr("Lee-Park"), Email: ptr("anne@new.example")})
	if err != nil {
		t.Fatal(err)
	}
	if edit.Email == nil || edit.Email.Invites != 1 || edit.Email.Email != "anne@new.example" || edit.Email.Claimed || strings.Join(edit.Changed, ",") != "last name" {
		t.Errorf("edit with a new email: %+v %+v", edit, edit.Email)
	}
	if f.state(sent.token) != LinkEmailChanged || f.status(ann) != store.StatusNotInvited {
		t.Errorf("after the email change: link %s, status %s", f.state(sent.token), f.status(ann))
	}
	got := f.audit(ann.ID)
	if !strings.HasPrefix(got[0], "customer.email by Maya Harbor: email ann@example.com → anne@new.example; 1 outstanding link(s) revoked") ||
		got[1] != `customer.edit by Maya Harbor: name "Anne Lee" → "Anne Lee-Park"` {
		t.Errorf("audit after the email change: %q", got[:2])
	}

	// A claimed customer's new address gets both notices, as from the editor.
	cleo := f.claimed("Cleo", "Claimed", "cleo@example.com")
	edit, err = f.svc.UpdateCustomer(ctx, f.admin(), cleo.ID, CustomerChange{FirstName: ptr("Clea"), Email: ptr("clea@new.example")})
	if err != nil || edit.Email == nil || !edit.Email.Claimed || len(edit.Email.Notices) != 2 {
		t.Fatalf("claimed customer's new address: %+v, %v", edit, err)
	}
	if n := f.outbox(edit.Email.Notices[1]); n.to != "clea@new.example" || !strings.Contains(n.text, "Clea") {
		t.Errorf("notice to the new address greets by the old name or goes elsewhere: %+v", n)
	}
	if _, err := f.svc.UpdateCustomer(ctx, f.owner, cleo.ID, CustomerChange{Email: ptr("")}); !strings.Contains(store.ErrorMessage(err), "signs in with this address, so it cannot be removed") {
		t.Errorf("removing a claimed customer's address: %v", err)
	}

	// Refusals write nothing.
	inv, out, aud = f.counts()
	if _, err := f.svc.UpdateCustomer(ctx, f.owner, ann.ID, CustomerChange{FirstName: ptr(""), LastName: ptr(" ")}); fieldError(err, KeyFirstName) != "Enter a first or last name." {
		t.Errorf("removing both names: %v", err)
	}
	if _, err := f.svc.UpdateCustomer(ctx, f.owner, ann.ID, CustomerChange{Phone: ptr("0151\u202e123")}); fieldError(err, KeyPhone) != "Phone contains an invisible character (U+202E); remove it." {
		t.Errorf("a bidi override in the phone: %v", err)
	}
	if _, err := f.svc.UpdateCustomer(ctx, f.owner, ann.ID, CustomerChange{Email: ptr("cleo@example.com")}); err != nil {
		t.Errorf("an address nobody has any more: %v", err)
	}
	if _, err := f.svc.UpdateCustomer(ctx, f.owner, ann.ID, CustomerChange{Email: ptr("Clea@New.example")}); store.ErrorMessage(err) != "Another customer, Clea Claimed, already uses this email" {
		t.Errorf("another customer's address: %v", err)
	}
	if _, err := f.svc.UpdateCustomer(ctx, f.desk, ann.ID, CustomerChange{FirstName: ptr("X")}); reason(err) != ReasonForbidden {
		t.Errorf("staff role: %v", err)
	}
	other := &store.Org{Name: "Other Studio"}
	storetest.Write(t, f.db, func(tx *store.Tx) (int, error) { return 0, tx.CreateOrg(ctx, other) })
	stranger := &store.Customer{OrgID: other.ID, FirstName: "Sam", Email: "sam@example.com"}
	storetest.Write(t, f.db, func(tx *store.Tx) (int, error) { return 0, tx.CreateCustomer(ctx, stranger) })
	if _, err := f.svc.UpdateCustomer(ctx, f.owner, stranger.ID, CustomerChange{FirstName: ptr("X")}); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("another organization's customer: %v", err)
	}
	if i, o, a := f.counts(); i != inv || o != out || a != aud+1 { // the one good email change above
		t.Errorf("refusals wrote: invites %d→%d, outbox %d→%d, audit %d→%d", inv, i, out, o, aud, a)
	}

	// A value an old import let through does not block fixing another.
	if _, err := storetest.Raw(t, f.db).ExecContext(ctx, `UPDATE customers SET last_name = 'Lee'||char(8203) WHERE id = ?`, ann.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UpdateCustomer(ctx, f.owner, ann.ID, CustomerChange{Phone: ptr("0161 496 8466")}); err != nil {
		t.Errorf("fixing the phone of a customer with an old bad name: %v", err)
	}
	if _, err := f.svc.ArchiveCustomer(ctx, f.owner, ann.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UpdateCustomer(ctx, f.owner, ann.ID, CustomerChange{Phone: ptr("1")}); reason(err) != ReasonArchived {
		t.Errorf("editing an archived customer: %v", err)
	}
}

// admin is a second manager of the organization.
func (f *fixture) admin() *store.Staff {
	f.t.Helper()
	a, err := f.db.StaffByEmail(context.Background(), "sam@harbor.example")
	if err == nil {
		return a
	}
	a = &store.Staff{OrgID: f.org.ID, Email: "sam@harbor.example", Name: "Sam Rivera", Role: store.RoleAdmin}
	storetest.Write(f.t, f.db, func(tx *store.Tx) (int, error) { return 0, tx.CreateStaff(context.Background(), a) })
	return a
}

// Archiving takes a customer off the roster, stops their links and signs
// them out; restoring brings them back with their history, the links still
// dead and the status worked out again. The counts follow, archived
// included.
func TestArchiveAndRestore(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ann := f.customer("Ann", "Lee", "ann@example.com")
	sent := f.invite(ann)
	cleo := f.claimed("Cleo", "Claimed", "cleo@example.com")
	if _, err := f.svc.SignIn(ctx, SignInRequest{Email: "cleo@example.com", Password: goodPassword}, SessionLifetime{}); err != nil {
		t.Fatal(err)
	}
	if _, err := storetest.Raw(t, f.db).ExecContext(ctx, `INSERT INTO bookings (customer_id, kind, title, starts_at, ends_at, status) VALUES (?, 'class', 'Vinyasa', 0, 3600, 'attended')`, ann.ID); err != nil {
		t.Fatal(err)
	}
	counts := func() (live, archived int) {
		c, err := f.db.RosterCounts(ctx, f.org.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range c {
			live += n
		}
		archived, err = f.db.ArchivedCount(ctx, f.org.ID)
		if err != nil {
			t.Fatal(err)
		}
		return live, archived
	}
	if l, a := counts(); l != 2 || a != 0 {
		t.Fatalf("counts before: %d live, %d archived", l, a)
	}

	a, err := f.svc.ArchiveCustomer(ctx, f.owner, ann.ID)
	if err != nil || a.Already || a.Links != 1 || !a.Customer.Archived {
		t.Fatalf("archive: %+v, %v", a, err)
	}
	if f.state(sent.token) != LinkRevoked {
		t.Errorf("invite after archiving: %s", f.state(sent.token))
	}
	if _, err := f.svc.ArchiveCustomer(ctx, f.owner, cleo.ID); err != nil {
		t.Fatal(err)
	}
	if n, _ := f.db.CountCustomerSessions(ctx, f.org.ID, cleo.ID); n != 0 {
		t.Errorf("%d sessions left after archiving", n)
	}
	if _, err := f.svc.SignIn(ctx, SignInRequest{Email: "cleo@example.com", Password: goodPassword}, SessionLifetime{}); !IsSignInFailure(err) {
		t.Errorf("an archived customer signed in: %v", err)
	}
	if l, a := counts(); l != 0 || a != 2 {
		t.Errorf("counts after archiving: %d live, %d archived", l, a)
	}
	if got := f.search("", true); strings.Join(got, ",") != "Ann Lee,Cleo Claimed" {
		t.Errorf("archived filter: %v", got)
	}
	if got, _ := f.db.RosterMatches(ctx, f.org.ID, store.RosterQuery{Search: "ann", Archived: true}, 10); got != 1 {
		t.Errorf("archived matches for ann: %d", got)
	}
	if got := f.search("ann", false); len(got) != 0 {
		t.Errorf("an archived customer on the roster: %v", got)
	}
	aud := len(f.audit(ann.ID))
	if again, err := f.svc.ArchiveCustomer(ctx, f.owner, ann.ID); err != nil || !again.Already || len(f.audit(ann.ID)) != aud {
		t.Errorf("archiving twice: %+v, %v", again, err)
	}

	r, err := f.svc.RestoreCustomer(ctx, f.owner, ann.ID)
	if err != nil || r.Already || r.Customer.Archived || r.Customer.Status != store.StatusNotInvited {
		t.Fatalf("restore: %+v, %v", r, err)
	}
	// The link that stopped working stays dead; the history is all there.
	if f.state(sent.token) != LinkRevoked {
		t.Errorf("invite after restoring: %s", f.state(sent.token))
	}
	p, err := f.db.Profile(ctx, f.org.ID, ann.ID)
	if err != nil || len(p.Invites) != 1 || len(p.Past) != 1 {
		t.Errorf("restored profile: %d invites, %d past bookings, %v", len(p.Invites), len(p.Past), err)
	}
	if st, why := p.Invites[0].State(&p.Customer, f.db.Now()); st != store.InviteRevoked || why != store.RevokeArchived {
		t.Errorf("restored customer's old invite: %s %s", st, why)
	}
	r, err = f.svc.RestoreCustomer(ctx, f.owner, cleo.ID)
	if err != nil || r.Customer.Status != store.StatusClaimed {
		t.Fatalf("restoring a claimed customer: %+v, %v", r, err)
	}
	if _, err := f.svc.SignIn(ctx, SignInRequest{Email: "cleo@example.com", Password: goodPassword}, SessionLifetime{}); err != nil {
		t.Errorf("the restored customer's password: %v", err)
	}
	if l, a := counts(); l != 2 || a != 0 {
		t.Errorf("counts after restoring: %d live, %d archived", l, a)
	}
	want := []string{
		`customer.restore by Maya Harbor: restored "Ann Lee" to the roster; status now Not invited`,
		`customer.archive by Maya Harbor: archived "Ann Lee"; 1 outstanding link(s) revoked`,
	}
	if got := f.audit(ann.ID); strings.Join(got[:2], "\n") != strings.Join(want, "\n") {
		t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(got[:2], "\n"), strings.Join(want, "\n"))
	}
	if again, err := f.svc.RestoreCustomer(ctx, f.owner, ann.ID); err != nil || !again.Already {
		t.Errorf("restoring a customer on the roster: %+v, %v", again, err)
	}
	if _, err := f.svc.ArchiveCustomer(ctx, f.desk, ann.ID); reason(err) != ReasonForbidden {
		t.Errorf("staff role archiving: %v", err)
	}
	// A new invite works as for anyone.
	if s, err := f.svc.Issue(ctx, f.owner, ann.ID, store.PurposeClaim); err != nil || f.state(s.token) != LinkValid {
		t.Errorf("inviting the restored customer: %v", err)
	}
}

// Withdrawing an invite stops its link, whose page then says it was
// withdrawn; a customer with no outstanding invite is refused.
func TestWithdrawInvite(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ann := f.customer("Ann", "Lee", "ann@example.com")
	if _, err := f.svc.WithdrawInvite(ctx, f.owner, ann.ID); reason(err) != ReasonNoInvite || err.Error() != "Ann Lee has no outstanding invite." {
		t.Errorf("nothing to withdraw: %v", err)
	}
	first := f.invite(ann)
	sent := f.invite(ann)
	if _, err := f.svc.WithdrawInvite(ctx, f.desk, ann.ID); reason(err) != ReasonForbidden {
		t.Errorf("staff role: %v", err)
	}
	w, err := f.svc.WithdrawInvite(ctx, f.owner, ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	if w.Invite.ID != sent.Invite.ID || w.Customer.Status != store.StatusNotInvited || w.Invite.RevokeReason != store.RevokeWithdrawn {
		t.Errorf("withdrawn %+v, customer %s", w.Invite, w.Customer.Status)
	}
	l, err := f.svc.Lookup(ctx, store.PurposeClaim, sent.token)
	if err != nil || l.State != LinkWithdrawn {
		t.Errorf("the withdrawn link: %+v, %v", l, err)
	}
	if (&LinkError{l.State}).Error() != "This link was withdrawn." {
		t.Errorf("redeeming says %q", (&LinkError{l.State}).Error())
	}
	if _, err := f.svc.Redeem(ctx, store.PurposeClaim, sent.token, goodPassword); err == nil {
		t.Errorf("a withdrawn link claimed the account")
	}
	if f.state(first.token) != LinkSuperseded {
		t.Errorf("the earlier link: %s", f.state(first.token))
	}
	want := "invite.revoke by Maya Harbor: invite to ann@example.com of Mon 23 Nov 2026 14:05 withdrawn (invite " + itoa(sent.Invite.ID) + "); 1 link(s) revoked"
	if got := f.audit(ann.ID); got[0] != want {
		t.Errorf("audit %q, want %q", got[0], want)
	}
	if _, err := f.svc.WithdrawInvite(ctx, f.owner, ann.ID); reason(err) != ReasonNoInvite {
		t.Errorf("withdrawing twice: %v", err)
	}
}

// An archived customer's refusal names the key that restores them where
// there is one, and the way to it from the outbox, which has none.
func TestArchivedHintPerPlace(t *testing.T) {
	f := newFixture(t)
	c := f.customer("Ann", "Lee", "ann@example.com")
	if _, err := f.svc.ArchiveCustomer(context.Background(), f.owner, c.ID); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.Issue(context.Background(), f.owner, c.ID, store.PurposeClaim)
	var r *Refusal
	if !errors.As(err, &r) || r.Reason != ReasonArchived {
		t.Fatalf("inviting an archived customer: %v", err)
	}
	for place, want := range map[Place]string{
		AtCommandLine: "Ann Lee is archived — restore them first (frontdesk customers restore).",
		AtRoster:      "Ann Lee is archived — press R to restore them first.",
		AtProfile:     "Ann Lee is archived — press R to restore them first.",
		AtOutbox:      "Ann Lee is archived — open their profile (enter) and press R to restore them first.",
	} {
		if got := (Words{Place: place, Dash: " — "}).Refusal(r); got != want {
			t.Errorf("place %d: %q, want %q", place, got, want)
		}
	}
}

package claim

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"frontdesk/store"
)

// Keeping the roster: staff add customers (a walk-in at the desk), change
// their details, archive and restore them, and withdraw an invite. Each is
// one transaction that authorizes the acting staff member inside it (see
// authorize), applies the rules below and writes its audit row; the TUI's
// customer form and `frontdesk customers add|set|archive|restore` call
// these and nothing else.

// The keys of a customer's values in FieldErrors, as the customers' web
// names its form fields; custom field i is FieldKey(i).
const (
	KeyFirstName = "first_name"
	KeyLastName  = "last_name"
	KeyEmail     = "email"
	KeyPhone     = "phone"
)

// FieldKey is the key of the i-th custom field of a form in FieldErrors.
func FieldKey(i int) string { return "field." + strconv.Itoa(i) }

// The rules of a customer's own values, whoever types them (staff at the
// desk or on the command line, the customer on the account page): the
// store's one text rule (store.CheckText), and a phone has digits. Each
// error is a sentence for the person typing, without its full stop.

func checkName(label, v string) error {
	return store.CheckText(label, strings.TrimSpace(v), store.MaxNameLen)
}

func checkPhone(v string) error {
	if err := store.CheckText("Phone", strings.TrimSpace(v), store.MaxPhoneLen); err != nil {
		return err
	}
	if p := strings.TrimSpace(v); p != "" && strings.IndexFunc(p, unicode.IsDigit) < 0 {
		return store.Errorf(store.EINVALID, "Phone has no digits; enter a number or leave it empty")
	}
	return nil
}

func checkFieldValue(name, v string) error {
	return store.CheckLines(name, strings.TrimSpace(v), store.MaxFieldLen)
}

// checkEmail is the email editor's rule and words: empty is allowed (the
// customer cannot be invited until an address is added).
func checkEmail(v string) error {
	v = store.NormalizeEmail(v)
	if v == "" {
		return nil
	}
	if err := store.ValidateEmail(v); err != nil {
		return store.Errorf(store.EINVALID, "Not valid: %s", store.ErrorMessage(err))
	}
	return nil
}

// errNoName is the refusal of a customer without a first or last name.
const errNoName = "Enter a first or last name."

// fieldErrors collects one form's refusals.
type fieldErrors FieldErrors

func (e *fieldErrors) check(key string, err error) {
	if err != nil {
		*e = append(*e, FieldError{Field: key, Message: strings.TrimSuffix(store.ErrorMessage(err), ".") + "."})
	}
}

// checkPerson applies the rules to a customer's names, phone and custom
// field values (fieldKeys name each field's input), and asks for a name
// when the rest is right.
func checkPerson(first, last, phone string, fields []store.Field, fieldKeys []string) FieldErrors {
	var errs fieldErrors
	errs.check(KeyFirstName, checkName("First name", first))
	errs.check(KeyLastName, checkName("Last name", last))
	errs.check(KeyPhone, checkPhone(phone))
	for i, f := range fields {
		key := ""
		if i < len(fieldKeys) {
			key = fieldKeys[i]
		}
		errs.check(key, checkFieldValue(f.Name, f.Value))
	}
	if len(errs) == 0 && strings.TrimSpace(first) == "" && strings.TrimSpace(last) == "" {
		errs = append(errs, FieldError{Field: KeyFirstName, Message: errNoName})
	}
	return FieldErrors(errs)
}

// CustomerValues are a customer as staff type them in: the TUI's customer
// form, the flags of `frontdesk customers add`. Fields are values of the
// organization's declared custom fields, by name (any case).
type CustomerValues struct {
	FirstName, LastName, Email, Phone string
	Fields                            []store.Field
}

// Check applies the rules to every value without touching the database,
// so a form can say what is wrong as it is typed. Keys are KeyFirstName,
// KeyLastName, KeyEmail, KeyPhone and FieldKey(i) for Fields[i]. Whether
// another customer has the email, and whether the fields exist, is known
// only when saving.
func (v CustomerValues) Check() FieldErrors {
	keys := make([]string, len(v.Fields))
	for i := range keys {
		keys[i] = FieldKey(i)
	}
	errs := checkPerson(v.FirstName, v.LastName, v.Phone, v.Fields, keys)
	if err := checkEmail(v.Email); err != nil {
		errs = append(FieldErrors{{Field: KeyEmail, Message: store.ErrorMessage(err) + "."}}, errs...)
	}
	return errs
}

// CheckValue is the rule for one value of the customer form as it is
// typed: key as in Check, label the custom field's name for a field. nil
// means it is fine; whether a name is given at all is Check's to say.
func CheckValue(key, label, v string) error {
	switch key {
	case KeyFirstName:
		return checkName("First name", v)
	case KeyLastName:
		return checkName("Last name", v)
	case KeyEmail:
		return checkEmail(v)
	case KeyPhone:
		return checkPhone(v)
	}
	return checkFieldValue(label, v)
}

// declaredFields matches fields to the organization's declared custom
// fields, without regard to case, and trims their values. A name that is
// not declared is refused: typing a name must not add a column for every
// customer (CSV import declares fields).
func declaredFields(ctx context.Context, tx *store.Tx, orgID int64, fields []store.Field) ([]store.Field, error) {
	if len(fields) == 0 {
		return nil, nil
	}
	declared, err := tx.CustomFieldNames(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := make([]store.Field, 0, len(fields))
	seen := map[string]bool{}
	for _, f := range fields {
		name := ""
		for _, d := range declared {
			if strings.EqualFold(d, strings.TrimSpace(f.Name)) {
				name = d
			}
		}
		switch {
		case name == "" && len(declared) == 0:
			return nil, store.Errorf(store.EINVALID, "There is no custom field %q: the organization has none yet (a CSV import creates them from its columns).", f.Name)
		case name == "":
			return nil, store.Errorf(store.EINVALID, "There is no custom field %q; the fields are: %s.", f.Name, strings.Join(declared, ", "))
		case seen[name]:
			return nil, store.Errorf(store.EINVALID, "The custom field %q is given twice; give it once.", name)
		}
		seen[name] = true
		out = append(out, store.Field{Name: name, Value: strings.TrimSpace(f.Value)})
	}
	return out, nil
}

// AddCustomer adds a customer to actor's organization, with the audit row,
// in one transaction: a walk-in at the desk, `frontdesk customers add`. The
// values are checked (Check, FieldErrors when they fail); an email another
// customer of the organization has, archived ones included, is refused
// naming them (ECONFLICT, the email editor's words).
func (s *Service) AddCustomer(ctx context.Context, actor *store.Staff, v CustomerValues) (*store.Customer, error) {
	if errs := v.Check(); len(errs) > 0 {
		return nil, errs
	}
	var c *store.Customer
	err := s.DB.Tx(ctx, func(tx *store.Tx) error {
		actor, err := s.authorize(ctx, tx, actor, "add customers")
		if err != nil {
			return err
		}
		fields, err := declaredFields(ctx, tx, actor.OrgID, v.Fields)
		if err != nil {
			return err
		}
		c = &store.Customer{OrgID: actor.OrgID, FirstName: v.FirstName, LastName: v.LastName, Email: v.Email, Phone: v.Phone, Fields: fields}
		if err := tx.CreateCustomer(ctx, c); err != nil {
			return err
		}
		email := c.Email
		if email == "" {
			email = "none"
		}
		detail := fmt.Sprintf("added %q: email %s, phone %q", c.Name(), email, c.Phone)
		for _, f := range fields {
			if f.Value != "" {
				detail += fmt.Sprintf(", %s %q", f.Name, f.Value)
			}
		}
		if err := tx.Audit(ctx, actor.OrgID, store.StaffActor(actor), "customer.add", c.ID, detail); err != nil {
			return err
		}
		c, err = tx.Customer(ctx, actor.OrgID, c.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// CustomerChange is a change staff make to a customer: the TUI's customer
// form (the values staff changed), the flags given to `frontdesk customers
// set`. A nil value is left as it is; Fields are the custom fields to
// change, by name (any case), "" clearing one.
type CustomerChange struct {
	FirstName, LastName, Email, Phone *string
	Fields                            []store.Field
}

// CustomerEdit is what UpdateCustomer did.
type CustomerEdit struct {
	Customer *store.Customer // as it is now, with its custom fields
	// Changed names what changed besides the email, in the order of the
	// form: "first name", "last name", "phone", then custom fields' names.
	Changed []string
	// Email is the email change, as ChangeEmail does it; nil when the
	// email stayed as it was.
	Email *EmailChange
}

// Unchanged is whether the change changed nothing.
func (e *CustomerEdit) Unchanged() bool { return len(e.Changed) == 0 && e.Email == nil }

// UpdateCustomer changes a customer's details on behalf of actor, in one
// transaction: the names, phone and custom field values with an audit row
// of what changed from what (customer.edit), and a changed email exactly as
// ChangeEmail changes it (links revoked, notices to a claimed customer's
// two addresses, its own audit rows). Only the values given are checked, so
// a value an old import let through does not block fixing another; a
// customer must keep a first or last name. An archived customer is
// restored first. A change that changes nothing writes nothing.
func (s *Service) UpdateCustomer(ctx context.Context, actor *store.Staff, customerID int64, ch CustomerChange) (*CustomerEdit, error) {
	var errs fieldErrors
	for _, v := range []struct {
		key string
		v   *string
	}{{KeyFirstName, ch.FirstName}, {KeyLastName, ch.LastName}, {KeyEmail, ch.Email}, {KeyPhone, ch.Phone}} {
		if v.v != nil {
			errs.check(v.key, CheckValue(v.key, "", *v.v))
		}
	}
	for i, f := range ch.Fields {
		errs.check(FieldKey(i), checkFieldValue(f.Name, f.Value))
	}
	if len(errs) > 0 {
		return nil, FieldErrors(errs)
	}
	var out *CustomerEdit
	err := s.DB.Tx(ctx, func(tx *store.Tx) error {
		actor, org, c, err := s.load(ctx, tx, actor, customerID, "change customers' details")
		if err != nil {
			return err
		}
		if c.Archived {
			return refuseCustomer(ReasonArchived, c, "is archived")
		}
		fields, err := declaredFields(ctx, tx, actor.OrgID, ch.Fields)
		if err != nil {
			return err
		}
		u := store.CustomerUpdate{}
		first, last, phone := c.FirstName, c.LastName, c.Phone
		out = &CustomerEdit{}
		if ch.FirstName != nil && strings.TrimSpace(*ch.FirstName) != c.FirstName {
			first = strings.TrimSpace(*ch.FirstName)
			u.FirstName = &first
			out.Changed = append(out.Changed, "first name")
		}
		if ch.LastName != nil && strings.TrimSpace(*ch.LastName) != c.LastName {
			last = strings.TrimSpace(*ch.LastName)
			u.LastName = &last
			out.Changed = append(out.Changed, "last name")
		}
		if first == "" && last == "" {
			return FieldErrors{{Field: KeyFirstName, Message: errNoName}}
		}
		if ch.Phone != nil && strings.TrimSpace(*ch.Phone) != c.Phone {
			phone = strings.TrimSpace(*ch.Phone)
			u.Phone = &phone
			out.Changed = append(out.Changed, "phone")
		}
		old := make(map[string]string, len(c.Fields))
		for _, f := range c.Fields {
			old[f.Name] = f.Value
		}
		for _, f := range fields {
			if old[f.Name] != f.Value {
				u.Fields = append(u.Fields, f)
				out.Changed = append(out.Changed, f.Name)
			}
		}
		if len(out.Changed) > 0 {
			if err := tx.UpdateCustomer(ctx, actor.OrgID, customerID, u); err != nil {
				return err
			}
			if err := tx.Audit(ctx, actor.OrgID, store.StaffActor(actor), "customer.edit", customerID,
				strings.Join(valueChanges(c, first, last, phone, u.Fields), "; ")); err != nil {
				return err
			}
		}
		if ch.Email != nil && store.NormalizeEmail(*ch.Email) != c.Email {
			// As ChangeEmail, with the names as they are now (the notices
			// greet the customer by the first name just saved).
			now := *c
			now.FirstName, now.LastName = first, last
			if out.Email, err = s.changeEmail(ctx, tx, actor, org, &now, *ch.Email); err != nil {
				return err
			}
			out.Email.Customer = c
		}
		out.Customer, err = tx.Customer(ctx, actor.OrgID, customerID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// valueChanges words, for the audit log, what changed of customer c's
// names, phone and fields: `name "Ann Lee" → "Anne Lee"`, `phone "" →
// "0151 2345"`, `Membership "Gold" → "Silver"`.
func valueChanges(c *store.Customer, first, last, phone string, fields []store.Field) []string {
	var parts []string
	if name := strings.TrimSpace(strings.TrimSpace(first) + " " + strings.TrimSpace(last)); name != c.Name() {
		parts = append(parts, fmt.Sprintf("name %q → %q", c.Name(), name))
	}
	if p := strings.TrimSpace(phone); p != c.Phone {
		parts = append(parts, fmt.Sprintf("phone %q → %q", c.Phone, p))
	}
	old := map[string]string{}
	for _, f := range c.Fields {
		old[f.Name] = f.Value
	}
	for _, f := range fields {
		if old[f.Name] != f.Value {
			parts = append(parts, fmt.Sprintf("%s %q → %q", f.Name, old[f.Name], f.Value))
		}
	}
	return parts
}

// Archived is what ArchiveCustomer did.
type Archived struct {
	Customer *store.Customer // as it is now
	// Already: the customer was archived before; nothing was written.
	Already bool
	// Links is how many links (invites, reset links) stopped working.
	Links int
}

// ArchiveCustomer takes a customer off the roster on behalf of actor, with
// the audit row, in one transaction: every link they hold stops working,
// and they are signed out of the customers' site and cannot sign in (the
// store's trigger, migration 0005) until restored. Nothing is deleted:
// RestoreCustomer brings them back with their history.
func (s *Service) ArchiveCustomer(ctx context.Context, actor *store.Staff, customerID int64) (*Archived, error) {
	var out *Archived
	err := s.DB.Tx(ctx, func(tx *store.Tx) error {
		actor, _, c, err := s.load(ctx, tx, actor, customerID, "archive customers")
		if err != nil {
			return err
		}
		out = &Archived{Customer: c, Already: c.Archived}
		if c.Archived {
			return nil
		}
		if out.Links, err = tx.OutstandingLinks(ctx, customerID); err != nil {
			return err
		}
		if err := tx.ArchiveCustomer(ctx, actor.OrgID, customerID); err != nil {
			return err
		}
		detail := fmt.Sprintf("archived %q; %d outstanding link(s) revoked", c.Name(), out.Links)
		if !c.ClaimedAt.IsZero() {
			detail += "; signed out of the customers' site until restored"
		}
		if err := tx.Audit(ctx, actor.OrgID, store.StaffActor(actor), "customer.archive", customerID, detail); err != nil {
			return err
		}
		out.Customer, err = tx.Customer(ctx, actor.OrgID, customerID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Restored is what RestoreCustomer did.
type Restored struct {
	Customer *store.Customer // as it is now, its status worked out again
	// Already: the customer was on the roster; nothing was written.
	Already bool
}

// RestoreCustomer brings an archived customer back to the roster on behalf
// of actor, with the audit row, in one transaction, with everything they
// had (bookings, payments, invites, audit rows, their account). Links that
// stopped working when they were archived stay dead: a new invite sends a
// new one.
func (s *Service) RestoreCustomer(ctx context.Context, actor *store.Staff, customerID int64) (*Restored, error) {
	var out *Restored
	err := s.DB.Tx(ctx, func(tx *store.Tx) error {
		actor, _, c, err := s.load(ctx, tx, actor, customerID, "restore customers")
		if err != nil {
			return err
		}
		out = &Restored{Customer: c, Already: !c.Archived}
		if !c.Archived {
			return nil
		}
		if _, err := tx.RestoreCustomer(ctx, actor.OrgID, customerID); err != nil {
			return err
		}
		if out.Customer, err = tx.Customer(ctx, actor.OrgID, customerID); err != nil {
			return err
		}
		return tx.Audit(ctx, actor.OrgID, store.StaffActor(actor), "customer.restore", customerID,
			fmt.Sprintf("restored %q to the roster; status now %s", c.Name(), out.Customer.Status.Label()))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CanWithdraw decides whether actor may withdraw customer c's outstanding
// invite now, without writing anything; nil means yes. Only a link that
// works now can be withdrawn: one that expired, went to an old address or
// never arrived is dead already, and so is every link of an archived
// customer.
func CanWithdraw(actor *store.Staff, org *store.Org, c *store.Customer) *Refusal {
	switch {
	case actor == nil || !actor.Role.CanManageCustomers():
		return forbidden("withdraw the invite")
	case actor.OrgID != c.OrgID || org.ID != c.OrgID:
		return refuse(ReasonForbidden, "This customer belongs to another organization.")
	case c.Archived:
		return refuseCustomer(ReasonArchived, c, "is archived, so every link they had stopped working already")
	case !c.HasLiveInvite():
		return refuseCustomer(ReasonNoInvite, c, "has no outstanding invite")
	}
	return nil
}

// Withdrawn is what WithdrawInvite did.
type Withdrawn struct {
	Customer *store.Customer // as it is now
	Invite   *store.Invite   // the invite whose link stopped working
}

// WithdrawInvite withdraws a customer's outstanding invite on behalf of
// actor, with the audit row (invite.revoke), in one transaction: its link
// stops working, and its page says the invite was withdrawn and whom to
// ask (LinkWithdrawn). A customer with no outstanding invite is refused
// (ReasonNoInvite): a link that expired, went to an old address or never
// arrived is dead already.
func (s *Service) WithdrawInvite(ctx context.Context, actor *store.Staff, customerID int64) (*Withdrawn, error) {
	var out *Withdrawn
	err := s.DB.Tx(ctx, func(tx *store.Tx) error {
		actor, org, c, err := s.load(ctx, tx, actor, customerID, "withdraw invites")
		if err != nil {
			return err
		}
		if r := CanWithdraw(actor, org, c); r != nil {
			return r
		}
		invites, err := tx.Invites(ctx, actor.OrgID, customerID)
		if err != nil {
			return err
		}
		var live *store.Invite
		now := s.DB.Now()
		for i := range invites {
			if st, _ := invites[i].State(c, now); st == store.InviteLive && invites[i].Purpose == store.PurposeClaim {
				live = &invites[i]
				break
			}
		}
		if live == nil {
			// The status said invited, the history has no live link: a
			// state out of step is no reason to revoke anything.
			return refuseCustomer(ReasonNoInvite, c, "has no outstanding invite")
		}
		n, err := tx.RevokeInvites(ctx, customerID, store.PurposeClaim, store.RevokeWithdrawn)
		if err != nil {
			return err
		}
		detail := fmt.Sprintf("invite to %s of %s withdrawn (invite %d); %d link(s) revoked", live.Email,
			live.CreatedAt.In(org.Location()).Format("Mon 2 Jan 2006 15:04"), live.ID, n)
		if err := tx.Audit(ctx, actor.OrgID, store.StaffActor(actor), "invite.revoke", customerID, detail); err != nil {
			return err
		}
		if c, err = tx.Customer(ctx, actor.OrgID, customerID); err != nil {
			return err
		}
		live.RevokedAt, live.RevokeReason = now.Truncate(time.Second), store.RevokeWithdrawn
		out = &Withdrawn{Customer: c, Invite: live}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

package claim

import (
	"context"
	"strings"

	"frontdesk/store"
)

// Account is what the customer's account page shows: their profile, their
// organization and the custom fields it declares (so an empty one still gets
// an input, and a staff-only one is shown as text).
type Account struct {
	Org     *store.Org
	Profile *store.Profile
	Fields  []store.CustomField
}

// Account reads the signed-in customer's account. The ids come from the
// session row, never from the request.
func (s *Service) Account(ctx context.Context, sess *CustomerSession) (*Account, error) {
	org, err := s.DB.Org(ctx, sess.OrgID)
	if err != nil {
		return nil, err
	}
	p, err := s.DB.Profile(ctx, sess.OrgID, sess.CustomerID)
	if err != nil {
		return nil, err
	}
	fields, err := s.DB.CustomFields(ctx, sess.OrgID)
	if err != nil {
		return nil, err
	}
	return &Account{Org: org, Profile: p, Fields: fields}, nil
}

// FieldError is a refusal of one form field, worded for the customer; Field
// is the form field's name so the page can put it next to the input.
type FieldError struct {
	Field   string
	Message string
	// Locked: the field is staff-only, so the refusal is of the change
	// itself, not of how it was typed.
	Locked bool
}

// FieldErrors is every refusal of one form.
type FieldErrors []FieldError

func (e FieldErrors) Error() string {
	msgs := make([]string, len(e))
	for i, f := range e {
		msgs[i] = f.Message
	}
	return strings.Join(msgs, " ")
}

// UpdateProfile saves the signed-in customer's own changes (name, phone and
// the values of declared custom fields) with an audit row, in one
// transaction. Form mistakes come back as FieldErrors keyed by the form
// names first_name, last_name, phone and field.<index>. A staff-only field
// sent with its stored value is left alone (a page rendered before an owner
// closed the field sends it back unchanged); sent with another value, the
// whole form is refused (FieldError.Locked) and nothing is saved.
func (s *Service) UpdateProfile(ctx context.Context, sess *CustomerSession, u store.ProfileUpdate, fieldKeys []string) error {
	if errs := checkPerson(u.FirstName, u.LastName, u.Phone, u.Fields, fieldKeys); len(errs) > 0 {
		return errs
	}
	for i := range u.Fields {
		u.Fields[i].Value = strings.TrimSpace(u.Fields[i].Value)
	}
	return s.DB.Tx(ctx, func(tx *store.Tx) error {
		c, err := tx.Customer(ctx, sess.OrgID, sess.CustomerID)
		if err != nil {
			return err
		}
		// Which fields are open is read under the write lock: an owner
		// closing one a moment ago wins.
		if u.Fields, err = s.editableOnly(ctx, tx, sess.OrgID, c, u.Fields, fieldKeys); err != nil {
			return err
		}
		if err := tx.UpdateCustomerProfile(ctx, sess.OrgID, sess.CustomerID, u); err != nil {
			return err
		}
		actor := store.CustomerActor(c)
		return tx.Audit(ctx, sess.OrgID, actor, "account.profile", c.ID, profileChanges(c, u))
	})
}

// profileChanges words what changed for the audit log.
func profileChanges(c *store.Customer, u store.ProfileUpdate) string {
	parts := valueChanges(c, u.FirstName, u.LastName, u.Phone, u.Fields)
	if len(parts) == 0 {
		return "profile saved without changes"
	}
	return "profile changed on the web: " + strings.Join(parts, "; ")
}

// editableOnly returns the fields of an update the customer may change,
// dropping staff-only ones sent back unchanged, or FieldErrors for the
// staff-only ones sent with a new value.
func (s *Service) editableOnly(ctx context.Context, tx *store.Tx, orgID int64, c *store.Customer, fields []store.Field, keys []string) ([]store.Field, error) {
	if len(fields) == 0 {
		return fields, nil
	}
	declared, err := tx.CustomFields(ctx, orgID)
	if err != nil {
		return nil, err
	}
	org, err := tx.Org(ctx, orgID)
	if err != nil {
		return nil, err
	}
	open := map[string]bool{}
	for _, f := range declared {
		open[f.Name] = f.CustomerEditable
	}
	stored := map[string]string{}
	for _, f := range c.Fields {
		stored[f.Name] = f.Value
	}
	var keep []store.Field
	var errs FieldErrors
	for i, f := range fields {
		if open[f.Name] {
			keep = append(keep, f)
			continue
		}
		if f.Value == stored[f.Name] {
			continue
		}
		key := ""
		if i < len(keys) {
			key = keys[i]
		}
		errs = append(errs, FieldError{Field: key, Locked: true,
			Message: f.Name + " is kept by " + org.Name + ", so it can't be changed here. Nothing was saved; ask " + org.Name + " if it needs changing."})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return keep, nil
}

package claim

import (
	"context"
	"strings"

	"frontdesk/store"
)

// Account is what the customer's account page shows: their profile, their
// organization and the custom fields it declares (so an empty one still gets
// an input).
type Account struct {
	Org        *store.Org
	Profile    *store.Profile
	FieldNames []string
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
	names, err := s.DB.CustomFieldNames(ctx, sess.OrgID)
	if err != nil {
		return nil, err
	}
	return &Account{Org: org, Profile: p, FieldNames: names}, nil
}

// FieldError is a refusal of one form field, worded for the customer; Field
// is the form field's name so the page can put it next to the input.
type FieldError struct {
	Field   string
	Message string
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
// names first_name, last_name, phone and field.<index>.
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

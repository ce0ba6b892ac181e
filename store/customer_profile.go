package store

import (
	"context"
	"strings"
)

// ProfileUpdate is what a customer may change about themselves on the web:
// name, phone and the values of the organization's custom fields. The email
// is not here on purpose: it is where reset links go, so changing it is
// staff work (claim.Service.ChangeEmail) or needs re-verification.
type ProfileUpdate struct {
	FirstName string
	LastName  string
	Phone     string
	Fields    []Field // only fields the organization has declared; see UpdateCustomerProfile
}

// UpdateCustomerProfile saves a customer's own changes. Everything is scoped
// by orgID, and Fields may only name custom fields the organization already
// declared: a customer must not be able to invent columns for staff (that
// would happen through setFields, which declares names it meets), and only
// fields open to customers (CustomField.CustomerEditable). Call it in a
// transaction, with the audit row.
func (tx *Tx) UpdateCustomerProfile(ctx context.Context, orgID, customerID int64, u ProfileUpdate) error {
	u.FirstName, u.LastName, u.Phone = strings.TrimSpace(u.FirstName), strings.TrimSpace(u.LastName), strings.TrimSpace(u.Phone)
	if u.FirstName == "" && u.LastName == "" {
		return Errorf(EINVALID, "Enter a first or last name.")
	}
	if err := CheckText("First name", u.FirstName, MaxNameLen); err != nil {
		return err
	}
	if err := CheckText("Last name", u.LastName, MaxNameLen); err != nil {
		return err
	}
	if err := CheckText("Phone", u.Phone, MaxPhoneLen); err != nil {
		return err
	}
	for _, f := range u.Fields {
		if err := CheckLines(f.Name, f.Value, MaxFieldLen); err != nil {
			return err
		}
	}
	if len(u.Fields) > 0 {
		declared, err := tx.CustomFields(ctx, orgID)
		if err != nil {
			return err
		}
		editable := make(map[string]bool, len(declared))
		for _, f := range declared {
			editable[f.Name] = f.CustomerEditable
		}
		for _, f := range u.Fields {
			ok, known := editable[f.Name]
			if !known {
				return Errorf(EINVALID, "unknown field %q", f.Name)
			}
			// Checked here, where the write happens, whatever the caller
			// checked: a staff-only field is the studio's record.
			if !ok {
				return Errorf(EINVALID, "%s is kept by the organization and cannot be changed on the account page", f.Name)
			}
		}
	}
	country, err := tx.orgCountry(ctx, orgID)
	if err != nil {
		return err
	}
	rows := []customerUpdate{{ID: customerID, FirstName: u.FirstName, LastName: u.LastName, Phone: u.Phone}}
	if n, err := tx.updateCustomers(ctx, orgID, country, rows); err != nil {
		return err
	} else if n == 0 {
		return Errorf(ENOTFOUND, "customer %d not found", customerID)
	}
	return tx.setFields(ctx, orgID, customerID, u.Fields)
}

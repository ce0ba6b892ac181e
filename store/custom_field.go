package store

import (
	"context"
	"strings"
)

// CustomField is one of an organization's declared custom fields.
type CustomField struct {
	ID       int64
	Name     string
	Position int
	// CustomerEditable: the customer may change its value on their account
	// page. False (staff-only) is the default for every field: fields come
	// from imports and the desk, holding what the studio keeps about the
	// customer, and only an owner's decision opens one to the customer
	// (`frontdesk org field set NAME --customer-editable`).
	CustomerEditable bool
}

// CustomFields lists an organization's custom fields in declaration order.
func (q conn) CustomFields(ctx context.Context, orgID int64) ([]CustomField, error) {
	rows, err := q.query(ctx, `SELECT id, name, position, customer_editable FROM custom_fields WHERE org_id = ? ORDER BY position, id`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CustomField
	for rows.Next() {
		var f CustomField
		if err := rows.Scan(&f.ID, &f.Name, &f.Position, &f.CustomerEditable); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// SetCustomFieldEditable decides whether customers may change the field
// named name (as declared; matched without regard to case) on their
// account page, and returns the field as it now is. Call it in a
// transaction with the audit row.
func (tx *Tx) SetCustomFieldEditable(ctx context.Context, orgID int64, name string, editable bool) (*CustomField, error) {
	fields, err := tx.CustomFields(ctx, orgID)
	if err != nil {
		return nil, err
	}
	want := strings.TrimSpace(name)
	for _, f := range fields {
		if strings.EqualFold(f.Name, want) {
			if _, err := tx.exec(ctx, `UPDATE custom_fields SET customer_editable = ? WHERE id = ? AND org_id = ?`, editable, f.ID, orgID); err != nil {
				return nil, err
			}
			f.CustomerEditable = editable
			return &f, nil
		}
	}
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	if len(names) == 0 {
		return nil, Errorf(ENOTFOUND, "the organization has no custom fields yet; they are created by `frontdesk customers import`")
	}
	return nil, Errorf(ENOTFOUND, "no custom field %q; the fields are: %s", want, strings.Join(names, ", "))
}

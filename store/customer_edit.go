package store

import (
	"context"
	"strings"
	"time"
)

// CustomerUpdate is a change staff make to a customer's own values. A nil
// value is left as it is; Fields are the custom fields to set, by their
// declared names, "" clearing one.
type CustomerUpdate struct {
	FirstName, LastName, Phone *string
	Fields                     []Field
}

// UpdateCustomer saves staff's change to a customer on the roster (not
// archived) and keeps what is derived from the values right: the sort name
// the roster is ordered by, the name and phone search keys, and the search
// index, which its trigger rewrites when a searched column is written, so
// names and phone are written only when one of them changed. Fields may only
// name fields the organization declared: a name typed at the desk or on the
// command line must not invent a column for everyone (CSV import declares
// them). The email is not here: changing it revokes links and may notify
// the customer (claim.Service.ChangeEmail). The values given are checked
// again with the text rule (CheckText), whoever checked them before. Call
// it in a transaction with the audit row.
func (tx *Tx) UpdateCustomer(ctx context.Context, orgID, id int64, u CustomerUpdate) error {
	c, err := tx.Customer(ctx, orgID, id)
	if err != nil {
		return err
	}
	if c.Archived {
		return Errorf(EINVALID, "%s is archived; restore them before changing their details", c.Name())
	}
	// Only the values given are checked: one an old import let through
	// must not block fixing another.
	first, last, phone := c.FirstName, c.LastName, c.Phone
	for _, v := range []struct {
		label string
		in    *string
		out   *string
		max   int
	}{{"First name", u.FirstName, &first, MaxNameLen}, {"Last name", u.LastName, &last, MaxNameLen}, {"Phone", u.Phone, &phone, MaxPhoneLen}} {
		if v.in == nil {
			continue
		}
		*v.out = strings.TrimSpace(*v.in)
		if err := CheckText(v.label, *v.out, v.max); err != nil {
			return err
		}
	}
	if first == "" && last == "" {
		return Errorf(EINVALID, "Enter a first or last name.")
	}
	if len(u.Fields) > 0 {
		declared, err := tx.CustomFieldNames(ctx, orgID)
		if err != nil {
			return err
		}
		known := make(map[string]bool, len(declared))
		for _, n := range declared {
			known[n] = true
		}
		for _, f := range u.Fields {
			if !known[f.Name] {
				return Errorf(EINVALID, "unknown field %q", f.Name)
			}
			if err := CheckLines(f.Name, f.Value, MaxFieldLen); err != nil {
				return err
			}
		}
	}
	var n int64
	if first != c.FirstName || last != c.LastName || phone != c.Phone {
		// Names and phone go through the one UPDATE that writes what is
		// derived from them (updateCustomers): the sort name, and the
		// search keys read with the organization's country.
		country, err := tx.orgCountry(ctx, orgID)
		if err != nil {
			return err
		}
		n, err = tx.updateCustomers(ctx, orgID, country, []customerUpdate{{ID: id, FirstName: first, LastName: last, Phone: phone}})
		if err != nil {
			return err
		}
	} else {
		res, err := tx.exec(ctx, `UPDATE customers SET updated_at = ? WHERE org_id = ? AND id = ? AND archived = 0`,
			tx.now().Truncate(time.Second).Unix(), orgID, id)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
	}
	if n == 0 {
		return Errorf(ENOTFOUND, "customer %d not found", id)
	}
	return tx.setFields(ctx, orgID, id, u.Fields)
}

// RestoreCustomer brings an archived customer back to the roster with all
// they had: bookings, payments, subscriptions, custom fields, invites and the
// audit rows about them, their account and password. Links revoked when they
// were archived stay revoked (a link must never come back to life), so the
// status is worked out again from what is live now: not invited, claimed,
// or no email. false: the customer was not archived, and nothing changed.
func (tx *Tx) RestoreCustomer(ctx context.Context, orgID, id int64) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE customers SET archived = 0, updated_at = ? WHERE org_id = ? AND id = ? AND archived = 1`,
		tx.now().Unix(), orgID, id)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := tx.Customer(ctx, orgID, id); err != nil {
			return false, err
		}
		return false, nil
	}
	return true, tx.refreshState(ctx, `id = ?`, id)
}

// ArchivedCount is how many archived customers the organization has: one
// row, kept by triggers (migration 0015), at any roster size.
func (q conn) ArchivedCount(ctx context.Context, orgID int64) (int, error) {
	var n int
	err := q.queryRow(ctx, `SELECT coalesce((SELECT n FROM archived_counts WHERE org_id = ?), 0)`, orgID).Scan(&n)
	return n, err
}

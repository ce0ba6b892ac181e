package store

import (
	"context"
	"fmt"
	"strings"
)

// WriterUpdate makes a CustomerWriter update the customers its rows match
// (`customers import --update`) rather than refuse their emails as taken. A
// row matches the customer its id names (Customer.ID, when the caller reads
// ids), or else the customer with its email (any case, as the unique index
// compares); a row that matches nobody is added as a new customer.
//
// Only the values the caller says it gives change; the rest stay as stored,
// and so do the custom fields a row does not name. An empty value given
// clears what is stored (a custom field's value, the phone), except that a
// customer keeps at least one name.
//
// The email is never changed this way. It is where claim and reset links
// go, so changing it revokes the customer's links and tells a claimed
// customer at both addresses (claim.Service.ChangeEmail), rules that live
// above the store; and a spreadsheet is where a mistyped or swapped address
// goes unnoticed until someone else owns the account. A row whose email
// differs from that of the customer its id names is a conflict
// (ConflictEmailChange) and changes nothing.
type WriterUpdate struct {
	FirstName, LastName, Email, Phone bool // which of the row's values the caller gives
	// Actor and Source are recorded in the audit row written for each
	// customer updated ("updated by import of Source: …").
	Actor  Actor
	Source string
}

// ConflictKind says why a queued row was not written.
type ConflictKind int

const (
	// ConflictEmailTaken: adding, the email is Owner's (archived or not).
	ConflictEmailTaken ConflictKind = iota
	// ConflictArchived: the row matches Owner, who is archived; restore
	// them first.
	ConflictArchived
	// ConflictNoCustomer: no customer of the organization has the row's id.
	ConflictNoCustomer
	// ConflictEmailChange: the row's email is not the email of Owner, the
	// customer its id names (see WriterUpdate).
	ConflictEmailChange
	// ConflictNoName: the row would add or leave a customer without a name.
	ConflictNoName
	// ConflictMatchedTwice: the row matches Owner, whom the row Other
	// (a ref) already matched.
	ConflictMatchedTwice
)

// Conflict is a queued customer that was not written: with Kind
// ConflictEmailTaken (the only kind without Update), because another customer
// of the organization already has the email.
type Conflict struct {
	Kind  ConflictKind
	Ref   int   // as given to Add
	ID    int64 // the id the row named, 0 when it named none
	Email string
	Owner *Customer // ID, names, email and Archived only; nil for ConflictNoCustomer and ConflictNoName
	Other int       // ConflictMatchedTwice: the ref of the row that matched Owner first
}

// loadFields reads the organization's declared custom fields and its
// country once, before the first row.
func (w *CustomerWriter) loadFields(ctx context.Context) error {
	if w.fields != nil {
		return nil
	}
	w.fields = map[string]int64{}
	rows, err := w.q.query(ctx, `SELECT id, name FROM custom_fields WHERE org_id = ?`, w.orgID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return err
		}
		w.fields[name] = id
	}
	if err := rows.Err(); err != nil {
		return err
	}
	w.country, err = w.q.orgCountry(ctx, w.orgID)
	return err
}

// matchedCustomer is a customer on the roster as an update compares it.
type matchedCustomer struct {
	Customer
	values map[int64]string // field id → value
}

// flushUpdate matches the queue on the roster, then adds the rows that
// match nobody and updates the customers whose values differ.
func (w *CustomerWriter) flushUpdate(ctx context.Context, final bool) ([]Conflict, error) {
	byID, byEmail, err := w.lookup(ctx)
	if err != nil {
		return nil, err
	}
	if w.matched == nil {
		w.matched = map[int64]int{}
	}
	var conflicts []Conflict
	var adds []queued
	var updates []customerUpdate
	type fieldChange struct {
		customer int64
		fieldValue
	}
	var upserts, deletes []fieldChange
	type audited struct {
		id     int64
		detail string
	}
	var audits []audited
	u := w.Update
	for _, e := range w.queue {
		var m *matchedCustomer
		if e.id != 0 {
			if m = byID[e.id]; m == nil {
				conflicts = append(conflicts, Conflict{Kind: ConflictNoCustomer, Ref: e.ref, ID: e.id, Email: e.c.Email})
				continue
			}
		} else if e.c.Email != "" {
			m = byEmail[FoldEmail(e.c.Email)]
		}
		if m == nil {
			if e.c.FirstName == "" && e.c.LastName == "" {
				conflicts = append(conflicts, Conflict{Kind: ConflictNoName, Ref: e.ref, Email: e.c.Email})
				continue
			}
			w.Added++
			adds = append(adds, e)
			continue
		}
		owner := &Customer{ID: m.ID, OrgID: w.orgID, FirstName: m.FirstName, LastName: m.LastName, Email: m.Email, Archived: m.Archived}
		switch first, dup := w.matched[m.ID]; {
		case m.Archived:
			conflicts = append(conflicts, Conflict{Kind: ConflictArchived, Ref: e.ref, Email: e.c.Email, Owner: owner})
			continue
		case u.Email && FoldEmail(e.c.Email) != FoldEmail(m.Email):
			conflicts = append(conflicts, Conflict{Kind: ConflictEmailChange, Ref: e.ref, Email: e.c.Email, Owner: owner})
			continue
		case dup:
			conflicts = append(conflicts, Conflict{Kind: ConflictMatchedTwice, Ref: e.ref, Email: e.c.Email, Owner: owner, Other: first})
			continue
		}
		next := customerUpdate{ID: m.ID, FirstName: m.FirstName, LastName: m.LastName, Phone: m.Phone}
		if u.FirstName {
			next.FirstName = e.c.FirstName
		}
		if u.LastName {
			next.LastName = e.c.LastName
		}
		if u.Phone {
			next.Phone = e.c.Phone
		}
		if next.FirstName == "" && next.LastName == "" {
			conflicts = append(conflicts, Conflict{Kind: ConflictNoName, Ref: e.ref, Email: e.c.Email, Owner: owner})
			continue
		}
		w.matched[m.ID] = e.ref
		var changes []string
		if name := strings.TrimSpace(next.FirstName + " " + next.LastName); next.FirstName != m.FirstName || next.LastName != m.LastName {
			changes = append(changes, fmt.Sprintf("name %q → %q", m.Name(), name))
		}
		if next.Phone != m.Phone {
			changes = append(changes, fmt.Sprintf("phone %q → %q", m.Phone, next.Phone))
		}
		rowChanged := len(changes) > 0
		for _, v := range e.values {
			old := m.values[v.field] // field 0 (not declared yet): no value
			if v.value == old {
				continue
			}
			changes = append(changes, fmt.Sprintf("%s %q → %q", w.fieldName(v.field), old, v.value))
			if v.value == "" {
				deletes = append(deletes, fieldChange{m.ID, v})
			} else {
				upserts = append(upserts, fieldChange{m.ID, v})
			}
		}
		if len(changes) == 0 {
			w.Unchanged++
			continue
		}
		w.Updated++
		if rowChanged {
			updates = append(updates, next)
		}
		audits = append(audits, audited{m.ID, strings.Join(changes, "; ")})
	}
	if w.CheckOnly {
		return conflicts, nil
	}
	if err := w.insert(ctx, adds, final); err != nil {
		return conflicts, err
	}
	if _, err := w.tx.updateCustomers(ctx, w.orgID, w.country, updates); err != nil {
		return conflicts, err
	}
	for _, f := range upserts {
		if _, err := w.tx.exec(ctx, `INSERT INTO custom_field_values (customer_id, field_id, value) VALUES (?, ?, ?)
			ON CONFLICT (customer_id, field_id) DO UPDATE SET value = excluded.value`, f.customer, f.field, f.value); err != nil {
			return conflicts, err
		}
	}
	for _, f := range deletes {
		if _, err := w.tx.exec(ctx, `DELETE FROM custom_field_values WHERE customer_id = ? AND field_id = ?`, f.customer, f.field); err != nil {
			return conflicts, err
		}
	}
	src := u.Source
	if src == "" {
		src = "a CSV file"
	}
	for _, a := range audits {
		if err := w.tx.Audit(ctx, w.orgID, u.Actor, "customer.update", a.id, "updated by import of "+src+": "+a.detail); err != nil {
			return conflicts, err
		}
	}
	return conflicts, nil
}

// fieldName is the name of a declared field, for the audit detail.
func (w *CustomerWriter) fieldName(id int64) string {
	for n, fid := range w.fields {
		if fid == id {
			return n
		}
	}
	return "field"
}

// lookup finds the customers the queue names, by id and by email, with
// their custom values, in three queries.
func (w *CustomerWriter) lookup(ctx context.Context) (byID map[int64]*matchedCustomer, byEmail map[string]*matchedCustomer, err error) {
	byID, byEmail = map[int64]*matchedCustomer{}, map[string]*matchedCustomer{}
	all := map[int64]*matchedCustomer{}
	scan := func(query string, pad any, key func(e *queued) (any, bool), into func(m *matchedCustomer)) error {
		w.vals = append(w.vals[:0], w.orgID)
		for i := range w.queue {
			if k, ok := key(&w.queue[i]); ok {
				w.vals = append(w.vals, k)
			}
		}
		if len(w.vals) == 1 {
			return nil
		}
		for len(w.vals)-1 < WriterBatch {
			w.vals = append(w.vals, pad)
		}
		st, err := w.q.prepared(ctx, query)
		if err != nil {
			return err
		}
		rows, err := st.QueryContext(ctx, w.vals...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			m := &matchedCustomer{Customer: Customer{OrgID: w.orgID}}
			if err := rows.Scan(&m.ID, &m.FirstName, &m.LastName, &m.Email, &m.Phone, &m.Archived); err != nil {
				return err
			}
			if prev, ok := all[m.ID]; ok {
				m = prev
			}
			all[m.ID] = m
			into(m)
		}
		return rows.Err()
	}
	const cols = `SELECT id, first_name, last_name, email, phone, archived FROM customers WHERE org_id = ? AND `
	err = scan(cols+`id IN (`+placeholders("?", WriterBatch)+`)`, int64(0),
		func(e *queued) (any, bool) { return e.id, e.id != 0 },
		func(m *matchedCustomer) { byID[m.ID] = m })
	if err != nil {
		return nil, nil, err
	}
	// A full batch's statement is prepared once; a shorter list pads with
	// '' (never a stored email: see the index's WHERE).
	err = scan(cols+`email <> '' AND lower(email) IN (`+placeholders("lower(?)", WriterBatch)+`)`, "",
		func(e *queued) (any, bool) { return e.c.Email, e.id == 0 && e.c.Email != "" },
		func(m *matchedCustomer) { byEmail[FoldEmail(m.Email)] = m })
	if err != nil || len(all) == 0 {
		return byID, byEmail, err
	}
	w.vals = w.vals[:0]
	for id := range all {
		w.vals = append(w.vals, id)
	}
	for len(w.vals) < WriterBatch {
		w.vals = append(w.vals, int64(0))
	}
	st, err := w.q.prepared(ctx, `SELECT customer_id, field_id, value FROM custom_field_values WHERE customer_id IN (`+placeholders("?", WriterBatch)+`)`)
	if err != nil {
		return nil, nil, err
	}
	rows, err := st.QueryContext(ctx, w.vals...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var cid, fid int64
		var v string
		if err := rows.Scan(&cid, &fid, &v); err != nil {
			return nil, nil, err
		}
		m := all[cid]
		if m.values == nil {
			m.values = map[int64]string{}
		}
		m.values[fid] = v
	}
	return byID, byEmail, rows.Err()
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// Field is one custom field value ("Membership level: Gold").
type Field struct {
	Name  string
	Value string
}

// Customer is a person on an organization's roster.
type Customer struct {
	ID              int64
	OrgID           int64
	FirstName       string
	LastName        string
	Email           string
	Phone           string
	CreatedAt       time.Time
	UpdatedAt       time.Time
	ClaimedAt       time.Time // zero until the customer claims the account
	PasswordHash    string
	Archived        bool
	Status          Status
	InviteSentAt    time.Time // of the latest live claim invite
	InviteExpiresAt time.Time
	Fields          []Field
}

// Name is the customer's full name as shown to people.
func (c *Customer) Name() string {
	return strings.TrimSpace(c.FirstName + " " + c.LastName)
}

// SortName is the key the roster is ordered by.
func SortName(first, last string) string {
	return strings.ToLower(strings.TrimSpace(first + " " + last))
}

// CreateCustomer inserts c with its custom fields. Call it in a transaction
// when c has fields, so the customer and the fields land together.
func (tx *Tx) CreateCustomer(ctx context.Context, c *Customer) error {
	now := tx.now().Truncate(time.Second)
	if err := newCustomer(c, now); err != nil {
		return err
	}
	country, err := tx.orgCountry(ctx, c.OrgID)
	if err != nil {
		return err
	}
	var id int64
	err = tx.guarded(ctx, func() (err error) {
		id, err = tx.insert(ctx, customerInsertOne, appendCustomerRow(nil, c, 0, country)...)
		return err
	})
	if isConstraint(err) {
		return tx.duplicateEmail(ctx, c.OrgID, c.Email, 0)
	} else if err != nil {
		return err
	}
	c.ID = id
	c.Status = statusOf(initialState(c.Email), sql.NullInt64{}, now)
	return tx.setFields(ctx, c.OrgID, c.ID, c.Fields)
}

// newCustomer readies c to be inserted: names, email and phone trimmed, a
// name required, the times stamped (CreatedAt kept if set). CreateCustomer
// and CustomerWriter both start here.
func newCustomer(c *Customer, now time.Time) error {
	c.FirstName, c.LastName = strings.TrimSpace(c.FirstName), strings.TrimSpace(c.LastName)
	c.Email, c.Phone = NormalizeEmail(c.Email), strings.TrimSpace(c.Phone)
	if c.FirstName == "" && c.LastName == "" {
		return Errorf(EINVALID, "customer has no name")
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
	c.UpdatedAt = now
	return nil
}

// customerColumns are what a new customer's row is written with
// (appendCustomerRow), after its id when it has one.
const customerInsertColumns = `org_id, first_name, last_name, sort_name, name_keys, email, phone, phone_keys, created_at, updated_at, state`

// customerInsert is the one INSERT of new customers, for rows customers each
// given by appendCustomerRow with their ids: CustomerWriter's batch per
// statement. CreateCustomer's customerInsertOne leaves the id to the
// database.
func customerInsert(rows int) string {
	return `INSERT INTO customers (id, ` + customerInsertColumns + `) VALUES ` +
		placeholders(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, rows)
}

var customerInsertOne = `INSERT INTO customers (` + customerInsertColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// appendCustomerRow appends the values of customerInsert's row for c, which
// newCustomer has readied, with the derived columns (sort name, search keys
// for the organization's country, initial state): id first, unless it is 0
// (customerInsertOne).
func appendCustomerRow(vals []any, c *Customer, id int64, country string) []any {
	return appendCustomerRowKeys(vals, c, id, NameKeys(c.FirstName, c.LastName), PhoneKeys(c.Phone, country))
}

// appendCustomerRowKeys is appendCustomerRow with the search keys made
// already (CustomerWriter makes them beside the writer).
func appendCustomerRowKeys(vals []any, c *Customer, id int64, nameKeys, phoneKeys string) []any {
	if id != 0 {
		vals = append(vals, id)
	}
	return append(vals, c.OrgID, c.FirstName, c.LastName, SortName(c.FirstName, c.LastName), nameKeys,
		c.Email, c.Phone, phoneKeys, c.CreatedAt.Unix(), c.UpdatedAt.Unix(), string(initialState(c.Email)))
}

// duplicateEmail builds the conflict error naming the customer who already
// has email.
func (q conn) duplicateEmail(ctx context.Context, orgID int64, email string, except int64) error {
	other, err := q.CustomerByEmail(ctx, orgID, email)
	if err != nil || other.ID == except {
		return Errorf(ECONFLICT, "another customer already uses %s", email)
	}
	if other.Archived {
		// Not on the roster, so staff would look for them in vain.
		return Errorf(ECONFLICT, "Another customer, %s (archived), already uses this email", other.Name())
	}
	return Errorf(ECONFLICT, "Another customer, %s, already uses this email", other.Name())
}

// setFields stores custom field values, declaring new field names for the
// organization as it meets them.
func (tx *Tx) setFields(ctx context.Context, orgID, customerID int64, fields []Field) error {
	for _, f := range fields {
		fieldID, err := tx.DeclareCustomField(ctx, orgID, f.Name)
		if err != nil {
			return err
		}
		if f.Value == "" {
			_, err = tx.exec(ctx, `DELETE FROM custom_field_values WHERE customer_id = ? AND field_id = ?`, customerID, fieldID)
		} else {
			_, err = tx.exec(ctx, `INSERT INTO custom_field_values (customer_id, field_id, value) VALUES (?, ?, ?)
				ON CONFLICT (customer_id, field_id) DO UPDATE SET value = excluded.value`, customerID, fieldID, f.Value)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// DeclareCustomField returns the id of the organization's custom field name
// (trimmed), declaring it after the existing ones if it is new.
func (tx *Tx) DeclareCustomField(ctx context.Context, orgID int64, name string) (int64, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return 0, Errorf(EINVALID, "custom field without a name")
	}
	var id int64
	err := tx.queryRow(ctx, `INSERT INTO custom_fields (org_id, name, position)
		VALUES (?, ?, (SELECT coalesce(max(position), 0) + 1 FROM custom_fields WHERE org_id = ?))
		ON CONFLICT (org_id, name) DO UPDATE SET name = excluded.name RETURNING id`, orgID, name, orgID).Scan(&id)
	return id, err
}

// CustomFieldNames lists an organization's custom fields in declaration order.
func (q conn) CustomFieldNames(ctx context.Context, orgID int64) ([]string, error) {
	rows, err := q.query(ctx, `SELECT name FROM custom_fields WHERE org_id = ? ORDER BY position, id`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

const customerColumns = `c.id, c.org_id, c.first_name, c.last_name, c.email, c.phone, c.created_at, c.updated_at, c.claimed_at, c.password_hash, c.archived, c.state, c.invite_sent_at, c.invite_expires_at`

func scanCustomer(row interface{ Scan(...any) error }, now time.Time) (*Customer, error) {
	var c Customer
	var created, updated int64
	var claimed, sent, expires sql.NullInt64
	var state State
	err := row.Scan(&c.ID, &c.OrgID, &c.FirstName, &c.LastName, &c.Email, &c.Phone, &created, &updated, &claimed, &c.PasswordHash, &c.Archived, &state, &sent, &expires)
	c.CreatedAt, c.UpdatedAt = time.Unix(created, 0), time.Unix(updated, 0)
	c.ClaimedAt, c.InviteSentAt, c.InviteExpiresAt = fromUnix(claimed), fromUnix(sent), fromUnix(expires)
	c.Status = statusOf(state, expires, now)
	return &c, err
}

// Customer returns one customer of the organization with its custom fields.
// A customer of another organization is not found.
func (q conn) Customer(ctx context.Context, orgID, id int64) (*Customer, error) {
	c, err := scanCustomer(q.queryRow(ctx, `SELECT `+customerColumns+` FROM customers c WHERE c.org_id = ? AND c.id = ?`, orgID, id), q.now())
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "customer %d not found", id)
	} else if err != nil {
		return nil, err
	}
	c.Fields, err = q.customerFields(ctx, c.ID)
	return c, err
}

// CustomerByEmail returns the organization's customer with that email, any case.
func (q conn) CustomerByEmail(ctx context.Context, orgID int64, email string) (*Customer, error) {
	email = NormalizeEmail(email)
	var id int64
	err := q.queryRow(ctx, `SELECT id FROM customers WHERE org_id = ? AND lower(email) = ? AND email <> ''`, orgID, FoldEmail(email)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no customer with email %s", email)
	} else if err != nil {
		return nil, err
	}
	return q.Customer(ctx, orgID, id)
}

func (q conn) customerFields(ctx context.Context, customerID int64) ([]Field, error) {
	rows, err := q.query(ctx, `SELECT f.name, v.value FROM custom_field_values v JOIN custom_fields f ON f.id = v.field_id
		WHERE v.customer_id = ? ORDER BY f.position, f.id`, customerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Field
	for rows.Next() {
		var f Field
		if err := rows.Scan(&f.Name, &f.Value); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// SetCustomerEmail changes a customer's email (empty clears it) and refreshes
// the status. Revoking outstanding invites and auditing belong to the caller's
// transaction (claim.Service.ChangeEmail); an invite whose address no longer
// matches is dead either way (see refreshState).
func (tx *Tx) SetCustomerEmail(ctx context.Context, orgID, id int64, email string) error {
	email = NormalizeEmail(email)
	if email != "" {
		if err := ValidateEmail(email); err != nil {
			return err
		}
	}
	var res sql.Result
	err := tx.guarded(ctx, func() (err error) {
		res, err = tx.exec(ctx, `UPDATE customers SET email = ?, updated_at = ? WHERE org_id = ? AND id = ?`, email, tx.now().Unix(), orgID, id)
		return err
	})
	if isConstraint(err) {
		return tx.duplicateEmail(ctx, orgID, email, id)
	} else if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Errorf(ENOTFOUND, "customer %d not found", id)
	}
	return tx.refreshState(ctx, `id = ?`, id)
}

// refreshState recomputes the derived status columns of the customers matching
// where. Every store method that changes what the status depends on (email,
// claim, invites, delivery) calls it in the same transaction. The latest live
// claim invite counts only if it went to the current address.
func (tx *Tx) refreshState(ctx context.Context, where string, args ...any) error {
	_, err := tx.exec(ctx, `
		WITH live AS (
			SELECT c.id AS cid,
				(SELECT i.id FROM invites i
				 WHERE i.customer_id = c.id AND i.purpose = 'claim' AND i.used_at IS NULL AND i.revoked_at IS NULL
				   AND lower(i.email) = lower(c.email)
				 ORDER BY i.id DESC LIMIT 1) AS iid
			FROM customers c WHERE `+where+`
		)
		UPDATE customers SET
			state = CASE
				WHEN claimed_at IS NOT NULL THEN `+StateClaimed.lit()+`
				WHEN email = '' THEN `+StateNoEmail.lit()+`
				WHEN live.iid IS NULL THEN `+StateNone.lit()+`
				WHEN (SELECT o.status FROM invites i JOIN outbox o ON o.id = i.outbox_id WHERE i.id = live.iid) IN ('failed', 'bounced') THEN `+StateFailed.lit()+`
				ELSE `+StatePending.lit()+` END,
			invite_sent_at = (SELECT created_at FROM invites WHERE id = live.iid),
			invite_expires_at = (SELECT expires_at FROM invites WHERE id = live.iid)
		FROM live WHERE customers.id = live.cid`, args...)
	return err
}

// customersByIDChunk keeps each IN list well under SQLite's variable limit
// and the statement text short enough to stay in the statement cache as a
// handful of shapes (one per chunk length actually met).
const customersByIDChunk = 200

// CustomersByID returns the organization's customers with the given ids, in
// the order of ids, without custom fields: what the bulk invite summary needs
// to tell who will get an invite and who is skipped. Ids of another
// organization's customers, or of no customer, are left out.
func (q conn) CustomersByID(ctx context.Context, orgID int64, ids []int64) ([]*Customer, error) {
	byID := make(map[int64]*Customer, len(ids))
	now := q.now()
	for start := 0; start < len(ids); start += customersByIDChunk {
		chunk := ids[start:min(start+customersByIDChunk, len(ids))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, orgID)
		for _, id := range chunk {
			args = append(args, id)
		}
		query := `SELECT ` + customerColumns + ` FROM customers c WHERE c.org_id = ? AND c.id IN (?` + strings.Repeat(", ?", len(chunk)-1) + `)`
		rows, err := q.query(ctx, query, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			c, err := scanCustomer(rows, now)
			if err != nil {
				rows.Close()
				return nil, err
			}
			byID[c.ID] = c
		}
		err = rows.Close()
		if err == nil {
			err = rows.Err()
		}
		if err != nil {
			return nil, err
		}
	}
	out := make([]*Customer, 0, len(byID))
	for _, id := range ids {
		if c, ok := byID[id]; ok {
			out = append(out, c)
			delete(byID, id) // an id given twice is reported once
		}
	}
	return out, nil
}
